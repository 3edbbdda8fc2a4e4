/// A pipeline as declared in `pipelines/*.yaml`: which files it takes, the limits it
/// enforces before any decoder runs, and its ordered stages.
public struct PipelineDefinition: Sendable, Equatable {
    public var name: String
    /// Bumped to invalidate earlier outputs; `reprocess` compares manifests against it.
    public var version: Int
    public var description: String?
    public var match: MatchRule
    public var limits: PipelineLimits
    public var decode: DecodePolicy
    /// Identical bytes (same SHA-256) already processed by this version are not decoded again:
    /// their outputs are copied on the server. On by default.
    public var dedupe: Bool
    public var stages: [StageDefinition]
    /// The file the definition came from, for messages.
    public var sourceFile: String
    /// The YAML it was parsed from: what a worker process is given to run it.
    public var sourceText: String?

    public init(
        name: String, version: Int, description: String? = nil, match: MatchRule,
        limits: PipelineLimits = PipelineLimits(), decode: DecodePolicy = DecodePolicy(), dedupe: Bool = true,
        stages: [StageDefinition], sourceFile: String = "<memory>"
    ) {
        self.name = name
        self.version = version
        self.description = description
        self.match = match
        self.limits = limits
        self.decode = decode
        self.dedupe = dedupe
        self.stages = stages
        self.sourceFile = sourceFile
    }

    public var reference: PipelineReference { PipelineReference(name: name, version: version) }
}

/// Which sniffed types a pipeline takes. A format list narrows the media types.
public struct MatchRule: Sendable, Equatable {
    public var mediaTypes: Set<MediaType>
    /// Sniffed format names (`jpeg`, `heic`, `mp4`); empty means every format of the media types.
    public var formats: Set<String>

    public init(mediaTypes: Set<MediaType>, formats: Set<String> = []) {
        self.mediaTypes = mediaTypes
        self.formats = formats
    }

    public func matches(_ type: SniffedType) -> Bool {
        guard mediaTypes.contains(type.mediaType) else { return false }
        return formats.isEmpty || formats.contains(type.format)
    }
}

/// Caps checked before and during decoding, so that input size never decides memory or time.
public struct PipelineLimits: Sendable, Equatable {
    public var maxBytes: Int64
    /// Width × height × pages, read from the header before any pixel is decoded.
    public var maxPixels: Int64
    /// Longest accepted media duration.
    public var maxDuration: Duration
    /// Wall-clock limit for one stage.
    public var stageTimeout: Duration
    /// Memory a worker process may allocate while it runs this pipeline's job, enforced by
    /// the kernel: an input that needs more ends in `memory_limit` instead of an OOM kill
    /// of the whole daemon.
    public var maxMemory: Int64

    /// Sized for the worst image the default `maxPixels` lets through with room to spare
    /// (an interlaced PNG decodes whole): see docs/operations.md.
    public static let defaultMaxMemory: Int64 = 1 << 30

    public init(
        maxBytes: Int64 = 512 * 1024 * 1024,
        maxPixels: Int64 = 268_435_456,
        maxDuration: Duration = .seconds(3 * 3600),
        stageTimeout: Duration = .seconds(120),
        maxMemory: Int64 = PipelineLimits.defaultMaxMemory
    ) {
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
        self.maxDuration = maxDuration
        self.stageTimeout = stageTimeout
        self.maxMemory = maxMemory
    }
}

/// How strictly decoders treat damaged input, and which risky loaders are allowed.
public struct DecodePolicy: Sendable, Equatable {
    public enum FailOn: String, Sendable, CaseIterable {
        /// Decode whatever can be decoded.
        case none
        /// Reject files that end early (an interrupted upload).
        case truncated
        /// Reject files with any decode error.
        case error
        /// Reject on any warning.
        case warning
    }

    public var failOn: FailOn
    /// Loaders that are unsafe on untrusted input and off by default (`svg`, `pdf`, `magick`, ...).
    public var untrustedLoaders: Set<String>

    public init(failOn: FailOn = .truncated, untrustedLoaders: Set<String> = []) {
        self.failOn = failOn
        self.untrustedLoaders = untrustedLoaders
    }
}
