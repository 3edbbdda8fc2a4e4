import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// What a deletion leaves beside a file's (removed) manifest: which version was deleted and
/// when. A job for that version, or an older one, that finishes later must not bring the
/// outputs back; a newer version of the original clears it.
public struct Tombstone: Codable, Sendable, Equatable {
    public var fileId: String
    public var deletedAt: Date
    /// The deleted version's ETag: the deletion's, or the removed manifest's.
    public var etag: String?
    /// The S3 `sequencer` of the removal record.
    public var sequencer: String?
    public var bucket: String?
    public var key: String?
    public var instance: String

    public init(fileId: String, deletedAt: Date, etag: String?, sequencer: String?, bucket: String?, key: String?, instance: String) {
        self.fileId = fileId
        self.deletedAt = deletedAt
        self.etag = etag
        self.sequencer = sequencer
        self.bucket = bucket
        self.key = key
        self.instance = instance
    }

    /// The version of an original a job is about to process or has processed.
    public struct Version: Sendable, Equatable {
        public var etag: String?
        /// The upload's S3 `sequencer`, when it came from a bucket notification.
        public var sequencer: String?
        /// The object's `Last-Modified` as the store reports it.
        public var lastModified: Date?

        public init(etag: String?, sequencer: String?, lastModified: Date?) {
            self.etag = etag
            self.sequencer = sequencer
            self.lastModified = lastModified
        }
    }

    /// The file's tombstone, nil when it has none; retried like any storage call.
    /// - Throws: the store's error when it still cannot tell: a job must then not go on as
    ///   if the file had not been deleted.
    static func stored(fileId: String, sink: ObjectStoreSink, retry: RetryPolicy, logger: Logger) async throws(ObjectStorageError) -> Tombstone? {
        let reader = RecordReader(store: sink.store, bucket: sink.bucket)
        let key = sink.layout.tombstoneKey(fileId: fileId)
        return try await retry.retryingStorage(logger: logger, "reading the file's tombstone") { () async throws(ObjectStorageError) -> Tombstone? in
            try await reader.decodeIfStored(Tombstone.self, key: key)
        }
    }

    /// The failure of a job that cannot tell whether its file was deleted (retryable when
    /// the store's error is).
    static func unreadable(_ error: ObjectStorageError) -> ProcessingIssue {
        StageFailure(.storeFailed, "cannot tell whether the file was deleted: its tombstone could not be read: \(error.description)", retryable: error.isRetryable)
            .issue(stage: "job")
    }

    /// Whether `version` was uploaded after this deletion: then it is a new file under the
    /// same id, processed as usual, and its result clears the tombstone.
    ///
    /// The one rule, strongest evidence first: S3 sequencers of the same key (a greater one is
    /// later); else the original's `Last-Modified` against the deletion's time (whole seconds,
    /// and the store's clock against mediad's); else an ETag other than the deleted one.
    /// Without any of these the version counts as the deleted one.
    public func isSuperseded(by version: Version) -> Bool {
        if let mine = sequencer, let theirs = version.sequencer {
            return Self.sequencer(theirs, isLaterThan: mine)
        }
        if let modified = version.lastModified { return modified > deletedAt }
        if let deleted = etag, let current = version.etag { return deleted != current }
        return false
    }

    /// S3 sequencers are hexadecimal strings of varying length; compared after left-padding
    /// to the same length (AWS: "compare the strings after padding with zeros on the left").
    static func sequencer(_ a: String, isLaterThan b: String) -> Bool {
        let width = max(a.count, b.count)
        let pad = { (s: String) in String(repeating: "0", count: width - s.count) + s.uppercased() }
        return pad(a) > pad(b)
    }
}
