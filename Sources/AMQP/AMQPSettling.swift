/// How a delivery is settled.
public enum AMQPSettlement: Sendable, Hashable {
    /// Done with: the broker drops it.
    case ack
    /// Not processed: back to the queue (`requeue`, redelivered with `redelivered` set and
    /// counted by a quorum queue's `x-delivery-limit`), else dead-lettered or dropped.
    /// With `multiple`, also every earlier delivery of the channel.
    case nack(requeue: Bool)
    /// One delivery refused: dead-lettered (or dropped) unless `requeue`.
    case reject(requeue: Bool)
}

/// What can settle deliveries: the connection that delivered them, its consumers, the
/// supervisor and its consumers. Each delivery is settled once, on the channel of the
/// connection it came from.
public protocol AMQPDeliverySettling: Sendable {
    /// Settles `delivery` (with `multiple`, every earlier one of its channel too; ignored by
    /// `.reject`).
    ///
    /// - Throws: `.staleDelivery` for a delivery of another connection or of a channel that
    ///   closed (nothing is sent: the broker redelivers it), `.unknownDeliveryTag` for one
    ///   settled already, or the connection's loss.
    func settle(_ delivery: AMQPDelivery, _ settlement: AMQPSettlement, multiple: Bool) async throws(AMQPError)
}

extension AMQPDeliverySettling {
    public func ack(_ delivery: AMQPDelivery, multiple: Bool = false) async throws(AMQPError) {
        try await settle(delivery, .ack, multiple: multiple)
    }

    public func nack(_ delivery: AMQPDelivery, multiple: Bool = false, requeue: Bool = true) async throws(AMQPError) {
        try await settle(delivery, .nack(requeue: requeue), multiple: multiple)
    }

    public func reject(_ delivery: AMQPDelivery, requeue: Bool = false) async throws(AMQPError) {
        try await settle(delivery, .reject(requeue: requeue), multiple: false)
    }
}
