import Foundation

extension LocalObjectStore {
    /// Deletes key by key as `delete(bucket:key:)` does (sidecars removed, empty
    /// directories pruned), in one trip to the blocking pool. A key the directory
    /// layout cannot hold is a failure of its own, not of the batch.
    public func delete(bucket: String, keys: [String]) async throws(ObjectStorageError) -> BatchDeleteResult {
        try Self.validate(bucket: bucket)
        let store = self
        return try await BlockingIO.run("delete \(keys.count) keys in \(bucket)") {
            try store.requireBucket(bucket)
            var result = BatchDeleteResult()
            for key in keys {
                do {
                    try Self.validate(bucket: bucket, key: key)
                    try store.deleteSync(bucket: bucket, key: key)
                    result.deleted.append(key)
                } catch let error as ObjectStorageError {
                    result.failed.append(.init(key: key, error: error))
                } catch {
                    result.failed.append(.init(key: key, error: .fileSystem("cannot delete \(bucket)/\(key)", error)))
                }
            }
            return result
        }
    }

    /// Makes the copy a hard link of the source's data file when it can (data files are
    /// never changed in place: a put or copy renames a new file over the path, so the link
    /// keeps the bytes it was made with, and deleting either object leaves the other), and
    /// otherwise copies the data in chunks; then renames it into place with a new sidecar,
    /// exactly as a put does. The ETag is the MD5 of the bytes. A linked copy shares its
    /// source's data file, and so its Last-Modified (sidecars are tied to the data file's time).
    public func copy(
        from source: ObjectAddress, to bucket: String, key: String, options: PutOptions?, expecting: ObjectExpectation?
    ) async throws(ObjectStorageError) -> ObjectInfo {
        try Self.validate(bucket: source.bucket, key: source.key)
        try Self.validate(bucket: bucket, key: key)
        try options?.validate()
        let store = self
        return try await BlockingIO.run("copy \(source) to \(bucket)/\(key)") {
            let info = try store.headSync(bucket: source.bucket, key: source.key)
            try expecting?.check(info, sizeMismatch: .preconditionFailed)
            let stored = options ?? PutOptions(
                contentType: info.contentType, cacheControl: info.cacheControl, metadata: info.metadata)
            let sourcePath = store.objectPath(source.bucket, source.key)
            return try store.store(bucket: bucket, key: key, options: stored) { temporary in
                if link(sourcePath, temporary) == 0 {
                    // The link holds whatever was under the path at that moment: it is the
                    // version the head saw if the sidecar still says so.
                    if let now = try? store.headSync(bucket: source.bucket, key: source.key), now.etag == info.etag, now.size == info.size,
                       let linked = try? FileManager.default.attributesOfItem(atPath: temporary)[.size] as? NSNumber, linked.int64Value == info.size,
                       let etag = info.etag
                    {
                        return (info.size, etag)
                    }
                    try? FileManager.default.removeItem(atPath: temporary)
                }
                let copied = try LocalFileIO.copy(from: sourcePath, to: temporary, sync: true)
                guard copied.size == info.size, copied.md5 == info.etag else {
                    throw ObjectStorageError(.integrity, "\(source) changed while being copied", isRetryable: true)
                }
                return (copied.size, copied.md5)
            }
        }
    }
}
