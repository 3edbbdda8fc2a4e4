import Events
import Foundation
import Kafka
import Logging
import MediaProcessing
import ObjectStorage
import PipelineEngine
import ServiceLifecycle
import Synchronization
import Workers

/// `mediad serve`: consumes `file.uploaded`, runs each upload's job on the bounded pool,
/// emits `media.processed` (or dead-letters what cannot be processed), and commits each
/// partition only up to the first message without a recorded outcome.
///
/// Backfill work from `mediad reprocess --publish` arrives on its own topic through a second
/// consumer (group `<group>-reprocess`) and only gets spare capacity (`AdmissionGate`), so a
/// bulk reprocess never starves fresh uploads.
///
/// Shutdown (SIGTERM/SIGINT through the service group): stop taking messages, let
/// in-flight jobs finish within `shutdownTimeout` (then cancel them), commit, close the
/// consumers, flush and close the producer.
public final class MediaDaemon: Service, Sendable {
    let configuration: DaemonConfiguration
    let consumer: KafkaConsumer
    /// Consumes `reprocessTopic`; nil when that topic is disabled (empty).
    let backfillConsumer: KafkaConsumer?
    let producer: KafkaProducer
    let jobs: JobRunner
    let intake: EventIntake
    let metrics: DaemonMetrics
    let logger: Logger
    let tracker: OffsetTracker
    let gate: AdmissionGate
    let fileLocks = FileLocks()
    private let status = Mutex(Status())
    /// Worker figures at the last metrics update, to turn totals into counter increments.
    private let lastWorkerStatistics = Mutex(WorkerSupervisor.Statistics())

    struct Status {
        var assigned = false
        /// The upload consumer took part in a rebalance (even one that gave it nothing).
        var joined = false
        var stopping = false
    }

    /// - Parameter consumerFactory: makes a consumer for a group id with the daemon's revoke hook.
    public init(
        configuration: DaemonConfiguration, jobs: JobRunner, producer: KafkaProducer, metrics: DaemonMetrics, logger: Logger,
        consumerFactory: (_ groupID: String, _ onRevoke: @escaping KafkaRevokeHook) throws -> KafkaConsumer
    ) throws {
        let tracker = OffsetTracker()
        self.configuration = configuration
        self.jobs = jobs
        self.producer = producer
        self.metrics = metrics
        self.logger = logger
        self.tracker = tracker
        self.gate = AdmissionGate(capacity: configuration.concurrency + configuration.effectiveQueueDepth, backfillCapacity: configuration.concurrency)
        self.intake = EventIntake(
            uploadType: configuration.uploadEventType, allowedBuckets: Set(configuration.allowedBuckets),
            ignoredKeyPrefixes: [DerivativeLayout(template: configuration.keyTemplate).prefix].compactMap { $0 })
        // Runs on the consumer's polling thread: commit what is done, forget the rest.
        let revokeHook: KafkaRevokeHook = { revocation in
            let partitions = revocation.partitions.map { OffsetTracker.Partition(topic: $0.topic, partition: Int($0.partition)) }
            let done = tracker.committable().filter { partitions.contains($0.key) }
            tracker.revoke(partitions)
            return done.map { TopicPartitionOffset(topic: $0.key.topic, partition: Int32($0.key.partition), offset: $0.value) }
        }
        self.consumer = try consumerFactory(configuration.group, revokeHook)
        self.backfillConsumer = configuration.reprocessTopic.isEmpty ? nil : try consumerFactory(configuration.reprocessGroup, revokeHook)
    }

    /// The most messages admitted at once (running plus waiting for a worker).
    public var peakAdmitted: Int { gate.peak }

    /// The most backfill messages admitted at once (never more than the worker slots).
    public var peakBackfillAdmitted: Int { gate.backfillPeak }

    /// The bound on admitted messages: worker slots plus the queue depth.
    public var admissionCapacity: Int { gate.capacity }

    /// Whether the upload consumer holds partitions.
    public var isAssigned: Bool { status.withLock { $0.assigned } }

    /// Whether the upload consumer is a member of its group (for `/readyz`): an instance
    /// beyond the partition count is a ready standby, not a failed one.
    public var hasJoinedGroup: Bool { status.withLock { $0.joined } }

    public func run() async throws {
        await jobs.processor.executor.start()
        defer { jobs.processor.executor.shutdown() }
        try await consumer.subscribe(topics: [configuration.topic])
        logger.info("consuming", metadata: ["topic": "\(configuration.topic)", "group": "\(configuration.group)", "brokers": "\(configuration.brokers)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.commitPeriodically() }
                if let backfill = self.backfillConsumer {
                    group.addTask { await self.consumeBackfill(backfill) }
                }
                await self.consume(consumer, priority: .upload, into: &group)
                // Shutdown: no new work; give in-flight jobs their deadline, then cancel them.
                self.status.withLock { $0.stopping = true }
                self.backfillConsumer?.pauseAll()
                await self.drain(timeout: self.configuration.shutdownTimeout)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.status.withLock { $0.stopping = true }
            self.consumer.pauseAll()
            self.backfillConsumer?.pauseAll()
        }
        await commit()
        await consumer.close()
        await backfillConsumer?.close()
        do {
            try await producer.flush(timeout: .seconds(10))
        } catch {
            logger.error("producer flush failed at shutdown", metadata: ["error": "\(error)"])
        }
        await producer.close()
        logger.info("stopped", metadata: ["committed": "\(tracker.inFlight == 0 ? "all" : "up to \(tracker.inFlight) unfinished")"])
    }

    private var isStopping: Bool { status.withLock { $0.stopping } }

    /// Subscribes to the reprocess topic once uploads have their partitions (or after a grace
    /// period, for an instance that gets none), so that at start uploads are fetched first.
    private func consumeBackfill(_ backfill: KafkaConsumer) async {
        let deadline = ContinuousClock.now + .seconds(10)
        while !isAssigned, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
        guard !Task.isCancelled, !isStopping else { return }
        do {
            try await backfill.subscribe(topics: [configuration.reprocessTopic])
        } catch {
            logger.error("cannot subscribe to the reprocess topic", metadata: ["topic": "\(configuration.reprocessTopic)", "error": "\(error)"])
            return
        }
        logger.info("consuming backfill with spare capacity", metadata: ["topic": "\(configuration.reprocessTopic)", "group": "\(configuration.reprocessGroup)"])
        await withDiscardingTaskGroup { jobs in
            await consume(backfill, priority: .backfill, into: &jobs)
        }
    }

    private func consume(_ consumer: KafkaConsumer, priority: AdmissionGate.Priority, into group: inout DiscardingTaskGroup) async {
        for await event in consumer.events.cancelOnGracefulShutdown() {
            if isStopping { break }
            switch event {
            case .message(let message):
                if gate.isFull(for: priority) {
                    // Backpressure: stop fetching, keep polling (the member stays in the group).
                    consumer.pauseAll()
                    if priority == .upload { metrics.paused(true) }
                    await gate.admit(priority)
                    if !isStopping { consumer.resumeAll() }
                    if priority == .upload { metrics.paused(false) }
                } else {
                    await gate.admit(priority)
                }
                if isStopping {
                    gate.release(priority)
                    break
                }
                let partition = OffsetTracker.Partition(topic: message.topic, partition: Int(message.partition))
                tracker.started(partition, offset: message.offset)
                metrics.consumed(topic: message.topic)
                recordLoad()
                group.addTask {
                    defer {
                        self.gate.release(priority)
                        self.recordLoad()
                    }
                    if await self.handle(message) {
                        self.tracker.finished(partition, offset: message.offset)
                    }
                }
            case .partitionsAssigned(let partitions):
                if priority == .upload {
                    status.withLock {
                        $0.assigned = !consumer.assignment.isEmpty
                        $0.joined = true
                    }
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions)"])
            case .partitionsRevoked(let partitions, let lost):
                if priority == .upload {
                    status.withLock {
                        $0.assigned = !consumer.assignment.isEmpty
                        if lost { $0.joined = false }
                    }
                }
                tracker.revoke(partitions.map { OffsetTracker.Partition(topic: $0.topic, partition: Int($0.partition)) })
                logger.notice("partitions revoked", metadata: ["partitions": "\(partitions)", "lost": "\(lost)"])
            case .error(let error):
                logger.error("consumer error", metadata: ["error": "\(error)"])
                if error.isFatal { return }
            }
        }
    }

    /// Jobs admitted, and jobs waiting for a worker slot, for `/metrics`.
    private func recordLoad() {
        metrics.jobsInFlight(gate.admitted)
        metrics.queueDepth(jobs.processor.pool.snapshot.waitingJobs)
    }

    /// Waits for in-flight jobs to finish, at most `timeout`.
    private func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while gate.admitted > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if gate.admitted > 0 {
            logger.warning("shutdown deadline reached: cancelling in-flight jobs; their messages will be redelivered", metadata: ["jobs": "\(gate.admitted)"])
        }
    }

    private func commitPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await commit()
            recordLag()
            recordWorkers()
        }
    }

    private func recordWorkers() {
        guard let now = jobs.processor.executor.workerStatistics else { return }
        let last = lastWorkerStatistics.withLock { last in
            defer { last = now }
            return last
        }
        metrics.workers(now: now, since: last)
    }

    /// Consumer lag of each owned partition, from librdkafka's latest statistics (no broker
    /// round trip; they refresh every `statisticsInterval`).
    private func recordLag() {
        for consumer in [consumer, backfillConsumer].compactMap({ $0 }) {
            guard let lags = consumer.statistics?.consumerLag else { continue }
            let owned = consumer.assignment
            for (partition, lag) in lags where lag >= 0 && owned.contains(partition) {
                metrics.consumerLag(topic: partition.topic, partition: Int(partition.partition), lag: lag)
            }
        }
    }

    /// Commits each partition up to its first message without an outcome.
    func commit() async {
        let offsets = tracker.committable()
        guard !offsets.isEmpty else { return }
        // Each consumer commits its own topic's partitions, in its own group.
        let byConsumer = Dictionary(grouping: offsets) { $0.key.topic == configuration.reprocessTopic }
        for (isBackfill, part) in byConsumer {
            guard let owner = isBackfill ? backfillConsumer : consumer else { continue }
            let committed = Dictionary(uniqueKeysWithValues: part.map { ($0.key, $0.value) })
            do {
                try await owner.commit(part.map { TopicPartitionOffset(topic: $0.key.topic, partition: Int32($0.key.partition), offset: $0.value) })
                tracker.didCommit(committed)
            } catch {
                logger.warning("commit failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

}
