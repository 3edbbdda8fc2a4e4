import Foundation
import Kafka
import MediadTestSupport
import Synchronization

/// One `mediad serve` process of the real binary, as a pod runs it: the mock cluster as its
/// broker, a shared local store standing in for S3, JSON logs on stderr. The test reads the
/// consumer's "Partitions assigned" / "Partitions revoked" lines as they are written, so it
/// knows which partitions this replica owned and when.
final class ScaleOutReplica: Sendable {
    /// A change of this replica's assignment, stamped when the line was read (ms since 1970).
    struct Ownership: Sendable {
        var at: Int64
        var partitions: [Int32]
        var assigned: Bool
        /// A revocation librdkafka reports as lost (the member was dropped from the group).
        var lost = false
    }

    let name: String
    private let process: Process
    private let ownership = Mutex<[Ownership]>([])
    private let pending = Mutex<Data>(Data())
    private let exit = Mutex<(at: Int64, signal: Int32?)?>(nil)
    private let warningLines = Mutex<[String]>([])

    /// Starts `mediad serve` as instance `name`.
    /// - Throws: `CommandError` when the binary is not built or cannot start.
    init(name: String, bootstrapServers: String, storageRoot: URL, topic: String, sessionTimeout: Duration, shutdownTimeout: Duration) throws {
        self.name = name
        let binary = MediadBinary.executable
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CommandError(description: "mediad is not built at \(binary.path); run `swift build --build-tests`")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "serve", "--brokers", bootstrapServers, "--pipelines", TestPaths.pipelines.path, "--http-port", "0", "--concurrency", "2",
            "--set", "storage=local", "--set", "storageRoot=\(storageRoot.path)", "--set", "instance=\(name)",
            "--set", "shutdownTimeout=\(Int(shutdownTimeout.components.seconds))s", "--set", "logFormat=json", "--set", "logLevel=info",
            "--kafka", "session.timeout.ms=\(sessionTimeout.milliseconds)", "--kafka", "heartbeat.interval.ms=\(sessionTimeout.milliseconds / 5)",
            // An eager assignor: the mock cluster holds each join round for the session timeout
            // less 1 s, and cooperative-sticky's two rounds per change outlast the members' own
            // session check there (see ScaleOutTests).
            "--kafka", "partition.assignment.strategy=range",
        ]
        // Only the settings given here: none of the caller's MEDIAD_* variables.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIAD_") }
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        self.process = process
        let topicPattern = topic
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            if chunk.isEmpty { handle.readabilityHandler = nil }
            guard let self else { return }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let lines: [Data] = self.pending.withLock { buffer in
                buffer.append(chunk)
                var complete: [Data] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    complete.append(buffer[buffer.startIndex..<newline])
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                return complete
            }
            for line in lines {
                if let warning = Self.warning(line) { self.warningLines.withLock { $0.append(warning) } }
                guard let change = Self.ownershipChange(line, topic: topicPattern, at: now) else { continue }
                self.ownership.withLock { $0.append(change) }
            }
        }
        process.terminationHandler = { [weak self] finished in
            let signal = finished.terminationReason == .uncaughtSignal ? finished.terminationStatus : nil
            self?.exit.withLock { $0 = (Int64(Date().timeIntervalSince1970 * 1000), signal) }
        }
        try process.run()
    }

    /// A consumer log line about `topic`'s partitions, if `line` is one.
    static func ownershipChange(_ line: Data, topic: String, at: Int64) -> Ownership? {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              let message = object["message"] as? String,
              message == "Partitions assigned" || message == "Partitions revoked",
              let list = object["kafka.partitions"] as? String
        else { return nil }
        let prefix = topic + "["
        let partitions = list.dropFirst().dropLast().components(separatedBy: ", ").compactMap { item -> Int32? in
            guard item.hasPrefix(prefix), item.hasSuffix("]") else { return nil }
            return Int32(item.dropFirst(prefix.count).dropLast())
        }
        // The backfill consumer's lines name its own topic only.
        guard !partitions.isEmpty || list == "[]" else { return nil }
        return Ownership(at: at, partitions: partitions, assigned: message == "Partitions assigned", lost: object["kafka.lost"] as? String == "true")
    }

    /// The message of a warning or error line, if `line` is one.
    static func warning(_ line: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              let level = object["level"] as? String, level == "warning" || level == "error",
              let message = object["message"] as? String
        else { return nil }
        return message
    }

    /// Its warning and error messages so far, in order.
    var warnings: [String] { warningLines.withLock { $0 } }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var changes: [Ownership] { ownership.withLock { $0 } }
    var exitStatus: Int32 { process.terminationStatus }
    /// When the process ended (ms since 1970), once it has.
    var exitedAt: Int64? { exit.withLock { $0?.at } }

    /// The partitions this replica owns now, by its log (incremental assignments applied).
    var owned: Set<Int32> {
        var current = Set<Int32>()
        for change in changes {
            if change.assigned { current.formUnion(change.partitions) } else { current.subtract(change.partitions) }
        }
        return isRunning ? current : []
    }

    /// Sends `signal` (SIGTERM or SIGKILL); returns when it was sent (ms since 1970).
    @discardableResult
    func send(_ signal: Int32) -> Int64 {
        kill(process.processIdentifier, signal)
        return Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Waits for the process to end; false if it is still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        // The termination handler may run just after isRunning turns false.
        for _ in 0..<40 where exit.withLock({ $0 == nil }) { try? await Task.sleep(for: .milliseconds(25)) }
        return !process.isRunning
    }

    /// Ends the process if a failed test left it running.
    func stopIfRunning() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Which replica owned which partition when, from the replicas' own logs, and how long each
/// partition was owned by no member of the group.
struct OwnershipTimeline {
    struct Interval {
        var replica: String
        var from: Int64
        var to: Int64
    }

    struct Gap: CustomStringConvertible {
        var partition: Int32
        var from: Int64
        var to: Int64
        var milliseconds: Int64 { to - from }
        var description: String { "partition \(partition): \(milliseconds) ms unowned" }
    }

    var intervals: [Int32: [Interval]] = [:]

    /// - Parameters:
    ///   - ends: when each replica stopped owning what it still held: the exit of a replica
    ///     that shut down, or for a SIGKILLed one the moment its session expired (until
    ///     then the group still counts it a member and cannot hand its partitions on).
    ///   - now: the end of the observation for replicas still running.
    init(replicas: [ScaleOutReplica], ends: [String: Int64], now: Int64) {
        for replica in replicas {
            var open: [Int32: Int64] = [:]
            for change in replica.changes {
                for partition in change.partitions {
                    if change.assigned {
                        open[partition] = open[partition] ?? change.at
                    } else if let from = open.removeValue(forKey: partition) {
                        intervals[partition, default: []].append(Interval(replica: replica.name, from: from, to: change.at))
                    }
                }
            }
            let end = ends[replica.name] ?? now
            for (partition, from) in open {
                intervals[partition, default: []].append(Interval(replica: replica.name, from: from, to: max(from, end)))
            }
        }
    }

    /// Stretches between a partition's first assignment and `until` owned by nobody.
    func gaps(partitions: Int, until: Int64) -> [Gap] {
        var found: [Gap] = []
        for partition in (0..<Int32(partitions)) {
            let sorted = (intervals[partition] ?? []).sorted { $0.from < $1.from }
            guard var covered = sorted.first?.from else { continue }
            for interval in sorted {
                if interval.from > covered { found.append(Gap(partition: partition, from: covered, to: interval.from)) }
                covered = max(covered, interval.to)
            }
            if covered < until { found.append(Gap(partition: partition, from: covered, to: until)) }
        }
        return found
    }

    /// When `partition` was next assigned to a replica other than `replica` at or after `after`.
    func takeover(of partition: Int32, from replica: String, after: Int64) -> Int64? {
        (intervals[partition] ?? []).filter { $0.replica != replica && $0.from >= after }.map(\.from).min()
    }
}

/// A `media.processed` record with the instance that produced it (`source` = `/mediad/<instance>`).
struct AttributedOutcome {
    var fileId: String
    var instance: String
    var producedAt: Int64

    init?(_ message: KafkaMessage) {
        guard let value = message.value,
              let event = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              let source = event["source"] as? String, source.hasPrefix("/mediad/"),
              let fileId = (event["data"] as? [String: Any])?["fileId"] as? String
        else { return nil }
        self.fileId = fileId
        instance = String(source.dropFirst("/mediad/".count))
        producedAt = message.timestamp?.millisecondsSince1970 ?? Int64.max
    }
}

/// A number tasks share (the producer's quota, how many it sent).
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)

    var value: Int {
        get { storage.load(ordering: .acquiring) }
        set { storage.store(newValue, ordering: .releasing) }
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
