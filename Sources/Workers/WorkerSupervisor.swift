import Foundation
import Logging
import PipelineEngine
import Synchronization

/// The parent's side of process isolation: a set of `mediad worker` children that run the
/// native work, are reused across jobs, and are replaced after a crash, after
/// `maxJobsPerWorker` jobs or when their resident memory stays above `maxResidentBytes`.
///
/// Deadlines are enforced here, with SIGKILL, on a clock thread of its own: a stage that
/// runs past its timeout costs its job and its worker, never the daemon or its slot.
public final class WorkerSupervisor: Sendable {
    public struct Configuration: Sendable {
        /// The binary the workers run (`mediad-native worker`).
        public var executable: String
        /// Workers kept ready (the pool's slots: more never run at once).
        public var workers: Int
        public var maxJobsPerWorker: Int
        /// A worker whose resident memory is above this after a job is replaced.
        public var maxResidentBytes: Int64
        /// The hard memory limit of every worker: the largest `maxMemory` of the pipelines.
        public var memoryCeiling: Int64
        /// A job whose worker crashes this often fails for good.
        public var maxCrashes: Int
        public var logLevel: Logger.Level

        public init(
            executable: String, workers: Int, maxJobsPerWorker: Int = 500, maxResidentBytes: Int64 = 512 << 20,
            memoryCeiling: Int64 = PipelineLimits.defaultMaxMemory, maxCrashes: Int = 2, logLevel: Logger.Level = .warning
        ) {
            self.executable = executable
            self.workers = max(1, workers)
            self.maxJobsPerWorker = max(1, maxJobsPerWorker)
            self.maxResidentBytes = maxResidentBytes
            self.memoryCeiling = memoryCeiling
            self.maxCrashes = max(1, maxCrashes)
            self.logLevel = logLevel
        }
    }

    /// What a job on a worker came to.
    public enum Outcome: Sendable {
        case finished(WorkerResult)
        /// The worker died or was killed; the failure is named after the running stage.
        case failed(StageFailure, stage: String)
    }

    /// Figures for `/metrics` and the logs.
    public struct Statistics: Sendable, Equatable {
        public var residentBytes: [Int32: Int64] = [:]
        public var started = 0
        public var crashed = 0
        public var killed = 0
        public var recycled = 0

        public init() {}
    }

    public let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private let nextJobID = Atomic<UInt64>(0)
    private let spawner = SpawnerThread()

    private struct State {
        var idle: [WorkerProcess] = []
        var busy: [Int32: WorkerProcess] = [:]
        var statistics = Statistics()
        var stopped = false
        var clockRunning = false
    }

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The environment a worker gets: enough for the C library and locale, nothing else.
    /// No `AWS_*`, no `MEDIAD_*`, no broker credentials ever reach a decoder.
    public static func workerEnvironment(from parent: [String: String]) -> [String: String] {
        // Swift's crash backtracer would hold a dying worker for seconds and report the death
        // as its own SIGKILL; the parent reports crashes, so the worker just dies.
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "SWIFT_BACKTRACE": "enable=no"]
        for name in ["LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"] {
            if let value = parent[name] { environment[name] = value }
        }
        return environment
    }

    /// The binary that links the native stages (`mediad` itself does not).
    public static let nativeExecutableName = "mediad-native"

    /// The binary workers run, `mediad-native`: this process when it is that binary, else the
    /// one beside it (beside `mediad`, or beside the test bundle).
    public static func defaultExecutable() -> String {
        let own = URL(fileURLWithPath: ownExecutable())
        if own.lastPathComponent == nativeExecutableName { return own.path }
        return own.deletingLastPathComponent().appendingPathComponent(nativeExecutableName).path
    }

    /// The running binary's path.
    public static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts the workers ahead of the first job, so a job never pays a start-up.
    public func start() async {
        startClock()
        var spawned: [WorkerProcess] = []
        for _ in 0..<configuration.workers {
            if let worker = await spawn() { spawned.append(worker) }
        }
        state.withLock { $0.idle += spawned }
    }

    /// Runs one job on a worker, once more on a fresh worker if the first one crashes.
    /// - Throws: `CancellationError` when the task is cancelled (the worker is killed).
    public func run(_ job: WorkerJob, stageTimeout: Duration, deadline: ContinuousClock.Instant? = nil) async throws -> Outcome {
        startClock()
        var job = job
        var crashes = 0
        while true {
            try Task.checkCancellation()
            job.id = nextJobID.wrappingAdd(1, ordering: .relaxed).newValue
            guard let worker = await take() else {
                return .failed(StageFailure(.workerCrashed, "no worker process could be started (\(configuration.executable))", retryable: true), stage: "start")
            }
            let end = await worker.run(job, stageTimeout: stageTimeout, deadline: deadline)
            switch end {
            case .finished(let result):
                giveBack(worker)
                return .finished(result)
            case .died(let death):
                forget(worker, crashed: death.killReason == nil)
                if death.killReason == .cancelled { throw CancellationError() }
                var failure = death.classification
                logger.warning("worker died", metadata: ["pid": "\(death.pid)", "stage": "\(death.stage)", "code": "\(failure.code)", "cause": "\(death)"])
                guard death.isCrash else { return .failed(failure, stage: death.stage) }
                crashes += 1
                if crashes >= configuration.maxCrashes {
                    failure.message += "; it crashed \(crashes) times on fresh workers, so it is not retried"
                    failure.retryable = false
                    return .failed(failure, stage: death.stage)
                }
                // The crashed worker may have left half-written outputs.
                let directory = URL(fileURLWithPath: job.outputDirectory)
                try? FileManager.default.removeItem(at: directory)
                try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
        }
    }

    /// Stops every worker and waits, at most `grace`, until each one is reaped: no worker
    /// outlives the command, and the workers' CPU time counts in this process's own (what
    /// `time mediad process` and container accounting show). Idle workers are asked to exit;
    /// running ones are killed and their jobs end as cancelled.
    public func shutdown(grace: Duration = .seconds(1)) async {
        let (idle, busy) = state.withLock { state -> ([WorkerProcess], [WorkerProcess]) in
            state.stopped = true
            let idle = state.idle
            state.idle = []
            return (idle, Array(state.busy.values))
        }
        for worker in idle { worker.retire() }
        for worker in busy { worker.kill(because: .cancelled) }
        spawner.stop()
        let workers = idle + busy
        // Detached: a cancelled caller's `Task.sleep` would return at once and spin.
        await Task.detached {
            await Self.waitUntilReaped(workers, for: grace)
            for worker in workers { worker.kill(because: .cancelled) }
            await Self.waitUntilReaped(workers, for: .milliseconds(500))
        }.value
    }

    private static func waitUntilReaped(_ workers: [WorkerProcess], for timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while workers.contains(where: \.isAlive), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            for worker in state.idle + Array(state.busy.values) { statistics.residentBytes[worker.pid] = worker.residentBytes }
            return statistics
        }
    }

    /// Pids of the workers, running or idle (for tests and diagnostics).
    public var workerPIDs: [Int32] {
        state.withLock { state in (state.idle.map(\.pid) + state.busy.keys).sorted() }
    }

    /// The workers running a job now, with the stage each is in.
    public var runningStages: [Int32: String] {
        let busy = state.withLock { Array($0.busy.values) }
        var stages: [Int32: String] = [:]
        for worker in busy { stages[worker.pid] = worker.currentStage }
        return stages
    }

    // MARK: Workers

    private func take() async -> WorkerProcess? {
        while true {
            let idle = state.withLock { state -> WorkerProcess? in
                while let worker = state.idle.popLast() {
                    if worker.isAlive {
                        state.busy[worker.pid] = worker
                        return worker
                    }
                }
                return nil
            }
            if let idle { return idle }
            guard let fresh = await spawn() else { return nil }
            state.withLock { $0.busy[fresh.pid] = fresh }
            return fresh
        }
    }

    private func giveBack(_ worker: WorkerProcess) {
        let tooOld = worker.jobsDone >= configuration.maxJobsPerWorker
        let tooBig = worker.residentBytes > configuration.maxResidentBytes
        let keep = state.withLock { state -> Bool in
            state.busy[worker.pid] = nil
            guard !state.stopped, !tooOld, !tooBig else {
                state.statistics.recycled += 1
                return false
            }
            state.idle.append(worker)
            return true
        }
        if !keep {
            logger.info("recycling worker", metadata: ["pid": "\(worker.pid)", "jobs": "\(worker.jobsDone)", "residentMB": "\(worker.residentBytes >> 20)"])
            worker.retire()
            // The replacement starts now, so the next job does not wait for it.
            Task {
                guard let fresh = await self.spawn() else { return }
                let surplus = self.state.withLock { state -> Bool in
                    guard !state.stopped else { return true }
                    state.idle.append(fresh)
                    return false
                }
                if surplus { fresh.kill(because: .cancelled) }
            }
        }
    }

    private func forget(_ worker: WorkerProcess, crashed: Bool) {
        state.withLock { state in
            state.busy[worker.pid] = nil
            if crashed { state.statistics.crashed += 1 } else { state.statistics.killed += 1 }
        }
    }

    private func spawn() async -> WorkerProcess? {
        guard !state.withLock({ $0.stopped }) else { return nil }
        do {
            let configuration = configuration, logger = logger
            let worker = try await spawner.run {
                try WorkerProcess(
                    executable: configuration.executable,
                    arguments: ["worker", "--memory-ceiling", String(configuration.memoryCeiling), "--log-level", configuration.logLevel.rawValue],
                    environment: Self.workerEnvironment(from: ProcessInfo.processInfo.environment), logger: logger)
            }
            guard let hello = await worker.ready() else {
                worker.kill(because: .cancelled)
                logger.error("worker did not start", metadata: ["executable": "\(configuration.executable)"])
                return nil
            }
            state.withLock { $0.statistics.started += 1 }
            logger.debug("worker started", metadata: ["pid": "\(hello.pid)", "networkIsolated": "\(hello.networkIsolated)"])
            return worker
        } catch {
            logger.error("cannot start a worker", metadata: ["error": "\(error)"])
            return nil
        }
    }

    // MARK: The clock

    /// Every 100 ms: memory samples and deadlines of the busy workers. A thread, not a
    /// task, so that a saturated cooperative pool can never delay a kill.
    private func startClock() {
        let start = state.withLock { state -> Bool in
            if state.clockRunning { return false }
            state.clockRunning = true
            return true
        }
        guard start else { return }
        Thread { [self] in
            while true {
                let (busy, stopped) = state.withLock { (Array($0.busy.values), $0.stopped && $0.busy.isEmpty) }
                if stopped { break }
                let now = ContinuousClock.now
                for worker in busy { worker.watch(now: now) }
                usleep(100_000)
            }
        }.start()
    }
}
