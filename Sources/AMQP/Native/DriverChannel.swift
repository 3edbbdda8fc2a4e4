/// One open channel as the connection's thread keeps it. Thread-confined.
final class DriverChannel {
    enum Role {
        /// Declares, deletes, purges: reopened on demand after the broker closed it.
        case control
        /// A consumer's own channel (its `basic.qos` applies to it alone).
        case consumer(ConsumerSink)
        /// A publisher's channel, in confirm mode.
        case publisher
        /// Serves `basic.get`; its deliveries are settled on it.
        case getter
    }

    /// A delivery, get-ok or return whose content header and body frames are still coming.
    struct PendingContent {
        enum Kind {
            case deliver(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
            case get(deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, messageCount: UInt32)
            case returned(AMQPReturn)
        }

        var kind: Kind
        var properties = AMQPProperties()
        var bodySize: UInt64?
        var body: [UInt8] = []

        var isComplete: Bool { bodySize.map { UInt64(body.count) >= $0 } ?? false }
    }

    typealias GetCompletion = @Sendable (Result<AMQPDelivery?, AMQPError>) -> Void
    typealias ConfirmWaiter = (deadline: ContinuousClock.Instant, completion: @Sendable (Result<Void, AMQPError>) -> Void)

    let number: UInt16
    let incarnation: UInt64
    let role: Role
    /// Delivery tags handed out and not settled yet: a settlement of any other tag is refused
    /// here, since the broker would close the channel for it (PRECONDITION_FAILED).
    var unacked: Set<UInt64> = []
    var confirms = ConfirmTracker()
    var confirmWaiters: [ConfirmWaiter] = []
    var content: PendingContent?
    /// The consumer's tag, once `basic.consume-ok` named it.
    var consumerTag: String?
    var pendingGet: GetCompletion?

    init(number: UInt16, incarnation: UInt64, role: Role) {
        self.number = number
        self.incarnation = incarnation
        self.role = role
    }

    var consumer: ConsumerSink? {
        if case .consumer(let sink) = role { return sink }
        return nil
    }

    var isPublisher: Bool {
        if case .publisher = role { return true }
        return false
    }
}

/// Where a consumer's channel delivers its events.
final class ConsumerSink: Sendable {
    let buffer = EventBuffer<AMQPConsumerEvent>()
    let queue: String

    init(queue: String) {
        self.queue = queue
    }
}
