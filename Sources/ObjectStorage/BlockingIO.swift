import Foundation
import NIOCore
import NIOFoundationCompat
import NIOPosix

/// Runs blocking file work on NIO's blocking thread pool, never on Swift's
/// cooperative pool (a blocked cooperative thread stalls every task), and maps its failures to `ObjectStorageError`.
enum BlockingIO {
    /// Read and write granularity: large enough to amortise the thread hop.
    static let chunkSize = 1 << 20

    static func run<T: Sendable>(_ context: String, _ body: @escaping @Sendable () throws -> T)
        async throws(ObjectStorageError) -> T
    {
        do {
            return try await NIOThreadPool.singleton.runIfActive(body)
        } catch let error as ObjectStorageError {
            throw error
        } catch is CancellationError {
            throw ObjectStorageError(.cancelled, "\(context): cancelled")
        } catch {
            throw .fileSystem(context, error)
        }
    }

    /// Atomically replaces `destination` by `source` (rename(2), same file system).
    static func rename(_ source: String, to destination: String) async throws(ObjectStorageError) {
        do {
            try await NonBlockingFileIO(threadPool: .singleton).rename(path: source, newName: destination)
        } catch {
            throw .fileSystem("cannot rename \(source) to \(destination)", error)
        }
    }

    /// The size of a regular file.
    static func fileSize(_ path: String) async throws(ObjectStorageError) -> Int64 {
        try await run("stat \(path)") {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
                throw ObjectStorageError(.invalidArgument, "\(path) is not a regular file")
            }
            return (attributes[.size] as? NSNumber)?.int64Value ?? 0
        }
    }
}

/// Bytes of one slice of a file as `ByteBuffer`s, read lazily on the blocking pool:
/// the upload body of a PUT or of one multipart part.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let path: String
    let offset: Int64
    let length: Int64

    func makeAsyncIterator() -> Iterator {
        Iterator(path: path, offset: offset, remaining: length)
    }

    struct Iterator: AsyncIteratorProtocol {
        let path: String
        var offset: Int64
        var remaining: Int64
        var handle: HandleBox?

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0 else {
                handle = nil
                return nil
            }
            let box: HandleBox
            if let handle {
                box = handle
            } else {
                let (path, offset) = (self.path, self.offset)
                box = try await BlockingIO.run("open \(path)") {
                    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                    try handle.seek(toOffset: UInt64(offset))
                    return HandleBox(handle)
                }
                handle = box
            }
            let count = Int(Swift.min(remaining, Int64(BlockingIO.chunkSize)))
            let path = self.path
            let data = try await BlockingIO.run("read \(path)") { try box.handle.read(upToCount: count) ?? Data() }
            guard !data.isEmpty else {
                throw ObjectStorageError(.fileSystem, "\(path) shrank while being uploaded")
            }
            remaining -= Int64(data.count)
            offset += Int64(data.count)
            return ByteBuffer(data: data)
        }
    }
}

/// Owns an open `FileHandle` and closes it when the last user lets go.
final class HandleBox: Sendable {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
    deinit { try? handle.close() }
}

/// Writes a download into a file, coalescing the network's small buffers into
/// large writes on the blocking pool. Used by one task at a time.
final class FileSink {
    private let box: HandleBox
    private let path: String
    private var pending: ByteBuffer
    private(set) var written: Int64 = 0

    init(path: String) async throws(ObjectStorageError) {
        self.path = path
        box = try await BlockingIO.run("create \(path)") {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ObjectStorageError(.fileSystem, "cannot create \(path)")
            }
            return HandleBox(try FileHandle(forWritingTo: URL(fileURLWithPath: path)))
        }
        pending = ByteBufferAllocator().buffer(capacity: BlockingIO.chunkSize)
    }

    func write(_ buffer: ByteBuffer) async throws(ObjectStorageError) {
        var buffer = buffer
        pending.writeBuffer(&buffer)
        if pending.readableBytes >= BlockingIO.chunkSize {
            try await flush()
        }
    }

    func flush() async throws(ObjectStorageError) {
        guard pending.readableBytes > 0 else { return }
        let chunk = pending
        let box = self.box
        try await BlockingIO.run("write \(path)") {
            try chunk.withUnsafeReadableBytes { try box.handle.write(contentsOf: $0) }
        }
        written += Int64(chunk.readableBytes)
        pending.clear()
    }

    /// Drops everything written so far (a download that restarts from byte 0).
    func truncate() async throws(ObjectStorageError) {
        pending.clear()
        written = 0
        let box = self.box
        try await BlockingIO.run("truncate \(path)") {
            try box.handle.truncate(atOffset: 0)
        }
    }

    /// Flushes what is buffered (no fsync: downloads are working copies, not records).
    func finish() async throws(ObjectStorageError) {
        try await flush()
    }

    /// Bytes accepted so far, including those not yet flushed.
    var count: Int64 { written + Int64(pending.readableBytes) }
}
