/* What the controller's HTTP ports answer: health, readiness, the Prometheus metrics of its state, and the
 * status.json the status page follows. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controllerstate.h"
#include "controller/procmetrics.h"
#include "util/jsonget.h"
#include "util/banned.h"

/* Appends to out; clears *ok when it does not fit (the handler then answers 500). */
static void emit(struct dynbuf *out, bool *ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit(struct dynbuf *out, bool *ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (dynbuf_vaddf(out, fmt, ap) != DYNBUF_OK)
		*ok = false;
	va_end(ap);
}

bool ctl_serve_healthy(void *ctx, struct dynbuf *out)
{
	(void)ctx;
	return dynbuf_addstr(out, "ok\n") == DYNBUF_OK;
}

bool ctl_serve_ready(void *ctx, struct dynbuf *out)
{
	struct ctl_controller *c = ctx;
	bool synced = atomic_load(&c->all_synced);
	enum dynbuf_err e = synced ? dynbuf_addf(out, "ready: caches synced; %s\n",
						 ctl_is_leader(c) ? "leader" : "standby (another replica holds the lease)")
				   : dynbuf_addstr(out, "not ready: the caches are still being filled\n");

	return synced && e == DYNBUF_OK;
}

/* Builds by status.phase, and their platforms by status.platforms[].phase; the last name of each is "other". */
struct phase_count {
	const char *phases[6];
	unsigned long counts[6];
	const char *platform_phases[6];
	unsigned long platform_counts[6];
};

/* The index of phase among the first count - 1 names, else count - 1 ("other"). */
static size_t phase_index(const char *const *names, size_t count, const char *phase)
{
	size_t i = 0;

	while (i < count - 1 && !(phase && strcmp(names[i], phase) == 0))
		i++;
	return i;
}

static void count_phase(void *ctx, const struct ctl_obj *o, const cJSON *build)
{
	struct phase_count *pc = ctx;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(build, "status"), *p;
	const char *phase = json_str_at(status, "phase", NULL);
	(void)o;

	pc->counts[phase ? phase_index(pc->phases, 6, phase) : 0]++; /* no status yet counts as Pending */
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(status, "platforms")) {
		pc->platform_counts[phase_index(pc->platform_phases, 6, json_str_at(p, "phase", NULL))]++;
	}
}

/* The families of the controller's state under the names controller-runtime operators and every Prometheus
 * client export (work queue, leader election, build info, process_*). */
static void emit_conventional(struct ctl_controller *c, struct dynbuf *out, bool *ok)
{
	unsigned long long adds, retries;

	ctl_queue_counts(c->queue, &adds, &retries);
	emit(out, ok, "%s", "# HELP workqueue_depth Keys waiting in the work queue, per queue.\n# TYPE workqueue_depth gauge\n");
	emit(out, ok, "workqueue_depth{name=\"" CTL_METRICS_CONTROLLER "\"} %zu\n", ctl_queue_len(c->queue));
	emit(out, ok, "%s", "# HELP workqueue_adds_total Keys added to the work queue, per queue.\n# TYPE workqueue_adds_total counter\n");
	emit(out, ok, "workqueue_adds_total{name=\"" CTL_METRICS_CONTROLLER "\"} %llu\n", adds);
	emit(out, ok, "%s",
	     "# HELP workqueue_retries_total Keys queued again with backoff after a failed reconcile, per queue.\n"
	     "# TYPE workqueue_retries_total counter\n");
	emit(out, ok, "workqueue_retries_total{name=\"" CTL_METRICS_CONTROLLER "\"} %llu\n", retries);
	emit(out, ok, "%s",
	     "# HELP leader_election_master_status Whether this replica holds the lease (1) or not (0), per lease.\n"
	     "# TYPE leader_election_master_status gauge\n");
	emit(out, ok, "leader_election_master_status{name=\"%s\"} %d\n", c->opts.lease_name ? c->opts.lease_name : "",
	     ctl_is_leader(c) ? 1 : 0);
	emit(out, ok, "%s",
	     "# HELP multiarch_build_info The controller's version and commit, as labels; always 1.\n"
	     "# TYPE multiarch_build_info gauge\n");
	emit(out, ok, "multiarch_build_info{version=\"%s\",commit=\"%s\"} 1\n", MAC_VERSION, MAC_COMMIT);
	if (*ok && !ctl_process_metrics_render(out))
		*ok = false;
}

/* The bound on builds in flight: the builds holding a slot, those waiting for one, and the bound itself. */
static void emit_admission(struct ctl_controller *c, struct dynbuf *out, bool *ok)
{
	size_t max, in_flight, waiting;

	ctl_admission_counts(c->admission, &max, &in_flight, &waiting);
	emit(out, ok, "%s",
	     "# HELP multiarch_builds_in_flight Builds started and not finished (the bound counts them).\n"
	     "# TYPE multiarch_builds_in_flight gauge\n");
	emit(out, ok, "multiarch_builds_in_flight %zu\n", in_flight);
	emit(out, ok, "%s",
	     "# HELP multiarch_builds_queued Builds waiting for one in flight to finish before they start.\n"
	     "# TYPE multiarch_builds_queued gauge\n");
	emit(out, ok, "multiarch_builds_queued %zu\n", waiting);
	emit(out, ok, "%s",
	     "# HELP multiarch_builds_in_flight_limit The bound on builds in flight (--max-builds-in-flight; 0: none).\n"
	     "# TYPE multiarch_builds_in_flight_limit gauge\n");
	emit(out, ok, "multiarch_builds_in_flight_limit %zu\n", max);
}

bool ctl_serve_metrics(void *ctx, struct dynbuf *out)
{
	static const char *const kinds[INF_COUNT] = {"multiarchbuilds", "pods", "jobs", "nodes"};
	struct ctl_controller *c = ctx;
	struct phase_count pc = {{"Pending", "Building", "Merging", "Succeeded", "Failed", "other"},
				 {0},
				 {"Pending", "Waiting", "Building", "Succeeded", "Failed", "other"},
				 {0}};
	struct ctl_event_counts events;
	bool ok = true;

	if (c->opts.metrics)
		ok = ctl_metrics_render(c->opts.metrics, out);
	emit(out, &ok, "%s", "# HELP multiarch_workqueue_depth Keys waiting for a worker.\n# TYPE multiarch_workqueue_depth gauge\n");
	emit(out, &ok, "multiarch_workqueue_depth %zu\n", ctl_queue_len(c->queue));
	emit_admission(c, out, &ok);
	emit(out, &ok, "%s", "# HELP multiarch_builds MultiArchBuilds in the cache by phase.\n# TYPE multiarch_builds gauge\n");
	ctl_each_build(c, count_phase, &pc);
	for (size_t i = 0; i < 6; i++)
		emit(out, &ok, "multiarch_builds{phase=\"%s\"} %lu\n", pc.phases[i], pc.counts[i]);
	emit(out, &ok, "%s",
	     "# HELP multiarch_platforms The cached builds' platforms by phase (Waiting: for a node, or a retry).\n"
	     "# TYPE multiarch_platforms gauge\n");
	for (size_t i = 0; i < 6; i++)
		emit(out, &ok, "multiarch_platforms{phase=\"%s\"} %lu\n", pc.platform_phases[i], pc.platform_counts[i]);
	emit(out, &ok, "%s", "# HELP multiarch_cached_objects Objects in the informer caches.\n# TYPE multiarch_cached_objects gauge\n");
	for (int i = 0; i < INF_COUNT; i++)
		emit(out, &ok, "multiarch_cached_objects{kind=\"%s\"} %zu\n", kinds[i], ctl_store_len(c->informers[i].store));
	emit(out, &ok, "%s",
	     "# HELP multiarch_informer_lists_total Full LISTs per informer (the first, and each after a 410 or an error).\n"
	     "# TYPE multiarch_informer_lists_total counter\n");
	for (int i = 0; i < INF_COUNT; i++)
		emit(out, &ok, "multiarch_informer_lists_total{kind=\"%s\"} %u\n", kinds[i], ctl_informer_counts(&c->informers[i]).lists);
	emit(out, &ok, "%s",
	     "# HELP multiarch_informer_watches_total Watches started per informer.\n# TYPE multiarch_informer_watches_total counter\n");
	for (int i = 0; i < INF_COUNT; i++)
		emit(out, &ok, "multiarch_informer_watches_total{kind=\"%s\"} %u\n", kinds[i],
		     ctl_informer_counts(&c->informers[i]).watches);
	emit(out, &ok, "%s",
	     "# HELP multiarch_informer_expired_total Watches ended by 410 Gone (resourceVersion too old), each followed by a relist.\n"
	     "# TYPE multiarch_informer_expired_total counter\n");
	for (int i = 0; i < INF_COUNT; i++)
		emit(out, &ok, "multiarch_informer_expired_total{kind=\"%s\"} %u\n", kinds[i], ctl_informer_counts(&c->informers[i]).gone);
	ctl_event_sink_counts(c->events, &events);
	emit(out, &ok, "%s", "# HELP multiarch_events_written_total Events written.\n# TYPE multiarch_events_written_total counter\n");
	emit(out, &ok, "multiarch_events_written_total %llu\n", events.written);
	emit(out, &ok, "%s", "# HELP multiarch_events_pending Events queued or being written.\n# TYPE multiarch_events_pending gauge\n");
	emit(out, &ok, "multiarch_events_pending %zu\n", events.pending);
	emit(out, &ok, "%s",
	     "# HELP multiarch_events_dropped_total Events not written: the queue was full, or the write failed.\n"
	     "# TYPE multiarch_events_dropped_total counter\n");
	emit(out, &ok, "multiarch_events_dropped_total %llu\n", events.dropped);
	emit(out, &ok, "%s",
	     "# HELP multiarch_leader Whether this replica holds the lease (1) or stands by (0).\n# TYPE multiarch_leader gauge\n");
	emit(out, &ok, "multiarch_leader %d\n", ctl_is_leader(c) ? 1 : 0);
	emit_conventional(c, out, &ok);
	return ok;
}

#define STATUS_PAGE_BUILDS_MAX 500

/* Adds build's summary to the array builds. */
static void add_build_summary(cJSON *builds, const cJSON *build)
{
	static const char *const platform_fields[] = {"platform", "phase", "node", "pod", "digest", "message"};
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata"),
		    *status = cJSON_GetObjectItemCaseSensitive(build, "status");
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

bool ctl_serve_status(void *ctx, struct dynbuf *out)
{
	struct ctl_controller *c = ctx;
	cJSON *root = cJSON_CreateObject(), *builds = cJSON_CreateArray();
	struct ctl_obj **all;
	size_t count;
	char *text;
	bool ok;

	if (!root || !builds || !cJSON_AddItemToObject(root, "builds", builds)) {
		cJSON_Delete(builds);
		cJSON_Delete(root);
		return dynbuf_addstr(out, "{\"builds\":[]}") == DYNBUF_OK;
	}
	count = ctl_store_list(c->informers[INF_BUILDS].store, &all);
	for (size_t i = 0; i < count && i < STATUS_PAGE_BUILDS_MAX; i++) {
		cJSON *build = ctl_obj_parse(all[i]);
		if (build)
			add_build_summary(builds, build);
		cJSON_Delete(build);
	}
	ctl_obj_release_all(all, count);
	cJSON_AddBoolToObject(root, "leader", ctl_is_leader(c));
	cJSON_AddNumberToObject(root, "total", (double)count);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	ok = text && dynbuf_addstr(out, text) == DYNBUF_OK;
	cJSON_free(text);
	return ok;
}
