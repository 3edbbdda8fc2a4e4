import Foundation

/// The basic-class properties of a message (its content header). `nil` is "not set";
/// `headers` empty is no headers table.
public struct AMQPProperties: Sendable, Hashable {
    public enum DeliveryMode: UInt8, Sendable, Hashable {
        case transient = 1
        /// Written to disk by classic queues (quorum and stream queues always are).
        case persistent = 2
    }

    public var contentType: String?
    public var contentEncoding: String?
    /// Application headers (CloudEvents' `cloudEvents_*` attributes in the AMQP binding).
    public var headers: AMQPTable
    public var deliveryMode: DeliveryMode?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a decimal string (RabbitMQ's convention).
    public var expiration: String?
    public var messageID: String?
    /// Whole seconds on the wire: a fraction is dropped.
    public var timestamp: Date?
    public var type: String?
    /// Checked by RabbitMQ against the connection's user when set.
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable = [:],
        deliveryMode: DeliveryMode? = nil, priority: UInt8? = nil, correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil, timestamp: Date? = nil,
        type: String? = nil, userID: String? = nil, appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }
}

/// A message to publish.
public struct AMQPMessage: Sendable, Hashable {
    public var body: [UInt8]
    public var properties: AMQPProperties

    /// A message with `deliveryMode` persistent unless `properties` says otherwise.
    public init(body: [UInt8], properties: AMQPProperties = AMQPProperties()) {
        self.body = body
        self.properties = properties
        if self.properties.deliveryMode == nil { self.properties.deliveryMode = .persistent }
    }
}

/// Which connection and channel a delivery came from: acks, nacks and rejects are only sent
/// on that channel of that connection, never on a later one (where the tag would name
/// another message).
public struct AMQPDeliveryToken: Sendable, Hashable {
    /// The `AMQPConnection` (unique per process).
    let connectionID: UInt64
    let channel: UInt16
    /// Tells a reopened channel of the same number from the one the delivery came on.
    let channelIncarnation: UInt64
    let deliveryTag: UInt64
}

/// A message handed out by a consumer (`basic.deliver`) or by `basic.get`, copied out of
/// librabbitmq. Settle it once with `ack`, `nack` or `reject` on the connection (or the
/// consumer) it came from.
public struct AMQPDelivery: Sendable, CustomStringConvertible {
    public var body: [UInt8]
    public var properties: AMQPProperties
    /// The channel's tag for this delivery.
    public var deliveryTag: UInt64 { token.deliveryTag }
    /// The broker delivered this message before (to this or another consumer) without an ack.
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    /// The consumer's tag, `nil` for `basic.get`.
    public var consumerTag: String?
    /// For `basic.get`: messages left in the queue after this one.
    public var messageCount: UInt32?
    public let token: AMQPDeliveryToken

    /// The header `name`, if present.
    public func header(_ name: String) -> AMQPFieldValue? { properties.headers[name] }

    public var description: String {
        "AMQPDelivery(#\(deliveryTag)\(redelivered ? " redelivered" : "") from \(exchange.isEmpty ? "(default)" : exchange)/\(routingKey), \(body.count) B)"
    }
}

/// A mandatory message the broker could not route (`basic.return`), as the publish that
/// sent it reports.
public struct AMQPReturn: Sendable, Hashable {
    public var replyCode: UInt16
    public var replyText: String
    public var exchange: String
    public var routingKey: String
}
