import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// Deletes everything mediad made for a file, and leaves a tombstone so a job for the
/// deleted version that finishes later cannot bring it back. Idempotent: deleting again, or
/// deleting a file never processed, removes nothing and reports the same way.
///
/// Order matters against a job running elsewhere: the tombstone is written first, then the
/// folder is listed and emptied, and a job checks for a tombstone after it stored its
/// manifest. Whichever comes second sees the other's writes, so nothing survives.
public struct FileDeletion: Sendable {
    public let store: any ObjectStore
    public let layout: DerivativeLayout
    /// Nil: beside the originals.
    public let derivativesBucket: String?
    public let retry: RetryPolicy
    /// Recorded in the tombstone.
    public let instance: String
    public var logger: Logger

    /// The file to delete.
    public struct Request: Sendable, Equatable {
        public var fileId: String
        /// The original's bucket and key, when known.
        public var bucket: String?
        public var key: String?
        public var etag: String?
        /// Set for bucket notifications: the object under `key` was removed.
        public var sequencer: String?
        /// The removal came from the store itself (the original is gone), not a file service.
        public var originalRemoved: Bool

        public init(fileId: String, bucket: String?, key: String?, etag: String? = nil, sequencer: String? = nil, originalRemoved: Bool = false) {
            self.fileId = fileId
            self.bucket = bucket
            self.key = key
            self.etag = etag
            self.sequencer = sequencer
            self.originalRemoved = originalRemoved
        }
    }

    public init(store: any ObjectStore, layout: DerivativeLayout, derivativesBucket: String?, retry: RetryPolicy, instance: String, logger: Logger) {
        self.store = store
        self.layout = layout
        self.derivativesBucket = derivativesBucket
        self.retry = retry
        self.instance = instance
        self.logger = logger
    }

    /// - Parameter bucket: the derivatives bucket when none is configured and the request
    ///   names none (the daemon's default bucket).
    /// - Throws: `CancellationError` when cancelled before the outcome was complete.
    public func run(_ request: Request, defaultBucket: String) async throws -> DeletionReport {
        let bucket = derivativesBucket ?? request.bucket ?? defaultBucket
        let outputs = FileOutputs(store: store, bucket: bucket, layout: layout, retry: retry)
        let tombstoneKey = layout.tombstoneKey(fileId: request.fileId)
        let now = Date()
        func report(_ status: DeletionReport.Status, removed: [ObjectInfo] = [], errors: [ProcessingIssue] = []) -> DeletionReport {
            DeletionReport(
                fileId: request.fileId, bucket: request.bucket, key: request.key, status: status, derivativesBucket: bucket,
                removed: removed.map(\.key).sorted(), bytesReclaimed: removed.map(\.size).reduce(0, +), tombstone: tombstoneKey,
                errors: errors, deletedAt: now)
        }
        func failed(_ stage: String, _ error: ObjectStorageError) throws -> DeletionReport {
            if error.code == .cancelled || Task.isCancelled { throw CancellationError() }
            return report(.failed, errors: [ProcessingIssue(stage: stage, code: .storeFailed, message: error.description, retryable: error.isRetryable)])
        }

        // A removal announced by the store is stale when the key holds an object again: that
        // object is a later upload, and its outputs stay.
        if request.originalRemoved, let sourceBucket = request.bucket, let key = request.key {
            if let current = try? await retry.retryingStorage(logger: logger, "reading the original's metadata") { () async throws(ObjectStorageError) -> ObjectInfo in try await store.head(bucket: sourceBucket, key: key) } {
                logger.info("removal superseded by a later upload", metadata: ["etag": "\(current.etag ?? "-")"])
                return report(.superseded)
            }
        }

        let records = RecordReader(store: store, bucket: bucket)
        let manifest = await records.manifest(layout.manifestKey(fileId: request.fileId))
        let previous = await records.decode(Tombstone.self, key: tombstoneKey)
        let tombstone = Tombstone(
            fileId: request.fileId, deletedAt: now, etag: request.etag ?? manifest?.source.etag ?? previous?.etag,
            sequencer: Self.later(request.sequencer, previous?.sequencer), bucket: request.bucket ?? previous?.bucket,
            key: request.key ?? previous?.key, instance: instance)
        do {
            let bytes = try ManifestCoding.encoder(pretty: true).encode(tombstone)
            _ = try await retry.retryingStorage(logger: logger, "writing the tombstone") { () async throws(ObjectStorageError) -> ObjectInfo in
                try await store.put(bucket: bucket, key: tombstoneKey, bytes: Array(bytes), options: PutOptions(contentType: "application/json", cacheControl: "no-cache"))
            }
        } catch let error as ObjectStorageError {
            return try failed("tombstone", error)
        }

        let found: [ObjectInfo]
        let result: BatchDeleteResult
        do {
            found = try await outputs.list(fileId: request.fileId, manifest: manifest)
            result = try await outputs.remove(found.map(\.key))
        } catch {
            return try failed("delete", error)
        }
        let removedKeys = Set(result.deleted)
        let removed = found.filter { removedKeys.contains($0.key) }
        guard result.failed.isEmpty else {
            let errors = result.failed.map { ProcessingIssue(stage: "delete", code: .storeFailed, message: "\($0.key): \($0.error)", retryable: $0.error.isRetryable) }
            return report(.failed, removed: removed, errors: errors)
        }
        if let manifest, let digest = manifest.source.sha256 {
            // Copies are independent objects: other holders of the same bytes keep theirs.
            try? await ContentIndex(store: store, bucket: bucket, layout: layout, retry: retry)
                .remove(fileId: request.fileId, sha256: digest, pipeline: manifest.pipeline.name)
        }
        logger.info("deleted", metadata: ["removed": "\(removed.count)", "bytes": "\(removed.map(\.size).reduce(0, +))"])
        return report(.deleted, removed: removed)
    }

    /// The later of two S3 sequencers.
    static func later(_ a: String?, _ b: String?) -> String? {
        guard let a, let b else { return a ?? b }
        return Tombstone.sequencer(a, isLaterThan: b) ? a : b
    }
}
