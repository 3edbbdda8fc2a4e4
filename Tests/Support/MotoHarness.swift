import Foundation

/// A moto S3 API server on loopback, started by `scripts/storage/moto_harness.py`: one
/// launcher for every suite that needs S3. The harness stops the server when its stdin
/// closes, so a crashed test run leaves nothing behind.
public final class MotoHarness: @unchecked Sendable {
    public enum Mode: Sendable {
        /// Verifies SigV4 (an IAM user, access key and policy are created first).
        case verifying
        /// Accepts any signature: for keys moto cannot verify (see `TrickyKeyTests`).
        case plain
        /// Plain, with the fault-injecting proxy in front, for retry tests.
        case plainWithProxy

        var arguments: [String] {
            switch self {
            case .verifying: ["--auth"]
            case .plain: []
            case .plainWithProxy: ["--proxy"]
            }
        }
    }

    public struct Info: Decodable, Sendable {
        public var endpoint: String
        public var region: String
        public var accessKeyId: String
        public var secretAccessKey: String
        public var sessionAccessKeyId: String?
        public var sessionSecretAccessKey: String?
        public var sessionToken: String?
        public var proxyEndpoint: String?
    }

    public let info: Info
    private let process: Process
    private let stdin: Pipe

    /// Starts a server, blocking the calling thread for the second or two it takes.
    /// - Throws: `CommandError` with the harness's stderr when the server cannot start (tests fail, never skip).
    public convenience init(verifying: Bool = true) throws {
        try self.init(mode: verifying ? .verifying : .plain)
    }

    public init(mode: Mode) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let python = ProcessInfo.processInfo.environment["MEDIAD_PYTHON"] ?? "python3"
        process.arguments = [python, TestPaths.root.appendingPathComponent("scripts/storage/moto_harness.py").path] + mode.arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let info = try? JSONDecoder().decode(Info.self, from: line) else {
            try? stdin.fileHandleForWriting.close()
            process.waitUntilExit()
            let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw CommandError(description: "could not start the moto S3 server (\(process.arguments?.joined(separator: " ") ?? "")): \(message)")
        }
        self.info = info
        self.process = process
        self.stdin = stdin
    }

    /// Starts a server off the cooperative thread pool.
    public static func start(_ mode: Mode) async throws -> MotoHarness {
        try await onOwnThread { try MotoHarness(mode: mode) }
    }

    /// The server's port on 127.0.0.1 (for a relay in front of it).
    public var port: UInt16 {
        UInt16(URL(string: info.endpoint)?.port ?? 0)
    }

    /// The environment a `mediad` process needs to reach this server.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": info.accessKeyId, "AWS_SECRET_ACCESS_KEY": info.secretAccessKey,
            "AWS_REGION": info.region, "AWS_ENDPOINT_URL_S3": info.endpoint,
        ]
    }

    /// `stop`, for async tests: waited for on a thread of its own.
    public func stop() async {
        _ = try? await onOwnThread { [self] in stop() }
    }

    /// Stops the server and waits (at most 15 s) for the harness to exit.
    public func stop() {
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { stop() }
    }
}
