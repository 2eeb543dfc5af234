/* dynbuf: a growable byte buffer with a hard maximum size, always NUL-terminated. */
#include "util/dynbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/banned.h"

#define DYNBUF_MIN_ALLOC 64

void dynbuf_init(struct dynbuf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void dynbuf_free(struct dynbuf *b)
{
	if (!b)
		return;
	free(b->data);
	dynbuf_init(b, b->max);
}

void dynbuf_reset(struct dynbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for extra more bytes plus the terminating NUL. */
static enum dynbuf_err dynbuf_reserve(struct dynbuf *b, size_t extra)
{
	size_t need, grow;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return DYNBUF_TOO_BIG;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return DYNBUF_OK;
	grow = b->alloc ? b->alloc : DYNBUF_MIN_ALLOC;
	while (grow < need)
		grow = grow > SIZE_MAX / 2 ? need : grow * 2;
	if (grow > b->max + 1)
		grow = b->max + 1;
	p = realloc(b->data, grow);
	if (!p)
		return DYNBUF_NOMEM;
	b->data = p;
	b->alloc = grow;
	return DYNBUF_OK;
}

enum dynbuf_err dynbuf_add(struct dynbuf *b, const void *mem, size_t len)
{
	enum dynbuf_err err = dynbuf_reserve(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->data + b->len, mem, len);
	b->len += len;
	b->data[b->len] = '\0';
	return DYNBUF_OK;
}

enum dynbuf_err dynbuf_addstr(struct dynbuf *b, const char *s)
{
	return dynbuf_add(b, s, strlen(s));
}

enum dynbuf_err dynbuf_vaddf(struct dynbuf *b, const char *fmt, va_list ap)
{
	va_list copy;
	enum dynbuf_err err;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return DYNBUF_NOMEM;
	err = dynbuf_reserve(b, (size_t)n);
	if (err)
		return err;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return DYNBUF_OK;
}

enum dynbuf_err dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	enum dynbuf_err err;

	va_start(ap, fmt);
	err = dynbuf_vaddf(b, fmt, ap);
	va_end(ap);
	return err;
}

void dynbuf_consume(struct dynbuf *b, size_t n)
{
	if (n >= b->len) {
		dynbuf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
	char *out = b->data;

	if (len)
		*len = b->len;
	if (!out)
		out = calloc(1, 1);
	dynbuf_init(b, b->max);
	return out;
}

const char *dynbuf_str(const struct dynbuf *b)
{
	return b->data ? b->data : "";
}

size_t dynbuf_len(const struct dynbuf *b)
{
	return b->len;
}
