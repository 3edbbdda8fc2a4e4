import Daemon
import Foundation
import Kafka
import Logging
import MediadTestSupport
import ObjectStorage
import Prometheus
import ServiceLifecycle

import Synchronization

/// A real daemon in this process: librdkafka's mock cluster over loopback TCP (or noida-db,
/// `HarnessBroker`), a local object store (or moto), the shipped pipelines. Tests produce
/// events like a file service and read `media.processed` like a notification service.
final class DaemonHarness: Sendable {
    let broker: HarnessBroker
    let configuration: DaemonConfiguration
    let application: DaemonApplication
    let registry: PrometheusCollectorRegistry
    let root: URL
    let producer: KafkaProducer
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// - Parameters:
    ///   - cluster, root: reuse a broker and a store (a restarted daemon).
    ///   - broker: run on this broker instead (noida-db); its topics are created when missing.
    ///   - logs: also records the daemon's log lines (notice and above) there.
    init(
        cluster existing: MockKafkaCluster? = nil, broker chosen: HarnessBroker? = nil, root existingRoot: URL? = nil,
        logs: LogRecorder? = nil, adjust: (inout DaemonConfiguration) -> Void = { _ in }
    ) async throws {
        broker = try chosen ?? .mock(existing ?? MockKafkaCluster(brokers: 1))
        root = try existingRoot ?? TestPaths.temporaryDirectory("daemon")
        var configuration = DaemonConfiguration.testing(root: root, instance: "test")
        configuration.brokers = broker.bootstrapServers
        adjust(&configuration)
        switch broker {
        case .mock(let cluster):
            for (topic, partitions) in [(configuration.topic, 2), (configuration.outputTopic, 2), (configuration.dlqTopic, 1)] where existing == nil && chosen == nil {
                try cluster.createTopic(name: topic, partitions: partitions)
            }
        case .noida(let noida):
            try await noida.createTopics(configuration)
        }
        self.configuration = configuration
        registry = PrometheusCollectorRegistry()
        var logger = Logger(label: "test.daemon")
        logger.logLevel = .warning
        if let logs {
            // Each handler keeps its own level (setting the logger's would set both).
            logger = Logger(label: "test.daemon") { label in
                var printed = StreamLogHandler.standardError(label: label)
                printed.logLevel = logs.printLevel
                return MultiplexLogHandler([printed, logs.handler(level: .notice)])
            }
        }
        application = try DaemonApplication.build(configuration: configuration, registry: registry, logger: logger)
        if existingRoot == nil { try await application.store.createBucket("uploads") }
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers]), logger: .quietKafka)
        let group = ServiceGroup(configuration: .init(services: application.services, logger: logger))
        self.group = group
        running = Task { try await group.run() }
    }

    /// The mock cluster the daemon runs on (all but the noida-db harnesses).
    var cluster: MockKafkaCluster {
        guard case .mock(let cluster) = broker else { fatalError("this harness daemon runs on noida-db") }
        return cluster
    }

    /// The daemon's Kafka side (every harness daemon runs on Kafka).
    var kafka: KafkaTransport {
        guard let kafka = application.daemon.transport as? KafkaTransport else { fatalError("the harness daemon runs on Kafka") }
        return kafka
    }

    /// Stores a fixture as an upload and returns its ETag and size.
    func put(_ fixture: URL, key: String) async throws -> ObjectInfo {
        try await application.store.put(bucket: "uploads", key: key, file: fixture, options: PutOptions())
    }

    /// Produces like a file service; returns where the broker stored the record.
    @discardableResult
    func send(_ value: [UInt8], key: String? = nil, headers: KafkaHeaders = [], topic: String? = nil) async throws -> DeliveryReport {
        try await producer.send(topic: topic ?? configuration.topic, key: key.map { Array($0.utf8) }, value: value, headers: headers)
    }

    /// A structured-mode file.uploaded CloudEvent.
    static func cloudEvent(fileId: String, key: String, extra: [String: Any] = [:]) throws -> [UInt8] {
        var data: [String: Any] = ["fileId": fileId, "bucket": "uploads", "key": key]
        data.merge(extra) { $1 }
        let event: [String: Any] = ["specversion": "1.0", "id": UUID().uuidString, "source": "/tests", "type": "file.uploaded", "data": data]
        return Array(try JSONSerialization.data(withJSONObject: event))
    }

    /// Reads `count` records from the given topics with a fresh consumer group.
    func collect(_ count: Int, topics: [String], timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        try await KafkaReader.collect(count, topics: topics, bootstrapServers: broker.bootstrapServers, timeout: timeout)
    }

    /// The daemon group's committed offsets (or another group's: the reprocess lane's).
    func committed(topic: String, partitions: Int, group: String? = nil) async throws -> [Int32: Int64] {
        try await KafkaReader.committed(group: group ?? configuration.group, topic: topic, partitions: partitions, bootstrapServers: broker.bootstrapServers)
    }

    func metricsText() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Graceful shutdown, as on SIGTERM.
    func stop(keepStore: Bool = false) async throws {
        await group.triggerGracefulShutdown()
        // However the daemon ended, the rest is released: an S3 store's HTTP client freed
        // without a shutdown traps, which would end every suite of the test process.
        let ended = await running.result
        await producer.close()
        if let s3 = application.store as? S3ObjectStore { try? await s3.shutdown() }
        if !keepStore { try? FileManager.default.removeItem(at: root) }
        try ended.get()
    }
}

extension DaemonConfiguration {
    /// What every test daemon shares: a local store at `root`, the shipped pipelines, a free
    /// HTTP port on loopback, two worker slots and quick retries.
    static func testing(root: URL, instance: String) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.storage = "local"
        configuration.storageRoot = root.path
        configuration.pipelines = TestPaths.pipelines.path
        configuration.httpPort = 0
        configuration.httpHost = "127.0.0.1"
        configuration.instance = instance
        configuration.concurrency = 2
        configuration.retryBaseDelay = .milliseconds(20)
        return configuration
    }

    /// Points the daemon at an S3 API server (moto, or a relay in front of it) instead of
    /// the local store.
    mutating func useS3(endpoint: String, moto: MotoHarness) {
        storage = "s3"
        s3Endpoint = endpoint
        s3Region = moto.info.region
        s3AccessKeyId = moto.info.accessKeyId
        s3SecretAccessKey = moto.info.secretAccessKey
        s3PathStyle = true
    }

    /// A short session timeout: the mock cluster waits `session.timeout.ms − 1 s` before
    /// each rebalance after the first (`MockKafkaCluster`).
    mutating func useShortSessionTimeout() {
        kafka["session.timeout.ms"] = "6000"
        kafka["heartbeat.interval.ms"] = "500"
    }
}
