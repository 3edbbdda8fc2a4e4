import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Synchronization
import Testing

@Suite("mediad serve memory under a backlog", .serialized, .timeLimit(.minutes(5)))
struct MemoryTests {
    /// Resident memory of a process, from /proc.
    static func residentMegabytes(_ pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }

    @Test("500 queued events, pool of 2, the real binary: every event answered and resident memory stays flat")
    func flatMemory() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        for (topic, partitions) in [("file.uploaded", 2), ("media.processed", 2), ("file.uploaded.dlq", 1), ("file.reprocess", 1)] {
            try cluster.createTopic(name: topic, partitions: partitions)
        }
        let root = try TestPaths.temporaryDirectory("memory")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = LocalObjectStore(root: root)
        try await store.createBucket("uploads")
        _ = try await store.put(bucket: "uploads", key: "in/photo.jpg", file: TestPaths.image("exif-rich.jpg"), options: PutOptions())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [cluster.bootstrapServers]))
        let count = 500
        for index in 0..<count {
            _ = try await producer.send(topic: "file.uploaded", key: Array("mem-\(index)".utf8), value: try DaemonHarness.cloudEvent(fileId: "mem-\(index)", key: "in/photo.jpg"))
        }
        await producer.close()

        let process = Process()
        process.executableURL = MediadBinary.executable
        process.arguments = [
            "serve", "--brokers", cluster.bootstrapServers, "--pipelines", TestPaths.pipelines.path, "--http-port", "0", "--concurrency", "2",
            "--set", "storage=local", "--set", "storageRoot=\(root.path)", "--set", "logLevel=warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Warm: the first 100 results are out; from then on memory must not grow with the backlog.
        let warm = try await KafkaReader.collect(100, topics: ["media.processed"], bootstrapServers: cluster.bootstrapServers, timeout: .seconds(120))
        #expect(warm.count == 100)
        let baseline = try #require(Self.residentMegabytes(process.processIdentifier))
        let peak = Peak(baseline)
        let sampler = Task {
            while !Task.isCancelled {
                if let now = Self.residentMegabytes(process.processIdentifier) { peak.record(now) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let all = try await KafkaReader.collect(count, topics: ["media.processed"], bootstrapServers: cluster.bootstrapServers, timeout: .seconds(180))
        sampler.cancel()
        let highest = peak.value
        #expect(Set(all.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }).count == count)
        #expect(highest - baseline < 40, "resident memory grew from \(Int(baseline)) MB to \(Int(highest)) MB while the backlog drained")
        #expect(highest < 300, "peak resident memory \(Int(highest)) MB")
        kill(process.processIdentifier, SIGTERM)
        await process.exited()
        #expect(process.terminationStatus == 0)
        print("memory: baseline \(Int(baseline)) MB after 100 results, peak \(Int(highest)) MB over the next \(count - 100)")
    }
}

/// The highest of the values recorded.
private final class Peak: Sendable {
    private let storage: Mutex<Double>

    init(_ initial: Double) {
        storage = Mutex(initial)
    }

    func record(_ value: Double) {
        storage.withLock { $0 = max($0, value) }
    }

    var value: Double { storage.withLock { $0 } }
}
