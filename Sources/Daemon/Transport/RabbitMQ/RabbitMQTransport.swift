import AMQP
import Events
import Logging
import ServiceLifecycle
import Synchronization

/// The RabbitMQ transport: one supervised connection (reconnecting with backoff, the
/// topology declared on each), a consumer per lane with manual acks and `basic.qos`
/// prefetch as the admission bound, and publisher confirms. A delivery is acked only after
/// its outcome is confirmed; one of a lost connection is void and comes again, answered
/// from the manifest.
public final class RabbitMQTransport: DaemonTransport {
    public let names: AMQPNames
    public let supervisor: AMQPConnectionSupervisor
    let uploads: AMQPSupervisedConsumer
    let backfill: AMQPSupervisedConsumer?
    let metrics: DaemonMetrics
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var stopping = false
        var stoppingTask: Task<Void, Never>?
        var ticks = 0
    }

    /// - Parameters:
    ///   - prefetch: unacked deliveries of the upload lane (the admission capacity).
    ///   - backfillPrefetch: of the backfill lane (the worker slots: it only gets spare ones).
    public init(
        configuration: AMQPConfiguration, names: AMQPNames, prefetch: Int, backfillPrefetch: Int,
        metrics: DaemonMetrics, logger: Logger
    ) {
        self.names = names
        self.metrics = metrics
        self.logger = logger
        supervisor = AMQPConnectionSupervisor(configuration: configuration, topology: names.topology, logger: logger)
        uploads = supervisor.consumer(queue: names.queue, prefetch: UInt16(clamping: max(1, prefetch)))
        backfill = names.reprocessQueue.isEmpty ? nil : supervisor.consumer(queue: names.reprocessQueue, prefetch: UInt16(clamping: max(1, backfillPrefetch)))
    }

    public var summary: String {
        "rabbitmq \(supervisor.configuration.redactedURI): \(names.queue) → \(names.outputExchange)"
    }

    public func hasLane(_ lane: IntakeLane) -> Bool { lane == .uploads || backfill != nil }

    public var readiness: [String: Bool] { ["broker connection": supervisor.isReady] }

    public func start() async throws {
        supervisor.start()
    }

    public func consume(_ lane: IntakeLane, receive: (InboundMessage) async -> Bool) async {
        guard let consumer = lane == .uploads ? uploads : backfill else { return }
        let supervisor = supervisor, logger = logger
        for await event in consumer.events.cancelOnGracefulShutdown() {
            switch event {
            case .delivery(let delivery):
                let message = InboundMessage(
                    key: AMQPRecords.key(of: delivery), value: delivery.body, headers: AMQPRecords.headers(of: delivery),
                    source: consumer.queue, partition: 0, position: Int64(clamping: delivery.deliveryTag), redelivered: delivery.redelivered,
                    settle: {
                        do throws(AMQPError) {
                            try await supervisor.ack(delivery)
                        } catch {
                            // Its connection is gone: the broker redelivers it, and the
                            // manifest answers it.
                            logger.warning("ack failed; the message will be redelivered", metadata: ["amqp.error": "\(error)"])
                        }
                    })
                guard await receive(message) else { return }
            case .consuming(let generation):
                logger.info("consuming", metadata: ["queue": "\(consumer.queue)", "prefetch": "\(consumer.prefetch)", "amqp.generation": "\(generation)"])
            case .interrupted(let error):
                logger.warning("consumer interrupted; unacked deliveries will be redelivered", metadata: ["queue": "\(consumer.queue)", "amqp.error": "\(error)"])
            case .cancelledByBroker:
                logger.warning("the broker cancelled the consumer; declaring the topology again", metadata: ["queue": "\(consumer.queue)"])
            }
        }
    }

    /// Prefetch already bounds what the broker sends: nothing to do.
    public func pause(_ lane: IntakeLane) {}
    public func resume(_ lane: IntakeLane) {}

    /// Returns once the broker confirmed the message. Dead letters are `mandatory`: one the
    /// dead-letter queue did not take is not confirmed as sent.
    public func publish(_ record: OutboundRecord, to destination: OutboundDestination) async throws {
        let message = AMQPRecords.message(key: record.key, value: record.value, headers: record.headers)
        switch destination {
        case .intake:
            // Mandatory: an input nothing is bound to take is not confirmed as sent.
            try await supervisor.publish(message, exchange: names.exchange, routingKey: record.eventType ?? "file.uploaded", mandatory: true)
        case .results:
            try await supervisor.publish(message, exchange: names.outputExchange, routingKey: record.eventType ?? "media.processed")
        case .deadLetters:
            let source = record.headers.last { $0.0 == DeadLetter.Header.originalTopic }?.1.map { String(decoding: $0, as: UTF8.self) }
            try await supervisor.publish(message, exchange: names.deadLetterExchange, routingKey: source ?? names.queue, mandatory: true)
        }
    }

    public func address(of destination: OutboundDestination) -> String {
        switch destination {
        case .intake: names.exchange
        case .results: names.outputExchange
        case .deadLetters: names.deadLetterExchange
        }
    }

    /// Every 5 s: the input queue's ready messages as the consumer lag (one `queue.declare`
    /// passive round trip).
    public func maintain() async {
        let due = state.withLock { state in
            state.ticks += 1
            return state.ticks % 5 == 0
        }
        guard due, let connection = supervisor.connection else { return }
        for queue in [names.queue, names.reprocessQueue] where !queue.isEmpty {
            if let status = try? await connection.queueStatus(queue) {
                metrics.consumerLag(topic: queue, partition: 0, lag: Int64(status.messageCount))
            }
        }
    }

    /// `basic.cancel` for both consumers: the broker sends no more; what was delivered can
    /// still be acked while in-flight jobs finish.
    public func stopIntake() {
        state.withLock { state in
            guard !state.stopping else { return }
            state.stopping = true
            let supervisor = supervisor
            state.stoppingTask = Task { await supervisor.stopConsuming() }
        }
    }

    /// Waits for outstanding confirms, then closes channels and the connection; unacked
    /// deliveries go back to their queue.
    public func close() async {
        stopIntake()
        await state.withLock { $0.stoppingTask }?.value
        await supervisor.shutdown()
        logger.info("rabbitmq closed")
    }
}
