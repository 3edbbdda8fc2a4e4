import CFFmpeg
import CFFmpegShims
import PipelineEngine

/// FFmpeg's error codes that are macros in C, read once through the shims.
enum AVCode {
    static let again = mediad_av_error_again()
    static let endOfFile = mediad_av_error_eof()
    static let exit = mediad_av_error_exit()
    static let invalidData = mediad_av_error_invalid_data()
    static let decoderNotFound = mediad_av_error_decoder_not_found()
    static let outOfMemory = mediad_av_error_posix(ENOMEM)
    static let noPTS = mediad_av_nopts_value()

    /// `av_strerror`'s text for `code`.
    static func describe(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The last error libav* logged on this thread, if any ("moov atom not found").
    static var lastLogLine: String? {
        let line = String(cString: mediad_av_log_last())
        return line.isEmpty ? nil : line
    }
}

extension StageFailure {
    /// The one place an AVERROR becomes a `StageFailure`: the code says what kind of failure
    /// it is (`fallback` for data the demuxer or decoder rejects), the message says what was
    /// being done, `av_strerror`'s text, and the last line libav* logged on this thread.
    ///
    /// Any failure once the stage's deadline has passed is a timeout: the interrupt callback
    /// makes I/O return AVERROR_EXIT, but demuxers often report that as bad data.
    static func av(_ code: Int32, _ doing: String, deadline: Deadline?, fallback: Code = .corruptFile) -> StageFailure {
        if let deadline, deadline.expired {
            return deadline.failure(doing)
        }
        var message = "\(doing): \(AVCode.describe(code))"
        if let line = AVCode.lastLogLine, !message.contains(line) { message += " (\(line))" }
        switch code {
        case AVCode.outOfMemory:
            return StageFailure(.internalError, message, retryable: true)
        case mediad_av_error_posix(EIO), mediad_av_error_posix(ENOSPC), mediad_av_error_posix(EACCES),
             mediad_av_error_posix(ENOENT), mediad_av_error_posix(EROFS):
            return StageFailure(.ioError, message, retryable: code == mediad_av_error_posix(EIO))
        default:
            return StageFailure(fallback, message)
        }
    }
}

/// Builds an `AVDictionary` of options and frees whatever the callee did not consume.
struct AVOptions {
    private(set) var entries: [(String, String)] = []

    init(_ entries: [(String, String)] = []) { self.entries = entries }

    mutating func set(_ key: String, _ value: String) { entries.append((key, value)) }
    mutating func set(_ key: String, _ value: Int64) { entries.append((key, String(value))) }

    /// Calls `body` with a fresh dictionary pointer; unknown options left in it are ignored.
    func withDictionary<R>(_ body: (inout OpaquePointer?) -> R) -> R {
        var dictionary: OpaquePointer?
        for (key, value) in entries { av_dict_set(&dictionary, key, value, 0) }
        defer { av_dict_free(&dictionary) }
        return body(&dictionary)
    }
}

extension AVRational {
    var double: Double { den == 0 ? 0 : Double(num) / Double(den) }
    var isValid: Bool { num > 0 && den > 0 }
}

/// A C string owned by FFmpeg (a name), or nil.
func avString(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    let text = String(cString: pointer)
    return text.isEmpty ? nil : text
}
