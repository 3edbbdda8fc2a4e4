import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ETags the local store computed for files placed by hand (they have no sidecar), so that
/// a head and the get after it read the bytes for their MD5 once, not twice.
///
/// An entry holds only while the file's identity does: device, inode, size, and the
/// modification and status-change times. Writing the file, renaming another over it, or
/// setting its time back (which changes the status-change time) each make it miss.
final class LocalETagMemo: Sendable {
    struct Identity: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64

        /// The identity of a regular file, or nil when there is none at `path`.
        init?(ofFile path: String) {
            var status = stat()
            guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
        }
    }

    /// Enough for the jobs of a busy daemon; the table is emptied when it is full.
    static let capacity = 4096
    private let entries = Mutex<[String: (identity: Identity, etag: String)]>([:])

    func etag(ofFile path: String) -> String? {
        guard let identity = Identity(ofFile: path) else { return nil }
        return entries.withLock { entries in
            entries[path].flatMap { $0.identity == identity ? $0.etag : nil }
        }
    }

    /// Records the ETag of the bytes read while the file had `identity`.
    func remember(_ etag: String, ofFile path: String, identity: Identity) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[path] = (identity, etag)
        }
    }
}
