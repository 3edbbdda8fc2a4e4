import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

@Suite("Encoding, dates, endpoints, locations, errors")
struct UnitTests {
    @Test("keys are percent-encoded exactly as S3 expects")
    func uriEncoding() {
        #expect(S3Encoding.uriEncode("a b+c~d=e&f/g", keepSlash: true) == "a%20b%2Bc~d%3De%26f/g")
        #expect(S3Encoding.uriEncode("a/b", keepSlash: false) == "a%2Fb")
        #expect(S3Encoding.uriEncode("é📷", keepSlash: true) == "%C3%A9%F0%9F%93%B7")
        #expect(S3Encoding.uriEncode("AZaz09-._~", keepSlash: false) == "AZaz09-._~")
        #expect(S3Encoding.uriEncode("*'()!$,;:@[]", keepSlash: true) == "%2A%27%28%29%21%24%2C%3B%3A%40%5B%5D")
        #expect(S3Encoding.percentDecode("a+b%2Bc%20d%E2%82%AC", plusIsSpace: true) == "a b+c d€")
        #expect(S3Encoding.percentDecode("100%", plusIsSpace: false) == "100%")
    }

    @Test("XML text for DeleteObjects, copy sources and hex ETags")
    func xmlAndCopySource() {
        #expect(S3Encoding.xmlEscape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;")
        #expect(S3Encoding.xmlEscape("cr\r\nlf\ttab é📷") == "cr&#13;&#10;lf&#9;tab é📷", "CRLF is one Character")
        #expect(S3Encoding.isXMLText("ünï\r\n\t📷"))
        #expect(!S3Encoding.isXMLText("bell\u{07}"))
        #expect(!S3Encoding.isXMLText("\u{FFFE}"))
        #expect(S3Encoding.copySource(bucket: "b-1", key: "dir/a b+c&d?e#f%.jpg") == "b-1/dir/a%20b%2Bc%26d%3Fe%23f%25.jpg")
        #expect(S3Encoding.copySource(bucket: "b", key: "ü/~") == "b/%C3%BC/~")
        #expect(S3Encoding.bytes(hex: "00ff7A") == [0, 255, 122])
        #expect(S3Encoding.bytes(hex: "abc") == nil)
        #expect(S3Encoding.bytes(hex: "zz") == nil)
    }

    @Test("S3's date formats")
    func dates() throws {
        let date = Date(timeIntervalSince1970: 1_709_251_199)  // 2024-02-29T23:59:59Z
        #expect(HTTPDate.amzDate(date) == "20240229T235959Z")
        #expect(HTTPDate.amzDate(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(HTTPDate.parseISO8601("2024-02-29T23:59:59.000Z") == date)
        #expect(HTTPDate.parseRFC1123("Thu, 29 Feb 2024 23:59:59 GMT") == date)
        #expect(HTTPDate.parseRFC1123("garbage") == nil)
    }

    @Test("path-style and virtual-hosted addressing")
    func endpoints() {
        var configuration = S3Configuration(region: "eu-west-1")
        var target = S3Endpoint(configuration: configuration).target(bucket: "my-bucket", key: "a b/c")
        #expect(target.origin == "https://my-bucket.s3.eu-west-1.amazonaws.com")
        #expect(target.path == "/a%20b/c")
        target = S3Endpoint(configuration: configuration).target(bucket: "my.dotted.bucket", key: "k")
        #expect(target.origin == "https://s3.eu-west-1.amazonaws.com" && target.path == "/my.dotted.bucket/k", "dots break TLS names")

        configuration.endpoint = URL(string: "http://127.0.0.1:9000/base/")
        target = S3Endpoint(configuration: configuration).target(bucket: "my-bucket", key: "k")
        #expect(target.hostHeader == "127.0.0.1:9000")
        #expect(target.path == "/base/my-bucket/k", "custom endpoints default to path-style")
        #expect(S3Endpoint(configuration: configuration).target(bucket: "my-bucket", key: nil).path == "/base/my-bucket")

        configuration.endpoint = URL(string: "https://minio.example:443")
        configuration.addressingStyle = .virtualHosted
        target = S3Endpoint(configuration: configuration).target(bucket: "media", key: "x")
        #expect(target.hostHeader == "media.minio.example")
        #expect(target.path == "/x")
        #expect(!S3Endpoint.isDNSCompatible("192.168.1.1") && !S3Endpoint.isDNSCompatible("Upper") && S3Endpoint.isDNSCompatible("a-b.c"))
    }

    @Test("locations for storage cp")
    func locations() throws {
        #expect(try ObjectLocation.parse("s3://bucket/dir/a b+c.jpg") == .object(bucket: "bucket", key: "dir/a b+c.jpg"))
        #expect(try ObjectLocation.parse("s3://bucket") == .object(bucket: "bucket", key: ""))
        #expect(try ObjectLocation.parse("S3://bucket/") == .object(bucket: "bucket", key: ""))
        #expect(try ObjectLocation.parse("/tmp/x.jpg") == .file(URL(fileURLWithPath: "/tmp/x.jpg")))
        #expect(try ObjectLocation.parse("x.jpg", relativeTo: URL(fileURLWithPath: "/work")) == .file(URL(fileURLWithPath: "/work/x.jpg")))
        #expect(try ObjectLocation.parse("file:///tmp/y") == .file(URL(fileURLWithPath: "/tmp/y")))
        #expect(throws: ObjectStorageError.self) { try ObjectLocation.parse("s3:///key") }
        #expect(ObjectLocation.object(bucket: "b", key: "k").description == "s3://b/k")
    }

    @Test("S3 errors map to codes, and only transient ones retry")
    func errorMapping() {
        let body = Data("<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>R1</RequestId></Error>".utf8)
        let error = S3ErrorMapping.error(status: 404, body: body, requestID: nil, operation: "GetObject b/k")
        #expect(error.code == .notFound && error.requestID == "R1" && error.serviceCode == "NoSuchKey" && !error.isRetryable)
        #expect(error.description.contains("gone"))
        let cases: [(Int, String?, ObjectStorageError.Code, Bool)] = [
            (503, "SlowDown", .throttled, true), (429, nil, .throttled, true), (500, nil, .serverError, true),
            (503, nil, .serverError, true), (400, "RequestTimeout", .network, true), (403, nil, .accessDenied, false),
            (403, "SignatureDoesNotMatch", .signatureMismatch, false), (404, "NoSuchBucket", .noSuchBucket, false),
            (400, "BadDigest", .integrity, false), (409, "BucketNotEmpty", .requestRejected, false),
            (301, "PermanentRedirect", .invalidConfiguration, false),
        ]
        for (status, code, expected, retryable) in cases {
            let (mapped, retry) = S3ErrorMapping.classify(status: status, serviceCode: code)
            #expect(mapped == expected && retry == retryable, "\(status) \(code ?? "-")")
        }
    }

    @Test("backoff grows, stays under its ceiling and is jittered")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...9 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (attempt - 1)))
            #expect((0..<20).allSatisfy { _ in policy.delay(afterAttempt: attempt) <= ceiling })
        }
        #expect(Set((0..<20).map { _ in policy.delay(afterAttempt: 5) }).count > 1)
    }

    @Test("the multipart ETag is the MD5 of the part MD5s")
    func multipartETag() {
        let parts = [PayloadDigest(of: Array("a".utf8)).md5, PayloadDigest(of: Array("b".utf8)).md5]
        #expect(PayloadDigest.multipartETag(partMD5s: parts).hasSuffix("-2"))
        #expect(PayloadDigest(of: [UInt8]()).sha256Hex == PayloadDigest.emptySHA256Hex)
    }

    @Test("the local store refuses keys it cannot map to a path")
    func localKeys() async throws {
        try await TestFiles.withDirectory { directory in
            let store = LocalObjectStore(root: directory)
            try await store.createBucket("media")
            for key in ["", "/abs", "a//b", "a/../b", "./a", "dir/"] {
                let error = await #expect(throws: ObjectStorageError.self) { try await store.put(bucket: "media", key: key, bytes: [1]) }
                #expect(error?.code == .invalidArgument, "\(key)")
            }
            let bucket = await #expect(throws: ObjectStorageError.self) { try await store.createBucket("../up") }
            #expect(bucket?.code == .invalidArgument)
            _ = try await store.put(bucket: "media", key: "a/b", bytes: [1])
            let conflict = await #expect(throws: ObjectStorageError.self) { try await store.put(bucket: "media", key: "a", bytes: [1]) }
            #expect(conflict?.code == .invalidArgument)
        }
    }

    @Test("a file changed behind the local store's back gets a fresh ETag")
    func localHandEdited() async throws {
        try await TestFiles.withDirectory { directory in
            let store = LocalObjectStore(root: directory)
            try await store.createBucket("media")
            let put = try await store.put(bucket: "media", key: "x.txt", bytes: Array("one".utf8))
            let path = directory.appendingPathComponent("media/x.txt")
            #expect(try String(contentsOf: path, encoding: .utf8) == "one", "layout is bucket/key")
            try Data("two!".utf8).write(to: path)
            let head = try await store.head(bucket: "media", key: "x.txt")
            #expect(head.etag != put.etag)
            #expect(head.etag == TestFiles.md5(Array("two!".utf8)))
        }
    }

    @Test("the local store keeps an object's headers on its data file, and still reads the sidecar files of older versions")
    func localSidecars() async throws {
        try await TestFiles.withDirectory { directory in
            let store = LocalObjectStore(root: directory)
            try await store.createBucket("media")
            let options = PutOptions(contentType: "image/webp", cacheControl: "max-age=60", metadata: ["origin": "test"])
            let put = try await store.put(bucket: "media", key: "a/x.webp", bytes: Array("webp".utf8), options: options)
            let sidecarFile = store.metadataPath("media", "a/x.webp")
            #expect(!FileManager.default.fileExists(atPath: sidecarFile), "no sidecar file beside an attribute")
            let attribute = try #require(LocalObjectStore.attribute(LocalObjectStore.sidecarAttribute, ofFile: store.objectPath("media", "a/x.webp")))
            #expect(try JSONDecoder().decode(LocalObjectSidecar.self, from: attribute).etag == put.etag)
            let head = try await store.head(bucket: "media", key: "a/x.webp")
            #expect(head.contentType == "image/webp" && head.cacheControl == "max-age=60" && head.metadata == ["origin": "test"])
            #expect(head.etag == TestFiles.md5(Array("webp".utf8)))

            // A store an older mediad wrote: the data file by hand, the headers in a sidecar file.
            let legacy = directory.appendingPathComponent("media/old.jpg")
            try Data("jpeg".utf8).write(to: legacy)
            let attributes = try FileManager.default.attributesOfItem(atPath: legacy.path)
            let sidecar = LocalObjectSidecar(
                size: 4, modified: attributes[.modificationDate] as? Date, etag: "legacy-etag", contentType: "image/jpeg",
                cacheControl: nil, metadata: [:])
            try store.writeSidecar(sidecar, bucket: "media", key: "old.jpg")
            let old = try await store.head(bucket: "media", key: "old.jpg")
            #expect(old.contentType == "image/jpeg" && old.etag == "legacy-etag")
            // Overwritten by this version: the attribute takes over, the sidecar file goes.
            _ = try await store.put(bucket: "media", key: "old.jpg", bytes: Array("jpeg 2".utf8), options: PutOptions(contentType: "image/png"))
            #expect(!FileManager.default.fileExists(atPath: store.metadataPath("media", "old.jpg")))
            #expect(try await store.head(bucket: "media", key: "old.jpg").contentType == "image/png")

            // A server-side copy links the data file: the copy's headers must not touch the source's.
            _ = try await store.copy(from: ObjectAddress(bucket: "media", key: "a/x.webp"), to: "media", key: "b/y.webp", options: PutOptions(contentType: "application/octet-stream"))
            #expect(try await store.head(bucket: "media", key: "a/x.webp").contentType == "image/webp")
            #expect(try await store.head(bucket: "media", key: "b/y.webp").contentType == "application/octet-stream")
        }
    }

    @Test("a put of a file its caller hands over moves it into place; a failed put leaves it; any other file is copied")
    func localHandedOverPut() async throws {
        try await TestFiles.withDirectory { directory in
            let store = LocalObjectStore(root: directory.appendingPathComponent("store"))
            try await store.createBucket("media")
            let manager = FileManager.default
            let job = directory.appendingPathComponent("job")
            try manager.createDirectory(at: job, withIntermediateDirectories: true)
            let bytes = TestFiles.bytes(count: 200_003, seed: 5)
            func given(_ name: String) throws -> URL {
                let file = job.appendingPathComponent(name)
                try Data(bytes).write(to: file)
                return file
            }
            let handedOver = PutOptions(contentType: "image/webp", handsOverFile: true)

            let output = try given("thumb.webp")
            let inode = try Self.inode(output.path)
            let put = try await store.put(bucket: "media", key: "d/thumb.webp", file: output, options: handedOver)
            #expect(put.etag == TestFiles.md5(bytes) && put.size == Int64(bytes.count))
            #expect(try Self.inode(store.objectPath("media", "d/thumb.webp")) == inode, "the object is the job's file")
            #expect(!manager.fileExists(atPath: output.path))
            let head = try await store.head(bucket: "media", key: "d/thumb.webp")
            #expect(head.etag == put.etag && head.contentType == "image/webp", "its headers are on the file itself")
            #expect(!manager.fileExists(atPath: store.metadataPath("media", "d/thumb.webp")))
            let back = directory.appendingPathComponent("back.webp")
            _ = try await store.get(bucket: "media", key: "d/thumb.webp", to: back, expecting: ObjectExpectation(etag: put.etag))
            #expect(try [UInt8](Data(contentsOf: back)) == bytes)

            // A put that fails once the file is moved puts it back, for the retry.
            let retried = try given("retried.webp")
            let refused = await #expect(throws: ObjectStorageError.self) {
                try await store.put(bucket: "media", key: "d/thumb.webp/under-an-object", file: retried, options: handedOver)
            }
            #expect(refused?.code == .invalidArgument)
            #expect(try [UInt8](Data(contentsOf: retried)) == bytes, "still where it was")

            // Each of these is copied and stays: a file with a second name (its bytes could
            // change under the object), a symbolic link (the object would be the link), and a
            // put without the option.
            let shared = try given("shared.bin")
            try manager.linkItem(at: shared, to: directory.appendingPathComponent("elsewhere.bin"))
            let target = try given("target.bin")
            let symbolic = job.appendingPathComponent("symbolic.bin")
            try manager.createSymbolicLink(at: symbolic, withDestinationURL: target)
            let plain = try given("plain.bin")
            for (name, file, options) in [("shared", shared, handedOver), ("symbolic", symbolic, handedOver), ("plain", plain, PutOptions())] {
                let copied = try await store.put(bucket: "media", key: "d/\(name)", file: file, options: options)
                #expect(copied.etag == TestFiles.md5(bytes), "\(name)")
                let object = store.objectPath("media", "d/\(name)")
                #expect(try Self.inode(object) != Self.inode(file.path) && Self.inode(object) != Self.inode(target.path), "\(name)")
                #expect(try manager.attributesOfItem(atPath: object)[.type] as? FileAttributeType == .typeRegular, "\(name): a plain file")
                #expect(manager.fileExists(atPath: file.path), "\(name) stays")
            }
        }
    }

    /// The inode behind a path, not following a symbolic link.
    static func inode(_ path: String) throws -> UInt64 {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return UInt64(status.st_ino)
    }

    @Test("a file placed by hand is hashed once for a head and the get after it, and again whenever it changes")
    func localHandPlacedETags() async throws {
        try await TestFiles.withDirectory { directory in
            let store = LocalObjectStore(root: directory)
            try await store.createBucket("media")
            let path = directory.appendingPathComponent("media/in.jpg")
            try Data("first".utf8).write(to: path)
            let head = try await store.head(bucket: "media", key: "in.jpg")
            #expect(head.etag == TestFiles.md5(Array("first".utf8)))
            let target = directory.appendingPathComponent("out/in.jpg")
            let got = try await store.get(bucket: "media", key: "in.jpg", to: target, expecting: ObjectExpectation(etag: head.etag))
            #expect(got.etag == head.etag && got.md5 == head.etag)
            #expect(got.sha256 == PayloadDigest(of: Array("first".utf8)).sha256Hex)

            // The same size and the same modification time put back: the status-change time
            // still tells the bytes changed.
            let modified = try #require(try FileManager.default.attributesOfItem(atPath: path.path)[.modificationDate] as? Date)
            try Data("other".utf8).write(to: path)
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path.path)
            let changed = try await store.head(bucket: "media", key: "in.jpg")
            #expect(changed.etag == TestFiles.md5(Array("other".utf8)))
            let stale = await #expect(throws: ObjectStorageError.self) {
                try await store.get(bucket: "media", key: "in.jpg", to: target, expecting: ObjectExpectation(etag: head.etag))
            }
            #expect(stale?.code == .preconditionFailed || stale?.code == .integrity)
        }
    }

    @Test("storage cp semantics over the local store")
    func transfer() async throws {
        try await TestFiles.withDirectory { directory in
            let store = LocalObjectStore(root: directory.appendingPathComponent("store"))
            try await store.createBucket("media")
            let transfer = ObjectTransfer(store: store)
            let source = try TestFiles.file(in: directory, name: "photo.jpg", size: 1_000)
            let up = try await transfer.copy(from: .file(source), to: try ObjectLocation.parse("s3://media/in/"))
            #expect(up.key == "in/photo.jpg")
            let outDirectory = directory.appendingPathComponent("out", isDirectory: true)
            try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
            _ = try await transfer.copy(from: .object(bucket: "media", key: "in/photo.jpg"), to: .file(outDirectory))
            #expect(try Data(contentsOf: outDirectory.appendingPathComponent("photo.jpg")) == Data(contentsOf: source))
            let copied = try await transfer.copy(
                from: .object(bucket: "media", key: "in/photo.jpg"), to: .object(bucket: "media", key: "copy/p.jpg"))
            #expect(copied.etag == up.etag)
            await #expect(throws: ObjectStorageError.self) { try await transfer.copy(from: .file(source), to: .file(source)) }
        }
    }
}
