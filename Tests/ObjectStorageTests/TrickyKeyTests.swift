import MediadTestSupport
import Foundation
import Testing
@testable import ObjectStorage

/// Keys S3 must see encoded exactly right. moto cannot verify signatures for keys
/// with `+ % ; = & ~`, `*'()!` or non-ASCII (botocore's own requests fail
/// the same way), nor for query values with `/`, so there they run against the
/// unverified moto server; SeaweedFS verifies every signature, in paths and in
/// listing prefixes, so it is the server that proves the signer on them.
@Suite("Tricky keys", .moto(.verifying, .plain), .seaweedfs)
struct TrickyKeyTests {
    static let hardKeys = [
        "with space.jpg", "plus+sign.png", "tilde~name", "equals=and&amp", "percent%41literal", "semi;colon",
        "ünïcødé/файл 照片.heic", "emoji 📷.jpg", "nested/dir/a b+c~d=e&f.txt", "star*(paren)!'quote",
        "comma,dollar$at@colon:", "brackets[]{}^`|\\",
    ]
    static let verifiableKeys = ["with space.jpg", "nested/dir/file name.txt", "dots.and-dashes_", "UPPER/lower 123"]

    @Test("hard keys round-trip (SeaweedFS: with signature verification on)", arguments: [StoreKind.local, .s3Unverified, .seaweedfs])
    func hardKeys(kind: StoreKind) async throws {
        // SeaweedFS stores `\` as `/` (see the next test); every other character is kept.
        let keys = kind == .seaweedfs ? Self.hardKeys.map { $0.replacingOccurrences(of: "\\", with: "") } : Self.hardKeys
        try await roundTrip(kind: kind, keys: keys)
    }

    /// A server difference, recorded so that a change shows: the client sends `%5C`, signed,
    /// and SeaweedFS takes it as a path separator.
    @Test("SeaweedFS stores a backslash in a key as a slash")
    func seaweedFSBackslash() async throws {
        try await StoreKind.seaweedfs.withStore { store, bucket in
            let put = try await store.put(bucket: bucket, key: "brackets[]{}^`|\\x", bytes: [1, 2])
            #expect(try await store.head(bucket: bucket, key: "brackets[]{}^`|/x").etag == put.etag)
            var listed: [String] = []
            for try await object in store.list(bucket: bucket) { listed.append(object.key) }
            #expect(listed == ["brackets[]{}^`|/x"])
        }
    }

    @Test("keys moto can verify round-trip with signature verification on")
    func verifiableKeys() async throws {
        try await roundTrip(kind: .s3, keys: Self.verifiableKeys)
    }

    private func roundTrip(kind: StoreKind, keys: [String]) async throws {
        try await kind.withStore { store, bucket in
            try await TestFiles.withDirectory { directory in
                for (index, key) in keys.enumerated() {
                    let bytes = TestFiles.bytes(count: 100 + index, seed: UInt64(index + 7))
                    let put = try await store.put(bucket: bucket, key: key, bytes: bytes)
                    let head = try await store.head(bucket: bucket, key: key)
                    #expect(head.etag == put.etag, "\(key)")
                    let target = directory.appendingPathComponent("out-\(index)")
                    _ = try await store.get(bucket: bucket, key: key, to: target)
                    #expect([UInt8](try Data(contentsOf: target)) == bytes, "\(key)")
                }
                var listed: [String] = []
                for try await object in store.list(bucket: bucket) { listed.append(object.key) }
                #expect(listed == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
                for key in keys {
                    // (moto cannot verify a signed query value that needs encoding)
                    if kind != .s3 {
                        var prefixed: [String] = []
                        for try await object in store.list(bucket: bucket, prefix: key) { prefixed.append(object.key) }
                        #expect(prefixed == [key], "prefix \(key)")
                    }
                    try await store.delete(bucket: bucket, key: key)
                }
                let page = try await store.listPage(bucket: bucket, prefix: nil, startAfter: nil, continuationToken: nil, maxKeys: nil)
                #expect(page.objects.isEmpty)
            }
        }
    }
}
