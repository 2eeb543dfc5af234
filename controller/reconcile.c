/* One reconcile of one MultiArchBuild: read the build, its children and the nodes from the caches, narrow them to
 * the build's own, and run its steps (platformstep.c, indexstep.c, buildstatus.c); here also the helpers through
 * which every step writes. */
#include "controller/reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "controller/labels.h"
#include "controller/policycheck.h"
#include "controller/reconcilerun.h"
#include "util/jsonget.h"
#include "util/jsonnum.h"
#include "util/text.h"
#include "util/banned.h"

void ctl_reconcile_options_init(struct ctl_reconcile_options *o)
{
	ctl_child_options_init(&o->children);
	o->retry_base_s = 10;
	o->retry_max_s = 300;
	o->status_batch_s = 5;
}

/*
 * Narrows the informer's view to the build's own children: Jobs and build pods whose controller is this build
 * (by uid), and index pods whose controller is one of those Jobs. Labels alone prove nothing: a user's pod can
 * carry them, and a build deleted and created again under the same name leaves children of the old uid behind.
 * pods and jobs are caller-provided arrays as long as the view's. Returns the narrowed view in *own.
 */
static void own_children(const struct ctl_view *view, const cJSON **pods, const cJSON **jobs, struct ctl_view *own)
{
	const char *uid = json_str_at(view->build, "metadata", "uid");

	*own = *view;
	own->pods = pods;
	own->jobs = jobs;
	own->pod_count = own->job_count = 0;
	for (size_t i = 0; i < view->job_count; i++)
		if (ctl_controlled_by(view->jobs[i], uid))
			jobs[own->job_count++] = view->jobs[i];
	for (size_t i = 0; i < view->pod_count; i++) {
		const cJSON *pod = view->pods[i];
		bool mine = ctl_controlled_by(pod, uid);
		for (size_t j = 0; !mine && j < own->job_count; j++)
			mine = ctl_controlled_by(pod, json_str_at(own->jobs[j], "metadata", "uid"));
		if (mine)
			pods[own->pod_count++] = view->pods[i];
	}
}

/* Cancels the children of other rounds: a new spec or a new requested-at starts over. A finished pod holds nothing; it goes with
 * the build (and keeps its logs until then). */
static void cancel_other_rounds(struct run *r)
{
	for (size_t i = 0; i < r->view->pod_count; i++) {
		const cJSON *pod = r->view->pods[i];
		if (!ctl_child_in_round(pod, &r->spec) && !ctl_pod_finished(pod))
			run_delete_child(r, "Pod", pod);
	}
	for (size_t i = 0; i < r->view->job_count; i++) {
		const cJSON *job = r->view->jobs[i];
		if (!ctl_child_in_round(job, &r->spec) && !json_at(job, "status", "completionTime"))
			run_delete_child(r, "Job", job);
	}
}

/* The status of a build the controller cannot or may not act on (reason InvalidSpec or PolicyViolation): Stalled
 * until the spec (or the operator's policy) changes. No child is created. Refused again, it keeps its completion
 * time, so that a resync writes nothing. */
static void refuse_spec(struct run *r, enum ctl_reason reason, const char *why)
{
	const char *done = json_str_at(r->old_status, "completionTime", NULL);
	struct summary s;

	memset(&s, 0, sizeof(s));
	s.phase = CTL_PHASE_FAILED;
	s.reason = reason;
	text_format(s.message, sizeof(s.message), "%s", why);
	text_copy(s.completion, sizeof(s.completion),
		  r->same_round && done && ctl_phase_final(ctl_phase_parse(json_str_at(r->old_status, "phase", NULL))) ? done : r->now);
	r->spec.platform_count = 0;
	run_write_status(r, &s);
}

/* The steps of a build whose spec reads well: platforms, then the summary (and the index step), then status;
 * timed-out pods are stopped only once their failure is recorded. */
static void run_steps(struct run *r)
{
	struct summary s;

	run_collect_pods(r);
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		r->platforms[i].platform = &r->spec.platforms[i];
		r->platforms[i].prev =
			r->same_round ? json_find(json_at(r->old_status, "platforms", NULL), "platform", r->spec.platforms[i].text) : NULL;
		run_platform_step(r, i);
	}
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &r->platforms[i];
		size_t used = strlen(r->out->waiting_arches);
		if (ps->phase == CTL_PHASE_WAITING && ps->reason == CTL_REASON_NO_MATCHING_NODES)
			text_format(r->out->waiting_arches + used, sizeof(r->out->waiting_arches) - used, "%s%s ", used ? "" : " ",
				    ps->platform->platform.arch);
	}
	run_summarise(r, &s, !r->out->retry);
	r->out->phase = s.phase;
	run_write_status(r, &s);
	/* after the status that records why (with it in flight, the writer holds them until it is written) */
	if (r->out->status_written || r->out->status_pending || (r->old_status && !r->out->retry && !r->out->writes_pending))
		for (size_t i = 0; i < r->delete_after_count; i++)
			run_delete_child(r, "Pod", r->delete_after_status[i]);
}

/* Whether old_status (borrowed; may be NULL) describes spec's round: its generation and requested-at. */
static bool status_of_round(const cJSON *old_status, const struct ctl_build_spec *spec)
{
	const char *handled = json_str_at(old_status, "lastHandledRequestedAt", NULL);

	return json_whole_number_or(json_at(old_status, "observedGeneration", NULL), 0, JSON_WHOLE_MAX, -1) == spec->generation &&
	       strcmp(handled ? handled : "", spec->requested_at) == 0;
}

/* Whether the finished round's retention.ttlAfterFinished has passed; asks to be called again when it will. */
static bool ttl_passed(struct run *r)
{
	time_t done;

	if (r->retention.ttl_s < 0 || !rfc3339_parse(json_str_at(r->old_status, "completionTime", NULL), &done))
		return false;
	if (r->view->now >= done + r->retention.ttl_s)
		return true;
	run_requeue_within(r, (double)(done + r->retention.ttl_s - r->view->now));
	return false;
}

/* Reads the spec and the round the status describes; ends a build that needs no work. True when the steps
 * are to run. */
static bool prepare(struct run *r)
{
	char err[CTL_ERRBUF_SIZE];
	enum ctl_phase old_phase;
	const char *stalled_by;
	bool finished;

	if (json_at(r->view->build, "metadata", "deletionTimestamp"))
		return false; /* the garbage collector removes the children with their owner */
	if (ctl_build_spec_read(r->view->build, &r->spec, err, sizeof(err)) != CTL_OK) {
		r->same_round = status_of_round(r->old_status, &r->spec);
		r->retention = ctl_retention_resolve(NULL, r->opts->children.config ? &r->opts->children.config->retention : NULL);
		refuse_spec(r, CTL_REASON_INVALID_SPEC, err);
		r->out->phase = CTL_PHASE_FAILED;
		return false;
	}
	r->same_round = status_of_round(r->old_status, &r->spec);
	r->retention = ctl_retention_resolve(&r->spec.retention, r->opts->children.config ? &r->opts->children.config->retention : NULL);
	if (!ctl_policy_allows(&r->opts->children, r->view->build, &r->spec, err, sizeof(err))) {
		cancel_other_rounds(r);
		refuse_spec(r, CTL_REASON_POLICY_VIOLATION, err);
		r->out->phase = CTL_PHASE_FAILED;
		return false;
	}
	cancel_other_rounds(r);
	old_phase = ctl_phase_parse(json_str_at(r->old_status, "phase", NULL));
	/* a build the policy refused is built once the policy allows it: its refusal is no outcome of a build */
	stalled_by = json_str_at(json_find(json_at(r->old_status, "conditions", NULL), "type", "Stalled"), "reason", NULL);
	finished = r->same_round && ctl_phase_final(old_phase) &&
		   !(stalled_by && strcmp(stalled_by, ctl_reason_name(CTL_REASON_POLICY_VIOLATION)) == 0);
	run_apply_retention(r, finished && ttl_passed(r));
	if (finished) {
		r->out->phase = old_phase;
		return false; /* finished for this round: only a new spec or requested-at builds again */
	}
	return true;
}

void ctl_reconcile(const struct ctl_reconcile_options *opts, const struct ctl_view *view, const struct ctl_writer *writer,
		   struct ctl_outcome *out)
{
	struct run *r = calloc(1, sizeof(*r));
	/* arrays of tree pointers */
	const cJSON **pods = calloc(view->pod_count + 1, sizeof(cJSON *)); /* NOLINT(bugprone-sizeof-expression) */
	const cJSON **jobs = calloc(view->job_count + 1, sizeof(cJSON *)); /* NOLINT(bugprone-sizeof-expression) */
	struct ctl_view own;

	memset(out, 0, sizeof(*out));
	out->requeue_after_s = -1;
	if (!r || !pods || !jobs) {
		text_copy(out->error, sizeof(out->error), "out of memory");
		out->retry = true;
		goto done;
	}
	own_children(view, pods, jobs, &own);
	r->opts = opts;
	r->view = &own;
	r->w = writer;
	r->out = out;
	rfc3339_format(view->now, r->now, sizeof(r->now));
	text_copy(r->name, sizeof(r->name), json_str_at(view->build, "metadata", "name"));
	r->old_status = json_at(view->build, "status", NULL);
	if (prepare(r))
		run_steps(r);
done:
	free(pods);
	free(jobs);
	free(r);
}
