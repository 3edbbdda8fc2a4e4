#ifndef MEDIAD_VIPS_SHIMS_H
#define MEDIAD_VIPS_SHIMS_H

#include <vips/vips.h>

/// VIPS_INIT is a macro; this runs it once.
int mediad_vips_init(const char *argv0);

/// Opens an image lazily (header only until pixels are asked for).
/// `access` is a VipsAccess, `fail_on` a VipsFailOn; `n` pages from `page` (-1 = all pages).
VipsImage *mediad_vips_open(const char *filename, int access, int fail_on, int page, int n);

/// Options for vips_thumbnail, passed as one struct so Swift calls a fixed signature.
typedef struct {
    int width;
    int height;
    int size;            // VipsSize
    int crop;            // VipsInteresting
    int no_rotate;       // gboolean
    int fail_on;         // VipsFailOn
    int export_srgb;     // 1: colour-manage to sRGB through the embedded (or fallback) profile;
                         // 0: keep the source colour space and its profile
    int import_cmyk;     // with export_srgb, the fallback profile for untagged images:
                         // 1: libvips' CMYK profile, 0: sRGB (libvips' own default shifts colours)
    int intent;          // VipsIntent
} mediad_thumbnail_options;

int mediad_vips_thumbnail(const char *filename, VipsImage **out, const mediad_thumbnail_options *options);
int mediad_vips_thumbnail_image(VipsImage *in, VipsImage **out, const mediad_thumbnail_options *options);
/* Resizes an already rendered image to exactly width x height with one Lanczos3 reduce and no
 * block shrink before it (libvips' default halves first with a box filter, which costs three
 * times as much on a rendered base). Alpha is premultiplied around the resize. */
int mediad_vips_resize_to(VipsImage *in, VipsImage **out, int width, int height);

int mediad_vips_jpegsave(VipsImage *in, const char *filename, int quality, int strip, int interlace);
int mediad_vips_webpsave(VipsImage *in, const char *filename, int quality, int strip, int effort);
int mediad_vips_heifsave(VipsImage *in, const char *filename, int quality, int strip, int av1, int effort);
int mediad_vips_pngsave(VipsImage *in, const char *filename, int strip);

int mediad_vips_flatten(VipsImage *in, VipsImage **out, double red, double green, double blue);
int mediad_vips_colourspace(VipsImage *in, VipsImage **out, int interpretation);
int mediad_vips_cast(VipsImage *in, VipsImage **out, int format);
int mediad_vips_addalpha(VipsImage *in, VipsImage **out);
int mediad_vips_resize(VipsImage *in, VipsImage **out, double scale, double vscale);
int mediad_vips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
int mediad_vips_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile, const char *input_profile);

/// A new image sharing pixels with `in` but with its own metadata (safe to edit).
int mediad_vips_copy(VipsImage *in, VipsImage **out);

/// Arms a deadline on `image` and everything computed from it: past `deadline_us`
/// (g_get_monotonic_time clock) libvips is told to stop and the save fails.
void mediad_vips_set_deadline(VipsImage *image, gint64 deadline_us);

/// Enables or blocks one loader class by name (e.g. "VipsForeignLoadSvg").
void mediad_vips_operation_block(const char *name, int block);

/// g_object_unref through a VipsImage pointer (G_OBJECT is a macro).
void mediad_vips_unref(VipsImage *image);

/// Receives libvips' log lines (warnings about damaged files) instead of stderr.
typedef void (*mediad_vips_log_callback)(int level, const char *message);
void mediad_vips_set_log_handler(mediad_vips_log_callback callback);

#endif
