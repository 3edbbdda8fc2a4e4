import CRdKafkaShims
import CRdKafka
import Logging

/// An idempotent Kafka producer whose `send` returns only once the broker stored the
/// record (the delivery report), so callers can tie commits to confirmed output.
///
/// A dedicated thread polls for delivery reports (started by the first `send`); the
/// delivery-report callback only resumes the waiting `send`.
public final class KafkaProducer: Sendable {
    let core: ProducerCore

    /// Creates the librdkafka producer. Nothing connects until the first `send`.
    ///
    /// - Throws: `KafkaError` (`.invalidArgument`) for a configuration librdkafka rejects.
    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "mediad.kafka.producer")) throws {
        core = try ProducerCore(configuration: configuration, logger: logger)
    }

    /// Without `close()`, the polling thread still flushes (up to `closeTimeout`) and
    /// destroys the handle in the background.
    deinit {
        core.lifecycle.closeInBackground(wake: {})
    }

    /// Sends one record and waits for its delivery report.
    ///
    /// When librdkafka's local queue is full the call waits (10 ms steps) for room rather
    /// than failing. Cancelling the task only stops that wait: once enqueued, a record is
    /// delivered (or fails) whatever happens to the caller.
    ///
    /// - Parameters:
    ///   - partition: a partition, or `nil` to let the partitioner pick one from `key`.
    ///   - key, value: `nil` is null (a tombstone for `value`), distinct from empty.
    /// - Returns: the partition and offset the broker stored the record at.
    /// - Throws: `KafkaError`: `.messageTimedOut` after `messageTimeout` of retries, a
    ///   broker's non-retriable error, `.fatal`, or `.destroyed` after `close()`.
    public func send(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: KafkaHeaders = []
    ) async throws -> DeliveryReport {
        try core.startPolling()
        while true {
            do {
                return try await core.produce(topic: topic, partition: partition, key: key, value: value, headers: headers)
            } catch let error as KafkaError where error.code == .queueFull {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Waits until every record sent so far has its delivery report, or `timeout` passed.
    ///
    /// - Throws: `KafkaError` (`.timedOut`) when records are still outstanding.
    public func flush(timeout: Duration) async throws {
        try core.startPolling()
        let client = core.client
        try await core.executor.run {
            try client.withHandle { handle in
                let err = rd_kafka_flush(handle, timeout.kafkaTimeoutMilliseconds)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError.rdKafka(err, message: "\(rd_kafka_outq_len(handle)) records not delivered within \(timeout)")
                }
            }
        }
    }

    /// Flushes outstanding records for up to `closeTimeout`, fails the rest (their `send`
    /// throws `.purgedFromQueue`/`.purgedInFlight`), and frees the librdkafka handle.
    /// Later `send`s throw `.destroyed`. Returns within `2 × closeTimeout + 1 s`.
    public func close() async {
        await core.close()
    }
}
