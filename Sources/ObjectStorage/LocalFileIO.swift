import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local store's byte moving: read(2)/write(2) loops over one reused buffer.
///
/// Foundation's file handles allocate a `Data` per chunk, and `FileManager.createFile` writes
/// even an empty file through a temporary file of its own and a rename; on a daemon that
/// stores a few objects per job, those were a fifth of its CPU.
enum LocalFileIO {
    struct Copied {
        var size: Int64
        var md5: String
        var sha256: String?
    }

    /// Copies `source` to a new file at `destination`, hashing as it goes (MD5 for the ETag,
    /// unless the caller knows it; SHA-256 when asked); `sync` makes the copy durable.
    static func copy(from source: String, to destination: String, sync: Bool, knownMD5: String? = nil, sha256: Bool = false)
        throws(ObjectStorageError) -> Copied
    {
        let input = try open(source, flags: O_RDONLY)
        defer { close(input) }
        let output = try open(destination, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(output) }
        var md5 = knownMD5 == nil ? Insecure.MD5() : nil
        var content = sha256 ? SHA256() : nil
        let size = try forEachChunk(of: input, path: source) { chunk throws(ObjectStorageError) in
            md5?.update(bufferPointer: chunk)
            content?.update(bufferPointer: chunk)
            try writeAll(chunk, to: output, path: destination)
        }
        if sync { try self.sync(output, path: destination) }
        return Copied(
            size: size, md5: md5.map { S3Encoding.hex($0.finalize()) } ?? knownMD5 ?? "",
            sha256: content.map { S3Encoding.hex($0.finalize()) })
    }

    /// Writes `bytes` to a new file at `destination`; returns their MD5.
    static func write(_ bytes: [UInt8], to destination: String, sync: Bool = false) throws(ObjectStorageError) -> String {
        let output = try open(destination, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(output) }
        let failure = bytes.withUnsafeBytes { buffer -> ObjectStorageError? in
            do throws(ObjectStorageError) {
                try writeAll(buffer, to: output, path: destination)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        if sync { try self.sync(output, path: destination) }
        return S3Encoding.hex(Insecure.MD5.hash(data: bytes))
    }

    /// Moves `source` to `destination` (a rename) instead of copying it, then hashes it and
    /// makes it durable as `copy` does: no second inode and no second write of the bytes.
    /// - Returns: nil, with `source` untouched, when the bytes must be copied instead: another
    ///   file system, or a source that is not a plain file with a single name (a symbolic
    ///   link, or a file also reachable elsewhere whose bytes could change under the object).
    /// - Throws: when reading or syncing the moved file fails; it is moved back first.
    static func move(_ source: String, to destination: String) throws(ObjectStorageError) -> Copied? {
        var status = stat()
        guard lstat(source, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_nlink == 1,
              rename(source, destination) == 0
        else { return nil }
        do {
            let input = try open(destination, flags: O_RDONLY | O_NOFOLLOW)
            defer { close(input) }
            let (size, md5) = try md5(of: input, path: destination)
            try sync(input, path: destination)
            return Copied(size: size, md5: md5)
        } catch {
            rename(destination, source)
            throw error
        }
    }

    /// The MD5 of a file, as lower-case hex.
    static func md5Hex(ofFile path: String) throws(ObjectStorageError) -> String {
        let input = try open(path, flags: O_RDONLY)
        defer { close(input) }
        return try md5(of: input, path: path).md5
    }

    private static func md5(of fd: Int32, path: String) throws(ObjectStorageError) -> (size: Int64, md5: String) {
        var md5 = Insecure.MD5()
        let size = try forEachChunk(of: fd, path: path) { chunk in md5.update(bufferPointer: chunk) }
        return (size, S3Encoding.hex(md5.finalize()))
    }

    // MARK: System calls

    private static func open(_ path: String, flags: Int32) throws(ObjectStorageError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, 0o666)
            if fd >= 0 { return fd }
            if errno != EINTR { throw failure("cannot open \(path)") }
        }
    }

    /// Reads the whole file in chunks of `BlockingIO.chunkSize`; returns the byte count.
    private static func forEachChunk(
        of fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws(ObjectStorageError) -> Void
    ) throws(ObjectStorageError) -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: BlockingIO.chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count == 0 { return total }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read \(path)")
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += Int64(count)
        }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, path: String) throws(ObjectStorageError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write \(path)")
            }
            offset += written
        }
    }

    private static func sync(_ fd: Int32, path: String) throws(ObjectStorageError) {
        guard fsync(fd) == 0 else { throw failure("cannot sync \(path)") }
    }

    private static func failure(_ message: String) -> ObjectStorageError {
        .fileSystem(message, POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
    }
}
