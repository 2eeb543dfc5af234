/* A GET whose answer is read line by line as it arrives (watches, followed pod logs), and the capped line splitter. */
#ifndef MAC_KUBE_STREAM_H
#define MAC_KUBE_STREAM_H

#include <stdatomic.h>
#include <stddef.h>

#include "kube/client.h"
#include "kube/error.h"
#include "util/dynbuf.h"

/* Called for each complete line (no newline, no trailing CR, never empty); return false to stop. */
typedef bool (*kube_line_fn)(void *ctx, const char *line, size_t len);

/* Invariant: buf holds the start of one unfinished line, never a newline, at most max_line bytes. */
struct kube_linebuf {
	struct dynbuf buf;
};

void kube_linebuf_init(struct kube_linebuf *lb, size_t max_line);
void kube_linebuf_free(struct kube_linebuf *lb);

/*
 * Feeds a chunk of a stream: calls fn for every line it completes. Returns
 * KUBE_E_TOO_LONG when a line passes max_line (the rest is not read),
 * KUBE_E_STOPPED when fn returned false, KUBE_OK otherwise. Lines may be
 * split across chunks at any byte.
 */
enum kube_err kube_linebuf_feed(struct kube_linebuf *lb, const char *data, size_t len, kube_line_fn fn, void *ctx);

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
