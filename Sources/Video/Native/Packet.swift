import CFFmpeg
import PipelineEngine

/// Owns one `AVPacket`, reused across reads (`unref` drops the payload, keeps the struct).
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws(StageFailure) {
        guard let packet = av_packet_alloc() else {
            throw StageFailure(.internalError, "cannot allocate a packet", retryable: true)
        }
        pointer = packet
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }

    func unref() { av_packet_unref(pointer) }

    var streamIndex: Int { Int(pointer.pointee.stream_index) }
    var isKeyframe: Bool { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }
    /// The presentation time, or the decode time when the container gave none.
    var timestamp: Int64? {
        let pts = pointer.pointee.pts
        if pts != AVCode.noPTS { return pts }
        let dts = pointer.pointee.dts
        return dts == AVCode.noPTS ? nil : dts
    }
}

/// Owns one `AVFrame`; `unref` drops the picture or samples, keeps the struct.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws(StageFailure) {
        guard let frame = av_frame_alloc() else {
            throw StageFailure(.internalError, "cannot allocate a frame", retryable: true)
        }
        pointer = frame
    }

    /// A new reference to `other`'s buffers (no pixel copy).
    init(referencing other: Frame) throws(StageFailure) {
        guard let frame = av_frame_clone(other.pointer) else {
            throw StageFailure(.internalError, "cannot reference a frame", retryable: true)
        }
        pointer = frame
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    func unref() { av_frame_unref(pointer) }

    /// The frame's time in its stream's time base: the decoder's best guess.
    var bestTimestamp: Int64? {
        let ts = pointer.pointee.best_effort_timestamp
        if ts != AVCode.noPTS { return ts }
        let pts = pointer.pointee.pts
        return pts == AVCode.noPTS ? nil : pts
    }

    var width: Int32 { pointer.pointee.width }
    var height: Int32 { pointer.pointee.height }
    var pixelFormat: Int32 { pointer.pointee.format }

    /// The pixel format's name (`yuv420p10le`), as filter options take it.
    var pixelFormatName: String {
        avString(av_get_pix_fmt_name(AVPixelFormat(rawValue: pixelFormat))) ?? String(pixelFormat)
    }
}
