/* Text into caller-owned fixed-size buffers: always NUL-terminated, cut at the buffer's end, NULL read as "". */
#ifndef MAC_UTIL_TEXT_H
#define MAC_UTIL_TEXT_H

#include <stddef.h>

/* Copies src (NULL as "") into dst of len bytes, cut to fit. */
void text_copy(char *dst, size_t len, const char *src);

/* Formats into dst of len bytes, cut to fit. */
void text_format(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
