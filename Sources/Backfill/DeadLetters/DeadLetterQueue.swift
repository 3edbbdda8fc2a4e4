import Events
import Foundation
import Kafka
import Logging

/// `mediad dlq`: reads the dead-letter topic to its end, and replays dead letters to the
/// topic they came from once the cause is fixed.
///
/// Replay progress is the committed offset of the consumer group `replayGroup`: a replay run
/// considers the dead letters after it, replays those its filter picks, and commits the end,
/// so each dead letter is offered to a filtered replay once. Replaying chosen positions
/// (`--offset`) works anywhere in the topic and leaves that mark alone. A message that has
/// already been replayed `maxReplays` times is refused, so a message that keeps failing
/// cannot loop between the topics for ever.
public struct DeadLetterQueue: Sendable {
    public var brokers: [String]
    public var topic: String
    /// The group whose committed offsets mark how far replays have gone.
    public var replayGroup: String
    /// librdkafka settings passed through (security, SASL).
    public var kafkaOptions: [String: String]
    /// How long reading to the end may take, group join included.
    public var timeout: Duration
    public var logger: Logger

    public init(brokers: [String], topic: String, replayGroup: String, kafkaOptions: [String: String] = [:], timeout: Duration = .seconds(60), logger: Logger) {
        self.brokers = brokers
        self.topic = topic
        self.replayGroup = replayGroup
        self.kafkaOptions = kafkaOptions
        self.timeout = timeout
        self.logger = logger
    }

    /// Which dead letters a replay sends back.
    public enum Selection: Sendable, Hashable {
        /// Those after the replay mark whose code is in the set (empty: every code).
        case pending(codes: Set<String>)
        /// Exactly these, wherever they are.
        case positions(Set<DeadLetterPosition>)
    }

    /// The whole topic, and how far replays have gone in each partition.
    public struct Listing: Sendable {
        public var entries: [DeadLetterEntry]
        /// Per partition, the first offset no replay run has considered yet.
        public var replayMark: [Int32: Int64]

        /// True when a replay run already considered this entry.
        public func isPassed(_ entry: DeadLetterEntry) -> Bool {
            entry.position.offset < (replayMark[entry.position.partition] ?? 0)
        }
    }

    public typealias ReplayReport = DeadLetterReplayReport

    /// Every dead letter from the beginning of the topic (read with a throwaway group that
    /// commits nothing), with the replay mark.
    public func list() async throws -> Listing {
        var entries: [DeadLetterEntry] = []
        let partitions = try await scan(groupID: "mediad-dlq-list-\(UUID().uuidString.prefix(8))", fromCommitted: false) { message in
            entries.append(DeadLetterEntry(message))
        }
        let marks = try await replayMarks(partitions: partitions)
        return Listing(entries: entries.sorted { $0.position < $1.position }, replayMark: marks)
    }

    /// Sends the selected dead letters back to their original topics with
    /// `mediad-replay-count` incremented, waiting for each delivery.
    public func replay(_ selection: Selection, producer: KafkaProducer, maxReplays: Int, dryRun: Bool) async throws -> ReplayReport {
        var report = ReplayReport()
        var wanted: Set<DeadLetterPosition> = []
        if case .positions(let positions) = selection { wanted = positions }
        var seen: Set<DeadLetterPosition> = []
        let fromMark: Bool = if case .pending = selection { true } else { false }
        let groupID = fromMark ? replayGroup : "mediad-dlq-replay-\(UUID().uuidString.prefix(8))"
        _ = try await scan(groupID: groupID, fromCommitted: fromMark, commitAtEnd: fromMark && !dryRun) { message in
            let entry = DeadLetterEntry(message)
            seen.insert(entry.position)
            let picked = switch selection {
            case .pending(let codes): codes.isEmpty || codes.contains(entry.code)
            case .positions(let positions): positions.contains(entry.position)
            }
            guard picked else {
                report.passedOver += 1
                return
            }
            guard let original = entry.originalTopic, !original.isEmpty else {
                report.refused.append((entry, "no \(DeadLetter.Header.originalTopic) header"))
                return
            }
            if let refusal = entry.replayLimitRefusal(maxReplays: maxReplays) {
                report.refused.append((entry, refusal))
                return
            }
            if !dryRun {
                let record = entry.replayRecord()
                _ = try await producer.send(topic: original, key: record.key, value: record.value, headers: record.headers)
                logger.info("replayed", metadata: ["from": "\(entry.position)", "to": "\(original)", "code": "\(entry.code)", "replay": "\(entry.replayCount + 1)"])
            }
            report.replayed.append(entry)
        }
        report.notFound = wanted.subtracting(seen).sorted().map(\.description)
        return report
    }

    /// The replay group's committed offsets for the topic's partitions.
    func replayMarks(partitions: [TopicPartition]) async throws -> [Int32: Int64] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: replayGroup)
        configuration.options = kafkaOptions
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let committed: [TopicPartition: Int64]
        do {
            committed = try await consumer.committedOffsets(for: partitions)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return Dictionary(uniqueKeysWithValues: committed.map { ($0.key.partition, $0.value) })
    }

    /// Reads every assigned partition from its start (the group's committed offset, or the
    /// beginning) to the end it had when reading began, calling `body` for each message.
    /// - Returns: the topic's partitions.
    @discardableResult
    func scan(groupID: String, fromCommitted: Bool, commitAtEnd: Bool = false, _ body: (KafkaMessage) async throws -> Void) async throws -> [TopicPartition] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: groupID)
        configuration.options = kafkaOptions
        configuration.sessionTimeout = .seconds(10)
        configuration.autoOffsetReset = .earliest
        configuration.assignmentStrategy = .range
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            let partitions = try await scan(consumer, fromCommitted: fromCommitted, commitAtEnd: commitAtEnd, body)
            await consumer.close()
            return partitions
        } catch {
            await consumer.close()
            throw error
        }
    }

    private func scan(_ consumer: KafkaConsumer, fromCommitted: Bool, commitAtEnd: Bool, _ body: (KafkaMessage) async throws -> Void) async throws -> [TopicPartition] {
        try await consumer.subscribe(topics: [topic])
        let deadline = ContinuousClock.now + timeout
        var ends: [TopicPartition: Int64] = [:]
        var next: [TopicPartition: Int64] = [:]
        var partitions: [TopicPartition] = []
        var assigned = false
        // At the deadline the consumer is closed, which ends its events even when none come
        // (topic missing, broker away).
        let watchdog = Task {
            try await Task.sleep(until: deadline)
            await consumer.close()
        }
        defer { watchdog.cancel() }
        func finished() -> Bool { assigned && ends.allSatisfy { (next[$0.key] ?? 0) >= $0.value } }
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned:
                let lags = try await consumer.lag()
                for lag in lags {
                    ends[lag.topicPartition] = lag.highWatermark
                    next[lag.topicPartition] = fromCommitted ? (lag.committedOffset ?? lag.lowWatermark) : lag.lowWatermark
                }
                partitions = lags.map(\.topicPartition)
                assigned = !lags.isEmpty
            case .message(let message):
                let partition = TopicPartition(topic: message.topic, partition: message.partition)
                guard let end = ends[partition], message.offset < end else { continue }
                try await body(message)
                next[partition] = message.offset + 1
            case .partitionsRevoked:
                break
            case .error(let error):
                if error.isFatal { throw error }
                logger.debug("consumer error", metadata: ["error": "\(error)"])
            }
            if finished() { break }
        }
        guard assigned else {
            throw DeadLetterQueueError.noPartitions(topic: topic)
        }
        guard finished() else {
            throw DeadLetterQueueError.incomplete(topic: topic, read: next.values.reduce(0, +), end: ends.values.reduce(0, +))
        }
        if commitAtEnd {
            try await consumer.commit(ends.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
        }
        return partitions
    }
}

/// Why the dead-letter topic (or queue) could not be read.
public enum DeadLetterQueueError: Error, Sendable, CustomStringConvertible {
    case noPartitions(topic: String)
    case incomplete(topic: String, read: Int64, end: Int64)
    case noQueue(String)

    public var description: String {
        switch self {
        case .noPartitions(let topic): "no partition of '\(topic)' was assigned in time: does the topic exist, and is the broker reachable?"
        case .incomplete(let topic, let read, let end): "'\(topic)' could not be read to its end in time (at \(read) of \(end))"
        case .noQueue(let queue): "there is no queue '\(queue)' in this vhost: is it the one `mediad serve` declared (amqpURI, amqpDeadLetterQueue)?"
        }
    }
}
