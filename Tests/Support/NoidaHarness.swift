import Foundation
import Kafka
import Synchronization

/// noida-db (PyPI `noida-db` 0.2.3), an independent implementation of the Kafka protocol
/// (one Rust binary in the wheel), run as `noida-db start --only kafka` on a free loopback
/// port with a fresh data directory. `kill()` (SIGKILL) and `restart()` bring it back on the
/// same port and data, for tests that kill the broker mid-stream.
///
/// Where it differs from Apache Kafka's documented behaviour (measured with librdkafka 2.0.2;
/// mediad keeps to what real Kafka documents):
/// - An unknown topic is auto-created with one partition; topics with more are created with
///   an admin CreateTopics request (`createTopic`, through `KafkaAdmin`).
/// - An offset commit sent from the revoke callback of an eager rebalance, with the
///   generation that is ending, fails with `ILLEGAL_GENERATION` (Apache Kafka accepts a
///   commit of the current generation while the group prepares to rebalance; librdkafka's
///   mock answers `REBALANCE_IN_PROGRESS`). mediad's consumer keeps those offsets and
///   commits them for the partitions assigned back under the new generation, as it does
///   for `REBALANCE_IN_PROGRESS`.
/// - Cooperative-sticky groups: in the second JoinGroup round of an incremental rebalance
///   (a member joined mid-stream), noida-db often answers the leader with a member list
///   that lacks the new member although both joined that generation; the leader assigns
///   itself every partition, then the broker answers it `UNKNOWN_MEMBER_ID` and the group
///   rebalances again. Nothing is lost (everything is re-read from the last commit), but
///   Kafka's protocol gives the leader every member; the rebalance test is not run with
///   this combination.
/// - Data and committed offsets survive a restart, but are persisted a few seconds after a
///   change: a SIGKILL right after a write can lose it (Kafka with acks=all would not).
/// - A member that stops heartbeating (SIGKILLed) is never expired: the group does not
///   rebalance after `session.timeout.ms` (none within 150 s at 6 s), and a member that joins
///   later wedges the group (its JoinGroup is never answered, not even after
///   `max.poll.interval.ms`). Apache Kafka removes the member once its session timed out.
///   A broker restart clears it (see the next point).
/// - After a restart it has forgotten the groups' members (offsets are kept): a consumer
///   that was in a group sees its assignment revoked as lost, rejoins and resumes from its
///   commits. Apache Kafka reloads group metadata with the offsets from `__consumer_offsets`.
/// - `kcat -G … -o beginning` ignores committed offsets; use `-X auto.offset.reset=earliest`.
/// - The binary prints a harmless `GLIBC_2.39` warning on Debian 12.
public final class NoidaHarness: Sendable {
    /// The Kafka port on 127.0.0.1.
    public let port: UInt16
    /// The `--data-dir` (inside `directory`).
    public let dataDirectory: URL
    /// Holds the data directory and `noida.log`; removed by `stop()`.
    public let directory: URL
    private let server: ServerProcess
    private let startSeconds = Mutex<Double>(0)

    public var bootstrapServers: String { "127.0.0.1:\(port)" }
    public var pid: Int32? { server.pid }
    public var residentBytes: Int? { server.residentBytes }
    /// Seconds the last launch took until ready.
    public var lastStartSeconds: Double { startSeconds.withLock { $0 } }

    private init(port: UInt16, directory: URL, dataDirectory: URL, server: ServerProcess) {
        self.port = port
        self.directory = directory
        self.dataDirectory = dataDirectory
        self.server = server
    }

    /// Starts a broker in a fresh directory, blocking the calling thread until it listens.
    /// - Throws: `CommandError` when noida-db is not installed (the test fails; nothing skips)
    ///   or it does not start.
    public static func launch(timeout: Duration = .seconds(30)) throws -> NoidaHarness {
        let binary = try executable()
        let directory = try TestPaths.temporaryDirectory("noida")
        let data = directory.appendingPathComponent("data")
        let port = try LoopbackPorts.free(1)[0]
        let server = ServerProcess(
            name: "noida-db", executable: binary,
            arguments: ["start", "--only", "kafka", "--host", "127.0.0.1", "--kafka-port", "\(port)", "--data-dir", data.path],
            logFile: directory.appendingPathComponent("noida.log"))
        let harness = NoidaHarness(port: port, directory: directory, dataDirectory: data, server: server)
        do {
            try harness.startAndWait(timeout: timeout)
        } catch {
            harness.stop()
            throw error
        }
        return harness
    }

    /// Starts a broker off the cooperative thread pool.
    public static func start() async throws -> NoidaHarness {
        try await onOwnThread { try launch() }
    }

    /// Creates a topic with `partitions` partitions (CreateTopics).
    /// - Throws: `KafkaError`, e.g. `TOPIC_ALREADY_EXISTS`.
    public func createTopic(name: String, partitions: Int) async throws {
        try await KafkaAdmin.createTopics([.init(name: name, partitions: partitions)], bootstrapServers: [bootstrapServers])
    }

    /// `kill`, for async tests: waited for on a thread of its own.
    public func kill() async {
        _ = try? await onOwnThread { [self] in kill() }
    }

    /// SIGKILLs the broker.
    public func kill() { server.kill() }

    /// Starts the broker again on the same port and data directory, after `kill()`.
    public func restart(timeout: Duration = .seconds(30)) async throws {
        try await onOwnThread { try self.startAndWait(timeout: timeout) }
    }

    /// `stop`, for async tests: waited for on a thread of its own.
    public func stop() async {
        _ = try? await onOwnThread { [self] in stop() }
    }

    /// Stops the broker (SIGTERM, SIGKILL after 10 s) and removes its directory.
    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        // Nothing of a dropped harness is kept: no need to let the server flush first.
        server.stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    private func startAndWait(timeout: Duration) throws {
        let started = ContinuousClock.now
        try server.launch()
        let port = port
        try server.waitUntilReady(timeout: timeout) {
            server.log.contains("127.0.0.1:\(port)") && LoopbackPorts.isListening(port)
        }
        let elapsed = ContinuousClock.now - started
        startSeconds.withLock { $0 = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
    }

    /// `noida-db` from `MEDIAD_NOIDA_DB`, else inside the `noida_db` Python package.
    static func executable() throws -> String {
        if let binary = ProcessInfo.processInfo.environment["MEDIAD_NOIDA_DB"], !binary.isEmpty { return binary }
        let found = try PythonPackages.path("""
            import os
            try:
                import noida_db
                p = os.path.join(os.path.dirname(noida_db.__file__), "noida-db")
                print(p if os.access(p, os.X_OK) else "")
            except ImportError:
                print("")
            """)
        guard let found else {
            throw CommandError(description: "noida-db is not installed: run `scripts/setup.sh --test` (PyPI noida-db)")
        }
        return found
    }
}
