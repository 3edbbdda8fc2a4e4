import MediadTestSupport
import Foundation
import NIOHTTP1
import Testing
@testable import ObjectStorage

/// Batch deletes against every store, like the behavioural suite: past DeleteObjects'
/// 1,000-key limit, missing keys, tricky keys and the per-key answers.
@Suite("Batch delete", .moto(.verifying, .plain), .seaweedfs)
struct BatchDeleteTests {
    static let stores = ObjectStoreBehaviourTests.stores

    /// Keys that XML must escape, and control characters (CR must survive as `&#13;`;
    /// U+0007 cannot be written in XML at all and goes as a single DeleteObject).
    static let xmlKeys = ["a<b>c.txt", "amp&amp;semi", "quote\"s 'single'", "cr\r\nlf.txt", "tab\tkey", "bell\u{07}.txt"]

    @Test("2,500 keys: three requests' worth, then the bucket lists empty", arguments: stores)
    func manyKeys(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let keys = (0..<2_500).map { String(format: "batch/%02d/key-%05d.bin", $0 % 7, $0) }
            try await Self.put(keys, into: bucket, of: store)
            let result = try await store.delete(bucket: bucket, keys: keys)
            #expect(result.failed.isEmpty, "\(result.failed.prefix(3).map { "\($0.key): \($0.error)" })")
            #expect(result.deleted.sorted() == keys.sorted())
            #expect(try await Self.keys(in: bucket, of: store).isEmpty)
        }
    }

    @Test("existing and missing keys are all reported deleted; others stay", arguments: stores)
    func mixedKeys(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            try await Self.put(["a/1", "a/2", "b/3", "keep/me"], into: bucket, of: store)
            let keys = ["a/1", "missing/x", "b/3", "a/2", "never-there"]
            let result = try await store.delete(bucket: bucket, keys: keys)
            #expect(result.failed.isEmpty)
            #expect(result.deleted == keys, "in the order given")
            #expect(try await Self.keys(in: bucket, of: store) == ["keep/me"])
            #expect(try await store.delete(bucket: bucket, keys: keys).deleted == keys, "deleting again succeeds")
            #expect(try await store.delete(bucket: bucket, keys: []).deleted.isEmpty)
        }
    }

    @Test("tricky keys (moto: without verification; SeaweedFS: with it)", arguments: [StoreKind.local, .s3Unverified, .seaweedfs])
    func trickyKeys(kind: StoreKind) async throws {
        // SeaweedFS stores `\` as `/` (TrickyKeyTests).
        let hard = kind == .seaweedfs
            ? TrickyKeyTests.hardKeys.map { $0.replacingOccurrences(of: "\\", with: "") } : TrickyKeyTests.hardKeys
        // moto's HTTP server answers 404 to a path with an encoded CR or LF.
        let xml = kind == .s3Unverified ? Self.xmlKeys.filter { !$0.contains("\r\n") } : Self.xmlKeys
        try await deleteTricky(kind: kind, keys: hard + xml)
    }

    @Test("keys moto can verify, with signature verification on")
    func verifiableKeys() async throws {
        try await deleteTricky(kind: .s3, keys: TrickyKeyTests.verifiableKeys)
    }

    private func deleteTricky(kind: StoreKind, keys: [String]) async throws {
        try await kind.withStore { store, bucket in
            try await Self.put(keys + ["untouched"], into: bucket, of: store)
            let result = try await store.delete(bucket: bucket, keys: keys)
            #expect(result.failed.isEmpty, "\(result.failed.map { "\($0.key): \($0.error)" })")
            #expect(Set(result.deleted) == Set(keys))
            #expect(try await Self.keys(in: bucket, of: store) == ["untouched"])
        }
    }

    /// A real per-key `<Error>`: moto enforces a bucket policy that denies deleting
    /// `protected/*` key by key inside DeleteObjects (SeaweedFS accepts the policy but
    /// does not apply it to its admin identity, so it is not among the servers here).
    /// The local store refuses, key by key, keys its directory layout cannot hold.
    @Test("per-key failures are reported with their code; the rest is deleted", arguments: [StoreKind.local, .s3, .s3Unverified])
    func perKeyFailures(kind: StoreKind) async throws {
        try await kind.withStore { store, bucket in
            let refused = kind == .local ? "bad//key" : "protected/p"
            try await Self.put(["keep/a", "other"] + (kind == .local ? [] : [refused]), into: bucket, of: store)
            if let s3 = store as? S3ObjectStore {
                try await Self.denyDeletes(of: "protected/*", in: bucket, on: s3)
            }
            let result = try await store.delete(bucket: bucket, keys: ["keep/a", refused, "missing"])
            #expect(result.deleted == ["keep/a", "missing"])
            #expect(result.failedKeys == [refused])
            let failure = try #require(result.failed.first)
            #expect(failure.error.isRetryable == false)
            if kind == .local {
                #expect(failure.error.code == .invalidArgument)
            } else {
                #expect(failure.error.code == .accessDenied)
                #expect(failure.error.serviceCode == "AccessDenied")
                #expect(!failure.error.message.isEmpty)
                #expect(try await store.head(bucket: bucket, key: refused).size > 0, "still there")
            }
            #expect(try await Self.keys(in: bucket, of: store) == (kind == .local ? ["other"] : ["other", refused]))
        }
    }

    @Test("a missing bucket is an error, not per-key failures", arguments: stores)
    func missingBucket(kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            let error = await #expect(throws: ObjectStorageError.self) {
                try await store.delete(bucket: TestFiles.bucketName("none"), keys: ["a", "b"])
            }
            #expect(error?.code == .noSuchBucket)
        }
    }

    // MARK: - Helpers

    static func put(_ keys: [String], into bucket: String, of store: any ObjectStore) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for start in stride(from: 0, to: keys.count, by: max(1, keys.count / 16)) {
                let slice = keys[start..<min(start + max(1, keys.count / 16), keys.count)]
                group.addTask {
                    for key in slice { _ = try await store.put(bucket: bucket, key: key, bytes: Array(key.utf8)) }
                }
            }
            try await group.waitForAll()
        }
    }

    static func keys(in bucket: String, of store: any ObjectStore) async throws -> [String] {
        var keys: [String] = []
        for try await object in store.list(bucket: bucket) { keys.append(object.key) }
        return keys
    }

    /// PutBucketPolicy with one statement denying `s3:DeleteObject` on `pattern`.
    static func denyDeletes(of pattern: String, in bucket: String, on store: S3ObjectStore) async throws {
        let policy = """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", \
            "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::\(bucket)/\(pattern)"}]}
            """
        var request = S3Request(method: .PUT, bucket: bucket, query: [.init("policy", "")])
        request.body = .bytes(Array(policy.utf8))
        try await store.perform("PutBucketPolicy \(bucket)", request)
    }
}
