import Crypto
import Foundation

/// The embedded `ObjectStore`: a directory laid out as `root/bucket/key`, so every
/// mediad command runs with no server at all and its output can be browsed as files.
///
/// Writes are atomic (a temporary file under `root/.mediad/tmp`, then rename), and
/// the headers S3 would keep (content type, cache control, user metadata, ETag) live
/// in a JSON sidecar: an extended attribute of the data file, or a file under
/// `root/.mediad/meta` where the file system has no user attributes. ETags are the MD5
/// of the bytes, like a single-part S3 upload; files placed by hand get theirs computed
/// on demand.
///
/// One difference from S3 remains, inherent to files: a key cannot be both an object
/// and a "directory" of other keys (`a` and `a/b`); such a put fails with
/// `.invalidArgument`. mediad's layouts (`derived/{fileId}/{name}.{ext}`) never do that.
public struct LocalObjectStore: ObjectStore {
    /// The directory holding one sub-directory per bucket.
    public let root: URL
    /// Shared by the copies of this value, so a head's hashing serves the get after it.
    let etagMemo = LocalETagMemo()

    /// Creates a store over `root` (created when missing).
    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    var rootPath: String { root.path }
    var temporaryDirectory: String { rootPath + "/.mediad/tmp" }

    func bucketPath(_ bucket: String) -> String { rootPath + "/" + bucket }
    func objectPath(_ bucket: String, _ key: String) -> String { rootPath + "/" + bucket + "/" + key }

    /// The sidecar of one object: one flat directory per bucket, named by a hash of
    /// the key, so sidecars never collide with each other or with the data tree.
    func metadataPath(_ bucket: String, _ key: String) -> String {
        rootPath + "/.mediad/meta/" + bucket + "/" + S3Encoding.hex(SHA256.hash(data: Data(key.utf8))) + ".json"
    }

    public func createBucket(_ bucket: String) async throws(ObjectStorageError) {
        try Self.validate(bucket: bucket)
        let path = bucketPath(bucket)
        try await BlockingIO.run("create bucket \(bucket)") {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
    }

    public func head(bucket: String, key: String) async throws(ObjectStorageError) -> ObjectInfo {
        try Self.validate(bucket: bucket, key: key)
        let store = self
        return try await BlockingIO.run("head \(bucket)/\(key)") { try store.headSync(bucket: bucket, key: key) }
    }

    public func delete(bucket: String, key: String) async throws(ObjectStorageError) {
        try Self.validate(bucket: bucket, key: key)
        let store = self
        try await BlockingIO.run("delete \(bucket)/\(key)") {
            try store.requireBucket(bucket)
            try store.deleteSync(bucket: bucket, key: key)
        }
    }

    // MARK: - Synchronous helpers (run on the blocking pool)

    /// Removes the data file and its sidecar, then the directories the key left empty.
    func deleteSync(bucket: String, key: String) throws {
        let manager = FileManager.default
        let path = objectPath(bucket, key)
        if isRegularFile(path) { try manager.removeItem(atPath: path) }
        try? manager.removeItem(atPath: metadataPath(bucket, key))
        // Prune directories the key left empty, as S3 has no directories.
        var directory = (path as NSString).deletingLastPathComponent
        while directory.count > bucketPath(bucket).count,
            (try? manager.contentsOfDirectory(atPath: directory).isEmpty) == true
        {
            try? manager.removeItem(atPath: directory)
            directory = (directory as NSString).deletingLastPathComponent
        }
    }

    /// - Parameter hashing: false leaves `etag` nil for an object without a current sidecar
    ///   (one copied in by hand) and not yet hashed, instead of reading the whole file for it:
    ///   `get` hashes as it copies anyway.
    func headSync(bucket: String, key: String, hashing: Bool = true) throws -> ObjectInfo {
        try requireBucket(bucket)
        let path = objectPath(bucket, key)
        guard isRegularFile(path) else {
            throw ObjectStorageError(.notFound, "no object \(bucket)/\(key)")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = attributes[.modificationDate] as? Date
        var info = ObjectInfo(bucket: bucket, key: key, size: size, lastModified: modified)
        if let sidecar = readSidecar(bucket, key, size: size, modified: modified) {
            info.etag = sidecar.etag
            info.contentType = sidecar.contentType
            info.cacheControl = sidecar.cacheControl
            info.metadata = sidecar.metadata
        } else if let remembered = etagMemo.etag(ofFile: path) {
            info.etag = remembered
        } else if hashing {
            info.etag = try hashRemembering(path)
        }
        return info
    }

    /// The MD5 of a file without a sidecar, remembered while the file stays as it was read.
    func hashRemembering(_ path: String) throws -> String {
        let identity = LocalETagMemo.Identity(ofFile: path)
        let etag = try LocalFileIO.md5Hex(ofFile: path)
        if let identity, LocalETagMemo.Identity(ofFile: path) == identity {
            etagMemo.remember(etag, ofFile: path, identity: identity)
        }
        return etag
    }

    func requireBucket(_ bucket: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: bucketPath(bucket), isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw ObjectStorageError(.noSuchBucket, "no bucket \(bucket) in \(rootPath)")
        }
    }

    func isRegularFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    // MARK: - Validation

    /// S3's bucket naming rules, which also keep names safe as directory names.
    static func validate(bucket: String) throws(ObjectStorageError) {
        guard S3Endpoint.isDNSCompatible(bucket) else {
            throw ObjectStorageError(.invalidArgument, "invalid bucket name '\(bucket)'")
        }
    }

    /// Keys must map to a path inside the bucket: no empty, `.` or `..` segments
    /// (so no leading, trailing or double `/`), no NUL, segments up to 255 bytes.
    static func validate(bucket: String, key: String) throws(ObjectStorageError) {
        try validate(bucket: bucket)
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let valid =
            !key.isEmpty && key.utf8.count <= 1024 && !key.utf8.contains(0)
            && segments.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && $0.utf8.count <= 255 }
        guard valid else {
            throw ObjectStorageError(.invalidArgument, "key '\(key)' cannot be stored in a local directory")
        }
    }
}
