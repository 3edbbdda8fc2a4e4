import PipelineEngine

/// What the transcode stage will do with a file, decided from the probe alone (no decoding),
/// so the policy is testable by hand-built probes:
///
/// - an H.264 (8-bit 4:2:0, Baseline/Main/High) + AAC MP4 within the size limit, with the
///   moov atom in front, is left alone (`skip`);
/// - the same streams in the wrong container (MOV, MKV) or with the moov atom at the end are
///   rewrapped (`remux`): streams copied, display matrix kept;
/// - an H.264 video with non-AAC audio keeps its video and re-encodes only the audio;
/// - everything else (HEVC, VP9, 10-bit, HDR, too large) is re-encoded.
struct TranscodePlan: Sendable, Equatable {
    enum VideoAction: Sendable, Equatable {
        case copy
        /// Re-encode to `width` × `height` (display orientation, even, never larger than the source).
        case encode(width: Int, height: Int)
    }

    enum AudioAction: Sendable, Equatable {
        case copy
        case encode(sampleRate: Int, channels: Int)
    }

    enum Decision: Sendable, Equatable {
        /// The source already plays everywhere; the message says why.
        case skip(String)
        case run(TranscodePlan)
    }

    var video: VideoAction
    var audio: AudioAction?
    /// Why a stream is re-encoded or copied, for the derivative's `note`.
    var reasons: [String]

    var isRemux: Bool { video == .copy && (audio == nil || audio == .copy) }

    var note: String {
        switch (video, audio) {
        case (.copy, .copy), (.copy, nil): "remux: " + reasons.joined(separator: "; ")
        case (.copy, .encode): "video copied, audio re-encoded: " + reasons.joined(separator: "; ")
        default: "re-encoded: " + reasons.joined(separator: "; ")
        }
    }

    /// Sample rates the AAC encoder takes; others are resampled to 48 kHz.
    static let aacSampleRates: Set<Int> = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000]

    /// - Precondition: `probe.video` is not nil (the stage checks first).
    static func decide(_ probe: VideoProbe, spec: TranscodeSpec) -> Decision {
        let video = probe.video!
        var reasons: [String] = []
        let display = video.displaySize
        let target = targetSize(display: display, maxShortSide: spec.maxShortSide)
        let videoCompatible = videoIsCompatible(video, reasons: &reasons)
            && fits(display: display, maxShortSide: spec.maxShortSide, reasons: &reasons)
        var audioAction: AudioAction?
        var audioCompatible = true
        if let audio = probe.audio {
            audioCompatible = audio.codec == "aac" && ["LC", "HE-AAC", "HE-AACv2", nil].contains(audio.profile)
                && audio.channels <= spec.audioChannels
            if !audioCompatible { reasons.append("audio is \(audio.codec) \(audio.channels) ch") }
            let rate = aacSampleRates.contains(audio.sampleRate) ? audio.sampleRate : 48000
            audioAction = audioCompatible ? .copy : .encode(sampleRate: rate, channels: spec.audioChannels)
        }

        if videoCompatible && audioCompatible {
            let rightContainer = probe.container == "mp4"
            let fastStart = probe.moovBeforeMdat == true
            if rightContainer && fastStart && spec.skipCompatible {
                return .skip("already a compatible H.264\(probe.audio == nil ? "" : "/AAC") MP4 within \(spec.maxShortSide)p")
            }
            if !rightContainer { reasons.append("container is \(probe.container)") }
            if rightContainer && !fastStart { reasons.append("moov atom after the media data") }
            if reasons.isEmpty { reasons.append("compatible; skipping is off") }
        }
        let canCopyVideo = videoCompatible && spec.allowRemux
        guard canCopyVideo else {
            if let audio = probe.audio {
                let rate = aacSampleRates.contains(audio.sampleRate) ? audio.sampleRate : 48000
                audioAction = .encode(sampleRate: rate, channels: spec.audioChannels)
            }
            if videoCompatible { reasons.append("remuxing is off") }
            return .run(TranscodePlan(video: .encode(width: target.width, height: target.height), audio: audioAction, reasons: reasons))
        }
        return .run(TranscodePlan(video: .copy, audio: audioAction, reasons: reasons))
    }

    /// H.264 that every browser and phone decodes: 8-bit 4:2:0, Baseline/Main/High, SDR.
    private static func videoIsCompatible(_ video: VideoStreamInfo, reasons: inout [String]) -> Bool {
        let profiles: Set<String> = ["Baseline", "Constrained Baseline", "Main", "High"]
        guard video.codec == "h264" else {
            reasons.append("video is \(video.codec)")
            return false
        }
        guard let profile = video.profile, profiles.contains(profile) else {
            reasons.append("H.264 profile \(video.profile ?? "unknown")")
            return false
        }
        guard ["yuv420p", "yuvj420p"].contains(video.pixelFormat ?? ""), video.bitDepth ?? 8 == 8 else {
            reasons.append("pixel format \(video.pixelFormat ?? "unknown")")
            return false
        }
        guard !video.isHDR else {
            reasons.append("HDR (\(video.colorTransfer ?? "")) needs tone mapping")
            return false
        }
        return true
    }

    private static func fits(display: (width: Int, height: Int), maxShortSide: Int, reasons: inout [String]) -> Bool {
        guard min(display.width, display.height) <= maxShortSide else {
            reasons.append("\(display.width)x\(display.height) is larger than \(maxShortSide)p")
            return false
        }
        return true
    }

    /// The output size in display orientation: the shorter side at most `maxShortSide`
    /// (720 is "720p" for portrait videos too), aspect ratio kept, both sides even, never
    /// upscaled.
    static func targetSize(display: (width: Int, height: Int), maxShortSide: Int) -> (width: Int, height: Int) {
        let shortSide = min(display.width, display.height)
        let scale = shortSide > maxShortSide ? Double(maxShortSide) / Double(shortSide) : 1
        func even(_ value: Double) -> Int { max(2, Int(value.rounded()) & ~1) }
        return (even(Double(display.width) * scale), even(Double(display.height) * scale))
    }
}
