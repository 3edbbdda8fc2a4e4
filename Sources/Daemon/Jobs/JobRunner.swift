import Events
import Foundation
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// One upload, from event to result: download the original, verify it, run its pipeline,
/// store derivatives and the manifest. A redelivered event whose source and pipeline
/// version match an existing manifest is answered from the manifest, without recomputing.
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
        public var bytesIn: Int64
        public var bytesOut: Int64
        /// The attempt marker to clear once the outcome is recorded.
        public var ticket: AttemptLedger.Ticket? = nil
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
    public func run(_ event: UploadEvent, bucket: String, attempt: Int, weight: Int = 1) async throws -> Outcome {
        var logger = logger
        logger[metadataKey: "fileId"] = "\(event.fileId)"
        let sink = ObjectStoreSink(store: store, bucket: settings.derivativesBucket ?? bucket, layout: DerivativeLayout(template: settings.keyTemplate))

        // 1. The source as it is now: its ETag tells whether a manifest still describes it.
        let head: ObjectInfo
        do {
            head = try await retrying("reading the source's metadata") { () async throws(ObjectStorageError) -> ObjectInfo in
                try await store.head(bucket: bucket, key: event.key)
            }
        } catch let error as ObjectStorageError {
            // Shutdown or Ctrl-C is not a storage failure: no outcome, the work is redone later.
            if error.code == .cancelled || Task.isCancelled { throw CancellationError() }
            return Outcome(data: failure(event, bucket: bucket, attempt: attempt, stage: "download", error: error), reused: false, bytesIn: 0, bytesOut: 0)
        }
        if !event.force, let reused = await existingResult(for: event, head: head, sink: sink, attempt: attempt) {
            logger.info("answered from the manifest", metadata: ["pipeline": "\(reused.pipeline.name) v\(reused.pipeline.version)"])
            return Outcome(data: reused, reused: true, bytesIn: 0, bytesOut: 0)
        }

        // 2. The poison-file guard: starts that ended in deaths of the daemon.
        let ticket = TicketBox()
        var onStart: (@Sendable () async -> Void)?
        if let ledger {
            switch await ledger.admit(fileId: event.fileId, etag: head.etag, sink: sink) {
            case .poisoned(let marker):
                logger.error("poison file: not run again", metadata: ["attempts": "\(marker.attempts)", "lastInstance": "\(marker.instance)"])
                let issue = StageFailure(
                    .poisonFile,
                    "the file was being processed during \(marker.attempts) deaths of mediad (last on \(marker.instance) at \(ManifestCoding.timestamp(marker.startedAt))); it is not run again until its marker is removed or a new version is uploaded")
                    .issue(stage: "job")
                return Outcome(data: failure(event, bucket: bucket, attempt: attempt, issue: issue), reused: false, bytesIn: 0, bytesOut: 0)
            case .run(let previous):
                // Counted when the decoding starts, once per job, however often it is redone;
                // written beside the decoding, so the slot never waits on storage.
                let etag = head.etag, fileId = event.fileId, jobLogger = logger
                onStart = {
                    ticket.startOnce { await ledger.start(fileId: fileId, etag: etag, previous: previous, sink: sink, logger: jobLogger) }
                }
            }
        }
        do {
            var outcome = try await download(event, bucket: bucket, sink: sink, attempt: attempt, weight: weight, onStart: onStart, logger: logger)
            outcome.ticket = await ticket.value
            return outcome
        } catch {
            if let started = await ticket.value { await ledger?.abandon(started) }
            throw error
        }
    }

    private func download(
        _ event: UploadEvent, bucket: String, sink: ObjectStoreSink, attempt: Int, weight: Int, onStart: (@Sendable () async -> Void)?, logger: Logger
    ) async throws -> Outcome {
        // 3. Download to a private file, checking size and ETag against the event.
        let file = settings.scratchDirectory.appendingPathComponent("mediad-source-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let expectation = ObjectExpectation(size: event.size, etag: event.etag.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) })
        let info: ObjectInfo
        do {
            info = try await retrying("downloading") { () async throws(ObjectStorageError) -> ObjectInfo in
                try await store.get(bucket: bucket, key: event.key, to: file, expecting: expectation)
            }
        } catch let error as ObjectStorageError {
            // Shutdown or Ctrl-C is not a storage failure: no outcome, the work is redone later.
            if error.code == .cancelled || Task.isCancelled { throw CancellationError() }
            return Outcome(data: failure(event, bucket: bucket, attempt: attempt, stage: "download", error: error), reused: false, bytesIn: 0, bytesOut: 0)
        }

        // 4. Process; storage failures inside are retryable and retried here with backoff.
        var request = ProcessingRequest(
            file: file, fileId: event.fileId, ownerId: event.ownerId, albumId: event.albumId, sourceBucket: bucket,
            sourceKey: event.key, etag: info.etag, declaredContentType: event.contentType ?? info.contentType,
            pipelineOverride: event.pipeline, expectedSHA256: event.sha256, attempt: attempt, weight: weight)
        request.willStart = onStart
        // The processor logs with this job's logger, so its lines name the file and the
        // Kafka message (topic, partition, offset) like the daemon's own.
        var processor = processor
        processor.logger = logger
        processor.storeRetry = retryPolicy
        // Outputs that failed to store were retried on their own; a transient failure of the
        // work itself (scratch disk, a job deadline) is worth running the job again.
        let redo = { (data: ProcessedData) in data.errors.contains { $0.retryable && $0.code != ProcessingIssue.storeFailed } }
        var data = try await processor.process(request, sink: sink)
        var tries = 1
        while redo(data), tries < settings.retryAttempts {
            try await Task.sleep(for: retryPolicy.delay(afterAttempt: tries))
            tries += 1
            logger.notice("retrying after transient failures", metadata: ["try": "\(tries)", "errors": "\(data.errors.filter(\.retryable).map(\.code))"])
            data = try await processor.process(request, sink: sink)
        }
        try Task.checkCancellation()
        let bytesOut = data.derivatives.compactMap(\.bytes).reduce(0, +)
        return Outcome(data: data, reused: false, bytesIn: info.size, bytesOut: bytesOut)
    }

    /// The stored manifest, if it describes this very source (same ETag, and sha256 when the
    /// event gives one) made by the current version of its pipeline, and did not fail transiently.
    func existingResult(for event: UploadEvent, head: ObjectInfo, sink: ObjectStoreSink, attempt: Int) async -> ProcessedData? {
        let key = sink.layout.manifestKey(fileId: event.fileId)
        guard let (_, bytes) = try? await store.getBytes(bucket: sink.bucket, key: key, maxSize: 8 << 20),
              var manifest = try? ManifestCoding.decoder().decode(ProcessedData.self, from: Data(bytes)),
              ManifestFreshness.judge(
                .init(manifest), etag: head.etag, sha256: event.sha256, requestedPipeline: event.pipeline, pipelines: processor.pipelines) == .current
        else { return nil }
        manifest.attempt = attempt
        manifest.ownerId = event.ownerId ?? manifest.ownerId
        manifest.albumId = event.albumId ?? manifest.albumId
        return manifest
    }

    /// Retries transient storage failures (5xx, throttling, timeouts, resets) with
    /// exponential backoff and jitter; anything else fails at once.
    func retrying<T: Sendable>(_ what: String, _ body: () async throws(ObjectStorageError) -> T) async throws -> T {
        try await retryPolicy.retrying(onRetry: { attempt, error in
            logger.notice("\(what) failed, retrying", metadata: ["try": "\(attempt)", "error": "\(error)"])
        }) { try await body() }
    }

    /// The job's retry policy: `retryAttempts` from `retryBaseDelay`, doubling, with jitter,
    /// each wait at most 30 s.
    var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: settings.retryAttempts, baseDelay: settings.retryBaseDelay, maxDelay: .seconds(30))
    }

    private func failure(_ event: UploadEvent, bucket: String, attempt: Int, stage: String, error: ObjectStorageError) -> ProcessedData {
        failure(event, bucket: bucket, attempt: attempt, issue: SourceFailure.issue(for: error, stage: stage))
    }

    /// A job that failed before its pipeline ran.
    func failure(_ event: UploadEvent, bucket: String, attempt: Int, issue: ProcessingIssue) -> ProcessedData {
        .failed(
            fileId: event.fileId, ownerId: event.ownerId, albumId: event.albumId,
            source: SourceInfo(bucket: bucket, key: event.key, size: event.size ?? 0, mediaType: .other, contentType: "application/octet-stream", declaredContentType: event.contentType, etag: event.etag),
            pipeline: PipelineReference(name: event.pipeline ?? "none", version: 0), issue, attempt: attempt)
    }
}
