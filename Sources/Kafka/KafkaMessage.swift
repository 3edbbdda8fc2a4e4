/// One record read from Kafka, copied out of librdkafka (no C memory is kept).
public struct KafkaMessage: Sendable, CustomStringConvertible {
    /// When the record was made, as the broker reports it.
    public struct Timestamp: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            /// Set by the producer.
            case createTime
            /// Set by the broker when it appended the record.
            case logAppendTime
        }

        public var kind: Kind
        /// Milliseconds since 1970-01-01T00:00:00Z.
        public var millisecondsSince1970: Int64

        public init(kind: Kind, millisecondsSince1970: Int64) {
            self.kind = kind
            self.millisecondsSince1970 = millisecondsSince1970
        }
    }

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// `nil` for a record without a key.
    public var key: [UInt8]?
    /// `nil` for a null value (a tombstone), which differs from an empty one.
    public var value: [UInt8]?
    /// In wire order; empty when the record has none.
    public var headers: KafkaHeaders
    public var timestamp: Timestamp?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: KafkaHeaders = [], timestamp: Timestamp? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The first header called `name` (`.some(nil)` when present with a null value).
    public func header(_ name: String) -> [UInt8]?? {
        headers.first { $0.name == name }.map(\.value)
    }

    public var description: String {
        let sizes = "key: \(key?.count ?? 0) B, value: \(value?.count ?? 0) B, headers: \(headers.count)"
        return "KafkaMessage(\(topic)[\(partition)]@\(offset), \(sizes))"
    }
}

/// Where the broker stored a produced record.
public struct DeliveryReport: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    /// The record's offset in `partition`.
    public var offset: Int64
    public var timestamp: KafkaMessage.Timestamp?

    public init(topic: String, partition: Int32, offset: Int64, timestamp: KafkaMessage.Timestamp? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
    }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}
