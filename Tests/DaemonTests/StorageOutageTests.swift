import Daemon
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Testing

/// The daemon on a real moto S3 server that it reaches only through a TCP relay, which the
/// test cuts (open connections reset, new ones refused) and restores on the same port with
/// the same data, as when an S3 endpoint goes away and comes back.
@Suite("S3 outage through the daemon: moto behind a relay that is cut and restored", .serialized, .timeLimit(.minutes(3)))
struct StorageOutageTests {
    static let partitions = 2

    /// moto, the relay in front of it, a daemon that reaches S3 through the relay (and
    /// records its log lines), and a watcher of `media.processed`.
    struct Setup {
        let moto: MotoHarness
        let relay: TCPProxy
        let logs: LogRecorder
        let daemon: DaemonHarness
        let watcher: OutcomeWatcher

        static func start(adjust: (inout DaemonConfiguration) -> Void) async throws -> Setup {
            let moto = try await MotoHarness.start(.verifying)
            let relay = try TCPProxy(upstreamPort: moto.port)
            let logs = LogRecorder()
            let daemon = try await DaemonHarness(logs: logs) { configuration in
                configuration.useS3(endpoint: relay.endpoint, moto: moto)
                adjust(&configuration)
            }
            do {
                let watcher = try await OutcomeWatcher(cluster: daemon.cluster, topics: [daemon.configuration.outputTopic])
                return Setup(moto: moto, relay: relay, logs: logs, daemon: daemon, watcher: watcher)
            } catch {
                try? await daemon.stop()
                relay.stop()
                await moto.stop()
                throw error
            }
        }

        func stop() async {
            await watcher.stop()
            try? await daemon.stop()
            relay.stop()
            await moto.stop()
        }
    }

    /// The log lines of a storage step that failed and is tried again, or of a job retried.
    static func retries(in logs: LogRecorder) -> [LogRecorder.Line] {
        logs.lines.filter { $0.message.hasSuffix("failed, retrying") || $0.message == "retrying after transient failures" }
    }

    @Test("S3 gone for 3 s while jobs run: retries carry every job to succeeded; no commit passes an unanswered message")
    func outageMidJob() async throws {
        // 8 attempts from 200 ms: at least 12 s of backoff, far more than the outage.
        // Every event admitted at once (queue depth 12), so jobs are at every step, storage
        // included, when S3 goes.
        let setup = try await Setup.start { configuration in
            configuration.concurrency = 2
            configuration.queueDepth = 12
            configuration.retryAttempts = 8
            configuration.retryBaseDelay = .milliseconds(200)
        }
        let daemon = setup.daemon
        let audit = CommitAudit(partitions: Self.partitions)
        var sampling: Task<Void, Never>?
        do {
            let fixtures = ["exif-rich.jpg", "panorama.jpg", "gps-south-west.jpg", "photo.webp"]
            let count = 12
            // Distinct bytes per event (a trailer after the image), so every job downloads,
            // decodes and stores through the outage instead of copying another's outputs.
            for index in 0..<count {
                let fixture = fixtures[index % fixtures.count]
                let bytes = try Data(contentsOf: TestPaths.image(fixture)) + Data("copy \(index)".utf8)
                _ = try await daemon.application.store.put(bucket: "uploads", key: "in/\(index)-\(fixture)", data: bytes, options: PutOptions())
            }
            sampling = audit.startSampling(daemon)
            for index in 0..<count {
                let fileId = "outage-\(index)"
                let key = "in/\(index)-\(fixtures[index % fixtures.count])"
                try await daemon.sendUpload(fileId: fileId, key: key, audit: audit)
            }

            // Cut as soon as the first outcome is out: the other jobs are mid-way or queued.
            try await waitUntil("the first outcome", timeout: .seconds(60)) { daemon.outcomesRecorded >= 1 }
            setup.relay.cut()
            let atCut = daemon.outcomesRecorded
            try #require(atCut < count, "the outage must begin with jobs still to do")
            // The jobs still running may all be decoding in their workers, which do not touch
            // S3; the outage is held until one of them has met it, so that it cannot pass
            // unnoticed on a slow machine. From then on it lasts 3 s of wall time: a duration
            // under test, not a synchronisation.
            try await waitUntil("a job meeting the outage", timeout: .seconds(60)) { !Self.retries(in: setup.logs).isEmpty }
            try await Task.sleep(for: .seconds(3))
            let beforeRestore = daemon.outcomesRecorded
            setup.relay.restore()

            try await waitUntil("an outcome for every event", timeout: .seconds(90), state: { "(\(setup.watcher.fileIds.count) of \(count))" }) {
                setup.watcher.fileIds.count == count
            }
            let outcomes = setup.watcher.firstOutcomes
            #expect(beforeRestore < count, "jobs waited for S3 to come back")
            for (fileId, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
                #expect(outcome.status == "succeeded", "\(fileId): \(outcome.errors)")
                #expect(!outcome.derivativeKeys.isEmpty, "\(fileId)")
                for key in outcome.derivativeKeys + ["derived/\(fileId)/manifest.json"] {
                    let stored = try await daemon.application.store.head(bucket: "uploads", key: key)
                    #expect(stored.size > 0, "\(key) is in S3")
                }
            }
            // The jobs met the outage and retried (not merely waited in a queue).
            #expect(!Self.retries(in: setup.logs).isEmpty, "some job retried through the outage")

            try await daemon.waitForCommits(audit.ends, partitions: Self.partitions)
            sampling?.cancel()
            await sampling?.value
            #expect(audit.sampleCount >= 5, "commits were sampled during the outage")
            let violations = audit.violations(outcomes: setup.watcher.outcomes)
            #expect(violations.isEmpty, "\(violations)")
        } catch {
            sampling?.cancel()
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test("S3 down longer than the retry budget: failed with a retryable source_unavailable, committed only after it was emitted; the next event succeeds once S3 is back")
    func outageOutlastsRetries() async throws {
        let setup = try await Setup.start { configuration in
            configuration.concurrency = 2
            configuration.retryAttempts = 2
            configuration.retryBaseDelay = .milliseconds(50)
        }
        let daemon = setup.daemon
        let audit = CommitAudit(partitions: Self.partitions)
        var sampling: Task<Void, Never>?
        do {
            _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/photo.jpg")
            setup.relay.cut()
            sampling = audit.startSampling(daemon)
            let count = 3
            for index in 0..<count {
                let fileId = "down-\(index)"
                try await daemon.sendUpload(fileId: fileId, key: "in/photo.jpg", audit: audit)
            }
            try await waitUntil("an outcome for every event", timeout: .seconds(60), state: { "(\(setup.watcher.fileIds.count) of \(count))" }) {
                setup.watcher.fileIds.count == count
            }
            for outcome in setup.watcher.outcomes {
                #expect(outcome.status == "failed")
                #expect(outcome.errors.map(\.code) == ["source_unavailable"], "\(outcome.errors)")
                #expect(outcome.errors.first?.stage == "download")
                #expect(outcome.errors.first?.retryable == true, "a file service may send the event again later")
                #expect(outcome.derivativeKeys.isEmpty)
            }
            try await daemon.waitForCommits(audit.ends, partitions: Self.partitions)
            sampling?.cancel()
            await sampling?.value
            let violations = audit.violations(outcomes: setup.watcher.outcomes)
            #expect(violations.isEmpty, "\(violations)")

            // S3 is back: the same daemon, without a restart, processes the next event.
            setup.relay.restore()
            try await daemon.send(DaemonHarness.cloudEvent(fileId: "down-0", key: "in/photo.jpg"), key: "down-0")
            try await waitUntil("the resent event's outcome", timeout: .seconds(60)) {
                setup.watcher.outcomes.contains { $0.fileId == "down-0" && $0.status == "succeeded" }
            }
            let stored = try await daemon.application.store.head(bucket: "uploads", key: "derived/down-0/manifest.json")
            #expect(stored.size > 0)
        } catch {
            sampling?.cancel()
            await setup.stop()
            throw error
        }
        await setup.stop()
    }
}
