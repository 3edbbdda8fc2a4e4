/// How a `KafkaConsumer` joins its group and reads. Every default is documented on its
/// property; `options` passes any other librdkafka key through
/// (https://github.com/confluentinc/librdkafka/blob/v2.0.2/CONFIGURATION.md).
///
/// The consumer always commits by hand: it sets `enable.auto.commit=false`,
/// `enable.auto.offset.store=false` and `enable.partition.eof=false` before `options`,
/// so only an explicit entry in `options` changes them.
public struct KafkaConsumerConfiguration: Sendable {
    /// Where a group starts reading a partition it has no committed offset for.
    public enum AutoOffsetReset: String, Sendable {
        /// From the oldest record kept: nothing uploaded before the first start is missed.
        case earliest
        /// Only records produced after the group first joined.
        case latest
        /// Report an error event instead of guessing.
        case error
    }

    /// The group's partition assignor. All members of a group must use the same protocol.
    public struct AssignmentStrategy: Hashable, Sendable, CustomStringConvertible {
        /// librdkafka's `partition.assignment.strategy` value.
        public let rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// Eager: every rebalance revokes every partition, then assigns anew.
        public static let range = AssignmentStrategy(rawValue: "range")
        /// Eager, spreading partitions one by one.
        public static let roundRobin = AssignmentStrategy(rawValue: "roundrobin")
        /// Incremental (KIP-429): a rebalance revokes only the partitions that move, so the
        /// other partitions keep their in-flight work.
        public static let cooperativeSticky = AssignmentStrategy(rawValue: "cooperative-sticky")

        public var description: String { rawValue }
    }

    /// `bootstrap.servers`: `host:port` of one or more brokers.
    public var bootstrapServers: [String]
    /// `group.id`: members with the same id share the topic's partitions.
    public var groupID: String
    /// `client.id`, shown in broker logs and librdkafka's log lines. Default `mediad`.
    public var clientID: String = "mediad"
    /// `session.timeout.ms`: a member silent this long is dropped from the group.
    /// Default 45 s (librdkafka's). The mock cluster waits `sessionTimeout − 1 s` before each
    /// rebalance after the first, so tests use about 6 s.
    public var sessionTimeout: Duration = .seconds(45)
    /// `heartbeat.interval.ms`. Default 3 s (librdkafka's); keep it under a third of `sessionTimeout`.
    public var heartbeatInterval: Duration = .seconds(3)
    /// `max.poll.interval.ms`. Default 300 s. The polling thread polls continuously (also
    /// while partitions are paused), so in practice this only trips if that thread stalls.
    public var maxPollInterval: Duration = .seconds(300)
    /// `auto.offset.reset`. Default `.earliest` (librdkafka's is latest): a new group
    /// processes what was uploaded before it first started.
    public var autoOffsetReset: AutoOffsetReset = .earliest
    /// `partition.assignment.strategy`. Default `.cooperativeSticky`, so that a member
    /// joining or leaving does not revoke (and drop the in-flight work of) every partition.
    public var assignmentStrategy: AssignmentStrategy = .cooperativeSticky
    /// `statistics.interval.ms`; `nil` (the default) disables statistics.
    /// When set, `KafkaConsumer.statistics` holds the latest per-partition lag.
    public var statisticsInterval: Duration? = nil
    /// How long one `rd_kafka_consumer_poll` waits. Bounds how quickly `pause`, `resume`
    /// and `close` take effect when nothing arrives. Default 100 ms.
    public var pollTimeout: Duration = .milliseconds(100)
    /// Events buffered for the reader of `events` before the consumer pauses every assigned
    /// partition (resuming at half), so memory stays bounded when the reader falls behind.
    /// Default 1000. librdkafka's own prefetch is bounded by `queued.max.messages.kbytes`.
    public var maxBufferedMessages: Int = 1_000
    /// How long `close()` waits for librdkafka: once for leaving the group (the revoke hook
    /// runs then) and once for destroying the handle. Default 10 s.
    public var closeTimeout: Duration = .seconds(10)
    /// Any librdkafka configuration key, applied last (it wins over every field above).
    public var options: [String: String] = [:]

    public init(bootstrapServers: [String], groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// The librdkafka settings, in the order they are applied.
    var librdkafkaSettings: [(key: String, value: String)] {
        var settings: [(key: String, value: String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("group.id", groupID),
            ("client.id", clientID),
            ("session.timeout.ms", String(sessionTimeout.kafkaMilliseconds)),
            ("heartbeat.interval.ms", String(heartbeatInterval.kafkaMilliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.kafkaMilliseconds)),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("partition.assignment.strategy", assignmentStrategy.rawValue),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"),
        ]
        if let statisticsInterval {
            settings.append(("statistics.interval.ms", String(statisticsInterval.kafkaMilliseconds)))
        }
        settings += options.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return settings
    }
}

extension Duration {
    /// Whole milliseconds (rounded down), as librdkafka's `*.ms` keys and timeouts take them.
    var kafkaMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// Milliseconds clamped to `Int32`, for librdkafka's `int timeout_ms` parameters.
    var kafkaTimeoutMilliseconds: Int32 {
        Int32(clamping: max(0, kafkaMilliseconds))
    }
}
