/* The controller library's one error enum and its detail buffers. */
#ifndef MAC_CONTROLLER_ERROR_H
#define MAC_CONTROLLER_ERROR_H

#include <stddef.h>

#define CTL_ERRBUF_SIZE 1024

enum ctl_err {
	CTL_OK = 0,
	CTL_E_INVALID,    /* a resource the schema let through but the controller cannot act on */
	CTL_E_NOMEM,      /* an allocation failed */
	CTL_E_STARTUP,    /* the controller could not start (threads, caches) */
	CTL_E_LEADERSHIP, /* the lease was lost: the process must stop writing and exit */
};

/* Writes a formatted detail into errbuf (errlen bytes, may be 0) and returns err. */
enum ctl_err ctl_fail(char *errbuf, size_t errlen, enum ctl_err err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
