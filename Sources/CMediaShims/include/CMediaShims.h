#ifndef CMEDIASHIMS_H
#define CMEDIASHIMS_H
// Umbrella header: one header per native library, so each wrapper module's shims stay apart.
#include "vips_shims.h"
#include "exif_shims.h"
#include "ffmpeg_shims.h"
#include "rdkafka_shims.h"
#endif
