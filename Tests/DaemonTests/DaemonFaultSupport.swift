import Daemon
import Foundation
import Kafka
import Logging
import MediadTestSupport
import Synchronization
import Testing

/// Log lines kept in memory, so a test can prove that a fault it injected was met.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let storage = Mutex<[Line]>([])
    /// Lines at this level and above are also printed (fault tests expect many warnings).
    let printLevel: Logger.Level

    init(printLevel: Logger.Level = .warning) {
        self.printLevel = printLevel
    }

    var lines: [Line] { storage.withLock { $0 } }

    func count(_ message: String) -> Int {
        storage.withLock { $0.filter { $0.message == message }.count }
    }

    func handler(level: Logger.Level) -> some LogHandler {
        RecordingHandler(recorder: self, logLevel: level)
    }

    fileprivate func append(_ line: Line) {
        storage.withLock { $0.append(line) }
    }
}

private struct RecordingHandler: LogHandler {
    let recorder: LogRecorder
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        recorder.append(.init(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
    }
}

/// One `media.processed` record, decoded as far as these tests look.
struct Outcome: Sendable {
    var fileId: String
    var status: String
    var errors: [(stage: String, code: String, retryable: Bool, message: String)]
    var derivativeKeys: [String]
    var timings: [String: Double]
    /// When the daemon produced it (the record's CreateTime), in ms since 1970.
    var producedAt: Int64
    /// The producing daemon (`/mediad/<instance>`).
    var source: String
    /// Where it landed in the outcome topic.
    var partition: Int32
    var offset: Int64

    init?(_ message: KafkaMessage) {
        guard let value = message.value,
              let event = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              let data = event["data"] as? [String: Any],
              let fileId = data["fileId"] as? String, let status = data["status"] as? String
        else { return nil }
        self.fileId = fileId
        self.status = status
        errors = (data["errors"] as? [[String: Any]] ?? []).map {
            (stage: $0["stage"] as? String ?? "", code: $0["code"] as? String ?? "", retryable: $0["retryable"] as? Bool ?? false, message: $0["message"] as? String ?? "")
        }
        timings = data["timings"] as? [String: Double] ?? [:]
        derivativeKeys = (data["derivatives"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        producedAt = message.timestamp?.millisecondsSince1970 ?? Int64.max
        source = event["source"] as? String ?? ""
        partition = message.partition
        offset = message.offset
    }
}

/// A consumer in a fresh group that reads topics from the start for the whole test, like
/// the notification service, so outcomes are seen as they are produced.
final class OutcomeWatcher: Sendable {
    let consumer: KafkaConsumer
    private let box = MessageBox()
    private let reader: Task<Void, Never>

    convenience init(cluster: MockKafkaCluster, topics: [String]) async throws {
        try await self.init(bootstrapServers: cluster.bootstrapServers, topics: topics)
    }

    init(bootstrapServers: String, topics: [String]) async throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrapServers], groupID: "watcher-\(UUID().uuidString)")
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.pollTimeout = .milliseconds(50)
        consumer = try KafkaConsumer(configuration: configuration, logger: Logger.quietKafka)
        try await consumer.subscribe(topics: topics)
        let events = consumer.events
        let box = box
        reader = Task {
            for await event in events {
                if case .message(let message) = event { _ = box.append(message) }
            }
        }
    }

    var messages: [KafkaMessage] { box.messages }
    var outcomes: [Outcome] { messages.compactMap(Outcome.init) }
    var fileIds: Set<String> { Set(outcomes.map(\.fileId)) }

    /// The first outcome of each file.
    var firstOutcomes: [String: Outcome] {
        var result: [String: Outcome] = [:]
        for outcome in outcomes where (result[outcome.fileId]?.producedAt ?? .max) > outcome.producedAt {
            result[outcome.fileId] = outcome
        }
        return result
    }

    func stop() async {
        await consumer.close()
        reader.cancel()
    }
}

/// Where each input record went, and what the daemon's group had committed at sampled
/// moments: the evidence for "no commit ever passed a message without its outcome".
final class CommitAudit: Sendable {
    struct Input: Sendable {
        var partition: Int32
        var offset: Int64
        var fileId: String
    }

    struct Sample: Sendable {
        /// When the committed offsets were known to be in force (after the query returned), ms since 1970.
        var at: Int64
        var committed: [Int32: Int64]
    }

    let partitions: Int
    private let inputs = Mutex<[Input]>([])
    private let samples = Mutex<[Sample]>([])

    init(partitions: Int) {
        self.partitions = partitions
    }

    func sent(_ report: DeliveryReport, fileId: String) {
        inputs.withLock { $0.append(Input(partition: report.partition, offset: report.offset, fileId: fileId)) }
    }

    var sampleCount: Int { samples.withLock { $0.count } }

    /// The records sent per partition (the end offset every partition's commit must reach).
    var ends: [Int32: Int64] {
        var result: [Int32: Int64] = [:]
        for input in inputs.withLock({ $0 }) { result[input.partition] = max(result[input.partition] ?? 0, input.offset + 1) }
        return result
    }

    /// Reads the group's committed offsets once; a broker that is down just yields no sample.
    func sample(_ daemon: DaemonHarness) async {
        guard let committed = try? await daemon.committed(topic: daemon.configuration.topic, partitions: partitions) else { return }
        record(Sample(at: Int64(Date().timeIntervalSince1970 * 1000), committed: committed))
    }

    func record(_ sample: Sample) {
        samples.withLock { $0.append(sample) }
    }

    /// Samples until cancelled.
    func startSampling(_ daemon: DaemonHarness, every interval: Duration = .milliseconds(250)) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                await sample(daemon)
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Every sampled commit that passed a message whose first outcome was produced only
    /// after the sample (or never). Empty when at-least-once held at every sampled moment.
    /// Each names every outcome of the file (who produced it, when, where it landed) and the
    /// samples of its partition around the offending one, to tell a daemon's early commit
    /// from an outcome the watcher did not see.
    func violations(outcomes: [Outcome]) -> [String] {
        let inputs = inputs.withLock { $0 }
        let samples = samples.withLock { $0 }
        let byFile = Dictionary(grouping: outcomes, by: \.fileId)
        var found: [String] = []
        for (index, sample) in samples.enumerated() {
            for input in inputs where input.offset < (sample.committed[input.partition] ?? 0) {
                let answers = (byFile[input.fileId] ?? []).sorted { $0.producedAt < $1.producedAt }
                guard answers.first.map({ $0.producedAt > sample.at }) ?? true else { continue }
                let around = samples[max(0, index - 3)...min(samples.count - 1, index + 1)]
                    .map { "\($0.at):\($0.committed[input.partition].map(String.init) ?? "-")" }
                found.append(
                    "committed \(sample.committed[input.partition]!) on partition \(input.partition) at \(sample.at) passed offset \(input.offset) (\(input.fileId)); "
                        + "answers \(answers.map { "\($0.source)@\($0.producedAt) [\($0.partition):\($0.offset)]" }); samples \(around)")
            }
        }
        return found
    }
}

extension CommitAudit {
    /// What the rebalance tests hold the daemons to: an outcome for every sent event and for
    /// nothing else, each a success, and no sampled commit past a message answered only later.
    func expectEveryEventAnswered(_ watcher: OutcomeWatcher, expected: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(watcher.fileIds == expected, "every event answered, nothing else", sourceLocation: sourceLocation)
        #expect(watcher.outcomes.allSatisfy { $0.status == "succeeded" }, sourceLocation: sourceLocation)
        let violations = violations(outcomes: watcher.outcomes)
        #expect(violations.isEmpty, "\(violations)", sourceLocation: sourceLocation)
        #expect(sampleCount >= 10, sourceLocation: sourceLocation)
    }
}

/// Polls `condition` until it holds.
/// - Throws: `CommandError`-like `WaitTimeout` naming what was awaited and `state()`.
func waitUntil(
    _ what: String, timeout: Duration, every interval: Duration = .milliseconds(50),
    state: () async -> String = { "" }, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else {
            throw WaitTimeout(description: "timed out after \(timeout) waiting for \(what) \(await state())")
        }
        try await Task.sleep(for: interval)
    }
}

extension DaemonHarness {
    /// Produces a file.uploaded event for `key` (Kafka key = fileId) and tells the audit
    /// where it landed.
    func sendUpload(fileId: String, key: String, audit: CommitAudit) async throws {
        audit.sent(try await send(DaemonHarness.cloudEvent(fileId: fileId, key: key), key: fileId), fileId: fileId)
    }

    /// Polls the group's committed offsets until every partition reached `ends`.
    func waitForCommits(_ ends: [Int32: Int64], partitions: Int, timeout: Duration = .seconds(30)) async throws {
        var last: [Int32: Int64] = [:]
        try await waitUntil("commits to reach \(ends)", timeout: timeout, every: .milliseconds(300), state: { "(last seen \(last))" }) {
            last = (try? await committed(topic: configuration.topic, partitions: partitions)) ?? last
            return ends.allSatisfy { last[$0.key] == $0.value }
        }
    }

    /// The number of outcomes the daemon recorded, from its metrics.
    var outcomesRecorded: Int {
        metricsText().split(separator: "\n")
            .filter { $0.hasPrefix("mediad_outcomes_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
            .reduce(0, +)
    }
}

extension Logger {
    /// librdkafka warns about every broker that goes down; fault tests expect that.
    static var quietKafka: Logger {
        var logger = Logger(label: "test.kafka")
        logger.logLevel = .critical
        return logger
    }
}
