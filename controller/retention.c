/* What is kept of finished rounds: the pods and Jobs of the newest earlier rounds (retention.succeeded of those that
 * succeeded, retention.failed of the rest), and the finished round's own until retention.ttlAfterFinished. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/labels.h"
#include "controller/reconcilerun.h"
#include "util/jsonget.h"
#include "util/jsonnum.h"
#include "util/text.h"
#include "util/banned.h"

/* An earlier round among the children: its name ("g3", "g3r1f2e3d4c"), its newest child, and whether it succeeded. */
struct round_seen {
	char round[CTL_ROUND_MAX];
	const char *newest; /* the newest creationTimestamp of its children (RFC 3339 strings order as times) */
	bool succeeded;
	bool keep;
};

/* The round child belongs to, as "g<generation>[r<tag>]"; false for a child without a generation label. */
static bool round_of(const cJSON *child, char *buf, size_t len)
{
	long gen = ctl_label_number(child, CTL_LABEL_GENERATION);
	const char *tag = ctl_label(child, CTL_LABEL_REQUEST);

	if (gen < 0)
		return false;
	snprintf(buf, len, "g%ld%s%.8s", gen, tag ? "r" : "", tag ? tag : "");
	return true;
}

/* Whether status.history says round succeeded. */
static bool round_succeeded(const cJSON *old_status, const char *round)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, json_at(old_status, "history", NULL)) {
		const char *name = json_str_at(e, "round", NULL), *phase = json_str_at(e, "phase", NULL);
		if (name && phase && strcmp(name, round) == 0)
			return strcmp(phase, "Succeeded") == 0;
	}
	return false;
}

/* Adds child's round to seen (count entries, room for max); the current round is left out. */
static void note_round(const struct run *r, const cJSON *child, struct round_seen *seen, size_t *count, size_t max)
{
	const char *created = json_str_at(child, "metadata", "creationTimestamp");
	char round[CTL_ROUND_MAX];
	size_t i;

	if (!round_of(child, round, sizeof(round)) || strcmp(round, r->spec.round) == 0)
		return;
	for (i = 0; i < *count && strcmp(seen[i].round, round) != 0; i++)
		;
	if (i == *count) {
		if (*count == max)
			return;
		snprintf(seen[i].round, sizeof(seen[i].round), "%s", round);
		seen[i].newest = created;
		seen[i].succeeded = round_succeeded(r->old_status, round);
		(*count)++;
	} else if (created && (!seen[i].newest || strcmp(created, seen[i].newest) > 0)) {
		seen[i].newest = created;
	}
}

static int newest_first(const void *a, const void *b)
{
	const char *x = ((const struct round_seen *)a)->newest, *y = ((const struct round_seen *)b)->newest;

	return strcmp(y ? y : "", x ? x : "");
}

/* Whether child is finished: a pod Succeeded or Failed, a Job with a completionTime or a Failed condition. */
static bool finished(const char *kind, const cJSON *child)
{
	const char *phase = json_str_at(child, "status", "phase");

	if (strcmp(kind, "Pod") == 0)
		return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
	return json_at(child, "status", "completionTime") || json_whole_number_or(json_at(child, "status", "failed"), 0, 1000, 0) > 0;
}

/* Deletes the finished children of kind in list (count) whose round is not kept, or, with all, every finished one
 * of the current round. */
static void delete_unkept(struct run *r, const char *kind, const cJSON *const *list, size_t count, const struct round_seen *seen,
			  size_t seen_count, bool current_too)
{
	char round[CTL_ROUND_MAX];

	for (size_t i = 0; i < count; i++) {
		bool keep = false;
		if (!finished(kind, list[i]) || !round_of(list[i], round, sizeof(round)))
			continue;
		if (strcmp(round, r->spec.round) == 0)
			keep = !current_too;
		for (size_t j = 0; j < seen_count && !keep; j++)
			keep = seen[j].keep && strcmp(seen[j].round, round) == 0;
		if (!keep && !run_delete_child(r, kind, list[i]))
			return;
	}
}

void run_apply_retention(struct run *r, bool current_too)
{
	size_t max = r->view->pod_count + r->view->job_count, count = 0;
	struct round_seen *seen = max ? calloc(max, sizeof(*seen)) : NULL;
	int succeeded = 0, failed = 0;

	if (max && !seen) {
		text_copy(r->out->error, sizeof(r->out->error), "out of memory applying retention");
		r->out->retry = true;
		return;
	}
	for (size_t i = 0; i < r->view->pod_count; i++)
		note_round(r, r->view->pods[i], seen, &count, max);
	for (size_t i = 0; i < r->view->job_count; i++)
		note_round(r, r->view->jobs[i], seen, &count, max);
	if (count > 1)
		qsort(seen, count, sizeof(*seen), newest_first);
	for (size_t i = 0; i < count; i++)
		seen[i].keep = seen[i].succeeded ? succeeded++ < r->retention.succeeded : failed++ < r->retention.failed;
	delete_unkept(r, "Pod", r->view->pods, r->view->pod_count, seen, count, current_too);
	delete_unkept(r, "Job", r->view->jobs, r->view->job_count, seen, count, current_too);
	free(seen);
}
