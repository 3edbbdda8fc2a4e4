import CFFmpeg
import Foundation
import PipelineEngine

extension VideoProbe {
    /// Copies what `input` knows about the container and its chosen streams.
    init(input: InputFile, sniffedFormat: String) {
        let context = input.formatContext.pointee
        let demuxer = avString(context.iformat.pointee.name) ?? "unknown"
        let tags = Self.tags(context.metadata)
        self.init(container: Self.containerName(demuxer: demuxer, sniffedFormat: sniffedFormat, tags: tags), demuxer: demuxer)

        if context.duration != AVCode.noPTS, context.duration > 0 {
            duration = Double(context.duration) / Double(AV_TIME_BASE)
        }
        if context.bit_rate > 0 { bitrate = Int(context.bit_rate) }
        if let index = input.bestStream(AVMEDIA_TYPE_VIDEO) {
            video = Self.videoInfo(input.stream(index), context: input.formatContext)
        }
        if let index = input.bestStream(AVMEDIA_TYPE_AUDIO) {
            audio = Self.audioInfo(input.stream(index))
        }
        if duration == nil {
            // Some files only time their streams.
            let streams = [video?.index, audio?.index].compactMap { $0 }.map { input.stream($0).pointee }
            duration = streams.compactMap { st -> Double? in
                st.duration == AVCode.noPTS || st.duration <= 0 ? nil : Double(st.duration) * st.time_base.double
            }.max()
        }

        let streamTags = [video?.index, audio?.index].compactMap { $0 }.map { Self.tags(input.stream($0).pointee.metadata) }
        let creation = tags["com.apple.quicktime.creationdate"] ?? tags["creation_time"] ?? tags["date"]
            ?? streamTags.lazy.compactMap { $0["creation_time"] }.first
        creationTime = creation.flatMap(CreationTime.normalize)
        let place = tags["com.apple.quicktime.location.iso6709"] ?? tags["location"]
            ?? streamTags.lazy.compactMap { $0["location"] }.first
        location = place.flatMap(ISO6709.parse)
    }

    /// MP4, MOV, M4A and 3GP share one demuxer; the major brand (or the sniffer) tells them apart.
    static func containerName(demuxer: String, sniffedFormat: String, tags: [String: String]) -> String {
        if demuxer.hasPrefix("mov,") {
            let brand = tags["major_brand"]?.trimmingCharacters(in: .whitespaces) ?? ""
            switch brand {
            case "qt": return "mov"
            case "M4A", "M4B", "M4P": return "m4a"
            case _ where brand.hasPrefix("3g"): return "3gp"
            case "": return ["mov", "m4a", "3gp"].contains(sniffedFormat) ? sniffedFormat : "mp4"
            default: return "mp4"
            }
        }
        if demuxer.hasPrefix("matroska") { return sniffedFormat == "webm" ? "webm" : "matroska" }
        return String(demuxer.prefix { $0 != "," })
    }

    /// A metadata dictionary with lower-cased keys (Matroska writes `DATE`, MP4 `date`).
    static func tags(_ dictionary: OpaquePointer?) -> [String: String] {
        var tags: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>?
        while let next = av_dict_get(dictionary, "", entry, AV_DICT_IGNORE_SUFFIX) {
            if let key = avString(next.pointee.key), let value = avString(next.pointee.value) {
                tags[key.lowercased()] = value
            }
            entry = next
        }
        return tags
    }

    private static func videoInfo(_ stream: UnsafeMutablePointer<AVStream>, context: UnsafeMutablePointer<AVFormatContext>) -> VideoStreamInfo {
        let parameters = stream.pointee.codecpar.pointee
        var info = VideoStreamInfo(
            index: Int(stream.pointee.index),
            codec: avString(avcodec_get_name(parameters.codec_id)) ?? "unknown",
            profile: avString(avcodec_profile_name(parameters.codec_id, parameters.profile)),
            width: Int(parameters.width), height: Int(parameters.height))
        let aspect = av_guess_sample_aspect_ratio(context, stream, nil)
        if aspect.isValid { info.pixelAspect = aspect.double }
        if parameters.format >= 0 {
            let format = AVPixelFormat(rawValue: parameters.format)
            info.pixelFormat = avString(av_get_pix_fmt_name(format))
            if let descriptor = av_pix_fmt_desc_get(format) { info.bitDepth = Int(descriptor.pointee.comp.0.depth) }
        }
        let rate = av_guess_frame_rate(context, stream, nil)
        if rate.isValid { info.frameRate = (rate.double * 1000).rounded() / 1000 }
        info.rotation = rotation(of: stream)
        if parameters.color_primaries != AVCOL_PRI_UNSPECIFIED {
            info.colorPrimaries = avString(av_color_primaries_name(parameters.color_primaries))
        }
        if parameters.color_trc != AVCOL_TRC_UNSPECIFIED {
            info.colorTransfer = avString(av_color_transfer_name(parameters.color_trc))
        }
        if parameters.color_space != AVCOL_SPC_UNSPECIFIED {
            info.colorSpace = avString(av_color_space_name(parameters.color_space))
        }
        if parameters.color_range != AVCOL_RANGE_UNSPECIFIED {
            info.colorRange = avString(av_color_range_name(parameters.color_range))
        }
        return info
    }

    /// Clockwise degrees from the display matrix (MP4/MOV `tkhd`), else the legacy `rotate`
    /// tag, snapped to a quarter turn.
    static func rotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        var degrees: Double?
        var size: Int = 0
        if let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 9 * 4 {
            let counterClockwise = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
            if counterClockwise.isFinite { degrees = -counterClockwise }
        }
        if degrees == nil, let tag = tags(stream.pointee.metadata)["rotate"] { degrees = Double(tag) }
        guard let degrees else { return 0 }
        let quarter = Int((degrees / 90).rounded()) % 4
        return (quarter + 4) % 4 * 90
    }

    private static func audioInfo(_ stream: UnsafeMutablePointer<AVStream>) -> AudioStreamInfo {
        let parameters = stream.pointee.codecpar.pointee
        return AudioStreamInfo(
            index: Int(stream.pointee.index),
            codec: avString(avcodec_get_name(parameters.codec_id)) ?? "unknown",
            profile: avString(avcodec_profile_name(parameters.codec_id, parameters.profile)),
            channels: Int(parameters.ch_layout.nb_channels),
            sampleRate: Int(parameters.sample_rate))
    }
}
