import Events
import Foundation
import Kafka
import Logging
import MediaProcessing
import ObjectStorage
import ServiceLifecycle
import Synchronization

/// `mediad serve`: consumes `file.uploaded`, runs each upload's job on the bounded pool,
/// emits `media.processed` (or dead-letters what cannot be processed), and commits each
/// partition only up to the first message without a recorded outcome.
///
/// Shutdown (SIGTERM/SIGINT through the service group): stop taking messages, let
/// in-flight jobs finish within `shutdownTimeout` (then cancel them), commit, close the
/// consumer, flush and close the producer.
public final class MediaDaemon: Service, Sendable {
    let configuration: DaemonConfiguration
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let jobs: JobRunner
    let intake: EventIntake
    let metrics: DaemonMetrics
    let logger: Logger
    let tracker: OffsetTracker
    let gate: AdmissionGate
    let fileLocks = FileLocks()
    private let status = Mutex(Status())

    struct Status {
        var assigned = false
        var stopping = false
    }

    /// - Parameter consumerFactory: makes the consumer with the daemon's revoke hook.
    public init(
        configuration: DaemonConfiguration, jobs: JobRunner, producer: KafkaProducer, metrics: DaemonMetrics, logger: Logger,
        consumerFactory: (@escaping KafkaRevokeHook) throws -> KafkaConsumer
    ) throws {
        let tracker = OffsetTracker()
        self.configuration = configuration
        self.jobs = jobs
        self.producer = producer
        self.metrics = metrics
        self.logger = logger
        self.tracker = tracker
        self.gate = AdmissionGate(capacity: configuration.concurrency + configuration.effectiveQueueDepth)
        self.intake = EventIntake(
            uploadType: configuration.uploadEventType, allowedBuckets: Set(configuration.allowedBuckets),
            ignoredKeyPrefixes: [Self.ownOutputPrefix(configuration.keyTemplate)].compactMap { $0 })
        self.consumer = try consumerFactory { revocation in
            // Runs on the consumer's polling thread: commit what is done, forget the rest.
            let partitions = revocation.partitions.map { OffsetTracker.Partition(topic: $0.topic, partition: Int($0.partition)) }
            let done = tracker.committable().filter { partitions.contains($0.key) }
            tracker.revoke(partitions)
            return done.map { TopicPartitionOffset(topic: $0.key.topic, partition: Int32($0.key.partition), offset: $0.value) }
        }
    }

    /// The most messages admitted at once (running plus waiting for a worker).
    public var peakAdmitted: Int { gate.peak }

    /// The bound on admitted messages: worker slots plus the queue depth.
    public var admissionCapacity: Int { gate.capacity }

    /// Whether the consumer holds partitions (for `/readyz`).
    public var isAssigned: Bool { status.withLock { $0.assigned } }

    public func run() async throws {
        try await consumer.subscribe(topics: [configuration.topic])
        logger.info("consuming", metadata: ["topic": "\(configuration.topic)", "group": "\(configuration.group)", "brokers": "\(configuration.brokers)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.commitPeriodically() }
                await self.consume(into: &group)
                // Shutdown: no new work; give in-flight jobs their deadline, then cancel them.
                await self.drain(timeout: self.configuration.shutdownTimeout)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.status.withLock { $0.stopping = true }
            self.consumer.pauseAll()
        }
        await commit()
        await consumer.close()
        do {
            try await producer.flush(timeout: .seconds(10))
        } catch {
            logger.error("producer flush failed at shutdown", metadata: ["error": "\(error)"])
        }
        await producer.close()
        logger.info("stopped", metadata: ["committed": "\(tracker.inFlight == 0 ? "all" : "up to \(tracker.inFlight) unfinished")"])
    }

    private var isStopping: Bool { status.withLock { $0.stopping } }

    private func consume(into group: inout DiscardingTaskGroup) async {
        for await event in consumer.events.cancelOnGracefulShutdown() {
            if isStopping { break }
            switch event {
            case .message(let message):
                if gate.isFull {
                    // Backpressure: stop fetching, keep polling (the member stays in the group).
                    consumer.pauseAll()
                    metrics.paused(true)
                    await gate.admit()
                    if !isStopping { consumer.resumeAll() }
                    metrics.paused(false)
                } else {
                    await gate.admit()
                }
                if isStopping {
                    gate.release()
                    break
                }
                let partition = OffsetTracker.Partition(topic: message.topic, partition: Int(message.partition))
                tracker.started(partition, offset: message.offset)
                metrics.consumed(topic: message.topic)
                metrics.jobsInFlight(gate.admitted)
                group.addTask {
                    defer {
                        self.gate.release()
                        self.metrics.jobsInFlight(self.gate.admitted)
                    }
                    if await self.handle(message) {
                        self.tracker.finished(partition, offset: message.offset)
                    }
                }
            case .partitionsAssigned(let partitions):
                status.withLock { $0.assigned = !consumer.assignment.isEmpty }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions)"])
            case .partitionsRevoked(let partitions, let lost):
                status.withLock { $0.assigned = !consumer.assignment.isEmpty }
                tracker.revoke(partitions.map { OffsetTracker.Partition(topic: $0.topic, partition: Int($0.partition)) })
                logger.notice("partitions revoked", metadata: ["partitions": "\(partitions)", "lost": "\(lost)"])
            case .error(let error):
                logger.error("consumer error", metadata: ["error": "\(error)"])
                if error.isFatal { return }
            }
        }
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
        }
    }

    /// Commits each partition up to its first message without an outcome.
    func commit() async {
        let offsets = tracker.committable()
        guard !offsets.isEmpty else { return }
        do {
            try await consumer.commit(offsets.map { TopicPartitionOffset(topic: $0.key.topic, partition: Int32($0.key.partition), offset: $0.value) })
            tracker.didCommit(offsets)
        } catch {
            logger.warning("commit failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// The fixed prefix of the derivative key template: notifications for keys under it are
    /// mediad's own outputs.
    static func ownOutputPrefix(_ template: String) -> String? {
        guard let brace = template.firstIndex(of: "{") else { return nil }
        let prefix = String(template[..<brace])
        return prefix.isEmpty ? nil : prefix
    }
}
