#include "ffmpeg_shims.h"
