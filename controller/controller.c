/* The running controller: informers for builds, their pods and Jobs, and nodes; a work queue fed by their
 * handlers; workers that reconcile one key at a time; leader election gating every write. */
#include "controller/controller.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include "controller/eventsink.h"
#include "controller/httpd.h"
#include "controller/informer.h"
#include "controller/labels.h"
#include "controller/leader.h"
#include "controller/nodes.h"
#include "controller/slim.h"
#include "controller/workqueue.h"
#include "kube/events.h"
#include "util/backoff.h"
#include "util/strmap.h"
#include "util/timefmt.h"
#include "util/jsonget.h"

#define WORKERS_MAX 64
#define TRIM_PERIOD_S 10 /* how often freed memory goes back to the system */
#define EVENT_DRAIN_S 5  /* how long a stop waits for queued Events to be written */
#define EVENT_WRITERS 4  /* threads writing Events, each waiting for one API request at a time */

enum { INF_BUILDS, INF_PODS, INF_JOBS, INF_NODES, INF_COUNT };

/*
 * Invariants: the informers' stores are the only view of the cluster the
 * workers read; node_usable is touched only by the node informer's thread;
 * every write passes writable() first.
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
	struct ctl_httpd *httpd;
	struct ctl_event_sink *events; /* from the start of ctl_controller_run() to stop_all() */
	atomic_bool all_synced;
};

void ctl_controller_options_init(struct ctl_controller_options *o)
{
	memset(o, 0, sizeof(*o));
	ctl_reconcile_options_init(&o->reconcile);
	o->workers = 2;
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

static void logf_(struct ctl_controller *c, enum ctl_log_level level, const char *context, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void logf_(struct ctl_controller *c, enum ctl_log_level level, const char *context, const char *fmt, ...)
{
	char message[2048];
	va_list ap;

	if (!c->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	c->opts.log(c->opts.log_ctx, level, message, context ? context : "");
}

/* ---- event handlers: they only enqueue keys ---- */

static void on_build(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;

	if (!deleted)
		ctl_queue_add(c->queue, o->key);
}

static void on_child(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;
	(void)deleted;

	if (o->group[0])
		ctl_queue_add(c->queue, o->group);
}

/*
 * Calls fn with every build, parsed, outside the store's lock (a build's
 * text is parsed for the call; one that cannot be, out of memory, is left out).
 */
static void each_build(struct ctl_controller *c, void (*fn)(void *ctx, const struct ctl_obj *o, const cJSON *build), void *ctx)
{
	struct ctl_obj **all;
	size_t n = ctl_store_list(c->informers[INF_BUILDS].store, &all);

	for (size_t i = 0; i < n; i++) {
		cJSON *build = ctl_obj_parse(all[i]);
		if (build)
			fn(ctx, all[i], build);
		cJSON_Delete(build);
	}
	ctl_obj_release_all(all, n);
}

static void enqueue_if_waiting_for_nodes(void *ctx, const struct ctl_obj *o, const cJSON *build)
{
	struct ctl_controller *c = ctx;
	const cJSON *cond;

	cJSON_ArrayForEach(cond, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(build, "status"), "conditions")) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(cond, "type"), *status = cJSON_GetObjectItemCaseSensitive(cond, "status");
		if (cJSON_IsString(type) && strcmp(type->valuestring, "NodesAvailable") == 0 && cJSON_IsString(status) &&
		    strcmp(status->valuestring, "False") == 0)
			ctl_queue_add(c->queue, o->key);
	}
}

/* A node matters only when it becomes usable or stops being so: then the builds waiting for nodes look again. */
static void on_node(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;
	bool usable = !deleted && ctl_node_usable(o->json), found = false;
	bool was = strmap_get(&c->node_usable, o->key, &found) != NULL;

	if (deleted)
		strmap_remove(&c->node_usable, o->key);
	else if (!strmap_put(&c->node_usable, o->key, usable ? (void *)1 : NULL))
		found = false; /* out of memory: treat as new, which only costs a look */
	if (found && was == usable)
		return;
	if (atomic_load(&c->informers[INF_BUILDS].synced))
		each_build(c, enqueue_if_waiting_for_nodes, c);
}

/* ---- the writer: the API server, with answers written through to the caches ---- */

static bool writable(struct ctl_controller *c, char *err, size_t errlen)
{
	if (!c->opts.leader_elect || ctl_leader_valid(&c->leader))
		return true;
	snprintf(err, errlen, "not the leader (lease %s/%s not held)", c->opts.lease_namespace, c->opts.lease_name);
	return false;
}

static enum ctl_write classify(enum kube_err e, const struct kube_response *resp, char *err, size_t errlen, const char *detail)
{
	snprintf(err, errlen, "%s", resp->st.message[0] ? resp->st.message : detail);
	switch (e) {
	case KUBE_OK:
		return CTL_WRITE_OK;
	case KUBE_E_CONFLICT:
		return strcmp(resp->st.reason, "AlreadyExists") == 0 ? CTL_WRITE_EXISTS : CTL_WRITE_CONFLICT;
	case KUBE_E_NOT_FOUND:
		return CTL_WRITE_GONE;
	case KUBE_E_UNPROCESSABLE:
		return CTL_WRITE_REFUSED;
	case KUBE_E_HTTP:
		return resp->status == 400 ? CTL_WRITE_REFUSED : CTL_WRITE_FAILED;
	default:
		return CTL_WRITE_FAILED;
	}
}

/* Puts an API answer (a pod, a Job, a build) into its store unless the store already holds a newer version. */
static void write_through(struct ctl_controller *c, int which, const struct kube_response *resp)
{
	cJSON *obj = cJSON_ParseWithLength(dynbuf_str(&resp->body), dynbuf_len(&resp->body));
	cJSON *slim;
	struct ctl_obj *o;

	if (!obj || !cJSON_GetObjectItemCaseSensitive(obj, "metadata")) {
		cJSON_Delete(obj);
		return;
	}
	slim = c->informers[which].slim ? c->informers[which].slim(obj) : cJSON_Duplicate(obj, true);
	cJSON_Delete(obj);
	if (slim && (o = ctl_store_put_newer(c->informers[which].store, slim)))
		ctl_obj_release(o);
}

static bool object_path(char *path, size_t len, const char *kind, const cJSON *object, bool named)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	bool job = strcmp(kind, "Job") == 0;
	const char *resource = job ? "jobs" : strcmp(kind, "ConfigMap") == 0 ? "configmaps" : "pods";

	if (!cJSON_IsString(ns) || !cJSON_IsString(name))
		return false;
	return kube_path(path, len, job ? "batch" : "", "v1", ns->valuestring, resource, named ? name->valuestring : NULL, NULL);
}

static enum ctl_write api_create(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	char *body;
	enum kube_err e;
	enum ctl_write res;

	if (!writable(c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!object_path(path, sizeof(path), kind, object, false) || !kube_query(path, sizeof(path), "fieldManager", CTL_MANAGER) ||
	    !(body = cJSON_PrintUnformatted(object))) {
		snprintf(err, errlen, "cannot encode the %s", kind);
		return CTL_WRITE_FAILED;
	}
	e = kube_request(c->client, "POST", path, KUBE_CT_JSON, body, strlen(body), &resp, detail, sizeof(detail));
	free(body);
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_OK && strcmp(kind, "ConfigMap") != 0)
		write_through(c, strcmp(kind, "Pod") == 0 ? INF_PODS : INF_JOBS, &resp);
	kube_response_free(&resp);
	return res;
}

static enum ctl_write api_remove(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(object, "metadata"), "uid");
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	enum kube_err e;
	enum ctl_write res;

	if (!writable(c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!object_path(path, sizeof(path), kind, object, true)) {
		snprintf(err, errlen, "cannot name the %s", kind);
		return CTL_WRITE_FAILED;
	}
	e = kube_delete(c->client, path, "Background", cJSON_IsString(uid) ? uid->valuestring : NULL, NULL, &resp, detail, sizeof(detail));
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_CONFLICT) /* the uid precondition failed: that object is gone already */
		res = CTL_WRITE_GONE;
	if (res == CTL_WRITE_OK)
		write_through(c, strcmp(kind, "Pod") == 0 ? INF_PODS : INF_JOBS, &resp);
	kube_response_free(&resp);
	return res;
}

static double seconds_between(const char *from, const char *to)
{
	time_t a, b;

	return from && to && rfc3339_parse(from, &a) && rfc3339_parse(to, &b) && b >= a ? (double)(b - a) : -1;
}

/* Build and index durations, counted once: when a status write moves a platform or the build to Succeeded. */
static void observe_durations(struct ctl_controller *c, const cJSON *old_status, const cJSON *new_status)
{
	const cJSON *p, *q;
	const char *last_platform_done = NULL, *old_phase = json_str_at(old_status, "phase", NULL), *phase = json_str_at(new_status, "phase", NULL);
	double d;

	if (!c->opts.metrics)
		return;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(new_status, "platforms")) {
		const char *name = json_str_at(p, "platform", NULL), *ph = json_str_at(p, "phase", NULL), *was = NULL;
		if (!name || !ph || strcmp(ph, "Succeeded") != 0)
			continue;
		if (!last_platform_done || strcmp(json_str_at(p, "completionTime", NULL) ? json_str_at(p, "completionTime", NULL) : "", last_platform_done) > 0)
			last_platform_done = json_str_at(p, "completionTime", NULL);
		cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(old_status, "platforms")) {
			if (json_str_at(q, "platform", NULL) && strcmp(json_str_at(q, "platform", NULL), name) == 0)
				was = json_str_at(q, "phase", NULL);
		}
		if ((!was || strcmp(was, "Succeeded") != 0) &&
		    (d = seconds_between(json_str_at(p, "startTime", NULL), json_str_at(p, "completionTime", NULL))) >= 0)
			ctl_metrics_build(c->opts.metrics, name, d);
	}
	if (phase && strcmp(phase, "Succeeded") == 0 && (!old_phase || strcmp(old_phase, "Succeeded") != 0) &&
	    (d = seconds_between(last_platform_done, json_str_at(new_status, "completionTime", NULL))) >= 0)
		ctl_histogram_observe(&c->opts.metrics->index_seconds, d);
}

/* The merge patch that makes status exactly new_status: members of the old status that are gone become null. */
static cJSON *status_patch(const cJSON *build, const cJSON *new_status)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(build, "status"), *member;
	cJSON *patch = cJSON_CreateObject(), *m, *st = cJSON_Duplicate(new_status, true);

	if (!patch || !st || !(m = cJSON_AddObjectToObject(patch, "metadata")) || !cJSON_IsString(rv) ||
	    !cJSON_AddStringToObject(m, "resourceVersion", rv->valuestring))
		goto fail;
	cJSON_ArrayForEach(member, old) {
		if (!cJSON_GetObjectItemCaseSensitive(st, member->string) && !cJSON_AddNullToObject(st, member->string))
			goto fail;
	}
	if (!cJSON_AddItemToObject(patch, "status", st))
		goto fail;
	return patch;
fail:
	cJSON_Delete(st);
	cJSON_Delete(patch);
	return NULL;
}

static enum ctl_write api_status(void *ctx, const cJSON *build, const cJSON *status, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	cJSON *patch;
	char *body;
	enum kube_err e;
	enum ctl_write res;

	if (!writable(c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!cJSON_IsString(ns) || !cJSON_IsString(name) ||
	    !kube_path(path, sizeof(path), CTL_API_GROUP, CTL_API_VERSION, ns->valuestring, CTL_RESOURCE, name->valuestring, "status") ||
	    !kube_query(path, sizeof(path), "fieldManager", CTL_MANAGER) || !(patch = status_patch(build, status))) {
		snprintf(err, errlen, "cannot encode the status");
		return CTL_WRITE_FAILED;
	}
	body = cJSON_PrintUnformatted(patch);
	cJSON_Delete(patch);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		return CTL_WRITE_FAILED;
	}
	e = kube_request(c->client, "PATCH", path, KUBE_CT_MERGE_PATCH, body, strlen(body), &resp, detail, sizeof(detail));
	free(body);
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_OK) {
		write_through(c, INF_BUILDS, &resp);
		observe_durations(c, cJSON_GetObjectItemCaseSensitive(build, "status"), status);
		ctl_httpd_notify(c->httpd);
	}
	kube_response_free(&resp);
	return res;
}

/* Writes one queued Event (from the event sink's thread). */
static bool write_event(void *ctx, const struct ctl_event *ev, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	const struct kube_object_ref ref = {CTL_API_GROUP "/" CTL_API_VERSION, CTL_KIND, ev->ns, ev->name, ev->uid};

	return writable(c, err, errlen) && kube_event_record(c->client, &ref, &ev->when, ev->warning ? "Warning" : "Normal", ev->reason, "Reconcile",
							  ev->note, CTL_API_GROUP "/" CTL_MANAGER, c->opts.identity, err, errlen) == KUBE_OK;
}

static void event_failed(void *ctx, const struct ctl_event *ev, const char *err)
{
	struct ctl_controller *c = ctx;
	char context[600];

	snprintf(context, sizeof(context), "build=%s/%s reason=%s", ev->ns, ev->name, ev->reason);
	logf_(c, CTL_LOG_WARN, context, "cannot record event: %s", err);
}

/* Logs the Event at once and queues it, with the time it happened, for the event writers: the worker does not wait. */
static void api_event(void *ctx, const cJSON *build, bool warning, const char *reason, const char *note)
{
	struct ctl_controller *c = ctx;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(meta, "uid");
	struct ctl_event ev = {{0, 0}, NULL, NULL, cJSON_IsString(uid) ? uid->valuestring : "", warning, reason, note};
	char context[600];

	if (!cJSON_IsString(ns) || !cJSON_IsString(name))
		return;
	clock_gettime(CLOCK_REALTIME, &ev.when);
	ev.ns = ns->valuestring;
	ev.name = name->valuestring;
	snprintf(context, sizeof(context), "build=%s/%s reason=%s", ns->valuestring, name->valuestring, reason);
	logf_(c, warning ? CTL_LOG_WARN : CTL_LOG_INFO, context, "%s", note);
	ctl_httpd_notify(c->httpd);
	if (!ctl_event_sink_post(c->events, &ev))
		logf_(c, CTL_LOG_DEBUG, context, "event dropped: %d events are waiting to be written", CTL_EVENT_QUEUE_MAX);
}

/* ---- workers ---- */

static size_t nodes_fitting(void *ctx, const cJSON *selector, const cJSON *tolerations)
{
	struct ctl_controller *c = ctx;

	return ctl_nodes_fitting(c->informers[INF_NODES].store, selector, tolerations);
}

/* Parses count cached objects into a new array of trees (*out, the caller's to give to delete_trees()); false when out of memory. */
static bool parse_all(struct ctl_obj *const *objs, size_t count, cJSON ***out)
{
	/* an array of tree pointers */
	cJSON **trees = calloc(count ? count : 1, sizeof(cJSON *)); /* NOLINT(bugprone-sizeof-expression) */

	*out = trees;
	for (size_t i = 0; trees && i < count; i++)
		if (!(trees[i] = ctl_obj_parse(objs[i])))
			return false;
	return trees != NULL;
}

static void delete_trees(cJSON **trees, size_t count)
{
	for (size_t i = 0; trees && i < count; i++)
		cJSON_Delete(trees[i]);
	free(trees);
}

static void reconcile_key(struct ctl_controller *c, const char *key)
{
	const struct ctl_writer writer = {api_create, api_remove, api_status, api_event, c};
	struct ctl_obj *cached = ctl_store_get(c->informers[INF_BUILDS].store, key);
	struct ctl_obj **pod_objs = NULL, **job_objs = NULL;
	cJSON *build, **pods = NULL, **jobs = NULL;
	size_t pod_count, job_count;
	struct ctl_view view;
	struct ctl_outcome out;
	struct timespec started, ended;
	char context[CTL_KEY_MAX + 16];

	if (!cached) {
		ctl_queue_forget(c->queue, key);
		return;
	}
	build = ctl_obj_parse(cached);
	ctl_obj_release(cached);
	pod_count = ctl_store_group(c->informers[INF_PODS].store, key, &pod_objs);
	job_count = ctl_store_group(c->informers[INF_JOBS].store, key, &job_objs);
	memset(&out, 0, sizeof(out));
	if (!build || !parse_all(pod_objs, pod_count, &pods) || !parse_all(job_objs, job_count, &jobs)) {
		out.retry = true;
		snprintf(out.error, sizeof(out.error), "out of memory reading the caches");
	} else {
		memset(&view, 0, sizeof(view));
		view.build = build;
		view.pods = (const cJSON *const *)pods;
		view.pod_count = pod_count;
		view.jobs = (const cJSON *const *)jobs;
		view.job_count = job_count;
		view.nodes_fitting = nodes_fitting;
		view.nodes_ctx = c;
		view.now = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &started);
		ctl_reconcile(&c->opts.reconcile, &view, &writer, &out);
		clock_gettime(CLOCK_MONOTONIC, &ended);
		if (c->opts.metrics)
			ctl_histogram_observe(&c->opts.metrics->reconcile_seconds,
					      (double)(ended.tv_sec - started.tv_sec) + (double)(ended.tv_nsec - started.tv_nsec) / 1e9);
	}
	ctl_obj_release_all(pod_objs, pod_count);
	ctl_obj_release_all(job_objs, job_count);
	if (c->opts.metrics) {
		atomic_fetch_add(&c->opts.metrics->reconciles, 1);
		if (out.retry)
			atomic_fetch_add(&c->opts.metrics->reconcile_errors, 1);
	}
	snprintf(context, sizeof(context), "build=%s", key);
	if (out.retry) {
		double delay = ctl_queue_add_rate_limited(c->queue, key);
		logf_(c, CTL_LOG_WARN, context, "reconcile will be retried in %.1fs: %s", delay, out.error);
	} else {
		ctl_queue_forget(c->queue, key);
		if (out.requeue_after_s >= 0)
			ctl_queue_add_after(c->queue, key, out.requeue_after_s);
	}
	if (out.status_written || out.creates || out.deletes)
		logf_(c, CTL_LOG_DEBUG, context, "reconciled: phase=%s creates=%u deletes=%u status_written=%d", ctl_phase_name(out.phase), out.creates,
		      out.deletes, out.status_written);
	delete_trees(pods, pod_count);
	delete_trees(jobs, job_count);
	cJSON_Delete(build);
}

static void *worker(void *arg)
{
	struct ctl_controller *c = arg;
	char *key;
	double waited = 0;

	while (ctl_queue_get_waited(c->queue, &key, &waited)) {
		if (c->opts.metrics)
			ctl_histogram_observe(&c->opts.metrics->queue_wait_seconds, waited);
		reconcile_key(c, key);
		ctl_queue_done(c->queue, key);
		free(key);
	}
	return NULL;
}

static void enqueue_build(void *ctx, struct ctl_obj *o)
{
	struct ctl_controller *c = ctx;

	ctl_queue_add(c->queue, o->key);
}

/* ---- the HTTP server's handlers ---- */

static bool handle_healthy(void *ctx, struct dynbuf *out)
{
	(void)ctx;
	dynbuf_addstr(out, "ok\n");
	return true;
}

static bool is_leader(struct ctl_controller *c)
{
	return !c->opts.leader_elect || ctl_leader_valid(&c->leader);
}

static bool handle_ready(void *ctx, struct dynbuf *out)
{
	struct ctl_controller *c = ctx;

	if (!atomic_load(&c->all_synced)) {
		dynbuf_addstr(out, "not ready: the caches are still being filled\n");
		return false;
	}
	dynbuf_addf(out, "ready: caches synced; %s\n", is_leader(c) ? "leader" : "standby (another replica holds the lease)");
	return true;
}

struct phase_count {
	const char *phases[6];
	unsigned long counts[6];
};

static void count_phase(void *ctx, const struct ctl_obj *o, const cJSON *build)
{
	struct phase_count *pc = ctx;
	const char *phase = json_str_at(cJSON_GetObjectItemCaseSensitive(build, "status"), "phase", NULL);
	size_t i = 0;
	(void)o;

	while (i < 5 && !(phase && strcmp(pc->phases[i], phase) == 0))
		i++;
	pc->counts[phase ? i : 0]++; /* no status yet counts as Pending */
}

static void handle_metrics(void *ctx, struct dynbuf *out)
{
	static const char *const kinds[INF_COUNT] = {"multiarchbuilds", "pods", "jobs", "nodes"};
	struct ctl_controller *c = ctx;
	struct phase_count pc = {{"Pending", "Building", "Merging", "Succeeded", "Failed", "other"}, {0}};
	struct ctl_event_counts events;

	if (c->opts.metrics)
		ctl_metrics_render(c->opts.metrics, out);
	dynbuf_addstr(out, "# HELP multiarch_workqueue_depth Keys waiting for a worker.\n# TYPE multiarch_workqueue_depth gauge\n");
	dynbuf_addf(out, "multiarch_workqueue_depth %zu\n", ctl_queue_len(c->queue));
	dynbuf_addstr(out, "# HELP multiarch_builds MultiArchBuilds in the cache by phase.\n# TYPE multiarch_builds gauge\n");
	each_build(c, count_phase, &pc);
	for (size_t i = 0; i < 6; i++)
		dynbuf_addf(out, "multiarch_builds{phase=\"%s\"} %lu\n", pc.phases[i], pc.counts[i]);
	dynbuf_addstr(out, "# HELP multiarch_cached_objects Objects in the informer caches.\n# TYPE multiarch_cached_objects gauge\n");
	for (int i = 0; i < INF_COUNT; i++)
		dynbuf_addf(out, "multiarch_cached_objects{kind=\"%s\"} %zu\n", kinds[i], ctl_store_len(c->informers[i].store));
	dynbuf_addstr(out, "# HELP multiarch_informer_lists_total Full LISTs per informer (the first, and each after a 410 or an error).\n"
			   "# TYPE multiarch_informer_lists_total counter\n");
	for (int i = 0; i < INF_COUNT; i++)
		dynbuf_addf(out, "multiarch_informer_lists_total{kind=\"%s\"} %u\n", kinds[i], atomic_load(&c->informers[i].reflector.lists));
	dynbuf_addstr(out, "# HELP multiarch_informer_watches_total Watches started per informer.\n# TYPE multiarch_informer_watches_total counter\n");
	for (int i = 0; i < INF_COUNT; i++)
		dynbuf_addf(out, "multiarch_informer_watches_total{kind=\"%s\"} %u\n", kinds[i], atomic_load(&c->informers[i].reflector.watches));
	dynbuf_addstr(out, "# HELP multiarch_informer_expired_total Watches ended by 410 Gone (resourceVersion too old), each followed by a relist.\n"
			   "# TYPE multiarch_informer_expired_total counter\n");
	for (int i = 0; i < INF_COUNT; i++)
		dynbuf_addf(out, "multiarch_informer_expired_total{kind=\"%s\"} %u\n", kinds[i], atomic_load(&c->informers[i].reflector.gone));
	ctl_event_sink_counts(c->events, &events);
	dynbuf_addstr(out, "# HELP multiarch_events_written_total Events written.\n# TYPE multiarch_events_written_total counter\n");
	dynbuf_addf(out, "multiarch_events_written_total %llu\n", events.written);
	dynbuf_addstr(out, "# HELP multiarch_events_pending Events queued or being written.\n# TYPE multiarch_events_pending gauge\n");
	dynbuf_addf(out, "multiarch_events_pending %zu\n", events.pending);
	dynbuf_addstr(out, "# HELP multiarch_events_dropped_total Events not written: the queue was full, or the write failed.\n"
			   "# TYPE multiarch_events_dropped_total counter\n");
	dynbuf_addf(out, "multiarch_events_dropped_total %llu\n", events.dropped);
	dynbuf_addstr(out, "# HELP multiarch_leader Whether this replica holds the lease (1) or stands by (0).\n# TYPE multiarch_leader gauge\n");
	dynbuf_addf(out, "multiarch_leader %d\n", is_leader(c) ? 1 : 0);
}

#define STATUS_PAGE_BUILDS_MAX 500

/* Adds build's summary to the array builds. */
static void add_build_summary(cJSON *builds, const cJSON *build)
{
	static const char *const platform_fields[] = {"platform", "phase", "node", "pod", "digest", "message"};
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata"), *status = cJSON_GetObjectItemCaseSensitive(build, "status");
	const cJSON *p;
	cJSON *b = cJSON_CreateObject(), *list;

	if (!b)
		return;
	if (!cJSON_AddItemToArray(builds, b)) {
		cJSON_Delete(b);
		return;
	}
	cJSON_AddStringToObject(b, "namespace", json_str_at(meta, "namespace", NULL) ? json_str_at(meta, "namespace", NULL) : "");
	cJSON_AddStringToObject(b, "name", json_str_at(meta, "name", NULL) ? json_str_at(meta, "name", NULL) : "");
	cJSON_AddStringToObject(b, "phase", json_str_at(status, "phase", NULL) ? json_str_at(status, "phase", NULL) : "Pending");
	if (json_str_at(status, "image", NULL))
		cJSON_AddStringToObject(b, "image", json_str_at(status, "image", NULL));
	list = cJSON_AddArrayToObject(b, "platforms");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(status, "platforms")) {
		cJSON *e = cJSON_CreateObject();
		const cJSON *attempts = cJSON_GetObjectItemCaseSensitive(p, "attempts");
		if (!e || !cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			break;
		}
		for (size_t i = 0; i < sizeof(platform_fields) / sizeof(platform_fields[0]); i++)
			if (json_str_at(p, platform_fields[i], NULL))
				cJSON_AddStringToObject(e, platform_fields[i], json_str_at(p, platform_fields[i], NULL));
		cJSON_AddNumberToObject(e, "attempts", cJSON_IsNumber(attempts) ? attempts->valuedouble : 0);
	}
}

static void handle_status(void *ctx, struct dynbuf *out)
{
	struct ctl_controller *c = ctx;
	cJSON *root = cJSON_CreateObject(), *builds = cJSON_CreateArray();
	struct ctl_obj **all;
	size_t count;
	char *text;

	if (!root || !builds || !cJSON_AddItemToObject(root, "builds", builds)) {
		cJSON_Delete(builds);
		cJSON_Delete(root);
		dynbuf_addstr(out, "{\"builds\":[]}");
		return;
	}
	count = ctl_store_list(c->informers[INF_BUILDS].store, &all);
	for (size_t i = 0; i < count && i < STATUS_PAGE_BUILDS_MAX; i++) {
		cJSON *build = ctl_obj_parse(all[i]);
		if (build)
			add_build_summary(builds, build);
		cJSON_Delete(build);
	}
	ctl_obj_release_all(all, count);
	cJSON_AddBoolToObject(root, "leader", is_leader(c));
	cJSON_AddNumberToObject(root, "total", (double)count);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	dynbuf_addstr(out, text ? text : "{\"builds\":[]}");
	cJSON_free(text);
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
	if (!c->queue) {
		free(c);
		return NULL;
	}
	strmap_init(&c->node_usable);
	return c;
}

static bool set_paths(struct ctl_controller *c)
{
	const char *ns = c->opts.namespace;
	struct ctl_informer *b = &c->informers[INF_BUILDS], *p = &c->informers[INF_PODS], *j = &c->informers[INF_JOBS],
			    *n = &c->informers[INF_NODES];

	return kube_path(b->path, sizeof(b->path), CTL_API_GROUP, CTL_API_VERSION, ns, CTL_RESOURCE, NULL, NULL) &&
	       kube_path(p->path, sizeof(p->path), "", "v1", ns, "pods", NULL, NULL) &&
	       kube_query(p->path, sizeof(p->path), "labelSelector", CTL_LABEL_BUILD) &&
	       kube_path(j->path, sizeof(j->path), "batch", "v1", ns, "jobs", NULL, NULL) &&
	       kube_query(j->path, sizeof(j->path), "labelSelector", CTL_LABEL_BUILD) &&
	       kube_path(n->path, sizeof(n->path), "", "v1", NULL, "nodes", NULL, NULL);
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

/*
 * Gives the pages of freed memory back to the system. Lists and watch events
 * are parsed whole and then slimmed, so most of what the informers allocate
 * is freed at once; the allocator keeps those pages unless told.
 */
static void return_free_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

enum ctl_err ctl_controller_run(struct ctl_controller *c, const atomic_int *stop, char *errbuf, size_t errlen)
{
	static const ctl_change_fn handlers[INF_COUNT] = {on_build, on_child, on_child, on_node};
	static cJSON *(*const slims[INF_COUNT])(const cJSON *) = {ctl_slim_build, ctl_slim_pod, ctl_slim_job, ctl_slim_node};
	enum ctl_err result = CTL_OK;
	double since_resync = 0, since_trim = 0;

	if (!set_paths(c))
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "the namespace name is too long");
	if (!(c->events = ctl_event_sink_start(0, EVENT_WRITERS, write_event, event_failed, c)))
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the event writer");
	for (int i = 0; i < INF_COUNT; i++) {
		struct ctl_informer *inf = &c->informers[i];
		inf->client = c->client;
		inf->on_change = handlers[i];
		inf->ctx = c;
		inf->slim = slims[i];
		inf->group_of = (i == INF_PODS || i == INF_JOBS) ? ctl_child_group : NULL;
		inf->form = i == INF_NODES ? CTL_STORE_TREES : CTL_STORE_TEXT; /* nodes: few, each read on every preflight */
		if (!ctl_informer_start(inf)) {
			stop_all(c);
			return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the informers");
		}
	}
	{
		const struct ctl_httpd_handlers routes = {handle_healthy, handle_ready, handle_metrics, handle_status, c};
		if (ctl_httpd_start(c->opts.metrics_addr, c->opts.health_addr, &routes, &c->httpd, errbuf, errlen) != CTL_OK) {
			stop_all(c);
			return CTL_E_STARTUP;
		}
	}
	for (int i = 0; i < INF_COUNT; i++) {
		while (!ctl_informer_wait_synced(&c->informers[i], 30, stop)) {
			if (atomic_load(stop)) {
				stop_all(c);
				return CTL_OK;
			}
			logf_(c, CTL_LOG_WARN, c->informers[i].path, "cache not synced yet: %s",
			      c->informers[i].error[0] ? c->informers[i].error : "still listing");
		}
	}
	atomic_store(&c->all_synced, true);
	logf_(c, CTL_LOG_INFO, "", "caches synced: %zu builds, %zu pods, %zu jobs, %zu nodes", ctl_store_len(c->informers[INF_BUILDS].store),
	      ctl_store_len(c->informers[INF_PODS].store), ctl_store_len(c->informers[INF_JOBS].store),
	      ctl_store_len(c->informers[INF_NODES].store));
	if (c->opts.leader_elect) {
		ctl_leader_init(&c->leader);
		c->leader.client = c->client;
		snprintf(c->leader.ns, sizeof(c->leader.ns), "%s", c->opts.lease_namespace);
		snprintf(c->leader.name, sizeof(c->leader.name), "%s", c->opts.lease_name);
		snprintf(c->leader.identity, sizeof(c->leader.identity), "%s", c->opts.identity);
		c->leader.lease_duration_s = c->opts.lease_duration_s;
		c->leader.renew_deadline_s = c->opts.renew_deadline_s;
		c->leader.retry_period_s = c->opts.retry_period_s;
		logf_(c, CTL_LOG_INFO, "", "waiting for lease %s/%s as %s", c->leader.ns, c->leader.name, c->leader.identity);
		if (!ctl_leader_acquire(&c->leader, stop)) {
			stop_all(c);
			return CTL_OK;
		}
		if (!ctl_leader_keep(&c->leader)) {
			stop_all(c);
			return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the lease renewal thread");
		}
		logf_(c, CTL_LOG_INFO, "", "became the leader (lease %s/%s)", c->leader.ns, c->leader.name);
	}
	ctl_store_each(c->informers[INF_BUILDS].store, enqueue_build, c);
	for (c->worker_count = 0; c->worker_count < c->opts.workers; c->worker_count++)
		if (pthread_create(&c->workers[c->worker_count], NULL, worker, c) != 0)
			break;
	return_free_memory();
	while (sleep_unless_stopped(1, stop, &c->leader, c->opts.leader_elect)) {
		since_resync += 1;
		since_trim += 1;
		if (c->opts.resync_s > 0 && since_resync >= c->opts.resync_s) {
			since_resync = 0;
			ctl_store_each(c->informers[INF_BUILDS].store, enqueue_build, c);
		}
		if (since_trim >= TRIM_PERIOD_S) {
			since_trim = 0;
			return_free_memory();
		}
	}
	if (c->opts.leader_elect && atomic_load(&c->leader.lost)) {
		result = ctl_fail(errbuf, errlen, CTL_E_LEADERSHIP, "lost the lease %s/%s: %s", c->leader.ns, c->leader.name, c->leader.error);
	} else {
		/* as documented: the keys being reconciled finish; the queued ones are the next leader's (its first sync queues every build) */
		logf_(c, CTL_LOG_INFO, "", "stopping: finishing the keys being reconciled; %zu queued keys are left to the next leader",
		      ctl_queue_len(c->queue));
	}
	ctl_queue_shutdown(c->queue, false);
	for (int i = 0; i < c->worker_count; i++)
		pthread_join(c->workers[i], NULL);
	c->worker_count = 0;
	if (result == CTL_OK && !ctl_event_sink_drain(c->events, EVENT_DRAIN_S))
		logf_(c, CTL_LOG_WARN, "", "stopping with events still unwritten after %d s", EVENT_DRAIN_S);
	if (c->opts.leader_elect)
		ctl_leader_release(&c->leader);
	stop_all(c);
	return result;
}

void ctl_controller_free(struct ctl_controller *c)
{
	if (!c)
		return;
	ctl_queue_free(c->queue);
	strmap_free(&c->node_usable);
	free(c);
}
