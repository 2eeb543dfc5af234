/* The workers: one key at a time, its build and children read from the caches and reconciled; a run that sent
 * writes lets the key go (it stays processing) and the key runs again once they are answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/controllerstate.h"
#include "controller/nodes.h"
#include "util/jsonget.h"
#include "util/banned.h"

static bool any_node_fits(void *ctx, const cJSON *selector, const cJSON *tolerations)
{
	struct ctl_controller *c = ctx;

	return ctl_nodes_any_fit(c->informers[INF_NODES].store, selector, tolerations);
}

/* Who asks whether a build may start: the controller and the build's key. */
struct start_ask {
	struct ctl_controller *c;
	const char *key;
};

static bool may_start(void *ctx)
{
	const struct start_ask *ask = ctx;

	return ctl_slot_try(ask->c, ask->key);
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

/* Counts a reconcile of key and queues the key again as its outcome asks: with backoff after a failed write, after
 * requeue_after_s when a timeout or retry is due, or not at all. */
static void reconciled(struct ctl_controller *c, const char *key, const struct ctl_outcome *out)
{
	char ns[CTL_KEY_MAX], name[CTL_KEY_MAX], delay_text[32], counts[3][16];
	struct ctl_log_field fields[] = {{"namespace", ns}, {"build", name}, {"error", NULL}, {"retryAfter", delay_text}};

	if (c->opts.metrics) {
		if (out->retry)
			atomic_fetch_add(&c->opts.metrics->reconcile_errors, 1);
		else if (out->requeue_after_s >= 0)
			atomic_fetch_add(&c->opts.metrics->reconcile_requeues_after, 1);
	}
	ctl_key_split(key, ns, sizeof(ns), name, sizeof(name));
	if (out->retry) {
		snprintf(delay_text, sizeof(delay_text), "%.1fs", ctl_queue_add_rate_limited(c->queue, key));
		fields[2].value = out->error;
		ctl_log(c, CTL_LOG_WARN, "reconcile will be retried", fields, CTL_FIELDS(fields));
	} else {
		ctl_queue_forget(c->queue, key);
		if (out->requeue_after_s >= 0)
			ctl_queue_add_after(c->queue, key, out->requeue_after_s);
	}
	ctl_note_waiting(c, key, out->waiting_arches);
	if (ctl_phase_final(out->phase))
		ctl_slot_release(c, key);
	else if (out->phase == CTL_PHASE_BUILDING || out->phase == CTL_PHASE_MERGING)
		ctl_slot_hold(c, key);
	if (out->status_written || out->creates || out->deletes) {
		const struct ctl_log_field done[] = {{"namespace", ns},      {"build", name},        {"phase", ctl_phase_name(out->phase)},
						     {"creates", counts[0]}, {"deletes", counts[1]}, {"statusWritten", counts[2]}};
		snprintf(counts[0], sizeof(counts[0]), "%u", out->creates);
		snprintf(counts[1], sizeof(counts[1]), "%u", out->deletes);
		snprintf(counts[2], sizeof(counts[2]), "%s", out->status_written ? "true" : "false");
		ctl_log(c, CTL_LOG_DEBUG, "reconciled", done, CTL_FIELDS(done));
	}
}

/* Runs the reconcile of key's build (parsed) over its cached children, with writer; counts and times it. */
static void run_reconcile(struct ctl_controller *c, const char *key, const cJSON *build, const struct ctl_writer *writer,
			  struct ctl_obj **pod_objs, size_t pod_count, struct ctl_obj **job_objs, size_t job_count, struct ctl_outcome *out)
{
	cJSON **pods = NULL, **jobs = NULL;
	struct start_ask ask = {c, key};
	struct ctl_view view;
	struct timespec started, ended;

	if (!parse_all(pod_objs, pod_count, &pods) || !parse_all(job_objs, job_count, &jobs)) {
		out->retry = true;
		snprintf(out->error, sizeof(out->error), "out of memory reading the caches");
	} else {
		memset(&view, 0, sizeof(view));
		view.build = build;
		view.pods = (const cJSON *const *)pods;
		view.pod_count = pod_count;
		view.jobs = (const cJSON *const *)jobs;
		view.job_count = job_count;
		view.any_node_fits = any_node_fits;
		view.nodes_ctx = c;
		view.may_start = may_start;
		view.start_ctx = &ask;
		view.in_flight_max = c->opts.max_builds_in_flight;
		view.now = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &started);
		ctl_reconcile(&c->opts.reconcile, &view, writer, out);
		clock_gettime(CLOCK_MONOTONIC, &ended);
		if (c->opts.metrics) {
			atomic_fetch_add(&c->opts.metrics->reconciles, 1);
			ctl_histogram_observe(&c->opts.metrics->reconcile_seconds,
					      (double)(ended.tv_sec - started.tv_sec) + (double)(ended.tv_nsec - started.tv_nsec) / 1e9);
		}
	}
	delete_trees(pods, pod_count);
	delete_trees(jobs, job_count);
}

/* Ends a run of key that sent writes: the key stays processing; it runs again once they are answered. */
static void let_go(struct ctl_controller *c, const char *key, struct ctl_write_run *run, const cJSON *build)
{
	if (ctl_inflight_seal(c->inflight, key, json_str_at(build, "metadata", "uid"), &run->held))
		ctl_queue_resume(c->queue, key);
}

/* Sends the deletes an earlier run of key held until its status write succeeded (a timed-out pod, once its failure
 * is recorded). A delete that cannot be sent is logged; the pod's own timeout or the next round deletes it. */
static void send_held_deletes(struct ctl_controller *c, const char *key, const struct ctl_writer *writer)
{
	struct ctl_held_delete deletes[CTL_HELD_DELETES_MAX];
	size_t n = ctl_inflight_take_deletes(c->inflight, key, deletes, CTL_HELD_DELETES_MAX);
	char err[CTL_ERRBUF_SIZE], ns[CTL_KEY_MAX], name[CTL_KEY_MAX];

	ctl_key_split(key, ns, sizeof(ns), name, sizeof(name));
	for (size_t i = 0; i < n; i++) {
		cJSON *child = cJSON_Parse(deletes[i].object);
		enum ctl_write res = child ? writer->remove(writer->ctx, deletes[i].kind, child, err, sizeof(err)) : CTL_WRITE_FAILED;
		if (res != CTL_WRITE_OK && res != CTL_WRITE_PENDING && res != CTL_WRITE_GONE) {
			const struct ctl_log_field fields[] = {
				{"namespace", ns}, {"build", name}, {"kind", deletes[i].kind}, {"error", child ? err : "out of memory"}};
			ctl_log(c, CTL_LOG_WARN, "cannot delete a child after its status was written", fields, CTL_FIELDS(fields));
		}
		cJSON_Delete(child);
		free(deletes[i].object);
	}
}

/* Makes run (the worker's own, NULL when it could not be had) ready for a run of key: nothing sent, nothing held. */
static void run_reset(struct ctl_write_run *run, struct ctl_controller *c, const char *key)
{
	if (!run)
		return;
	run->c = c;
	run->key = key;
	run->sent = 0;
	run->status_sent = false;
	run->held.event_count = 0;
	ctl_held_free(&run->held); /* none left by the key before (a status write sent hands them on); none kept */
}

/*
 * Reconciles key once, with run (the worker's, reused from key to key; NULL when out of memory). Returns true when
 * the key is done with (the caller ends its processing), false when the run sent writes that are not answered yet:
 * the key stays processing and is handed to a worker again once they are.
 */
static bool reconcile_key(struct ctl_controller *c, const char *key, struct ctl_write_run *run)
{
	struct ctl_writer writer;
	struct ctl_obj *cached = ctl_store_get(c->informers[INF_BUILDS].store, key);
	struct ctl_obj **pod_objs = NULL, **job_objs = NULL;
	struct ctl_write_tally tally = {0, 0, false};
	size_t pod_count, job_count;
	struct ctl_outcome out;
	cJSON *build;

	if (!cached) {
		ctl_inflight_finish(c->inflight, key, &tally);
		ctl_queue_forget(c->queue, key);
		ctl_note_waiting(c, key, "");
		ctl_tombstones_forget(c->tombstones, key, NULL, 0);
		ctl_slot_release(c, key);
		return true;
	}
	run_reset(run, c, key);
	build = ctl_obj_parse(cached);
	ctl_obj_release(cached);
	pod_count = ctl_store_group(c->informers[INF_PODS].store, key, &pod_objs);
	ctl_tombstones_add_group(c->tombstones, key, &pod_objs, &pod_count);
	job_count = ctl_store_group(c->informers[INF_JOBS].store, key, &job_objs);
	memset(&out, 0, sizeof(out));
	if (!build || !run) {
		out.retry = true;
		snprintf(out.error, sizeof(out.error), "out of memory reading the caches");
	} else {
		ctl_api_writer(run, &writer);
		send_held_deletes(c, key, &writer);
		run_reconcile(c, key, build, &writer, pod_objs, pod_count, job_objs, job_count, &out);
	}
	if (run && run->sent > 0) {
		let_go(c, key, run, build);
	} else {
		ctl_inflight_finish(c->inflight, key, &tally);
		out.creates += tally.creates;
		out.deletes += tally.deletes;
		out.status_written = out.status_written || tally.status_written;
		if (!out.retry && !out.results_held) /* what they said is in the status now */
			ctl_tombstones_forget(c->tombstones, key, pod_objs, pod_count);
		reconciled(c, key, &out);
	}
	ctl_obj_release_all(pod_objs, pod_count);
	ctl_obj_release_all(job_objs, job_count);
	cJSON_Delete(build);
	return !run || run->sent == 0;
}

void *ctl_worker_main(void *arg)
{
	struct ctl_controller *c = arg;
	/* the run's record (some 35 KiB, most of it room for held Events) is the worker's, not allocated per key */
	struct ctl_write_run *run = calloc(1, sizeof(*run));
	char *key;
	double waited = 0;

	while (ctl_queue_get_waited(c->queue, &key, &waited)) {
		if (c->opts.metrics)
			ctl_histogram_observe(&c->opts.metrics->queue_wait_seconds, waited);
		if (reconcile_key(c, key, run))
			ctl_queue_done(c->queue, key);
		free(key);
	}
	if (run)
		ctl_held_free(&run->held);
	free(run);
	return NULL;
}
