/* The registry library's error descriptions and detail formatting. */
#include "registry/error.h"

#include <stdarg.h>

#include "util/errbuf.h"
#include "util/banned.h"

const char *reg_strerror(enum reg_err err)
{
	switch (err) {
	case REG_OK:
		return "success";
	case REG_E_INVALID:
		return "invalid input";
	case REG_E_TOO_LONG:
		return "input too long";
	case REG_E_NOMEM:
		return "out of memory";
	case REG_E_IO:
		return "local i/o error";
	case REG_E_NETWORK:
		return "registry unreachable";
	case REG_E_HTTP:
		return "unexpected registry answer";
	case REG_E_AUTH:
		return "authentication failed";
	case REG_E_NOT_FOUND:
		return "not found";
	case REG_E_DIGEST:
		return "digest mismatch";
	case REG_E_CONFLICT:
		return "conflicting sources";
	case REG_E_UNSUPPORTED:
		return "unsupported";
	}
	return "unknown error";
}

enum reg_err reg_fail(char *errbuf, size_t errlen, enum reg_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(errbuf, errlen, fmt, ap);
	va_end(ap);
	return err;
}
