/* A GET whose answer is read line by line as it arrives: watches and followed pod logs. */
#ifndef MAC_KUBE_STREAM_H
#define MAC_KUBE_STREAM_H

#include <stdatomic.h>
#include <stddef.h>

#include "kube/client.h"
#include "kube/error.h"
#include "kube/watch.h"

struct kube_stream_options {
	const char *path;       /* an escaped path with its query */
	long timeout_s;         /* the longest the request may take; 0: no bound (the server or stop ends it) */
	size_t max_line;        /* the longest line accepted */
	const atomic_int *stop; /* when it becomes non-zero, the stream ends within a second; may be NULL */
	const char *label;      /* what messages call it ("watch /api/v1/pods"); NULL: "GET <path>" */
};

/*
 * Sends GET o->path and calls fn for each line of a 200 answer (no newline,
 * no trailing CR, never empty) until the server ends it (KUBE_OK), fn returns
 * false or *stop is set (KUBE_E_STOPPED), a line passes max_line
 * (KUBE_E_TOO_LONG), the answer is not 200 (the error of its status, with the
 * API Status reason and message in errbuf) or the connection fails
 * (KUBE_E_NETWORK).
 */
enum kube_err kube_stream_lines(struct kube_client *c, const struct kube_stream_options *o, kube_line_fn fn, void *ctx, char *errbuf,
				size_t errlen);

#endif
