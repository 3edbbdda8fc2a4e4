#ifndef MEDIAD_FFMPEG_SHIMS_H
#define MEDIAD_FFMPEG_SHIMS_H

// What Swift cannot import from FFmpeg's headers: function-like macros (AVERROR, AVERROR_EOF,
// AV_NOPTS_VALUE), and the variadic log callback. Everything else is called directly.
#include <stdint.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/time.h>

/// AVERROR(EAGAIN): "send more input" / "no output yet" in the send/receive codec API.
int mediad_av_error_again(void);
/// AVERROR_EOF: the end of a stream (or of a drained codec or filter graph).
int mediad_av_error_eof(void);
/// AVERROR_EXIT: returned when the interrupt callback stopped a blocking call.
int mediad_av_error_exit(void);
/// AVERROR_INVALIDDATA: the bytes are not what the demuxer or decoder expects.
int mediad_av_error_invalid_data(void);
/// AVERROR_DECODER_NOT_FOUND and friends, for messages.
int mediad_av_error_decoder_not_found(void);
/// AVERROR(errno value).
int mediad_av_error_posix(int posix_errno);
/// AV_NOPTS_VALUE: "no timestamp".
int64_t mediad_av_nopts_value(void);

/// A stage's deadline, read by the AVIOInterruptCB of every context that stage opens and
/// by its decode/encode loops. `deadline_us` is on av_gettime_relative()'s monotonic clock.
typedef struct {
    int64_t deadline_us;
} mediad_av_deadline;

/// An AVIOInterruptCB callback: non-zero (stop) once `opaque`'s deadline has passed.
/// `opaque` must point to a mediad_av_deadline that outlives the context.
int mediad_av_deadline_interrupt(void *opaque);

/// Routes libav* logging through a callback that keeps the last message at or above
/// `level` per thread (so a failure can say "moov atom not found" instead of a bare code)
/// and prints nothing. Call once; later calls only change the level.
void mediad_av_log_capture_install(int level);
/// The last captured message on this thread ("" when none), without its trailing newline.
const char *mediad_av_log_last(void);
/// Forgets this thread's captured message before a new native call.
void mediad_av_log_clear(void);

#endif
