import Daemon
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Synchronization
import Testing

/// The `mediad` binary's JSON log format, as a log collector reads it: every line of
/// stderr one JSON object, and job lines saying which file and which Kafka message.
@Suite("JSON log lines of the mediad binary", .serialized, .timeLimit(.minutes(3)))
struct LogFormatTests {
    /// The two ways to ask for JSON logs.
    enum Switch: String, CaseIterable, Sendable {
        case flag
        case environment
    }

    @Test("logFormat=json: one parseable object per line with level and message; job lines carry fileId, topic, partition, offset", arguments: Switch.allCases)
    func jsonLines(_ how: Switch) async throws {
        let cluster = try MockKafkaCluster(brokers: 1, logger: .quietKafka)
        for (topic, partitions) in [("file.uploaded", 2), ("media.processed", 2), ("file.uploaded.dlq", 1)] {
            try cluster.createTopic(name: topic, partitions: partitions)
        }
        let root = try TestPaths.temporaryDirectory("jsonlog")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = LocalObjectStore(root: root)
        try await store.createBucket("uploads")
        _ = try await store.put(bucket: "uploads", key: "in/photo.jpg", file: TestPaths.image("exif-rich.jpg"), options: PutOptions())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [cluster.bootstrapServers]))
        let good = try await producer.send(topic: "file.uploaded", key: Array("json-1".utf8), value: try DaemonHarness.cloudEvent(fileId: "json-1", key: "in/photo.jpg"))
        let poison = try await producer.send(topic: "file.uploaded", key: Array("poison".utf8), value: Array("{not json".utf8))
        await producer.close()
        // The daemon's first deliveries are refused, so it logs its retries: job lines too.
        cluster.pushRequestErrors(apiKey: .produce, errors: Array(repeating: .messageSizeTooLarge, count: 6))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mediad")
        process.arguments = [
            "serve", "--brokers", cluster.bootstrapServers, "--pipelines", TestPaths.pipelines.path, "--http-port", "0", "--concurrency", "1",
            "--set", "storage=local", "--set", "storageRoot=\(root.path)", "--set", "logLevel=info",
        ] + (how == .flag ? ["--set", "logFormat=json"] : [])
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIAD_") }
        if how == .environment { environment["MEDIAD_LOG_FORMAT"] = "json" }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let stderr = Pipe()
        process.standardError = stderr
        let output = OutputBuffer()
        stderr.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        try await waitUntil("the job's and the dead letter's log lines", timeout: .seconds(60), state: { "in:\n\(output.text)" }) {
            let lines = output.text
            return lines.contains(#""message":"dead-lettered""#) && lines.contains(#""reused":"false""#)
        }
        kill(process.processIdentifier, SIGTERM)
        try await waitUntil("mediad to exit", timeout: .seconds(30)) { !process.isRunning }
        #expect(process.terminationStatus == 0)
        stderr.fileHandleForReading.readabilityHandler = nil
        output.append(stderr.fileHandleForReading.readDataToEndOfFile())

        let lines = output.text.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count >= 4)
        var objects: [[String: Any]] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not a JSON object: \(line)")
                continue
            }
            objects.append(object)
            let levels: Set<String> = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            #expect(levels.contains(object["level"] as? String ?? ""), "level in \(line)")
            #expect(!(object["message"] as? String ?? "").isEmpty, "message in \(line)")
            #expect(object["time"] is String, "time in \(line)")
            // A line about one file says which Kafka message it came from.
            if object["fileId"] != nil {
                #expect(object["topic"] as? String == "file.uploaded", "topic in \(line)")
                #expect(Int(object["partition"] as? String ?? "") != nil, "partition in \(line)")
                #expect(Int(object["offset"] as? String ?? "") != nil, "offset in \(line)")
            }
        }

        let processed = try #require(objects.first { $0["message"] as? String == "processed" && $0["fileId"] as? String == "json-1" && $0["status"] != nil && $0["reused"] != nil })
        #expect(processed["status"] as? String == "succeeded")
        #expect(processed["level"] as? String == "info")
        #expect(processed["partition"] as? String == String(good.partition))
        #expect(processed["offset"] as? String == String(good.offset))

        let retried = try #require(objects.first { $0["message"] as? String == "delivery failed; retrying" && $0["fileId"] as? String == "json-1" })
        #expect(retried["level"] as? String == "warning")
        #expect(retried["deliveringTo"] as? String == "media.processed")
        #expect(retried["offset"] as? String == String(good.offset))

        let dead = try #require(objects.first { $0["message"] as? String == "dead-lettered" })
        #expect(dead["level"] as? String == "warning")
        #expect(dead["code"] as? String == "malformed_json")
        #expect(dead["topic"] as? String == "file.uploaded")
        #expect(dead["partition"] as? String == String(poison.partition))
        #expect(dead["offset"] as? String == String(poison.offset))
    }
}

/// Bytes a child process wrote, gathered from its pipe's handler thread.
final class OutputBuffer: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) {
        data.withLock { $0.append(chunk) }
    }

    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
