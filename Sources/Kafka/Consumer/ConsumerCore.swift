import CRdKafkaShims
import CRdKafka
import Logging
import Synchronization

/// Everything the consumer's polling thread shares with `KafkaConsumer`'s callers. The
/// thread holds this (not the `KafkaConsumer`), so dropping the consumer still lets the
/// thread leave the group and destroy the handle.
final class ConsumerCore: Sendable {
    /// Which partitions should be paused, and which are.
    struct FlowState {
        var assignment: Set<TopicPartition> = []
        /// Partitions the caller paused by name.
        var paused: Set<TopicPartition> = []
        /// The caller paused everything, including partitions assigned later.
        var pauseAll = false
        /// Paused because the reader of `events` fell `maxBufferedMessages` behind.
        var flowPaused = false
        /// Partitions currently paused in librdkafka.
        var applied: Set<TopicPartition> = []

        var desired: Set<TopicPartition> {
            pauseAll || flowPaused ? assignment : assignment.intersection(paused)
        }
    }

    let client: RDKafkaClient
    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    let buffer = EventBuffer()
    let executor: BlockingExecutor
    let revokeHook: KafkaRevokeHook?
    let flow = Mutex(FlowState())
    /// Revoke-hook offsets a broker refused to commit during an eager rebalance, retried
    /// for the partitions assigned back (see `ConsumerCore+Rebalance.swift`).
    let retryCommits = Mutex<[TopicPartition: Int64]>([:])
    let lifecycle: PollingLifecycle
    /// Set once `rd_kafka_subscribe` succeeded: only then is there a group to leave.
    let subscribed = Atomic<Bool>(false)

    init(configuration: KafkaConsumerConfiguration, revokeHook: KafkaRevokeHook?, logger: Logger) throws {
        self.client = try RDKafkaClient(kind: .consumer, settings: configuration.librdkafkaSettings, logger: logger) { conf in
            RDKafkaCallbackContext.installRebalanceCallback(on: conf)
        }
        self.configuration = configuration
        self.revokeHook = revokeHook
        var logger = logger
        logger[metadataKey: "kafka.client"] = "\(client.name)"
        self.logger = logger
        self.lifecycle = PollingLifecycle(threadName: "mediad-kafka-consumer", logger: logger)
        self.executor = BlockingExecutor(label: "mediad.kafka.consumer.blocking")
    }

    /// Starts the polling thread unless it runs already.
    ///
    /// - Throws: `KafkaError.closed()` after `close()`.
    func startPolling() throws {
        try lifecycle.start { [self] in runPollLoop() }
    }

    var isStopRequested: Bool { lifecycle.isStopRequested }

    /// Asks the polling thread to leave the group and destroy the handle, and waits for it
    /// (at most `2 × closeTimeout` plus a second: see `KafkaConsumer.close()`).
    func close() async {
        let client = client
        await lifecycle.close(maxWait: configuration.closeTimeout * 2 + .seconds(1), wake: { client.wakeUp() }) { [self] in
            runPollLoop()
        }
    }

    /// Asks for a close without waiting (used by `KafkaConsumer.deinit`).
    func closeInBackground() {
        if !lifecycle.closeInBackground(wake: { client.wakeUp() }) {
            buffer.finish()
        }
    }

    /// Re-evaluates pauses at the next poll (within `pollTimeout`, or at once).
    func updateFlow(_ body: (inout FlowState) -> Void) {
        flow.withLock { body(&$0) }
        client.wakeUp()
    }
}
