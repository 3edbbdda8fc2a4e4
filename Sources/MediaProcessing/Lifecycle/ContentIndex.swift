import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// For some bytes (a SHA-256) and a pipeline, the files whose stored outputs were made from
/// exactly those bytes by that pipeline's version: what an identical upload copies instead of
/// decoding. One small object per digest and pipeline, beside the outputs.
///
/// The index is a hint, never trusted: a holder is used only if its manifest still describes
/// those bytes and that version (see `ContentReuse`). Updates are read-modify-write without a
/// lock, so concurrent uploads of the same bytes may drop a holder; that costs a decode later,
/// never a wrong output.
public struct ContentIndex: Sendable {
    public let store: any ObjectStore
    public let bucket: String
    public let layout: DerivativeLayout
    public let retry: RetryPolicy
    /// Where retries are logged.
    public var logger: Logger?

    /// The most holders one entry keeps (newest first): enough to survive deletions.
    static let maxHolders = 64

    public struct Entry: Codable, Sendable, Equatable {
        public var sha256: String
        /// The pipeline version the holders' outputs were made by.
        public var pipeline: PipelineReference
        /// The pipeline was the one the bytes select, not one a request forced.
        public var selectedByMatch: Bool
        public var holders: [Holder]
    }

    public struct Holder: Codable, Sendable, Equatable {
        public var fileId: String
        /// Where its manifest and outputs are.
        public var bucket: String
        public var recordedAt: Date
    }

    public init(store: any ObjectStore, bucket: String, layout: DerivativeLayout, retry: RetryPolicy, logger: Logger? = nil) {
        self.store = store
        self.bucket = bucket
        self.layout = layout
        self.retry = retry
        self.logger = logger
    }

    public func entry(sha256: String, pipeline: String) async -> Entry? {
        guard let key = layout.contentIndexKey(sha256: sha256, pipeline: pipeline) else { return nil }
        return await RecordReader(store: store, bucket: bucket).decode(Entry.self, key: key)
    }

    /// Records `fileId` as holding outputs of these bytes by `pipeline`; an entry of another
    /// version is replaced.
    /// - Parameter known: the entry as read moments ago (nil: read it now).
    public func add(fileId: String, sha256: String, pipeline: PipelineReference, selectedByMatch: Bool, known: Entry?? = nil) async throws(ObjectStorageError) {
        guard let key = layout.contentIndexKey(sha256: sha256, pipeline: pipeline.name) else { return }
        var entry: Entry?
        if let known { entry = known } else { entry = await self.entry(sha256: sha256, pipeline: pipeline.name) }
        if entry?.pipeline != pipeline || entry?.selectedByMatch != selectedByMatch { entry = nil }
        var holders = entry?.holders.filter { $0.fileId != fileId } ?? []
        holders.insert(Holder(fileId: fileId, bucket: bucket, recordedAt: Date()), at: 0)
        try await write(Entry(sha256: sha256, pipeline: pipeline, selectedByMatch: selectedByMatch, holders: Array(holders.prefix(Self.maxHolders))), key: key)
    }

    /// Forgets `fileId` (deleted, or its bytes changed); the entry goes with its last holder.
    public func remove(fileId: String, sha256: String, pipeline: String) async throws(ObjectStorageError) {
        guard let key = layout.contentIndexKey(sha256: sha256, pipeline: pipeline),
              var entry = await entry(sha256: sha256, pipeline: pipeline),
              entry.holders.contains(where: { $0.fileId == fileId })
        else { return }
        entry.holders.removeAll { $0.fileId == fileId }
        if entry.holders.isEmpty {
            try await retry.retryingStorage(logger: logger, "updating the content index") { () async throws(ObjectStorageError) in try await store.delete(bucket: bucket, key: key) }
        } else {
            try await write(entry, key: key)
        }
    }

    private func write(_ entry: Entry, key: String) async throws(ObjectStorageError) {
        let bytes: Data
        do { bytes = try ManifestCoding.encoder().encode(entry) } catch { throw ObjectStorageError(.invalidArgument, "cannot encode the content index entry") }
        _ = try await retry.retryingStorage(logger: logger, "updating the content index") { () async throws(ObjectStorageError) -> ObjectInfo in
            try await store.put(bucket: bucket, key: key, bytes: Array(bytes), options: PutOptions(contentType: "application/json", cacheControl: "no-cache"))
        }
    }
}
