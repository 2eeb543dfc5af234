/* Error detail buffers: the caller-owned, fixed-size text that goes with a library's error code. */
#include "util/errbuf.h"

#include <stdio.h>
#include "util/banned.h"

void errbuf_vset(char *errbuf, size_t errlen, const char *fmt, va_list ap)
{
	if (errbuf && errlen)
		vsnprintf(errbuf, errlen, fmt, ap);
}

void errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(errbuf, errlen, fmt, ap);
	va_end(ap);
}
