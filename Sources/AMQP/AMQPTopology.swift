/// Exchanges, queues and bindings to declare, in that order. Declaring is idempotent: the
/// same topology declared again (after a reconnect, by another instance) changes nothing;
/// one declared with different settings for an existing name fails with
/// `.preconditionFailed` (RabbitMQ never changes an existing queue's arguments).
public struct AMQPTopology: Sendable, Hashable {
    public var exchanges: [AMQPExchange]
    public var queues: [AMQPQueue]
    public var bindings: [AMQPBinding]

    public init(exchanges: [AMQPExchange] = [], queues: [AMQPQueue] = [], bindings: [AMQPBinding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public var isEmpty: Bool { exchanges.isEmpty && queues.isEmpty && bindings.isEmpty }
}

public struct AMQPExchange: Sendable, Hashable {
    public struct Kind: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }

        public static let direct: Kind = "direct"
        public static let fanout: Kind = "fanout"
        public static let topic: Kind = "topic"
        public static let headers: Kind = "headers"
    }

    public var name: String
    public var kind: Kind
    /// Survives a broker restart. Default `true`.
    public var durable: Bool
    public var autoDelete: Bool
    /// Only reachable through exchange-to-exchange bindings.
    public var isInternal: Bool
    public var arguments: AMQPTable

    public init(
        name: String, kind: Kind = .topic, durable: Bool = true, autoDelete: Bool = false, isInternal: Bool = false,
        arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.isInternal = isInternal
        self.arguments = arguments
    }
}

public struct AMQPQueue: Sendable, Hashable {
    /// `x-queue-type`.
    public struct Kind: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }

        /// Replicated, durable, with `x-delivery-limit` poison-message handling.
        public static let quorum: Kind = "quorum"
        public static let classic: Kind = "classic"
        public static let stream: Kind = "stream"
    }

    public var name: String
    /// Default `.quorum`.
    public var kind: Kind
    /// Default `true` (quorum queues must be durable).
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// `x-delivery-limit` (quorum queues): after this many redeliveries (nack/requeue, or a
    /// consumer's channel closing with it unacked) the message is dead-lettered, or dropped
    /// without a dead-letter exchange.
    public var deliveryLimit: Int?
    /// `x-dead-letter-exchange`.
    public var deadLetterExchange: String?
    /// `x-dead-letter-routing-key` (default: the message's own routing key).
    public var deadLetterRoutingKey: String?
    /// Any other argument (`x-max-length`, `x-message-ttl`…); the fields above win.
    public var arguments: AMQPTable

    public init(
        name: String, kind: Kind = .quorum, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        deliveryLimit: Int? = nil, deadLetterExchange: String? = nil, deadLetterRoutingKey: String? = nil,
        arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.deliveryLimit = deliveryLimit
        self.deadLetterExchange = deadLetterExchange
        self.deadLetterRoutingKey = deadLetterRoutingKey
        self.arguments = arguments
    }

    /// The `queue.declare` arguments: `arguments` plus the fields above.
    public var declarationArguments: AMQPTable {
        var table = arguments
        table["x-queue-type"] = .string(kind.rawValue)
        if let deliveryLimit { table["x-delivery-limit"] = .int64(Int64(deliveryLimit)) }
        if let deadLetterExchange { table["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { table["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        return table
    }

    /// Rejects what RabbitMQ would refuse with a less helpful channel error.
    func validate() throws(AMQPError) {
        guard !name.isEmpty else { throw .invalidConfiguration("queue: a server-named queue cannot be part of a topology") }
        if kind == .quorum || kind == .stream {
            guard durable, !exclusive, !autoDelete else {
                throw .invalidConfiguration("queue \(name): \(kind.rawValue) queues must be durable, not exclusive or auto-delete")
            }
        }
        if let deliveryLimit, deliveryLimit < 0 {
            throw .invalidConfiguration("queue \(name): x-delivery-limit must not be negative")
        }
    }
}

/// A queue bound to an exchange (`queue.bind`).
public struct AMQPBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    /// For topic exchanges a pattern (`media.#`); ignored by fanout exchanges.
    public var routingKey: String
    /// For headers exchanges: `x-match` and the headers to match.
    public var arguments: AMQPTable

    public init(queue: String, exchange: String, routingKey: String = "", arguments: AMQPTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// What `queue.declare` reported.
public struct AMQPQueueStatus: Sendable, Hashable {
    public var name: String
    /// Ready messages (not counting unacked ones).
    public var messageCount: UInt32
    public var consumerCount: UInt32
}
