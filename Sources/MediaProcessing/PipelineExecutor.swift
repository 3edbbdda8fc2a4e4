import Foundation
import Logging
import PipelineEngine
import Workers

/// Where a job's native work runs.
public enum Isolation: String, Sendable, CaseIterable {
    /// In `mediad worker` child processes: a crash, a hang or a memory blow-up costs one
    /// job, never the process that owns the broker, the store and the offsets.
    case process
    /// On threads of this process: no process start-up or IPC, for comparisons and for
    /// trusted input only. A crashing decoder takes the whole process with it, and a
    /// deadline can only be reported, not enforced.
    case none
}

/// One pipeline to run on one local file: what a parent hands to an executor.
public struct PipelineWork: Sendable {
    public var file: URL
    public var size: Int64
    public var sniffed: SniffedType
    public var pipeline: PipelineDefinition
    /// The job's private directory; derivative files are written inside it.
    public var workDirectory: URL
    public var warnings: [ProcessingIssue]
    /// Digests the download computed over this file.
    public var knownDigests = KnownDigests()
}

/// Runs pipelines on the bounded pool: in this process or in worker processes.
public protocol PipelineExecutor: Sendable {
    /// The slots (and queue) that bound concurrent native work.
    var pool: WorkerPool { get }

    /// Runs the work once slots are free. Every failure, a worker's death included, ends in
    /// the outcome's `errors`.
    /// - Returns: the outcome and when the work started (after waiting for slots).
    /// - Throws: `CancellationError` only.
    /// - Parameter willStart: runs once the slots are held, right before the work starts.
    func execute(
        _ work: PipelineWork, weight: Int, logger: Logger, willStart: @Sendable () async -> Void
    ) async throws -> (PipelineOutcome, started: ContinuousClock.Instant)

    /// Starts what the executor needs before the first job (worker processes).
    func start() async

    /// The worker processes' figures; nil when work runs in this process.
    var workerStatistics: WorkerSupervisor.Statistics? { get }

    /// Stops what the executor started and waits for it to end; work still running ends as
    /// cancelled.
    func shutdown() async
}

/// Native work on the pool's own Dispatch threads.
public struct InProcessExecutor: PipelineExecutor {
    public let pool: WorkerPool
    public let runner: PipelineRunner

    public init(pool: WorkerPool, registry: StageRegistry) {
        self.pool = pool
        self.runner = PipelineRunner(registry: registry)
    }

    public func execute(
        _ work: PipelineWork, weight: Int, logger: Logger, willStart: @Sendable () async -> Void
    ) async throws -> (PipelineOutcome, started: ContinuousClock.Instant) {
        let runner = runner
        return try await pool.run(weight: weight, before: willStart) {
            let started = ContinuousClock.now
            let job = JobContext(
                file: work.file, size: work.size, sniffed: work.sniffed, pipeline: work.pipeline,
                workDirectory: work.workDirectory, logger: logger)
            job.warnings = work.warnings
            job.knownDigests = work.knownDigests
            return (runner.run(job), started)
        }
    }

    public func start() async {}

    public var workerStatistics: WorkerSupervisor.Statistics? { nil }

    public func shutdown() async {}
}

/// Native work in supervised `mediad worker` processes, one job per worker at a time.
public struct ProcessExecutor: PipelineExecutor {
    public let pool: WorkerPool
    public let supervisor: WorkerSupervisor

    public init(pool: WorkerPool, supervisor: WorkerSupervisor) {
        self.pool = pool
        self.supervisor = supervisor
    }

    /// One worker per slot, able to run every pipeline of `pipelines`.
    /// - Parameter executable: the binary workers run (default: `mediad-native` beside this one).
    /// - Throws: `StageFailure(.internalError)` when that binary is missing: a broken install
    ///   stops the command at once instead of failing every job it takes.
    public init(
        pool: WorkerPool, pipelines: PipelineSet, executable: String? = nil, maxJobsPerWorker: Int = 500,
        recycleResidentBytes: Int64 = 512 << 20, maxCrashes: Int = 2, logger: Logger
    ) throws(StageFailure) {
        let executable = executable ?? WorkerSupervisor.defaultExecutable()
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw StageFailure(
                .internalError,
                "worker processes run \(executable), which is missing or not executable: install \(WorkerSupervisor.nativeExecutableName) beside mediad, or set workerExecutable")
        }
        let supervisor = WorkerSupervisor(
            configuration: .init(
                executable: executable, workers: pool.slots,
                maxJobsPerWorker: maxJobsPerWorker, maxResidentBytes: recycleResidentBytes,
                memoryCeiling: pipelines.definitions.map(\.limits.maxMemory).max() ?? PipelineLimits.defaultMaxMemory,
                maxCrashes: maxCrashes),
            logger: logger)
        self.init(pool: pool, supervisor: supervisor)
    }

    public func execute(
        _ work: PipelineWork, weight: Int, logger: Logger, willStart: @Sendable () async -> Void
    ) async throws -> (PipelineOutcome, started: ContinuousClock.Instant) {
        let supervisor = supervisor
        return try await pool.withSlots(weight: weight) {
            await willStart()
            let started = ContinuousClock.now
            let limits = work.pipeline.limits
            let job = WorkerJob(
                id: 0, file: work.file.path, size: work.size, sniffed: work.sniffed,
                pipeline: PipelineSource(name: work.pipeline.name, version: work.pipeline.version, yaml: work.pipeline.sourceText ?? ""),
                outputDirectory: work.workDirectory.path, memoryLimit: limits.maxMemory,
                cpuSeconds: Self.cpuBudget(work.pipeline), warnings: work.warnings, knownDigests: work.knownDigests)
            switch try await supervisor.run(job, stageTimeout: limits.stageTimeout) {
            case .finished(let result):
                return (Self.confined(result.outcome, to: work.workDirectory), started)
            case .failed(let failure, let stage):
                var outcome = PipelineOutcome()
                outcome.status = .failed
                outcome.errors = [failure.issue(stage: stage)]
                outcome.warnings = work.warnings
                outcome.timings[stage] = started.duration(to: .now).milliseconds
                return (outcome, started)
            }
        }
    }

    public func start() async {
        await supervisor.start()
    }

    public var workerStatistics: WorkerSupervisor.Statistics? { supervisor.statistics }

    public func shutdown() async {
        await supervisor.shutdown()
    }

    /// CPU seconds a job may burn: every stage at full use of its timeout, on up to four
    /// threads. A backstop for spinning code; wall-clock deadlines come first.
    static func cpuBudget(_ pipeline: PipelineDefinition) -> Int {
        let stages = pipeline.stages.count + 1
        let seconds = pipeline.limits.stageTimeout.components.seconds
        return Int(min(Int64(Int32.max), max(10, seconds) * Int64(stages) * 4))
    }

    /// A worker names files; only those inside the job's own directory are taken.
    static func confined(_ outcome: PipelineOutcome, to directory: URL) -> PipelineOutcome {
        var outcome = outcome
        let root = directory.standardizedFileURL.path + "/"
        var kept: [ProducedOutput] = []
        for output in outcome.outputs {
            if let file = output.file, !file.standardizedFileURL.path.hasPrefix(root) {
                outcome.errors.append(StageFailure(.internalError, "the worker named a file outside its job directory: \(file.path)").issue(stage: output.derivative.name))
                continue
            }
            kept.append(output)
        }
        outcome.outputs = kept
        return outcome
    }
}
