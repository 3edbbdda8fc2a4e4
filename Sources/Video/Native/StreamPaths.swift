import CFFmpeg
import PipelineEngine

/// A stream copied into the output as it is (remux): timestamps shifted to start at zero
/// and converted to the output's time base; the display matrix travels with it.
final class CopyPath {
    let inputIndex: Int
    let outputIndex: Int
    private let inputTimeBase: AVRational
    private var outputTimeBase = AVRational(num: 0, den: 1)
    private let offset: Int64

    init(input: InputFile, stream index: Int, output: OutputFile, startOffset: Int64) throws(StageFailure) {
        inputIndex = index
        let source = input.stream(index)
        inputTimeBase = source.pointee.time_base
        offset = av_rescale_q(startOffset, AVRational(num: 1, den: AV_TIME_BASE), inputTimeBase)
        outputIndex = try output.addStream()
        let target = output.stream(outputIndex)
        let copied = avcodec_parameters_copy(target.pointee.codecpar, source.pointee.codecpar)
        guard copied >= 0 else { throw .av(copied, "cannot copy stream \(index)", deadline: nil, fallback: .internalError) }
        // Let the MP4 muxer choose its own tag (`avc1`, `mp4a`): MKV and MOV tags differ.
        target.pointee.codecpar.pointee.codec_tag = 0
        target.pointee.time_base = inputTimeBase
        target.pointee.avg_frame_rate = source.pointee.avg_frame_rate
        target.pointee.r_frame_rate = source.pointee.r_frame_rate
        target.pointee.sample_aspect_ratio = source.pointee.sample_aspect_ratio
        var size: Int = 0
        if let matrix = av_stream_get_side_data(source, AV_PKT_DATA_DISPLAYMATRIX, &size), size > 0,
            let copy = av_stream_new_side_data(target, AV_PKT_DATA_DISPLAYMATRIX, size)
        {
            copy.update(from: matrix, count: size)
        }
    }

    /// Reads the output time base the muxer settled on (call after the header is written).
    func headerWritten(_ output: OutputFile) {
        outputTimeBase = output.stream(outputIndex).pointee.time_base
    }

    func write(_ packet: Packet, to output: OutputFile) throws(StageFailure) {
        let p = packet.pointer
        if p.pointee.pts != AVCode.noPTS { p.pointee.pts -= offset }
        if p.pointee.dts != AVCode.noPTS { p.pointee.dts -= offset }
        av_packet_rescale_ts(p, inputTimeBase, outputTimeBase)
        p.pointee.stream_index = Int32(outputIndex)
        p.pointee.pos = -1
        try output.write(packet)
    }
}

/// A stream decoded, filtered and encoded. The filter graph is built from the first decoded
/// frame (its real size and format) and rebuilt if a later frame differs; the encoder is
/// opened up front from the plan so the header can be written before any packet is read.
final class EncodePath {
    let inputIndex: Int
    let outputIndex: Int
    let decoder: Decoder
    let encoder: Encoder
    private let isAudio: Bool
    private let offset: Int64
    private let makeChain: (Frame) -> (arguments: String, description: String)
    private var graph: FilterGraph?
    private var graphKey: [Int64] = []
    private var outputTimeBase = AVRational(num: 0, den: 1)
    private let decoded: Frame
    private let filtered: Frame
    private let packet: Packet
    /// Decode errors tolerated (a damaged packet in a long video), as the ffmpeg program does.
    private(set) var decodeErrors = 0
    static let maxDecodeErrors = 16
    /// The latest output time, in seconds, for progress.
    private(set) var lastTime: Double = 0
    /// Frames handed to the encoder: zero at the end means nothing could be decoded.
    private(set) var framesEncoded = 0

    init(
        input: InputFile, stream index: Int, output: OutputFile, startOffset: Int64, decoder: Decoder, encoder: Encoder,
        chain: @escaping (Frame) -> (arguments: String, description: String)
    ) throws(StageFailure) {
        inputIndex = index
        self.decoder = decoder
        self.encoder = encoder
        isAudio = decoder.codecContext.pointee.codec_type == AVMEDIA_TYPE_AUDIO
        offset = av_rescale_q(startOffset, AVRational(num: 1, den: AV_TIME_BASE), decoder.timeBase)
        makeChain = chain
        decoded = try Frame()
        filtered = try Frame()
        packet = try Packet()
        outputIndex = try output.addStream()
        let target = output.stream(outputIndex)
        let copied = avcodec_parameters_from_context(target.pointee.codecpar, encoder.codecContext)
        guard copied >= 0 else { throw .av(copied, "cannot describe the output stream", deadline: nil, fallback: .internalError) }
        target.pointee.time_base = encoder.timeBase
        if !isAudio { target.pointee.avg_frame_rate = encoder.codecContext.pointee.framerate }
    }

    func headerWritten(_ output: OutputFile) {
        outputTimeBase = output.stream(outputIndex).pointee.time_base
    }

    /// Decodes `packet` (nil drains everything to the end) and writes what comes out.
    func process(_ input: Packet?, to output: OutputFile) throws(StageFailure) {
        do {
            try decoder.decode(input, into: decoded) { (frame) throws(StageFailure) in try self.filter(frame, to: output) }
        } catch where error.code == .corruptFile && input != nil {
            decodeErrors += 1
            if decodeErrors > Self.maxDecodeErrors { throw error }
        }
        if input == nil {
            if let graph { try finish(graph, to: output) }
            try encoder.encode(nil, into: packet) { (packet) throws(StageFailure) in try self.write(packet, to: output) }
        }
    }

    private func filter(_ frame: Frame, to output: OutputFile) throws(StageFailure) {
        let p = frame.pointer
        p.pointee.pts = frame.bestTimestamp.map { $0 - offset } ?? AVCode.noPTS
        if isAudio { Self.normalizeLayout(p) }
        let key = isAudio
            ? [Int64(p.pointee.sample_rate), Int64(p.pointee.format), Int64(p.pointee.ch_layout.nb_channels)]
            : [Int64(p.pointee.width), Int64(p.pointee.height), Int64(p.pointee.format)]
        if graph == nil || key != graphKey {
            if let graph { try finish(graph, to: output) }
            let chain = makeChain(frame)
            graph = try FilterGraph(audio: isAudio, sourceArguments: chain.arguments, description: chain.description)
            graphKey = key
            if isAudio, encoder.codecContext.pointee.codec.pointee.capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE == 0 {
                graph!.setOutputFrameSize(encoder.codecContext.pointee.frame_size)
            }
        }
        try graph!.push(frame)
        try drain(graph!, to: output)
    }

    private func finish(_ graph: FilterGraph, to output: OutputFile) throws(StageFailure) {
        try graph.push(nil)
        try drain(graph, to: output)
        self.graph = nil
    }

    private func drain(_ graph: FilterGraph, to output: OutputFile) throws(StageFailure) {
        while try graph.pull(into: filtered) {
            let p = filtered.pointer
            if p.pointee.pts != AVCode.noPTS {
                p.pointee.pts = av_rescale_q(p.pointee.pts, graph.outputTimeBase, encoder.timeBase)
                lastTime = Double(p.pointee.pts) * encoder.timeBase.double
            }
            if !isAudio { p.pointee.pict_type = AV_PICTURE_TYPE_NONE }
            framesEncoded += 1
            try encoder.encode(filtered, into: packet) { (packet) throws(StageFailure) in try self.write(packet, to: output) }
        }
    }

    private func write(_ packet: Packet, to output: OutputFile) throws(StageFailure) {
        av_packet_rescale_ts(packet.pointer, encoder.timeBase, outputTimeBase)
        packet.pointer.pointee.stream_index = Int32(outputIndex)
        try output.write(packet)
    }

    /// Decoders may leave a layout as "2 channels, order unknown"; the filter source needs a
    /// named layout, and every frame must carry the one it was configured with.
    private static func normalizeLayout(_ frame: UnsafeMutablePointer<AVFrame>) {
        guard frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC else { return }
        let channels = frame.pointee.ch_layout.nb_channels
        av_channel_layout_uninit(&frame.pointee.ch_layout)
        av_channel_layout_default(&frame.pointee.ch_layout, channels)
    }
}
