/* dynbuf: a growable byte buffer with a hard maximum size, always NUL-terminated. */
#ifndef MAC_UTIL_DYNBUF_H
#define MAC_UTIL_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Invariants:
 *  - data is NULL (nothing added yet) or points at alloc bytes of which the
 *    first len hold content and data[len] is '\0';
 *  - len never exceeds max: an append that would pass max fails and leaves
 *    the buffer as it was;
 *  - the buffer owns data until dynbuf_take() hands it to the caller.
 */
struct dynbuf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

enum dynbuf_err {
	DYNBUF_OK = 0,
	DYNBUF_TOO_BIG, /* the append would pass the buffer's maximum */
	DYNBUF_NOMEM,   /* the allocator failed */
};

/* Prepares an empty buffer that will never hold more than max bytes. */
void dynbuf_init(struct dynbuf *b, size_t max);

/* Frees the content and leaves an empty buffer with the same maximum. Accepts NULL. */
void dynbuf_free(struct dynbuf *b);

/* Empties the buffer, keeping its allocation for reuse. */
void dynbuf_reset(struct dynbuf *b);

/* Appends len bytes of mem. On error, nothing is appended. */
enum dynbuf_err dynbuf_add(struct dynbuf *b, const void *mem, size_t len) __attribute__((warn_unused_result));

/* Appends a NUL-terminated string. On error, nothing is appended. */
enum dynbuf_err dynbuf_addstr(struct dynbuf *b, const char *s) __attribute__((warn_unused_result));

/* Appends printf-formatted text. On error, nothing is appended. */
enum dynbuf_err dynbuf_addf(struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));

/* Same as dynbuf_addf() with a va_list. */
enum dynbuf_err dynbuf_vaddf(struct dynbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0), warn_unused_result));

/* Drops the first n bytes (all of them when n >= len), moving the rest to the front. */
void dynbuf_consume(struct dynbuf *b, size_t n);

/*
 * Hands the content to the caller, who frees it with free(). The buffer is
 * left empty. Returns an allocated empty string for an empty buffer, or
 * NULL when that allocation fails. When len is not NULL it receives the length.
 */
char *dynbuf_take(struct dynbuf *b, size_t *len);

/* The content, NUL-terminated; "" for an empty buffer. Borrowed: valid until the next change. */
const char *dynbuf_str(const struct dynbuf *b);

/* Number of content bytes. */
size_t dynbuf_len(const struct dynbuf *b);

#endif
