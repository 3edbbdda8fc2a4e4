import CFFmpeg
import CFFmpegShims
import Foundation
import PipelineEngine

/// Owns an output `AVFormatContext` writing an MP4 to a temporary path. `finish()` writes the
/// trailer (and, with fast start, moves the moov atom to the front); only then does the caller
/// rename the file into place, so a failed or stopped transcode leaves nothing that looks done.
final class OutputFile {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private var headerWritten = false
    let url: URL
    let deadline: Deadline

    init(url: URL, format: String, deadline: Deadline) throws(StageFailure) {
        self.url = url
        self.deadline = deadline
        var context: UnsafeMutablePointer<AVFormatContext>?
        // "file:" here too: the fast-start pass reopens the file by this name.
        let status = avformat_alloc_output_context2(&context, nil, format, "file:" + url.path)
        guard status >= 0, let context else {
            throw .av(status, "cannot create a \(format) muxer", deadline: deadline, fallback: .internalError)
        }
        self.context = context
        context.pointee.interrupt_callback = deadline.interruptCallback
        // The fast-start pass reopens the file through the context's own I/O: files only.
        context.pointee.protocol_whitelist = av_strdup("file")
        var io: UnsafeMutablePointer<AVIOContext>?
        var callback = deadline.interruptCallback
        let opened = AVOptions([("protocol_whitelist", "file")]).withDictionary {
            avio_open2(&io, "file:" + url.path, AVIO_FLAG_WRITE, &callback, &$0)
        }
        guard opened >= 0 else {
            throw .av(opened, "cannot create \(url.lastPathComponent)", deadline: deadline, fallback: .ioError)
        }
        context.pointee.pb = io
    }

    deinit {
        if let context {
            avio_closep(&context.pointee.pb)
            avformat_free_context(context)
        }
    }

    var formatContext: UnsafeMutablePointer<AVFormatContext> { context! }

    /// Whether encoders must put their headers in extradata (MP4 does).
    var needsGlobalHeader: Bool { formatContext.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    /// Adds a stream; returns its index.
    func addStream() throws(StageFailure) -> Int {
        guard let stream = avformat_new_stream(formatContext, nil) else {
            throw StageFailure(.internalError, "cannot add an output stream", retryable: true)
        }
        return Int(stream.pointee.index)
    }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> { formatContext.pointee.streams[index]! }

    /// Writes the header; stream time bases may change here (read them afterwards).
    func writeHeader(options: AVOptions) throws(StageFailure) {
        mediad_av_log_clear()
        let status = options.withDictionary { avformat_write_header(formatContext, &$0) }
        guard status >= 0 else {
            throw .av(status, "cannot write the \(url.pathExtension) header", deadline: deadline, fallback: .encodeFailed)
        }
        headerWritten = true
    }

    /// Writes one packet (its payload is taken); the muxer interleaves streams.
    func write(_ packet: Packet) throws(StageFailure) {
        let status = av_interleaved_write_frame(formatContext, packet.pointer)
        guard status >= 0 else {
            throw .av(status, "cannot write \(url.lastPathComponent)", deadline: deadline, fallback: .encodeFailed)
        }
    }

    /// Writes the trailer and closes the file.
    func finish() throws(StageFailure) {
        guard headerWritten else { return }
        mediad_av_log_clear()
        let status = av_write_trailer(formatContext)
        headerWritten = false
        guard status >= 0 else {
            throw .av(status, "cannot finish \(url.lastPathComponent)", deadline: deadline, fallback: .encodeFailed)
        }
        let closed = avio_closep(&formatContext.pointee.pb)
        guard closed >= 0 else {
            throw .av(closed, "cannot close \(url.lastPathComponent)", deadline: deadline, fallback: .ioError)
        }
    }
}
