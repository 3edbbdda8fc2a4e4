import Foundation
import Logging
import MediadTestSupport
import Synchronization
import Testing

@testable import Kafka

/// The brokers the Kafka suites run against: one suite, every broker.
enum BrokerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// librdkafka's mock cluster, in process (the only one with fault injection).
    case mock
    /// noida-db, an independent implementation of the Kafka protocol, as a real process.
    case noida

    var testDescription: String { rawValue }
}

/// A test's broker, consumers and producers, with the short timeouts the mock needs
/// (`MockKafkaCluster`: rebalances wait `session.timeout.ms − 1 s`). Each test has a broker of its
/// own: a fresh mock cluster, or a fresh noida-db process and data directory.
struct KafkaHarness {
    let kind: BrokerKind
    let bootstrapServers: String
    private let mock: MockKafkaCluster?
    /// The noida-db process, for `.noida`.
    let noida: NoidaHarness?

    /// A mock cluster of `brokers` brokers, for tests that inject faults.
    init(brokers: Int = 1) throws {
        let cluster = try MockKafkaCluster(brokers: brokers, logger: Self.logger("mock"))
        kind = .mock
        mock = cluster
        noida = nil
        bootstrapServers = cluster.bootstrapServers
    }

    private init(noida: NoidaHarness) {
        kind = .noida
        mock = nil
        self.noida = noida
        bootstrapServers = noida.bootstrapServers
    }

    /// A fresh broker of `kind`.
    static func start(_ kind: BrokerKind) async throws -> KafkaHarness {
        switch kind {
        case .mock: try KafkaHarness()
        case .noida: KafkaHarness(noida: try await NoidaHarness.start())
        }
    }

    /// The mock cluster, for its fault injection; only mock-only tests ask for it.
    var cluster: MockKafkaCluster {
        guard let mock else { preconditionFailure("\(kind) has no mock cluster: the test is for the mock only") }
        return mock
    }

    /// Creates a topic: on the mock directly, on a real broker through CreateTopics.
    func createTopic(name: String, partitions: Int) async throws {
        switch kind {
        case .mock: try cluster.createTopic(name: name, partitions: partitions)
        case .noida: try await noida!.createTopic(name: name, partitions: partitions)
        }
    }

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: "kafka-tests.\(label)")
        // librdkafka warnings (broker down, etc.) are expected in fault tests; keep output quiet.
        logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG"] == nil ? .critical : .debug
        return logger
    }

    func consumerConfiguration(
        group: String, strategy: KafkaConsumerConfiguration.AssignmentStrategy = .cooperativeSticky
    ) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrapServers], groupID: group)
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.maxPollInterval = .seconds(6)
        configuration.assignmentStrategy = strategy
        configuration.pollTimeout = .milliseconds(50)
        configuration.closeTimeout = .seconds(5)
        if let debug = ProcessInfo.processInfo.environment["KAFKA_TEST_DEBUG"] {
            configuration.options["debug"] = debug  // librdkafka contexts, e.g. "cgrp,fetch"
        }
        return configuration
    }

    func makeConsumer(
        group: String, strategy: KafkaConsumerConfiguration.AssignmentStrategy = .cooperativeSticky,
        configure: (inout KafkaConsumerConfiguration) -> Void = { _ in },
        onRevoke: KafkaRevokeHook? = nil
    ) throws -> KafkaConsumer {
        var configuration = consumerConfiguration(group: group, strategy: strategy)
        configure(&configuration)
        return try KafkaConsumer(configuration: configuration, onRevoke: onRevoke, logger: Self.logger("consumer"))
    }

    func makeProducer(configure: (inout KafkaProducerConfiguration) -> Void = { _ in }) throws -> KafkaProducer {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [bootstrapServers])
        configuration.linger = .milliseconds(1)
        configuration.messageTimeout = .seconds(30)
        configuration.closeTimeout = .seconds(5)
        configure(&configuration)
        return try KafkaProducer(configuration: configuration, logger: Self.logger("producer"))
    }

    /// Sends `count` records `value-<i>` keyed `key-<i>` and returns their reports in order.
    @discardableResult
    func produce(_ producer: KafkaProducer, topic: String, range: Range<Int>, prefix: String = "value") async throws -> [DeliveryReport] {
        try await withThrowingTaskGroup(of: (Int, DeliveryReport).self) { group in
            for index in range {
                group.addTask {
                    let report = try await producer.send(
                        topic: topic, key: Array("key-\(index)".utf8), value: Array("\(prefix)-\(index)".utf8)
                    )
                    return (index, report)
                }
            }
            var reports: [(Int, DeliveryReport)] = []
            for try await report in group { reports.append(report) }
            return reports.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// Reads a consumer's events in the background and lets a test wait for a condition.
final class EventRecorder: Sendable {
    private let recorded = Mutex<[KafkaConsumerEvent]>([])
    private let finished = Atomic<Bool>(false)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ consumer: KafkaConsumer) {
        let events = consumer.events
        let reader = Task { [self] in
            for await event in events {
                recorded.withLock { $0.append(event) }
            }
            finished.store(true, ordering: .releasing)
        }
        task.withLock { $0 = reader }
    }

    var events: [KafkaConsumerEvent] { recorded.withLock { $0 } }
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    var messages: [KafkaMessage] {
        events.compactMap { event in
            if case .message(let message) = event { return message }
            return nil
        }
    }

    var assigned: [[TopicPartition]] {
        events.compactMap { event in
            if case .partitionsAssigned(let partitions) = event { return partitions }
            return nil
        }
    }

    var revoked: [(partitions: [TopicPartition], lost: Bool)] {
        events.compactMap { event in
            if case .partitionsRevoked(let partitions, let lost) = event { return (partitions, lost) }
            return nil
        }
    }

    var errors: [KafkaError] {
        events.compactMap { event in
            if case .error(let error) = event { return error }
            return nil
        }
    }

    /// Values of the messages received, as strings.
    var values: [String] { messages.map { String(decoding: $0.value ?? [], as: UTF8.self) } }

    func stop() {
        task.withLock { $0?.cancel() }
    }

    /// Waits until `condition` holds, checking every 20 ms. The generous default deadline is
    /// for a loaded CI machine running other suites in parallel; passing tests never wait it out.
    ///
    /// - Throws: `WaitTimeout` after `timeout`, describing what was recorded.
    func wait(
        for what: String, timeout: Duration = .seconds(60), _ condition: (EventRecorder) -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else {
                let seen = "\(messages.count) messages, assigned \(assigned), revoked \(revoked.map(\.partitions)), errors \(errors)"
                throw WaitTimeout(description: "timed out after \(timeout) waiting for \(what); \(seen)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A counter tasks can share.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    var value: Int { storage.load(ordering: .acquiring) }
    func increment() { storage.add(1, ordering: .acquiringAndReleasing) }
}

/// Seconds an async operation took.
func measure(_ body: () async throws -> Void) async rethrows -> Duration {
    let start = ContinuousClock.now
    try await body()
    return ContinuousClock.now - start
}

func text(_ bytes: [UInt8]?) -> String? {
    bytes.map { String(decoding: $0, as: UTF8.self) }
}
