/* The status step of a reconcile: the platforms added up into the build's phase, the status they describe with
 * its kstatus conditions, written only when it changed, and the Events for what changed. */
#include <stdio.h>
#include <string.h>

#include "controller/conditions.h"
#include "controller/labels.h"
#include "controller/reconcilerun.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/banned.h"

/* Appends platform text to the list buf of size bytes, *len long ("linux/arm64, linux/s390x"), as far as it fits. */
static void append_platform(char *buf, size_t size, size_t *len, const char *platform)
{
	int n = snprintf(buf + *len, size - *len, "%s%s", *len ? ", " : "", platform);

	if (n > 0 && (size_t)n < size - *len)
		*len += (size_t)n;
}

static void build_failed(const struct run *r, struct summary *s, enum ctl_reason reason)
{
	s->phase = CTL_PHASE_FAILED;
	s->reason = reason;
	text_copy(s->completion, sizeof(s->completion), r->now);
}

void run_summarise(struct run *r, struct summary *s, bool run_index)
{
	bool settled = true, building = false;
	const struct platform_state *failed = NULL, *queued_by = NULL;
	size_t len = 0, optional_len = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &r->platforms[i];
		if (ps->phase == CTL_PHASE_SUCCEEDED)
			s->succeeded++;
		else if (ps->phase == CTL_PHASE_FAILED && !ps->platform->optional && !failed)
			failed = ps;
		else if (ps->phase != CTL_PHASE_FAILED)
			settled = false;
		if (ps->phase == CTL_PHASE_BUILDING)
			building = true;
		if (ps->reason == CTL_REASON_QUEUED) {
			s->queued = true;
			queued_by = ps;
		}
		if (ps->reason == CTL_REASON_NO_MATCHING_NODES)
			append_platform(s->nodes_missing, sizeof(s->nodes_missing), &len, ps->platform->text);
		if (ps->phase == CTL_PHASE_FAILED && ps->platform->optional)
			append_platform(s->optional_failed, sizeof(s->optional_failed), &optional_len, ps->platform->text);
	}
	if (failed && settled) {
		build_failed(r, s, failed->reason != CTL_REASON_NONE ? failed->reason : CTL_REASON_PLATFORM_FAILED);
		text_format(s->message, sizeof(s->message), "%s failed: %.1500s", failed->platform->text, failed->message);
	} else if (settled && s->succeeded == 0) {
		build_failed(r, s, CTL_REASON_NO_PLATFORM_SUCCEEDED);
		text_copy(s->message, sizeof(s->message), "no platform succeeded, so there is nothing to merge");
	} else if (settled && run_index) {
		run_index_step(r, s);
	} else if (settled) {
		s->phase = CTL_PHASE_MERGING;
	} else {
		s->phase = building || s->succeeded ? CTL_PHASE_BUILDING : CTL_PHASE_PENDING;
		if (s->nodes_missing[0])
			text_format(s->message, sizeof(s->message), "waiting for nodes: no Ready, schedulable node for %s",
				    s->nodes_missing);
		else if (queued_by && s->phase == CTL_PHASE_PENDING)
			text_copy(s->message, sizeof(s->message), queued_by->message);
		else
			text_format(s->message, sizeof(s->message), "%u of %zu platforms built", s->succeeded, r->spec.platform_count);
	}
}

/* Adds a string member unless value is empty. */
static bool add_nonempty(cJSON *obj, const char *key, const char *value)
{
	return !value || !value[0] || cJSON_AddStringToObject(obj, key, value);
}

/* A new array of the old status's well-formed conditions (objects with string type, status and lastTransitionTime);
 * anything else the server sent is dropped and set afresh. NULL when out of memory; caller owns the result. */
static cJSON *carried_conditions(const cJSON *old_conditions)
{
	cJSON *list = cJSON_CreateArray();
	const cJSON *c;

	if (!list || !cJSON_IsArray(old_conditions))
		return list;
	cJSON_ArrayForEach(c, old_conditions) {
		cJSON *copy_of;
		if (!cJSON_IsObject(c) || !json_str_at(c, "type", NULL) || !json_str_at(c, "status", NULL) ||
		    !json_str_at(c, "lastTransitionTime", NULL))
			continue;
		copy_of = cJSON_Duplicate(c, true);
		if (!copy_of || !cJSON_AddItemToArray(list, copy_of)) {
			cJSON_Delete(copy_of);
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

/* The reason a condition gives while the build is not finished: Queued while it waits to start, else as its
 * phase says. */
static enum ctl_reason progress_reason(const struct summary *s)
{
	if (s->queued && s->phase == CTL_PHASE_PENDING && !s->nodes_missing[0])
		return CTL_REASON_QUEUED;
	return ctl_reason_of_progress(s->phase, s->nodes_missing[0] != '\0');
}

/* Sets Degraded: True only for an index pushed without the optional platforms that failed (Ready stays True, as
 * kstatus and the Argo CD health check count it healthy); False otherwise, with Ready's reason until there is an
 * index. */
static void set_degraded(const struct run *r, const struct summary *s, cJSON *conditions)
{
	long gen = r->spec.generation;
	char message[700];

	if (s->phase == CTL_PHASE_SUCCEEDED && s->optional_failed[0]) {
		text_format(message, sizeof(message), "the index lacks %s: optional, failed", s->optional_failed);
		ctl_condition_set(conditions, "Degraded", "True", ctl_reason_name(CTL_REASON_PARTIAL_INDEX), message, gen, r->now);
	} else if (s->phase == CTL_PHASE_SUCCEEDED) {
		ctl_condition_set(conditions, "Degraded", "False", ctl_reason_name(CTL_REASON_COMPLETE_INDEX),
				  "the index holds every platform", gen, r->now);
	} else if (s->phase == CTL_PHASE_FAILED) {
		ctl_condition_set(conditions, "Degraded", "False", ctl_reason_name(s->reason), "the build failed: no index was pushed", gen,
				  r->now);
	} else {
		ctl_condition_set(conditions, "Degraded", "False", ctl_reason_name(progress_reason(s)),
				  "no index is pushed for this generation yet", gen, r->now);
	}
}

/* Sets Ready, Reconciling, Stalled, Degraded and NodesAvailable in conditions for the summary. */
static void set_conditions(const struct run *r, const struct summary *s, cJSON *conditions)
{
	long gen = r->spec.generation;
	const char *reason = ctl_reason_name(s->reason);
	const char *progress = ctl_reason_name(progress_reason(s));
	char message[700];

	if (s->phase == CTL_PHASE_SUCCEEDED) {
		ctl_condition_set(conditions, "Ready", "True", "Succeeded", s->message, gen, r->now);
		ctl_condition_set(conditions, "Reconciling", "False", "Succeeded", "the index is pushed and verified", gen, r->now);
		ctl_condition_set(conditions, "Stalled", "False", "Succeeded", "the build succeeded", gen, r->now);
	} else if (s->phase == CTL_PHASE_FAILED) {
		ctl_condition_set(conditions, "Ready", "False", reason, s->message, gen, r->now);
		ctl_condition_set(conditions, "Reconciling", "False", reason, "the build stopped; change the spec to build again", gen,
				  r->now);
		ctl_condition_set(conditions, "Stalled", "True", reason, s->message, gen, r->now);
	} else {
		ctl_condition_set(conditions, "Ready", "False", progress, s->message, gen, r->now);
		ctl_condition_set(conditions, "Reconciling", "True", progress, s->message, gen, r->now);
		ctl_condition_set(conditions, "Stalled", "False", progress, "the build is progressing", gen, r->now);
	}
	set_degraded(r, s, conditions);
	if (s->nodes_missing[0]) {
		text_format(message, sizeof(message), "no Ready, schedulable node for %s", s->nodes_missing);
		ctl_condition_set(conditions, "NodesAvailable", "False", "NoMatchingNodes", message, gen, r->now);
	} else {
		ctl_condition_set(conditions, "NodesAvailable", "True", "NodesAvailable", "every platform has a node of its architecture",
				  gen, r->now);
	}
}

/* Appends the status.platforms entries of states to list; false when out of memory. */
static bool add_platforms(const struct run *r, const struct platform_state *states, cJSON *list)
{
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &states[i];
		cJSON *e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			return false;
		}
		if (!cJSON_AddStringToObject(e, "platform", ps->platform->text) ||
		    !cJSON_AddStringToObject(e, "phase", ctl_phase_name(ps->phase)) ||
		    !add_nonempty(e, "reason", ctl_reason_name(ps->reason)) || !add_nonempty(e, "digest", ps->digest) ||
		    !add_nonempty(e, "pod", ps->pod) || !add_nonempty(e, "node", ps->node) ||
		    !cJSON_AddNumberToObject(e, "attempts", ps->attempts) || !add_nonempty(e, "startTime", ps->start) ||
		    !add_nonempty(e, "completionTime", ps->completion) || !add_nonempty(e, "message", ps->message))
			return false;
	}
	return true;
}

/* The status the summary and platform states describe; conditions carried over from the old status keep their
 * times. NULL when out of memory; caller owns the result. */
static cJSON *compose_status(const struct run *r, const struct summary *s, const struct platform_state *states)
{
	cJSON *st = cJSON_CreateObject(), *list, *conditions;
	const char *start = r->same_round ? json_str_at(r->old_status, "startTime", NULL) : NULL;
	char summary[32], short_digest[20];
	const char *hex = strchr(s->digest, ':');
	bool ok = st != NULL;

	snprintf(summary, sizeof(summary), "%u/%zu", s->succeeded, r->spec.platform_count);
	snprintf(short_digest, sizeof(short_digest), "%.12s", hex ? hex + 1 : s->digest);
	ok = ok && cJSON_AddNumberToObject(st, "observedGeneration", (double)r->spec.generation);
	ok = ok && add_nonempty(st, "lastHandledRequestedAt", r->spec.requested_at);
	ok = ok && cJSON_AddStringToObject(st, "phase", ctl_phase_name(s->phase));
	ok = ok && add_nonempty(st, "image", s->image) && add_nonempty(st, "digest", s->digest);
	ok = ok && (!s->digest[0] || cJSON_AddStringToObject(st, "shortDigest", short_digest));
	ok = ok && cJSON_AddStringToObject(st, "platformSummary", summary);
	ok = ok && add_nonempty(st, "indexJob", s->job);
	ok = ok && add_nonempty(st, "startTime", start ? start : r->now);
	ok = ok && add_nonempty(st, "completionTime", ctl_phase_final(s->phase) ? s->completion : "");
	ok = ok && add_nonempty(st, "message", s->message);
	ok = ok && run_add_history(r, s, st);
	list = ok ? cJSON_AddArrayToObject(st, "platforms") : NULL;
	ok = list && add_platforms(r, states, list);
	conditions = ok ? carried_conditions(json_at(r->old_status, "conditions", NULL)) : NULL;
	if (!conditions || !cJSON_AddItemToObject(st, "conditions", conditions)) {
		cJSON_Delete(conditions);
		cJSON_Delete(st);
		return NULL;
	}
	set_conditions(r, s, conditions);
	return st;
}

/* The Event for platform state ps against its previous status entry, when it is a failure or a retry: a platform
 * that builds or succeeds is told once, in the build's outcome. */
static void platform_event(struct run *r, const struct platform_state *ps)
{
	enum ctl_phase was = ctl_phase_parse(json_str_at(ps->prev, "phase", NULL));
	const cJSON *was_attempts = json_at(ps->prev, "attempts", NULL);
	bool attempts_changed = !cJSON_IsNumber(was_attempts) || was_attempts->valueint != ps->attempts;
	bool phase_changed = !ps->prev || was != ps->phase;
	char note[1400];

	if (ps->phase == CTL_PHASE_WAITING && (phase_changed || attempts_changed)) {
		text_format(note, sizeof(note), "%s: %s", ps->platform->text, ps->message);
		r->w->event(r->w->ctx, r->view->build, true,
			    ctl_reason_name(ps->reason != CTL_REASON_NONE ? ps->reason : CTL_REASON_WAITING), note);
	} else if (ps->phase == CTL_PHASE_FAILED && phase_changed) {
		text_format(note, sizeof(note), "%s: %s", ps->platform->text, ps->message);
		r->w->event(r->w->ctx, r->view->build, true, ctl_reason_name(CTL_REASON_PLATFORM_FAILED), note);
	}
}

/* The note of a build's success: the index, then where each platform was built and in how many attempts. */
static void success_note(const struct run *r, const struct summary *s, char *note, size_t len)
{
	size_t used;

	text_format(note, len, "%s:", s->message);
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &r->platforms[i];
		used = strlen(note);
		if (ps->phase == CTL_PHASE_SUCCEEDED)
			text_format(note + used, len - used, "%s %s on %s (%d attempt%s)", i ? ";" : "", ps->platform->text,
				    ps->node[0] ? ps->node : "an unknown node", ps->attempts, ps->attempts == 1 ? "" : "s");
		else
			text_format(note + used, len - used, "%s %s %s", i ? ";" : "", ps->platform->text, ctl_phase_name(ps->phase));
	}
}

/* Events for what changed between the written status and the one before: a platform's failure or retry, a new
 * generation, and the build's outcome (one Event, naming every platform). */
static void emit_events(struct run *r, const struct summary *s)
{
	enum ctl_phase old_phase = ctl_phase_parse(json_str_at(r->old_status, "phase", NULL));
	const cJSON *old_gen = json_at(r->old_status, "observedGeneration", NULL);
	char note[1400];

	if (!r->w->event)
		return;
	if (!r->same_round && cJSON_IsNumber(old_gen) && old_gen->valuedouble == (double)r->spec.generation) {
		text_format(note, sizeof(note), "%s %s%.64s%s: the same spec is built again (the earlier round's pods were stopped)",
			    CTL_ANNOTATION_REQUESTED_AT, r->spec.requested_at[0] ? "is \"" : "was removed", r->spec.requested_at,
			    r->spec.requested_at[0] ? "\"" : "");
		r->w->event(r->w->ctx, r->view->build, false, ctl_reason_name(CTL_REASON_RESTARTED), note);
	} else if (!r->same_round && cJSON_IsNumber(old_gen)) {
		text_format(note, sizeof(note),
			    "generation %ld: the spec changed, so the build starts over (generation %d's pods were stopped)",
			    r->spec.generation, old_gen->valueint);
		r->w->event(r->w->ctx, r->view->build, false, ctl_reason_name(CTL_REASON_RESTARTED), note);
	}
	for (size_t i = 0; i < r->spec.platform_count; i++)
		platform_event(r, &r->platforms[i]);
	if (old_phase == s->phase && r->same_round)
		return;
	if (s->phase == CTL_PHASE_SUCCEEDED) {
		success_note(r, s, note, sizeof(note));
		r->w->event(r->w->ctx, r->view->build, false, ctl_reason_name(CTL_REASON_SUCCEEDED), note);
	} else if (s->phase == CTL_PHASE_FAILED) {
		r->w->event(r->w->ctx, r->view->build, true, ctl_reason_name(s->reason), s->message);
	}
}

/* The status as it was before fresh successes that may wait for company: NULL when there is none to hold, else the
 * held status (caller owns it), with *wait the seconds until the first held success must be written. */
static cJSON *held_status(struct run *r, double *wait)
{
	struct platform_state held[CTL_PLATFORMS_MAX], saved[CTL_PLATFORMS_MAX];
	struct summary held_summary;
	bool any = false;
	cJSON *status;

	*wait = -1;
	memcpy(held, r->platforms, sizeof(held));
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		struct platform_state *hs = &held[i];
		double left = (double)hs->succeeded_at + r->opts->status_batch_s - (double)r->view->now;
		if (!hs->fresh_success || !hs->prev || left <= 0)
			continue;
		any = true;
		if (*wait < 0 || left < *wait)
			*wait = left;
		hs->phase = ctl_phase_parse(json_str_at(hs->prev, "phase", NULL));
		hs->reason = ctl_reason_parse(json_str_at(hs->prev, "reason", NULL));
		text_copy(hs->digest, sizeof(hs->digest), json_str_at(hs->prev, "digest", NULL));
		text_copy(hs->completion, sizeof(hs->completion), json_str_at(hs->prev, "completionTime", NULL));
		text_copy(hs->node, sizeof(hs->node), json_str_at(hs->prev, "node", NULL));
		text_copy(hs->message, sizeof(hs->message), json_str_at(hs->prev, "message", NULL));
	}
	if (!any)
		return NULL;
	memcpy(saved, r->platforms, sizeof(saved));
	memcpy(r->platforms, held, sizeof(held));
	run_summarise(r, &held_summary, false);
	status = compose_status(r, &held_summary, held);
	memcpy(r->platforms, saved, sizeof(saved));
	return status;
}

void run_write_status(struct run *r, const struct summary *s)
{
	cJSON *status, *held = NULL;
	double wait = -1;
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res;

	if (r->out->writes_pending) /* the status says what the writes came to: the run after their answers writes it */
		return;
	status = compose_status(r, s, r->platforms);
	if (!status) {
		text_copy(r->out->error, sizeof(r->out->error), "out of memory composing status");
		r->out->retry = true;
		return;
	}
	if (r->old_status && cJSON_Compare(status, r->old_status, true))
		goto out;
	/* a success that leaves others building is batched with the next change, for at most status_batch_s */
	if (r->same_round && s->phase == CTL_PHASE_BUILDING) {
		held = held_status(r, &wait);
		if (held && cJSON_Compare(held, r->old_status, true)) {
			run_requeue_within(r, wait);
			r->out->results_held = true;
			goto out;
		}
	}
	res = r->w->write_status(r->w->ctx, r->view->build, status, err, sizeof(err));
	if (res == CTL_WRITE_OK || res == CTL_WRITE_PENDING) {
		r->out->status_written = res == CTL_WRITE_OK;
		r->out->writes_pending = r->out->writes_pending || res == CTL_WRITE_PENDING;
		r->out->status_pending = res == CTL_WRITE_PENDING;
		emit_events(r, s); /* with the write pending, the writer holds them until it is answered */
	} else if (res != CTL_WRITE_GONE) {
		text_format(r->out->error, sizeof(r->out->error), "cannot write status: %s", err);
		r->out->retry = true;
	}
out:
	cJSON_Delete(held);
	cJSON_Delete(status);
}
