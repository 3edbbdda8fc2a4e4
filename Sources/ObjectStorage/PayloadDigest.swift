import Crypto
import Foundation

/// MD5 and SHA-256 of one payload, computed in a single pass: MD5 feeds `Content-MD5`
/// and the ETag check, SHA-256 the signed `x-amz-content-sha256`.
struct PayloadDigest: Sendable, Hashable {
    var md5: [UInt8]
    var sha256: [UInt8]

    var md5Hex: String { S3Encoding.hex(md5) }
    var md5Base64: String { Data(md5).base64EncodedString() }
    var sha256Hex: String { S3Encoding.hex(sha256) }

    /// SHA-256 of nothing, the payload hash of bodiless requests.
    static let emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    init(md5: [UInt8], sha256: [UInt8]) {
        self.md5 = md5
        self.sha256 = sha256
    }

    init(of bytes: some DataProtocol) {
        md5 = Array(Insecure.MD5.hash(data: bytes))
        sha256 = Array(SHA256.hash(data: bytes))
    }

    /// Hashes `length` bytes of a file from `offset`, on the blocking pool.
    static func ofFile(_ path: String, offset: Int64, length: Int64) async throws(ObjectStorageError) -> PayloadDigest {
        try await BlockingIO.run("hash \(path)") {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            var md5 = Insecure.MD5()
            var sha256 = SHA256()
            var remaining = length
            while remaining > 0 {
                let count = Int(min(remaining, Int64(BlockingIO.chunkSize)))
                guard let chunk = try handle.read(upToCount: count), !chunk.isEmpty else {
                    throw ObjectStorageError(.fileSystem, "\(path) shrank while being read")
                }
                md5.update(data: chunk)
                sha256.update(data: chunk)
                remaining -= Int64(chunk.count)
            }
            return PayloadDigest(md5: Array(md5.finalize()), sha256: Array(sha256.finalize()))
        }
    }

    /// The ETag S3 gives a multipart upload: MD5 of the concatenated part MD5s, `-N`.
    static func multipartETag(partMD5s: [[UInt8]]) -> String {
        S3Encoding.hex(Insecure.MD5.hash(data: partMD5s.flatMap { $0 })) + "-\(partMD5s.count)"
    }
}
