/* Reading whole small files into capped buffers, and base64 decoding. */
#ifndef MAC_UTIL_FILEIO_H
#define MAC_UTIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/dynbuf.h"

/*
 * Appends the contents of path to out. Returns 0, or an errno value: the
 * open or read error, or EFBIG when the file would pass out's maximum (out
 * then holds a prefix). out stays NUL-terminated.
 */
int file_read_all(const char *path, struct dynbuf *out);

/*
 * Decodes standard base64 (padding required, whitespace ignored) of len
 * bytes into a new buffer (*out, NUL-terminated, *out_len bytes without the
 * NUL) that the caller frees. Returns false on malformed input or when out of
 * memory, leaving *out NULL.
 */
bool base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

#endif
