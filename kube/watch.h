/* Watches: newline-delimited JSON events split with a capped buffer, bookmarks, resume by resourceVersion,
 * and the list-then-watch reflector that relists on 410 Gone and backs off on connection errors. */
#ifndef MAC_KUBE_WATCH_H
#define MAC_KUBE_WATCH_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "kube/stream.h"
#include "kube/error.h"
#include "util/dynbuf.h"

#define KUBE_EVENT_MAX ((size_t)16 * 1024 * 1024) /* largest watch event accepted */
#define KUBE_RV_MAX 64

enum kube_event_type {
	KUBE_EV_ADDED,
	KUBE_EV_MODIFIED,
	KUBE_EV_DELETED,
	KUBE_EV_BOOKMARK,
	KUBE_EV_ERROR,
};

/*
 * Parses one watch event line. On success, *root is the parsed event (the
 * caller cJSON_Delete()s it) and *object points inside it. An unknown type,
 * a missing object or malformed JSON is KUBE_E_INVALID.
 */
enum kube_err kube_event_parse(const char *line, size_t len, enum kube_event_type *type, cJSON **root, const cJSON **object);

/* Called for each event; object is borrowed. Return false to stop the watch. */
typedef bool (*kube_event_fn)(void *ctx, enum kube_event_type type, const cJSON *object);

struct kube_watch_options {
	const char *path;             /* a collection path, may carry labelSelector/fieldSelector */
	const char *resource_version; /* where to start ("" or NULL: from now) */
	long timeout_s;               /* the server ends the watch after this; 0: 300 */
	const atomic_int *stop;       /* when it becomes non-zero, the watch ends within a second */
};

/*
 * Watches until the server ends it (KUBE_OK), the resourceVersion is too
 * old (KUBE_E_GONE, as an HTTP 410 or an ERROR event), fn or *stop ends it
 * (KUBE_E_STOPPED), or the connection fails. Bookmarks are asked for and
 * passed to fn. last_rv (rv_len bytes) is updated with every event's
 * resourceVersion, so a new watch can resume there.
 */
enum kube_err kube_watch(struct kube_client *c, const struct kube_watch_options *o, kube_event_fn fn, void *ctx, char *last_rv,
			 size_t rv_len, char *errbuf, size_t errlen);

/* What a reflector tells its owner. object is borrowed. */
struct kube_reflector_handlers {
	void (*replace_begin)(void *ctx);                                          /* a full list starts */
	void (*object)(void *ctx, enum kube_event_type type, const cJSON *object); /* listed (ADDED) or watched */
	void (*replace_end)(void *ctx);                                            /* the list is complete: drop what it did not name */
	void (*failed)(void *ctx, const char *error); /* a list or watch failed (error borrowed for the call); may be NULL */
};

/*
 * A list-then-watch loop for one collection. Fill the first block; the rest
 * is state and counters. Invariant: rv is "" exactly when the next step is
 * a (re)list.
 */
struct kube_reflector {
	struct kube_client *client;
	const char *path;
	const struct kube_reflector_handlers *handlers;
	void *ctx;
	const atomic_int *stop;
	long watch_min_s;    /* watches last a random time in [min, 2*min]; 0: 300 */
	unsigned list_limit; /* page size; 0: 500 */

	char rv[KUBE_RV_MAX];
	uint64_t rng;
	/* counters, read by other threads (metrics) while the reflector runs */
	atomic_uint lists;
	atomic_uint watches;
	atomic_uint gone; /* watches that ended in 410 Gone: each is followed by a relist */
	atomic_uint failures;
};

/*
 * Runs until *stop: lists (paginated) then watches from the list's
 * resourceVersion; resumes the watch where it ended; relists on 410 Gone;
 * backs off (0.8 s doubling to 30 s, with jitter) after errors. Returns
 * KUBE_E_STOPPED when stopped.
 */
enum kube_err kube_reflector_run(struct kube_reflector *r, char *errbuf, size_t errlen);

#endif
