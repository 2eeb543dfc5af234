/* What a reconcile works with: the view of the world it reads, the writer through which it changes it, its options
 * and what came of it. Shared by the reconcile, its steps and the controller that runs it. */
#ifndef MAC_CONTROLLER_RECONCILETYPES_H
#define MAC_CONTROLLER_RECONCILETYPES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "controller/children.h"
#include "controller/error.h"
#include "controller/phases.h"

/* What a write to the API server came to. */
enum ctl_write {
	CTL_WRITE_OK,       /* done */
	CTL_WRITE_EXISTS,   /* a create found the name taken: by an earlier reconcile, since names are deterministic */
	CTL_WRITE_GONE,     /* a delete or status write found nothing (already deleted) */
	CTL_WRITE_REFUSED,  /* the API server refused the object (invalid, forbidden): retrying cannot help */
	CTL_WRITE_CONFLICT, /* the object changed since the cache saw it: re-read and requeue */
	CTL_WRITE_FAILED,   /* a transient failure, or no longer the leader: requeue with backoff */
	CTL_WRITE_PENDING,  /* sent, not answered yet: the reconcile goes on as if it were done, writes no status, and
			       runs again once every write is answered, with the answers (see inflight.h) */
};

/* Which of the writer's calls a write is, for what is counted of it. */
enum ctl_write_kind {
	CTL_WRITE_KIND_CREATE,
	CTL_WRITE_KIND_DELETE,
	CTL_WRITE_KIND_STATUS,
};

/*
 * How a reconcile changes the world. controller.c sends these to the API
 * server (and writes the answers through to its caches); the unit tests
 * record them. Objects passed in are borrowed; err receives a one-line reason.
 */
struct ctl_writer {
	enum ctl_write (*create)(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen);
	enum ctl_write (*remove)(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen);
	enum ctl_write (*write_status)(void *ctx, const cJSON *build, const cJSON *status, char *err, size_t errlen);
	void (*event)(void *ctx, const cJSON *build, bool warning, const char *reason, const char *note);
	/* reads the child kind ns/name into *out (the caller's); GONE when there is none; may be NULL (no reads) */
	enum ctl_write (*read)(void *ctx, const char *kind, const char *ns, const char *name, cJSON **out, char *err, size_t errlen);
	void *ctx;
};

struct ctl_reconcile_options {
	struct ctl_child_options children;
	double retry_base_s;   /* wait before a platform's second attempt; doubles per attempt (default 10) */
	double retry_max_s;    /* at most (default 300) */
	double status_batch_s; /* a platform that succeeded while others still build is written within this (default 5) */
};

/* The world as the caches show it. Everything is borrowed. */
struct ctl_view {
	const cJSON *build;
	const cJSON *const *pods; /* the build's pods (build and index), any generation */
	size_t pod_count;
	const cJSON *const *jobs; /* the build's Jobs */
	size_t job_count;
	/* whether a usable node carries every label of selector and admits tolerations (controller/nodes.h) */
	bool (*any_node_fits)(void *ctx, const cJSON *selector, const cJSON *tolerations);
	void *nodes_ctx;
	/* whether the build may make its first pods now, under the bound on builds in flight (at most in_flight_max);
	   asked at most once a reconcile; NULL: always */
	bool (*may_start)(void *ctx);
	void *start_ctx;
	size_t in_flight_max;
	time_t now;
};

/* What came of a reconcile, for the work queue and the logs. */
struct ctl_outcome {
	double requeue_after_s; /* >= 0: reconcile again after this long (a timeout, a retry backoff, a batched write) */
	bool retry;             /* a write failed or conflicted: requeue with the key's backoff */
	bool status_written;
	bool results_held;   /* a platform's success read from its pod waits to be written (status_batch_s) */
	bool writes_pending; /* a write answered CTL_WRITE_PENDING: the key runs again once the answers are in */
	bool status_pending; /* the status write is one of them */
	unsigned creates;
	unsigned deletes;
	enum ctl_phase phase;     /* the build's phase afterwards */
	char waiting_arches[160]; /* " arm64 s390x ": the architectures its platforms wait for nodes of; "" when none */
	char error[CTL_ERRBUF_SIZE];
};

#endif
