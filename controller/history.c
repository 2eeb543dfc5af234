/* status.history: one entry per finished round of a build (its generation, request, outcome, index digest, source
 * revision and finish time), newest last, at most retention.history entries. */
#include <stdio.h>
#include <string.h>

#include "controller/reconcilerun.h"
#include "util/jsonget.h"
#include "util/banned.h"

/* What the build was made from, as the spec names it: a Git revision, an archive's sha256, a ConfigMap. */
static void source_revision(const cJSON *build, char *buf, size_t len)
{
	const cJSON *source = json_at(build, "spec", "source");
	const char *git_rev = json_nonempty_str_at(json_at(source, "git", NULL), "revision", NULL);
	const char *sha = json_nonempty_str_at(json_at(source, "http", NULL), "sha256", NULL);
	const char *cm = json_nonempty_str_at(json_at(source, "configMap", NULL), "name", NULL);

	if (json_at(source, "git", NULL))
		snprintf(buf, len, "%.200s", git_rev ? git_rev : "HEAD");
	else if (sha)
		snprintf(buf, len, "sha256:%.64s", sha);
	else if (cm)
		snprintf(buf, len, "configmap/%.200s", cm);
	else
		buf[0] = '\0';
}

/* Whether this status ends a round: its phase is final and the old status's was not, for this round. */
static bool ends_round(const struct run *r, const struct summary *s)
{
	return ctl_phase_final(s->phase) &&
	       (!r->same_round || !ctl_phase_final(ctl_phase_parse(json_str_at(r->old_status, "phase", NULL))));
}

/* The entry for the round this status ends. NULL when out of memory. */
static cJSON *round_entry(const struct run *r, const struct summary *s)
{
	cJSON *e = cJSON_CreateObject();
	char revision[256];
	bool ok = e != NULL;

	source_revision(r->view->build, revision, sizeof(revision));
	ok = ok && cJSON_AddNumberToObject(e, "generation", (double)r->spec.generation);
	ok = ok && cJSON_AddStringToObject(e, "round", r->spec.round);
	ok = ok && (!r->spec.requested_at[0] || cJSON_AddStringToObject(e, "requestedAt", r->spec.requested_at));
	ok = ok && cJSON_AddStringToObject(e, "phase", ctl_phase_name(s->phase));
	ok = ok && (s->phase != CTL_PHASE_FAILED || cJSON_AddStringToObject(e, "reason", ctl_reason_name(s->reason)));
	ok = ok && (!s->digest[0] || cJSON_AddStringToObject(e, "digest", s->digest));
	ok = ok && (!revision[0] || cJSON_AddStringToObject(e, "revision", revision));
	ok = ok && cJSON_AddStringToObject(e, "completionTime", s->completion[0] ? s->completion : r->now);
	if (!ok) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

bool run_add_history(const struct run *r, const struct summary *s, cJSON *status)
{
	const cJSON *old = json_at(r->old_status, "history", NULL), *item;
	int keep = r->retention.history, count = cJSON_IsArray(old) ? cJSON_GetArraySize(old) : 0, skip;
	bool adding = ends_round(r, s) && keep > 0;
	cJSON *list, *entry;

	skip = count - (adding ? keep - 1 : keep);
	if (keep == 0 || (count == 0 && !adding))
		return true;
	if (!(list = cJSON_AddArrayToObject(status, "history")))
		return false;
	for (item = count > 0 ? old->child : NULL; item; item = item->next) {
		if (skip-- > 0 || !cJSON_IsObject(item))
			continue;
		if (!(entry = cJSON_Duplicate(item, true)) || !cJSON_AddItemToArray(list, entry)) {
			cJSON_Delete(entry);
			return false;
		}
	}
	if (!adding)
		return true;
	entry = round_entry(r, s);
	if (!entry || !cJSON_AddItemToArray(list, entry)) {
		cJSON_Delete(entry);
		return false;
	}
	return true;
}
