import CRdKafkaShims
import CRdKafka
import Logging
import Synchronization

/// What librdkafka's callbacks hand over to the Swift side. It is the handle's opaque
/// (`rd_kafka_conf_set_opaque`), kept alive by `RDKafkaClient` until after
/// `rd_kafka_destroy` returns, so callbacks never see it freed.
///
/// The callbacks themselves do almost nothing: copy their arguments and append them here
/// (the polling thread drains them), or log a line. Rebalance, error and statistics
/// callbacks run on the polling thread inside `rd_kafka_consumer_poll`/`rd_kafka_poll`;
/// the log callback runs on librdkafka's own threads.
final class RDKafkaCallbackContext: Sendable {
    /// A rebalance as the callback saw it. `isLost` and `protocol` are read inside the
    /// callback, where librdkafka documents them as meaningful.
    struct Rebalance: Sendable {
        enum Kind: Sendable {
            case assign
            case revoke
            /// Any other code: librdkafka asks for the assignment to be cleared.
            case failure(KafkaError)
        }

        var kind: Kind
        var partitions: [TopicPartitionOffset]
        var isLost: Bool
        var isCooperative: Bool
    }

    private struct Pending {
        var rebalances: [Rebalance] = []
        var errors: [KafkaError] = []
        var statisticsJSON: String?
    }

    let logger: Logger
    /// A producer's outstanding deliveries (`nil` for consumers).
    let deliveries: DeliveryRegistry?
    private let pending = Mutex(Pending())

    init(logger: Logger, deliveries: DeliveryRegistry? = nil) {
        self.logger = logger
        self.deliveries = deliveries
    }

    func append(_ rebalance: Rebalance) { pending.withLock { $0.rebalances.append(rebalance) } }
    func append(_ error: KafkaError) { pending.withLock { $0.errors.append(error) } }
    func setStatistics(_ json: String) { pending.withLock { $0.statisticsJSON = json } }

    func takeRebalances() -> [Rebalance] {
        pending.withLock { state in
            defer { state.rebalances.removeAll() }
            return state.rebalances
        }
    }

    func takeErrors() -> [KafkaError] {
        pending.withLock { state in
            defer { state.errors.removeAll() }
            return state.errors
        }
    }

    /// The latest statistics JSON (kept until replaced).
    var statisticsJSON: String? { pending.withLock { $0.statisticsJSON } }

    /// The context behind a handle's opaque pointer.
    static func from(_ opaque: UnsafeMutableRawPointer?) -> RDKafkaCallbackContext? {
        opaque.map { Unmanaged<RDKafkaCallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }

    /// One map of librdkafka properties configures a service's consumers and its producer, so
    /// a consumer's property (a session timeout) reaching the producer, or the reverse, is
    /// expected, not worth a warning at every start.
    static func isExpectedConfigurationWarning(facility: String, _ text: String) -> Bool {
        facility == "CONFWARN"
            && (text.contains("is a consumer property and will be ignored by this producer instance")
                || text.contains("is a producer property and will be ignored by this consumer instance"))
    }

    /// Installs the log, error and statistics callbacks every handle gets.
    static func installCommonCallbacks(on conf: OpaquePointer) {
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, line in
            guard let handle, let context = RDKafkaCallbackContext.from(rd_kafka_opaque(handle)) else { return }
            let text = line.map { String(cString: $0) } ?? ""
            let facility = facility.map { String(cString: $0) } ?? ""
            context.logger.log(
                level: RDKafkaCallbackContext.isExpectedConfigurationWarning(facility: facility, text) ? .debug : Logger.Level(syslog: level),
                "\(text)",
                metadata: ["kafka.client": "\(String(cString: rd_kafka_name(handle)))", "kafka.facility": "\(facility)"]
            )
        }
        rd_kafka_conf_set_error_cb(conf) { handle, code, reason, opaque in
            guard let context = RDKafkaCallbackContext.from(opaque) else { return }
            let err = rd_kafka_resp_err_t(rawValue: code)
            if err == RD_KAFKA_RESP_ERR__FATAL, let handle {
                // The real cause of a fatal error is only available from rd_kafka_fatal_error.
                var text = [CChar](repeating: 0, count: 512)
                let cause = text.withUnsafeMutableBufferPointer { rd_kafka_fatal_error(handle, $0.baseAddress, $0.count) }
                let message = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                context.append(KafkaError(code: .init(rawValue: cause.rawValue), message: message, isFatal: true))
                return
            }
            context.append(KafkaError(code: .init(rawValue: err.rawValue), message: reason.map { String(cString: $0) }))
        }
        rd_kafka_conf_set_stats_cb(conf) { _, json, length, opaque in
            if let context = RDKafkaCallbackContext.from(opaque), let json {
                let bytes = UnsafeRawBufferPointer(start: json, count: length)
                context.setStatistics(String(decoding: bytes, as: UTF8.self))
            }
            return 0  // librdkafka frees the JSON
        }
    }

    /// Installs the consumer's rebalance callback: it records the event and yields, so that
    /// `rd_kafka_consumer_poll` returns and the polling loop handles it outside the callback.
    static func installRebalanceCallback(on conf: OpaquePointer) {
        rd_kafka_conf_set_rebalance_cb(conf) { handle, err, partitions, opaque in
            guard let handle, let context = RDKafkaCallbackContext.from(opaque) else { return }
            let copied = RDKafkaTopicPartitionList.copy(partitions).map { TopicPartitionOffset($0.topicPartition, offset: $0.offset) }
            let kind: Rebalance.Kind
            switch err {
            case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: kind = .assign
            case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: kind = .revoke
            default: kind = .failure(KafkaError.rdKafka(err))
            }
            let rebalanceProtocol = rd_kafka_rebalance_protocol(handle).map { String(cString: $0) }
            context.append(Rebalance(
                kind: kind,
                partitions: copied,
                isLost: rd_kafka_assignment_lost(handle) != 0,
                isCooperative: rebalanceProtocol == "COOPERATIVE"
            ))
            rd_kafka_yield(handle)
        }
    }
}

extension Logger.Level {
    /// librdkafka logs with syslog severities (0 emergency … 7 debug).
    init(syslog level: Int32) {
        switch level {
        case ...2: self = .critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}
