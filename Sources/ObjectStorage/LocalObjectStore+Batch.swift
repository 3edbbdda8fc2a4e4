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
}
