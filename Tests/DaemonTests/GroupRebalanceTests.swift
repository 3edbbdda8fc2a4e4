import Daemon
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Testing

/// Two daemons in one consumer group sharing the work, with rebalances while events flow:
/// one joins mid-stream, then the first one stops (a scale-down).
@Suite("Two daemons in one group: rebalances mid-stream", .serialized, .timeLimit(.minutes(3)))
struct GroupRebalanceTests {
    static let partitions = 2

    @Test("B joins while A works, then A stops: every event is answered at least once, commits cover every message")
    func joinThenLeave() async throws {
        let first = try await DaemonHarness {
            $0.instance = "a"
            $0.useShortSessionTimeout()
        }
        let watcher = try await OutcomeWatcher(cluster: first.cluster, topics: [first.configuration.outputTopic])
        let audit = CommitAudit(partitions: Self.partitions)
        var second: DaemonHarness?
        var firstRunning = true
        var sampling: Task<Void, Never>?
        let stopProducing = Flag()
        var production: Task<Int, any Error>?
        do {
            _ = try await first.put(TestPaths.image("orientation-6.jpg"), key: "in/small.jpg")
            // A file service uploading steadily, one small event every 100 ms (keep
            // partitions far below the mock's ~5 MiB).
            // Its own producer: A's goes away with A.
            let uploads = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [first.cluster.bootstrapServers]))
            production = Task {
                var index = 0
                do {
                    while !stopProducing.isSet, index < 400 {
                        let fileId = "flow-\(index)"
                        let value = try DaemonHarness.cloudEvent(fileId: fileId, key: "in/small.jpg")
                        audit.sent(try await uploads.send(topic: "file.uploaded", key: Array(fileId.utf8), value: value), fileId: fileId)
                        index += 1
                        try await Task.sleep(for: .milliseconds(100))
                    }
                } catch {
                    await uploads.close()
                    throw error
                }
                await uploads.close()
                return index
            }
            sampling = audit.startSampling(first, every: .milliseconds(400))

            try await waitUntil("A to answer events", timeout: .seconds(60)) { first.outcomesRecorded >= 5 }
            let joining = try await DaemonHarness(cluster: first.cluster, root: first.root) {
                $0.instance = "b"
                $0.useShortSessionTimeout()
            }
            second = joining
            try await waitUntil("B to be given partitions and answer events", timeout: .seconds(45)) { joining.outcomesRecorded >= 5 }
            let firstBeforeStop = first.outcomesRecorded
            #expect(firstBeforeStop >= 5)

            // A stops while events keep coming: B takes over its partitions.
            try await first.stop(keepStore: true)
            firstRunning = false
            let secondAtHandover = joining.outcomesRecorded
            try await waitUntil("B to take over", timeout: .seconds(45)) {
                joining.kafka.isAssigned && joining.outcomesRecorded >= secondAtHandover + 20
            }
            stopProducing.set()
            let count = try await production!.value
            production = nil

            let expected = Set((0..<count).map { "flow-\($0)" })
            try await waitUntil("an outcome for every event", timeout: .seconds(45), state: { "(\(watcher.fileIds.count) of \(count))" }) {
                watcher.fileIds.isSuperset(of: expected)
            }
            try await joining.waitForCommits(audit.ends, partitions: Self.partitions)
            sampling?.cancel()
            await sampling?.value

            audit.expectEveryEventAnswered(watcher, expected: expected)
            try await joining.stop(keepStore: true)
            second = nil
        } catch {
            stopProducing.set()
            production?.cancel()
            sampling?.cancel()
            await watcher.stop()
            try? await second?.stop(keepStore: true)
            if firstRunning { try? await first.stop() } else { try? FileManager.default.removeItem(at: first.root) }
            throw error
        }
        await watcher.stop()
        try? FileManager.default.removeItem(at: first.root)
    }
}
