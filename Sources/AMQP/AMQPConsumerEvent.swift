/// What a consumer's channel reports, in order.
public enum AMQPConsumerEvent: Sendable {
    /// A message: settle it once with `ack`, `nack` or `reject`.
    case delivery(AMQPDelivery)
    /// The broker cancelled the consumer (`basic.cancel`: its queue was deleted, or the
    /// queue's node went away). No more deliveries come; those received can still be
    /// settled (then the channel closes). Last event.
    case cancelledByBroker
    /// The channel or the connection is gone: deliveries not settled are void (the broker
    /// redelivers them) and cannot be acked. Last event.
    case closed(AMQPError)
}

/// What a connection reports, in order.
public enum AMQPConnectionEvent: Sendable, Hashable {
    /// `connection.blocked`: a resource alarm (memory, disk) on the broker; it stops reading
    /// from publishing connections. Publishes wait for `unblocked` (or their timeout).
    case blocked(reason: String)
    case unblocked
    /// The connection is closed: `nil` after `close()`, the reason when it was lost
    /// (broker closed it, socket error, missed heartbeats). Last event.
    case closed(AMQPError?)
}
