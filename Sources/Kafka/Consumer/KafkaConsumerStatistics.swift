import Foundation

/// The per-partition part of librdkafka's statistics JSON
/// (https://github.com/confluentinc/librdkafka/blob/v2.0.2/STATISTICS.md).
public struct KafkaConsumerStatistics: Sendable {
    public struct Partition: Hashable, Sendable {
        public var topicPartition: TopicPartition
        /// `consumer_lag`: high watermark − committed offset; `nil` when librdkafka reports
        /// -1 (not assigned, or either end unknown yet).
        public var consumerLag: Int64?
        /// `hi_offset`, `nil` when unknown.
        public var highWatermark: Int64?
        /// `committed_offset`, `nil` when none.
        public var committedOffset: Int64?
        /// `app_offset`: the next offset handed to the application, `nil` when none.
        public var position: Int64?
    }

    /// Partitions of the subscribed topics librdkafka knows, sorted.
    public var partitions: [Partition]
    /// The raw JSON, for anything else it holds.
    public var json: String

    /// `consumerLag` of the partitions that have one.
    public var consumerLag: [TopicPartition: Int64] {
        let lags = partitions.compactMap { partition in partition.consumerLag.map { (partition.topicPartition, $0) } }
        return Dictionary(lags, uniquingKeysWith: max)
    }

    /// Parses `topics.*.partitions.*`; `nil` for JSON that is not librdkafka's statistics.
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        self.json = json
        var partitions: [Partition] = []
        let topics = object["topics"] as? [String: Any] ?? [:]
        for (topic, value) in topics {
            guard let byPartition = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (key, value) in byPartition {
                guard let number = Int32(key), number >= 0, let fields = value as? [String: Any] else { continue }
                func offset(_ name: String) -> Int64? {
                    guard let value = (fields[name] as? NSNumber)?.int64Value, value >= 0 else { return nil }
                    return value
                }
                partitions.append(Partition(
                    topicPartition: TopicPartition(topic: topic, partition: number),
                    consumerLag: offset("consumer_lag"),
                    highWatermark: offset("hi_offset"),
                    committedOffset: offset("committed_offset"),
                    position: offset("app_offset")
                ))
            }
        }
        self.partitions = partitions.sorted { $0.topicPartition < $1.topicPartition }
    }
}
