import Foundation
import Logging
import MediadTestSupport
import Synchronization
import Testing

@testable import AMQP

/// A test's broker, vhost and connection settings.
struct AMQPTestContext {
    let broker: RabbitMQHarness
    let vhost: RabbitMQVirtualHost

    /// The shared broker (started on first use) and a fresh vhost.
    static func make(_ label: String) async throws -> AMQPTestContext {
        let broker = try await RabbitMQHarness.shared()
        return AMQPTestContext(broker: broker, vhost: try await broker.makeVirtualHost(label))
    }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: "amqp-tests.\(label)")
        logger.logLevel = ProcessInfo.processInfo.environment["AMQP_TEST_LOG"] == nil ? .critical : .debug
        return logger
    }

    /// Short timeouts, a `connection_name` to find the connection by in `rabbitmqctl`.
    func configuration(name: String = "test-\(UUID().uuidString.prefix(8))") throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(uri: vhost.uri)
        configuration.connectionName = name
        configuration.heartbeat = .seconds(5)
        configuration.confirmTimeout = .seconds(15)
        configuration.closeTimeout = .seconds(5)
        configuration.rpcTimeout = .seconds(20)
        return configuration
    }

    func connect(name: String = "test-\(UUID().uuidString.prefix(8))", configure: (inout AMQPConfiguration) -> Void = { _ in }) async throws -> AMQPConnection {
        var configuration = try configuration(name: name)
        configure(&configuration)
        return try await AMQPConnection.connect(configuration, logger: Self.logger(name))
    }

    /// A quorum queue `name` bound to a topic exchange `<name>.x` with routing key `name`.
    func queueTopology(_ name: String, deliveryLimit: Int? = nil, deadLetterExchange: String? = nil) -> AMQPTopology {
        AMQPTopology(
            exchanges: [AMQPExchange(name: "\(name).x", kind: .topic)],
            queues: [AMQPQueue(name: name, deliveryLimit: deliveryLimit, deadLetterExchange: deadLetterExchange)],
            bindings: [AMQPBinding(queue: name, exchange: "\(name).x", routingKey: name)]
        )
    }

    /// The broker's counts for `queue` in this vhost.
    func counts(_ queue: String) async throws -> (ready: Int, unacked: Int, consumers: Int)? {
        try await broker.queues(in: vhost.name)[queue]
    }
}

/// Reads an event sequence in the background so a test can wait for conditions on what
/// arrived.
final class Recorder<Event: Sendable>: Sendable {
    private let recorded = Mutex<[Event]>([])
    private let finished = Atomic<Bool>(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ sequence: AMQPEventSequence<Event>) {
        let reader = Task { [self] in
            for await event in sequence { recorded.withLock { $0.append(event) } }
            finished.store(true, ordering: .releasing)
        }
        task.withLock { $0 = reader }
    }

    var events: [Event] { recorded.withLock { $0 } }
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    func stop() { task.withLock { $0?.cancel() } }

    func wait(
        for what: String, timeout: Duration = .seconds(60), _ condition: ([Event]) -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await waitUntil(what, timeout: timeout) { condition(events) }
    }
}

extension Recorder where Event == AMQPConsumerEvent {
    var deliveries: [AMQPDelivery] {
        events.compactMap { if case .delivery(let delivery) = $0 { delivery } else { nil } }
    }
    var bodies: [String] { deliveries.map { String(decoding: $0.body, as: UTF8.self) } }
}

extension Recorder where Event == AMQPSupervisedConsumer.Event {
    var deliveries: [AMQPDelivery] {
        events.compactMap { if case .delivery(let delivery) = $0 { delivery } else { nil } }
    }
    var interruptions: [AMQPError] {
        events.compactMap { if case .interrupted(let error) = $0 { error } else { nil } }
    }
    var generations: [Int] {
        events.compactMap { if case .consuming(let generation) = $0 { generation } else { nil } }
    }
}

/// Waits until `condition` holds, checking every 20 ms.
/// - Throws: `WaitTimeout` after `timeout`.
func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimeout(description: "timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// How long an async operation took.
func measure(_ body: () async throws -> Void) async rethrows -> Duration {
    let start = ContinuousClock.now
    try await body()
    return ContinuousClock.now - start
}

func message(_ text: String, id: String? = nil, headers: AMQPTable = [:]) -> AMQPMessage {
    AMQPMessage(body: Array(text.utf8), properties: AMQPProperties(headers: headers, messageID: id))
}

func text(_ delivery: AMQPDelivery) -> String { String(decoding: delivery.body, as: UTF8.self) }

/// Publishes `bodies` to `exchange`/`routingKey` concurrently, each with its confirm.
func publishAll(_ publisher: AMQPPublisher, _ bodies: [String], exchange: String, routingKey: String) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for body in bodies {
            group.addTask { try await publisher.publish(message(body, id: body), exchange: exchange, routingKey: routingKey) }
        }
        try await group.waitForAll()
    }
}

/// What an operation ended with, as a value.
func outcome(_ body: () async throws(AMQPError) -> Void) async -> Result<Void, AMQPError> {
    do throws(AMQPError) {
        try await body()
        return .success(())
    } catch {
        return .failure(error)
    }
}

/// A counter tasks can share.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    var value: Int { storage.load(ordering: .acquiring) }
    func increment() { storage.add(1, ordering: .acquiringAndReleasing) }
}
