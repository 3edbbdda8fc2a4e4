import MediaProcessing
import PipelineEngine

/// One original a run considered.
public struct ReprocessCandidate: Sendable, Hashable {
    public var bucket: String
    public var key: String
    public var size: Int64
    public var etag: String?
    /// The id it was processed under before, or its stable id when it never was.
    public var fileId: String
    public var ownerId: String?
    public var albumId: String?

    /// "bucket/key": names the candidate in the checkpoint and in listings.
    public var id: String { "\(bucket)/\(key)" }
}

/// What a run does with one candidate, and why (shown by `--dry-run` and in the summary).
public enum ReprocessDecision: Sendable, Hashable, CustomStringConvertible {
    case process(Reason)
    case skip(SkipReason)

    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        case noManifest
        case olderPipeline(name: String, stored: Int, current: Int)
        case pipelineGone(name: String)
        case otherPipeline(stored: String, requested: String)
        case sourceChanged
        case transientFailure
        case interrupted
        case forced

        public var description: String {
            switch self {
            case .noManifest: "no manifest"
            case .olderPipeline(let name, let stored, let current): "pipeline \(name) v\(stored) < v\(current)"
            case .pipelineGone(let name): "pipeline \(name) no longer exists"
            case .otherPipeline(let stored, let requested): "made by \(stored), \(requested) requested"
            case .sourceChanged: "source changed since it was processed"
            case .transientFailure: "last attempt failed transiently"
            case .interrupted: "taken up by an interrupted run, not finished"
            case .forced: "--all"
            }
        }
    }

    public enum SkipReason: Sendable, Hashable, CustomStringConvertible {
        case upToDate(pipeline: String, version: Int)
        case doneEarlier
        case beyondLimit

        public var description: String {
            switch self {
            case .upToDate(let pipeline, let version): pipeline == "none" ? "up to date (no pipeline takes it)" : "up to date (\(pipeline) v\(version))"
            case .doneEarlier: "done by an earlier, interrupted run (checkpoint)"
            case .beyondLimit: "beyond --limit"
            }
        }

        /// The summary groups skips by kind, not by pipeline version.
        public var category: String {
            switch self {
            case .upToDate: "up to date"
            case .doneEarlier: "done earlier (checkpoint)"
            case .beyondLimit: "beyond --limit"
            }
        }
    }

    public var description: String {
        switch self {
        case .process(let reason): "process: \(reason)"
        case .skip(let reason): "skip: \(reason)"
        }
    }

    public var isProcess: Bool {
        if case .process = self { return true }
        return false
    }

    /// A manifest that is not current (`ManifestFreshness`) is redone, with its reason.
    static func decide(_ candidate: ReprocessCandidate, manifest: ManifestIndex.Entry?, selection: ReprocessSelection, pipelines: PipelineSet) -> ReprocessDecision {
        if selection.mode == .all { return .process(.forced) }
        guard let manifest else { return .process(.noManifest) }
        let stored = ManifestFreshness.Stored(
            pipeline: manifest.pipeline, version: manifest.version, etag: manifest.etag, sha256: nil, failedTransiently: manifest.failedTransiently)
        switch ManifestFreshness.judge(stored, etag: candidate.etag, requestedPipeline: selection.pipeline, pipelines: pipelines) {
        case .current: return .skip(.upToDate(pipeline: manifest.pipeline, version: manifest.version))
        case .otherPipeline(let stored, let requested): return .process(.otherPipeline(stored: stored, requested: requested))
        case .pipelineGone(let name): return .process(.pipelineGone(name: name))
        case .olderPipeline(let name, let stored, let current): return .process(.olderPipeline(name: name, stored: stored, current: current))
        case .sourceChanged: return .process(.sourceChanged)
        case .transientFailure: return .process(.transientFailure)
        }
    }
}
