import CRabbitMQ
import Logging
import Synchronization

/// One AMQP 0-9-1 connection (librabbitmq), served by a dedicated thread that owns the
/// C connection: every librabbitmq call runs there, never on Swift's cooperative pool.
///
/// ```swift
/// let connection = try await AMQPConnection.connect(AMQPConfiguration(uri: "amqp://mediad:secret@rabbit/media"))
/// try await connection.declare(topology)
/// let publisher = try await connection.makePublisher()
/// let consumer = try await connection.consume(queue: "media.input", prefetch: 8)
/// for await event in consumer.events {
///     guard case .delivery(let delivery) = event else { break }
///     try await publisher.publish(AMQPMessage(body: output), exchange: "media.events", routingKey: "image.processed")
///     try await consumer.ack(delivery)          // only after the output is confirmed
/// }
/// await connection.close()
/// ```
///
/// A lost connection (the broker closed it, the socket failed, heartbeats stopped) ends
/// `events` with `.closed(error)`, every consumer's events with `.closed(error)`, and fails
/// outstanding publishes; its deliveries are void (the broker redelivers them, and
/// settling them throws `.staleDelivery`). Make a new connection, or let
/// `AMQPConnectionSupervisor` do it.
public final class AMQPConnection: AMQPDeliverySettling {
    let core: ConnectionCore

    private init(core: ConnectionCore) {
        self.core = core
    }

    /// Connects, logs in and opens a control channel, on the connection's new thread.
    ///
    /// - Throws: `AMQPError`: a library error (`.socketError`, `.hostnameResolutionFailed`,
    ///   `.timedOut`…), the broker's refusal (`.accessRefused` for bad credentials or a vhost
    ///   the user may not use, `.notAllowed`/`.invalidPath` for a missing vhost).
    public static func connect(
        _ configuration: AMQPConfiguration, logger: Logger = Logger(label: "mediad.amqp")
    ) async throws(AMQPError) -> AMQPConnection {
        let core = ConnectionCore(configuration: configuration, logger: logger)
        let result: Result<NegotiatedParameters, AMQPError> = await withCheckedContinuation { continuation in
            do throws(AMQPError) {
                try ConnectionDriver.start(core: core) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        _ = try result.get()
        return AMQPConnection(core: core)
    }

    /// Without `close()`, the thread still closes the connection in the background.
    deinit {
        core.closeInBackground()
    }

    /// Blocked/unblocked notifications, then `.closed`. One reader at a time.
    public var events: AMQPEventSequence<AMQPConnectionEvent> { core.events.sequence }

    /// Open and not closing.
    public var isOpen: Bool { core.phase == .open }

    /// Why the connection ended, once it was lost (`nil` while open and after `close()`).
    public var lostError: AMQPError? {
        if case .closed(let error) = core.phase { return error }
        return nil
    }

    /// The broker's `connection.blocked` reason while it blocks this connection.
    public var blockedReason: String? { core.blockedReason }

    /// The heartbeat interval agreed with the broker (zero: none).
    public var heartbeat: Duration { .seconds(core.negotiated?.heartbeatSeconds ?? 0) }

    /// The broker's `server-properties` (`product`, `version`, `capabilities`…).
    public var serverProperties: AMQPTable { core.negotiated?.serverProperties ?? [:] }

    /// Declares `topology` (exchanges, then queues, then bindings); returns the queues' status.
    ///
    /// - Throws: `.preconditionFailed` when a name exists with other settings (the control
    ///   channel is reopened; the connection lives on), `.invalidConfiguration` for a queue
    ///   RabbitMQ would refuse, a lost connection.
    @discardableResult
    public func declare(_ topology: AMQPTopology) async throws(AMQPError) -> [AMQPQueueStatus] {
        try await core.perform { driver throws(AMQPError) in try driver.declare(topology) }
    }

    /// A passive `queue.declare`: the queue's message and consumer counts.
    ///
    /// - Throws: `.notFound` when there is no such queue.
    public func queueStatus(_ name: String) async throws(AMQPError) -> AMQPQueueStatus {
        try await core.perform { driver throws(AMQPError) in try driver.declareQueue(AMQPQueue(name: name), passive: true) }
    }

    /// Deletes a queue (its consumers are cancelled); returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws(AMQPError) -> UInt32 {
        try await core.perform { driver throws(AMQPError) in try driver.deleteQueue(name, ifUnused: ifUnused, ifEmpty: ifEmpty) }
    }

    /// Drops a queue's ready messages; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws(AMQPError) -> UInt32 {
        try await core.perform { driver throws(AMQPError) in try driver.purgeQueue(name) }
    }

    public func deleteExchange(_ name: String, ifUnused: Bool = false) async throws(AMQPError) {
        try await core.perform { driver throws(AMQPError) in try driver.deleteExchange(name, ifUnused: ifUnused) }
    }

    /// Starts a consumer on a channel of its own, with manual acks.
    ///
    /// - Parameters:
    ///   - prefetch: `basic.qos` for this consumer: at most this many unsettled deliveries
    ///     (the admission bound). Default: the configuration's `prefetch`.
    ///   - consumerTag: empty lets the broker name it.
    /// - Throws: `.notFound` for a missing queue, `.accessRefused` for an exclusive one in use.
    public func consume(
        queue: String, prefetch: UInt16? = nil, consumerTag: String = "", exclusive: Bool = false, arguments: AMQPTable = [:]
    ) async throws(AMQPError) -> AMQPConsumer {
        let sink = ConsumerSink(queue: queue)
        let prefetch = prefetch ?? core.configuration.prefetch
        let (number, incarnation, tag) = try await core.perform { driver throws(AMQPError) in
            let (channel, tag) = try driver.startConsumer(sink, prefetch: prefetch, tag: consumerTag, exclusive: exclusive, arguments: arguments)
            return (channel.number, channel.incarnation, tag)
        }
        return AMQPConsumer(connection: self, sink: sink, channel: number, incarnation: incarnation, consumerTag: tag, prefetch: prefetch)
    }

    /// A publisher on a channel of its own, in confirm mode.
    public func makePublisher() async throws(AMQPError) -> AMQPPublisher {
        let (number, incarnation) = try await core.perform { driver throws(AMQPError) in
            let channel = try driver.startPublisher()
            return (channel.number, channel.incarnation)
        }
        return AMQPPublisher(connection: self, channel: number, incarnation: incarnation)
    }

    /// `basic.get` with manual ack: the queue's next ready message, or `nil` when it has
    /// none. Settle it with `ack`/`nack`/`reject` on this connection; until then the broker
    /// keeps it (unacked), and redelivers it if the connection goes.
    public func get(from queue: String) async throws(AMQPError) -> AMQPDelivery? {
        try await core.performDeferred { driver, complete in driver.get(from: queue, complete: complete) }
    }

    public func settle(_ delivery: AMQPDelivery, _ settlement: AMQPSettlement, multiple: Bool = false) async throws(AMQPError) {
        let token = delivery.token
        guard token.connectionID == core.id else {
            throw AMQPError(code: .staleDelivery, message: "delivery #\(token.deliveryTag) came from another connection: not settled here (the broker redelivers it)")
        }
        try await core.perform(isSettlement: true) { driver throws(AMQPError) in try driver.settle(token, settlement, multiple: multiple) }
    }

    /// Closes cleanly: cancels every consumer (`basic.cancel`), waits up to `closeTimeout`
    /// for outstanding confirms (failing the rest with `.closed`), closes every channel and
    /// the connection, and frees the C connection. Unsettled deliveries go back to their
    /// queues. Calls after the first wait for the same close.
    public func close() async {
        await core.close(wait: true)
    }
}

/// Facts about librabbitmq and this module's threads.
public enum AMQPLibrary {
    /// librabbitmq's version, e.g. `0.11.0`.
    public static var version: String { String(cString: amqp_version()) }

    /// Connection threads running in this process right now: a leak check.
    public static var connectionThreads: Int { ConnectionDriver.liveThreads.load(ordering: .relaxed) }

    /// C connections (`amqp_connection_state_t`) not yet freed in this process.
    public static var liveConnections: Int { ConnectionHandle.live.load(ordering: .relaxed) }
}
