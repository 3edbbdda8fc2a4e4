import CRdKafkaShims
import CRdKafka
import Logging
import Synchronization

/// The polling thread: the only code that calls `rd_kafka_consumer_poll`, assigns,
/// pauses and destroys the handle. It never waits on Swift concurrency.
extension ConsumerCore {
    func runPollLoop() {
        let handle = client.ownerHandle
        let timeout = configuration.pollTimeout.kafkaTimeoutMilliseconds
        while !isStopRequested {
            applyPauses(handle)
            if let message = rd_kafka_consumer_poll(handle, timeout) {
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let record = KafkaMessage(copying: message)
                    buffer.append(.message(record))
                    repauseIfNeeded(record.topicPartition, handle)
                } else {
                    buffer.append(.error(KafkaError.consumed(message)))
                }
                rd_kafka_message_destroy(message)
            }
            handleRebalances(handle)
            for error in client.context.takeErrors() {
                buffer.append(.error(error))
            }
        }
        closeHandle(handle)
    }

    /// librdkafka 2.0.2 forgets a pause issued while a newly assigned partition still looks
    /// up its start offset, and fetches anyway. A record from a partition that should be
    /// paused is still delivered (nothing is lost: fetching resumes after it), and the pause
    /// is issued again, which now holds.
    private func repauseIfNeeded(_ partition: TopicPartition, _ handle: OpaquePointer) {
        guard flow.withLock({ $0.applied.contains(partition) }) else { return }
        let list = RDKafkaTopicPartitionList([partition])
        _ = list.withListPointer { rd_kafka_pause_partitions(handle, $0) }
        logger.debug("Paused partition again", metadata: ["kafka.partition": "\(partition)"])
    }

    /// Pauses and resumes partitions so librdkafka matches `FlowState.desired`, updating
    /// the flow-control pause from the buffer's fill level first.
    func applyPauses(_ handle: OpaquePointer) {
        let limit = max(1, configuration.maxBufferedMessages)
        let buffered = buffer.bufferedMessages
        let (toPause, toResume): (Set<TopicPartition>, Set<TopicPartition>) = flow.withLock { state in
            if !state.flowPaused, buffered >= limit {
                state.flowPaused = true
            } else if state.flowPaused, buffered <= limit / 2 {
                state.flowPaused = false
            }
            let desired = state.desired
            defer { state.applied = desired }
            return (desired.subtracting(state.applied), state.applied.subtracting(desired))
        }
        if !toPause.isEmpty {
            let list = RDKafkaTopicPartitionList(toPause)
            _ = list.withListPointer { rd_kafka_pause_partitions(handle, $0) }
            logger.debug("Paused partitions", metadata: ["kafka.partitions": "\(toPause.sorted())"])
        }
        if !toResume.isEmpty {
            let list = RDKafkaTopicPartitionList(toResume)
            _ = list.withListPointer { rd_kafka_resume_partitions(handle, $0) }
            logger.debug("Resumed partitions", metadata: ["kafka.partitions": "\(toResume.sorted())"])
        }
    }

    /// A synchronous `rd_kafka_commit` of explicit offsets (blocking: call it off the
    /// cooperative pool). Offsets are "next to read".
    ///
    /// - Throws: `KafkaError` for the first partition that failed, or for the whole call.
    static func commit(_ offsets: [TopicPartitionOffset], _ handle: OpaquePointer) throws {
        let list = RDKafkaTopicPartitionList(offsets)
        let err = list.withListPointer { rd_kafka_commit(handle, $0, 0) }
        if let failed = list.elements.first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
            throw KafkaError.rdKafka(failed.error, topicPartition: failed.topicPartition)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.rdKafka(err)
        }
    }

    /// Leaves the group (running the revoke hook once more), then destroys the handle.
    ///
    /// Uses `rd_kafka_consumer_close_queue` and keeps polling until
    /// `rd_kafka_consumer_closed`, bounded by `closeTimeout`, then destroys with
    /// `RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE`. librdkafka 2.0.2 can still hang in
    /// `rd_kafka_destroy` after a lost partition (fixed in 2.1.0, #4187): `close()` stops
    /// waiting after its own deadline and this thread is abandoned.
    private func closeHandle(_ handle: OpaquePointer) {
        client.beginShutdown()
        let deadline = ContinuousClock.now + configuration.closeTimeout
        if subscribed.load(ordering: .acquiring), let queue = client.ownerConsumerQueue {
            if let error = rd_kafka_consumer_close_queue(handle, queue) {
                logger.warning("Consumer close failed", metadata: ["kafka.error": "\(KafkaError.consuming(error))"])
            }
            while rd_kafka_consumer_closed(handle) == 0, ContinuousClock.now < deadline {
                if let message = rd_kafka_consumer_poll(handle, 100) {
                    rd_kafka_message_destroy(message)  // not handed out: re-read by the next owner
                }
                handleRebalances(handle)
            }
            if rd_kafka_consumer_closed(handle) == 0 {
                logger.warning("Consumer did not leave its group within \(configuration.closeTimeout)")
            }
        }
        for error in client.context.takeErrors() {
            logger.debug("Error while closing", metadata: ["kafka.error": "\(error)"])
        }
        buffer.finish()
        if !client.waitForLeases(until: ContinuousClock.now + configuration.closeTimeout) {
            logger.error("Blocking Kafka calls still running at close; abandoning the handle")
            lifecycle.didClose()
            return
        }
        client.destroy(flags: RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
        logger.debug("Consumer destroyed")
        lifecycle.didClose()
    }
}
