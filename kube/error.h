/* The kube library's one error enum, the API Status it was decoded from, and detail buffers. */
#ifndef MAC_KUBE_ERROR_H
#define MAC_KUBE_ERROR_H

#include <stddef.h>

#define KUBE_ERRBUF_SIZE 1024

enum kube_err {
	KUBE_OK = 0,
	KUBE_E_INVALID,       /* a bad argument or input (a path, a JSON body) */
	KUBE_E_CONFIG,        /* the kubeconfig or in-cluster configuration is unusable */
	KUBE_E_NOMEM,         /* an allocation failed */
	KUBE_E_IO,            /* a local file could not be read */
	KUBE_E_TOO_LONG,      /* an answer or event passed its size limit */
	KUBE_E_NETWORK,       /* the API server could not be reached, or the connection broke */
	KUBE_E_EXEC,          /* the exec credential plugin failed */
	KUBE_E_UNAUTHORIZED,  /* 401 */
	KUBE_E_FORBIDDEN,     /* 403 */
	KUBE_E_NOT_FOUND,     /* 404 */
	KUBE_E_CONFLICT,      /* 409: already exists, or the object changed (re-read and retry) */
	KUBE_E_GONE,          /* 410: the resourceVersion is too old (relist) */
	KUBE_E_UNPROCESSABLE, /* 422: the object is invalid */
	KUBE_E_TOO_MANY,      /* 429, after the bounded retries */
	KUBE_E_SERVER,        /* 5xx, after the bounded retries */
	KUBE_E_HTTP,          /* any other unexpected status */
	KUBE_E_STOPPED,       /* the caller asked to stop */
};

/* What the API server said about a failed request (its Status object, when it sent one). */
struct kube_status {
	long code;          /* HTTP status */
	char reason[64];    /* Status.reason, e.g. "AlreadyExists", "Conflict", "Expired" */
	char message[512];  /* Status.message */
	long retry_after_s; /* Retry-After or Status.details.retryAfterSeconds, -1 when absent */
};

/* A short, static, lowercase description of err. */
const char *kube_strerror(enum kube_err err);

/* Writes a formatted detail into errbuf (errlen bytes, may be 0) and returns err. */
enum kube_err kube_fail(char *errbuf, size_t errlen, enum kube_err err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The error an HTTP status maps to (KUBE_OK for 2xx). */
enum kube_err kube_err_from_http(long code);

/*
 * Decodes a response body that may be a metav1.Status into st (code from
 * http_code; reason and message from the body when it is a Status). Never
 * fails: a body that is not a Status leaves reason empty and copies the
 * start of the body into message.
 */
void kube_status_parse(const char *body, size_t len, long http_code, struct kube_status *st);

#endif
