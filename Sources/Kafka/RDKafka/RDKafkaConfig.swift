import CRdKafkaShims
import CRdKafka

/// Builds an `rd_kafka_conf_t` from key/value settings.
enum RDKafkaConfig {
    /// A new `rd_kafka_conf_t` with `settings` applied in order. The caller owns the result
    /// until `rd_kafka_new` succeeds with it (librdkafka frees a conf only on success).
    ///
    /// - Throws: `KafkaError` (`.invalidArgument`) naming the key librdkafka rejected;
    ///   the half-built conf is destroyed first.
    static func make(_ settings: [(key: String, value: String)]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_conf_new failed")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in settings {
            let result = errorText.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_conf_set(conf, key, value, buffer.baseAddress, buffer.count)
            }
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(code: .invalidArgument, message: "configuration \(key)=\(value): \(reason)", isRetriable: false)
            }
        }
        return conf
    }
}
