import CFFmpeg
import CFFmpegShims

/// Process-wide FFmpeg set-up and capabilities, established once.
enum VideoRuntime {
    /// Routes libav* logging into per-thread capture (messages end up in stage errors).
    static let setUp: Void = {
        mediad_av_log_capture_install(AV_LOG_ERROR)
    }()

    /// Whether this FFmpeg build has zscale (Debian's does, through libzimg).
    static let zscaleAvailable: Bool = avfilter_get_by_name("zscale") != nil
}
