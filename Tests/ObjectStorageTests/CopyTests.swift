import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

/// Server-side copies against every store, like the behavioural suite.
@Suite("Copy", .moto(.verifying, .plain), .seaweedfs)
struct CopyTests {
    static let stores = ObjectStoreBehaviourTests.stores

    @Test("a copy is byte-identical, with the source's ETag, headers and metadata", arguments: stores)
    func copyKeepsEverything(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let bytes = TestFiles.bytes(count: 300_001, seed: 11)
            let options = PutOptions(
                contentType: "image/webp", cacheControl: "public, max-age=60", metadata: ["File-Id": "f-9", "kind": "thumb"])
            let put = try await store.put(bucket: bucket, key: "derived/f-9/thumb.webp", bytes: bytes, options: options)
            let copy = try await store.copy(
                from: ObjectAddress(bucket: bucket, key: "derived/f-9/thumb.webp"), to: bucket, key: "archive/f-9/thumb.webp")
            #expect(copy.bucket == bucket)
            #expect(copy.key == "archive/f-9/thumb.webp")
            #expect(copy.size == 300_001)
            #expect(copy.etag == put.etag)
            #expect(copy.contentType == "image/webp")
            #expect(copy.metadata == ["file-id": "f-9", "kind": "thumb"])

            let head = try await store.head(bucket: bucket, key: "archive/f-9/thumb.webp")
            #expect(head.etag == put.etag)
            #expect(head.size == 300_001)
            #expect(head.contentType == "image/webp")
            #expect(head.cacheControl == "public, max-age=60")
            #expect(head.metadata == ["file-id": "f-9", "kind": "thumb"])
            try await Self.expectContent(of: "archive/f-9/thumb.webp", in: bucket, of: store, is: bytes, etag: put.etag)
            try await Self.expectContent(of: "derived/f-9/thumb.webp", in: bucket, of: store, is: bytes, etag: put.etag)

            let empty = try await store.put(bucket: bucket, key: "empty", bytes: [])
            let emptyCopy = try await store.copy(from: ObjectAddress(bucket: bucket, key: "empty"), to: bucket, key: "empty 2")
            #expect(emptyCopy.size == 0)
            #expect(emptyCopy.etag == empty.etag)
        }
    }

    @Test("options replace the headers and metadata (REPLACE)", arguments: stores)
    func copyReplaces(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let bytes = TestFiles.bytes(count: 4_096, seed: 3)
            let put = try await store.put(
                bucket: bucket, key: "src", bytes: bytes,
                options: PutOptions(contentType: "text/plain", cacheControl: "no-cache", metadata: ["old": "1"]))
            let replaced = PutOptions(
                contentType: "application/json", cacheControl: "public, max-age=31536000, immutable",
                metadata: ["New-Key": "new value"])
            let copy = try await store.copy(from: ObjectAddress(bucket: bucket, key: "src"), to: bucket, key: "dst", options: replaced)
            #expect(copy.etag == put.etag)
            #expect(copy.contentType == "application/json")
            #expect(copy.metadata == ["new-key": "new value"])
            let head = try await store.head(bucket: bucket, key: "dst")
            #expect(head.contentType == "application/json")
            #expect(head.cacheControl == "public, max-age=31536000, immutable")
            #expect(head.metadata == ["new-key": "new value"])
            let source = try await store.head(bucket: bucket, key: "src")
            #expect(source.metadata == ["old": "1"], "the source keeps its own")
            try await Self.expectContent(of: "dst", in: bucket, of: store, is: bytes, etag: put.etag)

            // Onto itself: S3 refuses an unchanged self-copy; the store makes it a no-op.
            let same = try await store.copy(from: ObjectAddress(bucket: bucket, key: "src"), to: bucket, key: "src")
            #expect(same.etag == put.etag)
            #expect(try await store.head(bucket: bucket, key: "src").metadata == ["old": "1"])
            let retagged = try await store.copy(
                from: ObjectAddress(bucket: bucket, key: "src"), to: bucket, key: "src", options: PutOptions(metadata: ["v": "2"]))
            #expect(retagged.etag == put.etag)
            #expect(try await store.head(bucket: bucket, key: "src").metadata == ["v": "2"])
            try await Self.expectContent(of: "src", in: bucket, of: store, is: bytes, etag: put.etag)
        }
    }

    @Test("a missing source is notFound, a missing target bucket noSuchBucket", arguments: stores)
    func missing(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let source = await #expect(throws: ObjectStorageError.self) {
                try await store.copy(from: ObjectAddress(bucket: bucket, key: "nope"), to: bucket, key: "copy")
            }
            #expect(source?.code == .notFound)
            #expect(source?.isRetryable == false)
            _ = try await store.put(bucket: bucket, key: "here", bytes: [1, 2])
            let target = await #expect(throws: ObjectStorageError.self) {
                try await store.copy(from: ObjectAddress(bucket: bucket, key: "here"), to: TestFiles.bucketName("none"), key: "x")
            }
            // A server difference, recorded so that a change shows: SeaweedFS answers a
            // copy into a missing bucket with HTTP 500 InternalError (so it is retried).
            let expected: ObjectStorageError.Code = kind == .seaweedfs ? .serverError : .noSuchBucket
            #expect(target?.code == expected, "\(String(describing: target))")
            var listed: [String] = []
            for try await object in store.list(bucket: bucket) { listed.append(object.key) }
            #expect(listed == ["here"])
        }
    }

    @Test("expectations pin the version copied", arguments: stores)
    func expectations(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let put = try await store.put(bucket: bucket, key: "v", bytes: Array("version 1".utf8))
            let source = ObjectAddress(bucket: bucket, key: "v")
            let etag = await #expect(throws: ObjectStorageError.self) {
                try await store.copy(
                    from: source, to: bucket, key: "c", options: nil,
                    expecting: ObjectExpectation(etag: "0123456789abcdef0123456789abcdef"))
            }
            #expect(etag?.code == .preconditionFailed)
            let size = await #expect(throws: ObjectStorageError.self) {
                try await store.copy(from: source, to: bucket, key: "c", options: nil, expecting: ObjectExpectation(size: 3))
            }
            #expect(size?.code == .preconditionFailed)
            await #expect(throws: ObjectStorageError.self) { try await store.head(bucket: bucket, key: "c") }
            let copy = try await store.copy(
                from: source, to: bucket, key: "c", options: nil, expecting: ObjectExpectation(size: 9, etag: "\"\(put.etag ?? "")\""))
            #expect(copy.etag == put.etag)
        }
    }

    @Test("into another bucket", arguments: stores)
    func anotherBucket(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let other = TestFiles.bucketName("copy-target")
            try await store.createBucket(other)
            let bytes = TestFiles.bytes(count: 2 << 20, seed: 21)
            let put = try await store.put(bucket: bucket, key: "originals/o.mov", bytes: bytes, options: PutOptions(contentType: "video/quicktime"))
            let copy = try await store.copy(from: ObjectAddress(bucket: bucket, key: "originals/o.mov"), to: other, key: "backup/o.mov")
            #expect(copy.bucket == other)
            #expect(copy.etag == put.etag)
            #expect(try await store.head(bucket: other, key: "backup/o.mov").contentType == "video/quicktime")
            try await Self.expectContent(of: "backup/o.mov", in: other, of: store, is: bytes, etag: put.etag)
        }
    }

    @Test("tricky keys as source and target (moto: without verification; SeaweedFS: with it)", arguments: [StoreKind.local, .s3Unverified, .seaweedfs])
    func trickyKeys(kind: StoreKind) async throws {
        let keys = kind == .seaweedfs
            ? TrickyKeyTests.hardKeys.map { $0.replacingOccurrences(of: "\\", with: "") } : TrickyKeyTests.hardKeys
        try await copyTricky(kind: kind, keys: keys)
    }

    @Test("keys moto can verify, with signature verification on")
    func verifiableKeys() async throws {
        try await copyTricky(kind: .s3, keys: TrickyKeyTests.verifiableKeys)
    }

    private func copyTricky(kind: StoreKind, keys: [String]) async throws {
        try await kind.withStore { store, bucket in
            for (index, key) in keys.enumerated() {
                let bytes = TestFiles.bytes(count: 500 + index, seed: UInt64(index + 3))
                let put = try await store.put(bucket: bucket, key: key, bytes: bytes)
                let target = "copy of " + key
                let copy = try await store.copy(from: ObjectAddress(bucket: bucket, key: key), to: bucket, key: target)
                #expect(copy.etag == put.etag, "\(key)")
                try await Self.expectContent(of: target, in: bucket, of: store, is: bytes, etag: put.etag)
            }
            var listed: [String] = []
            for try await object in store.list(bucket: bucket) { listed.append(object.key) }
            #expect(listed == (keys + keys.map { "copy of " + $0 }).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
    }

    /// UploadPartCopy with the threshold lowered: the store's own multipart path
    /// (CreateMultipartUpload, parts in parallel, Complete with the parts' ETags).
    @Test("above copyMultipartThreshold the copy goes in parts", arguments: [StoreKind.s3, .seaweedfs])
    func multipartCopy(kind: StoreKind) async throws {
        let configure: (inout S3Configuration) -> Void = {
            $0.copyMultipartThreshold = 8 << 20
            $0.partSize = 5 << 20
            $0.multipartConcurrency = 2
        }
        try await kind.withStore(configure: configure) { store, bucket in
            let bytes = TestFiles.bytes(count: (13 << 20) + 17, seed: 77)
            let put = try await store.put(
                bucket: bucket, key: "originals/big clip.mp4", bytes: bytes,
                options: PutOptions(contentType: "video/mp4", metadata: ["file-id": "big"]))
            let source = ObjectAddress(bucket: bucket, key: "originals/big clip.mp4")
            let copy = try await store.copy(from: source, to: bucket, key: "archive/big clip.mp4")
            #expect(copy.size == Int64(bytes.count))
            #expect(copy.etag?.hasSuffix("-3") == true, "5 + 5 + 3 MiB: \(copy.etag ?? "nil")")
            let head = try await store.head(bucket: bucket, key: "archive/big clip.mp4")
            #expect(head.etag == copy.etag)
            #expect(head.contentType == "video/mp4")
            #expect(head.metadata == ["file-id": "big"])
            try await Self.expectContent(of: "archive/big clip.mp4", in: bucket, of: store, is: bytes, etag: copy.etag)

            let replaced = try await store.copy(
                from: source, to: bucket, key: "other", options: PutOptions(contentType: "application/octet-stream"),
                expecting: ObjectExpectation(etag: put.etag))
            #expect(try await store.head(bucket: bucket, key: "other").contentType == "application/octet-stream")
            #expect(try await store.head(bucket: bucket, key: "other").metadata.isEmpty)
            #expect(replaced.etag == copy.etag)
            let s3 = try #require(store as? S3ObjectStore)
            #expect(try await s3.pendingUploads(bucket: bucket).isEmpty)
        }
    }

    // MARK: - Helpers

    static func expectContent(
        of key: String, in bucket: String, of store: any ObjectStore, is bytes: [UInt8], etag: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await TestFiles.withDirectory { directory in
            let target = directory.appendingPathComponent("got")
            let got = try await store.get(bucket: bucket, key: key, to: target, expecting: ObjectExpectation(etag: etag))
            #expect(got.etag == etag, sourceLocation: sourceLocation)
            #expect([UInt8](try Data(contentsOf: target)) == bytes, "\(key)", sourceLocation: sourceLocation)
        }
    }
}
