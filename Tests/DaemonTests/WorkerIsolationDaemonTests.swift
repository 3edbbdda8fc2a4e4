import Daemon
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Testing

/// The real `mediad serve` binary with worker processes: crashes, deaths of the daemon
/// itself and shutdown with a long job in flight.
@Suite("Worker isolation through the real daemon", .serialized, .timeLimit(.minutes(8)))
struct WorkerIsolationDaemonTests {
    @Test("a worker crashing twice on one file fails that file with worker_crashed; every other event is answered and committed")
    func crashedWorker() async throws {
        let stack = try await BinaryStack.make()
        defer { stack.cleanUp() }
        _ = try await stack.store.put(bucket: "uploads", key: "in/slow.mp4", file: try GeneratedMedia.slowVideo(), options: PutOptions())
        _ = try await stack.store.put(bucket: "uploads", key: "in/photo.jpg", file: TestPaths.image("exif-rich.jpg"), options: PutOptions())
        let daemon = try stack.startServe()
        defer { daemon.terminate() }

        try await stack.send(fileId: "crash-video", key: "in/slow.mp4")
        for index in 0..<6 { try await stack.send(fileId: "photo-\(index)", key: "in/photo.jpg") }

        // The video's job is on the only worker: kill it, then the fresh worker that retries it.
        try await stack.waitForMarker(fileId: "crash-video")
        var killed: Set<Int32> = []
        for round in 0..<2 {
            var victim: Int32?
            try await waitUntil("a worker for attempt \(round + 1)", timeout: .seconds(60)) {
                victim = BinaryStack.workers(of: daemon.processIdentifier).first { !killed.contains($0) }
                return victim != nil
            }
            try await Task.sleep(for: .milliseconds(1500))
            kill(victim!, SIGSEGV)
            killed.insert(victim!)
        }

        let results = try await stack.outcomes(7)
        let video = try #require(results["crash-video"])
        #expect(video.status == "failed")
        let error = try #require(video.errors.first { $0.code == "worker_crashed" }, "\(video.errors)")
        #expect(["checksum", "metadata", "inspect", "poster", "thumbnail", "preview", "thumbhash", "transcode"].contains(error.stage), "\(error.stage)")
        #expect(error.message.contains("SIGSEGV"))
        for index in 0..<6 { #expect(results["photo-\(index)"]?.status == "succeeded") }
        try await stack.waitForCommits(total: 7)
        #expect(daemon.isRunning, "the daemon kept serving")
    }

    @Test("a file in flight during two SIGKILLs of the daemon is answered with poison_file by the third, without running; the rest of its partition is answered")
    func poisonFile() async throws {
        let stack = try await BinaryStack.make()
        defer { stack.cleanUp() }
        _ = try await stack.store.put(bucket: "uploads", key: "in/slow.mp4", file: try GeneratedMedia.slowVideo(), options: PutOptions())
        _ = try await stack.store.put(bucket: "uploads", key: "in/photo.jpg", file: TestPaths.image("orientation-3.jpg"), options: PutOptions())
        // One Kafka key: one partition, in this order.
        try await stack.send(fileId: "poison", key: "in/slow.mp4", kafkaKey: "album")
        for index in 0..<4 { try await stack.send(fileId: "after-\(index)", key: "in/photo.jpg", kafkaKey: "album") }

        for death in 1...2 {
            let daemon = try stack.startServe()
            try await stack.waitForMarker(fileId: "poison", attempts: death)
            kill(daemon.processIdentifier, SIGKILL)
            await daemon.exited()
            #expect(daemon.terminationReason == .uncaughtSignal)
        }
        let third = try stack.startServe()
        defer { third.terminate() }
        let results = try await stack.outcomes(5, timeout: .seconds(120))
        let poison = try #require(results["poison"])
        #expect(poison.status == "failed")
        #expect(poison.errors.map(\.code) == ["poison_file"], "\(poison.errors)")
        #expect(poison.errors.first?.retryable == false)
        #expect(poison.timings["transcode"] == nil, "not run again")
        for index in 0..<4 { #expect(results["after-\(index)"]?.status == "succeeded") }
        try await stack.waitForCommits(total: 5)
    }

    @Test("SIGTERM with a long transcode in flight exits 0 within shutdownTimeout + 2 s; the message comes again and a restart finishes it")
    func shutdownDuringTranscode() async throws {
        let stack = try await BinaryStack.make()
        defer { stack.cleanUp() }
        _ = try await stack.store.put(bucket: "uploads", key: "in/slow.mp4", file: try GeneratedMedia.slowVideo(), options: PutOptions())
        // A short grace period: on a quiet machine the 20 s transcode takes only a few seconds,
        // and it must still be running when the grace period ends.
        let daemon = try stack.startServe(["--set", "shutdownTimeout=1s"])
        try await stack.send(fileId: "long", key: "in/slow.mp4")
        try await stack.waitForMarker(fileId: "long")
        try await Task.sleep(for: .seconds(1))
        let workers = BinaryStack.workers(of: daemon.processIdentifier)
        #expect(!workers.isEmpty)
        let signalled = ContinuousClock.now
        kill(daemon.processIdentifier, SIGTERM)
        while daemon.isRunning, signalled.duration(to: .now) < .seconds(15) { try await Task.sleep(for: .milliseconds(20)) }
        let took = signalled.duration(to: .now)
        #expect(!daemon.isRunning)
        #expect(daemon.terminationStatus == 0)
        #expect(took < .seconds(3), "shutdownTimeout 1 s + 2 s, took \(took)")
        for pid in workers {
            // Gone, or a zombie waiting for init to reap it: not running either way.
            try await waitUntil("worker \(pid) to be gone", timeout: .seconds(2)) {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
                return stat[stat.index(close, offsetBy: 2)] == "Z"
            }
        }
        #expect(try await stack.committedTotal() == 0, "no outcome, no commit")
        #expect(!stack.markerExists(fileId: "long"), "an abandoned job does not count as a death")

        let restarted = try stack.startServe()
        defer { restarted.terminate() }
        let results = try await stack.outcomes(1, timeout: .seconds(180))
        #expect(results["long"]?.status == "succeeded", "\(results["long"]?.errors ?? [])")
        try await stack.waitForCommits(total: 1)
    }

    @Test("seeded mutants of the fixtures through serve: every event answered, the daemon alive")
    func fuzzedUploads() async throws {
        let daemon = try await DaemonHarness()
        let directory = try TestPaths.temporaryDirectory("fuzz-serve")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixtures = ["exif-rich.jpg", "alpha.png", "photo.webp", "animated.gif", "photo.heic", "photo.tiff", "cmyk.jpg"].map(TestPaths.image)
            + ["h264-aac.mp4", "vp9-opus.webm", "phone-rotated.mov"].map { TestPaths.fixtures.appendingPathComponent("video/\($0)") }
        let mutants = try Mutator.mutants(of: fixtures, count: 16, seed: 77, into: directory)
        for (index, mutant) in mutants.enumerated() {
            _ = try await daemon.put(mutant, key: "fuzz/\(mutant.lastPathComponent)")
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "fuzz-\(index)", key: "fuzz/\(mutant.lastPathComponent)"), key: "fuzz-\(index)")
        }
        let answered = try await daemon.collect(mutants.count, topics: ["media.processed"], timeout: .seconds(240))
        let ids = Set(answered.compactMap(Outcome.init).map(\.fileId))
        #expect(ids.count == mutants.count, "every event answered: \(ids.count) of \(mutants.count)")
        try await daemon.stop()
    }
}

/// A mock cluster and a local store shared by successive `mediad serve` processes.
struct BinaryStack {
    let cluster: MockKafkaCluster
    let root: URL
    let store: LocalObjectStore
    let producer: KafkaProducer
    let watcher: OutcomeWatcher

    static func make() async throws -> BinaryStack {
        let cluster = try MockKafkaCluster(brokers: 1)
        for (topic, partitions) in [("file.uploaded", 2), ("media.processed", 2), ("file.uploaded.dlq", 1)] {
            try cluster.createTopic(name: topic, partitions: partitions)
        }
        let root = try TestPaths.temporaryDirectory("binary-stack")
        let store = LocalObjectStore(root: root)
        try await store.createBucket("uploads")
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [cluster.bootstrapServers]), logger: .quietKafka)
        let watcher = try await OutcomeWatcher(cluster: cluster, topics: ["media.processed"])
        return BinaryStack(cluster: cluster, root: root, store: store, producer: producer, watcher: watcher)
    }

    func startServe(_ extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = MediadBinary.executable
        process.arguments = [
            "serve", "--brokers", cluster.bootstrapServers, "--pipelines", TestPaths.pipelines.path, "--http-port", "0", "--concurrency", "1",
            "--set", "storage=local", "--set", "storageRoot=\(root.path)", "--set", "logLevel=warning", "--set", "retryBaseDelay=50ms",
            "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500",
        ] + extra
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func send(fileId: String, key: String, kafkaKey: String? = nil) async throws {
        _ = try await producer.send(topic: "file.uploaded", key: Array((kafkaKey ?? fileId).utf8), value: try DaemonHarness.cloudEvent(fileId: fileId, key: key))
    }

    private func markerURL(_ fileId: String) -> URL {
        root.appendingPathComponent("uploads/derived/\(fileId)/_attempt.json")
    }

    func markerExists(fileId: String) -> Bool {
        FileManager.default.fileExists(atPath: markerURL(fileId).path)
    }

    /// Waits until the file's attempt marker records `attempts` starts: its job is running.
    func waitForMarker(fileId: String, attempts: Int = 1, timeout: Duration = .seconds(90)) async throws {
        try await waitUntil("the attempt marker of \(fileId) to show \(attempts)", timeout: timeout, every: .milliseconds(20)) {
            guard let data = try? Data(contentsOf: markerURL(fileId)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
            return (object["attempts"] as? Int) == attempts
        }
    }

    /// The latest `media.processed` of each file, once `count` files have one.
    func outcomes(_ count: Int, timeout: Duration = .seconds(150)) async throws -> [String: Outcome] {
        try await waitUntil("\(count) files answered", timeout: timeout, every: .milliseconds(100), state: { "(have \(watcher.fileIds.sorted()))" }) {
            watcher.fileIds.count >= count
        }
        var latest: [String: Outcome] = [:]
        for outcome in watcher.outcomes { latest[outcome.fileId] = outcome }
        return latest
    }

    func committedTotal() async throws -> Int64 {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [cluster.bootstrapServers], groupID: "mediad")
        configuration.sessionTimeout = .seconds(6)
        let consumer = try KafkaConsumer(configuration: configuration, logger: .quietKafka)
        let offsets = try await consumer.committedOffsets(for: (0..<2).map { TopicPartition(topic: "file.uploaded", partition: Int32($0)) })
        await consumer.close()
        return offsets.values.map { max(0, $0) }.reduce(0, +)
    }

    func waitForCommits(total: Int64) async throws {
        var last: Int64 = -1
        try await waitUntil("commits to cover \(total) messages", timeout: .seconds(40), every: .milliseconds(300), state: { "(last \(last))" }) {
            last = (try? await committedTotal()) ?? last
            return last == total
        }
    }

    /// Pids of the `mediad worker` children of `parent`.
    static func workers(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent else { return false }
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return cmdline.split(separator: 0).dropFirst().first.map { String(decoding: $0, as: UTF8.self) } == "worker"
        }
    }

    func cleanUp() {
        let watcher = watcher, producer = producer
        Task {
            await watcher.stop()
            await producer.close()
        }
        try? FileManager.default.removeItem(at: root)
    }
}
