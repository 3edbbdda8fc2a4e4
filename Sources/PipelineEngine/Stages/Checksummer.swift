import Crypto
import Foundation

/// Streams a file through SHA-256 and MD5 in fixed-size chunks: constant memory for any size.
public enum Checksummer {
    public struct Digests: Sendable, Equatable {
        public var sha256: String?
        public var md5: String?
        public var bytes: Int64
    }

    /// Chunk size: large enough that syscalls don't dominate, small enough to stay in cache.
    public static let chunkSize = 1 << 20

    /// - Throws: `StageFailure(.ioError)` when the file can't be read.
    public static func digest(file: URL, sha256 wantSHA256: Bool = true, md5 wantMD5: Bool = true) throws(StageFailure) -> Digests {
        let fd = open(file.path, O_RDONLY)
        guard fd >= 0 else {
            throw StageFailure(.ioError, "cannot open \(file.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var sha = SHA256()
        var md5 = Insecure.MD5()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, chunkSize)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw StageFailure(.ioError, "cannot read \(file.lastPathComponent): \(String(cString: strerror(errno)))")
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if wantSHA256 { sha.update(bufferPointer: chunk) }
            if wantMD5 { md5.update(bufferPointer: chunk) }
            total += Int64(count)
        }
        return Digests(
            sha256: wantSHA256 ? sha.finalize().hexString : nil,
            md5: wantMD5 ? md5.finalize().hexString : nil,
            bytes: total)
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, as `sha256sum` prints it.
    public var hexString: String {
        var text = ""
        text.reserveCapacity(64)
        for byte in self {
            text += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        return text
    }
}

/// The `checksum` stage: fills `source.sha256` and `source.md5`.
public struct ChecksumStage: StageRunner {
    public init() {}

    public func run(_ stage: StageDefinition, job: JobContext) throws(StageFailure) {
        guard case .checksum(let spec) = stage.kind else { return }
        let known = job.knownDigests
        let needSHA256 = spec.sha256 && known.sha256 == nil
        let needMD5 = spec.md5 && known.md5 == nil
        let digests = needSHA256 || needMD5 ? try Checksummer.digest(file: job.file, sha256: needSHA256, md5: needMD5) : nil
        job.sha256 = spec.sha256 ? known.sha256 ?? digests?.sha256 : nil
        job.md5 = spec.md5 ? known.md5 ?? digests?.md5 : nil
    }
}
