import CProcessShims
import Foundation
import Logging
import Synchronization

/// One `mediad worker` child, seen from the parent: its channel, the job it runs, and two
/// threads of its own that read its replies and its output, so no blocking read ever runs
/// on Swift's cooperative pool.
final class WorkerProcess: Sendable {
    /// How a job on this worker ended.
    enum JobEnd: Sendable {
        case finished(WorkerResult)
        case died(WorkerDeath)
    }

    let pid: Int32
    private let channel: Int32
    private let state: Mutex<State>
    private let logger: Logger

    private struct Running {
        var id: UInt64
        var continuation: CheckedContinuation<JobEnd, Never>?
        var stage = "start"
        var stageStarted = ContinuousClock.now
        var stageTimeout: Duration
        var deadline: ContinuousClock.Instant?
        var memoryLimit: Int64
        var peakData: Int64 = 0
    }

    private struct State {
        var running: Running?
        var killReason: WorkerDeath.KillReason?
        var hello: WorkerHello?
        var helloWaiters: [CheckedContinuation<WorkerHello?, Never>] = []
        /// Set once the process is reaped.
        var exited = false
        var jobsDone = 0
        var residentBytes: Int64 = 0
        var outputTail: [UInt8] = []
        var outputClosed = false
    }

    /// Grace past a stage's own timeout before the parent kills: the worker's native
    /// deadline (FFmpeg's interrupt callback) gets the first chance to fail cleanly.
    static let killGrace: Duration = .milliseconds(500)
    private static let tailLimit = 8192

    /// Spawns a worker.
    /// - Throws: `WorkerProtocolError` when the process cannot be started.
    init(executable: String, arguments: [String], environment: [String: String], logger: Logger) throws(WorkerProtocolError) {
        var sockets: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0 else {
            throw WorkerProtocolError("socketpair: \(String(cString: strerror(errno)))")
        }
        var output: [Int32] = [-1, -1]
        guard pipe(&output) == 0, fcntl(output[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(output[1], F_SETFD, FD_CLOEXEC) == 0 else {
            close(sockets[0])
            close(sockets[1])
            throw WorkerProtocolError("pipe: \(String(cString: strerror(errno)))")
        }
        let argv = [executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }.sorted()
        var pid: pid_t = 0
        let result = Self.withCStrings(argv) { argvPointer in
            Self.withCStrings(envp) { envpPointer in
                mediad_spawn_worker(executable, argvPointer, envpPointer, sockets[1], output[1], &pid)
            }
        }
        close(sockets[1])
        close(output[1])
        guard result == 0 else {
            close(sockets[0])
            close(output[0])
            throw WorkerProtocolError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        self.channel = sockets[0]
        self.logger = logger
        self.state = Mutex(State())
        let outputFD = output[0]
        Thread { [self] in self.readReplies() }.start()
        Thread { [self] in self.readOutput(outputFD) }.start()
    }

    /// Waits for the worker's hello; nil if it died or did not say it in time.
    func ready(timeout: Duration = .seconds(15)) async -> WorkerHello? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (hello, exited) = state.withLock { ($0.hello, $0.exited) }
            if let hello { return hello }
            if exited { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    var isAlive: Bool { state.withLock { !$0.exited } }
    var jobsDone: Int { state.withLock { $0.jobsDone } }
    var residentBytes: Int64 { state.withLock { $0.residentBytes } }
    var isBusy: Bool { state.withLock { $0.running != nil } }
    /// The stage the running job is in; nil when idle.
    var currentStage: String? { state.withLock { $0.running?.stage } }

    /// Runs one job; cancelling the task kills the worker, so the job stops at once.
    func run(_ job: WorkerJob, stageTimeout: Duration, deadline: ContinuousClock.Instant?) async -> JobEnd {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<JobEnd, Never>) in
                let startedDead = state.withLock { state -> Bool in
                    if state.exited { return true }
                    state.running = Running(id: job.id, continuation: continuation, stageTimeout: stageTimeout, deadline: deadline, memoryLimit: job.memoryLimit)
                    return false
                }
                if startedDead {
                    continuation.resume(returning: .died(death(signal: nil, exitStatus: nil, stage: "start", reason: nil, peak: 0, limit: job.memoryLimit)))
                    return
                }
                do {
                    try WorkerFrame.write(WorkerFrame.encode(WorkerRequest.run(job)), to: channel)
                } catch {
                    // The reader thread sees the worker die and resumes the job.
                    kill(because: .protocolError("cannot send the job: \(error)"))
                }
            }
        } onCancel: {
            kill(because: .cancelled)
        }
    }

    /// Called by the supervisor's clock: samples memory and kills a worker past a deadline.
    func watch(now: ContinuousClock.Instant) {
        let memory = ProcessMemory.of(pid: pid)
        let overdue = state.withLock { state -> WorkerDeath.KillReason? in
            guard var running = state.running, state.killReason == nil else { return nil }
            if let memory { running.peakData = max(running.peakData, memory.dataBytes) }
            state.running = running
            if now > running.stageStarted + running.stageTimeout + Self.killGrace {
                return .stageTimeout(stage: running.stage, limit: running.stageTimeout)
            }
            if let deadline = running.deadline, now > deadline { return .jobDeadline }
            return nil
        }
        if let overdue { kill(because: overdue) }
    }

    /// Kills the process (SIGKILL); the reader thread then reaps it and ends its job.
    func kill(because reason: WorkerDeath.KillReason) {
        let send = state.withLock { state -> Bool in
            guard !state.exited else { return false }
            if state.killReason == nil { state.killReason = reason }
            return true
        }
        if send { _ = Foundation.kill(pid, SIGKILL) }
    }

    /// Asks an idle worker to exit: it sees the end of its channel and returns 0.
    func retire() {
        _ = shutdown(channel, Int32(SHUT_WR))
    }

    // MARK: Threads

    private func readReplies() {
        var protocolError: String?
        do throws(WorkerProtocolError) {
            while let payload = try WorkerFrame.read(from: channel) {
                handle(try WorkerFrame.decode(WorkerReply.self, from: payload))
            }
        } catch {
            protocolError = error.message
        }
        if let protocolError {
            logger.error("worker broke the protocol", metadata: ["pid": "\(pid)", "error": "\(protocolError)"])
            kill(because: .protocolError(protocolError))
        }
        reap()
    }

    private func handle(_ reply: WorkerReply) {
        switch reply {
        case .hello(let hello):
            state.withLock { $0.hello = hello }
        case .stage(let id, let name):
            state.withLock { state in
                guard state.running?.id == id else { return }
                state.running?.stage = name
                state.running?.stageStarted = .now
            }
        case .result(let result):
            let continuation = state.withLock { state -> CheckedContinuation<JobEnd, Never>? in
                guard state.running?.id == result.jobID, state.killReason == nil else { return nil }
                let continuation = state.running?.continuation
                state.running = nil
                state.jobsDone += 1
                state.residentBytes = result.residentBytes
                return continuation
            }
            continuation?.resume(returning: .finished(result))
        }
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(channel)
        // Let the output thread drain what the worker printed last (it ends at EOF).
        let deadline = ContinuousClock.now + .milliseconds(200)
        while !state.withLock({ $0.outputClosed }), ContinuousClock.now < deadline { usleep(2000) }
        let signalled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
        let (continuation, end) = state.withLock { state -> (CheckedContinuation<JobEnd, Never>?, JobEnd?) in
            state.exited = true
            guard let running = state.running else { return (nil, nil) }
            state.running = nil
            let tail = String(decoding: state.outputTail, as: UTF8.self)
            let end = JobEnd.died(WorkerDeath(
                pid: pid, signal: signalled ? status & 0x7F : nil, exitStatus: signalled ? nil : (status >> 8) & 0xFF,
                stage: running.stage, killReason: state.killReason, peakDataBytes: running.peakData, memoryLimit: running.memoryLimit,
                outputTail: tail))
            return (running.continuation, end)
        }
        if let continuation, let end { continuation.resume(returning: end) }
    }

    private func readOutput(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var pending: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            let chunk = buffer[0..<count]
            state.withLock { state in
                state.outputTail += chunk
                if state.outputTail.count > Self.tailLimit { state.outputTail.removeFirst(state.outputTail.count - Self.tailLimit) }
            }
            pending += chunk
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if !line.isEmpty { logger.debug("worker output", metadata: ["pid": "\(pid)", "line": "\(line)"]) }
            }
            if pending.count > 4096 { pending.removeAll() }
        }
        close(fd)
        state.withLock { $0.outputClosed = true }
    }

    private func death(signal: Int32?, exitStatus: Int32?, stage: String, reason: WorkerDeath.KillReason?, peak: Int64, limit: Int64) -> WorkerDeath {
        WorkerDeath(pid: pid, signal: signal, exitStatus: exitStatus, stage: stage, killReason: reason, peakDataBytes: peak, memoryLimit: limit, outputTail: "")
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
