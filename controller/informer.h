/* An informer: one reflector thread per collection it watches (a kind in each of a list of namespaces, or in all),
 * keeping one store of that kind current and reporting every change to a handler, which only enqueues keys. */
#ifndef MAC_CONTROLLER_INFORMER_H
#define MAC_CONTROLLER_INFORMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "controller/store.h"
#include "kube/client.h"
#include "kube/watch.h"

#define CTL_INFORMER_SOURCES_MAX 16 /* namespaces one informer watches */

typedef void (*ctl_change_fn)(void *ctx, const struct ctl_obj *obj, bool deleted);

struct ctl_informer;

/* One collection an informer lists and watches: its path and the namespace its lists replace in the store. */
struct ctl_informer_source {
	char path[KUBE_PATH_MAX];      /* collection path, with its label selector */
	char scope[CTL_SCOPE_MAX + 1]; /* the namespace of path, "" for all */
	struct ctl_informer *inf;
	struct kube_reflector reflector;
	atomic_bool synced; /* its first full list is in the store */
	pthread_t thread;
	bool running;
};

struct ctl_informer {
	/* set before ctl_informer_start(); sources with ctl_informer_add_source() */
	struct kube_client *client;
	ctl_change_fn on_change; /* called from the sources' threads for every added, changed or removed object (borrowed) */
	void *ctx;
	long watch_min_s;
	enum ctl_store_form form; /* how the store keeps objects: see ctl_store_new() */
	ctl_group_fn group_of;    /* may be NULL: see ctl_store_new() */
	/* may be NULL (a full copy is kept): returns a new object holding only what the controller reads */
	cJSON *(*slim)(const cJSON *object);
	struct ctl_informer_source sources[CTL_INFORMER_SOURCES_MAX];
	size_t source_count;

	/* owned state */
	struct ctl_store *store;
	atomic_int stop;
	pthread_mutex_t error_lock; /* guards error, written by the sources' threads */
	bool error_lock_ready;
	char error[KUBE_ERRBUF_SIZE]; /* the last list or watch failure, "" when none: read with ctl_informer_error() */
};

/* Adds the collection path (of namespace scope, "" for a cluster-wide path) to watch; false when full or too long. */
bool ctl_informer_add_source(struct ctl_informer *inf, const char *path, const char *scope);

/* The first source's path, for messages ("" for none). */
const char *ctl_informer_path(const struct ctl_informer *inf);

/* Creates the store and starts one thread a source. Returns false when either cannot be made (nothing runs then). */
bool ctl_informer_start(struct ctl_informer *inf);

/* Waits until every source synced, *stop, or timeout_s passes. Returns whether all synced. */
bool ctl_informer_wait_synced(struct ctl_informer *inf, double timeout_s, const atomic_int *stop);

/* The reflectors' counts, summed over the sources: full lists, watches started, watches ended by 410 Gone. */
struct ctl_informer_counts {
	unsigned lists, watches, gone;
};
struct ctl_informer_counts ctl_informer_counts(const struct ctl_informer *inf);

/* Copies the informer's last list or watch failure into buf ("" when there was none); safe from any thread. */
void ctl_informer_error(struct ctl_informer *inf, char *buf, size_t len);

/* Stops the threads (within about a second) and frees the store. */
void ctl_informer_stop(struct ctl_informer *inf);

#endif
