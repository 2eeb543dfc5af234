/* The index step of a reconcile: once every platform is settled, one Job per generation merges the platform
 * images into the index, and its pod's termination message carries the index digest into the status. */
#include <string.h>

#include "controller/conditions.h"
#include "controller/labels.h"
#include "controller/reconcilerun.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/banned.h"

#define INDEX_POD_GRACE_S 10 /* a finished index Job whose pod is not cached this long after is run again */

/* What the caches hold of this generation's index step. */
struct index_children {
	const cJSON *job;        /* the index Job, or NULL */
	const cJSON *pod_ok;     /* its Succeeded pod, or NULL */
	const cJSON *pod_failed; /* its Failed pod, or NULL */
	bool pod_seen;           /* any index pod of this generation is cached */
};

static void find_index_children(const struct run *r, const char *job_name, struct index_children *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->view->job_count; i++) {
		const char *name = json_str_at(r->view->jobs[i], "metadata", "name");
		if (name && strcmp(name, job_name) == 0)
			c->job = r->view->jobs[i];
	}
	for (size_t i = 0; i < r->view->pod_count; i++) {
		const cJSON *pod = r->view->pods[i];
		const char *role = ctl_label(pod, CTL_LABEL_ROLE), *phase = json_str_at(pod, "status", "phase");
		if (!role || strcmp(role, CTL_ROLE_INDEX) != 0 || !ctl_child_in_round(pod, &r->spec))
			continue;
		c->pod_seen = true;
		if (phase && strcmp(phase, "Succeeded") == 0)
			c->pod_ok = pod;
		else if (phase && strcmp(phase, "Failed") == 0)
			c->pod_failed = pod;
	}
}

static void merging(struct summary *s)
{
	s->phase = CTL_PHASE_MERGING;
	text_format(s->message, sizeof(s->message), "index Job %s merges %u platform%s", s->job, s->succeeded,
		    s->succeeded == 1 ? "" : "s");
}

static void index_failed(const struct run *r, struct summary *s, enum ctl_reason reason)
{
	s->phase = CTL_PHASE_FAILED;
	s->reason = reason;
	rfc3339_format(r->view->now, s->completion, sizeof(s->completion));
}

/* The index pod succeeded: the build did, when its termination message is the digest. */
static bool index_succeeded(const struct run *r, struct summary *s, const cJSON *pod)
{
	struct ctl_pod_result done;

	ctl_pod_result_read(pod, r->view->now, &done);
	if (!done.succeeded)
		return false;
	s->phase = CTL_PHASE_SUCCEEDED;
	text_copy(s->digest, sizeof(s->digest), done.digest);
	text_format(s->image, sizeof(s->image), "%s@%s", r->spec.repository, done.digest);
	rfc3339_format(done.finished_at, s->completion, sizeof(s->completion));
	text_format(s->message, sizeof(s->message), "index %s holds %u platform%s", s->image, s->succeeded, s->succeeded == 1 ? "" : "s");
	return true;
}

/* The Job exists: Failed ends the build; Complete with no pod left to read runs it again; else it merges. */
static void index_job_state(struct run *r, struct summary *s, const struct index_children *c)
{
	const cJSON *cond;
	const char *complete;

	cJSON_ArrayForEach(cond, json_at(c->job, "status", "conditions")) {
		const char *type = json_str_at(cond, "type", NULL), *status = json_str_at(cond, "status", NULL);
		const char *reason = json_str_at(cond, "reason", NULL), *message = json_str_at(cond, "message", NULL);
		struct ctl_pod_result failed;
		if (!type || !status || strcmp(type, "Failed") != 0 || strcmp(status, "True") != 0)
			continue;
		if (c->pod_failed)
			ctl_pod_result_read(c->pod_failed, r->view->now, &failed);
		index_failed(r, s, CTL_REASON_INDEX_FAILED);
		text_format(s->message, sizeof(s->message), "index Job %s failed (%s): %.1500s", s->job, reason ? reason : "Failed",
			    c->pod_failed ? failed.failure : (message ? message : ""));
		return;
	}
	merging(s);
	complete = ctl_condition_status(json_at(c->job, "status", "conditions"), "Complete");
	if (complete && strcmp(complete, "True") == 0 && !c->pod_seen) {
		/* The Job finished but its pod, the one place the index digest is written, is gone: the pod garbage
		 * collector removes finished pods past its threshold. Once the pod has had time to reach the cache,
		 * the Job runs again; the same sources give the same index. */
		time_t done = rfc3339_parse_or(json_str_at(c->job, "status", "completionTime"), r->view->now);
		if (r->view->now - done < INDEX_POD_GRACE_S)
			run_requeue_within(r, (double)(INDEX_POD_GRACE_S - (r->view->now - done)));
		else if (run_delete_child(r, "Job", c->job))
			text_format(s->message, sizeof(s->message), "index Job %s finished but its pod is gone; merging again", s->job);
	}
}

/* No Job yet: creates it from the platforms that succeeded. */
static void create_index_job(struct run *r, struct summary *s)
{
	const char *sources[CTL_PLATFORMS_MAX], *platforms[CTL_PLATFORMS_MAX];
	char refs[CTL_PLATFORMS_MAX][CTL_IMAGE_MAX + 80 + CTL_DIGEST_MAX];
	char err[CTL_ERRBUF_SIZE];
	cJSON *manifest = NULL;
	size_t count = 0;
	enum ctl_write res;

	char pushed_to[CTL_IMAGE_MAX + 80];

	if (!ctl_push_repository(&r->spec, r->opts->children.config, pushed_to, sizeof(pushed_to)))
		text_copy(pushed_to, sizeof(pushed_to), r->spec.repository);
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		if (r->platforms[i].phase != CTL_PHASE_SUCCEEDED)
			continue;
		text_format(refs[count], sizeof(refs[count]), "%s@%s", pushed_to, r->platforms[i].digest);
		sources[count] = refs[count];
		platforms[count] = r->spec.platforms[i].text;
		count++;
	}
	s->phase = CTL_PHASE_BUILDING; /* until the Job is created */
	if (!run_ensure_config_map(r))
		return;
	if (ctl_index_job(r->view->build, &r->spec, s->job, sources, platforms, count, &r->opts->children, &manifest, err, sizeof(err)) !=
	    CTL_OK) {
		text_format(r->out->error, sizeof(r->out->error), "%s", err);
		r->out->retry = true;
		return;
	}
	res = r->w->create(r->w->ctx, "Job", manifest, err, sizeof(err));
	cJSON_Delete(manifest);
	if (res == CTL_WRITE_OK || res == CTL_WRITE_EXISTS || res == CTL_WRITE_PENDING) {
		if (res == CTL_WRITE_OK)
			r->out->creates++;
		if (res == CTL_WRITE_PENDING)
			r->out->writes_pending = true;
		merging(s);
	} else if (res == CTL_WRITE_REFUSED) {
		index_failed(r, s, CTL_REASON_INDEX_REFUSED);
		text_format(s->message, sizeof(s->message), "the API server refused index Job %s: %.1800s", s->job, err);
	} else {
		text_format(r->out->error, sizeof(r->out->error), "cannot create index Job %s: %s", s->job, err);
		r->out->retry = true;
		s->job[0] = '\0';
	}
}

void run_index_step(struct run *r, struct summary *s)
{
	struct index_children c;

	if (!ctl_child_name(s->job, sizeof(s->job), r->name, r->spec.round, "index")) {
		s->phase = CTL_PHASE_FAILED;
		s->reason = CTL_REASON_INDEX_REFUSED;
		text_copy(s->message, sizeof(s->message), "cannot name the index Job");
		return;
	}
	find_index_children(r, s->job, &c);
	if (c.pod_ok && index_succeeded(r, s, c.pod_ok))
		return;
	if (c.job)
		index_job_state(r, s, &c);
	else
		create_index_job(r, s);
}
