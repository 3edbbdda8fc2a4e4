import Foundation
import Logging
import ObjectStorage
import PipelineEngine

/// One job, from request to result: download the original, verify it, run its pipeline,
/// store derivatives and the manifest. A job whose source and pipeline version match an
/// existing manifest (a redelivered event) is answered from the manifest, without recomputing.
public struct JobRunner: Sendable {
    public let processor: MediaProcessor
    public let store: any ObjectStore
    public let settings: Settings
    /// Counts starts without an outcome, so a file that kills the daemon cannot loop.
    public let ledger: AttemptLedger?
    public var logger: Logger

    /// The parts of the daemon configuration a job needs.
    public struct Settings: Sendable {
        public var derivativesBucket: String?
        public var keyTemplate: String
        public var retryAttempts: Int
        public var retryBaseDelay: Duration
        public var scratchDirectory: URL

        public init(derivativesBucket: String? = nil, keyTemplate: String = DerivativeLayout.defaultTemplate, retryAttempts: Int = 6, retryBaseDelay: Duration = .seconds(1), scratchDirectory: URL = FileManager.default.temporaryDirectory) {
            self.derivativesBucket = derivativesBucket
            self.keyTemplate = keyTemplate
            self.retryAttempts = retryAttempts
            self.retryBaseDelay = retryBaseDelay
            self.scratchDirectory = scratchDirectory
        }
    }

    /// What a job produced, and whether it was recomputed.
    public struct Outcome: Sendable {
        public var data: ProcessedData
        /// True when an existing manifest answered the event.
        public var reused: Bool
        /// True when the outputs were copied from another file with the same bytes.
        public var reusedContent = false
        /// The content index as the job read it.
        var contentLookup: ContentReuse.Lookup? = nil
        public var bytesIn: Int64
        public var bytesOut: Int64
        /// The attempt marker to clear once the outcome is recorded.
        public var ticket: AttemptLedger.Ticket? = nil

        /// A job that ended before its pipeline produced anything.
        public static func failed(_ job: Job, _ issue: ProcessingIssue) -> Outcome {
            Outcome(data: job.failed(issue), reused: false, bytesIn: 0, bytesOut: 0)
        }
    }

    public init(processor: MediaProcessor, store: any ObjectStore, settings: Settings, ledger: AttemptLedger? = nil, logger: Logger) {
        self.processor = processor
        self.store = store
        self.settings = settings
        self.ledger = ledger
        self.logger = logger
    }

    /// The outcome is recorded (emitted, or counted by a backfill): the job's starts no
    /// longer count against the file.
    public func recorded(_ outcome: Outcome) async {
        if let ticket = outcome.ticket { await ledger?.finish(ticket) }
    }

    /// The outcome could not be recorded (shutdown): the start does not count.
    public func abandoned(_ outcome: Outcome) async {
        if let ticket = outcome.ticket { await ledger?.abandon(ticket) }
    }

    /// Runs the job. Bad input and storage failures end in the outcome's `errors`.
    /// - Throws: `CancellationError` only, when cancelled before the outcome was complete
    ///   (a cancelled job has no outcome: its message or file is done again later).
    public func run(_ job: Job) async throws -> Outcome {
        var logger = logger
        logger[metadataKey: "fileId"] = "\(job.fileId)"
        let sink = ObjectStoreSink(store: store, bucket: settings.derivativesBucket ?? job.bucket, layout: DerivativeLayout(template: settings.keyTemplate))
        let source = SourceDownload(store: store, retry: retryPolicy, scratchDirectory: settings.scratchDirectory, logger: logger)

        // 1. The source as it is now: its ETag tells whether a manifest still describes it.
        let head: ObjectInfo
        do {
            head = try await source.head(job)
        } catch {
            return try Self.outcome(of: error, job)
        }
        let records: FileRecords
        do {
            records = try await FileRecords.read(fileId: job.fileId, sink: sink, retry: retryPolicy, logger: logger)
        } catch {
            return try Self.unreadableTombstone(error, job, logger: logger, "cannot tell whether the file was deleted: not processed")
        }
        let version = Tombstone.Version(etag: head.etag, sequencer: job.sequencer, lastModified: head.lastModified)
        if let tombstone = records.tombstone, !tombstone.isSuperseded(by: version) {
            logger.info("deleted: not processed", metadata: ["deletedAt": "\(ManifestCoding.timestamp(tombstone.deletedAt))"])
            return .failed(job, Self.deleted(tombstone))
        }
        if !job.force, let reused = current(records.manifest, job: job, head: head) {
            logger.info("answered from the manifest", metadata: ["pipeline": "\(reused.pipeline.name) v\(reused.pipeline.version)"])
            return Outcome(data: reused, reused: true, bytesIn: 0, bytesOut: 0)
        }

        // 2. Bytes already processed under another file id: when the event promises a SHA-256
        //    and the store's ETag is the MD5 a holder's manifest records, copy its outputs
        //    without downloading anything.
        if !job.force, let promised = job.sha256?.lowercased() {
            // The pipeline a video's key or type suggests is looked up first.
            let suggested = { (pipeline: PipelineDefinition) in pipeline.match.mediaTypes.contains(.video) == job.looksLikeVideo }
            let all = processor.pipelines.definitions
            let candidates = job.pipeline.map { name in processor.pipelines.named(name).map { [$0] } ?? [] }
                ?? all.filter(suggested) + all.filter { !suggested($0) }
            let lookup = try await reuse(sink: sink, logger: logger).reuse(job, source: head, sha256: promised, candidates: candidates, sameMD5: true)
            if let data = lookup.data {
                var outcome = Outcome(data: data, reused: false, reusedContent: true, bytesIn: 0, bytesOut: 0)
                outcome.contentLookup = lookup
                return try await settle(outcome, job: job, version: version, previous: records.manifest, sink: sink, logger: logger)
            }
        }

        // 3. The poison-file guard: starts that ended in deaths of the daemon.
        let ticket = TicketBox()
        var onStart: (@Sendable () async -> Void)?
        if let ledger {
            switch ledger.admit(records.marker, etag: head.etag) {
            case .poisoned(let marker):
                logger.error("poison file: not run again", metadata: ["attempts": "\(marker.attempts)", "lastInstance": "\(marker.instance)"])
                let issue = StageFailure(
                    .poisonFile,
                    "the file was being processed during \(marker.attempts) deaths of mediad (last on \(marker.instance) at \(ManifestCoding.timestamp(marker.startedAt))); it is not run again until its marker is removed or a new version is uploaded")
                    .issue(stage: "job")
                return .failed(job, issue)
            case .run(let previous):
                // Counted when the decoding starts, once per job, however often it is redone;
                // written beside the decoding, so the slot never waits on storage.
                let etag = head.etag, fileId = job.fileId, jobLogger = logger
                onStart = {
                    ticket.startOnce { await ledger.start(fileId: fileId, etag: etag, previous: previous, sink: sink, logger: jobLogger) }
                }
            }
        }
        do {
            var outcome = try await process(job, source: source, sink: sink, onStart: onStart, logger: logger)
            outcome.ticket = await ticket.value
            return try await settle(outcome, job: job, version: version, previous: records.manifest, sink: sink, logger: logger)
        } catch {
            if let started = await ticket.value { await ledger?.abandon(started) }
            throw error
        }
    }

    private func process(
        _ job: Job, source: SourceDownload, sink: ObjectStoreSink, onStart: (@Sendable () async -> Void)?, logger: Logger
    ) async throws -> Outcome {
        // 4. Download to a private file, checking size and ETag against the job (and hashing it).
        let downloaded: SourceDownload.Downloaded
        do {
            downloaded = try await source.fetch(job)
        } catch {
            return try Self.outcome(of: error, job)
        }
        defer { downloaded.discard() }

        var request = ProcessingRequest(job, file: downloaded.file, info: downloaded.info)

        // 5. The same bytes, now known by their SHA-256, may have outputs already.
        var lookup: ContentReuse.Lookup?
        if !job.force, let digest = downloaded.info.sha256, job.sha256.map({ $0.lowercased() == digest }) ?? true,
           let pipeline = processor.selectedPipeline(for: request)
        {
            lookup = try await reuse(sink: sink, logger: logger).reuse(job, source: downloaded.info, sha256: digest, candidates: [pipeline], sameMD5: false)
            if let data = lookup?.data {
                var outcome = Outcome(data: data, reused: false, reusedContent: true, bytesIn: downloaded.info.size, bytesOut: 0)
                outcome.contentLookup = lookup
                return outcome
            }
        }

        // 6. Process. Outputs that fail to store are retried on their own, inside.
        request.willStart = onStart
        // The processor logs with this job's logger, so its lines name the file and the
        // Kafka message (topic, partition, offset) like the daemon's own.
        var processor = processor
        processor.logger = logger
        processor.storeRetry = retryPolicy
        // A transient failure of the work itself (scratch disk, a worker's deadline) is worth
        // running the job again, with the same policy's backoff.
        let redo = { (data: ProcessedData) in data.errors.contains { $0.retryable && $0.code != StageFailure.Code.storeFailed.rawValue } }
        var data = try await processor.process(request, sink: sink)
        var tries = 1
        while redo(data), tries < retryPolicy.maxAttempts {
            try await Task.sleep(for: retryPolicy.delay(afterAttempt: tries))
            tries += 1
            logger.notice("retrying after transient failures", metadata: ["try": "\(tries)", "errors": "\(data.errors.filter(\.retryable).map(\.code))"])
            data = try await processor.process(request, sink: sink)
        }
        try Task.checkCancellation()
        let bytesOut = data.derivatives.compactMap(\.bytes).reduce(0, +)
        var outcome = Outcome(data: data, reused: false, bytesIn: downloaded.info.size, bytesOut: bytesOut)
        outcome.contentLookup = lookup
        return outcome
    }

    /// A source that could not be read: a failed outcome, or no outcome when cancelled.
    private static func outcome(of failure: SourceDownload.Failure, _ job: Job) throws -> Outcome {
        switch failure {
        case .cancelled: throw CancellationError()
        case .unreadable(let issue): return .failed(job, issue)
        }
    }

    /// The stored manifest, if it describes this very source (same ETag, and sha256 when the
    /// job gives one) made by the current version of its pipeline, and did not fail transiently.
    func current(_ manifest: ProcessedData?, job: Job, head: ObjectInfo) -> ProcessedData? {
        guard var manifest,
              ManifestFreshness.judge(
                .init(manifest), etag: head.etag, sha256: job.sha256, requestedPipeline: job.pipeline, pipelines: processor.pipelines) == .current
        else { return nil }
        manifest.attempt = job.attempt
        manifest.ownerId = job.ownerId ?? manifest.ownerId
        manifest.albumId = job.albumId ?? manifest.albumId
        return manifest
    }

    /// After the new outputs and manifest are stored: a deletion that came meanwhile (on
    /// another replica) wins, so this job removes what it wrote; a tombstone of an older
    /// version is cleared; derivatives of the previous result that this one no longer has
    /// are removed (unless the new result may still change on a retry).
    private func settle(
        _ outcome: Outcome, job: Job, version: Tombstone.Version, previous: ProcessedData?, sink: ObjectStoreSink, logger: Logger
    ) async throws -> Outcome {
        let outputs = FileOutputs(store: store, bucket: sink.bucket, layout: sink.layout, retry: retryPolicy)
        let tombstoneKey = sink.layout.tombstoneKey(fileId: job.fileId)
        // A deletion may have come while the job ran: when that cannot be told, what the job
        // wrote stays, and the result says it failed (retryable), so it is done again.
        let tombstone: Tombstone?
        do {
            tombstone = try await Tombstone.stored(fileId: job.fileId, sink: sink, retry: retryPolicy, logger: logger)
        } catch {
            var failed = try Self.unreadableTombstone(error, job, logger: logger, "cannot tell whether the file was deleted while it was processed")
            failed.ticket = outcome.ticket
            return failed
        }
        if let tombstone {
            if !tombstone.isSuperseded(by: version) {
                logger.notice("deleted while processing: removing this job's outputs")
                let written = (try? await outputs.list(fileId: job.fileId, manifest: outcome.data)) ?? []
                _ = try? await outputs.remove(written.map(\.key))
                var deleted = Outcome.failed(job, Self.deleted(tombstone))
                deleted.ticket = outcome.ticket
                return deleted
            }
            try? await store.delete(bucket: sink.bucket, key: tombstoneKey)
        }
        await index(outcome.data, job: job, previous: previous, lookup: outcome.contentLookup, sink: sink, logger: logger)
        if let previous, !outcome.data.errors.contains(where: \.retryable) {
            let kept = Set(outcome.data.derivatives.compactMap(\.key))
            let stale = previous.derivatives.compactMap(\.key).filter { !kept.contains($0) }
            if !stale.isEmpty {
                do {
                    let result = try await outputs.remove(stale)
                    logger.info("removed outputs the new result no longer has", metadata: ["keys": "\(result.deleted)"])
                } catch {
                    logger.warning("cannot remove outdated outputs", metadata: ["keys": "\(stale)", "error": "\(error)"])
                }
            }
        }
        return outcome
    }

    private func reuse(sink: ObjectStoreSink, logger: Logger) -> ContentReuse {
        ContentReuse(store: store, sink: sink, retry: retryPolicy, logger: logger)
    }

    /// Keeps the content index true: a succeeded result of a pipeline with `dedupe` makes
    /// the file a holder of its bytes; a file whose bytes (or pipeline) changed is no longer
    /// a holder of the old ones.
    private func index(_ data: ProcessedData, job: Job, previous: ProcessedData?, lookup: ContentReuse.Lookup?, sink: ObjectStoreSink, logger: Logger) async {
        let index = reuse(sink: sink, logger: logger).index
        if let previous, let old = previous.source.sha256, old != data.source.sha256 || previous.pipeline.name != data.pipeline.name {
            try? await index.remove(fileId: job.fileId, sha256: old, pipeline: previous.pipeline.name)
        }
        guard data.status == .succeeded, let digest = data.source.sha256,
              let pipeline = processor.pipelines.named(data.pipeline.name), pipeline.dedupe, pipeline.reference == data.pipeline
        else { return }
        do {
            let known = lookup?.sha256 == digest ? lookup?.entries[data.pipeline.name] : nil
            try await index.add(fileId: job.fileId, sha256: digest, pipeline: data.pipeline, selectedByMatch: job.pipeline == nil, known: known)
        } catch {
            logger.notice("cannot update the content index", metadata: ["error": "\(error)"])
        }
    }

    /// The outcome of a job whose tombstone could not be read; no outcome when cancelled.
    private static func unreadableTombstone(_ error: ObjectStorageError, _ job: Job, logger: Logger, _ message: Logger.Message) throws -> Outcome {
        if error.code == .cancelled || Task.isCancelled { throw CancellationError() }
        logger.error(message, metadata: ["error": "\(error)"])
        return .failed(job, Tombstone.unreadable(error))
    }

    static func deleted(_ tombstone: Tombstone) -> ProcessingIssue {
        StageFailure(.fileDeleted, "the file was deleted at \(ManifestCoding.timestamp(tombstone.deletedAt)); this version is not processed again")
            .issue(stage: "job")
    }

    /// The job's retry policy: `retryAttempts` from `retryBaseDelay`, doubling, with jitter,
    /// each wait at most 30 s.
    public var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: settings.retryAttempts, baseDelay: settings.retryBaseDelay, maxDelay: .seconds(30))
    }
}
