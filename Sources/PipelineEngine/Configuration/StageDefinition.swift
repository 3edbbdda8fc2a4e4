/// One stage of a pipeline: a unique name and the typed parameters of its kind.
public struct StageDefinition: Sendable, Equatable {
    public var name: String
    public var kind: StageKind
    /// The line in the YAML file, for messages about this stage at run time.
    public var line: Int

    public init(name: String, kind: StageKind, line: Int = 0) {
        self.name = name
        self.kind = kind
        self.line = line
    }

    /// The stage whose output this one reads, if any; when that stage fails this one is skipped.
    public var input: String? {
        switch kind {
        case .thumbnail(let spec): spec.input
        case .placeholder(let spec): spec.input
        default: nil
        }
    }
}

/// The closed set of stage kinds mediad knows; each carries its parameters.
public enum StageKind: Sendable, Equatable {
    case checksum(ChecksumSpec)
    case metadata(MetadataSpec)
    case thumbnail(ThumbnailSpec)
    case placeholder(PlaceholderSpec)
    case poster(PosterSpec)
    case transcode(TranscodeSpec)

    public var typeName: String {
        switch self {
        case .checksum: "checksum"
        case .metadata: "metadata"
        case .thumbnail: "thumbnail"
        case .placeholder: "placeholder"
        case .poster: "poster"
        case .transcode: "transcode"
        }
    }
}

public struct ChecksumSpec: Sendable, Equatable {
    public var sha256: Bool
    public var md5: Bool

    public init(sha256: Bool = true, md5: Bool = true) {
        self.sha256 = sha256
        self.md5 = md5
    }
}

public struct MetadataSpec: Sendable, Equatable {
    /// Whether GPS coordinates are reported (some deployments must not keep them).
    public var includeLocation: Bool

    public init(includeLocation: Bool = true) {
        self.includeLocation = includeLocation
    }
}

/// Output encodings for still images.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, webp, avif, png

    public var contentType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        case .avif: "image/avif"
        case .png: "image/png"
        }
    }

    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        default: rawValue
        }
    }
}

/// How a thumbnail is sized.
public enum ThumbnailFit: Sendable, Equatable {
    /// The shorter side becomes `size` (what "a 250 px thumbnail" means for portrait and landscape alike).
    case shortSide(Int)
    /// The longer side becomes `size`.
    case longSide(Int)
    /// Fits inside width × height, aspect kept.
    case inside(width: Int, height: Int)
    /// Fills width × height exactly, cropping what overflows where `crop` says.
    case cover(width: Int, height: Int, crop: CropFocus)
}

public enum CropFocus: String, Sendable, CaseIterable {
    case attention, entropy, centre
}

/// What colour space a derivative is written in.
public enum ColourHandling: String, Sendable, CaseIterable {
    /// Convert through the embedded profile to sRGB and strip the profile: right on every screen.
    case srgb
    /// Keep wide-gamut sources (Display P3, Adobe RGB) in their space with the profile attached.
    case preserve
}

public struct ThumbnailSpec: Sendable, Equatable {
    public var derivativeKind: Derivative.Kind
    public var fit: ThumbnailFit
    public var format: ImageFormat
    public var quality: Int
    public var colour: ColourHandling
    /// Never make an output larger than the source.
    public var upscale: Bool
    /// A stage name whose image is used instead of the original (a video's `poster`).
    public var input: String?

    public init(
        derivativeKind: Derivative.Kind = .thumbnail, fit: ThumbnailFit, format: ImageFormat = .webp,
        quality: Int = 80, colour: ColourHandling = .srgb, upscale: Bool = false, input: String? = nil
    ) {
        self.derivativeKind = derivativeKind
        self.fit = fit
        self.format = format
        self.quality = quality
        self.colour = colour
        self.upscale = upscale
        self.input = input
    }
}

public struct PlaceholderSpec: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case thumbhash
    }

    public var algorithm: Algorithm
    public var input: String?

    public init(algorithm: Algorithm = .thumbhash, input: String? = nil) {
        self.algorithm = algorithm
        self.input = input
    }
}

public struct PosterSpec: Sendable, Equatable {
    /// Where to look, as a fraction of the duration (0.1 = 10 %).
    public var position: Double
    /// Never look further in than this.
    public var maxOffset: Duration
    /// How many frames around the position are compared; the most detailed wins.
    public var candidates: Int
    public var format: ImageFormat
    public var quality: Int
    /// The poster is capped to this long side.
    public var maxSize: Int

    public init(
        position: Double = 0.1, maxOffset: Duration = .seconds(5), candidates: Int = 5,
        format: ImageFormat = .jpeg, quality: Int = 85, maxSize: Int = 1920
    ) {
        self.position = position
        self.maxOffset = maxOffset
        self.candidates = candidates
        self.format = format
        self.quality = quality
        self.maxSize = maxSize
    }
}

public struct TranscodeSpec: Sendable, Equatable {
    public enum VideoCodec: String, Sendable, CaseIterable { case h264 }
    public enum AudioCodec: String, Sendable, CaseIterable { case aac }

    public var videoCodec: VideoCodec
    public var audioCodec: AudioCodec
    /// The shorter side is at most this (720 is "720p" for portrait videos too).
    public var maxShortSide: Int
    public var crf: Int
    public var preset: String
    public var audioBitrate: Int
    public var audioChannels: Int
    /// Leave the source alone when it already plays everywhere.
    public var skipCompatible: Bool
    /// Rewrap without re-encoding when only the container is wrong.
    public var allowRemux: Bool
    /// Encoder threads; 0 lets the encoder decide.
    public var threads: Int

    public init(
        videoCodec: VideoCodec = .h264, audioCodec: AudioCodec = .aac, maxShortSide: Int = 720, crf: Int = 23,
        preset: String = "veryfast", audioBitrate: Int = 128_000, audioChannels: Int = 2,
        skipCompatible: Bool = true, allowRemux: Bool = true, threads: Int = 0
    ) {
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
        self.maxShortSide = maxShortSide
        self.crf = crf
        self.preset = preset
        self.audioBitrate = audioBitrate
        self.audioChannels = audioChannels
        self.skipCompatible = skipCompatible
        self.allowRemux = allowRemux
        self.threads = threads
    }
}
