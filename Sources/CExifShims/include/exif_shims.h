#ifndef MEDIAD_EXIF_SHIMS_H
#define MEDIAD_EXIF_SHIMS_H

#include <libexif/exif-data.h>

/// The entry for `tag` in one IFD (ExifIfd), or NULL. GPS tag numbers overlap IFD0's,
/// so lookups always name the IFD (exif_data_get_entry is a macro that searches all).
ExifEntry *mediad_exif_entry(ExifData *data, int ifd, int tag);

#endif
