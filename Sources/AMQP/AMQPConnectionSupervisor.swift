import Logging
import Synchronization

/// Keeps one connection up: connects, declares the topology, opens a publisher and starts
/// the registered consumers; when the connection is lost it reports it, waits (`backoff`)
/// and does it all again, for as long as it runs. `state` (and `stateChanges()`) say where
/// it stands, for `/readyz`.
///
/// Deliveries of a lost connection are void: the broker redelivers them to the next
/// consumer, and settling one throws `.staleDelivery` without sending anything, so nothing
/// is acked on a connection that did not deliver it.
///
/// ```swift
/// let supervisor = AMQPConnectionSupervisor(configuration: config, topology: topology)
/// let input = supervisor.consumer(queue: "media.input", prefetch: 8)
/// supervisor.start()
/// for await event in input.events {
///     switch event {
///     case .delivery(let delivery):
///         try await supervisor.publish(output, exchange: "media.events", routingKey: "image.processed")
///         try await supervisor.ack(delivery)
///     case .interrupted, .consuming, .cancelledByBroker: break  // work of an interrupted connection is redelivered
///     }
/// }
/// ```
public final class AMQPConnectionSupervisor: AMQPDeliverySettling {
    private struct State {
        var phase: AMQPConnectionState = .connecting(attempt: 1)
        var started = false
        var stopping = false
        var consumingStopped = false
        var generation = 0
        var connection: AMQPConnection?
        var publisher: AMQPPublisher?
        var consumers: [AMQPSupervisedConsumer] = []
        var listeners: [Int: AsyncStream<AMQPConnectionState>.Continuation] = [:]
        var nextListener = 0
        var task: Task<Void, Never>?
    }

    public let configuration: AMQPConfiguration
    public let topology: AMQPTopology
    public let backoff: AMQPBackoff
    let logger: Logger
    private let state = Mutex(State())

    public init(
        configuration: AMQPConfiguration, topology: AMQPTopology, backoff: AMQPBackoff = AMQPBackoff(),
        logger: Logger = Logger(label: "mediad.amqp.supervisor")
    ) {
        self.configuration = configuration
        self.topology = topology
        self.backoff = backoff
        self.logger = logger
    }

    deinit {
        let listeners = state.withLock { state in
            state.task?.cancel()
            defer { state.listeners.removeAll() }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish() }
    }

    /// Starts connecting (once; later calls do nothing).
    public func start() {
        state.withLock { state in
            guard !state.started, !state.stopping else { return }
            state.started = true
            state.task = Task { [self] in await supervise() }
        }
    }

    public var currentState: AMQPConnectionState { state.withLock { $0.phase } }

    /// Connected, topology declared, consumers started.
    public var isReady: Bool { currentState.isReady }

    /// The current connection, while there is one (for `queueStatus`, `get`…). Do not
    /// iterate its `events`: the supervisor does.
    public var connection: AMQPConnection? { state.withLock { $0.connection } }

    /// The current state, then every change, until `shutdown()`. Any number of readers.
    public func stateChanges() -> AsyncStream<AMQPConnectionState> {
        let (stream, continuation) = AsyncStream<AMQPConnectionState>.makeStream(bufferingPolicy: .unbounded)
        let closed: Bool = state.withLock { state in
            continuation.yield(state.phase)
            guard state.phase != .closed else { return true }
            let id = state.nextListener
            state.nextListener += 1
            state.listeners[id] = continuation
            continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.listeners.removeValue(forKey: id) } }
            return false
        }
        if closed { continuation.finish() }
        return stream
    }

    /// Waits until connected.
    ///
    /// - Throws: `.notConnected` (with the last error) after `timeout`, `.closed` after shutdown.
    public func waitUntilConnected(timeout: Duration) async throws(AMQPError) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let phase = currentState
            switch phase {
            case .connected: return
            case .closed: throw .closed("the supervisor was shut down")
            case .connecting, .disconnected: break
            }
            guard ContinuousClock.now < deadline else {
                throw AMQPError(code: .notConnected, message: "not connected within \(timeout): \(phase)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Registers a consumer, started on every connection (now, if one is up).
    public func consumer(queue: String, prefetch: UInt16? = nil) -> AMQPSupervisedConsumer {
        let consumer = AMQPSupervisedConsumer(supervisor: self, queue: queue, prefetch: prefetch ?? configuration.prefetch)
        let connection: (AMQPConnection, Int)? = state.withLock { state in
            state.consumers.append(consumer)
            if state.consumingStopped { consumer.buffer.finish() }
            guard case .connected = state.phase, let connection = state.connection else { return nil }
            return (connection, state.generation)
        }
        if let (connection, generation) = connection {
            Task { [self] in
                do throws(AMQPError) {
                    try await attach(consumer, to: connection, generation: generation)
                } catch {
                    logger.warning("Starting a consumer failed", metadata: ["amqp.queue": "\(queue)", "amqp.error": "\(error)"])
                }
            }
        }
        return consumer
    }

    // MARK: Operations on the current connection.

    /// Publishes with a confirm on the current connection (see `AMQPPublisher.publish`).
    ///
    /// - Throws: `.notConnected` while there is no connection (try again later), or the
    ///   publish's own failure.
    public func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = false, timeout: Duration? = nil
    ) async throws(AMQPError) {
        guard let publisher = state.withLock({ $0.publisher }) else {
            throw AMQPError(code: .notConnected, message: "no AMQP connection: \(currentState)")
        }
        do throws(AMQPError) {
            try await publisher.publish(message, exchange: exchange, routingKey: routingKey, mandatory: mandatory, timeout: timeout)
        } catch where error.isChannelClosed {
            // The broker closed the publisher's channel (e.g. 404 for a missing exchange):
            // later publishes get a new one on the same connection.
            await replace(publisher)
            throw error
        }
    }

    private func replace(_ failed: AMQPPublisher) async {
        guard state.withLock({ $0.publisher === failed }), failed.connection.isOpen else { return }
        do throws(AMQPError) {
            let replacement = try await failed.connection.makePublisher()
            state.withLock { state in
                if state.publisher === failed { state.publisher = replacement }
            }
        } catch {
            logger.warning("Replacing a closed publisher channel failed", metadata: ["amqp.error": "\(error)"])
        }
    }

    /// `basic.get` on the current connection (see `AMQPConnection.get(from:)`).
    public func get(from queue: String) async throws(AMQPError) -> AMQPDelivery? {
        try await currentConnection().get(from: queue)
    }

    /// Settles on the connection that delivered it; `.staleDelivery` if that one is gone.
    public func settle(_ delivery: AMQPDelivery, _ settlement: AMQPSettlement, multiple: Bool = false) async throws(AMQPError) {
        try await deliveringConnection(delivery).settle(delivery, settlement, multiple: multiple)
    }

    private func currentConnection() throws(AMQPError) -> AMQPConnection {
        guard let connection = state.withLock({ $0.connection }) else {
            throw AMQPError(code: .notConnected, message: "no AMQP connection: \(currentState)")
        }
        return connection
    }

    private func deliveringConnection(_ delivery: AMQPDelivery) throws(AMQPError) -> AMQPConnection {
        guard let connection = state.withLock({ $0.connection }), connection.core.id == delivery.token.connectionID else {
            throw AMQPError(
                code: .staleDelivery,
                message: "delivery #\(delivery.deliveryTag) came from a connection that is gone: not settled (the broker redelivers it)"
            )
        }
        return connection
    }

    // MARK: Shutdown.

    /// Cancels every consumer (`basic.cancel`) and starts no more: their events finish after
    /// what was delivered, which can still be settled while the connection is up.
    public func stopConsuming() async {
        let consumers: [AMQPSupervisedConsumer] = state.withLock { state in
            state.consumingStopped = true
            return state.consumers
        }
        for consumer in consumers { await consumer.stop() }
    }

    /// Stops consuming, waits up to `closeTimeout` for outstanding confirms, closes the
    /// connection (channels, then connection) and stops reconnecting. State becomes `.closed`.
    public func shutdown() async {
        await stopConsuming()
        let (connection, publisher, task): (AMQPConnection?, AMQPPublisher?, Task<Void, Never>?) = state.withLock { state in
            state.stopping = true
            return (state.connection, state.publisher, state.task)
        }
        if let publisher {
            do throws(AMQPError) {
                try await publisher.waitForConfirms(timeout: configuration.closeTimeout)
            } catch {
                logger.warning("Shutting down with publishes unconfirmed", metadata: ["amqp.error": "\(error)"])
            }
        }
        await connection?.close()
        task?.cancel()
        await task?.value
        let consumers = state.withLock { state in
            defer { state.consumers.removeAll() }
            return state.consumers
        }
        for consumer in consumers { consumer.buffer.finish() }
        set(.closed)
        let listeners = state.withLock { state in
            state.connection = nil
            state.publisher = nil
            defer { state.listeners.removeAll() }
            return Array(state.listeners.values)
        }
        // Outside the lock: finishing runs `onTermination`, which takes it.
        for listener in listeners { listener.finish() }
    }

    // MARK: The supervision loop.

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func set(_ phase: AMQPConnectionState) {
        state.withLock { state in
            guard state.phase != .closed else { return }
            state.phase = phase
            for listener in state.listeners.values { listener.yield(phase) }
        }
    }

    private func supervise() async {
        var attempt = 0
        while !isStopping {
            set(.connecting(attempt: attempt + 1))
            var connection: AMQPConnection?
            let failure: AMQPError
            do throws(AMQPError) {
                let opened = try await AMQPConnection.connect(configuration, logger: logger)
                connection = opened
                if isStopping {
                    await opened.close()
                    break
                }
                try await opened.declare(topology)
                let publisher = try await opened.makePublisher()
                let (generation, consumers): (Int, [AMQPSupervisedConsumer]) = state.withLock { state in
                    state.generation += 1
                    state.connection = opened
                    state.publisher = publisher
                    return (state.generation, state.consumingStopped ? [] : state.consumers)
                }
                for consumer in consumers { try await attach(consumer, to: opened, generation: generation) }
                set(.connected(generation: generation))
                logger.info("AMQP connected", metadata: ["amqp.uri": "\(configuration.redactedURI)", "amqp.generation": "\(generation)"])
                attempt = 0
                var lost: AMQPError?
                for await event in opened.events {
                    if case .closed(let error) = event { lost = error }
                }
                if isStopping { await opened.close() }
                state.withLock { state in
                    if state.connection === opened {
                        state.connection = nil
                        state.publisher = nil
                    }
                }
                failure = lost ?? .closed()
            } catch {
                failure = error
                await connection?.close()
                state.withLock { state in
                    if let connection, state.connection === connection {
                        state.connection = nil
                        state.publisher = nil
                    }
                }
            }
            if isStopping { break }
            let delay = backoff.delay(attempt: attempt)
            attempt += 1
            set(.disconnected(failure, retryIn: delay))
            logger.warning(
                "AMQP connection down; reconnecting", metadata: ["amqp.error": "\(failure)", "amqp.retry-in": "\(delay)"]
            )
            try? await Task.sleep(for: delay)
        }
    }

    /// Starts `consumer` on `connection` and forwards its events until that consumer ends.
    /// After a `basic.cancel` from the broker it declares the topology again and re-consumes
    /// (with backoff) for as long as the connection lives.
    func attach(_ consumer: AMQPSupervisedConsumer, to connection: AMQPConnection, generation: Int) async throws(AMQPError) {
        let started = try await connection.consume(queue: consumer.queue, prefetch: consumer.prefetch)
        guard consumer.setCurrent(started) else {
            try? await started.cancel()
            return
        }
        consumer.buffer.append(.consuming(generation: generation))
        Task { [self] in await forward(consumer, from: started, on: connection, generation: generation) }
    }

    private func forward(_ consumer: AMQPSupervisedConsumer, from started: AMQPConsumer, on connection: AMQPConnection, generation: Int) async {
        var current = started
        var attempt = 0
        while true {
            // Re-consume after a broker cancel, or after the broker closed only the channel.
            var restart = false
            for await event in current.events {
                switch event {
                case .delivery(let delivery): consumer.buffer.append(.delivery(delivery))
                case .cancelledByBroker:
                    restart = true
                    consumer.buffer.append(.cancelledByBroker)
                case .closed(let error):
                    restart = !error.isConnectionLost
                    consumer.buffer.append(.interrupted(error))
                }
            }
            guard restart, let again = await reconsume(consumer, on: connection, generation: generation, attempt: &attempt) else { return }
            current = again
        }
    }

    /// After the broker cancelled `consumer` (its queue was deleted…) or closed its channel:
    /// declares the topology again and re-consumes, with backoff, while the connection is up and the consumer wanted.
    private func reconsume(
        _ consumer: AMQPSupervisedConsumer, on connection: AMQPConnection, generation: Int, attempt: inout Int
    ) async -> AMQPConsumer? {
        while connection.isOpen, !consumer.isStopped, !isStopping {
            try? await Task.sleep(for: backoff.delay(attempt: attempt))
            attempt += 1
            do throws(AMQPError) {
                try await connection.declare(topology)
                let again = try await connection.consume(queue: consumer.queue, prefetch: consumer.prefetch)
                guard consumer.setCurrent(again) else {
                    try? await again.cancel()
                    return nil
                }
                consumer.buffer.append(.consuming(generation: generation))
                return again
            } catch {
                logger.warning("Re-consuming after a broker cancel failed", metadata: ["amqp.queue": "\(consumer.queue)", "amqp.error": "\(error)"])
                if error.isConnectionLost { return nil }
            }
        }
        return nil
    }
}

/// A consumer the supervisor starts on every connection: its events span reconnects.
public final class AMQPSupervisedConsumer: AMQPDeliverySettling {
    public enum Event: Sendable {
        /// A message: settle it through the supervisor (or this consumer).
        case delivery(AMQPDelivery)
        /// Consuming (again) on connection `generation`.
        case consuming(generation: Int)
        /// The channel or connection was lost: deliveries received before are void (the
        /// broker redelivers them; settling them throws `.staleDelivery`).
        case interrupted(AMQPError)
        /// The broker cancelled the consumer (queue deleted…); the supervisor declares the
        /// topology again and re-consumes.
        case cancelledByBroker
    }

    private struct State {
        var current: AMQPConsumer?
        var stopped = false
    }

    public let queue: String
    public let prefetch: UInt16
    let buffer = EventBuffer<Event>()
    private let state = Mutex(State())
    /// Strong: the supervisor keeps its consumers until `shutdown()`, which ends both.
    private let supervisor: AMQPConnectionSupervisor

    init(supervisor: AMQPConnectionSupervisor, queue: String, prefetch: UInt16) {
        self.supervisor = supervisor
        self.queue = queue
        self.prefetch = prefetch
    }

    /// Deliveries and what happened to the consumer, across connections; finishes after
    /// `stopConsuming()` or `shutdown()`. One reader at a time.
    public var events: AMQPEventSequence<Event> { buffer.sequence }

    /// Consuming on a live connection right now.
    public var isConsuming: Bool { state.withLock { $0.current }.map { $0.connection.isOpen && !$0.sink.buffer.isFinished } ?? false }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Records the consumer of a new connection; false once stopped.
    func setCurrent(_ consumer: AMQPConsumer) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.current = consumer
            return true
        }
    }

    func stop() async {
        let current: AMQPConsumer? = state.withLock { state in
            state.stopped = true
            return state.current
        }
        try? await current?.cancel()
        buffer.finish()
    }

    public func settle(_ delivery: AMQPDelivery, _ settlement: AMQPSettlement, multiple: Bool = false) async throws(AMQPError) {
        try await supervisor.settle(delivery, settlement, multiple: multiple)
    }
}
