#ifndef MEDIAD_FILE_SHIMS_H
#define MEDIAD_FILE_SHIMS_H

#include <stddef.h>
#include <sys/types.h>

/// Extended attributes of a file, which Glibc's Swift module does not export
/// (<sys/xattr.h> is outside it). Each returns what the libc call does and sets errno.
int mediad_set_attribute(const char *path, const char *name, const void *value, size_t size);
ssize_t mediad_get_attribute(const char *path, const char *name, void *value, size_t size);

#endif
