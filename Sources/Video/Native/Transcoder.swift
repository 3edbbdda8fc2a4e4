import CFFmpeg
import Foundation
import PipelineEngine

/// Runs a `TranscodePlan`: one pass over the input's packets, each stream copied or decoded,
/// filtered and encoded, into an MP4 whose moov atom is moved to the front when the file is
/// finished. Memory stays flat whatever the length: packets and frames are reused and the
/// muxer only buffers what interleaving needs.
struct Transcoder {
    let input: InputFile
    let probe: VideoProbe
    let plan: TranscodePlan
    let spec: TranscodeSpec
    let maxPixels: Int64
    let maxDuration: Double
    /// Called with the output time (seconds) as it advances; tests use it to stop half-way.
    var progress: ((Double) -> Void)?

    struct Summary {
        var width: Int
        var height: Int
        var decodeErrors: Int
    }

    /// Writes the MP4 to `url` (the caller renames it into place).
    func run(to url: URL) throws(StageFailure) -> Summary {
        let deadline = input.deadline
        let output = try OutputFile(url: url, format: "mp4", deadline: deadline)
        let video = probe.video!
        let startTime = input.formatContext.pointee.start_time
        let offset = startTime == AVCode.noPTS ? 0 : startTime

        var copies: [Int: CopyPath] = [:]
        var encodes: [Int: EncodePath] = [:]
        var size = video.displaySize
        switch plan.video {
        case .copy:
            copies[video.index] = try CopyPath(input: input, stream: video.index, output: output, startOffset: offset)
        case .encode(let width, let height):
            size = (width, height)
            encodes[video.index] = try videoPath(video, width: width, height: height, output: output, offset: offset)
        }
        if let audio = probe.audio, let action = plan.audio {
            switch action {
            case .copy:
                copies[audio.index] = try CopyPath(input: input, stream: audio.index, output: output, startOffset: offset)
            case .encode(let sampleRate, let channels):
                encodes[audio.index] = try audioPath(audio, sampleRate: sampleRate, channels: channels, output: output, offset: offset)
            }
        }

        try output.writeHeader(options: AVOptions([("movflags", "+faststart")]))
        copies.values.forEach { $0.headerWritten(output) }
        encodes.values.forEach { $0.headerWritten(output) }

        let packet = try Packet()
        var lastTime = 0.0
        let timeBase = AVRational(num: 1, den: AV_TIME_BASE)
        while try input.read(into: packet) {
            try deadline.check("transcoding")
            let index = packet.streamIndex
            guard copies[index] != nil || encodes[index] != nil else { continue }
            if let time = packet.timestamp {
                let base = input.stream(index).pointee.time_base
                let seconds = Double(time - av_rescale_q(offset, timeBase, base)) * base.double
                lastTime = max(lastTime, seconds)
                if index == video.index, seconds > maxDuration + 1 {
                    throw StageFailure(.tooLong, "the video runs past the pipeline's limit of \(Int(maxDuration)) s")
                }
            }
            if let copy = copies[index] {
                try copy.write(packet, to: output)
            } else if let path = encodes[index] {
                try path.process(packet, to: output)
                if index == video.index { progress?(path.lastTime) }
            }
        }
        for path in encodes.values { try path.process(nil, to: output) }
        if let path = encodes[video.index], path.framesEncoded == 0 {
            throw StageFailure(.corruptFile, "no frame of the video stream could be decoded")
        }
        // A file cut short after its index was written (Matroska, or an MP4 whose moov came
        // first) demuxes "fine" and just stops: compare with the duration it declares.
        if let duration = probe.duration, duration > 2, lastTime < duration - max(1, duration * 0.05) {
            throw StageFailure(.truncatedFile, "the media data ends at \(Int(lastTime)) s of \(Int(duration)) s")
        }
        try deadline.check("finishing the MP4")
        try output.finish()
        return Summary(width: size.width, height: size.height, decodeErrors: encodes.values.reduce(0) { $0 + $1.decodeErrors })
    }

    private func videoPath(_ video: VideoStreamInfo, width: Int, height: Int, output: OutputFile, offset: Int64) throws(StageFailure) -> EncodePath {
        let decoder = try Decoder(input: input, stream: video.index, maxPixels: maxPixels, threads: 0)
        let stream = input.stream(video.index)
        let timeBase = stream.pointee.time_base
        let frameRate = av_guess_frame_rate(input.formatContext, stream, nil)
        let toneMapping = FilterChains.toneMapping(for: video, zscaleAvailable: VideoRuntime.zscaleAvailable)
        let source = stream.pointee.codecpar.pointee
        let globalHeader = output.needsGlobalHeader
        let options = AVOptions([
            ("crf", String(spec.crf)), ("preset", spec.preset), ("profile", "high"),
            ("threads", spec.threads == 0 ? "auto" : String(spec.threads)),
        ])
        let encoder = try Encoder(name: "libx264", options: options, deadline: input.deadline) { context in
            context.pointee.width = Int32(width)
            context.pointee.height = Int32(height)
            context.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            context.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            context.pointee.time_base = timeBase
            if frameRate.isValid { context.pointee.framerate = frameRate }
            context.pointee.color_range = AVCOL_RANGE_MPEG
            if toneMapping != nil {
                context.pointee.color_primaries = AVCOL_PRI_BT709
                context.pointee.color_trc = AVCOL_TRC_BT709
                context.pointee.colorspace = AVCOL_SPC_BT709
            } else {
                context.pointee.color_primaries = source.color_primaries
                context.pointee.color_trc = source.color_trc
                context.pointee.colorspace = source.color_space
            }
            if globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        }
        let rotation = video.rotation
        return try EncodePath(input: input, stream: video.index, output: output, startOffset: offset, decoder: decoder, encoder: encoder) { frame in
            let aspect = frame.pointer.pointee.sample_aspect_ratio
            let arguments = "video_size=\(frame.width)x\(frame.height):pix_fmt=\(frame.pixelFormatName)"
                + ":time_base=\(timeBase.num)/\(timeBase.den)"
                + ":pixel_aspect=\(aspect.isValid ? aspect.num : 1)/\(aspect.isValid ? aspect.den : 1)"
            let description = FilterChains.video(
                source: (Int(frame.width), Int(frame.height)), target: (width, height), rotation: rotation,
                toneMapping: toneMapping, output: .yuv420p)
            return (arguments, description)
        }
    }

    private func audioPath(_ audio: AudioStreamInfo, sampleRate: Int, channels: Int, output: OutputFile, offset: Int64) throws(StageFailure) -> EncodePath {
        let decoder = try Decoder(input: input, stream: audio.index, maxPixels: maxPixels, threads: 0)
        let timeBase = decoder.timeBase
        let globalHeader = output.needsGlobalHeader
        var layout = AVChannelLayout()
        av_channel_layout_default(&layout, Int32(channels))
        let layoutName = Self.describe(&layout)
        let encoder = try Encoder(name: "aac", options: AVOptions(), deadline: input.deadline) { context in
            context.pointee.sample_rate = Int32(sampleRate)
            context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            av_channel_layout_copy(&context.pointee.ch_layout, &layout)
            context.pointee.bit_rate = Int64(spec.audioBitrate)
            context.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
            if globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        }
        av_channel_layout_uninit(&layout)
        return try EncodePath(input: input, stream: audio.index, output: output, startOffset: offset, decoder: decoder, encoder: encoder) { frame in
            let p = frame.pointer.pointee
            let format = avString(av_get_sample_fmt_name(AVSampleFormat(rawValue: p.format))) ?? "\(p.format)"
            var frameLayout = p.ch_layout
            let arguments = "time_base=\(timeBase.num)/\(timeBase.den):sample_rate=\(p.sample_rate)"
                + ":sample_fmt=\(format):channel_layout=\(Self.describe(&frameLayout))"
            return (arguments, FilterChains.audio(sampleRate: sampleRate, channelLayout: layoutName))
        }
    }

    /// A channel layout as libavfilter parses it (`stereo`, `5.1(side)`).
    static func describe(_ layout: inout AVChannelLayout) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        guard av_channel_layout_describe(&layout, &buffer, buffer.count) > 0 else { return "stereo" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
