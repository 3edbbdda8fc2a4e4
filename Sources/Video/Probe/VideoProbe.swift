import PipelineEngine

/// What the stages need to know about a file, copied out of FFmpeg's structs once so that
/// policy (limits, transcode decisions, metadata) is plain Swift that tests can build by hand.
struct VideoProbe: Sendable, Equatable {
    /// The short container name reported in metadata (`mp4`, `mov`, `webm`, `matroska`, `m4a`).
    var container: String
    /// The libavformat demuxer that read the file (`mov,mp4,m4a,3gp,3g2,mj2`).
    var demuxer: String
    /// Seconds; nil when neither the container nor the streams say.
    var duration: Double?
    /// Bits per second of the whole file.
    var bitrate: Int?
    var video: VideoStreamInfo?
    var audio: AudioStreamInfo?
    /// ISO 8601, with the recorded UTC offset when the file has one.
    var creationTime: String?
    var location: GeoLocation?
    /// For MP4/MOV: whether the moov atom comes before the media data (nil for other formats).
    var moovBeforeMdat: Bool?

    init(container: String, demuxer: String) {
        self.container = container
        self.demuxer = demuxer
    }
}

struct VideoStreamInfo: Sendable, Equatable {
    var index: Int
    /// FFmpeg's codec name: `h264`, `hevc`, `vp9`.
    var codec: String
    /// `High`, `Main 10`, `Profile 0`; nil when the codec has no named profiles.
    var profile: String?
    /// Stored size, before rotation.
    var width: Int
    var height: Int
    /// Width over height of one pixel (1 for square pixels).
    var pixelAspect: Double = 1
    var pixelFormat: String?
    var bitDepth: Int?
    var frameRate: Double?
    /// Clockwise degrees a player turns the picture: 0, 90, 180 or 270.
    var rotation: Int = 0
    var colorPrimaries: String?
    var colorTransfer: String?
    var colorSpace: String?
    var colorRange: String?

    /// PQ (HDR10, Dolby Vision profile 8) or HLG transfer.
    var isHDR: Bool { colorTransfer == "smpte2084" || colorTransfer == "arib-std-b67" }

    /// Size as shown: rotation applied, non-square pixels stretched.
    var displaySize: (width: Int, height: Int) {
        let stretched = pixelAspect > 0 && pixelAspect != 1
            ? Int((Double(width) * pixelAspect).rounded()) : width
        return rotation % 180 == 0 ? (stretched, height) : (height, stretched)
    }

    var pixels: Int64 { Int64(width) * Int64(height) }
}

struct AudioStreamInfo: Sendable, Equatable {
    var index: Int
    var codec: String
    var profile: String?
    var channels: Int
    var sampleRate: Int
}

extension VideoProbe {
    /// Writes what was probed into the job's metadata. `includeLocation` is the metadata
    /// stage's setting: some deployments must not keep where a video was shot.
    func fill(_ metadata: inout MediaMetadata, includeLocation: Bool) {
        metadata.container = container
        metadata.duration = duration.map { ($0 * 1000).rounded() / 1000 }
        metadata.bitrate = bitrate
        metadata.creationTime = creationTime
        if includeLocation { metadata.gps = location }
        if let video {
            metadata.videoCodec = video.codec
            metadata.videoProfile = video.profile
            metadata.pixelFormat = video.pixelFormat
            metadata.bitDepth = video.bitDepth
            metadata.width = video.width
            metadata.height = video.height
            let display = video.displaySize
            metadata.displayWidth = display.width
            metadata.displayHeight = display.height
            metadata.frameRate = video.frameRate
            metadata.rotation = video.rotation
            metadata.colorPrimaries = video.colorPrimaries
            metadata.colorTransfer = video.colorTransfer
            metadata.hdr = video.isHDR
        }
        if let audio {
            metadata.audioCodec = audio.codec
            metadata.audioChannels = audio.channels
            metadata.audioSampleRate = audio.sampleRate
        }
    }
}
