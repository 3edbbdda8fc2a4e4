import CRdKafkaShims
import CRdKafka
import Synchronization

/// How far a partition's committed offset is behind its end.
public struct PartitionLag: Hashable, Sendable {
    public var topicPartition: TopicPartition
    /// The oldest offset the broker still keeps.
    public var lowWatermark: Int64
    /// The offset the next produced record will get.
    public var highWatermark: Int64
    /// The group's committed offset ("next to read"), `nil` when none.
    public var committedOffset: Int64?
    /// The next offset this member will hand out on `events`, `nil` before the first fetch.
    public var position: Int64?

    /// Records not yet committed: `highWatermark − committedOffset` (from the low watermark
    /// when nothing is committed), never negative. This is what Kafka tools call lag.
    public var lag: Int64 { max(0, highWatermark - (committedOffset ?? lowWatermark)) }
}

extension KafkaConsumer {
    /// Lag of every assigned partition, asked of the brokers (watermarks and committed
    /// offsets), so it is exact even for paused partitions. Blocking work runs off the
    /// cooperative pool.
    ///
    /// - Throws: `KafkaError` when a broker does not answer within `timeout`.
    public func lag(timeout: Duration = .seconds(5)) async throws -> [PartitionLag] {
        let partitions = assignment.sorted()
        guard !partitions.isEmpty else { return [] }
        let committed = try await committedOffsets(for: partitions, timeout: timeout)
        let client = core.client
        return try await core.executor.run {
            try client.withHandle { handle in
                let positions = RDKafkaTopicPartitionList(partitions)
                _ = positions.withListPointer { rd_kafka_position(handle, $0) }
                let position = Dictionary(
                    positions.elements.filter { $0.offset >= 0 }.map { ($0.topicPartition, $0.offset) },
                    uniquingKeysWith: { first, _ in first }
                )
                return try partitions.map { partition in
                    var low: Int64 = 0
                    var high: Int64 = 0
                    let err = rd_kafka_query_watermark_offsets(
                        handle, partition.topic, partition.partition, &low, &high, timeout.kafkaTimeoutMilliseconds
                    )
                    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.rdKafka(err, topicPartition: partition) }
                    return PartitionLag(
                        topicPartition: partition, lowWatermark: low, highWatermark: high,
                        committedOffset: committed[partition], position: position[partition]
                    )
                }
            }
        }
    }

    /// The latest librdkafka statistics (every `statisticsInterval`), or `nil` when
    /// statistics are off or none arrived yet. Cheap: no broker round trip.
    public var statistics: KafkaConsumerStatistics? {
        core.client.context.statisticsJSON.flatMap(KafkaConsumerStatistics.init(json:))
    }
}
