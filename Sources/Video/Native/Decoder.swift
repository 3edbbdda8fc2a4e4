import CFFmpeg
import CFFmpegShims
import PipelineEngine

/// Owns a decoding `AVCodecContext` for one input stream.
final class Decoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    let deadline: Deadline
    let streamIndex: Int
    let timeBase: AVRational

    /// - Parameters:
    ///   - maxPixels: frames larger than this are refused by the decoder itself.
    ///   - threads: 0 lets FFmpeg pick (as the `ffmpeg` program does); 1 decodes on this thread.
    ///   - keyframesOnly: skip every non-key frame (poster candidates).
    init(input: InputFile, stream index: Int, maxPixels: Int64, threads: Int, keyframesOnly: Bool = false) throws(StageFailure) {
        deadline = input.deadline
        streamIndex = index
        let stream = input.stream(index)
        timeBase = stream.pointee.time_base
        let parameters = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = avString(avcodec_get_name(parameters.pointee.codec_id)) ?? "unknown"
            throw StageFailure(.noUsableStream, "no decoder for \(name) in this build")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw StageFailure(.internalError, "cannot allocate a decoder", retryable: true)
        }
        self.context = context
        let copied = avcodec_parameters_to_context(context, parameters)
        guard copied >= 0 else { throw .av(copied, "cannot set up the \(avString(codec.pointee.name) ?? "") decoder", deadline: deadline) }
        context.pointee.pkt_timebase = stream.pointee.time_base
        if keyframesOnly { context.pointee.skip_frame = AVDISCARD_NONKEY }
        let options = AVOptions([
            ("threads", threads == 0 ? "auto" : String(threads)),
            ("max_pixels", String(min(maxPixels, Int64(Int32.max)))),
            ("codec_whitelist", DemuxPolicy.allowedDecoders),
        ])
        mediad_av_log_clear()
        let opened = options.withDictionary { avcodec_open2(context, codec, &$0) }
        guard opened >= 0 else {
            throw .av(opened, "cannot open the \(avString(codec.pointee.name) ?? "") decoder", deadline: deadline, fallback: .noUsableStream)
        }
    }

    deinit { avcodec_free_context(&context) }

    var codecContext: UnsafeMutablePointer<AVCodecContext> { context! }

    /// Sends a packet (nil drains the decoder). Returns false when the decoder is full and
    /// frames must be received first (the packet was not consumed).
    /// - Throws: `StageFailure(.corruptFile)` when the data can't be decoded.
    func send(_ packet: Packet?) throws(StageFailure) -> Bool {
        let status = avcodec_send_packet(codecContext, packet?.pointer)
        if status == AVCode.again { return false }
        if status == AVCode.endOfFile { return true }
        guard status >= 0 else { throw .av(status, "cannot decode stream \(streamIndex)", deadline: deadline) }
        return true
    }

    /// Receives the next decoded frame into `frame`; false when more input is needed or the
    /// decoder is drained.
    func receive(into frame: Frame) throws(StageFailure) -> Bool {
        frame.unref()
        let status = avcodec_receive_frame(codecContext, frame.pointer)
        if status == AVCode.again || status == AVCode.endOfFile { return false }
        guard status >= 0 else { throw .av(status, "cannot decode stream \(streamIndex)", deadline: deadline) }
        return true
    }

    /// Forgets buffered frames after a seek.
    func flush() { avcodec_flush_buffers(codecContext) }

    /// Decodes `packet` (or drains when nil), calling `body` for every frame it yields.
    func decode(_ packet: Packet?, into frame: Frame, _ body: (Frame) throws(StageFailure) -> Void) throws(StageFailure) {
        while try !send(packet) {
            // The decoder is full: drain what it has, then offer the packet again.
            while try receive(into: frame) { try body(frame) }
        }
        while try receive(into: frame) { try body(frame) }
    }
}
