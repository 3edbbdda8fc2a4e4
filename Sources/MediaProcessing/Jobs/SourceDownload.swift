import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// Reads a job's original from the object store: its metadata, and its bytes into a private
/// scratch file checked against what the job announced (size, ETag). Transient failures are
/// retried with the job's policy; what still cannot be read becomes the issue its result
/// carries. The one download of the daemon, `reprocess` and `mediad process s3://`.
public struct SourceDownload: Sendable {
    public let store: any ObjectStore
    public var retry: RetryPolicy
    public var scratchDirectory: URL
    public var logger: Logger

    /// Why a source could not be read.
    public enum Failure: Error, Sendable {
        /// Shutdown or Ctrl-C: not the source's fault, so no outcome (the work is redone later).
        case cancelled
        /// The source is missing, forbidden, changed or unreachable after the retries.
        case unreadable(ProcessingIssue)
    }

    /// A downloaded original; `discard()` removes the scratch file.
    public struct Downloaded: Sendable {
        public var file: URL
        public var info: ObjectInfo

        public func discard() { try? FileManager.default.removeItem(at: file) }
    }

    public init(store: any ObjectStore, retry: RetryPolicy, scratchDirectory: URL = FileManager.default.temporaryDirectory, logger: Logger) {
        self.store = store
        self.retry = retry
        self.scratchDirectory = scratchDirectory
        self.logger = logger
    }

    /// The source as it is now: its ETag tells whether a manifest still describes it.
    public func head(_ job: Job) async throws(Failure) -> ObjectInfo {
        try await retrying("reading the source's metadata") { () async throws(ObjectStorageError) -> ObjectInfo in
            try await store.head(bucket: job.bucket, key: job.key)
        }
    }

    /// Downloads the original, failing with `source_changed` when it is not what the job
    /// announced.
    public func fetch(_ job: Job) async throws(Failure) -> Downloaded {
        let file = scratchDirectory.appendingPathComponent("mediad-source-\(UUID().uuidString)")
        let expectation = ObjectExpectation(size: job.size, etag: job.etag)
        do {
            let info = try await retrying("downloading") { () async throws(ObjectStorageError) -> ObjectInfo in
                try await store.get(bucket: job.bucket, key: job.key, to: file, expecting: expectation)
            }
            return Downloaded(file: file, info: info)
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
    }

    private func retrying<T: Sendable>(_ what: String, _ body: () async throws(ObjectStorageError) -> T) async throws(Failure) -> T {
        do {
            return try await retry.retrying(onRetry: { attempt, error in
                logger.notice("\(what) failed, retrying", metadata: ["try": "\(attempt)", "error": "\(error)"])
            }) { try await body() }
        } catch let error as ObjectStorageError where error.code != .cancelled && !Task.isCancelled {
            throw .unreadable(SourceFailure.issue(for: error, stage: "download"))
        } catch {
            // Only cancellation is left: the backoff's sleep, or the store's own.
            throw .cancelled
        }
    }
}
