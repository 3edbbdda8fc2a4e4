import Foundation
import PipelineEngine

/// How a worker process ended a job without a result, and the one rule that turns that
/// into the job's failure.
public struct WorkerDeath: Sendable, CustomStringConvertible {
    /// Why the parent killed it, if it did.
    public enum KillReason: Sendable, Equatable {
        case stageTimeout(stage: String, limit: Duration)
        case jobDeadline
        case cancelled
        case protocolError(String)
    }

    public var pid: Int32
    /// The signal that ended it, or nil for an exit.
    public var signal: Int32?
    public var exitStatus: Int32?
    /// The stage that was running.
    public var stage: String
    public var killReason: KillReason?
    /// The most private memory sampled while the job ran, and the job's cap.
    public var peakDataBytes: Int64
    public var memoryLimit: Int64
    /// The end of what the worker printed (native libraries report allocation failures there).
    public var outputTail: String

    public var description: String {
        if let signal { return "pid \(pid) killed by \(Self.name(of: signal)) in stage '\(stage)'" }
        return "pid \(pid) exited with status \(exitStatus ?? -1) in stage '\(stage)'"
    }

    /// Whether a fresh worker may succeed where this one died: only a crash is worth one
    /// more try; a cap, a deadline or a protocol violation would be met again.
    public var isCrash: Bool {
        killReason == nil && classification.code == .workerCrashed
    }

    /// The failure this death gives the job, named after the stage that was running.
    public var classification: StageFailure {
        switch killReason {
        case .stageTimeout(let stage, let limit)?:
            return StageFailure(.timeout, "stage '\(stage)' ran past its \(limit) timeout; its worker was killed")
        case .jobDeadline?:
            return StageFailure(.jobTimeout, "the job ran past its deadline in stage '\(stage)'; its worker was killed", retryable: true)
        case .protocolError(let message)?:
            return StageFailure(.workerProtocol, "the worker broke the protocol in stage '\(stage)': \(message); it was replaced")
        case .cancelled?:
            return StageFailure(.internalError, "the job was cancelled")
        case nil:
            break
        }
        if signal == SIGXCPU {
            return StageFailure(.timeout, "stage '\(stage)' used up the job's CPU time; the kernel stopped its worker")
        }
        if MemoryExhaustion.mentions(outputTail) || (memoryLimit > 0 && peakDataBytes >= memoryLimit / 10 * 9) {
            return StageFailure(.memoryLimit, "stage '\(stage)' needed more than the pipeline's \(memoryLimit >> 20) MiB memory limit (\(self))")
        }
        return StageFailure(.workerCrashed, "the worker \(self)")
    }

    static func name(of signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
            SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
            SIGPIPE: "SIGPIPE", SIGINT: "SIGINT", SIGHUP: "SIGHUP",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
