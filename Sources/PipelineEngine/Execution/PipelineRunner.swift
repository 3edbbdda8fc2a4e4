import Foundation
import Logging

/// Runs a pipeline's stages over one job, in order, on the calling (worker) thread.
///
/// A failed stage is recorded and the stages that don't need its output still run, so one
/// broken step costs one derivative, not the whole file.
public struct PipelineRunner: Sendable {
    public let registry: StageRegistry

    public init(registry: StageRegistry) {
        self.registry = registry
    }

    /// - Parameter onStage: called before each stage starts (and before `inspect`), so a
    ///   supervisor can say which stage a crash or a timeout happened in.
    public func run(_ job: JobContext, onStage: (String) -> Void = { _ in }) -> PipelineOutcome {
        var outcome = PipelineOutcome()
        let limits = job.pipeline.limits

        var rejection: StageFailure?
        if job.size > limits.maxBytes {
            rejection = StageFailure(.tooLarge, "the file has \(job.size) bytes; pipeline '\(job.pipeline.name)' accepts at most \(limits.maxBytes)")
        } else if let inspector = registry.inspector(for: job.sniffed.mediaType) {
            onStage("inspect")
            let started = ContinuousClock.now
            job.stageDeadline = started + limits.stageTimeout
            do throws(StageFailure) {
                try inspector.inspect(job)
            } catch {
                rejection = error
            }
            outcome.timings["inspect"] = started.duration(to: .now).milliseconds
        }
        if let rejection {
            outcome.errors.append(rejection.issue(stage: "inspect"))
        }

        var failedStages: Set<String> = []
        for stage in job.pipeline.stages {
            // A rejected file still gets the stages that never decode it (checksums identify it).
            if rejection != nil, !stage.kind.readsBytesOnly { continue }
            if let input = stage.input, failedStages.contains(input) {
                failedStages.insert(stage.name)
                outcome.errors.append(
                    StageFailure(.dependencyFailed, "skipped because stage '\(input)' failed").issue(stage: stage.name))
                continue
            }
            if let input = stage.input, job.images[input] == nil {
                // The input stage ran but had nothing to give (a poster for an audio-only
                // file): this stage has nothing to do, which is not an error.
                job.warnings.append(ProcessingIssue(stage: stage.name, code: .skipped, message: "stage '\(input)' produced no image"))
                continue
            }
            guard let runner = registry.runner(for: stage.kind.typeName, mediaType: job.sniffed.mediaType) else {
                failedStages.insert(stage.name)
                outcome.errors.append(
                    StageFailure(.stageUnavailable, "no \(stage.kind.typeName) stage for \(job.sniffed.mediaType.rawValue) files in this build")
                        .issue(stage: stage.name))
                continue
            }
            onStage(stage.name)
            let started = ContinuousClock.now
            job.stageDeadline = started + limits.stageTimeout
            do throws(StageFailure) {
                try runner.run(stage, job: job)
            } catch {
                failedStages.insert(stage.name)
                outcome.errors.append(error.issue(stage: stage.name))
                job.logger.debug("stage failed", metadata: ["stage": "\(stage.name)", "error": "\(error)"])
            }
            outcome.timings[stage.name] = started.duration(to: .now).milliseconds
        }

        outcome.outputs = job.outputs
        outcome.metadata = job.metadata
        outcome.sha256 = job.sha256
        outcome.md5 = job.md5
        outcome.warnings = job.warnings
        outcome.status = Self.status(rejected: rejection != nil, outcome: outcome, pipeline: job.pipeline)
        return outcome
    }

    /// `failed` when the file was rejected or every derivative-making stage failed;
    /// `partial` when something failed but usable output exists.
    static func status(rejected: Bool, outcome: PipelineOutcome, pipeline: PipelineDefinition) -> ProcessingStatus {
        if rejected { return .failed }
        if outcome.errors.isEmpty { return .succeeded }
        let makesDerivatives = pipeline.stages.contains { $0.kind.makesDerivatives }
        if makesDerivatives && outcome.outputs.isEmpty { return .failed }
        return .partial
    }
}

/// What running a pipeline produced, before it is stored and published.
public struct PipelineOutcome: Codable, Sendable {
    public var status: ProcessingStatus = .succeeded
    public var metadata = MediaMetadata()
    public var sha256: String?
    public var md5: String?
    public var outputs: [ProducedOutput] = []
    public var errors: [ProcessingIssue] = []
    public var warnings: [ProcessingIssue] = []
    public var timings: [String: Double] = [:]

    public init() {}
}

extension StageKind {
    /// Stages that only read bytes, never decode them, and so are safe on rejected files.
    var readsBytesOnly: Bool {
        if case .checksum = self { return true }
        return false
    }

    var makesDerivatives: Bool {
        switch self {
        case .thumbnail, .placeholder, .poster, .transcode: true
        case .checksum, .metadata: false
        }
    }
}

extension Duration {
    /// Milliseconds with microsecond precision, as reported in `timings`.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    /// Rounds to a number of decimal places, for reported figures (timings, coordinates).
    public func rounded(toPlaces places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}
