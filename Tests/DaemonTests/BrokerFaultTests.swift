import Daemon
import Foundation
import Kafka
import Logging
import MediadTestSupport
import ObjectStorage
import Testing

/// Broker faults met by a running daemon, injected by librdkafka's mock cluster: nothing
/// may be lost (every input gets its `media.processed`, duplicates allowed), and no commit
/// may pass a message that has no outcome yet.
@Suite("Broker faults through the daemon: mock cluster over TCP, local store", .serialized, .timeLimit(.minutes(3)))
struct BrokerFaultTests {
    static let partitions = 2

    @Test("Produce and OffsetCommit requests fail: every event is answered, commits reach the end and never pass an unanswered message")
    func requestErrors() async throws {
        let logs = LogRecorder()
        let daemon = try await DaemonHarness(logs: logs) { $0.concurrency = 2 }
        let watcher = try await OutcomeWatcher(cluster: daemon.cluster, topics: [daemon.configuration.outputTopic])
        let audit = CommitAudit(partitions: Self.partitions)
        var sampling: Task<Void, Never>?
        do {
            _ = try await daemon.put(TestPaths.image("orientation-3.jpg"), key: "in/small.jpg")
            let count = 20
            for index in 0..<count {
                let fileId = "produce-\(index)"
                try await daemon.sendUpload(fileId: fileId, key: "in/small.jpg", audit: audit)
            }
            // Queued now, so they hit the daemon's own requests (it is still joining its group):
            // retriable Produce errors librdkafka retries itself, one permanent one the
            // daemon must retry, and OffsetCommit errors, transient and permanent.
            daemon.cluster.pushRequestErrors(apiKey: .produce, errors: [
                .notEnoughReplicas, .requestTimedOut, .leaderNotAvailable, .notLeaderForPartition, .messageSizeTooLarge, .notEnoughReplicas,
            ])
            daemon.cluster.pushRequestErrors(apiKey: .offsetCommit, errors: [
                .offsetMetadataTooLarge, .requestTimedOut, .offsetMetadataTooLarge, .coordinatorNotAvailable, .offsetMetadataTooLarge,
            ])
            sampling = audit.startSampling(daemon)

            try await waitUntil("an outcome for every event", timeout: .seconds(60), state: { "(\(watcher.fileIds.count) of \(count))" }) {
                watcher.fileIds.count == count
            }
            // librdkafka can hold a commit answered REQUEST_TIMED_OUT for ~30 s before it
            // reports it (seen in CI: the next commit ran 32 s after), and three more refusals
            // follow it.
            try await daemon.waitForCommits(audit.ends, partitions: Self.partitions, timeout: .seconds(90))
            sampling?.cancel()
            await sampling?.value

            #expect(watcher.fileIds == Set((0..<count).map { "produce-\($0)" }))
            #expect(watcher.outcomes.allSatisfy { $0.status == "succeeded" })
            // The faults were met, and the daemon got past them.
            #expect(logs.count("delivery failed; retrying") >= 1, "the permanent Produce error reached the daemon")
            #expect(logs.count("commit failed; will retry") >= 1, "a refused commit reached the daemon")
            let violations = audit.violations(outcomes: watcher.outcomes)
            #expect(violations.isEmpty, "\(violations)")
        } catch {
            sampling?.cancel()
            await watcher.stop()
            try? await daemon.stop()
            throw error
        }
        await watcher.stop()
        try await daemon.stop()
    }

    @Test("the only broker goes down for 3 s with events in flight: all are answered once it is back, commits reach the end")
    func brokerDownAndUp() async throws {
        // The daemon's librdkafka reports the broker's absence loudly: record, don't print.
        let logs = LogRecorder(printLevel: .critical)
        let daemon = try await DaemonHarness(logs: logs) { $0.concurrency = 2 }
        let watcher = try await OutcomeWatcher(cluster: daemon.cluster, topics: [daemon.configuration.outputTopic])
        let audit = CommitAudit(partitions: Self.partitions)
        var sampling: Task<Void, Never>?
        do {
            _ = try await daemon.put(TestPaths.image("exif-rich.jpg"), key: "in/photo.jpg")
            let count = 30
            for index in 0..<count {
                let fileId = "down-\(index)"
                try await daemon.sendUpload(fileId: fileId, key: "in/photo.jpg", audit: audit)
            }
            sampling = audit.startSampling(daemon)
            try await waitUntil("the first outcomes", timeout: .seconds(60)) { daemon.outcomesRecorded >= 2 }
            let down = Int64(Date().timeIntervalSince1970 * 1000)
            try daemon.cluster.setBrokerDown(1)
            try #require(daemon.outcomesRecorded < count, "the broker must go down with events still in flight")
            // The outage lasts 3 s of wall time: a duration under test, not a synchronisation.
            try await Task.sleep(for: .seconds(3))
            try daemon.cluster.setBrokerUp(1)
            let up = Int64(Date().timeIntervalSince1970 * 1000)

            try await waitUntil("an outcome for every event", timeout: .seconds(90), state: { "(\(watcher.fileIds.count) of \(count))" }) {
                watcher.fileIds.count == count
            }
            try await daemon.waitForCommits(audit.ends, partitions: Self.partitions, timeout: .seconds(45))
            sampling?.cancel()
            await sampling?.value

            let outcomes = watcher.firstOutcomes
            #expect(Set(outcomes.keys) == Set((0..<count).map { "down-\($0)" }))
            #expect(outcomes.values.allSatisfy { $0.status == "succeeded" })
            // Events were in flight: some were emitted while the broker was away and
            // delivered once it came back.
            #expect(outcomes.values.contains { $0.producedAt > down && $0.producedAt < up }, "an outcome was produced during the outage")
            #expect(logs.lines.contains { $0.message == "consumer error" }, "the daemon saw the broker go")
            let violations = audit.violations(outcomes: watcher.outcomes)
            #expect(violations.isEmpty, "\(violations)")
        } catch {
            sampling?.cancel()
            try? daemon.cluster.setBrokerUp(1)
            await watcher.stop()
            try? await daemon.stop()
            throw error
        }
        await watcher.stop()
        try await daemon.stop()
    }
}
