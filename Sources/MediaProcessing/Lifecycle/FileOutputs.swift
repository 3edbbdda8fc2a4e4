import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// The objects mediad keeps for one file in its derivatives bucket, found and removed
/// through the layout alone: deletions, overwrites and `gc` never touch a key outside it.
public struct FileOutputs: Sendable {
    public let store: any ObjectStore
    public let bucket: String
    public let layout: DerivativeLayout
    public var retry: RetryPolicy

    public init(store: any ObjectStore, bucket: String, layout: DerivativeLayout, retry: RetryPolicy) {
        self.store = store
        self.bucket = bucket
        self.layout = layout
        self.retry = retry
    }

    /// Every stored object of the file except its tombstone: the folder's listing when the
    /// template gives each file its own (deeper keys belong to other ids such as `a/b`), else
    /// what the manifest lists plus the manifest and the attempt marker.
    public func list(fileId: String, manifest: ProcessedData?) async throws(ObjectStorageError) -> [ObjectInfo] {
        let tombstone = layout.tombstoneKey(fileId: fileId)
        if let prefix = layout.filePrefix(fileId: fileId) {
            return try await retry.retryingStorage { () async throws(ObjectStorageError) -> [ObjectInfo] in
                var found: [ObjectInfo] = []
                for try await object in store.list(bucket: bucket, prefix: prefix)
                where object.key != tombstone && !object.key.dropFirst(prefix.count).contains("/") {
                    found.append(object)
                }
                return found
            }
        }
        var keys = Set(manifest?.derivatives.compactMap(\.key) ?? []).filter { layout.isOutput($0) }
        keys.insert(layout.manifestKey(fileId: fileId))
        keys.insert(layout.attemptMarkerKey(fileId: fileId))
        var found: [ObjectInfo] = []
        for key in keys.sorted() {
            do {
                found.append(try await retry.retryingStorage { () async throws(ObjectStorageError) -> ObjectInfo in try await store.head(bucket: bucket, key: key) })
            } catch where error.code == .notFound {
                continue
            }
        }
        return found
    }

    /// Removes `keys`, each one the layout owns (the store retries transient failures,
    /// of a request or of single keys).
    /// - Returns: the keys removed, and those that could not be.
    public func remove(_ keys: [String]) async throws(ObjectStorageError) -> BatchDeleteResult {
        let owned = keys.filter { layout.isOutput($0) || layout.prefix == nil }
        guard !owned.isEmpty else { return BatchDeleteResult() }
        return try await store.delete(bucket: bucket, keys: owned)
    }
}

extension RetryPolicy {
    /// `retrying` for a body that throws storage errors only, keeping the error's type; each
    /// retry is logged (notice) when a logger is given.
    public func retryingStorage<T: Sendable>(
        logger: Logger? = nil, _ what: String = "a storage request", _ body: () async throws(ObjectStorageError) -> T
    ) async throws(ObjectStorageError) -> T {
        do {
            return try await retrying(onRetry: { attempt, error in
                logger?.notice("\(what) failed, retrying", metadata: ["try": "\(attempt)", "error": "\(error)"])
            }) { try await body() }
        } catch let error as ObjectStorageError {
            throw error
        } catch {
            throw ObjectStorageError(.cancelled, "cancelled while waiting to retry")
        }
    }
}
