import CRdKafkaShims
import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t`, destroyed in `deinit`.
final class RDKafkaTopicPartitionList {
    /// One element copied out of a C list.
    struct Element: Sendable {
        var topicPartition: TopicPartition
        var offset: Int64
        /// The per-partition result of a commit, position or committed call.
        var error: rd_kafka_resp_err_t
    }

    private let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(capacity: Int = 1) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: max(1, capacity)))
    }

    convenience init(_ partitions: some Collection<TopicPartition>, offset: Int64 = Int64(RD_KAFKA_OFFSET_INVALID)) {
        self.init(capacity: partitions.count)
        for partition in partitions { add(partition, offset: offset) }
    }

    convenience init(_ offsets: some Collection<TopicPartitionOffset>) {
        self.init(capacity: offsets.count)
        for offset in offsets { add(offset.topicPartition, offset: offset.offset) }
    }

    deinit {
        rd_kafka_topic_partition_list_destroy(pointer)
    }

    func add(_ topicPartition: TopicPartition, offset: Int64) {
        let element = rd_kafka_topic_partition_list_add(pointer, topicPartition.topic, topicPartition.partition)
        element?.pointee.offset = offset
    }

    var isEmpty: Bool { pointer.pointee.cnt == 0 }

    /// The elements, copied.
    var elements: [Element] { Self.copy(pointer) }

    /// Calls `body` with the list; the pointer must not escape it.
    func withListPointer<T>(_ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T) rethrows -> T {
        try body(pointer)
    }

    /// Copies the elements of a list librdkafka owns (e.g. the one a rebalance callback gets).
    static func copy(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [Element] {
        guard let list, list.pointee.cnt > 0, let elems = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = elems[index]
            return Element(
                topicPartition: TopicPartition(topic: String(cString: element.topic), partition: element.partition),
                offset: element.offset,
                error: element.err
            )
        }
    }
}
