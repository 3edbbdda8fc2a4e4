import Foundation

/// The outcome of processing one file: the `data` object of a `media.processed` event,
/// and the content of the `manifest.json` written beside the derivatives (`schemas/media.processed.data.schema.json`).
///
/// Every consumer reads this one shape, so its field names are a contract: change them
/// only together with `schemas/media.processed.data.schema.json`.
public struct ProcessedData: Codable, Sendable, Equatable {
    public var fileId: String
    public var ownerId: String?
    public var albumId: String?
    public var status: ProcessingStatus
    public var source: SourceInfo
    public var pipeline: PipelineReference
    public var metadata: MediaMetadata
    public var derivatives: [Derivative]
    public var errors: [ProcessingIssue]
    /// Findings that do not make the result partial, such as a declared content type
    /// that disagrees with the sniffed one.
    public var warnings: [ProcessingIssue]
    /// Milliseconds per stage, keyed by stage name.
    public var timings: [String: Double]
    public var attempt: Int
    public var processedAt: Date
    /// Set when the outputs are server-side copies of another file's with the same bytes
    /// (same SHA-256, same pipeline version): nothing was decoded for this one.
    public var reusedFrom: ReusedOutputs?

    public init(
        fileId: String,
        ownerId: String? = nil,
        albumId: String? = nil,
        status: ProcessingStatus = .succeeded,
        source: SourceInfo,
        pipeline: PipelineReference,
        metadata: MediaMetadata = MediaMetadata(),
        derivatives: [Derivative] = [],
        errors: [ProcessingIssue] = [],
        warnings: [ProcessingIssue] = [],
        timings: [String: Double] = [:],
        attempt: Int = 1,
        processedAt: Date = Date()
    ) {
        self.fileId = fileId
        self.ownerId = ownerId
        self.albumId = albumId
        self.status = status
        self.source = source
        self.pipeline = pipeline
        self.metadata = metadata
        self.derivatives = derivatives
        self.errors = errors
        self.warnings = warnings
        self.timings = timings
        self.attempt = attempt
        self.processedAt = processedAt
    }
}

/// `succeeded`: every stage ran; `partial`: some stage failed but derivatives exist;
/// `failed`: nothing usable came out (or the file was rejected before any stage).
public enum ProcessingStatus: String, Codable, Sendable {
    case succeeded
    case partial
    case failed
}

/// What the file is, as sniffed from its bytes, and its checksums.
public struct SourceInfo: Codable, Sendable, Equatable {
    public var bucket: String?
    public var key: String
    public var size: Int64
    public var mediaType: MediaType
    /// The sniffed content type; `application/octet-stream` when nothing matched.
    public var contentType: String
    /// The content type the uploader claimed, kept for auditing mismatches.
    public var declaredContentType: String?
    public var etag: String?
    public var sha256: String?
    public var md5: String?

    public init(
        bucket: String? = nil, key: String, size: Int64, mediaType: MediaType, contentType: String,
        declaredContentType: String? = nil, etag: String? = nil, sha256: String? = nil, md5: String? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.mediaType = mediaType
        self.contentType = contentType
        self.declaredContentType = declaredContentType
        self.etag = etag
        self.sha256 = sha256
        self.md5 = md5
    }
}

/// Names the pipeline and the version whose outputs these are; `reprocess` compares it.
public struct PipelineReference: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }
}

/// One output of a pipeline: an object in storage, or an inline placeholder.
public struct Derivative: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case thumbnail, preview, poster, transcode, placeholder
    }

    public var name: String
    public var kind: Kind
    public var bucket: String?
    /// Where the object lives (relative to the output root for local runs); nil for inline placeholders.
    public var key: String?
    public var contentType: String
    public var width: Int?
    public var height: Int?
    public var bytes: Int64?
    public var sha256: String?
    /// Inline value for placeholders (a base64 ThumbHash).
    public var data: String?
    /// Extra facts about how it was made (e.g. `remux`, `skipped: already compatible`).
    public var note: String?

    public init(
        name: String, kind: Kind, bucket: String? = nil, key: String? = nil, contentType: String,
        width: Int? = nil, height: Int? = nil, bytes: Int64? = nil, sha256: String? = nil,
        data: String? = nil, note: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.bucket = bucket
        self.key = key
        self.contentType = contentType
        self.width = width
        self.height = height
        self.bytes = bytes
        self.sha256 = sha256
        self.data = data
        self.note = note
    }
}

/// A stage's failure (or a warning), precise enough for a consumer to decide what to do:
/// `retryable` says whether sending the same event again may succeed.
public struct ProcessingIssue: Codable, Sendable, Equatable {
    public var stage: String
    public var code: String
    public var message: String
    public var retryable: Bool

    public init(stage: String, code: String, message: String, retryable: Bool = false) {
        self.stage = stage
        self.code = code
        self.message = message
        self.retryable = retryable
    }
}

extension PipelineReference {
    /// No pipeline took the file (it failed before one was chosen).
    public static let none = PipelineReference(name: "none", version: 0)
}

extension ProcessedData {
    /// The one shape of a result that failed before or instead of its pipeline: the file
    /// as far as it is known, one issue, no derivatives.
    public static func failed(
        fileId: String, ownerId: String?, albumId: String?, source: SourceInfo, pipeline: PipelineReference = .none,
        _ issue: ProcessingIssue, attempt: Int = 1
    ) -> ProcessedData {
        ProcessedData(
            fileId: fileId, ownerId: ownerId, albumId: albumId, status: .failed, source: source, pipeline: pipeline,
            errors: [issue], attempt: attempt)
    }
}

/// Where reused outputs were copied from.
public struct ReusedOutputs: Codable, Sendable, Equatable {
    /// The file whose outputs were copied.
    public var fileId: String
    public var bucket: String?
    public var key: String?

    public init(fileId: String, bucket: String?, key: String?) {
        self.fileId = fileId
        self.bucket = bucket
        self.key = key
    }
}
