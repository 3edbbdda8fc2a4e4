import CFFmpeg
import CFFmpegShims
import PipelineEngine

/// Owns an encoding `AVCodecContext` (libx264, aac, mjpeg, png).
final class Encoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    let name: String
    let deadline: Deadline?

    /// Allocates the encoder; `configure` sets its fields before it is opened with `options`.
    /// - Throws: `StageFailure(.stageUnavailable)` when this FFmpeg build lacks the encoder,
    ///   `.encodeFailed` when it refuses the settings.
    init(
        name: String, options: AVOptions, deadline: Deadline?,
        configure: (UnsafeMutablePointer<AVCodecContext>) -> Void
    ) throws(StageFailure) {
        self.name = name
        self.deadline = deadline
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw StageFailure(.stageUnavailable, "this FFmpeg build has no '\(name)' encoder")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw StageFailure(.internalError, "cannot allocate the \(name) encoder", retryable: true)
        }
        self.context = context
        configure(context)
        mediad_av_log_clear()
        let opened = options.withDictionary { avcodec_open2(context, codec, &$0) }
        guard opened >= 0 else {
            throw .av(opened, "cannot open the \(name) encoder", deadline: deadline, fallback: .encodeFailed)
        }
    }

    deinit { avcodec_free_context(&context) }

    var codecContext: UnsafeMutablePointer<AVCodecContext> { context! }
    var timeBase: AVRational { codecContext.pointee.time_base }

    /// Encodes `frame` (nil drains), calling `body` with every packet produced.
    func encode(_ frame: Frame?, into packet: Packet, _ body: (Packet) throws(StageFailure) -> Void) throws(StageFailure) {
        var status = avcodec_send_frame(codecContext, frame?.pointer)
        while status == AVCode.again {
            // The encoder is full: take packets out, then offer the frame again.
            try drain(into: packet, body)
            status = avcodec_send_frame(codecContext, frame?.pointer)
        }
        guard status >= 0 || status == AVCode.endOfFile else {
            throw .av(status, "the \(name) encoder failed", deadline: deadline, fallback: .encodeFailed)
        }
        try drain(into: packet, body)
    }

    private func drain(into packet: Packet, _ body: (Packet) throws(StageFailure) -> Void) throws(StageFailure) {
        while true {
            packet.unref()
            let status = avcodec_receive_packet(codecContext, packet.pointer)
            if status == AVCode.again || status == AVCode.endOfFile { return }
            guard status >= 0 else {
                throw .av(status, "the \(name) encoder failed", deadline: deadline, fallback: .encodeFailed)
            }
            try body(packet)
        }
    }
}
