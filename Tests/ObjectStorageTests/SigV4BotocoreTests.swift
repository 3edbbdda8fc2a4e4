import MediadTestSupport
import Foundation
import NIOHTTP1
import Testing
@testable import ObjectStorage

/// The signer and the URL builder against botocore, an independent implementation,
/// over a table of tricky requests. The reference values are computed at test time
/// by `scripts/storage/sigv4_reference.py` (python3 + botocore).
@Suite("SigV4: against botocore")
struct SigV4BotocoreTests {
    static let accessKey = "AKIDEXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FQoGZXIvYXdzE//session+token=="
    static let timestamp = "20240229T235959Z"
    static let date: Date = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59))!
    }()

    // MARK: - The table

    struct RawCase: Sendable, CustomTestStringConvertible {
        var id: String
        var method: String
        var origin: String
        var path: String
        var query: [SigV4Signer.QueryItem] = []
        var headers: [[String]] = []
        var body = ""
        var unsignedPayload = false
        var token: String?
        var region = "us-east-1"
        var testDescription: String { id }
    }

    static let rawCases: [RawCase] = [
        RawCase(
            id: "header values are trimmed and inner spaces collapsed; repeated headers joined",
            method: "GET", origin: "https://b.s3.amazonaws.com", path: "/photos/a.jpg",
            headers: [["X-Amz-Meta-Title", "  two   spaces\there  "], ["Content-Type", "image/jpeg"],
                      ["X-Amz-Meta-Dup", "one"], ["x-amz-meta-dup", "two"], ["User-Agent", "not signed"]]),
        RawCase(
            id: "query names and values with reserved and unicode characters, repeats sorted by value",
            method: "GET", origin: "https://b.s3.amazonaws.com", path: "/",
            query: [.init("prefix", "a b+c/d~e=f&g"), .init("start-after", "ü*'()!"), .init("list-type", "2"),
                    .init("empty", ""), .init("dup", "b"), .init("dup", "a"), .init("Upper", "x")]),
        RawCase(
            id: "PUT with a body, session token and another region",
            method: "PUT", origin: "https://b.s3.eu-central-1.amazonaws.com",
            path: "/" + S3Encoding.uriEncode("key with space+plus", keepSlash: true),
            headers: [["Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="], ["Content-Type", "text/plain"]],
            body: "hello", token: token, region: "eu-central-1"),
        RawCase(
            id: "unsigned payload", method: "PUT", origin: "https://b.s3.amazonaws.com", path: "/big.bin",
            body: "not hashed", unsignedPayload: true),
        RawCase(
            id: "non-default port in the host", method: "DELETE", origin: "http://127.0.0.1:9000", path: "/bucket/k"),
        RawCase(
            id: "unicode and emoji key in the path", method: "GET", origin: "https://b.s3.amazonaws.com",
            path: "/" + S3Encoding.uriEncode("ünï/файл 照片 📷.heic", keepSlash: true)),
        RawCase(
            id: "key with every reserved character", method: "HEAD", origin: "http://localhost:4566",
            path: "/bucket/" + S3Encoding.uriEncode("a+b=c&d;e%f~g/h i!j*k'l(m)n,o$p@q:r[s]t#u?v", keepSlash: true)),
    ]

    struct ClientCase: Sendable, CustomTestStringConvertible {
        var id: String
        var operation: String
        var paramsJSON: String
        var bucket: String
        var key: String?
        var query: [SigV4Signer.QueryItem] = []
        var endpoint: String?
        var style = S3Configuration.AddressingStyle.path
        var region = "eu-west-1"
        var token: String?
        var testDescription: String { id }
    }

    static let trickyKey = "a b+c~d=e&f/g;h%i"
    static let clientCases: [ClientCase] = [
        ClientCase(
            id: "put_object, path-style, custom endpoint, metadata, token", operation: "put_object",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"a b+c~d=e&f/g;h%i","Body":"hello","ContentType":"text/plain","CacheControl":"max-age=60","Metadata":{"file-id":"f1"},"ContentMD5":"XUFAKrxLKna5cZ2REBfFkg=="}"#,
            bucket: "my-bucket", key: trickyKey, endpoint: "http://127.0.0.1:9000", token: token),
        ClientCase(
            id: "get_object, virtual-hosted on AWS, unicode key, range and if-match", operation: "get_object",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"photos/2024/ünïcødé 📷.jpg","Range":"bytes=100-","IfMatch":"\"abc\""}"#,
            bucket: "my-bucket", key: "photos/2024/ünïcødé 📷.jpg", style: .virtualHosted),
        ClientCase(
            id: "head_object in us-east-1 (global endpoint)", operation: "head_object",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"x"}"#, bucket: "my-bucket", key: "x", style: .virtualHosted,
            region: "us-east-1"),
        ClientCase(
            id: "delete_object, key ending with a slash", operation: "delete_object",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"dir/with space/"}"#, bucket: "my-bucket", key: "dir/with space/",
            style: .virtualHosted),
        ClientCase(
            id: "list_objects_v2 with every parameter", operation: "list_objects_v2",
            paramsJSON: #"{"Bucket":"my-bucket","Prefix":"a b/","StartAfter":"x+y","ContinuationToken":"1/+=tok en","MaxKeys":500,"EncodingType":"url"}"#,
            bucket: "my-bucket",
            query: [.init("list-type", "2"), .init("encoding-type", "url"), .init("prefix", "a b/"),
                    .init("start-after", "x+y"), .init("continuation-token", "1/+=tok en"), .init("max-keys", "500")],
            endpoint: "http://localhost:4566"),
        ClientCase(
            id: "create_multipart_upload", operation: "create_multipart_upload",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"big video.mp4","ContentType":"video/mp4","Metadata":{"a":"b"}}"#,
            bucket: "my-bucket", key: "big video.mp4", query: [.init("uploads", "")], style: .virtualHosted, token: token),
        ClientCase(
            id: "upload_part with an upload id that needs encoding", operation: "upload_part",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"big video.mp4","PartNumber":3,"UploadId":"2~abc+def/ghi=","Body":"part"}"#,
            bucket: "my-bucket", key: "big video.mp4",
            query: [.init("partNumber", "3"), .init("uploadId", "2~abc+def/ghi=")], endpoint: "http://127.0.0.1:9000"),
        ClientCase(
            id: "complete_multipart_upload", operation: "complete_multipart_upload",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"big video.mp4","UploadId":"u-1","MultipartUpload":{"Parts":[{"PartNumber":1,"ETag":"\"abc\""}]}}"#,
            bucket: "my-bucket", key: "big video.mp4", query: [.init("uploadId", "u-1")], style: .virtualHosted),
        ClientCase(
            id: "abort_multipart_upload", operation: "abort_multipart_upload",
            paramsJSON: #"{"Bucket":"my-bucket","Key":"big video.mp4","UploadId":"u-1"}"#,
            bucket: "my-bucket", key: "big video.mp4", query: [.init("uploadId", "u-1")], endpoint: "https://minio.example:9443"),
        ClientCase(
            id: "create_bucket outside us-east-1", operation: "create_bucket",
            paramsJSON: #"{"Bucket":"my-bucket","CreateBucketConfiguration":{"LocationConstraint":"eu-west-1"}}"#,
            bucket: "my-bucket", style: .virtualHosted),
    ]

    struct PresignCase: Sendable, CustomTestStringConvertible {
        var id: String
        var operation: String
        var method: HTTPMethod
        var key: String
        var endpoint: String?
        var style: S3Configuration.AddressingStyle
        var region: String
        var token: String?
        var expires: Int
        var testDescription: String { id }
    }

    static let presignCases: [PresignCase] = [
        PresignCase(
            id: "presigned GET, virtual-hosted, unicode key, session token", operation: "get_object", method: .GET,
            key: "photos/ünï 📷+x.jpg", endpoint: nil, style: .virtualHosted, region: "us-east-1", token: token,
            expires: 3600),
        PresignCase(
            id: "presigned PUT, path-style custom endpoint", operation: "put_object", method: .PUT, key: trickyKey,
            endpoint: "http://127.0.0.1:9000", style: .path, region: "eu-west-1", token: nil, expires: 600),
    ]

    // MARK: - The reference, computed once

    static let reference = Task<Data, any Error> {
        var cases: [[String: Any]] = []
        func common(_ id: String, _ kind: String, region: String, token: String?) -> [String: Any] {
            var base: [String: Any] = [
                "id": id, "kind": kind, "accessKey": accessKey, "secretKey": secretKey, "region": region,
                "timestamp": timestamp,
            ]
            if let token { base["token"] = token }
            return base
        }
        for raw in rawCases {
            var item = common(raw.id, "raw", region: raw.region, token: raw.token)
            item["method"] = raw.method
            item["url"] = raw.origin + raw.path
            item["query"] = raw.query.map { [$0.name, $0.value] }
            item["headers"] = raw.headers
            item["body"] = raw.body
            item["unsignedPayload"] = raw.unsignedPayload
            cases.append(item)
        }
        for client in clientCases {
            var item = common(client.id, "client", region: client.region, token: client.token)
            item["operation"] = client.operation
            item["params"] = try JSONSerialization.jsonObject(with: Data(client.paramsJSON.utf8))
            item["addressingStyle"] = client.style == .path ? "path" : "virtual"
            if let endpoint = client.endpoint { item["endpoint"] = endpoint }
            cases.append(item)
        }
        for presign in presignCases {
            var item = common(presign.id, "presign", region: presign.region, token: presign.token)
            item["operation"] = presign.operation
            item["params"] = ["Bucket": "my-bucket", "Key": presign.key]
            item["expires"] = presign.expires
            item["addressingStyle"] = presign.style == .path ? "path" : "virtual"
            if let endpoint = presign.endpoint { item["endpoint"] = endpoint }
            cases.append(item)
        }
        let input = try JSONSerialization.data(withJSONObject: ["cases": cases])
        return try await ExternalProcess.runPython(Repository.script("sigv4_reference.py"), input: input)
    }

    static func result(_ id: String) async throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: try await reference.value) as? [String: Any]
        let results = json?["results"] as? [String: [String: Any]]
        return try #require(results?[id], "botocore gave no result for \(id)")
    }

    // MARK: - Tests

    @Test("signing matches botocore", arguments: rawCases)
    func raw(_ item: RawCase) async throws {
        let expected = try await Self.result(item.id)
        let credentials = S3Credentials(accessKeyID: Self.accessKey, secretAccessKey: Self.secretKey, sessionToken: item.token)
        let signer = SigV4Signer(credentials: credentials, region: item.region)
        var headers = HTTPHeaders(item.headers.map { ($0[0], $0[1]) })
        headers.add(name: "host", value: String(item.origin.split(separator: "/")[1]))
        let payloadHash = item.unsignedPayload ? SigV4Signer.unsignedPayload : PayloadDigest(of: Array(item.body.utf8)).sha256Hex
        var request = SigV4Signer.Request(method: item.method, path: item.path, query: item.query, headers: headers, payloadHash: payloadHash)
        let signature = signer.sign(&request, date: Self.date)
        #expect(signature.canonicalRequest == expected["canonicalRequest"] as? String)
        #expect(signature.stringToSign == expected["stringToSign"] as? String)
        #expect(signature.authorization == expected["authorization"] as? String)
    }

    @Test("URLs and signatures of S3 operations match boto3", arguments: clientCases)
    func client(_ item: ClientCase) async throws {
        let expected = try await Self.result(item.id)
        let botoURL = try #require(expected["url"] as? String)
        let botoHeaders = try #require(expected["headers"] as? [[String]])
        var configuration = S3Configuration(
            region: item.region, endpoint: item.endpoint.flatMap(URL.init(string:)), addressingStyle: item.style)
        configuration.credentials = S3Credentials(accessKeyID: Self.accessKey, secretAccessKey: Self.secretKey, sessionToken: item.token)
        let target = S3Endpoint(configuration: configuration).target(bucket: item.bucket, key: item.key)

        let (base, query) = Self.split(botoURL)
        #expect(target.origin + target.path == base)
        #expect(Self.sorted(query) == Self.sorted(item.query))

        // Sign what botocore signed and compare the Authorization header.
        func header(_ name: String) -> String? { botoHeaders.first { $0[0].lowercased() == name }?[1] }
        let authorization = try #require(header("authorization"))
        let signedNames = try #require(authorization.split(separator: " ").first { $0.hasPrefix("SignedHeaders=") })
            .dropFirst("SignedHeaders=".count).dropLast().split(separator: ";").map(String.init)
        var headers = HTTPHeaders()
        for name in signedNames {
            if name == "host" {
                headers.add(name: "host", value: target.hostHeader)
            } else {
                for pair in botoHeaders where pair[0].lowercased() == name { headers.add(name: pair[0], value: pair[1]) }
            }
        }
        var request = SigV4Signer.Request(
            method: try #require(expected["method"] as? String), path: target.path, query: item.query, headers: headers,
            payloadHash: try #require(header("x-amz-content-sha256")))
        let signature = SigV4Signer(credentials: configuration.credentials!, region: item.region).sign(&request, date: Self.date)
        #expect(signature.authorization == authorization)
    }

    @Test("presigned URLs match boto3", arguments: presignCases)
    func presign(_ item: PresignCase) async throws {
        let expected = try #require(try await Self.result(item.id)["url"] as? String)
        var configuration = S3Configuration(
            region: item.region, endpoint: item.endpoint.flatMap(URL.init(string:)), addressingStyle: item.style)
        configuration.credentials = S3Credentials(accessKeyID: Self.accessKey, secretAccessKey: Self.secretKey, sessionToken: item.token)
        let store = S3ObjectStore(configuration: configuration)
        let url = try store.presignedURL(
            bucket: "my-bucket", key: item.key, method: item.method, expires: .seconds(item.expires), date: Self.date)
        try await store.shutdown()
        let (ourBase, ourQuery) = Self.split(url.absoluteString)
        let (botoBase, botoQuery) = Self.split(expected)
        #expect(ourBase == botoBase)
        #expect(Self.sorted(ourQuery) == Self.sorted(botoQuery))
    }

    // MARK: - Helpers

    static func split(_ url: String) -> (String, [SigV4Signer.QueryItem]) {
        let parts = url.split(separator: "?", maxSplits: 1)
        let query = parts.count > 1 ? parts[1].split(separator: "&").map { pair -> SigV4Signer.QueryItem in
            let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return .init(
                S3Encoding.percentDecode(String(nameValue[0]), plusIsSpace: false),
                nameValue.count > 1 ? S3Encoding.percentDecode(String(nameValue[1]), plusIsSpace: false) : "")
        } : []
        return (String(parts[0]), query)
    }

    static func sorted(_ items: [SigV4Signer.QueryItem]) -> [String] {
        items.map { "\($0.name)=\($0.value)" }.sorted()
    }
}
