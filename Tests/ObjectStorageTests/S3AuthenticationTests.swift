import MediadTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import ObjectStorage

/// Signatures as a real S3 API checks them: moto with SigV4 verification on, and SeaweedFS.
@Suite("S3 authentication", .moto(.verifying, .plain), .seaweedfs)
struct S3AuthenticationTests {
    static let verifying: [StoreKind] = [.s3, .seaweedfs]

    @Test("a wrong secret fails with a signature mismatch that carries the request id", arguments: verifying)
    func wrongSecret(kind: StoreKind) async throws {
        let server = try kind.server()
        let good = S3ObjectStore(configuration: server.configuration(throughProxy: false))
        let bucket = TestFiles.bucketName("auth")
        try await good.createBucket(bucket)
        _ = try await good.put(bucket: bucket, key: "k", bytes: [1, 2, 3])
        try await good.shutdown()

        var configuration = server.configuration(throughProxy: false)
        configuration.credentials?.secretAccessKey += "x"
        let bad = S3ObjectStore(configuration: configuration)
        let error = await #expect(throws: ObjectStorageError.self) {
            try await bad.put(bucket: bucket, key: "k2", bytes: [1])
        }
        #expect(error?.code == .signatureMismatch)
        #expect(error?.serviceCode == "SignatureDoesNotMatch")
        #expect(error?.httpStatus == 403)
        #expect(error?.isRetryable == false)
        #expect(error?.requestID?.isEmpty == false)
        let list = await #expect(throws: ObjectStorageError.self) {
            try await bad.listPage(bucket: bucket, prefix: nil, startAfter: nil, continuationToken: nil, maxKeys: nil)
        }
        #expect(list?.code == .signatureMismatch)
        try await bad.shutdown()
    }

    @Test("an unknown access key is denied", arguments: verifying)
    func unknownKey(kind: StoreKind) async throws {
        let server = try kind.server()
        var configuration = server.configuration(throughProxy: false)
        configuration.credentials = S3Credentials(accessKeyID: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "secret")
        let store = S3ObjectStore(configuration: configuration)
        let error = await #expect(throws: ObjectStorageError.self) { try await store.createBucket("t-unknown-key") }
        #expect(error?.code == .accessDenied)
        #expect(error?.serviceCode == "InvalidAccessKeyId")
        try await store.shutdown()
    }

    @Test("temporary credentials sign with their session token")
    func sessionToken() async throws {
        let server = try MotoServers.server(.verifying)
        let info = server.info
        let token: String = try #require(info.sessionToken)
        let temporary = S3Credentials(
            accessKeyID: try #require(info.sessionAccessKeyId), secretAccessKey: try #require(info.sessionSecretAccessKey),
            sessionToken: token)
        var configuration = server.configuration()
        configuration.credentials = temporary
        let store = S3ObjectStore(configuration: configuration)
        let bucket = TestFiles.bucketName("token")
        try await store.createBucket(bucket)
        _ = try await store.put(bucket: bucket, key: "with token", bytes: [7])
        #expect(try await store.head(bucket: bucket, key: "with token").size == 1)
        try await store.shutdown()

        configuration.credentials?.sessionToken = "not-the-token"
        let wrong = S3ObjectStore(configuration: configuration)
        let error = await #expect(throws: ObjectStorageError.self) { try await wrong.put(bucket: bucket, key: "x", bytes: [1]) }
        #expect(error?.code == .accessDenied)
        #expect(error?.serviceCode == "InvalidToken")
        try await wrong.shutdown()
    }

    /// moto's verifying mode cannot check query-string signatures (it needs an
    /// Authorization header), so the presigned URL's form is checked against botocore
    /// (SigV4BotocoreTests) and it is used here against the unverified moto server, and
    /// against SeaweedFS, which verifies the query signature.
    @Test("a presigned URL downloads the object without any header", arguments: [StoreKind.s3Unverified, .seaweedfs])
    func presignedURL(kind: StoreKind) async throws {
        let server = try kind.server()
        let store = S3ObjectStore(configuration: server.configuration(throughProxy: false))
        let bucket = TestFiles.bucketName("presign")
        try await store.createBucket(bucket)
        _ = try await store.put(bucket: bucket, key: "a b+c.txt", bytes: Array("presigned".utf8))
        let url = try store.presignedURL(bucket: bucket, key: "a b+c.txt", expires: .seconds(600))
        #expect(url.absoluteString.contains("/\(bucket)/a%20b%2Bc.txt?"))
        #expect(url.absoluteString.contains("X-Amz-Signature="))
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(10))
        #expect(response.status == .ok)
        let body = try await response.body.collect(upTo: 1 << 20)
        #expect(String(buffer: body) == "presigned")
        if kind == .seaweedfs {
            // SeaweedFS checks the query signature: one changed digit is refused.
            let forged = url.absoluteString.replacingOccurrences(of: "X-Amz-Signature=", with: "X-Amz-Signature=0")
                .dropLast()
            let refused = try await HTTPClient.shared.execute(HTTPClientRequest(url: String(forged)), timeout: .seconds(10))
            #expect(refused.status == .forbidden)
        }
        try await store.shutdown()
    }
}
