import Events
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// The Kafka transport: a consumer group for uploads (and a second group, `<group>-reprocess`,
/// for backfill work), one producer for outcomes, and offsets committed per partition only
/// up to the first message without a recorded outcome (`OffsetTracker`).
public final class KafkaTransport: DaemonTransport {
    public struct Topics: Sendable {
        public var uploads: String
        /// Empty: the backfill lane is off.
        public var reprocess: String
        public var results: String
        public var deadLetters: String
    }

    let topics: Topics
    let uploads: KafkaConsumer
    let backfill: KafkaConsumer?
    /// The producer of outcomes; replaced after a fatal error (`publish`).
    private let producers: Mutex<KafkaProducer>
    private let makeProducer: @Sendable () throws -> KafkaProducer
    let tracker: OffsetTracker
    let metrics: DaemonMetrics
    let logger: Logger
    private let status = Mutex(Status())

    private struct Status {
        var assigned = false
        /// The upload consumer took part in a rebalance (even one that gave it nothing).
        var joined = false
        var stopping = false
        var ticks = 0
    }

    /// - Parameters:
    ///   - producerFactory: makes the producer, and its replacement after a fatal error.
    ///   - consumerFactory: makes the consumer of a lane with the transport's revocation
    ///     hook, which commits what is settled before partitions move away.
    public init(
        topics: Topics, metrics: DaemonMetrics, logger: Logger,
        producerFactory: @escaping @Sendable () throws -> KafkaProducer,
        consumerFactory: (_ lane: IntakeLane, _ onRevoke: @escaping KafkaRevokeHook) throws -> KafkaConsumer
    ) throws {
        let tracker = OffsetTracker()
        self.topics = topics
        makeProducer = producerFactory
        producers = Mutex(try producerFactory())
        self.tracker = tracker
        self.metrics = metrics
        self.logger = logger
        // Runs on the consumer's polling thread: commit what is done, forget the rest.
        let revokeHook: KafkaRevokeHook = { revocation in
            let partitions = revocation.partitions.map { OffsetTracker.Partition(topic: $0.topic, partition: Int($0.partition)) }
            return tracker.revoke(partitions).map { TopicPartitionOffset(topic: $0.key.topic, partition: Int32($0.key.partition), offset: $0.value) }
        }
        uploads = try consumerFactory(.uploads, revokeHook)
        backfill = topics.reprocess.isEmpty ? nil : try consumerFactory(.backfill, revokeHook)
    }

    public var summary: String { "kafka: \(topics.uploads) → \(topics.results)" }

    public func hasLane(_ lane: IntakeLane) -> Bool { lane == .uploads || backfill != nil }

    /// Whether the upload consumer holds partitions.
    public var isAssigned: Bool { status.withLock { $0.assigned } }

    /// Whether the upload consumer is a member of its group: an instance beyond the
    /// partition count is a ready standby, not a failed one.
    public var hasJoinedGroup: Bool { status.withLock { $0.joined } }

    public var readiness: [String: Bool] { ["consumer in group": hasJoinedGroup] }

    /// Offsets delivered but not yet settled.
    public var unsettled: Int { tracker.inFlight }

    public func start() async throws {
        try await uploads.subscribe(topics: [topics.uploads])
    }

    public func consume(_ lane: IntakeLane, receive: (InboundMessage) async -> Bool) async {
        guard let consumer = lane == .uploads ? uploads : backfill else { return }
        if lane == .backfill, !(await subscribeBackfill(consumer)) { return }
        for await event in consumer.events.cancelOnGracefulShutdown() {
            if status.withLock({ $0.stopping }) { break }
            switch event {
            case .message(let message):
                let partition = OffsetTracker.Partition(topic: message.topic, partition: Int(message.partition))
                guard tracker.started(partition, offset: message.offset) else {
                    logger.debug("record of a revoked partition dropped; its next owner reads it", metadata: ["partition": "\(partition)", "offset": "\(message.offset)"])
                    continue
                }
                let tracker = tracker
                let inbound = InboundMessage(
                    key: message.key, value: message.value ?? [], headers: message.headers.map { ($0.name, $0.value) },
                    source: message.topic, partition: Int(message.partition), position: message.offset,
                    settle: { tracker.finished(partition, offset: message.offset) })
                guard await receive(inbound) else { return }
            case .partitionsAssigned(let partitions):
                tracker.assigned(partitions.map { OffsetTracker.Partition(topic: $0.topic, partition: Int($0.partition)) })
                if lane == .uploads {
                    status.withLock {
                        $0.assigned = !consumer.assignment.isEmpty
                        $0.joined = true
                    }
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions)"])
            case .partitionsRevoked(let partitions, let lost):
                if lane == .uploads {
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

    /// Subscribes to the reprocess topic once uploads have their partitions (or after a grace
    /// period, for an instance that gets none), so that at start uploads are fetched first.
    private func subscribeBackfill(_ consumer: KafkaConsumer) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !isAssigned, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
        guard !Task.isCancelled, !status.withLock({ $0.stopping }) else { return false }
        do {
            try await consumer.subscribe(topics: [topics.reprocess])
        } catch {
            logger.error("cannot subscribe to the reprocess topic", metadata: ["topic": "\(topics.reprocess)", "error": "\(error)"])
            return false
        }
        logger.info("consuming backfill with spare capacity", metadata: ["topic": "\(topics.reprocess)"])
        return true
    }

    public func pause(_ lane: IntakeLane) {
        (lane == .uploads ? uploads : backfill)?.pauseAll()
    }

    public func resume(_ lane: IntakeLane) {
        guard !status.withLock({ $0.stopping }) else { return }
        (lane == .uploads ? uploads : backfill)?.resumeAll()
    }

    var producer: KafkaProducer { producers.withLock { $0 } }

    /// Waits for the broker's acknowledgement of the record (`acks` as configured).
    ///
    /// A producer with a fatal error never sends again (librdkafka); the idempotent one gets
    /// one when the broker lost records it had acknowledged (`OUT_OF_ORDER_SEQUENCE_NUMBER`).
    /// It is then replaced by a new one (a new producer id) and the error thrown, so the
    /// caller's retry goes through the new producer.
    public func publish(_ record: OutboundRecord, to destination: OutboundDestination) async throws {
        let topic = address(of: destination)
        let producer = producer
        do {
            _ = try await producer.send(topic: topic, key: record.key, value: record.value, headers: record.headers.map { (name: $0.0, value: $0.1) })
        } catch let error as KafkaError where error.isFatal {
            await replace(producer, after: error)
            throw error
        }
    }

    /// Puts a new producer in place of `failed`, unless another caller already did.
    private func replace(_ failed: KafkaProducer, after error: KafkaError) async {
        let replaced = producers.withLock { current -> Bool in
            guard current === failed, !status.withLock({ $0.stopping }), let fresh = try? makeProducer() else { return false }
            current = fresh
            return true
        }
        guard replaced else { return }
        logger.error("producer failed fatally; replaced by a new one", metadata: ["error": "\(error)"])
        await failed.close()
    }

    public func address(of destination: OutboundDestination) -> String {
        switch destination {
        case .intake: topics.uploads
        case .results: topics.results
        case .deadLetters: topics.deadLetters
        }
    }

    /// Commits every second; records lag every 5 s, as often as librdkafka's statistics
    /// (parsing them is the costly part).
    public func maintain() async {
        await commit()
        let due = status.withLock { status in
            status.ticks += 1
            return status.ticks % 5 == 0
        }
        if due { recordLag() }
    }

    public func stopIntake() {
        status.withLock { $0.stopping = true }
        uploads.pauseAll()
        backfill?.pauseAll()
    }

    public func close() async {
        await commit()
        await uploads.close()
        await backfill?.close()
        do {
            try await producer.flush(timeout: .seconds(10))
        } catch {
            logger.error("producer flush failed at shutdown", metadata: ["error": "\(error)"])
        }
        await producer.close()
        logger.info("kafka closed", metadata: ["committed": "\(tracker.inFlight == 0 ? "all" : "up to \(tracker.inFlight) unfinished")"])
    }

    /// Commits each partition up to its first message without an outcome; each consumer
    /// commits its own topic's partitions, in its own group.
    func commit() async {
        let offsets = tracker.committable()
        guard !offsets.isEmpty else { return }
        let byConsumer = Dictionary(grouping: offsets) { $0.key.topic == topics.reprocess }
        for (isBackfill, part) in byConsumer {
            guard let owner = isBackfill ? backfill : uploads else { continue }
            let committed = Dictionary(uniqueKeysWithValues: part.map { ($0.key, $0.value) })
            do {
                try await owner.commit(part.map { TopicPartitionOffset(topic: $0.key.topic, partition: Int32($0.key.partition), offset: $0.value) })
                tracker.didCommit(committed)
            } catch {
                logger.warning("commit failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Consumer lag of each owned partition, from librdkafka's latest statistics (no broker
    /// round trip; they refresh every `statisticsInterval`).
    private func recordLag() {
        for consumer in [uploads, backfill].compactMap({ $0 }) {
            guard let lags = consumer.statistics?.consumerLag else { continue }
            let owned = consumer.assignment
            for (partition, lag) in lags where lag >= 0 && owned.contains(partition) {
                metrics.consumerLag(topic: partition.topic, partition: Int(partition.partition), lag: lag)
            }
        }
    }
}
