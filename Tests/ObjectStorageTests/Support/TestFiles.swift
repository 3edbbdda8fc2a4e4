import Foundation
@testable import ObjectStorage

/// Temporary directories and generated content for tests.
enum TestFiles {
    /// A fresh directory, removed by `body`'s end.
    static func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mediad-storage-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    /// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
    static func bytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed | 1
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<8 where index < count {
                out[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return out
    }

    /// Writes generated content to `directory/name`, returning the file.
    static func file(in directory: URL, name: String, size: Int, seed: UInt64 = 1) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes(count: size, seed: seed)).write(to: url)
        return url
    }

    /// MD5 hex of a file or bytes.
    static func md5(_ bytes: [UInt8]) -> String { PayloadDigest(of: bytes).md5Hex }
    static func md5(of url: URL) throws -> String { md5([UInt8](try Data(contentsOf: url))) }

    /// A bucket name unique to one test, valid for S3 and the local store.
    static func bucketName(_ label: String) -> String {
        "t-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
