import Foundation
import MediadTestSupport

/// `mediad serve --embedded` (its own mock broker, a local store), run to ask its HTTP
/// endpoint what the manifests' probes will ask.
enum ServeProcess {
    /// Runs the daemon on a free port for the duration of `body`, once its endpoint answers.
    /// A port taken between the pick and the bind (tests run in parallel) is picked again.
    /// - Throws: `CommandError` with the daemon's log when the binary is missing or exits
    ///   early; what `body` throws.
    static func withRunning(_ body: (Int) async throws -> Void) async throws {
        let binary = Deployment.mediadBinary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CommandError(description: "no mediad at \(binary.path): build with `swift build --build-tests`")
        }
        let root = try TestPaths.temporaryDirectory("serve-probes")
        defer { try? FileManager.default.removeItem(at: root) }
        for attempt in 1...3 {
            let port = try freePort()
            let log = root.appendingPathComponent("serve-\(attempt).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = binary
            process.arguments = [
                "serve", "--embedded", "--http-port", String(port), "--pipelines", TestPaths.pipelines.path,
                "--set", "storageRoot=\(root.appendingPathComponent("store").path)", "--set", "httpHost=127.0.0.1", "--set", "logLevel=notice",
            ]
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEDIAD_") }
            let output = try FileHandle(forWritingTo: log)
            process.standardOutput = output
            process.standardError = output
            try process.run()
            defer {
                if process.isRunning {
                    kill(process.processIdentifier, SIGTERM)
                }
                process.waitUntilExit()
                try? output.close()
            }
            let logText = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, try await status(port: port, path: "/healthz") == "000" {
                guard ContinuousClock.now < deadline else {
                    throw CommandError(description: "mediad serve did not answer on port \(port) within 60 s:\n\(logText())")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            guard process.isRunning else {
                let text = logText()
                if text.contains("in use"), attempt < 3 { continue }
                throw CommandError(description: "mediad serve exited \(process.terminationStatus):\n\(text)")
            }
            try await body(port)
            guard process.isRunning else { throw CommandError(description: "mediad serve exited \(process.terminationStatus):\n\(logText())") }
            return
        }
    }

    /// The HTTP status of one GET, "000" when nothing answered.
    private static func status(port: Int, path: String) async throws -> String {
        try await Command.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://127.0.0.1:\(port)\(path)"]).text
    }

    /// Polls `path` until it answers 200 (readiness needs the group join, ~3 s on the mock).
    /// - Throws: `CommandError` with the last status after 30 s.
    static func expectOK(port: Int, path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await status(port: port, path: path)
            if last == "200" { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CommandError(description: "GET \(path) on mediad serve answered \(last), not 200")
    }

    /// A TCP port nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw CommandError(description: "socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw CommandError(description: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
