/* Text into caller-owned fixed-size buffers, cut to fit. */
#include "util/text.h"

#include <stdarg.h>
#include <stdio.h>
#include "util/banned.h"

void text_copy(char *dst, size_t len, const char *src)
{
	if (len > 0)
		snprintf(dst, len, "%s", src ? src : "");
}

void text_format(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}
