/* An informer: a reflector thread that keeps a store of one kind of object current and reports every
 * change to a handler, which only enqueues keys. */
#ifndef MAC_CONTROLLER_INFORMER_H
#define MAC_CONTROLLER_INFORMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "controller/store.h"
#include "kube/client.h"
#include "kube/watch.h"

/* Called from the informer's thread for every added, changed or removed object (borrowed for the call). */
typedef void (*ctl_change_fn)(void *ctx, const struct ctl_obj *obj, bool deleted);

struct ctl_informer {
	/* set before ctl_informer_start() */
	struct kube_client *client;
	char path[KUBE_PATH_MAX]; /* collection path, with its label selector */
	ctl_change_fn on_change;
	void *ctx;
	long watch_min_s;
	enum ctl_store_form form; /* how the store keeps objects: see ctl_store_new() */
	ctl_group_fn group_of;    /* may be NULL: see ctl_store_new() */
	/* may be NULL (a full copy is kept): returns a new object holding only what the controller reads */
	cJSON *(*slim)(const cJSON *object);

	/* owned state */
	struct ctl_store *store;
	struct kube_reflector reflector;
	atomic_int stop;
	atomic_bool synced; /* the first full list is in the store */
	pthread_t thread;
	bool running;
	pthread_mutex_t error_lock; /* guards error, written by the informer's thread */
	bool error_lock_ready;
	char error[KUBE_ERRBUF_SIZE]; /* the last list or watch failure, "" when none: read with ctl_informer_error() */
};

/* Creates the store and starts the thread. Returns false when either cannot be made. */
bool ctl_informer_start(struct ctl_informer *inf);

/* Waits until synced, *stop, or timeout_s passes. Returns whether it synced. */
bool ctl_informer_wait_synced(struct ctl_informer *inf, double timeout_s, const atomic_int *stop);

/* Copies the informer's last list or watch failure into buf ("" when there was none); safe from any thread. */
void ctl_informer_error(struct ctl_informer *inf, char *buf, size_t len);

/* Stops the thread (within about a second) and frees the store. */
void ctl_informer_stop(struct ctl_informer *inf);

#endif
