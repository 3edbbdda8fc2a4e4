import Events
import Foundation
import Kafka
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine

/// `mediad reprocess`: finds the originals a selection names, decides for each whether it
/// needs new derivatives, and either redoes them here on the bounded worker pool (direct) or
/// publishes `file.reprocess` events that `serve` works through with spare capacity.
public struct ReprocessRunner: Sendable {
    /// Where the work happens.
    public enum Mode: Sendable {
        /// Jobs run in this process; `emit` also announces each result on `media.processed`.
        case direct(jobs: JobRunner, emit: Emitter?)
        /// Each file becomes a `file.reprocess` event, sent to the backfill lane.
        case publishing(to: any ReprocessPublisher)

        /// Each file becomes a `file.reprocess` event on a Kafka topic.
        public static func publish(producer: KafkaProducer, topic: String) -> Mode {
            .publishing(to: KafkaReprocessPublisher(producer: producer, topic: topic))
        }
    }

    /// Produces `media.processed` for direct runs, like the daemon does.
    public struct Emitter: Sendable {
        public var publisher: any ReprocessPublisher
        public var instance: String

        public init(publisher: any ReprocessPublisher, instance: String) {
            self.publisher = publisher
            self.instance = instance
        }

        /// To a Kafka topic.
        public init(producer: KafkaProducer, topic: String, instance: String) {
            self.init(publisher: KafkaReprocessPublisher(producer: producer, topic: topic), instance: instance)
        }
    }

    public let store: any ObjectStore
    public let pipelines: PipelineSet
    public let keyTemplate: String
    /// Bucket of derivatives and manifests; nil: beside the originals.
    public let derivativesBucket: String?
    public let mode: Mode
    /// Files in flight at once (direct: worker slots plus queue; the pool bounds the CPU).
    public let parallelism: Int
    /// Worker slots a video job takes.
    public let videoWeight: Int
    /// The pipeline forced on every file (`--pipeline`).
    public let pipelineOverride: String?
    /// Published events ask `serve` to recompute even current files (`--all`).
    public let force: Bool
    public var logger: Logger

    public init(
        store: any ObjectStore, pipelines: PipelineSet, keyTemplate: String, derivativesBucket: String?, mode: Mode, parallelism: Int,
        videoWeight: Int = 2, pipelineOverride: String? = nil, force: Bool = false, logger: Logger
    ) {
        self.store = store
        self.pipelines = pipelines
        self.keyTemplate = keyTemplate
        self.derivativesBucket = derivativesBucket
        self.mode = mode
        self.parallelism = max(1, parallelism)
        self.videoWeight = videoWeight
        self.pipelineOverride = pipelineOverride
        self.force = force
        self.logger = logger
    }

    // MARK: Planning

    /// Every candidate of the selection with its decision, in listing order. Reads the
    /// manifests once; writes nothing.
    /// - Parameter checkpoint: an earlier run's record: its finished files are skipped, its
    ///   unfinished ones redone.
    public func plan(_ selection: ReprocessSelection, checkpoint: ReprocessCheckpoint? = nil) async throws(ReprocessError) -> ReprocessPlan {
        let finished = checkpoint?.finished ?? [:]
        let unfinished = checkpoint?.unfinished ?? []
        if let name = selection.pipeline, pipelines.named(name) == nil {
            throw .selection("no pipeline named '\(name)' (have: \(pipelines.definitions.map(\.name).joined(separator: ", ")))")
        }
        let layout = DerivativeLayout(template: keyTemplate)
        var plan = ReprocessPlan()
        var indexes: [String: ManifestIndex] = [:]
        func index(for bucket: String) async throws(ReprocessError) -> ManifestIndex {
            if let known = indexes[bucket] { return known }
            do {
                let loaded = try await ManifestIndex.load(store: store, bucket: derivativesBucket ?? bucket, keyTemplate: keyTemplate)
                plan.unreadableManifests += loaded.unreadable
                indexes[bucket] = loaded
                return loaded
            } catch {
                throw .storage("cannot list the manifests in \(derivativesBucket ?? bucket): \(error)")
            }
        }

        var selectedForWork = 0
        func consider(_ object: ObjectInfo) async throws(ReprocessError) {
            guard selection.admits(lastModified: object.lastModified), !layout.isOutput(object.key) else { return }
            let manifest = try await index(for: object.bucket).entry(bucket: object.bucket, key: object.key)
            let candidate = ReprocessCandidate(
                bucket: object.bucket, key: object.key, size: object.size, etag: object.etag.map(ManifestIndex.bareETag),
                fileId: manifest?.fileId ?? UploadEvent.stableFileId(bucket: object.bucket, key: object.key),
                ownerId: manifest?.ownerId, albumId: manifest?.albumId)
            var decision = ReprocessDecision.decide(candidate, manifest: manifest, selection: selection, pipelines: pipelines)
            if unfinished.contains(candidate.id), finished[candidate.id] == nil {
                decision = .process(.interrupted)
            }
            if decision.isProcess {
                if finished[candidate.id] != nil {
                    decision = .skip(.doneEarlier)
                } else if let limit = selection.limit, selectedForWork >= limit {
                    decision = .skip(.beyondLimit)
                } else {
                    selectedForWork += 1
                }
            }
            plan.items.append(.init(candidate: candidate, decision: decision))
        }

        switch selection.source {
        case .prefix(let bucket, let prefix):
            do {
                for try await object in store.list(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix) {
                    try await consider(object)
                }
            } catch let error as ReprocessError {
                throw error
            } catch {
                throw .storage("cannot list s3://\(bucket)/\(prefix): \(error)")
            }
        case .keyFile(let bucket, let path):
            for (bucketName, key) in try Self.readKeyFile(path, bucket: bucket) {
                do {
                    try await consider(try await store.head(bucket: bucketName, key: key))
                } catch let error as ObjectStorageError where error.code == .notFound || error.code == .noSuchBucket {
                    plan.missing.append("\(bucketName)/\(key)")
                } catch let error as ReprocessError {
                    throw error
                } catch {
                    throw .storage("cannot read s3://\(bucketName)/\(key): \(error)")
                }
            }
        }
        return plan
    }

    /// Lines of `key` or `s3://bucket/key`; blank lines and `#` comments are skipped.
    static func readKeyFile(_ path: String, bucket: String) throws(ReprocessError) -> [(String, String)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .selection("cannot read the key file \(path)") }
        return text.split(whereSeparator: \.isNewline).compactMap { line -> (String, String)? in
            let entry = line.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty, !entry.hasPrefix("#") else { return nil }
            if entry.hasPrefix("s3://") {
                let rest = entry.dropFirst(5)
                guard let slash = rest.firstIndex(of: "/") else { return nil }
                return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
            }
            return (bucket, entry)
        }
    }

    // MARK: Running

    /// Works through the plan's files to process, `parallelism` at a time, recording each
    /// finished one in the checkpoint. Cancellation (Ctrl-C) stops at once; what finished is
    /// in the checkpoint and the summary says the run was interrupted.
    public func run(_ plan: ReprocessPlan, checkpoint: ReprocessCheckpoint?, progress: @Sendable (RunProgress) -> Void = { _ in }) async -> ReprocessSummary {
        let started = ContinuousClock.now
        var summary = ReprocessSummary(selected: plan.items.count + plan.missing.count)
        for item in plan.items {
            if case .skip(let reason) = item.decision { summary.skipped[reason.category, default: 0] += 1 }
        }
        for _ in plan.missing { summary.count(outcome: "failed", codes: [StageFailure.Code.sourceNotFound.rawValue]) }
        let work = plan.items.filter(\.decision.isProcess).map(\.candidate)
        var state = RunProgress(total: work.count, started: started)
        progress(state)

        await withTaskGroup(of: FileOutcome?.self) { group in
            var next = work.makeIterator()
            func startOne() -> Bool {
                guard !Task.isCancelled, let candidate = next.next() else { return false }
                checkpoint?.record(.init(id: candidate.id, fileId: candidate.fileId, outcome: "started", codes: nil))
                group.addTask { await self.handle(candidate) }
                return true
            }
            for _ in 0..<parallelism where !startOne() { break }
            while let finished = await group.next() {
                guard let outcome = finished else { continue }   // cancelled: not done
                summary.count(outcome: outcome.outcome, codes: outcome.codes)
                if outcome.isFinal {
                    checkpoint?.record(.init(id: outcome.candidate.id, fileId: outcome.candidate.fileId, outcome: outcome.outcome, codes: outcome.codes.isEmpty ? nil : outcome.codes))
                }
                state.done += 1
                if outcome.outcome == "failed" { state.failed += 1 }
                state.last = outcome.candidate.id
                progress(state)
                _ = startOne()
            }
        }
        summary.remaining = work.count - state.done
        summary.interrupted = summary.remaining > 0
        summary.elapsed = ContinuousClock.now - started
        if !summary.interrupted { checkpoint?.remove() }
        return summary
    }

    /// What became of one file.
    struct FileOutcome: Sendable {
        var candidate: ReprocessCandidate
        /// `succeeded`, `partial`, `failed` or `published`.
        var outcome: String
        var codes: [String]
        /// False when a rerun should try again (transient errors, an event not delivered).
        var isFinal: Bool

        /// The `media.processed` event of a direct run could not be delivered.
        static let emitFailed = "emit_failed"
        /// The `file.reprocess` event could not be published.
        static let publishFailed = "publish_failed"
    }

    /// Nil when cancelled before an outcome was recorded.
    func handle(_ candidate: ReprocessCandidate) async -> FileOutcome? {
        switch mode {
        case .direct(let jobs, let emitter):
            return await processHere(candidate, jobs: jobs, emitter: emitter)
        case .publishing(let publisher):
            return await publish(candidate, to: publisher)
        }
    }

    private func processHere(_ candidate: ReprocessCandidate, jobs: JobRunner, emitter: Emitter?) async -> FileOutcome? {
        let job = Job(
            fileId: candidate.fileId, bucket: candidate.bucket, key: candidate.key, size: candidate.size, etag: candidate.etag,
            ownerId: candidate.ownerId, albumId: candidate.albumId, pipeline: pipelineOverride, force: true, videoWeight: videoWeight)
        var jobs = jobs
        jobs.logger[metadataKey: "fileId"] = "\(candidate.fileId)"
        guard let outcome = try? await jobs.run(job) else { return nil }
        let data = outcome.data
        var codes = data.errors.map(\.code)
        var isFinal = !data.errors.contains { $0.retryable }
        if let emitter {
            let event = ProcessedEvent(data: data, instance: emitter.instance, time: ManifestCoding.timestamp(Date()))
            let delivered: Bool
            if let record = try? event.record(encoder: ManifestCoding.encoder()) {
                let outbound = OutboundRecord(key: record.key, value: record.value, headers: record.headers, eventType: event.type)
                delivered = await deliver(outbound, to: emitter.publisher)
            } else {
                delivered = false
            }
            if Task.isCancelled, !delivered {
                await jobs.abandoned(outcome)
                return nil
            }
            if !delivered {
                codes.append(FileOutcome.emitFailed)
                isFinal = false
            }
        }
        await jobs.recorded(outcome)
        let status = codes.contains(FileOutcome.emitFailed) ? "failed" : data.status.rawValue
        return FileOutcome(candidate: candidate, outcome: status, codes: codes, isFinal: isFinal)
    }

    private func publish(_ candidate: ReprocessCandidate, to publisher: any ReprocessPublisher) async -> FileOutcome? {
        let request = ReprocessRequest(
            fileId: candidate.fileId, bucket: candidate.bucket, key: candidate.key, size: candidate.size, etag: candidate.etag,
            ownerId: candidate.ownerId, albumId: candidate.albumId, pipeline: pipelineOverride, force: force)
        guard let record = try? request.record(source: "/mediad/reprocess", time: ManifestCoding.timestamp(Date())) else {
            return FileOutcome(candidate: candidate, outcome: "failed", codes: [FileOutcome.publishFailed], isFinal: false)
        }
        let outbound = OutboundRecord(key: record.key, value: record.value, headers: record.headers, eventType: UploadEvent.reprocessType)
        let delivered = await deliver(outbound, to: publisher)
        if Task.isCancelled, !delivered { return nil }
        return delivered
            ? FileOutcome(candidate: candidate, outcome: "published", codes: [], isFinal: true)
            : FileOutcome(candidate: candidate, outcome: "failed", codes: [FileOutcome.publishFailed], isFinal: false)
    }

    /// Sends one record, retrying with backoff for about a minute while the broker is away;
    /// an error the publisher calls final ends it at once.
    private func deliver(_ record: OutboundRecord, to publisher: any ReprocessPublisher) async -> Bool {
        var delay = Duration.milliseconds(200)
        for attempt in 1...8 {
            do {
                try await publisher.send(record)
                return true
            } catch {
                logger.warning("delivery failed", metadata: ["topic": "\(publisher.destination)", "attempt": "\(attempt)", "error": "\(error)"])
                guard publisher.isRetriable(error), (try? await Task.sleep(for: delay)) != nil else { return false }
                delay = min(delay * 2, .seconds(15))
            }
        }
        return false
    }
}

/// The candidates of a selection, each with its decision.
public struct ReprocessPlan: Sendable {
    public struct Item: Sendable, Hashable {
        public var candidate: ReprocessCandidate
        public var decision: ReprocessDecision
    }

    public var items: [Item] = []
    /// Keys of a key file that do not exist.
    public var missing: [String] = []
    /// Manifests that could not be read; their originals count as having none.
    public var unreadableManifests: [String] = []

    public init() {}

    public var toProcess: Int { items.count { $0.decision.isProcess } }
}
