/* The registry library's one error enum, and the size of its detail buffers. */
#ifndef MAC_REGISTRY_ERROR_H
#define MAC_REGISTRY_ERROR_H

#include <stddef.h>

/* Size of the caller-supplied buffer that receives an error's detail, NUL included. */
#define REG_ERRBUF_SIZE 256

enum reg_err {
	REG_OK = 0,
	REG_E_INVALID,  /* the input does not follow its grammar */
	REG_E_TOO_LONG, /* the input passes a documented size limit */
	REG_E_NOMEM,    /* an allocation failed */
};

/* A short, static, lowercase description of err. */
const char *reg_strerror(enum reg_err err);

/* Writes a formatted detail into errbuf (errlen bytes, may be 0) and returns err. */
enum reg_err reg_fail(char *errbuf, size_t errlen, enum reg_err err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
