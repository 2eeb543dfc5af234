/* The registry library's one error enum, and the size of its detail buffers. */
#ifndef MAC_REGISTRY_ERROR_H
#define MAC_REGISTRY_ERROR_H

#include <stddef.h>

/* Size of the caller-supplied buffer that receives an error's detail, NUL included. */
#define REG_ERRBUF_SIZE 1024

enum reg_err {
	REG_OK = 0,
	REG_E_INVALID,     /* the input does not follow its grammar */
	REG_E_TOO_LONG,    /* the input passes a documented size limit */
	REG_E_NOMEM,       /* an allocation failed */
	REG_E_IO,          /* a local file could not be read or written */
	REG_E_NETWORK,     /* the registry could not be reached, or the connection broke, after retries */
	REG_E_HTTP,        /* the registry answered with an unexpected status, after retries */
	REG_E_AUTH,        /* the registry refused our credentials, or asked for ones we do not have */
	REG_E_NOT_FOUND,   /* the registry has no such manifest or blob */
	REG_E_DIGEST,      /* content does not match its digest, or the read-back differs from what was pushed */
	REG_E_CONFLICT,    /* the sources contradict each other or what was asked (same platform twice, wrong platform) */
	REG_E_UNSUPPORTED, /* a valid input this client does not handle (a media type, a credential helper) */
};

/* A short, static, lowercase description of err. */
const char *reg_strerror(enum reg_err err);

/* Writes a formatted detail into errbuf (errlen bytes, may be 0) and returns err. */
enum reg_err reg_fail(char *errbuf, size_t errlen, enum reg_err err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
