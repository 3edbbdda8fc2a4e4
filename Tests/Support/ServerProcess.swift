import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real server a test runs as a child process (SeaweedFS, noida-db): started with fixed
/// arguments, stopped or killed by its PID, and started again with the same arguments (same
/// ports, same data directory) for tests that kill a server mid-stream.
///
/// Every launched PID is also handed to `ProcessReaper`, which SIGKILLs what is still running
/// when the test process dies without stopping it, so a crashed run leaves no server behind.
public final class ServerProcess: Sendable {
    public let name: String
    public let executable: String
    public let arguments: [String]
    /// Where the current run's stdout and stderr go (replaced at each launch).
    public let logFile: URL
    private let environment: [String: String]
    private let running = Mutex<Process?>(nil)
    private let launches = Atomic<Int>(0)

    public init(name: String, executable: String, arguments: [String], logFile: URL, environment: [String: String] = [:]) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.logFile = logFile
        self.environment = environment
    }

    /// Starts the process (again, after a stop or kill); returns its PID.
    /// - Throws: `CommandError` when it is already running or cannot start.
    @discardableResult
    public func launch() throws -> Int32 {
        try running.withLock { running in
            if let process = running, process.isRunning {
                throw CommandError(description: "\(name) is already running (pid \(process.processIdentifier))")
            }
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
            let log = try FileHandle(forWritingTo: logFile)
            defer { try? log.close() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            do {
                try process.run()
            } catch {
                throw CommandError(description: "cannot start \(name) (\(executable)): \(error)")
            }
            ProcessReaper.shared.watch(process.processIdentifier)
            running = process
            launches.add(1, ordering: .relaxed)
            return process.processIdentifier
        }
    }

    /// The PID of the running process, if any.
    public var pid: Int32? {
        running.withLock { process in process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    public var isRunning: Bool { pid != nil }

    /// How often the process was launched.
    public var launchCount: Int { launches.load(ordering: .relaxed) }

    /// What the current run printed so far.
    public var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// Resident memory of the running process (`VmRSS`), in bytes.
    public var residentBytes: Int? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }

    /// SIGKILLs the process and waits until it is gone (a crash, as far as the server is concerned).
    public func kill() {
        stop(signal: SIGKILL, grace: .seconds(10))
    }

    /// Stops the process: `signal` (SIGTERM by default), then SIGKILL if it is still running
    /// after `grace`. Returns once it exited; does nothing when it is not running.
    public func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) {
        running.withLock { running in
            guard let process = running else { return }
            let pid = process.processIdentifier
            if process.isRunning {
                Glibc.kill(pid, signal)
                let deadline = ContinuousClock.now + grace
                while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
                if process.isRunning {
                    Glibc.kill(pid, SIGKILL)
                    process.waitUntilExit()
                }
            }
            ProcessReaper.shared.forget(pid)
            running = nil
        }
    }

    /// Waits until `ready` holds, checking every 20 ms.
    /// - Throws: `CommandError` with the log when the process exits first or `timeout` passes.
    public func waitUntilReady(timeout: Duration, _ ready: () -> Bool) throws {
        let started = ContinuousClock.now
        while !ready() {
            guard isRunning else {
                throw CommandError(description: "\(name) exited before it was ready: \(arguments.joined(separator: " "))\n\(log)")
            }
            guard ContinuousClock.now - started < timeout else {
                throw CommandError(description: "\(name) was not ready within \(timeout)\n\(log)")
            }
            usleep(20_000)
        }
    }

    deinit {
        stop(signal: SIGKILL)
    }
}

/// SIGKILLs the servers tests started when the test process dies without stopping them: a
/// small `python3` child reads `+PID`/`-PID` lines on a pipe and kills what is left at EOF,
/// which comes when this process exits, however it exits.
public final class ProcessReaper: Sendable {
    public static let shared = ProcessReaper()

    private let pipe = Mutex<FileHandle?>(nil)

    private static let script = """
        import os, signal, sys
        pids = set()
        for line in sys.stdin:
            line = line.strip()
            if line[:1] == "+": pids.add(int(line[1:]))
            elif line[:1] == "-": pids.discard(int(line[1:]))
        for pid in pids:
            try: os.kill(pid, signal.SIGKILL)
            except OSError: pass
        """

    private init() {}

    func watch(_ pid: Int32) { send("+\(pid)\n") }
    func forget(_ pid: Int32) { send("-\(pid)\n") }

    private func send(_ line: String) {
        pipe.withLock { pipe in
            if pipe == nil {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", "-c", Self.script]
                let input = Pipe()
                process.standardInput = input
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                guard (try? process.run()) != nil else { return }
                pipe = input.fileHandleForWriting
            }
            try? pipe?.write(contentsOf: Data(line.utf8))
        }
    }
}

/// Loopback ports and probes for the servers tests start.
public enum LoopbackPorts {
    /// `count` distinct free ports on 127.0.0.1, all bound at once while they are chosen.
    /// - Throws: `CommandError` when no socket can be bound.
    public static func free(_ count: Int) throws -> [UInt16] {
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw CommandError(description: "socket: errno \(errno)") }
            sockets.append(fd)
            var address = loopback(0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw CommandError(description: "bind 127.0.0.1:0: errno \(errno)") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// The status code of a plain `GET path` on 127.0.0.1:`port`, or nil when nothing answers.
    public static func httpStatus(_ port: UInt16, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 12 else { return nil }
        // "HTTP/1.1 200 OK"
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// Finds programs that PyPI packages install (`scripts/setup.sh --test` installs them).
public enum PythonPackages {
    /// The interpreter tests use: `MEDIAD_PYTHON`, else `python3` from `PATH`.
    public static var python: String {
        ProcessInfo.processInfo.environment["MEDIAD_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }

    /// Evaluates a Python expression that prints a path; empty output is nil.
    /// - Throws: `CommandError` when Python cannot run.
    public static func path(_ code: String) throws -> String? {
        let result = try Command.run([python, "-c", code])
        let text = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return result.status == 0 && !text.isEmpty ? text : nil
    }
}
