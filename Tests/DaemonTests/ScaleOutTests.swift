import Daemon
import Foundation
import Kafka
import MediadTestSupport
import ObjectStorage
import Synchronization
import Testing

/// The scale-out proof behind docker/kubernetes: replicas of the real `mediad serve` binary
/// come and go while a file service uploads, as a rolling update, an autoscaler and a node
/// failure would make them. 6 partitions, 600 events; replicas 1 → 3 → 2 (SIGKILL, a node
/// failure) → 1 (SIGTERM, a scale-down).
///
/// The replicas use the eager `range` assignor, not mediad's default (cooperative-sticky):
/// librdkafka's mock cluster holds every join round for `session.timeout.ms − 1 s`, where
/// Apache Kafka ends it once the members have rejoined, so cooperative-sticky's two
/// back-to-back rounds per change outlast the members' own session check; librdkafka then
/// reports their assignments lost and partitions stay unowned ~10 s against a 6 s session
/// timeout (docs/operations.md, "Scaling"). noida-db, the other Kafka here, never expires a
/// SIGKILLed member at all. What this test proves (every event answered, commits at every
/// partition's end, ownership within a session timeout, duplicates per SIGKILL) holds for
/// mediad's side of either protocol.
@Suite("Scale-out: replicas of mediad serve coming and going mid-stream", .serialized, .timeLimit(.minutes(4)))
struct ScaleOutTests {
    static let partitions = 6
    static let events = 600
    /// Short, because the mock cluster holds every rebalance round for `session.timeout.ms − 1 s`
    /// (`MockKafkaCluster`), where Apache Kafka completes it once the members rejoin: at 1.5 s a round
    /// takes 0.5 s, closer to a real broker. Heartbeats go every 300 ms.
    static let sessionTimeout: Duration = .seconds(6)
    static let shutdownTimeout: Duration = .seconds(20)
    static let topic = DaemonConfiguration().topic
    static let group = DaemonConfiguration().group
    static let outputTopic = DaemonConfiguration().outputTopic

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("1 → 3 → 1 replicas (SIGKILL, then SIGTERM): every event answered, commits reach every partition's end, no partition unowned past a session timeout")
    func oneToThreeToOne() async throws {
        let started = ContinuousClock.now
        let cluster = try MockKafkaCluster(brokers: 1)
        for (topic, partitions) in [(Self.topic, Self.partitions), (Self.outputTopic, Self.partitions), (DaemonConfiguration().dlqTopic, 1)] {
            try cluster.createTopic(name: topic, partitions: partitions)
        }
        let root = try TestPaths.temporaryDirectory("scale-out")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = LocalObjectStore(root: root)
        try await store.createBucket("uploads")
        _ = try await store.put(bucket: "uploads", key: "in/small.jpg", file: TestPaths.image("orientation-6.jpg"), options: PutOptions())

        let watcher = try await OutcomeWatcher(cluster: cluster, topics: [Self.outputTopic])
        let audit = CommitAudit(partitions: Self.partitions)
        var replicas: [ScaleOutReplica] = []
        let quota = Counter(), sent = Counter()
        func start(_ name: String) throws -> ScaleOutReplica {
            let replica = try ScaleOutReplica(
                name: name, bootstrapServers: cluster.bootstrapServers, storageRoot: root, topic: Self.topic,
                sessionTimeout: Self.sessionTimeout, shutdownTimeout: Self.shutdownTimeout)
            replicas.append(replica)
            return replica
        }
        func answered() -> Int { watcher.fileIds.count }
        func state() -> String {
            "(sent \(sent.value), answered \(answered()), owned \(replicas.map { "\($0.name)=\($0.owned.sorted())" }.joined(separator: " ")))"
        }

        // A file service uploading steadily (one small event every 30 ms), never past the quota
        // of the current phase, so every change happens while events are still to come.
        let uploads = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: [cluster.bootstrapServers]), logger: .quietKafka)
        let production = Task {
            var index = 0
            while index < Self.events, !Task.isCancelled {
                if index >= quota.value {
                    try await Task.sleep(for: .milliseconds(20))
                    continue
                }
                let fileId = "scale-\(index)"
                let report = try await uploads.send(topic: Self.topic, key: Array(fileId.utf8), value: try DaemonHarness.cloudEvent(fileId: fileId, key: "in/small.jpg"))
                audit.sent(report, fileId: fileId)
                index += 1
                sent.value = index
                try await Task.sleep(for: .milliseconds(30))
            }
        }
        let sampling = Task {
            while !Task.isCancelled {
                if let committed = try? await KafkaReader.committed(group: Self.group, topic: Self.topic, partitions: Self.partitions, bootstrapServers: cluster.bootstrapServers) {
                    audit.record(CommitAudit.Sample(at: Self.now(), committed: committed))
                }
                try? await Task.sleep(for: .milliseconds(400))
            }
        }
        var kills: [(replica: String, at: Int64)] = []
        var terms: [(replica: String, at: Int64)] = []
        var timings: [String] = []
        func mark(_ what: String) {
            let elapsed = started.duration(to: .now)
            timings.append("\(what) at \(String(format: "%.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)) s")
        }
        do {
            // Phase 1: one replica takes all six partitions.
            quota.value = 100
            let first = try start("r1")
            try await waitUntil("r1 to own every partition and answer events", timeout: .seconds(45), state: state) {
                first.owned.count == Self.partitions && answered() >= 60
            }
            mark("r1 owns 6 partitions")

            // Phase 2: scale up to three (an autoscaler adding two pods at once); the new
            // replicas take partitions over while events flow.
            quota.value = 250
            let second = try start("r2")
            let third = try start("r3")
            try await waitUntil("three replicas to share the partitions and answer events", timeout: .seconds(60), state: state) {
                let counts = Dictionary(grouping: watcher.messages.compactMap(AttributedOutcome.init), by: \.instance).mapValues(\.count)
                return [first, second, third].allSatisfy { !$0.owned.isEmpty } && (counts["r2"] ?? 0) >= 10 && (counts["r3"] ?? 0) >= 10
            }
            mark("3 replicas share the partitions")

            // Phase 3: a node fails: SIGKILL r2 while it has work.
            quota.value = 400
            try await Task.sleep(for: .seconds(1))
            let killedPartitions = second.owned
            try #require(!killedPartitions.isEmpty)
            kills.append((second.name, second.send(SIGKILL)))
            mark("SIGKILL r2 (owned \(killedPartitions.sorted()))")
            #expect(await second.waitForExit(timeout: .seconds(5)))
            try await waitUntil("r1 and r3 to take over r2's partitions", timeout: .seconds(60), state: state) {
                first.owned.union(third.owned) == Set(0..<Int32(Self.partitions))
            }
            mark("r1 and r3 own all 6")

            // Phase 4: scale down: SIGTERM r3, which drains, commits and leaves the group.
            quota.value = 520
            try await Task.sleep(for: .seconds(1))
            terms.append((third.name, third.send(SIGTERM)))
            mark("SIGTERM r3 (owned \(third.owned.sorted()))")
            #expect(await third.waitForExit(timeout: Self.shutdownTimeout + .seconds(15)), "r3 exits within its shutdown deadline")
            #expect(third.exitStatus == 0, "a SIGTERMed replica exits 0")
            mark("r3 exited \(third.exitStatus)")
            try await waitUntil("r1 to own every partition again", timeout: .seconds(60), state: state) {
                first.owned.count == Self.partitions
            }
            mark("r1 owns 6 again")

            // Phase 5: the rest of the stream; everything answered and committed.
            quota.value = Self.events
            try await production.value
            mark("all \(Self.events) sent")
            let expected = Set((0..<Self.events).map { "scale-\($0)" })
            try await waitUntil("an outcome for every event", timeout: .seconds(60), state: state) {
                watcher.fileIds.isSuperset(of: expected)
            }
            mark("all answered")
            let ends = audit.ends
            #expect(ends.count == Self.partitions, "the keys spread over every partition: \(ends)")
            var last: [Int32: Int64] = [:]
            try await waitUntil("commits to reach the end of every partition \(ends)", timeout: .seconds(30), every: .milliseconds(300), state: { "(last seen \(last))" }) {
                last = (try? await KafkaReader.committed(group: Self.group, topic: Self.topic, partitions: Self.partitions, bootstrapServers: cluster.bootstrapServers)) ?? last
                return ends.allSatisfy { last[$0.key] == $0.value }
            }
            mark("commits at every partition's end")
            let observedUntil = Self.now()
            sampling.cancel()
            await sampling.value

            // Ownership: no partition without a member of the group for longer than a session timeout.
            let session = Self.sessionTimeout.milliseconds
            var ownershipEnds: [String: Int64] = [:]
            for (name, at) in kills { ownershipEnds[name] = at + session }
            for replica in replicas where !replica.isRunning && ownershipEnds[replica.name] == nil {
                ownershipEnds[replica.name] = replica.exitedAt ?? observedUntil
            }
            let timeline = OwnershipTimeline(replicas: replicas, ends: ownershipEnds, now: observedUntil)
            let gaps = timeline.gaps(partitions: Self.partitions, until: observedUntil)
            let origin = Self.now() - started.duration(to: .now).milliseconds
            for replica in replicas {
                let changes = replica.changes.map { "\(String(format: "%.1f", Double($0.at - origin) / 1000)) s \($0.assigned ? "+" : $0.lost ? "-lost" : "-")\($0.partitions.sorted())" }
                print("scale-out: \(replica.name) ownership: \(changes.joined(separator: ", "))")
            }
            let longest = gaps.max { $0.milliseconds < $1.milliseconds }
            for replica in replicas {
                let counts = Dictionary(grouping: replica.warnings, by: { $0 }).mapValues(\.count)
                print("scale-out: \(replica.name) warnings: \(counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; "))")
            }
            print("scale-out: unowned stretches: \(gaps.isEmpty ? "none" : gaps.map(\.description).joined(separator: ", ")); longest \(longest?.milliseconds ?? 0) ms (session timeout \(session) ms)")
            #expect(gaps.allSatisfy { $0.milliseconds <= session }, "partitions unowned longer than the session timeout: \(gaps.filter { $0.milliseconds > session })")
            for (name, at) in kills {
                for partition in killedPartitions.sorted() {
                    let takeover = try #require(timeline.takeover(of: partition, from: name, after: at), "partition \(partition) of \(name) taken over")
                    print("scale-out: SIGKILL \(name): partition \(partition) taken over \(takeover - at) ms after the kill")
                    #expect(takeover - at <= 2 * session, "a dead member's partition moves within its session timeout plus one rebalance")
                }
            }

            // Delivery: every event answered at least once, no commit ever passed an unanswered one.
            #expect(watcher.fileIds == expected, "every event answered, nothing else")
            #expect(watcher.outcomes.allSatisfy { $0.status == "succeeded" })
            let violations = audit.violations(outcomes: watcher.outcomes)
            #expect(violations.isEmpty, "\(violations)")
            #expect(audit.sampleCount >= 20)

            // Duplicates, by their cause: what ended the ownership of the replica that answered
            // first, after it answered (a SIGKILL, a lost assignment, a revocation, a SIGTERM).
            let outcomes = watcher.messages.compactMap(AttributedOutcome.init)
            let byFile = Dictionary(grouping: outcomes, by: \.fileId).mapValues { $0.sorted { $0.producedAt < $1.producedAt } }
            var causes: [String: [String]] = [:]
            for (fileId, answers) in byFile where answers.count > 1 {
                let first = answers[0]
                let replica = replicas.first { $0.name == first.instance }
                let next = replica?.changes.first { !$0.assigned && !$0.partitions.isEmpty && $0.at >= first.producedAt }
                let kill = kills.first { $0.replica == first.instance && $0.at >= first.producedAt }
                let cause: String
                if let kill, next == nil || next!.at > kill.at {
                    cause = "SIGKILL \(kill.replica) (answered, not yet committed when it died)"
                } else if let next {
                    cause = next.lost ? "\(first.instance) lost its assignment (dropped from the group)" : "\(first.instance) revoked the partition in a rebalance"
                } else if let before = replica?.changes.last(where: { $0.at < first.producedAt }), !before.assigned, before.lost {
                    // A job still running when its partition was lost finishes after the loss.
                    cause = "\(first.instance) lost its assignment (dropped from the group)"
                } else {
                    cause = terms.contains { $0.replica == first.instance } ? "SIGTERM \(first.instance)" : "answered twice by \(first.instance)"
                }
                causes[cause, default: []].append(fileId)
            }
            for (cause, files) in causes.sorted(by: { $0.key < $1.key }) {
                print("scale-out: duplicates from \(cause): \(files.count): \(files.sorted { $0.localizedStandardCompare($1) == .orderedAscending })")
            }
            for (name, _) in kills {
                print("scale-out: SIGKILL \(name): \(causes["SIGKILL \(name) (answered, not yet committed when it died)"]?.count ?? 0) duplicates")
            }
            for (name, _) in terms {
                #expect(causes["SIGTERM \(name)"] == nil, "a graceful stop commits what it answered: nothing \(name) still owned is answered twice")
            }
            print("scale-out: \(outcomes.count) outcomes for \(Self.events) events (\(outcomes.count - Self.events) duplicates in all); \(timings.joined(separator: "; "))")

            // The survivor stops cleanly too.
            first.send(SIGTERM)
            #expect(await first.waitForExit(timeout: Self.shutdownTimeout + .seconds(15)))
            #expect(first.exitStatus == 0)
        } catch {
            production.cancel()
            sampling.cancel()
            print("scale-out failed: \(state()); \(timings.joined(separator: "; "))")
            replicas.forEach { $0.stopIfRunning() }
            await uploads.close()
            await watcher.stop()
            throw error
        }
        replicas.forEach { $0.stopIfRunning() }
        await uploads.close()
        await watcher.stop()
    }
}
