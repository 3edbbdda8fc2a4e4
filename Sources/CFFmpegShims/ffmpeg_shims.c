#include "ffmpeg_shims.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libavutil/log.h>
#include <libavutil/time.h>

int mediad_av_error_again(void) { return AVERROR(EAGAIN); }
int mediad_av_error_eof(void) { return AVERROR_EOF; }
int mediad_av_error_exit(void) { return AVERROR_EXIT; }
int mediad_av_error_invalid_data(void) { return AVERROR_INVALIDDATA; }
int mediad_av_error_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
int mediad_av_error_posix(int posix_errno) { return AVERROR(posix_errno); }
int64_t mediad_av_nopts_value(void) { return AV_NOPTS_VALUE; }

int mediad_av_deadline_interrupt(void *opaque) {
    const mediad_av_deadline *deadline = opaque;
    return deadline != NULL && av_gettime_relative() > deadline->deadline_us;
}

// One message per thread: stages run on several worker threads at once, and a message
// belongs to the call that failed on this thread. Codec worker threads log on their own.
static _Thread_local char last_message[512];
static volatile int capture_level = AV_LOG_ERROR;

static void capture_callback(void *avcl, int level, const char *fmt, va_list args) {
    if (level > capture_level) return;
    int print_prefix = 1;
    char line[sizeof(last_message)];
    av_log_format_line2(avcl, level, fmt, args, line, sizeof(line), &print_prefix);
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = '\0';
    if (length == 0) return;
    memcpy(last_message, line, length + 1);
}

void mediad_av_log_capture_install(int level) {
    capture_level = level;
    av_log_set_level(level);
    av_log_set_callback(capture_callback);
}

const char *mediad_av_log_last(void) { return last_message; }

void mediad_av_log_clear(void) { last_message[0] = '\0'; }
