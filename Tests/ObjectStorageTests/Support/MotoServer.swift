import Foundation
import NIOPosix
@testable import ObjectStorage

/// A moto S3 server on loopback, started by `scripts/storage/moto_harness.py`.
///
/// The harness prints the server's address and credentials, then stops the server
/// when its stdin closes: when `stop()` runs, or when the test process dies.
final class MotoServer: Sendable {
    /// Which server.
    enum Kind: String, Sendable, Hashable {
        /// Verifies SigV4 (IAM user, access key and policy created at start).
        case verifying
        /// Accepts anything, with the fault-injecting proxy in front: for keys moto
        /// cannot verify (`+ % ; = & ~`, non-ASCII) and for retry tests.
        case plain
    }

    struct Info: Decodable, Sendable {
        var endpoint: String
        var region: String
        var accessKeyId: String
        var secretAccessKey: String
        var sessionAccessKeyId: String?
        var sessionSecretAccessKey: String?
        var sessionToken: String?
        var proxyEndpoint: String?
    }

    let kind: Kind
    let info: Info
    private let process: Process
    private let stdin: FileHandle

    private init(kind: Kind, info: Info, process: Process, stdin: FileHandle) {
        self.kind = kind
        self.info = info
        self.process = process
        self.stdin = stdin
    }

    /// Starts a server; throws with the harness's stderr when it cannot.
    static func start(_ kind: Kind) async throws -> MotoServer {
        let command = Repository.python + [Repository.script("moto_harness.py")]
            + (kind == .verifying ? ["--auth"] : ["--proxy"])
        return try await NIOThreadPool.singleton.runIfActive {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            let stdin = Pipe()
            let stdout = Pipe()
            let stderr = Pipe()
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
                throw ExternalProcessError(
                    description: "could not start the moto server (\(command.joined(separator: " "))): \(message)")
            }
            return MotoServer(kind: kind, info: info, process: process, stdin: stdin.fileHandleForWriting)
        }
    }

    /// Stops the server and waits for the harness to exit.
    func stop() async {
        let (process, stdin) = (self.process, self.stdin)
        _ = try? await NIOThreadPool.singleton.runIfActive {
            try? stdin.close()
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    var endpoint: URL { URL(string: info.endpoint)! }
    var proxyEndpoint: URL? { info.proxyEndpoint.flatMap(URL.init(string:)) }

    var credentials: S3Credentials {
        S3Credentials(accessKeyID: info.accessKeyId, secretAccessKey: info.secretAccessKey)
    }

    /// A configuration for this server, with fast retries and small parts for tests.
    func configuration(throughProxy: Bool = false) -> S3Configuration {
        var configuration = S3Configuration(
            region: info.region, endpoint: throughProxy ? proxyEndpoint : endpoint, credentials: credentials)
        configuration.retry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
        configuration.readTimeout = .seconds(20)
        return configuration
    }
}
