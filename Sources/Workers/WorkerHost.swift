import CProcessShims
import Foundation
import Logging
import PipelineEngine

/// The loop of `mediad worker`: reads jobs from fd 3, runs each on this thread, reports
/// the stage it is in and then the result, until the parent closes the channel.
///
/// A worker holds no credentials and, where the kernel allows, no network: it reads one
/// local file and writes into one directory the parent gave it.
public struct WorkerHost {
    /// Runs one pipeline on one file; `onStage` is called as each stage starts.
    public typealias Execute = (_ job: WorkerJob, _ pipeline: PipelineDefinition, _ onStage: (String) -> Void) -> PipelineOutcome

    public static let channel: Int32 = 3

    let memoryCeiling: Int64
    let prepare: (PipelineDefinition) throws -> Void
    let execute: Execute
    var logger: Logger

    /// - Parameters:
    ///   - prepare: native set-up for a pipeline, once per pipeline the worker meets.
    public init(memoryCeiling: Int64, logger: Logger, prepare: @escaping (PipelineDefinition) throws -> Void, execute: @escaping Execute) {
        self.memoryCeiling = memoryCeiling
        self.logger = logger
        self.prepare = prepare
        self.execute = execute
    }

    /// Returns the process's exit status: 0 when the parent closed the channel, 1 on a
    /// protocol error.
    public func run() -> Int32 {
        let parent = getppid()
        for problem in WorkerLimits.applyAtStart(memoryCeiling: memoryCeiling) {
            logger.warning("limit not applied", metadata: ["limit": "\(problem)"])
        }
        // The parent died between fork and the death signal being armed.
        if getppid() != parent || getppid() == 1 { return 1 }
        let isolated = mediad_isolate_network() == 0
        do throws(WorkerProtocolError) {
            try send(.hello(WorkerHello(pid: getpid(), networkIsolated: isolated)))
            var prepared: [PipelineSource: PipelineDefinition] = [:]
            while let payload = try WorkerFrame.read(from: Self.channel) {
                let request = try WorkerFrame.decode(WorkerRequest.self, from: payload)
                switch request {
                case .run(let job):
                    let outcome = run(job, prepared: &prepared)
                    let resident = ProcessMemory.current?.residentBytes ?? 0
                    try send(.result(WorkerResult(jobID: job.id, outcome: outcome, residentBytes: resident)))
                }
            }
            return 0
        } catch {
            logger.error("worker channel failed", metadata: ["error": "\(error)"])
            return 1
        }
    }

    private func run(_ job: WorkerJob, prepared: inout [PipelineSource: PipelineDefinition]) -> PipelineOutcome {
        let definition: PipelineDefinition
        if let known = prepared[job.pipeline] {
            definition = known
        } else {
            do {
                let parsed = try PipelineLoader.parse(job.pipeline.yaml, file: "\(job.pipeline.name).yaml")
                guard parsed.name == job.pipeline.name, parsed.version == job.pipeline.version else {
                    return Self.failed(StageFailure(.internalError, "the pipeline text is \(parsed.name) v\(parsed.version), not \(job.pipeline.name) v\(job.pipeline.version)"))
                }
                try prepare(parsed)
                prepared[job.pipeline] = parsed
                definition = parsed
            } catch {
                return Self.failed(StageFailure(.internalError, "the worker cannot load pipeline \(job.pipeline.name): \(error)"))
            }
        }
        WorkerLimits.applyForJob(memoryLimit: job.memoryLimit, cpuSeconds: job.cpuSeconds)
        var outcome = execute(job, definition) { stage in
            try? send(.stage(jobID: job.id, name: stage))
        }
        outcome.errors = outcome.errors.map(MemoryExhaustion.reclassify)
        return outcome
    }

    private func send(_ reply: WorkerReply) throws(WorkerProtocolError) {
        let frame: [UInt8]
        do {
            frame = try WorkerFrame.encode(reply)
        } catch {
            throw WorkerProtocolError("cannot encode a reply: \(error)")
        }
        try WorkerFrame.write(frame, to: Self.channel)
    }

    private static func failed(_ failure: StageFailure) -> PipelineOutcome {
        var outcome = PipelineOutcome()
        outcome.status = .failed
        outcome.errors = [failure.issue(stage: "worker")]
        return outcome
    }
}

/// Recognises a failure caused by the memory cap, whichever library met it first.
public enum MemoryExhaustion {
    /// What libvips, GLib, FFmpeg and the C library say when an allocation fails.
    static let phrases = ["out of memory", "cannot allocate memory", "failed to allocate", "memory allocation failed", "std::bad_alloc"]

    public static func mentions(_ text: String) -> Bool {
        let lower = text.lowercased()
        return phrases.contains { lower.contains($0) }
    }

    /// A stage error caused by the cap becomes `memory_limit`, so the event says why.
    static func reclassify(_ issue: ProcessingIssue) -> ProcessingIssue {
        guard issue.code != StageFailure.Code.memoryLimit.rawValue, mentions(issue.message) else { return issue }
        var issue = issue
        issue.message = "the job reached its memory limit (\(issue.message))"
        issue.code = StageFailure.Code.memoryLimit.rawValue
        issue.retryable = false
        return issue
    }
}
