import CRdKafkaShims
import CRdKafka

extension KafkaMessage {
    /// Copies a consumed message out of librdkafka (the caller destroys `message`).
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let record = message.pointee
        self.init(
            topic: record.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
            partition: record.partition,
            offset: record.offset,
            key: Self.bytes(record.key, record.key_len),
            value: Self.bytes(record.payload, record.len),
            headers: Self.headers(of: message),
            timestamp: Self.timestamp(of: message)
        )
    }

    static func bytes(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> [UInt8]? {
        guard let pointer else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    static func timestamp(of message: UnsafePointer<rd_kafka_message_t>) -> Timestamp? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(message, &type)
        switch type {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: return Timestamp(kind: .createTime, millisecondsSince1970: milliseconds)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return Timestamp(kind: .logAppendTime, millisecondsSince1970: milliseconds)
        default: return nil
        }
    }

    /// The headers in wire order. `rd_kafka_message_headers` keeps ownership of the list.
    static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaHeaders {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: KafkaHeaders = []
        headers.reserveCapacity(rd_kafka_header_cnt(list))
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { break }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            headers.append((name: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return headers
    }
}

extension KafkaError {
    /// The error a consumed message carries (`rkmessage->err`), with its partition.
    static func consumed(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaError {
        let record = message.pointee
        let topicPartition = record.rkt.map {
            TopicPartition(topic: String(cString: rd_kafka_topic_name($0)), partition: record.partition)
        }
        return KafkaError(
            code: Code(rawValue: record.err.rawValue),
            message: String(cString: rd_kafka_message_errstr(message)),
            topicPartition: topicPartition
        )
    }
}

/// Builds librdkafka header lists for the producer.
enum RDKafkaHeaders {
    /// A new `rd_kafka_headers_t` (the caller hands it to `mediad_rdk_produce`, which
    /// consumes it), or `nil` when there are no headers.
    static func make(_ headers: KafkaHeaders) -> OpaquePointer? {
        guard !headers.isEmpty, let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            withKafkaBytes(header.value) { pointer, count in
                _ = rd_kafka_header_add(list, header.name, -1, pointer, count)
            }
        }
        return list
    }
}

/// Calls `body` with a pointer and count for `bytes` as librdkafka reads them: `nil` for
/// null, and a non-null pointer with count 0 for empty (librdkafka sends a null when the
/// pointer is null, whatever the count).
func withKafkaBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) throws -> R) rethrows -> R {
    guard let bytes else { return try body(nil, 0) }
    if bytes.isEmpty {
        var placeholder: UInt8 = 0
        return try withUnsafeBytes(of: &placeholder) { try body($0.baseAddress, 0) }
    }
    return try bytes.withUnsafeBytes { try body($0.baseAddress, $0.count) }
}
