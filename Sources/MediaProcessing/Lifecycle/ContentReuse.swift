import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// An upload whose bytes were already processed by the same pipeline version gets its
/// outputs by server-side copy from a file that has them: nothing is downloaded again into a
/// decoder, nothing is encoded. Copies are independent objects, so deleting either file
/// never breaks the other.
public struct ContentReuse: Sendable {
    public let store: any ObjectStore
    public let sink: ObjectStoreSink
    public let retry: RetryPolicy
    public var logger: Logger

    public init(store: any ObjectStore, sink: ObjectStoreSink, retry: RetryPolicy, logger: Logger) {
        self.store = store
        self.sink = sink
        self.retry = retry
        self.logger = logger
    }

    public var index: ContentIndex {
        ContentIndex(store: store, bucket: sink.bucket, layout: sink.layout, retry: retry, logger: logger)
    }

    /// The job's result made from a holder's outputs, stored with its manifest; nil when no
    /// holder is usable (the caller then processes the file).
    /// - Parameters:
    ///   - source: the original as the store describes it (after a download: with its SHA-256).
    ///   - candidates: the pipelines that may have made the outputs: the one the bytes select,
    ///     or, before any download, every pipeline with `dedupe`.
    ///   - sameMD5: before a download, only a holder whose bytes have the original's MD5 (its
    ///     plain ETag) and size counts: the event's SHA-256 alone is not proof.
    /// - Returns: the result, if a holder was usable, and the index entries read (so the
    ///   job's own index update need not read them again).
    public func reuse(_ job: Job, source: ObjectInfo, sha256: String, candidates: [PipelineDefinition], sameMD5: Bool) async throws -> Lookup {
        let started = ContinuousClock.now
        var lookup = Lookup(sha256: sha256)
        for pipeline in candidates where pipeline.dedupe {
            let found = await index.entry(sha256: sha256, pipeline: pipeline.name)
            lookup.entries[pipeline.name] = .some(found)
            guard let entry = found, entry.pipeline == pipeline.reference, entry.selectedByMatch == (job.pipeline == nil) else { continue }
            for holder in entry.holders where holder.fileId != job.fileId {
                guard let manifest = await usable(holder, sha256: sha256, pipeline: pipeline.reference) else { continue }
                if sameMD5, manifest.source.md5 != source.etag || manifest.source.size != source.size { continue }
                do {
                    lookup.data = try await copy(manifest, holder: holder, to: job, source: source, started: started)
                    return lookup
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.notice("cannot reuse outputs; trying the next holder", metadata: ["from": "\(holder.fileId)", "error": "\(error)"])
                }
            }
        }
        return lookup
    }

    /// What a reuse attempt found.
    public struct Lookup: Sendable {
        public var sha256: String
        /// The result made from a holder's outputs.
        public var data: ProcessedData?
        /// The index entry read per pipeline name (nil inside: there was none).
        public var entries: [String: ContentIndex.Entry?] = [:]
    }

    /// The holder's manifest, if it still describes these bytes made by this version, all
    /// of it stored.
    func usable(_ holder: ContentIndex.Holder, sha256: String, pipeline: PipelineReference) async -> ProcessedData? {
        let key = sink.layout.manifestKey(fileId: holder.fileId)
        guard let manifest = await RecordReader(store: store, bucket: holder.bucket).manifest(key),
              manifest.fileId == holder.fileId, manifest.source.sha256 == sha256, manifest.pipeline == pipeline,
              manifest.status == .succeeded, manifest.errors.isEmpty
        else { return nil }
        return manifest
    }

    private func copy(_ holding: ProcessedData, holder: ContentIndex.Holder, to job: Job, source: ObjectInfo, started: ContinuousClock.Instant) async throws -> ProcessedData {
        var derivatives: [Derivative] = []
        for var derivative in holding.derivatives {
            if let key = derivative.key {
                let ext = (key as NSString).pathExtension
                let target = sink.key(fileId: job.fileId, name: derivative.name, fileExtension: ext)
                let from = ObjectAddress(bucket: derivative.bucket ?? holder.bucket, key: key)
                _ = try await retry.retryingStorage(logger: logger, "copying \(derivative.name)") { () async throws(ObjectStorageError) -> ObjectInfo in
                    try await store.copy(from: from, to: sink.bucket, key: target)
                }
                derivative.bucket = sink.bucket
                derivative.key = target
            }
            derivatives.append(derivative)
        }
        var data = ProcessedData(
            fileId: job.fileId, ownerId: job.ownerId, albumId: job.albumId, status: .succeeded,
            source: SourceInfo(
                bucket: job.bucket, key: job.key, size: holding.source.size, mediaType: holding.source.mediaType,
                contentType: holding.source.contentType, declaredContentType: job.contentType ?? source.contentType, etag: source.etag,
                sha256: holding.source.sha256, md5: holding.source.md5),
            pipeline: holding.pipeline, metadata: holding.metadata, derivatives: derivatives,
            warnings: holding.warnings.filter { $0.code != StageFailure.Code.contentTypeMismatch.rawValue },
            attempt: job.attempt)
        data.reusedFrom = ReusedOutputs(fileId: holder.fileId, bucket: holding.source.bucket, key: holding.source.key)
        let elapsed = started.duration(to: .now).milliseconds
        data.timings = ["reuse": elapsed, "total": elapsed]
        let manifest = try ManifestCoding.encoder(pretty: true).encode(data)
        _ = try await retry.retrying(onRetry: { attempt, error in
            logger.notice("storing the manifest failed, retrying", metadata: ["try": "\(attempt)", "error": "\(error)"])
        }) { try await sink.storeManifest(manifest, fileId: job.fileId) }
        logger.info("outputs reused", metadata: ["from": "\(holder.fileId)", "ms": "\(elapsed)"])
        return data
    }
}
