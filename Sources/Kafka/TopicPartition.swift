/// One partition of one topic.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A partition and an offset in it, as Kafka commits them.
///
/// `offset` is **the next offset to read**, Kafka's committed-offset convention: after
/// processing the message at offset 41, commit 42. `init(after:)` does that `+ 1` for you,
/// so code that tracks "the last message done" should build commits with it.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    /// The next offset to read in `partition` (the last processed offset + 1).
    public var offset: Int64

    /// - Parameter offset: the next offset to read (last processed + 1).
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// - Parameter offset: the next offset to read (last processed + 1).
    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.init(topic: topicPartition.topic, partition: topicPartition.partition, offset: offset)
    }

    /// The offset to commit once `message` (and everything before it in its partition)
    /// is done: `message.offset + 1`.
    public init(after message: KafkaMessage) {
        self.init(topic: message.topic, partition: message.partition, offset: message.offset + 1)
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// Kafka record headers in wire order: names may repeat, and a value may be null
/// (which is not the same as empty).
public typealias KafkaHeaders = [(name: String, value: [UInt8]?)]
