import Foundation
import Logging

/// The state of one file going through one pipeline. Created, used and discarded on a
/// single worker thread, so stages read and write it without locks.
public final class JobContext {
    public let file: URL
    public let size: Int64
    public let sniffed: SniffedType
    public let pipeline: PipelineDefinition
    /// A private directory for this job's outputs; the caller removes it afterwards.
    public let workDirectory: URL
    public var logger: Logger

    /// What stages have found so far.
    public var metadata = MediaMetadata()
    public var sha256: String?
    public var md5: String?
    /// Digests already computed over these very bytes (while the download streamed): the
    /// checksum stage takes them instead of reading the file again.
    public var knownDigests = KnownDigests()
    public private(set) var outputs: [ProducedOutput] = []
    /// Images produced for later stages (a video's poster frame), by stage name.
    public private(set) var images: [String: URL] = [:]
    public var warnings: [ProcessingIssue] = []
    /// Per-job state a stage module keeps between its stages (a decoded image reused by the
    /// next thumbnail), keyed by a type the module owns. Released with the job.
    public var moduleState: [ObjectIdentifier: AnyObject] = [:]

    /// When the running stage must be done, on the monotonic clock.
    public internal(set) var stageDeadline: ContinuousClock.Instant = .now + .seconds(3600)

    public init(file: URL, size: Int64, sniffed: SniffedType, pipeline: PipelineDefinition, workDirectory: URL, logger: Logger) {
        self.file = file
        self.size = size
        self.sniffed = sniffed
        self.pipeline = pipeline
        self.workDirectory = workDirectory
        self.logger = logger
    }

    /// Time left for the running stage; native code turns this into its own cancellation.
    public var remainingTime: Duration { ContinuousClock.now.duration(to: stageDeadline) }

    /// Where a stage writes a derivative file named after the stage.
    public func outputFile(stage: String, extension ext: String) -> URL {
        workDirectory.appendingPathComponent("\(stage).\(ext)")
    }

    /// Records a derivative; `file` is nil for inline outputs (placeholders).
    public func addOutput(_ derivative: Derivative, file: URL?) {
        outputs.append(ProducedOutput(derivative: derivative, file: file))
    }

    /// Publishes an intermediate image for later stages.
    public func addImage(_ url: URL, stage: String) {
        images[stage] = url
    }

    /// The image a stage should read: the original, or an earlier stage's image.
    /// - Throws: `StageFailure.dependencyFailed` when that stage produced none.
    public func inputImage(_ input: String?) throws(StageFailure) -> URL {
        guard let input else { return file }
        guard let image = images[input] else {
            throw StageFailure(.dependencyFailed, "stage '\(input)' produced no image to work from")
        }
        return image
    }
}

/// A derivative made by a stage, with the local file that holds it until it is stored.
public struct ProducedOutput: Codable, Sendable {
    public var derivative: Derivative
    public var file: URL?

    public init(derivative: Derivative, file: URL?) {
        self.derivative = derivative
        self.file = file
    }
}

/// Digests of a job's file computed before the pipeline ran; nil where unknown.
public struct KnownDigests: Codable, Sendable, Equatable {
    public var sha256: String?
    public var md5: String?

    public init(sha256: String? = nil, md5: String? = nil) {
        self.sha256 = sha256
        self.md5 = md5
    }
}
