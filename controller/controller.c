/* The running controller: informers for builds, their pods and Jobs, and nodes; a work queue fed by their
 * handlers; the workers' life (their work is worker.c); leader election gating every write. Its writes are in
 * apiwriter.c, what its HTTP ports answer in serving.c. */
#include "controller/controller.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/controllerstate.h"
#include "controller/labels.h"
#include "controller/nodes.h"
#include "controller/slim.h"
#include "util/backoff.h"
#include "util/jsonget.h"
#include "util/banned.h"

#define HOUSEKEEPING_PERIOD_S 10 /* how often opts.release_memory runs */
#define EVENT_DRAIN_S 5          /* how long a stop waits for queued Events to be written */
#define EVENT_WRITERS 4          /* threads writing Events, each waiting for one API request at a time */
#define TOMBSTONES_MAX 4096      /* finished pods kept after their deletion until read, in all */
#define WRITES_WAIT_LOG_S 5      /* a stop waiting for writes in flight says so this often */

void ctl_controller_options_init(struct ctl_controller_options *o)
{
	memset(o, 0, sizeof(*o));
	ctl_reconcile_options_init(&o->reconcile);
	o->workers = 2;
	o->max_builds_in_flight = 1000;
	o->resync_s = 600;
	o->leader_elect = true;
	o->lease_namespace = "default";
	o->lease_name = "multiarch-controller";
	o->identity = "multiarch-controller";
	o->lease_duration_s = 15;
	o->renew_deadline_s = 10;
	o->retry_period_s = 2;
	o->metrics_addr = "0";
	o->health_addr = "0";
}

/* ---- event handlers: they only enqueue keys ---- */

static void on_build(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;

	if (!deleted)
		ctl_queue_add(c->queue, o->key);
	else
		ctl_slot_release(c, o->key);
}

static void on_child(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;
	(void)deleted;

	if (o->group[0])
		ctl_queue_add(c->queue, o->group);
}

/* A finished pod deleted before its build's reconcile read it (the pod garbage collector is quick at scale)
 * is kept until one has. The reference taken changes only the object's count. */
static void on_pod(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;

	if (deleted)
		ctl_tombstones_keep(c->tombstones, (struct ctl_obj *)o); /* NOLINT: refs is the one mutable member */
	on_child(ctx, o, deleted);
}

static void enqueue_build(void *ctx, struct ctl_obj *o)
{
	struct ctl_controller *c = ctx;

	ctl_queue_add(c->queue, o->key);
}

/* ---- life cycle ---- */

struct ctl_controller *ctl_controller_new(struct kube_client *client, const struct ctl_controller_options *opts)
{
	struct ctl_controller *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->client = client;
	c->opts = *opts;
	if (c->opts.workers < 1)
		c->opts.workers = 1;
	if (c->opts.workers > WORKERS_MAX)
		c->opts.workers = WORKERS_MAX;
	c->queue = ctl_queue_new(0.5, 60);
	c->tombstones = ctl_tombstones_new(TOMBSTONES_MAX);
	c->inflight = ctl_inflight_new(ctl_api_post_held, c);
	c->admission = ctl_admission_new(c->opts.max_builds_in_flight);
	if (!c->queue || !c->tombstones || !c->inflight || !c->admission) {
		ctl_queue_free(c->queue);
		ctl_tombstones_free(c->tombstones);
		ctl_inflight_free(c->inflight);
		ctl_admission_free(c->admission);
		free(c);
		return NULL;
	}
	strmap_init(&c->node_usable);
	strmap_init(&c->waiting);
	pthread_mutex_init(&c->waiting_lock, NULL);
	return c;
}

/* Adds the collection of group/version/resource (with the controller's label selector when labelled) in namespace
 * ns (NULL: all) to inf. */
static bool add_source(struct ctl_informer *inf, const char *group, const char *version, const char *resource, bool labelled,
		       const char *ns)
{
	char path[KUBE_PATH_MAX];

	return kube_path(path, sizeof(path), group, version, ns, resource, NULL, NULL) &&
	       (!labelled || kube_query(path, sizeof(path), "labelSelector", CTL_LABEL_BUILD)) &&
	       ctl_informer_add_source(inf, path, ns ? ns : "");
}

/* The informers' sources: builds, pods and Jobs in each watched namespace (or in all), nodes cluster-wide. */
static bool set_paths(struct ctl_controller *c)
{
	size_t count = c->opts.namespace_count ? c->opts.namespace_count : 1;
	bool ok = true;

	for (int i = 0; i < INF_COUNT; i++)
		c->informers[i].source_count = 0;
	for (size_t i = 0; ok && i < count; i++) {
		const char *ns = c->opts.namespace_count ? c->opts.namespaces[i] : NULL;
		ok = add_source(&c->informers[INF_BUILDS], CTL_API_GROUP, CTL_API_VERSION, CTL_RESOURCE, false, ns) &&
		     add_source(&c->informers[INF_PODS], "", "v1", "pods", true, ns) &&
		     add_source(&c->informers[INF_JOBS], "batch", "v1", "jobs", true, ns);
	}
	return ok && add_source(&c->informers[INF_NODES], "", "v1", "nodes", false, NULL);
}

static void stop_informers(struct ctl_controller *c)
{
	for (int i = 0; i < INF_COUNT; i++)
		ctl_informer_stop(&c->informers[i]);
}

/* Stops the HTTP server, then the event sink and the informers it reads. */
static void stop_all(struct ctl_controller *c)
{
	ctl_httpd_stop(c->httpd);
	c->httpd = NULL;
	ctl_event_sink_stop(c->events);
	c->events = NULL;
	stop_informers(c);
}

static bool sleep_unless_stopped(double seconds, const atomic_int *stop, struct ctl_leader *leader, bool leader_elect)
{
	for (long step = 0; (double)step * 0.1 < seconds; step++) {
		if (atomic_load(stop) || (leader_elect && atomic_load(&leader->lost)))
			return false;
		sleep_ms(100);
	}
	return true;
}

/* Starts the event sink, the informers and the HTTP server. */
static enum ctl_err start_watching(struct ctl_controller *c, char *errbuf, size_t errlen)
{
	static const ctl_change_fn handlers[INF_COUNT] = {on_build, on_pod, on_child, ctl_on_node};
	static cJSON *(*const slims[INF_COUNT])(const cJSON *) = {ctl_slim_build, ctl_slim_pod, ctl_slim_job, ctl_slim_node};
	const struct ctl_httpd_handlers routes = {ctl_serve_healthy, ctl_serve_ready, ctl_serve_metrics, ctl_serve_status, c};

	if (!set_paths(c))
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "a namespace name is too long, or more than %d namespaces",
				CTL_INFORMER_SOURCES_MAX);
	if (!(c->events = ctl_event_sink_start(0, EVENT_WRITERS, ctl_api_write_event, ctl_api_event_failed, c)))
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the event writer");
	for (int i = 0; i < INF_COUNT; i++) {
		struct ctl_informer *inf = &c->informers[i];
		inf->client = c->client;
		inf->on_change = handlers[i];
		inf->ctx = c;
		inf->slim = slims[i];
		inf->group_of = (i == INF_PODS || i == INF_JOBS) ? ctl_child_group : NULL;
		inf->form = i == INF_NODES ? CTL_STORE_TREES : CTL_STORE_TEXT; /* nodes: few, each read on every preflight */
		if (!ctl_informer_start(inf))
			return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the informers");
	}
	const struct ctl_httpd_auth auth = {c->opts.metrics_auth, c->client};
	return ctl_httpd_start(c->opts.metrics_addr, c->opts.health_addr, &routes, &auth, &c->httpd, errbuf, errlen) == CTL_OK
		       ? CTL_OK
		       : CTL_E_STARTUP;
}

/* Waits until every cache is filled; false when stopped first. */
/* Says what the caches hold once all of them have synced. */
static void log_synced(struct ctl_controller *c)
{
	static const char *const kinds[INF_COUNT] = {"builds", "pods", "jobs", "nodes"};
	struct ctl_log_field fields[INF_COUNT];
	char counts[INF_COUNT][24];

	for (int i = 0; i < INF_COUNT; i++) {
		snprintf(counts[i], sizeof(counts[i]), "%zu", ctl_store_len(c->informers[i].store));
		fields[i] = (struct ctl_log_field){kinds[i], counts[i]};
	}
	ctl_log(c, CTL_LOG_INFO, "caches synced", fields, INF_COUNT);
}

static bool wait_synced(struct ctl_controller *c, const atomic_int *stop)
{
	for (int i = 0; i < INF_COUNT; i++) {
		while (!ctl_informer_wait_synced(&c->informers[i], 30, stop)) {
			if (atomic_load(stop))
				return false;
			char error[KUBE_ERRBUF_SIZE];
			struct ctl_log_field fields[] = {{"resource", ctl_informer_path(&c->informers[i])}, {"error", error}};
			ctl_informer_error(&c->informers[i], error, sizeof(error));
			if (!error[0])
				snprintf(error, sizeof(error), "still listing");
			ctl_log(c, CTL_LOG_WARN, "cache not synced yet", fields, CTL_FIELDS(fields));
		}
	}
	atomic_store(&c->all_synced, true);
	log_synced(c);
	return true;
}

/* Takes the lease and keeps renewing it. CTL_OK with *led false when stopped first. */
static enum ctl_err lead(struct ctl_controller *c, const atomic_int *stop, bool *led, char *errbuf, size_t errlen)
{
	char lease[600];
	const struct ctl_log_field fields[] = {{"lease", lease}, {"identity", c->opts.identity}};

	*led = false;
	ctl_leader_init(&c->leader);
	c->leader.client = c->client;
	snprintf(c->leader.ns, sizeof(c->leader.ns), "%s", c->opts.lease_namespace);
	snprintf(c->leader.name, sizeof(c->leader.name), "%s", c->opts.lease_name);
	snprintf(c->leader.identity, sizeof(c->leader.identity), "%s", c->opts.identity);
	c->leader.lease_duration_s = c->opts.lease_duration_s;
	c->leader.renew_deadline_s = c->opts.renew_deadline_s;
	c->leader.retry_period_s = c->opts.retry_period_s;
	snprintf(lease, sizeof(lease), "%s/%s", c->leader.ns, c->leader.name);
	ctl_log(c, CTL_LOG_INFO, "waiting for lease", fields, CTL_FIELDS(fields));
	if (!ctl_leader_acquire(&c->leader, stop))
		return CTL_OK;
	if (!ctl_leader_keep(&c->leader))
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the lease renewal thread");
	ctl_log(c, CTL_LOG_INFO, "became the leader", fields, CTL_FIELDS(fields));
	*led = true;
	return CTL_OK;
}

/* Queues every build, starts the workers, and resyncs and keeps house until stopped or the lease is lost. */
static void work_until_stopped(struct ctl_controller *c, const atomic_int *stop)
{
	double since_resync = 0, since_housekeeping = 0;

	ctl_store_each(c->informers[INF_BUILDS].store, enqueue_build, c);
	for (c->worker_count = 0; c->worker_count < c->opts.workers; c->worker_count++)
		if (pthread_create(&c->workers[c->worker_count], NULL, ctl_worker_main, c) != 0)
			break;
	if (c->opts.release_memory)
		c->opts.release_memory();
	while (sleep_unless_stopped(1, stop, &c->leader, c->opts.leader_elect)) {
		since_resync += 1;
		since_housekeeping += 1;
		if (c->opts.resync_s > 0 && since_resync >= c->opts.resync_s) {
			since_resync = 0;
			ctl_store_each(c->informers[INF_BUILDS].store, enqueue_build, c);
		}
		if (since_housekeeping >= HOUSEKEEPING_PERIOD_S && c->opts.release_memory) {
			since_housekeeping = 0;
			c->opts.release_memory();
		}
	}
}

/* Stops the workers (the keys being reconciled finish), drains the Events, gives the lease up. */
static enum ctl_err wind_down(struct ctl_controller *c, char *errbuf, size_t errlen)
{
	enum ctl_err result = CTL_OK;

	if (c->opts.leader_elect && atomic_load(&c->leader.lost)) {
		result = ctl_fail(errbuf, errlen, CTL_E_LEADERSHIP, "lost the lease %s/%s: %s", c->leader.ns, c->leader.name,
				  c->leader.error);
	} else {
		/* as documented: the keys being reconciled finish; the queued ones are the next leader's (its first sync queues every build) */
		char queued[24];
		const struct ctl_log_field fields[] = {{"queuedForNextLeader", queued}};
		snprintf(queued, sizeof(queued), "%zu", ctl_queue_len(c->queue));
		ctl_log(c, CTL_LOG_INFO, "stopping: finishing the keys being reconciled", fields, CTL_FIELDS(fields));
	}
	ctl_queue_shutdown(c->queue, false);
	for (int i = 0; i < c->worker_count; i++)
		pthread_join(c->workers[i], NULL);
	c->worker_count = 0;
	/* writes in flight end with their answers (or the request timeout): none may outlive the caches they go to */
	while (!ctl_inflight_wait_idle(c->inflight, WRITES_WAIT_LOG_S)) {
		char count[24];
		const struct ctl_log_field fields[] = {{"writes", count}};
		snprintf(count, sizeof(count), "%zu", ctl_inflight_count(c->inflight));
		ctl_log(c, CTL_LOG_INFO, "stopping: waiting for the answers to writes in flight", fields, CTL_FIELDS(fields));
	}
	if (result == CTL_OK && !ctl_event_sink_drain(c->events, EVENT_DRAIN_S))
		ctl_log(c, CTL_LOG_WARN, "stopping with events still unwritten", NULL, 0);
	if (c->opts.leader_elect)
		ctl_leader_release(&c->leader);
	return result;
}

enum ctl_err ctl_controller_run(struct ctl_controller *c, const atomic_int *stop, char *errbuf, size_t errlen)
{
	enum ctl_err result = start_watching(c, errbuf, errlen);
	bool led = true;

	if (result == CTL_OK && wait_synced(c, stop)) {
		if (c->opts.leader_elect)
			result = lead(c, stop, &led, errbuf, errlen);
		if (result == CTL_OK && led) {
			work_until_stopped(c, stop);
			result = wind_down(c, errbuf, errlen);
		}
	}
	stop_all(c);
	return result;
}

static void free_value(void *ctx, const char *key, void *value)
{
	(void)ctx;
	(void)key;
	free(value);
}

void ctl_controller_free(struct ctl_controller *c)
{
	if (!c)
		return;
	ctl_queue_free(c->queue);
	ctl_tombstones_free(c->tombstones);
	ctl_inflight_free(c->inflight);
	ctl_admission_free(c->admission);
	strmap_free(&c->node_usable);
	strmap_each(&c->waiting, free_value, NULL);
	strmap_free(&c->waiting);
	pthread_mutex_destroy(&c->waiting_lock);
	free(c);
}
