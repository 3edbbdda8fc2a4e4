import Foundation
import PipelineEngine

/// The one rule for "does this stored manifest still describe the file?": the daemon
/// answers a redelivered event from a current manifest, and `reprocess` redoes the files
/// whose manifest is not current.
public enum ManifestFreshness: Sendable, Equatable {
    case current
    case olderPipeline(name: String, stored: Int, current: Int)
    case pipelineGone(name: String)
    case otherPipeline(stored: String, requested: String)
    /// The original's ETag (or the promised SHA-256) differs from the manifest's, or the
    /// manifest has none to compare: it cannot vouch for these bytes.
    case sourceChanged
    case transientFailure

    /// What a manifest says about the file it was made from.
    public struct Stored: Sendable, Equatable {
        public var pipeline: String
        public var version: Int
        public var etag: String?
        public var sha256: String?
        public var failedTransiently: Bool

        public init(pipeline: String, version: Int, etag: String?, sha256: String?, failedTransiently: Bool) {
            self.pipeline = pipeline
            self.version = version
            self.etag = etag.map(Self.bare)
            self.sha256 = sha256
            self.failedTransiently = failedTransiently
        }

        public init(_ manifest: ProcessedData) {
            self.init(
                pipeline: manifest.pipeline.name, version: manifest.pipeline.version, etag: manifest.source.etag,
                sha256: manifest.source.sha256, failedTransiently: manifest.errors.contains { $0.retryable })
        }

        static func bare(_ etag: String) -> String {
            etag.trimmingCharacters(in: .init(charactersIn: "\""))
        }
    }

    /// - Parameters:
    ///   - etag: the original's ETag now.
    ///   - sha256: a checksum the event promised, if any.
    ///   - requestedPipeline: a pipeline the caller asks for instead of the sniffed choice.
    public static func judge(
        _ stored: Stored, etag: String?, sha256: String? = nil, requestedPipeline: String? = nil, pipelines: PipelineSet
    ) -> ManifestFreshness {
        if let requestedPipeline, requestedPipeline != stored.pipeline {
            return .otherPipeline(stored: stored.pipeline, requested: requestedPipeline)
        }
        let sameSource = stored.etag != nil && stored.etag == etag.map(Stored.bare) && (sha256 == nil || sha256?.lowercased() == stored.sha256)
        // "none": no pipeline took these bytes (empty, unsupported); the same bytes get the same answer.
        if stored.pipeline == PipelineReference.none.name {
            if !sameSource { return .sourceChanged }
            return stored.failedTransiently ? .transientFailure : .current
        }
        guard let current = pipelines.named(stored.pipeline) else { return .pipelineGone(name: stored.pipeline) }
        if stored.version < current.version {
            return .olderPipeline(name: stored.pipeline, stored: stored.version, current: current.version)
        }
        if !sameSource { return .sourceChanged }
        if stored.failedTransiently { return .transientFailure }
        return .current
    }
}
