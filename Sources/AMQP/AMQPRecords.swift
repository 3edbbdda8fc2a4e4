import Foundation

/// The AMQP form of the records the daemon reads and writes, one mapping for `serve`,
/// `reprocess --publish` and `dlq`.
public enum AMQPRecords {
    /// Carries a record's key (the file id of a result) in a header: AMQP messages have none.
    public static let keyHeader = "mediad-key"

    /// The headers in the intake's form: the content type as `content-type`, CloudEvents
    /// AMQP-binding attributes (`cloudEvents:type`, or `cloudEvents_type` as AMQP 0-9-1
    /// clients write them) as `ce_type`, every other header as text.
    public static func headers(of delivery: AMQPDelivery) -> [(String, [UInt8]?)] {
        var headers: [(String, [UInt8]?)] = []
        if let contentType = delivery.properties.contentType { headers.append(("content-type", Array(contentType.utf8))) }
        for entry in delivery.properties.headers where entry.key != keyHeader {
            var name = entry.key
            for prefix in ["cloudEvents:", "cloudEvents_"] where name.hasPrefix(prefix) {
                name = "ce_" + name.dropFirst(prefix.count)
            }
            headers.append((name, text(entry.value)))
        }
        return headers
    }

    /// The record key a publisher put in `mediad-key`, if any.
    public static func key(of delivery: AMQPDelivery) -> [UInt8]? {
        delivery.header(keyHeader)?.bytesValue
    }

    /// A persistent message: `content-type` becomes the content type, the key the
    /// `mediad-key` header, other headers strings (bytes when not UTF-8).
    public static func message(key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8]?)]) -> AMQPMessage {
        var properties = AMQPProperties()
        properties.deliveryMode = .persistent
        properties.timestamp = Date()
        for (name, bytes) in headers {
            guard let bytes else { continue }
            if name.lowercased() == "content-type" {
                properties.contentType = String(decoding: bytes, as: UTF8.self)
            } else {
                properties.headers[name] = String(validating: bytes, as: UTF8.self).map { .string($0) } ?? .bytes(bytes)
            }
        }
        if let key { properties.headers[keyHeader] = String(validating: key, as: UTF8.self).map { .string($0) } ?? .bytes(key) }
        return AMQPMessage(body: value, properties: properties)
    }

    private static func text(_ value: AMQPFieldValue) -> [UInt8] {
        if let bytes = value.bytesValue { return bytes }
        if let number = value.intValue { return Array(String(number).utf8) }
        if let flag = value.boolValue { return Array(String(flag).utf8) }
        return Array("\(value)".utf8)
    }
}
