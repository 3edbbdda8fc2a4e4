import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

/// One behavioural suite, run against the local store and against S3 (moto with
/// SigV4 verification, moto without it, and SeaweedFS, a production S3 server, with
/// verification): every store must behave alike.
///
/// moto cannot verify signed query values that need encoding (a `/` in a prefix),
/// so listings by such prefixes run on the local store, the unverified moto server
/// and SeaweedFS (which verifies them).
@Suite("ObjectStore behaviour", .moto(.verifying, .plain), .seaweedfs)
struct ObjectStoreBehaviourTests {
    static let stores: [StoreKind] = [.local, .s3, .s3Unverified, .seaweedfs]
    static let storesForSlashPrefixes: [StoreKind] = [.local, .s3Unverified, .seaweedfs]

    @Test("put bytes with headers, head and get them back", arguments: stores)
    func roundTripBytes(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let bytes = TestFiles.bytes(count: 70_001)
            let options = PutOptions(
                contentType: "image/jpeg", cacheControl: "public, max-age=31536000, immutable",
                metadata: ["File-Id": "f-123", "owner": "u 42"])
            let put = try await store.put(bucket: bucket, key: "derived/f-123/thumb.jpg", bytes: bytes, options: options)
            #expect(put.size == 70_001)
            #expect(put.etag == TestFiles.md5(bytes))

            let head = try await store.head(bucket: bucket, key: "derived/f-123/thumb.jpg")
            #expect(head.size == 70_001)
            #expect(head.etag == put.etag)
            #expect(head.contentType == "image/jpeg")
            #expect(head.cacheControl == "public, max-age=31536000, immutable")
            #expect(head.metadata == ["file-id": "f-123", "owner": "u 42"])
            #expect(head.lastModified != nil)

            try await TestFiles.withDirectory { directory in
                let target = directory.appendingPathComponent("thumb.jpg")
                let got = try await store.get(bucket: bucket, key: "derived/f-123/thumb.jpg", to: target)
                #expect(got.etag == put.etag)
                #expect(got.metadata["file-id"] == "f-123")
                #expect([UInt8](try Data(contentsOf: target)) == bytes)
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                #expect(leftovers == ["thumb.jpg"], "no temporary files remain")
            }
        }
    }

    @Test("put a file and download it to a file", arguments: stores)
    func roundTripFile(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            try await TestFiles.withDirectory { directory in
                let source = try TestFiles.file(in: directory, name: "original.bin", size: 3 << 20)
                let put = try await store.put(bucket: bucket, key: "originals/a.bin", file: source)
                #expect(put.size == 3 << 20)
                #expect(put.etag == (try TestFiles.md5(of: source)))
                let target = directory.appendingPathComponent("new/sub/dir/copy.bin")
                let got = try await store.get(
                    bucket: bucket, key: "originals/a.bin", to: target,
                    expecting: ObjectExpectation(size: 3 << 20, etag: "\"\(put.etag ?? "")\""))
                #expect(got.size == 3 << 20)
                #expect(try Data(contentsOf: target) == Data(contentsOf: source))
            }
        }
    }

    @Test("empty objects and Data puts round-trip", arguments: stores)
    func emptyObject(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let put = try await store.put(bucket: bucket, key: "empty", data: Data())
            #expect(put.size == 0)
            #expect(put.etag == "d41d8cd98f00b204e9800998ecf8427e")
            let (info, bytes) = try await store.getBytes(bucket: bucket, key: "empty")
            #expect(info.size == 0)
            #expect(bytes.isEmpty)
            _ = try await store.put(bucket: bucket, key: "manifest.json", data: Data("{\"a\":1}".utf8))
            #expect(try await store.getBytes(bucket: bucket, key: "manifest.json").bytes == Array("{\"a\":1}".utf8))
        }
    }

    @Test("missing objects and buckets have typed errors", arguments: stores)
    func missing(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let head = await #expect(throws: ObjectStorageError.self) {
                try await store.head(bucket: bucket, key: "nope")
            }
            #expect(head?.code == .notFound)
            try await TestFiles.withDirectory { directory in
                let target = directory.appendingPathComponent("x")
                let get = await #expect(throws: ObjectStorageError.self) {
                    try await store.get(bucket: bucket, key: "nope", to: target)
                }
                #expect(get?.code == .notFound)
                #expect(get?.isRetryable == false)
                #expect(!FileManager.default.fileExists(atPath: target.path))

                let noBucket = await #expect(throws: ObjectStorageError.self) {
                    try await store.get(bucket: "no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())", key: "k", to: target)
                }
                #expect(noBucket?.code == .noSuchBucket)
                if kind != .local {
                    #expect(get?.requestID != nil, "S3 errors carry a request id")
                    #expect(head?.requestID != nil, "HEAD errors too (from the header: they have no body)")
                }
            }
            let put = await #expect(throws: ObjectStorageError.self) {
                try await store.put(bucket: "no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())", key: "k", bytes: [1])
            }
            #expect(put?.code == .noSuchBucket)
        }
    }

    @Test("expectations guard against changed or truncated objects", arguments: stores)
    func expectations(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let put = try await store.put(bucket: bucket, key: "k", bytes: Array("hello".utf8))
            try await TestFiles.withDirectory { directory in
                let target = directory.appendingPathComponent("out")
                try Data("previous".utf8).write(to: target)
                let etag = await #expect(throws: ObjectStorageError.self) {
                    try await store.get(
                        bucket: bucket, key: "k", to: target,
                        expecting: ObjectExpectation(etag: "0123456789abcdef0123456789abcdef"))
                }
                #expect(etag?.code == .preconditionFailed)
                let size = await #expect(throws: ObjectStorageError.self) {
                    try await store.get(bucket: bucket, key: "k", to: target, expecting: ObjectExpectation(size: 6))
                }
                #expect(size?.code == .integrity)
                #expect(try Data(contentsOf: target) == Data("previous".utf8), "a failed get leaves the file alone")
                let good = try await store.get(
                    bucket: bucket, key: "k", to: target, expecting: ObjectExpectation(size: 5, etag: put.etag))
                #expect(good.etag == put.etag)
                #expect(try Data(contentsOf: target) == Data("hello".utf8))
            }
        }
    }

    @Test("overwrite and delete", arguments: stores)
    func overwriteAndDelete(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            _ = try await store.put(bucket: bucket, key: "a/b/c", bytes: [1, 2, 3])
            let second = try await store.put(bucket: bucket, key: "a/b/c", bytes: [4, 5])
            let head = try await store.head(bucket: bucket, key: "a/b/c")
            #expect(head.size == 2)
            #expect(head.etag == second.etag)
            try await store.delete(bucket: bucket, key: "a/b/c")
            let gone = await #expect(throws: ObjectStorageError.self) { try await store.head(bucket: bucket, key: "a/b/c") }
            #expect(gone?.code == .notFound)
            try await store.delete(bucket: bucket, key: "a/b/c")  // deleting twice succeeds, as on S3
            var listed: [String] = []
            for try await object in store.list(bucket: bucket) { listed.append(object.key) }
            #expect(listed.isEmpty)
        }
    }

    @Test("list with prefix and start-after in UTF-8 binary order", arguments: stores)
    func listFilters(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let keys = ["b-2", "a-1", "b-10", "c", "b-1x", "B-upper", "b-_z", "b-z", "b-1/deep"]
            for key in keys { _ = try await store.put(bucket: bucket, key: key, bytes: Array(key.utf8)) }

            var all: [ObjectInfo] = []
            for try await object in store.list(bucket: bucket) { all.append(object) }
            #expect(all.map(\.key) == ["B-upper", "a-1", "b-1/deep", "b-10", "b-1x", "b-2", "b-_z", "b-z", "c"])
            #expect(all.first { $0.key == "b-10" }?.size == 4)
            #expect(all.allSatisfy { $0.lastModified != nil })

            var after: [String] = []
            for try await object in store.list(bucket: bucket, prefix: "b-", startAfter: "b-1x") { after.append(object.key) }
            #expect(after == ["b-2", "b-_z", "b-z"])

            let page = try await store.listPage(bucket: bucket, prefix: "b-1", startAfter: nil, continuationToken: nil, maxKeys: 2)
            #expect(page.objects.map(\.key) == ["b-1/deep", "b-10"])
            let next = try await store.listPage(
                bucket: bucket, prefix: "b-1", startAfter: nil, continuationToken: page.continuationToken, maxKeys: 2)
            #expect(next.objects.map(\.key) == ["b-1x"])
            #expect(next.continuationToken == nil)
        }
    }

    @Test("list by directory-like prefixes", arguments: storesForSlashPrefixes)
    func listSlashPrefixes(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let keys = ["derived/f1/thumb.jpg", "derived/f1/manifest.json", "derived/f10/thumb.jpg", "originals/f1.jpg"]
            for key in keys { _ = try await store.put(bucket: bucket, key: key, bytes: [1]) }
            var listed: [String] = []
            for try await object in store.list(bucket: bucket, prefix: "derived/f1/") { listed.append(object.key) }
            #expect(listed == ["derived/f1/manifest.json", "derived/f1/thumb.jpg"])
            listed = []
            for try await object in store.list(bucket: bucket, prefix: "derived/", startAfter: "derived/f1/thumb.jpg") {
                listed.append(object.key)
            }
            #expect(listed == ["derived/f10/thumb.jpg"])
            listed = []
            for try await object in store.list(bucket: bucket, prefix: "derived/f") { listed.append(object.key) }
            #expect(listed.count == 3)
        }
    }

    @Test("listing more than 1,000 keys continues across pages", arguments: stores)
    func listManyPages(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let keys = (0..<1_050).map { String(format: "many-%05d.txt", $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: keys.count, by: 66) {
                    group.addTask {
                        for key in keys[chunk..<min(chunk + 66, keys.count)] {
                            _ = try await store.put(bucket: bucket, key: key, bytes: [UInt8](key.utf8.suffix(3)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            _ = try await store.put(bucket: bucket, key: "other", bytes: [0])

            let first = try await store.listPage(bucket: bucket, prefix: "many-", startAfter: nil, continuationToken: nil, maxKeys: nil)
            #expect(first.objects.count == 1_000)
            #expect(first.continuationToken != nil)

            var listed: [String] = []
            for try await object in store.list(bucket: bucket, prefix: "many-") { listed.append(object.key) }
            #expect(listed == keys)

            var after: [String] = []
            for try await object in store.list(bucket: bucket, prefix: "many-", startAfter: "many-00999.txt", pageSize: 20) {
                after.append(object.key)
            }
            #expect(after == Array(keys[1_000...]))
        }
    }

    @Test("invalid metadata is refused before anything is sent", arguments: stores)
    func invalidMetadata(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let error = await #expect(throws: ObjectStorageError.self) {
                try await store.put(bucket: bucket, key: "k", bytes: [1], options: PutOptions(metadata: ["name": "café"]))
            }
            #expect(error?.code == .invalidArgument)
        }
    }
}
