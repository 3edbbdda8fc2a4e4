import Daemon
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Testing

@Suite("SIGTERM mid-load", .serialized, .timeLimit(.minutes(5)))
struct ShutdownTests {
    @Test("the real binary exits 0 within the deadline; commits match emitted events; a restart finishes the rest")
    func sigterm() async throws {
        // Short session timeouts throughout: the mock cluster waits `session.timeout.ms − 1 s`
        // before each rebalance after the first, 44 s with librdkafka's default.
        let first = try await DaemonHarness { $0.useShortSessionTimeout() }
        // Stop the in-process daemon at once: the subprocess below is the one under test.
        try await first.stop(keepStore: true)
        let cluster = first.cluster
        let root = first.root
        defer { try? FileManager.default.removeItem(at: root) }
        let store = LocalObjectStore(root: root)
        // Enough files, each with bytes of its own (a trailer after the image, so no job is
        // answered by copying another's outputs), that the load is still running at SIGTERM.
        let count = 48
        let panorama = try Data(contentsOf: TestPaths.image("panorama.jpg"))
        for index in 0..<count {
            _ = try await store.put(bucket: "uploads", key: "in/pano-\(index).jpg", data: panorama + Data("copy \(index)".utf8), options: PutOptions())
        }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [cluster.bootstrapServers]))
        for index in 0..<count {
            _ = try await producer.send(topic: "file.uploaded", key: Array("sig-\(index)".utf8), value: try DaemonHarness.cloudEvent(fileId: "sig-\(index)", key: "in/pano-\(index).jpg"))
        }
        await producer.close()

        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mediad")
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "serve", "--brokers", cluster.bootstrapServers, "--pipelines", TestPaths.pipelines.path, "--http-port", "0", "--concurrency", "1",
            "--set", "storage=local", "--set", "storageRoot=\(root.path)", "--set", "shutdownTimeout=20s", "--set", "logLevel=warning",
            "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // Wait until some, not all, results are out, then SIGTERM.
        let early = try await first.collect(3, topics: ["media.processed"], timeout: .seconds(90))
        #expect(early.count == 3)
        let signalled = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, signalled.duration(to: .now) < .seconds(30) { try await Task.sleep(for: .milliseconds(50)) }
        try #require(!process.isRunning, "exits within the shutdown deadline")
        #expect(process.terminationStatus == 0)

        let committed = try await first.committed(topic: "file.uploaded", partitions: 2).values.reduce(0, +)
        let emitted = Set(try await first.collect(count, topics: ["media.processed"], timeout: .seconds(20)).compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } })
        #expect(committed <= Int64(emitted.count), "nothing is committed without its media.processed")
        #expect(committed < Int64(count), "stopped mid-load")

        // A restart (same group, same store) finishes the rest; earlier results come from manifests.
        let restarted = try await DaemonHarness(cluster: cluster, root: root) {
            $0.concurrency = 2
            $0.useShortSessionTimeout()
        }
        let all = try await restarted.collect(emitted.count + count - Int(committed), topics: ["media.processed"], timeout: .seconds(150))
        let ids = Set(all.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } })
        #expect(ids.count == count, "every event got an outcome")
        try await Task.sleep(for: .seconds(2))
        try await restarted.stop(keepStore: true)
        let final = try await restarted.committed(topic: "file.uploaded", partitions: 2).values.reduce(0, +)
        #expect(final == Int64(count))
    }
}
