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

    /// Copies the data file in chunks (no reflink: a plain copy works on every file
    /// system) into a temporary file and renames it into place with a new sidecar,
    /// exactly as a put does; the ETag is the MD5 of what was copied.
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
            return try store.store(bucket: bucket, key: key, options: stored) { temporary in
                let copied = try Self.copy(from: store.objectPath(source.bucket, source.key), to: temporary, sync: true)
                guard copied.size == info.size, copied.md5 == info.etag else {
                    throw ObjectStorageError(.integrity, "\(source) changed while being copied", isRetryable: true)
                }
                return (copied.size, copied.md5)
            }
        }
    }
}
