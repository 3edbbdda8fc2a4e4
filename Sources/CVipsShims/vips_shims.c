#include "vips_shims.h"

int mediad_vips_init(const char *argv0) {
    return VIPS_INIT(argv0);
}

VipsImage *mediad_vips_open(const char *filename, int access, int fail_on, int page, int n) {
    // Only loaders with these options get them: pass page/n only when asked, so that
    // formats without pages (jpeg, png) still open.
    if (n == 1 && page == 0) {
        return vips_image_new_from_file(filename, "access", access, "fail_on", fail_on, NULL);
    }
    return vips_image_new_from_file(filename, "access", access, "fail_on", fail_on,
                                    "page", page, "n", n, NULL);
}

#define THUMBNAIL_OPTIONS(o) \
    "height", (o)->height, "size", (o)->size, "crop", (o)->crop, \
    "no_rotate", (o)->no_rotate, "intent", (o)->intent

int mediad_vips_thumbnail(const char *filename, VipsImage **out, const mediad_thumbnail_options *o) {
    if (o->export_srgb) {
        return vips_thumbnail(filename, out, o->width, THUMBNAIL_OPTIONS(o), "fail_on", o->fail_on,
                              "import_profile", o->import_cmyk ? "cmyk" : "srgb", "export_profile", "srgb", NULL);
    }
    return vips_thumbnail(filename, out, o->width, THUMBNAIL_OPTIONS(o), "fail_on", o->fail_on, NULL);
}

int mediad_vips_thumbnail_image(VipsImage *in, VipsImage **out, const mediad_thumbnail_options *o) {
    if (o->export_srgb) {
        return vips_thumbnail_image(in, out, o->width, THUMBNAIL_OPTIONS(o),
                                    "import_profile", o->import_cmyk ? "cmyk" : "srgb", "export_profile", "srgb", NULL);
    }
    return vips_thumbnail_image(in, out, o->width, THUMBNAIL_OPTIONS(o), NULL);
}

int mediad_vips_resize_to(VipsImage *in, VipsImage **out, int width, int height) {
    double hscale = (double)width / in->Xsize;
    double vscale = (double)height / in->Ysize;
    if (!vips_image_hasalpha(in)) {
        return vips_resize(in, out, hscale, "vscale", vscale, "gap", 0.0, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
    }
    VipsImage *premultiplied = NULL, *resized = NULL, *straight = NULL;
    int result = -1;
    if (!vips_premultiply(in, &premultiplied, NULL) &&
        !vips_resize(premultiplied, &resized, hscale, "vscale", vscale, "gap", 0.0, "kernel", VIPS_KERNEL_LANCZOS3, NULL) &&
        !vips_unpremultiply(resized, &straight, NULL) &&
        !vips_cast(straight, out, in->BandFmt, NULL)) {
        result = 0;
    }
    if (premultiplied) g_object_unref(premultiplied);
    if (resized) g_object_unref(resized);
    if (straight) g_object_unref(straight);
    return result;
}

int mediad_vips_jpegsave(VipsImage *in, const char *filename, int quality, int strip, int interlace) {
    return vips_jpegsave(in, filename, "Q", quality, "strip", strip, "interlace", interlace,
                         "optimize_coding", TRUE, NULL);
}

int mediad_vips_webpsave(VipsImage *in, const char *filename, int quality, int strip, int effort) {
    return vips_webpsave(in, filename, "Q", quality, "strip", strip, "effort", effort, NULL);
}

int mediad_vips_heifsave(VipsImage *in, const char *filename, int quality, int strip, int av1, int effort) {
    return vips_heifsave(in, filename, "Q", quality, "strip", strip,
                         "compression", av1 ? VIPS_FOREIGN_HEIF_COMPRESSION_AV1 : VIPS_FOREIGN_HEIF_COMPRESSION_HEVC,
                         "effort", effort, NULL);
}

int mediad_vips_pngsave(VipsImage *in, const char *filename, int strip) {
    return vips_pngsave(in, filename, "strip", strip, NULL);
}

int mediad_vips_flatten(VipsImage *in, VipsImage **out, double red, double green, double blue) {
    double background[3] = {red, green, blue};
    VipsArrayDouble *array = vips_array_double_new(background, 3);
    int result = vips_flatten(in, out, "background", array, NULL);
    vips_area_unref(VIPS_AREA(array));
    return result;
}

int mediad_vips_colourspace(VipsImage *in, VipsImage **out, int interpretation) {
    return vips_colourspace(in, out, (VipsInterpretation)interpretation, NULL);
}

int mediad_vips_cast(VipsImage *in, VipsImage **out, int format) {
    return vips_cast(in, out, (VipsBandFormat)format, NULL);
}

int mediad_vips_addalpha(VipsImage *in, VipsImage **out) {
    return vips_addalpha(in, out, NULL);
}

int mediad_vips_resize(VipsImage *in, VipsImage **out, double scale, double vscale) {
    return vips_resize(in, out, scale, "vscale", vscale, NULL);
}

int mediad_vips_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

int mediad_vips_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile, const char *input_profile) {
    if (input_profile) {
        return vips_icc_transform(in, out, output_profile, "input_profile", input_profile, "embedded", TRUE, NULL);
    }
    return vips_icc_transform(in, out, output_profile, "embedded", TRUE, NULL);
}

int mediad_vips_copy(VipsImage *in, VipsImage **out) {
    return vips_copy(in, out, NULL);
}

static void mediad_vips_eval(VipsImage *image, VipsProgress *progress, void *user_data) {
    (void)progress;
    gint64 deadline = (gint64)(intptr_t)user_data;
    if (g_get_monotonic_time() > deadline) {
        vips_image_set_kill(image, TRUE);
    }
}

void mediad_vips_set_deadline(VipsImage *image, gint64 deadline_us) {
    vips_image_set_progress(image, TRUE);
    g_signal_connect(image, "eval", G_CALLBACK(mediad_vips_eval), (void *)(intptr_t)deadline_us);
}

void mediad_vips_operation_block(const char *name, int block) {
    vips_operation_block_set(name, block ? TRUE : FALSE);
}

void mediad_vips_unref(VipsImage *image) {
    g_object_unref(G_OBJECT(image));
}

static void mediad_vips_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user_data) {
    (void)domain;
    mediad_vips_log_callback callback = (mediad_vips_log_callback)user_data;
    if (callback) {
        callback((int)(level & G_LOG_LEVEL_MASK), message);
    }
}

void mediad_vips_set_log_handler(mediad_vips_log_callback callback) {
    GLogLevelFlags levels = (GLogLevelFlags)(G_LOG_LEVEL_MASK | G_LOG_FLAG_RECURSION);
    g_log_set_handler("VIPS", levels, mediad_vips_log, (gpointer)callback);
}
