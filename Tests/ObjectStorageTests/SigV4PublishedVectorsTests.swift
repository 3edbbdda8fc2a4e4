import MediadTestSupport
import Foundation
import NIOHTTP1
import Testing
@testable import ObjectStorage

/// The example signatures of the Amazon S3 API reference ("Signature Calculations
/// for the Authorization Header" and "Authenticating Requests: Using Query
/// Parameters"): bucket `examplebucket`, 24 May 2013, the documentation's key pair.
@Suite("SigV4: S3 documentation examples")
struct SigV4PublishedVectorsTests {
    static let credentials = S3Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    static let host = "examplebucket.s3.amazonaws.com"

    func sign(_ method: String, _ path: String, query: [SigV4Signer.QueryItem] = [], headers: [(String, String)] = [],
              payloadHash: String = PayloadDigest.emptySHA256Hex) -> SigV4Signer.Signature {
        var httpHeaders = HTTPHeaders([("Host", Self.host)] + headers)
        httpHeaders.add(name: "x-amz-content-sha256", value: payloadHash)
        var request = SigV4Signer.Request(method: method, path: path, query: query, headers: httpHeaders, payloadHash: payloadHash)
        return Self.signer.sign(&request, date: Self.date)
    }

    @Test("GET object with a range")
    func getObject() {
        let signature = sign("GET", "/test.txt", headers: [("Range", "bytes=0-9")])
        #expect(signature.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signature.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signature.authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("PUT object with a Date header, storage class and a `$` in the key")
    func putObject() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let payloadHash = PayloadDigest(of: body).sha256Hex
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signature = sign(
            "PUT", "/" + S3Encoding.uriEncode("test$file.text", keepSlash: true),
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: payloadHash)
        #expect(signature.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(signature.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("GET bucket lifecycle (a sub-resource with an empty value)")
    func getLifecycle() {
        let signature = sign("GET", "/", query: [.init("lifecycle", "")])
        #expect(signature.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("GET bucket listing with max-keys and prefix")
    func listObjects() {
        let signature = sign("GET", "/", query: [.init("prefix", "J"), .init("max-keys", "2")])
        #expect(signature.canonicalRequest.split(separator: "\n")[2] == "max-keys=2&prefix=J")
        #expect(signature.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("presigned GET URL valid for 24 hours")
    func presignedURL() async throws {
        var configuration = S3Configuration(
            region: "us-east-1", endpoint: URL(string: "https://s3.amazonaws.com")!, credentials: Self.credentials,
            addressingStyle: .virtualHosted)
        configuration.retry = .none
        let store = S3ObjectStore(configuration: configuration)
        let url = try store.presignedURL(bucket: "examplebucket", key: "test.txt", expires: .seconds(86_400), date: Self.date)
        try await store.shutdown()
        #expect(url.absoluteString == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }
}
