/* The controller library's one error enum and its detail buffers. */
#include "controller/error.h"

#include <stdarg.h>

#include "util/errbuf.h"
#include "util/banned.h"

enum ctl_err ctl_fail(char *errbuf, size_t errlen, enum ctl_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(errbuf, errlen, fmt, ap);
	va_end(ap);
	return err;
}
