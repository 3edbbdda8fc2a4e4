#include <stddef.h>
#include "exif_shims.h"

ExifEntry *mediad_exif_entry(ExifData *data, int ifd, int tag) {
    if (!data || ifd < 0 || ifd >= EXIF_IFD_COUNT || !data->ifd[ifd]) {
        return NULL;
    }
    return exif_content_get_entry(data->ifd[ifd], (ExifTag)tag);
}
