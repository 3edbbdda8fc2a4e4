import Foundation

/// Where mediad reads originals and writes derivatives: S3 (or a compatible server)
/// in production, a local directory laid out as `bucket/key` when embedded.
///
/// All operations are safe to call concurrently. Downloads stream to a file and uploads
/// stream from one, so memory stays flat whatever the object size.
public protocol ObjectStore: Sendable {
    /// Creates a bucket; succeeds when it already exists and is ours.
    func createBucket(_ bucket: String) async throws(ObjectStorageError)

    /// Reads an object's size, ETag and headers without its bytes.
    /// - Throws: `.notFound` when there is no such object.
    func head(bucket: String, key: String) async throws(ObjectStorageError) -> ObjectInfo

    /// Downloads an object into `file` (creating its directory), replacing it
    /// atomically only once every byte arrived and matched the size and ETag (and
    /// `expecting`, when given).
    /// - Throws: `.notFound`, `.preconditionFailed` when the ETag differs from
    ///   `expecting`, `.integrity` when bytes do not match.
    func get(bucket: String, key: String, to file: URL, expecting: ObjectExpectation?)
        async throws(ObjectStorageError) -> ObjectInfo

    /// Uploads a file, as a multipart upload above the store's threshold.
    func put(bucket: String, key: String, file: URL, options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo

    /// Uploads bytes held in memory (manifests, small derivatives).
    func put(bucket: String, key: String, bytes: [UInt8], options: PutOptions)
        async throws(ObjectStorageError) -> ObjectInfo

    /// Lists one page of keys after `startAfter` (first page) or `continuationToken`.
    func listPage(
        bucket: String,
        prefix: String?,
        startAfter: String?,
        continuationToken: String?,
        maxKeys: Int?
    ) async throws(ObjectStorageError) -> ObjectListPage

    /// Deletes an object; deleting a missing key succeeds, as on S3.
    func delete(bucket: String, key: String) async throws(ObjectStorageError)

    /// Deletes any number of objects (on S3 with DeleteObjects, 1,000 keys a request),
    /// reporting each key: deleting a missing key succeeds, as on S3. Transient
    /// failures, of a request or of single keys, are retried like any request.
    /// - Returns: the keys deleted and those that were not, each with its error; once
    ///   any key is deleted, a request that fails for good makes its keys, and those
    ///   not yet sent, failures rather than an error.
    /// - Throws: when nothing was deleted: `.noSuchBucket`, `.accessDenied`, or the
    ///   first request's failure.
    func delete(bucket: String, keys: [String]) async throws(ObjectStorageError) -> BatchDeleteResult

    /// Copies an object inside the store (on S3 without the bytes leaving the server).
    /// With `options`, the copy gets those headers and metadata; without, the source's.
    /// - Parameter expecting: the source's ETag (and size) the caller checked, so that
    ///   exactly that version is copied.
    /// - Returns: the new object.
    /// - Throws: `.notFound` for a missing source, `.preconditionFailed` when it is not
    ///   the object `expecting` describes.
    func copy(
        from source: ObjectAddress, to bucket: String, key: String, options: PutOptions?, expecting: ObjectExpectation?
    ) async throws(ObjectStorageError) -> ObjectInfo
}

extension ObjectStore {
    /// Downloads an object into `file` with no expectation beyond its own size and ETag.
    public func get(bucket: String, key: String, to file: URL) async throws(ObjectStorageError) -> ObjectInfo {
        try await get(bucket: bucket, key: key, to: file, expecting: nil)
    }

    /// Copies an object, keeping its headers and metadata unless `options` replace them.
    public func copy(from source: ObjectAddress, to bucket: String, key: String, options: PutOptions? = nil)
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try await copy(from: source, to: bucket, key: key, options: options, expecting: nil)
    }

    /// Uploads a file with default options.
    public func put(bucket: String, key: String, file: URL) async throws(ObjectStorageError) -> ObjectInfo {
        try await put(bucket: bucket, key: key, file: file, options: PutOptions())
    }

    /// Uploads bytes with default options.
    public func put(bucket: String, key: String, bytes: [UInt8]) async throws(ObjectStorageError) -> ObjectInfo {
        try await put(bucket: bucket, key: key, bytes: bytes, options: PutOptions())
    }

    /// Uploads `Data` held in memory.
    public func put(bucket: String, key: String, data: Data, options: PutOptions = PutOptions())
        async throws(ObjectStorageError) -> ObjectInfo
    {
        try await put(bucket: bucket, key: key, bytes: [UInt8](data), options: options)
    }

    /// Every object under `prefix` (after `startAfter`), fetching pages as iteration goes.
    public func list(bucket: String, prefix: String? = nil, startAfter: String? = nil, pageSize: Int? = nil)
        -> ObjectListing
    {
        ObjectListing(store: self, bucket: bucket, prefix: prefix, startAfter: startAfter, pageSize: pageSize)
    }

    /// Downloads a small object (a manifest) into memory.
    /// - Throws: `.invalidArgument` when the object is larger than `maxSize`.
    public func getBytes(bucket: String, key: String, maxSize: Int64 = 16 << 20)
        async throws(ObjectStorageError) -> (info: ObjectInfo, bytes: [UInt8])
    {
        let directory = FileManager.default.temporaryDirectory
        let file = directory.appendingPathComponent("mediad-get-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let head = try await head(bucket: bucket, key: key)
        guard head.size <= maxSize else {
            throw ObjectStorageError(.invalidArgument, "\(bucket)/\(key) is \(head.size) bytes, more than \(maxSize)")
        }
        let info = try await get(bucket: bucket, key: key, to: file, expecting: ObjectExpectation(etag: head.etag))
        do {
            return (info, [UInt8](try Data(contentsOf: file)))
        } catch {
            throw .fileSystem("cannot read downloaded \(file.path)", error)
        }
    }
}
