import Foundation

/// A moto S3 API server on loopback, started by `scripts/storage/moto_harness.py` for
/// end-to-end tests that run `mediad` as a separate process. The harness stops the server
/// when its stdin closes, so a crashed test run leaves nothing behind.
public final class MotoHarness: @unchecked Sendable {
    public struct Info: Decodable, Sendable {
        public var endpoint: String
        public var region: String
        public var accessKeyId: String
        public var secretAccessKey: String
    }

    public let info: Info
    private let process: Process
    private let stdin: Pipe

    /// Starts a server that verifies SigV4 signatures.
    /// - Throws: `CommandError` with the harness's stderr when the server cannot start (tests fail, never skip).
    public init(verifying: Bool = true) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestPaths.root.appendingPathComponent("scripts/storage/moto_harness.py").path] + (verifying ? ["--auth"] : [])
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
            throw CommandError(description: "could not start the moto S3 server: \(message)")
        }
        self.info = info
        self.process = process
        self.stdin = stdin
    }

    /// The environment a `mediad` process needs to reach this server.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": info.accessKeyId, "AWS_SECRET_ACCESS_KEY": info.secretAccessKey,
            "AWS_REGION": info.region, "AWS_ENDPOINT_URL_S3": info.endpoint,
        ]
    }

    public func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { stop() }
    }
}
