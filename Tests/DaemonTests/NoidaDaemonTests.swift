import Daemon
import Events
import Foundation
import Kafka
import Logging
import MediaProcessing
import MediadTestSupport
import ObjectStorage
import Synchronization
import Testing

/// The daemon in this process on noida-db, an independent implementation of the Kafka
/// protocol run as a real process (`NoidaHarness`), with a local store: intake, dead
/// letters, duplicates, the reprocess lane, commits and a two-replica rebalance on a broker
/// that is not librdkafka's own mock.
///
/// Where noida-db 0.2.3 differs from Apache Kafka's documented behaviour, as these tests
/// meet it (the broker-level list is on `NoidaHarness`); mediad keeps to what Kafka
/// documents, and no assertion here is weakened for noida-db:
/// - Topics the daemon uses must be created with their partition counts first
///   (`createTopics`): an unknown topic is auto-created with one partition.
/// - A consumer group's offset commit sent during a rebalance can fail with
///   `ILLEGAL_GENERATION`; mediad's commit loop retries (a "commit failed; will retry"
///   warning) and the commits still reach the end of every partition.
/// - Cooperative-sticky groups (mediad's default assignor) do not settle on noida-db when
///   a second member joins: its JoinGroup requests go unanswered until librdkafka's 60 s
///   request timeout, round after round, so the newcomer never gets a partition (measured
///   here: none within 60 s; `NoidaHarness` describes the member list the leader is given).
///   Meanwhile the first member's synchronous commits wait on the same coordinator, so its
///   graceful stop took minutes. Apache Kafka completes the incremental rebalance once both
///   members rejoined. The two-replica test therefore runs with the eager `range` assignor
///   (`partition.assignment.strategy`, as `KafkaTests`' rebalance suite does on noida-db);
///   its assertions are those of the mock-cluster test.
/// - A record or an offset commit is written to disk about a second after it is acknowledged
///   (a SIGKILL within that second loses both; measured: killed 0.3 s after, both were lost;
///   1 s after, both kept). Kafka with `acks=all` loses neither. None of these tests kill it;
///   `FullStackTests` waits out that second before killing the broker.
@Suite("mediad serve on noida-db, in process, local store", .serialized, .timeLimit(.minutes(4)))
struct NoidaDaemonTests {
    static let partitions = 2

    @Test("every intake encoding is answered, keyed by fileId; poison is dead-lettered with its mediad-* headers; commits reach the end of both partitions")
    func encodingsAndPoison() async throws {
        let daemon = try await DaemonHarness.onNoida()
        do {
            _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/structured.jpg")
            _ = try await daemon.put(TestPaths.image("orientation-6.jpg"), key: "in/binary.jpg")
            _ = try await daemon.put(TestPaths.image("gps-south-west.jpg"), key: "in/minio upload.jpg")
            let minioId = UploadEvent.stableFileId(bucket: "uploads", key: "in/minio upload.jpg")
            let binaryHeaders: KafkaHeaders = [
                (name: "ce_specversion", value: Array("1.0".utf8)), (name: "ce_type", value: Array("file.uploaded".utf8)),
                (name: "ce_id", value: Array("nb-1".utf8)), (name: "ce_source", value: Array("/tests".utf8)),
            ]
            let minio = #"{"EventName":"s3:ObjectCreated:Put","Key":"uploads/in/minio+upload.jpg","Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"uploads"},"object":{"key":"in/minio+upload.jpg","size":22199}}}]}"#
            // Two records on each partition: every partition's commit has an end to reach.
            var reports = [
                try await daemon.send(DaemonHarness.cloudEvent(fileId: "n-structured", key: "in/structured.jpg"), key: "n-structured", partition: 0),
                try await daemon.send(Array(#"{"fileId":"n-binary","bucket":"uploads","key":"in/binary.jpg"}"#.utf8), key: "n-binary", partition: 1, headers: binaryHeaders),
                try await daemon.send(Array(minio.utf8), key: "uploads/in/minio upload.jpg", partition: 0),
            ]
            let poison = try await daemon.send(Array("{definitely not json".utf8), key: "poison", partition: 1, headers: [(name: "trace-id", value: Array("t-9".utf8))])
            reports.append(poison)

            let processed = try await daemon.collect(3, topics: [daemon.configuration.outputTopic])
            var statuses: [String: String] = [:]
            for message in processed {
                let outcome = try #require(Outcome(message))
                #expect(message.key == Array(outcome.fileId.utf8), "keyed by fileId")
                statuses[outcome.fileId] = outcome.status
                #expect(!outcome.derivativeKeys.isEmpty)
                for key in outcome.derivativeKeys + ["derived/\(outcome.fileId)/manifest.json"] {
                    #expect(FileManager.default.fileExists(atPath: daemon.root.appendingPathComponent("uploads/\(key)").path), "\(key)")
                }
            }
            #expect(statuses == ["n-structured": "succeeded", "n-binary": "succeeded", minioId: "succeeded"])

            let letter = try #require(try await daemon.collect(1, topics: [daemon.configuration.dlqTopic]).first)
            #expect(letter.value == Array("{definitely not json".utf8), "the original value, untouched")
            #expect(letter.key == Array("poison".utf8))
            #expect(letter.header("trace-id") == .some(Array("t-9".utf8)), "the original headers are kept")
            let header = { (name: String) in KafkaReader.header(letter, name) }
            #expect(header(DeadLetter.Header.errorCode) == "malformed_json")
            #expect(header(DeadLetter.Header.originalTopic) == daemon.configuration.topic)
            #expect(header(DeadLetter.Header.originalPartition) == "\(poison.partition)")
            #expect(header(DeadLetter.Header.originalOffset) == "\(poison.offset)")
            #expect(header(DeadLetter.Header.errorMessage)?.isEmpty == false)
            let failedAt = header(DeadLetter.Header.failedAt) ?? ""
            #expect((try? ManifestCoding.decoder().decode(Date.self, from: Data(#""\#(failedAt)""#.utf8))) != nil, "an RFC 3339 time: \(failedAt)")

            let ends = Self.ends(reports)
            #expect(ends == [0: 2, 1: 2])
            try await daemon.waitForCommits(ends, partitions: Self.partitions)
            try await daemon.stop()
            #expect(try await daemon.committed(topic: daemon.configuration.topic, partitions: Self.partitions) == ends, "and still after a graceful stop")
            await daemon.noida.stop()
        } catch {
            await daemon.stopAll()
            throw error
        }
    }

    @Test("a redelivered event is answered from the manifest, with the first result's timings; the commit passes both")
    func duplicates() async throws {
        let daemon = try await DaemonHarness.onNoida()
        do {
            _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/twice.jpg")
            let event = try DaemonHarness.cloudEvent(fileId: "n-twice", key: "in/twice.jpg")
            let first = try await daemon.send(event, key: "n-twice", partition: 0)
            let firstOutcome = try #require(try await daemon.collect(1, topics: [daemon.configuration.outputTopic]).first.flatMap(Outcome.init))
            let second = try await daemon.send(event, key: "n-twice", partition: 0)
            let outcomes = try await daemon.collect(2, topics: [daemon.configuration.outputTopic]).compactMap(Outcome.init)
            #expect(outcomes.map(\.fileId) == ["n-twice", "n-twice"])
            #expect(outcomes.allSatisfy { $0.status == "succeeded" })
            #expect(outcomes.last?.timings == firstOutcome.timings, "the same result, not recomputed")
            #expect(outcomes.last?.derivativeKeys == firstOutcome.derivativeKeys)
            #expect(daemon.metricsText().contains("mediad_answered_from_manifest_total 1"), "\(daemon.metricsText())")
            try await daemon.waitForCommits(Self.ends([first, second]), partitions: 1)
            await daemon.stopAll()
        } catch {
            await daemon.stopAll()
            throw error
        }
    }

    @Test("with file.reprocess and file.uploaded both loaded, uploads are answered first and backfill gets only spare capacity; both groups commit to the end")
    func reprocessLane() async throws {
        let daemon = try await DaemonHarness.onNoida { $0.concurrency = 2 }
        try await daemon.withOutcomeWatcher { watcher in
            // Distinct bytes each (a trailer after the image): no job is answered by copying another's outputs.
            let panorama = try Data(contentsOf: TestPaths.image("panorama.jpg"))
            var keys: [String] = []
            for index in 0..<28 {
                let key = index < 20 ? "old/\(index).jpg" : "new/\(index).jpg"
                _ = try await daemon.application.store.put(bucket: "uploads", key: key, data: panorama + Data("copy \(index)".utf8), options: PutOptions())
                keys.append(key)
            }
            // What `mediad reprocess --publish` produces, spread over both partitions.
            var backfillReports: [DeliveryReport] = []
            for (index, key) in keys.prefix(20).enumerated() {
                let request = ReprocessRequest(fileId: UploadEvent.stableFileId(bucket: "uploads", key: key), bucket: "uploads", key: key)
                let record = try request.record(source: "/tests", time: ManifestCoding.timestamp(Date()))
                backfillReports.append(try await daemon.producer.send(
                    topic: daemon.configuration.reprocessTopic, partition: Int32(index % Self.partitions), key: record.key, value: record.value,
                    headers: record.headers.map { (name: $0.0, value: $0.1) }))
            }
            // Backfill runs on the idle daemon; then a burst of uploads arrives.
            try await waitUntil("backfill to be answered on the idle daemon", timeout: .seconds(90)) { watcher.outcomes.count >= 3 }
            let uploadsSent = Int64(Date().timeIntervalSince1970 * 1000)
            var uploadReports: [DeliveryReport] = []
            for (index, key) in keys.suffix(8).enumerated() {
                uploadReports.append(try await daemon.send(DaemonHarness.cloudEvent(fileId: "upload-\(index)", key: key), key: "upload-\(index)", partition: Int32(index % Self.partitions)))
            }
            try await waitUntil("all 28 answered", timeout: .seconds(150), state: { "(\(watcher.fileIds.count) of 28)" }) { watcher.fileIds.count >= 28 }

            let outcomes = watcher.firstOutcomes.values
            #expect(outcomes.allSatisfy { $0.status == "succeeded" })
            let uploads = outcomes.filter { $0.fileId.hasPrefix("upload-") }.map(\.producedAt)
            let backfill = outcomes.filter { $0.fileId.hasPrefix("s3-") }.map(\.producedAt)
            #expect(uploads.count == 8 && backfill.count == 20)
            let firstUpload = try #require(uploads.min()), lastUpload = try #require(uploads.max())
            #expect(firstUpload >= uploadsSent)
            // Once uploads were waiting, backfill finished at most what was running (one per
            // worker) and one more: without priorities, about half of that window would be backfill.
            let backfillWhileUploadsWaited = backfill.filter { $0 > firstUpload && $0 < lastUpload }.count
            #expect(backfillWhileUploadsWaited <= 3, "reprocess results while uploads were waiting: \(backfillWhileUploadsWaited)")
            #expect(daemon.application.daemon.peakBackfillAdmitted <= 2)

            try await daemon.waitForCommits(Self.ends(uploadReports), partitions: Self.partitions)
            let backfillEnds = Self.ends(backfillReports)
            var last: [Int32: Int64] = [:]
            try await waitUntil("the reprocess group's commits to reach \(backfillEnds)", timeout: .seconds(30), every: .milliseconds(300), state: { "(last seen \(last))" }) {
                last = (try? await daemon.committed(topic: daemon.configuration.reprocessTopic, partitions: Self.partitions, group: daemon.configuration.reprocessGroup)) ?? last
                return last == backfillEnds
            }
        }
    }

    @Test("B joins A's group mid-load, then A stops gracefully: every event answered at least once, no commit passes an unanswered message, B commits both partitions to the end")
    func twoReplicas() async throws {
        let first = try await DaemonHarness.onNoida {
            $0.instance = "a"
            $0.useEagerAssignment()
        }
        let noida = first.noida
        let watcher: OutcomeWatcher
        do {
            watcher = try await OutcomeWatcher(bootstrapServers: noida.bootstrapServers, topics: [first.configuration.outputTopic])
        } catch {
            await first.stopAll()
            throw error
        }
        let audit = CommitAudit(partitions: Self.partitions)
        let flow = UploadFlow()
        var second: DaemonHarness?
        var firstRunning = true
        var sampling: Task<Void, Never>?
        do {
            _ = try await first.put(TestPaths.image("orientation-6.jpg"), key: "in/small.jpg")
            // A file service uploading steadily to both partitions in turn, through its own
            // producer (A's goes away with A).
            let uploads = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [noida.bootstrapServers]), logger: .quietKafka)
            flow.start(every: .milliseconds(100)) { index in
                let fileId = "replica-\(index)"
                let value = try DaemonHarness.cloudEvent(fileId: fileId, key: "in/small.jpg")
                audit.sent(try await uploads.send(topic: "file.uploaded", partition: Int32(index % Self.partitions), key: Array(fileId.utf8), value: value), fileId: fileId)
            } finally: {
                await uploads.close()
            }
            sampling = audit.startSampling(first, every: .milliseconds(400))

            try await waitUntil("A to answer events", timeout: .seconds(60)) { first.outcomesRecorded >= 5 }
            let joining = try await DaemonHarness.onNoida(noida, root: first.root) {
                $0.instance = "b"
                $0.useEagerAssignment()
            }
            second = joining
            try await waitUntil("B to be given partitions and answer events", timeout: .seconds(60)) { joining.outcomesRecorded >= 5 }
            #expect(first.outcomesRecorded >= 5)

            try await first.stop(keepStore: true)
            firstRunning = false
            let atHandover = joining.outcomesRecorded
            try await waitUntil("B to take over A's partitions", timeout: .seconds(60)) { joining.outcomesRecorded >= atHandover + 20 }
            let count = try await flow.stop()

            let expected = Set((0..<count).map { "replica-\($0)" })
            try await waitUntil("an outcome for every event", timeout: .seconds(60), state: { "(\(watcher.fileIds.count) of \(count))" }) {
                watcher.fileIds.isSuperset(of: expected)
            }
            // Both partitions got events after A left: commits at both ends are B's.
            try await joining.waitForCommits(audit.ends, partitions: Self.partitions, timeout: .seconds(45))
            sampling?.cancel()
            await sampling?.value

            #expect(audit.ends.count == Self.partitions)
            audit.expectEveryEventAnswered(watcher, expected: expected)
            try await joining.stop(keepStore: true)
            second = nil
        } catch {
            _ = try? await flow.stop()
            sampling?.cancel()
            try? await second?.stop(keepStore: true)
            if firstRunning { try? await first.stop(keepStore: true) }
            await watcher.stop()
            try? FileManager.default.removeItem(at: first.root)
            await noida.stop()
            throw error
        }
        await watcher.stop()
        try? FileManager.default.removeItem(at: first.root)
        await noida.stop()
    }

    @Test("noida-db SIGKILLed mid-stream and restarted on its port and data: the outcomes it lost break the idempotent producer, which is replaced; every event answered, commits at the end")
    func brokerCrash() async throws {
        let logs = LogRecorder(printLevel: .critical)
        // The events go in before the daemon starts, and over a second before, so that the
        // broker has written them (it writes a second after it acknowledges): what the crash
        // loses are the daemon's latest outcomes. Sent while the daemon ran, they were all
        // answered before that second was out.
        let noida = try await NoidaHarness.start()
        let root = try TestPaths.temporaryDirectory("daemon")
        let count = 120
        let reports: [DeliveryReport]
        do {
            let store = LocalObjectStore(root: root)
            try await store.createBucket("uploads")
            _ = try await store.put(bucket: "uploads", key: "in/small.jpg", file: TestPaths.image("orientation-3.jpg"), options: PutOptions())
            let configuration = DaemonConfiguration.testing(root: root, instance: "test")
            try await noida.createTopics(configuration)
            reports = try await Self.produce(count, to: configuration.topic, on: noida) { index in
                let fileId = "crash-\(index)"
                return (fileId, try DaemonHarness.cloudEvent(fileId: fileId, key: "in/small.jpg"))
            }
            try await Task.sleep(for: .milliseconds(1500))
        } catch {
            await noida.stop()
            try? FileManager.default.removeItem(at: root)
            throw error
        }
        let daemon = try await DaemonHarness.onNoida(noida, root: root, logs: logs)
        try await daemon.withOutcomeWatcher { watcher in
            try await waitUntil("some events answered", timeout: .seconds(60)) { watcher.fileIds.count >= 10 }
            try #require(watcher.fileIds.count < count, "still mid-stream when the broker is killed; send more events")
            await daemon.noida.kill()
            try await daemon.noida.restart()

            let expected = Set((0..<count).map { "crash-\($0)" })
            try await waitUntil("an outcome for every event", timeout: .seconds(120), state: { "(\(watcher.fileIds.count) of \(count))" }) {
                watcher.fileIds.isSuperset(of: expected)
            }
            try await daemon.waitForCommits(Self.ends(reports), partitions: Self.partitions, timeout: .seconds(60))
            #expect(watcher.outcomes.allSatisfy { $0.status == "succeeded" })
            // Usually a record it had acknowledged was lost, and the next one on that partition
            // came with a sequence number the broker did not expect: a fatal error, after which
            // librdkafka's producer never sends again. Whether the crash fell in that second is
            // up to the broker's write cycle; when it did, the producer was replaced.
            let fatal = logs.count("Kafka producer fatal error")
            #expect(logs.count("producer failed fatally; replaced by a new one") >= min(fatal, 1), "\(logs.lines.map(\.message).suffix(20))")
            if fatal == 0 { print("noida-db lost no acknowledged outcome in this crash: the producer had no fatal error to recover from") }
        }
    }

    /// Produces `count` keyed records round-robin over the partitions, as a file service would.
    static func produce(
        _ count: Int, to topic: String, on noida: NoidaHarness, _ record: (Int) throws -> (key: String, value: [UInt8])
    ) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [noida.bootstrapServers]), logger: .quietKafka)
        do {
            var reports: [DeliveryReport] = []
            for index in 0..<count {
                let (key, value) = try record(index)
                reports.append(try await producer.send(topic: topic, partition: Int32(index % partitions), key: Array(key.utf8), value: value))
            }
            await producer.close()
            return reports
        } catch {
            await producer.close()
            throw error
        }
    }

    /// The end offset of each partition the records went to.
    static func ends(_ reports: [DeliveryReport]) -> [Int32: Int64] {
        reports.reduce(into: [:]) { $0[$1.partition] = max($0[$1.partition] ?? 0, $1.offset + 1) }
    }
}

/// Sends one upload at a time, at a steady pace, until stopped (at most `limit`).
final class UploadFlow: Sendable {
    private let stopping = Flag()
    private let task = Mutex<Task<Int, any Error>?>(nil)

    func start(
        every interval: Duration, limit: Int = 600, _ send: @escaping @Sendable (Int) async throws -> Void,
        finally: @escaping @Sendable () async -> Void
    ) {
        let stopping = stopping
        task.withLock {
            $0 = Task {
                var index = 0
                do {
                    while !stopping.isSet, index < limit {
                        try await send(index)
                        index += 1
                        try await Task.sleep(for: interval)
                    }
                } catch {
                    await finally()
                    throw error
                }
                await finally()
                return index
            }
        }
    }

    /// Stops sending; returns how many were sent.
    /// - Throws: what a send threw.
    func stop() async throws -> Int {
        stopping.set()
        guard let task = task.withLock({ $0 }) else { return 0 }
        return try await task.value
    }
}
