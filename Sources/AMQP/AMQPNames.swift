/// The queues and exchanges mediad declares on RabbitMQ (idempotently, on every connection):
/// one value, so that `serve`, `reprocess --publish` and `dlq` declare the same topology.
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

    public init(
        exchange: String, queue: String, bindingKey: String, queueType: AMQPQueue.Kind, reprocessQueue: String,
        outputExchange: String, outputQueue: String, deadLetterExchange: String, deadLetterQueue: String, deliveryLimit: Int
    ) {
        self.exchange = exchange
        self.queue = queue
        self.bindingKey = bindingKey
        self.queueType = queueType
        self.reprocessQueue = reprocessQueue
        self.outputExchange = outputExchange
        self.outputQueue = outputQueue
        self.deadLetterExchange = deadLetterExchange
        self.deadLetterQueue = deadLetterQueue
        self.deliveryLimit = deliveryLimit
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
