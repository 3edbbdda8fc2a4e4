import AMQP
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

/// The queues and exchanges mediad declares on RabbitMQ (idempotently, on every connection).
public struct AMQPNames: Sendable, Hashable {
    public var exchange: String
    public var queue: String
    public var bindingKey: String
    public var queueType: AMQPQueue.Kind
    /// Empty: no backfill lane.
    public var reprocessQueue: String
    public var outputExchange: String
    /// Empty: none declared.
    public var outputQueue: String
    public var deadLetterExchange: String
    public var deadLetterQueue: String
    public var deliveryLimit: Int

    public init(_ configuration: DaemonConfiguration) {
        exchange = configuration.amqpExchange
        queue = configuration.amqpQueue
        bindingKey = configuration.amqpBindingKey
        queueType = AMQPQueue.Kind(rawValue: configuration.amqpQueueType)
        reprocessQueue = configuration.amqpReprocessQueue
        outputExchange = configuration.amqpOutputExchange
        outputQueue = configuration.amqpOutputQueue
        deadLetterExchange = configuration.amqpDeadLetterExchange
        deadLetterQueue = configuration.amqpDeadLetterQueue
        deliveryLimit = configuration.amqpDeliveryLimit
    }

    /// Input and reprocess queues dead-letter into the dead-letter exchange (a rejected
    /// message, or one past the delivery limit), keyed by their own name; the dead-letter
    /// queue takes everything the exchange gets.
    public var topology: AMQPTopology {
        let limit = queueType == .quorum ? deliveryLimit : nil
        var queues = [AMQPQueue(name: queue, kind: queueType, deliveryLimit: limit, deadLetterExchange: deadLetterExchange, deadLetterRoutingKey: queue)]
        if !reprocessQueue.isEmpty {
            queues.append(AMQPQueue(name: reprocessQueue, kind: queueType, deliveryLimit: limit, deadLetterExchange: deadLetterExchange, deadLetterRoutingKey: reprocessQueue))
        }
        queues.append(AMQPQueue(name: deadLetterQueue, kind: queueType))
        var bindings = [
            AMQPBinding(queue: queue, exchange: exchange, routingKey: bindingKey),
            AMQPBinding(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: "#"),
        ]
        if !outputQueue.isEmpty {
            queues.append(AMQPQueue(name: outputQueue, kind: queueType))
            bindings.append(AMQPBinding(queue: outputQueue, exchange: outputExchange, routingKey: "#"))
        }
        return AMQPTopology(
            exchanges: [exchange, outputExchange, deadLetterExchange].reduce(into: [String]()) { names, name in
                if !names.contains(name) { names.append(name) }
            }.map { AMQPExchange(name: $0, kind: .topic) },
            queues: queues, bindings: bindings)
    }
}
