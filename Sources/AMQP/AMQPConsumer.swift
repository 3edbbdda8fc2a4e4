/// A consumer on its own channel: deliveries (manual acks) and the broker's cancel, as
/// `events`. `basic.qos` bounds the unsettled deliveries to `prefetch`.
public final class AMQPConsumer: AMQPDeliverySettling {
    public let connection: AMQPConnection
    public let queue: String
    public let consumerTag: String
    public let prefetch: UInt16
    let sink: ConsumerSink
    let channel: UInt16
    let incarnation: UInt64

    init(connection: AMQPConnection, sink: ConsumerSink, channel: UInt16, incarnation: UInt64, consumerTag: String, prefetch: UInt16) {
        self.connection = connection
        self.sink = sink
        self.queue = sink.queue
        self.channel = channel
        self.incarnation = incarnation
        self.consumerTag = consumerTag
        self.prefetch = prefetch
    }

    /// Deliveries, then at most one `.cancelledByBroker` or `.closed`. Finishes after
    /// `cancel()`, `close()` or the connection's close. One reader at a time.
    public var events: AMQPEventSequence<AMQPConsumerEvent> { sink.buffer.sequence }

    public func settle(_ delivery: AMQPDelivery, _ settlement: AMQPSettlement, multiple: Bool = false) async throws(AMQPError) {
        try await connection.settle(delivery, settlement, multiple: multiple)
    }

    /// `basic.cancel`: the broker sends nothing more; `events` finishes after what was
    /// delivered already, which can still be settled (the channel stays open until the last
    /// of them is, then closes).
    public func cancel() async throws(AMQPError) {
        let sink = sink, channel = channel, incarnation = incarnation
        try await connection.core.perform { driver in
            guard let open = driver.channels[channel], open.incarnation == incarnation else { return }
            driver.cancelConsumer(open, sink)
        }
    }

    /// Closes the consumer's channel: unsettled deliveries go back to the queue (marked
    /// redelivered) and can no longer be settled.
    public func close() async throws(AMQPError) {
        let channel = channel, incarnation = incarnation
        try await connection.core.perform { driver in
            guard let open = driver.channels[channel], open.incarnation == incarnation else { return }
            driver.closeChannel(open)
        }
    }
}
