import AMQP
import Foundation
import Kafka
import Logging
import MediaProcessing
import Metrics
import ObjectStorage
import PipelineEngine
import Prometheus
import ServiceLifecycle

/// Assembles `mediad serve` from its configuration: object store, pipelines, worker pool,
/// Kafka consumer and producer, the daemon, and the health/metrics endpoint (with the
/// webhook intake, when configured).
public struct DaemonApplication: Sendable {
    public let daemon: MediaDaemon
    public let services: [any Service]
    public let store: any ObjectStore
    public let pool: WorkerPool
    public let configuration: DaemonConfiguration

    /// - Parameters:
    ///   - registry: where metrics go; `/metrics` renders it.
    ///   - onHTTPRunning: receives the bound port (useful with `httpPort: 0`).
    /// - Throws: `ConfigurationError`, `PipelineConfigError`, `KafkaError` for what cannot start.
    public static func build(
        configuration: DaemonConfiguration, registry: PrometheusCollectorRegistry, logger: Logger,
        onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> DaemonApplication {
        let webhookConfiguration = try WebhookConfiguration.from(configuration)
        let store = try makeStore(configuration)
        let jobs = try makeJobRunner(configuration: configuration, store: store, logger: logger)
        let pool = jobs.processor.pool
        let metrics = DaemonMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let transport = try makeTransport(configuration: configuration, metrics: metrics, logger: logger)
        let daemon = MediaDaemon(configuration: configuration, transport: transport, jobs: jobs, metrics: metrics, logger: logger)
        let webhook = webhookConfiguration.map {
            WebhookIntake(configuration: $0, transport: transport, metrics: metrics, logger: logger)
        }
        if let webhook {
            logger.info("webhook intake on", metadata: [
                "path": "\(webhook.configuration.path)", "port": "\(configuration.httpPort)", "destination": "\(transport.address(of: .intake))",
            ])
        }

        let http = OperationsEndpoint.application(
            host: configuration.httpHost, port: configuration.httpPort,
            readiness: {
                var checks = transport.readiness
                // The store is probed through a bucket mediad writes to, when one is configured.
                if let bucket = configuration.derivativesBucket ?? configuration.defaultBucket {
                    let prefix = DerivativeLayout(template: configuration.keyTemplate).prefix
                    let listing = try? await store.listPage(bucket: bucket, prefix: prefix, startAfter: nil, continuationToken: nil, maxKeys: 1)
                    checks["object store"] = listing != nil
                }
                return Readiness(checks: checks)
            },
            metrics: {
                var buffer: [UInt8] = []
                registry.emit(into: &buffer)
                return String(decoding: buffer, as: UTF8.self)
            },
            webhook: webhook, onRunning: onHTTPRunning, logger: logger)
        return DaemonApplication(daemon: daemon, services: [http, daemon], store: store, pool: pool, configuration: configuration)
    }

    /// The broker the configuration names: Kafka (the default) or RabbitMQ.
    /// - Throws: `KafkaError` or `ConfigurationError` for a transport that cannot be set up.
    public static func makeTransport(configuration: DaemonConfiguration, metrics: DaemonMetrics, logger: Logger) throws -> any DaemonTransport {
        if configuration.transport == "rabbitmq" {
            var amqp = try configuration.amqpConfiguration()
            amqp.connectionName = amqp.connectionName ?? "mediad \(configuration.instance)"
            return RabbitMQTransport(
                configuration: amqp, names: AMQPNames(configuration),
                prefetch: configuration.amqpPrefetch > 0 ? configuration.amqpPrefetch : configuration.admissionCapacity,
                backfillPrefetch: configuration.concurrency, metrics: metrics, logger: logger)
        }
        let brokers = configuration.brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
        producerConfiguration.clientID = "mediad-\(configuration.instance)"
        producerConfiguration.options = configuration.kafka

        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: configuration.group)
        consumerConfiguration.clientID = "mediad-\(configuration.instance)"
        consumerConfiguration.statisticsInterval = .seconds(5)
        consumerConfiguration.options = configuration.kafka
        let topics = KafkaTransport.Topics(
            uploads: configuration.topic, reprocess: configuration.reprocessTopic, results: configuration.outputTopic,
            deadLetters: configuration.dlqTopic)
        let makeProducer: @Sendable () throws -> KafkaProducer = { [producerConfiguration] in
            try KafkaProducer(configuration: producerConfiguration, logger: logger)
        }
        return try KafkaTransport(topics: topics, metrics: metrics, logger: logger, producerFactory: makeProducer) { lane, hook in
            var consumerConfiguration = consumerConfiguration
            consumerConfiguration.groupID = lane == .uploads ? configuration.group : configuration.reprocessGroup
            return try KafkaConsumer(configuration: consumerConfiguration, onRevoke: hook, logger: logger)
        }
    }

    /// Releases what outlives the services: the S3 client's connections.
    public func shutdown() async {
        await daemon.jobs.processor.executor.shutdown()
        if let s3 = store as? S3ObjectStore { try? await s3.shutdown() }
    }

    /// The pipelines, the bounded worker pool and the job runner of a configuration: what
    /// `serve` runs per event and `reprocess` runs per file.
    /// - Throws: `PipelineConfigError` for invalid pipelines.
    public static func makeJobRunner(configuration: DaemonConfiguration, store: any ObjectStore, logger: Logger) throws -> JobRunner {
        let pipelines = try PipelineLoader.loadDirectory(URL(fileURLWithPath: configuration.pipelines))
        let pool = WorkerPool(slots: configuration.concurrency, queueDepth: configuration.effectiveQueueDepth, label: "mediad.workers")
        let processor = MediaProcessor(
            pipelines: pipelines, executor: try makeExecutor(configuration: configuration, pipelines: pipelines, pool: pool, logger: logger),
            logger: logger, scratchDirectory: URL(fileURLWithPath: configuration.scratchDirectory))
        return JobRunner(
            processor: processor, store: store,
            settings: .init(
                derivativesBucket: configuration.derivativesBucket, keyTemplate: configuration.keyTemplate,
                retryAttempts: configuration.retryAttempts, retryBaseDelay: configuration.retryBaseDelay,
                scratchDirectory: URL(fileURLWithPath: configuration.scratchDirectory)),
            ledger: AttemptLedger(store: store, maxCrashes: configuration.maxCrashes, instance: configuration.instance),
            logger: logger)
    }

    /// Worker processes (`isolation: process`) or the pool's threads (`none`).
    /// - Throws: `StageFailure` when `none` is asked of a binary without the native stages
    ///   that cannot hand itself over to `mediad-native`.
    public static func makeExecutor(configuration: DaemonConfiguration, pipelines: PipelineSet, pool: WorkerPool, logger: Logger) throws -> any PipelineExecutor {
        guard configuration.isolation == Isolation.process.rawValue else {
            let stages = try LinkedStages.requireOrHandOver()
            try stages.prepare(pipelines)
            return InProcessExecutor(pool: pool, registry: stages.registry())
        }
        return try ProcessExecutor(
            pool: pool, pipelines: pipelines, executable: configuration.workerExecutable, maxJobsPerWorker: configuration.workerMaxJobs,
            recycleResidentBytes: Int64(configuration.workerRecycleMemoryMB) << 20, maxCrashes: configuration.maxCrashes, logger: logger)
    }

    /// S3 from the configuration and the standard AWS environment, or the local directory store.
    public static func makeStore(_ configuration: DaemonConfiguration) throws -> any ObjectStore {
        if configuration.storage == "local" {
            return LocalObjectStore(root: URL(fileURLWithPath: configuration.storageRoot))
        }
        var s3 = try S3Configuration.fromEnvironment(ProcessInfo.processInfo.environment, profile: configuration.s3Profile)
        if let endpoint = configuration.s3Endpoint { s3.endpoint = try S3Configuration.parseEndpoint(endpoint) }
        if let region = configuration.s3Region { s3.region = region }
        if let key = configuration.s3AccessKeyId, let secret = configuration.s3SecretAccessKey {
            s3.credentials = S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: configuration.s3SessionToken)
        }
        if configuration.s3PathStyle { s3.addressingStyle = .path }
        return S3ObjectStore(configuration: s3)
    }
}
