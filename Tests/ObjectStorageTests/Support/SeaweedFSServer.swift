import Foundation
import MediadTestSupport
import Testing
@testable import ObjectStorage

/// What the S3 suites need from a server, whichever it is (moto or SeaweedFS).
protocol S3TestServer: Sendable {
    /// The fault-injecting proxy in front of the server, when one runs.
    var proxyEndpoint: URL? { get }
    /// A configuration for the server (or its proxy), with fast retries for tests.
    func configuration(throughProxy: Bool) -> S3Configuration
}

extension MotoServer: S3TestServer {}

/// SeaweedFS (`SeaweedFSHarness`) with SigV4 verification on, and the fault-injecting
/// proxy (`scripts/storage/fault_proxy.py`) in front of it for retry tests.
final class SeaweedFSServer: S3TestServer, @unchecked Sendable {
    // @unchecked: the proxy's Process and Pipe are set once in init and used only by stop().
    let harness: SeaweedFSHarness
    private let proxy: Process
    private let proxyInput: Pipe
    let proxyEndpoint: URL?

    private init(harness: SeaweedFSHarness, proxy: Process, proxyInput: Pipe, proxyPort: UInt16) {
        self.harness = harness
        self.proxy = proxy
        self.proxyInput = proxyInput
        self.proxyEndpoint = URL(string: "http://127.0.0.1:\(proxyPort)")
    }

    /// Starts the server and its proxy; throws with the server's log when it cannot start.
    static func start() async throws -> SeaweedFSServer {
        try await onOwnThread {
            let harness = try SeaweedFSHarness.launch()
            do {
                let (proxy, input, port) = try startProxy(upstream: harness.s3Port)
                return SeaweedFSServer(harness: harness, proxy: proxy, proxyInput: input, proxyPort: port)
            } catch {
                harness.stop()
                throw error
            }
        }
    }

    /// The proxy runs until its stdin closes (on `stop()`, or when the test process dies).
    private static func startProxy(upstream: UInt16) throws -> (Process, Pipe, UInt16) {
        let process = Process()
        let command = Repository.python + [Repository.script("fault_proxy.py"), "0", "\(upstream)"]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        // "fault proxy on 127.0.0.1:PORT -> 127.0.0.1:UPSTREAM"
        let text = String(decoding: line, as: UTF8.self)
        guard let address = text.split(separator: " ").dropFirst(3).first,
            let port = address.split(separator: ":").last.flatMap({ UInt16($0) })
        else {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
            throw ExternalProcessError(description: "the fault proxy did not start: \(text)")
        }
        return (process, input, port)
    }

    func stop() async {
        try? proxyInput.fileHandleForWriting.close()
        let harness = harness, proxy = proxy
        _ = try? await onOwnThread {
            proxy.waitUntilExit()
            harness.stop()
        }
    }

    var endpoint: URL { URL(string: harness.endpoint)! }

    var credentials: S3Credentials {
        S3Credentials(accessKeyID: harness.accessKeyId, secretAccessKey: harness.secretAccessKey)
    }

    func configuration(throughProxy: Bool = false) -> S3Configuration {
        var configuration = S3Configuration(
            region: SeaweedFSHarness.region, endpoint: throughProxy ? proxyEndpoint : endpoint, credentials: credentials)
        configuration.retry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
        configuration.readTimeout = .seconds(20)
        return configuration
    }
}

/// Starts SeaweedFS before a suite's first test and stops it after its last one; suites
/// running at the same time share one server (each test makes its own bucket).
struct SeaweedFSTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await SeaweedFSFleet.shared.acquire()
        let outcome: Result<Void, any Error>
        do {
            try await SeaweedFSServers.$current.withValue(server) { try await function() }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await SeaweedFSFleet.shared.release()
        try outcome.get()
    }
}

extension Trait where Self == SeaweedFSTrait {
    /// Runs the suite with a SeaweedFS server up.
    static var seaweedfs: SeaweedFSTrait { SeaweedFSTrait() }
}

/// The SeaweedFS server of the running suite.
enum SeaweedFSServers {
    @TaskLocal static var current: SeaweedFSServer?

    /// Fails the test when the suite did not start one.
    static func server() throws -> SeaweedFSServer {
        try #require(current, "the suite needs .seaweedfs")
    }
}

/// One reference-counted server for the suites that run at the same time.
actor SeaweedFSFleet {
    static let shared = SeaweedFSFleet()

    private var starting: Task<SeaweedFSServer, any Error>?
    private var users = 0

    func acquire() async throws -> SeaweedFSServer {
        users += 1
        let task = starting ?? Task { try await SeaweedFSServer.start() }
        starting = task
        do {
            return try await task.value
        } catch {
            users -= 1
            if users == 0 { starting = nil }
            throw error
        }
    }

    func release() async {
        users -= 1
        guard users == 0, let task = starting else { return }
        starting = nil
        if let server = try? await task.value {
            await server.stop()
        }
    }
}
