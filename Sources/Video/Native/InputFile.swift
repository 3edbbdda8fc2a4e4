import CFFmpeg
import CFFmpegShims
import Foundation
import PipelineEngine

/// An opened, probed input file: owns the `AVFormatContext`.
///
/// Opening is where hostile files are stopped: the demuxer is pinned to the one
/// the sniffed type names (an HLS playlist renamed `.mp4` is read by the MP4 demuxer and
/// rejected, never followed), only the `file` protocol is allowed, and the probe size, the
/// stream count and the decoders that may run are capped.
final class InputFile {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    let deadline: Deadline
    let url: URL

    /// - Parameters:
    ///   - demuxer: the libavformat demuxer to use (`mov`, `matroska`); nil lets libavformat
    ///     probe, restricted to `DemuxPolicy.allowedDemuxers`.
    /// - Throws: `StageFailure` (`corruptFile` for bytes no allowed demuxer accepts, `timeout`).
    init(url: URL, demuxer: String?, deadline: Deadline) throws(StageFailure) {
        self.url = url
        self.deadline = deadline
        guard var context = avformat_alloc_context() else {
            throw StageFailure(.internalError, "cannot allocate a demuxer context", retryable: true)
        }
        context.pointee.interrupt_callback = deadline.interruptCallback
        var format: UnsafePointer<AVInputFormat>?
        if let demuxer {
            format = av_find_input_format(demuxer)
            if format == nil {
                avformat_free_context(context)
                throw StageFailure(.stageUnavailable, "this FFmpeg build has no '\(demuxer)' demuxer")
            }
        }
        mediad_av_log_clear()
        var options = DemuxPolicy.formatOptions
        options.set("format_whitelist", demuxer ?? DemuxPolicy.allowedDemuxers)
        // "file:" keeps a path with a colon from naming another protocol.
        let status = options.withDictionary { dictionary in
            var opened: UnsafeMutablePointer<AVFormatContext>? = context
            let status = avformat_open_input(&opened, "file:" + url.path, format, &dictionary)
            if let opened { context = opened }
            return status
        }
        // avformat_open_input frees the context itself when it fails.
        guard status >= 0 else {
            throw .av(status, "cannot open \(url.lastPathComponent) as \(demuxer ?? "media")", deadline: deadline)
        }
        self.context = context
        let found = avformat_find_stream_info(context, nil)
        guard found >= 0 else {
            throw .av(found, "cannot read the streams of \(url.lastPathComponent)", deadline: deadline)
        }
    }

    deinit { avformat_close_input(&context) }

    /// The context, for the native code in this folder only; valid while this object lives.
    var formatContext: UnsafeMutablePointer<AVFormatContext> { context! }

    var streamCount: Int { Int(formatContext.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        formatContext.pointee.streams[index]!
    }

    /// The stream a player would pick for `type`; cover art (an attached picture) is not video.
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = av_find_best_stream(formatContext, type, -1, -1, nil, 0)
        guard index >= 0 else { return nil }
        if type == AVMEDIA_TYPE_VIDEO, stream(Int(index)).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 {
            return (0..<streamCount).first {
                let candidate = stream($0).pointee
                return candidate.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                    && candidate.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
            }
        }
        return Int(index)
    }

    /// Reads the next packet; false at the end of the file.
    /// - Throws: `StageFailure` for unreadable data or a timeout.
    func read(into packet: Packet) throws(StageFailure) -> Bool {
        packet.unref()
        moved = true
        let status = av_read_frame(formatContext, packet.pointer)
        if status == AVCode.endOfFile { return false }
        guard status >= 0 else {
            throw .av(status, "cannot read \(url.lastPathComponent)", deadline: deadline)
        }
        return true
    }

    /// Whether reading has moved away from where opening left it (the first packets, which
    /// `avformat_find_stream_info` keeps buffered).
    private(set) var moved = false

    /// Goes back to the first packet. Returns false when this demuxer can't be trusted to
    /// seek exactly to the start (MPEG-TS, AVI): the caller opens the file again instead.
    func rewind() throws(StageFailure) -> Bool {
        guard moved else { return true }
        let name = avString(formatContext.pointee.iformat.pointee.name) ?? ""
        guard name.hasPrefix("mov,") || name.hasPrefix("matroska") else { return false }
        let start = formatContext.pointee.start_time == AVCode.noPTS ? 0 : formatContext.pointee.start_time
        let status = avformat_seek_file(formatContext, -1, Int64.min, start, start, AVSEEK_FLAG_BACKWARD)
        guard status >= 0 else { return false }
        moved = false
        return true
    }

    /// Seeks `stream` to the last keyframe at or before `seconds` (from the stream's start).
    func seek(stream index: Int, toSeconds seconds: Double) throws(StageFailure) {
        moved = true
        let st = stream(index).pointee
        let start = st.start_time == AVCode.noPTS ? 0 : st.start_time
        let target = start + Int64((max(0, seconds) / st.time_base.double).rounded(.down))
        var status = av_seek_frame(formatContext, Int32(index), target, AVSEEK_FLAG_BACKWARD)
        if status < 0 {
            // Some demuxers can't seek backward to a timestamp: go to the start instead.
            status = avformat_seek_file(formatContext, Int32(index), Int64.min, start, start, 0)
        }
        guard status >= 0 else {
            throw .av(status, "cannot seek in \(url.lastPathComponent)", deadline: deadline)
        }
    }
}

/// What demuxers and decoders may run on untrusted input, and the caps they run with.
enum DemuxPolicy {
    /// Demuxers for the formats the sniffer recognises; used when none is pinned. No
    /// playlists (hls, dash, concat), no image sequences, no network formats.
    static let allowedDemuxers = "mov,matroska,avi,mpegts,mpeg,ogg,mp3,flac,wav,aac,flv"

    /// Decoders for the codecs phones, cameras and browsers write.
    static let allowedDecoders = [
        "h264", "hevc", "vp8", "vp9", "libvpx-vp9", "av1", "libdav1d", "libaom-av1", "mpeg4", "msmpeg4v3",
        "mpeg2video", "mpeg1video", "mjpeg", "prores", "h263", "theora", "dvvideo",
        "aac", "aac_fixed", "mp3", "mp3float", "mp2", "mp2float", "opus", "libopus", "vorbis", "flac", "alac", "ac3", "eac3",
        "amrnb", "amrwb", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_s32be",
        "pcm_f32le", "pcm_f32be", "pcm_f64le", "pcm_u8", "pcm_mulaw", "pcm_alaw", "adpcm_ima_qt",
    ].joined(separator: ",")

    /// Options every input is opened with.
    static var formatOptions: AVOptions {
        AVOptions([
            ("protocol_whitelist", "file"),
            ("codec_whitelist", allowedDecoders),
            ("probesize", "10000000"),
            ("max_streams", "32"),
        ])
    }

    /// The demuxer for a sniffed format name, or nil when the sniffer's name has no pin.
    static func demuxer(forSniffedFormat format: String) -> String? {
        switch format {
        case "mp4", "mov", "m4a", "3gp", "m4v": "mov"
        case "webm", "mkv": "matroska"
        case "avi", "mpegts", "mpeg", "ogg", "flac", "mp3", "wav", "aac", "flv": format
        default: nil
        }
    }
}
