/* Error detail buffers: the caller-owned, fixed-size text that goes with a library's error code. */
#ifndef MAC_UTIL_ERRBUF_H
#define MAC_UTIL_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into errbuf (errlen bytes, truncated, always NUL-terminated); does nothing when errbuf is NULL or errlen 0. */
void errbuf_vset(char *errbuf, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* As errbuf_vset(), with the arguments given directly. */
void errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
