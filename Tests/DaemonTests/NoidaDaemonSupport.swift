import Daemon
import Foundation
import Kafka
import MediadTestSupport

/// The broker a harness daemon runs on.
enum HarnessBroker: Sendable {
    /// librdkafka's mock cluster, in this process.
    case mock(MockKafkaCluster)
    /// noida-db, an independent implementation of the Kafka protocol, as a real process.
    case noida(NoidaHarness)

    var bootstrapServers: String {
        switch self {
        case .mock(let cluster): cluster.bootstrapServers
        case .noida(let noida): noida.bootstrapServers
        }
    }
}

extension NoidaHarness {
    /// The daemon's topics as the harness partitions them (uploads, reprocess and results 2,
    /// dead letters 1), where missing: noida-db would auto-create them with one partition.
    func createTopics(_ configuration: DaemonConfiguration) async throws {
        let topics = [(configuration.topic, 2), (configuration.reprocessTopic, 2), (configuration.outputTopic, 2), (configuration.dlqTopic, 1)]
        try await KafkaAdmin.createTopics(
            topics.map { KafkaAdmin.NewTopic(name: $0.0, partitions: $0.1) }, bootstrapServers: [bootstrapServers], ignoreExisting: true)
    }
}

extension DaemonHarness {
    /// A daemon on its own fresh noida-db (short session timeout, as every multi-member
    /// test uses); `stopAll` stops both.
    static func onNoida(
        _ noida: NoidaHarness? = nil, root: URL? = nil, logs: LogRecorder? = nil, adjust: (inout DaemonConfiguration) -> Void = { _ in }
    ) async throws -> DaemonHarness {
        let broker: NoidaHarness
        if let noida { broker = noida } else { broker = try await NoidaHarness.start() }
        return try await DaemonHarness(broker: .noida(broker), root: root, logs: logs) { configuration in
            configuration.useShortSessionTimeout()
            adjust(&configuration)
        }
    }

    /// The noida-db process this daemon runs on.
    var noida: NoidaHarness {
        guard case .noida(let noida) = broker else { fatalError("this harness daemon runs on the mock cluster") }
        return noida
    }

    /// Produces to one partition (the partitioner is bypassed), so a test can load every partition.
    func send(_ value: [UInt8], key: String, partition: Int32, topic: String? = nil, headers: KafkaHeaders = []) async throws -> DeliveryReport {
        try await producer.send(topic: topic ?? configuration.topic, partition: partition, key: Array(key.utf8), value: value, headers: headers)
    }

    /// Runs `body` with a watcher of the daemon's outcomes (a fresh group from the start),
    /// then stops the watcher, the daemon and its broker, whether `body` threw or not.
    func withOutcomeWatcher(_ body: (OutcomeWatcher) async throws -> Void) async throws {
        let watcher: OutcomeWatcher
        do {
            watcher = try await OutcomeWatcher(bootstrapServers: broker.bootstrapServers, topics: [configuration.outputTopic])
        } catch {
            await stopAll()
            throw error
        }
        do {
            try await body(watcher)
        } catch {
            await watcher.stop()
            await stopAll()
            throw error
        }
        await watcher.stop()
        await stopAll()
    }

    /// Stops the daemon (gracefully) and then its broker.
    func stopAll() async {
        try? await stop()
        await noida.stop()
    }
}

extension DaemonConfiguration {
    /// The eager `range` assignor instead of cooperative-sticky, which noida-db 0.2.3 does not
    /// settle when a member joins a running group (see `NoidaDaemonTests`).
    mutating func useEagerAssignment() {
        kafka["partition.assignment.strategy"] = "range"
    }
}
