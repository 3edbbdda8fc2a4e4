import Backfill
import Daemon
import Foundation
import Kafka
import Logging
import MediaProcessing
import MediadTestSupport
import ObjectStorage
import Prometheus
import ServiceLifecycle

/// A real S3 API (moto, plain) and a real Kafka wire protocol (librdkafka's mock cluster over
/// loopback TCP), with a bucket of uploads: what `reprocess` and `dlq` work against.
final class BackfillStack: Sendable {
    let moto: MotoHarness
    let cluster: MockKafkaCluster
    let store: S3ObjectStore
    let configuration: DaemonConfiguration
    static let bucket = "uploads"

    init() async throws {
        moto = try await MotoHarness.start(.plain)
        cluster = try MockKafkaCluster(brokers: 1)
        var configuration = Self.baseConfiguration()
        configuration.brokers = cluster.bootstrapServers
        configuration.storage = "s3"
        configuration.s3Endpoint = moto.info.endpoint
        configuration.s3Region = moto.info.region
        configuration.s3AccessKeyId = moto.info.accessKeyId
        configuration.s3SecretAccessKey = moto.info.secretAccessKey
        self.configuration = configuration
        store = try DaemonApplication.makeStore(configuration) as! S3ObjectStore
        try await store.createBucket(Self.bucket)
        for (topic, partitions) in [(configuration.topic, 2), (configuration.reprocessTopic, 2), (configuration.outputTopic, 2), (configuration.dlqTopic, 1)] {
            try cluster.createTopic(name: topic, partitions: partitions)
        }
    }

    func stop() async {
        try? await store.shutdown()
        await moto.stop()
    }

    /// What every backfill test daemon shares, whatever its broker and store: the shipped
    /// pipelines, an ephemeral HTTP port, two workers, quick retries.
    static func baseConfiguration() -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.pipelines = TestPaths.pipelines.path
        configuration.httpPort = 0
        configuration.httpHost = "127.0.0.1"
        configuration.instance = "test"
        configuration.concurrency = 2
        configuration.retryBaseDelay = .milliseconds(20)
        return configuration
    }

    /// The environment a `mediad` child process needs for this stack.
    var environment: [String: String] {
        moto.environment.merging([
            "MEDIAD_BROKERS": cluster.bootstrapServers, "MEDIAD_STORAGE": "s3", "MEDIAD_PIPELINES": TestPaths.pipelines.path,
            "MEDIAD_INSTANCE": "test",
        ]) { $1 }
    }

    /// Uploads copies of a fixture under `prefix` and returns their keys. Each copy has bytes
    /// of its own (a trailer after the image), so every file is decoded: identical uploads
    /// would be answered by copying the first one's outputs.
    @discardableResult
    func upload(_ count: Int, of fixture: String = "orientation-1.jpg", prefix: String) async throws -> [String] {
        try await Self.upload(count, of: fixture, prefix: prefix, to: store)
    }

    /// Uploads to `bucket` of any store, as `upload(_:of:prefix:)` does.
    static func upload(_ count: Int, of fixture: String, prefix: String, to store: any ObjectStore) async throws -> [String] {
        var keys: [String] = []
        let image = try Data(contentsOf: TestPaths.image(fixture))
        for index in 0..<count {
            let key = "\(prefix)\(String(format: "%03d", index)).jpg"
            _ = try await store.put(bucket: bucket, key: key, data: image + Data("copy \(key)".utf8), options: PutOptions(contentType: "image/jpeg"))
            keys.append(key)
        }
        return keys
    }

    /// Every key in the bucket with its ETag: a snapshot to compare before and after.
    func snapshot() async throws -> [String: String] {
        var result: [String: String] = [:]
        for try await object in store.list(bucket: Self.bucket) { result[object.key] = object.etag ?? "" }
        return result
    }

    /// A reprocess runner on this stack, with `pipelines` (default: the shipped ones).
    func runner(
        _ mode: (JobRunner) -> ReprocessRunner.Mode = { .direct(jobs: $0, emit: nil) }, pipelines: URL = TestPaths.pipelines,
        pipelineOverride: String? = nil, force: Bool = false
    ) throws -> ReprocessRunner {
        var configuration = configuration
        configuration.pipelines = pipelines.path
        let jobs = try DaemonApplication.makeJobRunner(configuration: configuration, store: store, logger: Logger.quiet)
        return ReprocessRunner(
            store: store, pipelines: jobs.processor.pipelines, keyTemplate: configuration.keyTemplate, derivativesBucket: nil,
            mode: mode(jobs), parallelism: 4, pipelineOverride: pipelineOverride, force: force, logger: Logger.quiet)
    }

    func producer() throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [cluster.bootstrapServers]))
    }

    /// The manifest of a file, decoded as JSON.
    func manifest(fileId: String) async throws -> [String: Any]? {
        guard let (_, bytes) = try? await store.getBytes(bucket: Self.bucket, key: "derived/\(fileId)/manifest.json") else { return nil }
        return try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    func collect(_ count: Int, topics: [String], timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        try await KafkaReader.collect(count, topics: topics, bootstrapServers: cluster.bootstrapServers, timeout: timeout)
    }
}

/// `mediad serve` in this process, on the stack.
final class RunningDaemon: Sendable {
    let application: DaemonApplication
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    convenience init(_ stack: BackfillStack, adjust: (inout DaemonConfiguration) -> Void = { _ in }) throws {
        var configuration = stack.configuration
        adjust(&configuration)
        try self.init(configuration: configuration)
    }

    init(configuration: DaemonConfiguration) throws {
        application = try DaemonApplication.build(configuration: configuration, registry: PrometheusCollectorRegistry(), logger: Logger.quiet)
        let group = ServiceGroup(configuration: .init(services: application.services, logger: Logger.quiet))
        self.group = group
        running = Task { try await group.run() }
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
        await application.shutdown()
    }
}

/// The results of a daemon that had uploads (`upload-…` file ids) and backfill work (`s3-…`)
/// at once, each with the time it was emitted (the CloudEvent's `time`).
struct CompetingResults {
    var uploads: [(fileId: String, emitted: Date)] = []
    var backfill: [(fileId: String, emitted: Date)] = []

    /// - Parameter events: the results' CloudEvents, decoded.
    init(events: [[String: Any]]) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for event in events {
            guard let fileId = (event["data"] as? [String: Any])?["fileId"] as? String, let time = event["time"] as? String,
                let emitted = formatter.date(from: time)
            else { continue }
            if fileId.hasPrefix("upload-") { uploads.append((fileId, emitted)) }
            if fileId.hasPrefix("s3-") { backfill.append((fileId, emitted)) }
        }
    }

    var firstUpload: Date? { uploads.map(\.emitted).min() }

    /// Backfill results emitted after the first upload result and before the last. Once
    /// uploads were in the daemon, backfill only finishes what was already running (at most
    /// one per worker) and at most one more, started when the last upload left a worker idle.
    /// Without priorities about half of the results in that window would be backfill.
    var backfillDuringUploads: Int {
        guard let first = firstUpload, let last = uploads.map(\.emitted).max() else { return 0 }
        return backfill.count { $0.emitted > first && $0.emitted < last }
    }
}
