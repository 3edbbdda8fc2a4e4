import ArgumentParser
import Daemon
import Foundation
import Kafka
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `mediad serve`: the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Consume file.uploaded, process on the bounded pool, emit media.processed.",
        discussion: """
            Settings come from --config FILE, MEDIAD_* environment variables and flags (later ones win); \
            `mediad config print` shows the result. S3 credentials and endpoint also come from the standard \
            AWS_* variables and profiles. With --embedded, everything runs in this process: librdkafka's mock \
            cluster as the broker and a local directory (--set storageRoot=DIR) as the store.
            """
    )

    @OptionGroup var options: ServeOptions

    @Flag(name: .long, help: "Run with an in-process Kafka mock cluster and local storage: no servers needed.")
    var embedded = false

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        var cluster: MockKafkaCluster?
        if embedded {
            let mock = try EmbeddedBroker.start()
            cluster = mock
            environment["MEDIAD_BROKERS"] = mock.bootstrapServers
            environment["MEDIAD_STORAGE"] = environment["MEDIAD_STORAGE"] ?? "local"
        }
        let loaded = try options.load(environment: environment)
        var configuration = loaded.configuration
        if embedded, options.brokers == nil { configuration.brokers = cluster?.bootstrapServers ?? configuration.brokers }
        LoggingBootstrap.once(level: Logger.Level(rawValue: configuration.logLevel) ?? .info, json: configuration.logFormat == "json")
        let logger = Logger(label: "mediad")
        if let cluster {
            try EmbeddedBroker.createTopics(cluster, configuration: configuration)
            logger.notice("embedded broker running", metadata: ["bootstrap": "\(cluster.bootstrapServers)", "storageRoot": "\(configuration.storageRoot)"])
            print("embedded broker: \(cluster.bootstrapServers)  (kcat -b \(cluster.bootstrapServers) -t \(configuration.outputTopic))")
        }
        let application = try DaemonApplication.build(
            configuration: configuration, registry: PrometheusCollectorRegistry(), logger: logger,
            onHTTPRunning: { port in logger.info("health and metrics endpoint", metadata: ["port": "\(port)"]) })
        let group = ServiceGroup(
            configuration: .init(services: application.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await application.shutdown()
            throw error
        }
        await application.shutdown()
        _ = cluster
    }
}

/// The in-process broker of `--embedded` and `mediad demo`.
enum EmbeddedBroker {
    static func start() throws -> MockKafkaCluster {
        try MockKafkaCluster(brokers: 1)
    }

    static func createTopics(_ cluster: MockKafkaCluster, configuration: DaemonConfiguration) throws {
        for (topic, partitions) in [(configuration.topic, 4), (configuration.outputTopic, 4), (configuration.dlqTopic, 1), (configuration.reprocessTopic, 2)] {
            try? cluster.createTopic(name: topic, partitions: partitions)
        }
    }
}
