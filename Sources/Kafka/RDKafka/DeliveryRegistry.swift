import CRdKafkaShims
import CRdKafka
import Synchronization

/// The producer's outstanding `send` calls, by message id. The id travels as the message's
/// opaque (`rkmessage->_private`), so the delivery-report callback only looks it up and
/// resumes the continuation. Whatever librdkafka never reported (a handle destroyed with
/// records still queued) is failed by `failAll` instead of leaving a caller hanging.
final class DeliveryRegistry: Sendable {
    private struct State {
        var nextID: UInt = 1
        var pending: [UInt: CheckedContinuation<DeliveryReport, any Error>] = [:]
    }

    private let state = Mutex(State())

    /// Registers a continuation; returns the opaque to pass with the message.
    func register(_ continuation: CheckedContinuation<DeliveryReport, any Error>) -> UnsafeMutableRawPointer {
        let id: UInt = state.withLock { state in
            let id = state.nextID
            state.nextID &+= 1
            if state.nextID == 0 { state.nextID = 1 }
            state.pending[id] = continuation
            return id
        }
        return UnsafeMutableRawPointer(bitPattern: id)!
    }

    func complete(_ opaque: UnsafeMutableRawPointer?, with result: Result<DeliveryReport, KafkaError>) {
        guard let opaque else { return }
        let id = UInt(bitPattern: opaque)
        let continuation = state.withLock { $0.pending.removeValue(forKey: id) }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    var outstanding: Int { state.withLock { $0.pending.count } }

    func failAll(_ error: KafkaError) {
        let continuations = state.withLock { state in
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for continuation in continuations { continuation.resume(throwing: error) }
    }

    /// Installs the delivery-report callback; `registry` must outlive the handle.
    static func installCallback(on conf: OpaquePointer) {
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let context = RDKafkaCallbackContext.from(opaque), let registry = context.deliveries else { return }
            let record = message.pointee
            let topic = record.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
            let result: Result<DeliveryReport, KafkaError>
            if record.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                result = .success(DeliveryReport(
                    topic: topic, partition: record.partition, offset: record.offset,
                    timestamp: KafkaMessage.timestamp(of: message)
                ))
            } else {
                let partition = record.partition >= 0 ? TopicPartition(topic: topic, partition: record.partition) : nil
                result = .failure(KafkaError.rdKafka(record.err, topicPartition: partition))
            }
            registry.complete(record._private, with: result)
        }
    }
}
