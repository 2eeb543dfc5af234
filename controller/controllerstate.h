/* The running controller's state, shared by controller.c (informers, queue, workers, life cycle), apiwriter.c (the
 * writes) and serving.c (what its HTTP ports answer), with its accessors in controllerstate.c, and by nothing else. */
#ifndef MAC_CONTROLLER_CONTROLLERSTATE_H
#define MAC_CONTROLLER_CONTROLLERSTATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "controller/admission.h"
#include "controller/controlleroptions.h"
#include "controller/eventsink.h"
#include "controller/httpd.h"
#include "controller/inflight.h"
#include "controller/informer.h"
#include "controller/leader.h"
#include "controller/tombstones.h"
#include "controller/workqueue.h"
#include "util/dynbuf.h"
#include "util/strmap.h"

#define WORKERS_MAX 64

enum { INF_BUILDS, INF_PODS, INF_JOBS, INF_NODES, INF_COUNT };

/*
 * Invariants: the informers' stores are the only view of the cluster the
 * workers read; node_usable is touched only by the node informer's thread;
 * every write passes the leadership check of apiwriter.c first.
 */
struct ctl_controller {
	struct kube_client *client;
	struct ctl_controller_options opts;
	struct ctl_informer informers[INF_COUNT];
	struct ctl_queue *queue;
	struct ctl_leader leader;
	pthread_t workers[WORKERS_MAX];
	int worker_count;
	struct strmap node_usable; /* node name -> (void *)1 when usable, NULL otherwise */
	pthread_mutex_t waiting_lock;
	struct strmap waiting; /* build key -> " arch arch " (owned) it waits for nodes of; under waiting_lock */
	struct ctl_httpd *httpd;
	struct ctl_event_sink *events;     /* from the start of ctl_controller_run() to stop_all() */
	struct ctl_tombstones *tombstones; /* finished pods deleted before a reconcile read them */
	struct ctl_inflight *inflight;     /* the writes of keys that wait for their answers */
	struct ctl_admission *admission;   /* the builds in flight, and those waiting to start */
	atomic_bool all_synced;
};

/* controllerstate.c */

/* Logs a constant message with its fields through the caller's log function, when there is one. */
void ctl_log(struct ctl_controller *c, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count);

/* The number of fields of an array of them. */
#define CTL_FIELDS(array) (sizeof(array) / sizeof((array)[0]))

/* The namespace and name of a work-queue key "namespace/name" (name alone without a slash), into the buffers. */
void ctl_key_split(const char *key, char *ns, size_t ns_len, char *name, size_t name_len);

/* Calls fn with every cached build, parsed, outside the store's lock (one that cannot be parsed, out of memory, is
 * left out). */
void ctl_each_build(struct ctl_controller *c, void (*fn)(void *ctx, const struct ctl_obj *o, const cJSON *build), void *ctx);

/* Whether this replica may write: it holds the lease, or leader election is off. */
bool ctl_is_leader(struct ctl_controller *c);

/* worker.c */

/* A worker thread (arg is the controller): takes keys from the queue until it shuts down. */
void *ctl_worker_main(void *arg);

/* nodewait.c */

/* Records what key's platforms wait for nodes of (arches as in ctl_outcome.waiting_arches; "" for nothing). */
void ctl_note_waiting(struct ctl_controller *c, const char *key, const char *arches);

/* The node informer's handler: a node matters only when it becomes usable or stops being so, and then only the
 * builds waiting for nodes of its architecture look again. */
void ctl_on_node(void *ctx, const struct ctl_obj *o, bool deleted);

/* buildslots.c: the bound on builds in flight, as the queue sees it */

/* Whether key's build may make its first pods now; a key let start is served before keys that are not. */
bool ctl_slot_try(struct ctl_controller *c, const char *key);

/* Counts key's build in flight whatever the bound (found under way). */
void ctl_slot_hold(struct ctl_controller *c, const char *key);

/* Key's build finished or is gone: its slot goes to the oldest build waiting for one, which is queued. */
void ctl_slot_release(struct ctl_controller *c, const char *key);

/* apiwriter.c */

/* One run of a key's reconcile, as its writer sees it: the writes it sent (answered later) and the Events held
 * while its status write is in flight. The worker's. */
struct ctl_write_run {
	struct ctl_controller *c;
	const char *key;
	unsigned sent;    /* writes that answered CTL_WRITE_PENDING */
	bool status_sent; /* one of them is the status write: Events and deletes after it are held */
	struct ctl_held held;
};

/* The writer a reconcile run gets: creates, deletes and status patches sent to the API server without waiting
 * (answers written through to the caches and filed in c->inflight), and Events queued for the event sink. */
void ctl_api_writer(struct ctl_write_run *run, struct ctl_writer *w);

/* Posts an Event held until its status write was answered (inflight.h's post function; ctx is the controller). */
void ctl_api_post_held(void *ctx, const char *key, const char *uid, const struct ctl_held_event *ev);

/* Writes one queued Event (the event sink's write function; ctx is the controller). */
bool ctl_api_write_event(void *ctx, const struct ctl_event *ev, char *err, size_t errlen);

/* Logs an Event the sink could not write (the event sink's failure function; ctx is the controller). */
void ctl_api_event_failed(void *ctx, const struct ctl_event *ev, const char *err);

/* serving.c: the HTTP handlers (ctx is the controller) */

bool ctl_serve_healthy(void *ctx, struct dynbuf *out);
bool ctl_serve_ready(void *ctx, struct dynbuf *out);
bool ctl_serve_metrics(void *ctx, struct dynbuf *out);
bool ctl_serve_status(void *ctx, struct dynbuf *out);

#endif
