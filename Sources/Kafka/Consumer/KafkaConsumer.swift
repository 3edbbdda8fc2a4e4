import CRdKafkaShims
import CRdKafka
import Logging
import Synchronization

/// A consumer-group member with manual commits, over librdkafka's high-level consumer.
///
/// A dedicated thread (never Swift's cooperative pool) polls with `rd_kafka_consumer_poll`
/// and delivers records, assignments, revocations and errors on `events`. It keeps polling
/// while partitions are paused, so the member stays in its group however slowly `events`
/// is read; when more than `maxBufferedMessages` records wait unread, it pauses every
/// assigned partition until half of them were read.
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: config, onRevoke: { revocation in
///     tracker.committableOffsets(for: revocation.partitions)  // "next to read" offsets
/// })
/// try await consumer.subscribe(topics: ["file.uploaded"])
/// for await event in consumer.events {
///     switch event {
///     case .message(let message): ...; try await consumer.commit([TopicPartitionOffset(after: message)])
///     case .partitionsAssigned, .partitionsRevoked, .error: ...
///     }
/// }
/// await consumer.close()
/// ```
///
/// Rebalances: both eager (`range`, `roundrobin`) and cooperative (`cooperative-sticky`)
/// protocols are handled (`rd_kafka_rebalance_protocol` picks assign or
/// incremental_assign). On revocation the `onRevoke` hook runs synchronously on the polling
/// thread and the offsets it returns are committed before the partitions are unassigned,
/// except when librdkafka reports the assignment lost.
public final class KafkaConsumer: Sendable {
    let core: ConsumerCore

    /// Creates the librdkafka consumer. Nothing connects until `subscribe`.
    ///
    /// - Parameters:
    ///   - onRevoke: called synchronously when partitions are revoked (see `KafkaRevokeHook`).
    ///   - logger: receives librdkafka's log lines and this consumer's own.
    /// - Throws: `KafkaError` (`.invalidArgument`) for a configuration librdkafka rejects.
    public init(
        configuration: KafkaConsumerConfiguration,
        onRevoke: KafkaRevokeHook? = nil,
        logger: Logger = Logger(label: "mediad.kafka.consumer")
    ) throws {
        core = try ConsumerCore(configuration: configuration, revokeHook: onRevoke, logger: logger)
    }

    /// Without `close()`, the polling thread still leaves the group and destroys the handle
    /// in the background (the revoke hook runs then too).
    deinit {
        core.closeInBackground()
    }

    /// Records, assignments, revocations and errors, in order. Finishes after `close()`.
    public var events: KafkaConsumerEvents { KafkaConsumerEvents(buffer: core.buffer) }

    /// Subscribes to `topics` (replacing any earlier subscription) and starts polling.
    ///
    /// - Throws: `KafkaError` if librdkafka rejects the subscription, or after `close()`.
    public func subscribe(topics: [String]) async throws {
        let client = core.client
        try await core.executor.run {
            try client.withHandle { handle in
                let list = RDKafkaTopicPartitionList(topics.map { TopicPartition(topic: $0, partition: -1) })
                let err = list.withListPointer { rd_kafka_subscribe(handle, $0) }
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError.rdKafka(err, message: "subscribe \(topics): \(String(cString: rd_kafka_err2str(err)))")
                }
            }
        }
        core.subscribed.store(true, ordering: .releasing)
        try core.startPolling()
    }

    /// The partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { core.flow.withLock { $0.assignment } }

    /// Stops fetching `partitions` while the member stays in the group. Takes effect at
    /// the next poll (at once if the thread is waiting); records already in `events` still
    /// arrive. A revoked partition forgets its pause.
    public func pause(_ partitions: some Sequence<TopicPartition>) {
        core.updateFlow { $0.paused.formUnion(partitions) }
    }

    /// Fetches `partitions` again from the first record not yet delivered on `events`.
    /// Partitions stay paused while `pauseAll()` is in force.
    public func resume(_ partitions: some Sequence<TopicPartition>) {
        core.updateFlow { $0.paused.subtract(partitions) }
    }

    /// Pauses every assigned partition, and every partition assigned later, until `resumeAll()`.
    public func pauseAll() {
        core.updateFlow { $0.pauseAll = true }
    }

    /// Ends `pauseAll()` and every per-partition pause.
    public func resumeAll() {
        core.updateFlow { state in
            state.pauseAll = false
            state.paused.removeAll()
        }
    }

    /// Commits `offsets` synchronously (on a blocking queue) and returns when the group
    /// coordinator stored them.
    ///
    /// - Parameter offsets: per partition, **the next offset to read** — the last processed
    ///   offset + 1 (`TopicPartitionOffset(after: message)`).
    /// - Throws: `KafkaError` for the first partition the broker refused (`topicPartition`
    ///   set) or for the whole request; `isRetriable` tells whether trying again may help.
    public func commit(_ offsets: [TopicPartitionOffset]) async throws {
        guard !offsets.isEmpty else { return }
        let client = core.client
        try await core.executor.run {
            try client.withHandle { handle in try ConsumerCore.commit(offsets, handle) }
        }
    }

    /// The group's committed offsets ("next to read") for `partitions`, asked of the
    /// coordinator. Partitions with no committed offset are absent.
    ///
    /// - Throws: `KafkaError` (e.g. `.timedOut`).
    public func committedOffsets(
        for partitions: [TopicPartition], timeout: Duration = .seconds(10)
    ) async throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let client = core.client
        return try await core.executor.run {
            try client.withHandle { handle in
                let list = RDKafkaTopicPartitionList(partitions)
                let err = list.withListPointer { rd_kafka_committed(handle, $0, timeout.kafkaTimeoutMilliseconds) }
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.rdKafka(err) }
                var result: [TopicPartition: Int64] = [:]
                for element in list.elements where element.error == RD_KAFKA_RESP_ERR_NO_ERROR && element.offset >= 0 {
                    result[element.topicPartition] = element.offset
                }
                return result
            }
        }
    }

    /// Leaves the group and frees the librdkafka handle.
    ///
    /// The polling thread stops handing out records, calls `rd_kafka_consumer_close_queue`
    /// and keeps serving it (the revoke hook runs for the final revocation and its offsets
    /// are committed) until the consumer left the group or `closeTimeout` passed, then
    /// destroys the handle. `events` finishes. Calls after the first wait for the same close.
    ///
    /// Bounded: returns after at most `2 × closeTimeout + 1 s` even if librdkafka hangs
    /// (2.0.2 can hang destroying a consumer after a lost partition); the stuck thread and
    /// handle are then abandoned and an error is logged.
    public func close() async {
        await core.close()
    }
}
