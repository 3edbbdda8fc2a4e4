import ArgumentParser
import Daemon
import Events
import Foundation
import Kafka
import Logging
import ObjectStorage
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `mediad demo`: the whole daemon on one machine with no servers. Starts the embedded
/// broker and `serve`, uploads files into the local store, announces each with a
/// `file.uploaded` CloudEvent (plus one malformed message), and prints every
/// `media.processed` and dead letter as it arrives; stops when all are answered.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the daemon end to end on the embedded broker and local storage, with the fixtures.")

    @Argument(help: "Files or directories to upload (default: fixtures/images and fixtures/video).")
    var sources: [String] = []

    @Option(name: .long, help: "Directory of the local object store.")
    var storageRoot = "out/demo-store"

    @Option(name: .long, help: "Directory of pipeline YAML files.")
    var pipelines = "pipelines"

    @Option(name: .long, help: "Give up after this many seconds.")
    var timeout = 600

    func run() async throws {
        LoggingBootstrap.once(level: .warning, json: false)
        let logger = Logger(label: "mediad.demo")
        let defaults = ["fixtures/images", "fixtures/video"].filter { FileManager.default.fileExists(atPath: $0) }
        let files = try await SourceFiles.expand((sources.isEmpty ? defaults : sources).map { try ObjectLocation.parse($0) }, store: nil)
        guard !files.isEmpty else { throw ValidationError("no files to upload") }

        let cluster = try EmbeddedBroker.start()
        var configuration = DaemonConfiguration()
        configuration.brokers = cluster.bootstrapServers
        configuration.storage = "local"
        configuration.storageRoot = storageRoot
        configuration.pipelines = pipelines
        configuration.httpPort = 0
        configuration.instance = "demo"
        configuration.logLevel = "warning"
        try EmbeddedBroker.createTopics(cluster, configuration: configuration)
        print("embedded broker \(cluster.bootstrapServers), local store \(storageRoot)/")

        let application = try DaemonApplication.build(configuration: configuration, registry: PrometheusCollectorRegistry(), logger: logger)
        let group = ServiceGroup(configuration: .init(services: application.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let brokers = [cluster.bootstrapServers]
        let started = ContinuousClock.now
        let settings = configuration
        let limit = timeout

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let expected = try await DemoTraffic.upload(files, store: application.store, configuration: settings, brokers: brokers)
                print("uploaded \(files.count) file(s) and 1 malformed message; waiting for outcomes…\n")
                try await DemoTraffic.watch(expected: expected, configuration: settings, brokers: brokers, timeout: .seconds(limit))
                let elapsed = started.duration(to: .now)
                print("\nall \(expected) message(s) answered in \(elapsed.components.seconds) s; stopping.")
                await group.triggerGracefulShutdown()
            }
            try await tasks.waitForAll()
        }
        _ = cluster
    }
}

/// The demo's uploader and watcher: what a file service and a notification service do.
enum DemoTraffic {
    /// Puts each file into the local store and announces it; returns how many answers to expect.
    static func upload(_ files: [SourceFile], store: any ObjectStore, configuration: DaemonConfiguration, brokers: [String]) async throws -> Int {
        try await store.createBucket("uploads")
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers))
        for file in files {
            guard case .file(let url) = file.location else { continue }
            let key = "incoming/\(url.lastPathComponent)"
            let info = try await store.put(bucket: "uploads", key: key, file: url, options: PutOptions(contentType: ContentTypeGuess.fromExtension(url.pathExtension)))
            let event: [String: Any] = [
                "specversion": "1.0", "id": UUID().uuidString, "source": "/demo/file-service", "type": "file.uploaded",
                "time": ISO8601DateFormatter().string(from: Date()), "subject": file.name, "datacontenttype": "application/json",
                "data": ["fileId": file.name, "bucket": "uploads", "key": key, "size": info.size, "ownerId": "demo-user"],
            ]
            let body = try JSONSerialization.data(withJSONObject: event)
            _ = try await producer.send(topic: configuration.topic, key: Array(file.name.utf8), value: Array(body), headers: [(name: "content-type", value: Array("application/cloudevents+json".utf8))])
        }
        _ = try await producer.send(topic: configuration.topic, key: Array("poison".utf8), value: Array("{this is not json".utf8), headers: [])
        await producer.close()
        return files.count + 1
    }

    /// Prints media.processed events and dead letters until `expected` have arrived.
    static func watch(expected: Int, configuration: DaemonConfiguration, brokers: [String], timeout: Duration) async throws {
        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: "mediad-demo-watcher")
        consumerConfiguration.sessionTimeout = .seconds(6)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration)
        try await consumer.subscribe(topics: [configuration.outputTopic, configuration.dlqTopic])
        var seen = 0
        let deadline = ContinuousClock.now + timeout
        for await event in consumer.events {
            guard case .message(let message) = event else { continue }
            seen += 1
            print(describe(message, configuration: configuration))
            if seen >= expected || ContinuousClock.now > deadline { break }
        }
        await consumer.close()
        guard seen >= expected else { throw ValidationError("only \(seen) of \(expected) answers arrived within \(timeout)") }
    }

    static func describe(_ message: KafkaMessage, configuration: DaemonConfiguration) -> String {
        if message.topic == configuration.dlqTopic {
            let code = message.header(DeadLetter.Header.errorCode).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? "?"
            let reason = message.header(DeadLetter.Header.errorMessage).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return "☠ dead letter (\(configuration.dlqTopic)): \(code) — \(reason)"
        }
        guard let value = message.value, let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              let data = object["data"] as? [String: Any]
        else { return "? unreadable media.processed event" }
        let status = data["status"] as? String ?? "?"
        let mark = status == "succeeded" ? "✓" : status == "partial" ? "!" : "✗"
        let source = data["source"] as? [String: Any] ?? [:]
        let derivatives = (data["derivatives"] as? [[String: Any]] ?? []).map { derivative in
            let size = (derivative["width"] as? Int).map { "\($0)x\(derivative["height"] as? Int ?? 0)" } ?? ""
            return "\(derivative["name"] as? String ?? "?") \(size)".trimmingCharacters(in: .whitespaces)
        }
        // Each error with the stage it came from: one bad input fails every stage that reads it.
        let errors = (data["errors"] as? [[String: Any]] ?? []).compactMap { error -> String? in
            guard let code = error["code"] as? String else { return nil }
            return error["stage"].map { "\(code) (\($0))" } ?? code
        }
        var line = "\(mark) \(data["fileId"] as? String ?? "?") [\(source["contentType"] as? String ?? "?")] \(status)"
        if !derivatives.isEmpty { line += " → " + derivatives.joined(separator: ", ") }
        if !errors.isEmpty { line += "  errors: " + errors.joined(separator: ", ") }
        return line + "  (partition \(message.partition), key \(message.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"))"
    }
}
