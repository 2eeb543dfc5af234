/* One reconcile of one MultiArchBuild: read the build, its children and the nodes from the caches, move the
 * world one step toward the spec through a writer, and write status only when it changed. */
#include "controller/reconcile.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/conditions.h"
#include "controller/labels.h"
#include "controller/naming.h"
#include "registry/reference.h"
#include "util/jsonnum.h"
#include "util/timefmt.h"
#include "util/jsonget.h"

#define ATTEMPTS_MAX 11 /* 1 + policy.retries (at most 10) */
#define MESSAGE_MAX 1024
#define DIGEST_MAX 80
#define INDEX_POD_GRACE_S 10 /* a finished index Job whose pod is not cached this long after is run again */

/* The messages of a failed platform start with these, so the reason survives in status without a field of its own. */
#define MSG_NO_NODES "no Ready, schedulable node"
#define MSG_REFUSED "the API server refused"


void ctl_reconcile_options_init(struct ctl_reconcile_options *o)
{
	ctl_child_options_init(&o->children);
	o->retry_base_s = 10;
	o->retry_max_s = 300;
	o->status_batch_s = 5;
}

/* A platform's state as this reconcile works it out; becomes one status.platforms entry. */
struct platform_state {
	const struct ctl_platform *platform;
	const cJSON *prev;               /* its entry in the status of the same generation, or NULL */
	const cJSON *pods[ATTEMPTS_MAX + 1]; /* this generation's build pods by attempt */
	char phase[16];                  /* Pending Waiting Building Succeeded Failed */
	char reason[32];                 /* why it Failed or Waits: RetriesExhausted, NoMatchingNodes, PodRefused, Retrying */
	char digest[DIGEST_MAX];
	char pod[CTL_NAME_MAX + 1];
	char node[254];
	int attempts;
	char start[RFC3339_MAX];
	char completion[RFC3339_MAX];
	char message[MESSAGE_MAX];
	bool fresh_success;              /* succeeded since the last written status */
	time_t succeeded_at;
};

/* The work of one reconcile. */
struct run {
	const struct ctl_reconcile_options *opts;
	const struct ctl_view *view;
	const struct ctl_writer *w;
	struct ctl_outcome *out;
	struct ctl_build_spec spec;
	const cJSON *old_status;
	bool same_generation;
	char name[254];
	char now[RFC3339_MAX];
	struct platform_state platforms[CTL_PLATFORMS_MAX];
	const cJSON *delete_after_status[ATTEMPTS_MAX * CTL_PLATFORMS_MAX];
	size_t delete_after_count;
	bool config_map_ready; /* the generation's builder ConfigMap exists (or none is needed) */
};

static const char *label(const cJSON *obj, const char *key)
{
	return json_str_at(json_at(obj, "metadata", "labels"), key, NULL);
}

static long long_label(const cJSON *obj, const char *key)
{
	const char *v = label(obj, key);
	char *end = NULL;
	long n;

	if (!v || !*v)
		return -1;
	n = strtol(v, &end, 10);
	return *end ? -1 : n;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void say(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

static void requeue_within(struct run *r, double seconds)
{
	if (seconds < 0.5)
		seconds = 0.5;
	if (r->out->requeue_after_s < 0 || seconds < r->out->requeue_after_s)
		r->out->requeue_after_s = seconds;
}

static time_t time_of(const char *text, time_t fallback)
{
	time_t t;

	return text && rfc3339_parse(text, &t) ? t : fallback;
}

/* The entry of platform text in a status, or NULL. */
static const cJSON *status_entry(const cJSON *status, const char *platform)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, json_at(status, "platforms", NULL)) {
		const char *p = json_str_at(e, "platform", NULL);
		if (p && strcmp(p, platform) == 0)
			return e;
	}
	return NULL;
}

/* Deletes a child unless it is already going. Returns false when the write failed (the reconcile is retried). */
static bool delete_child(struct run *r, const char *kind, const cJSON *child)
{
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res;

	if (json_at(child, "metadata", "deletionTimestamp"))
		return true;
	res = r->w->remove(r->w->ctx, kind, child, err, sizeof(err));
	if (res == CTL_WRITE_OK || res == CTL_WRITE_GONE) {
		if (res == CTL_WRITE_OK)
			r->out->deletes++;
		return true;
	}
	say(r->out->error, sizeof(r->out->error), "cannot delete %s %s: %s", kind, json_str_at(child, "metadata", "name"), err);
	r->out->retry = true;
	return false;
}

/* The uid of the object's controller owner (the ownerReference with controller: true), or NULL. */
static const char *controller_uid(const cJSON *obj)
{
	const cJSON *ref;

	cJSON_ArrayForEach(ref, json_at(obj, "metadata", "ownerReferences")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
			return json_str_at(ref, "uid", NULL);
	}
	return NULL;
}

static bool controlled_by(const cJSON *obj, const char *uid)
{
	const char *owner = controller_uid(obj);

	return uid && owner && strcmp(owner, uid) == 0;
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
		if (controlled_by(view->jobs[i], uid))
			jobs[own->job_count++] = view->jobs[i];
	for (size_t i = 0; i < view->pod_count; i++) {
		const cJSON *pod = view->pods[i];
		bool mine = controlled_by(pod, uid);
		for (size_t j = 0; !mine && j < own->job_count; j++)
			mine = controlled_by(pod, json_str_at(own->jobs[j], "metadata", "uid"));
		if (mine)
			pods[own->pod_count++] = view->pods[i];
	}
}

/* Cancels the children of other generations: a new spec starts over. */
static void cancel_other_generations(struct run *r)
{
	for (size_t i = 0; i < r->view->pod_count; i++) {
		const cJSON *pod = r->view->pods[i];
		const char *phase = json_str_at(pod, "status", "phase");
		bool finished = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
		/* a finished pod holds nothing; it goes with the build (and keeps its logs until then) */
		if (long_label(pod, CTL_LABEL_GENERATION) != r->spec.generation && !finished)
			delete_child(r, "Pod", pod);
	}
	for (size_t i = 0; i < r->view->job_count; i++) {
		const cJSON *job = r->view->jobs[i];
		if (long_label(job, CTL_LABEL_GENERATION) != r->spec.generation && !json_at(job, "status", "completionTime"))
			delete_child(r, "Job", job);
	}
}

/* What a pod's first container says when it ended: reason, exit code, message, finish time. */
struct pod_result {
	bool finished;
	bool succeeded;
	char digest[DIGEST_MAX];
	char failure[MESSAGE_MAX];
	time_t finished_at;
};

/* The terminated state of pod's first init container when it failed (the source fetch), with its message, reason
 * and exit code when the pointers are not NULL; NULL when it did not fail. */
static const cJSON *init_failure(const cJSON *pod, const char **message, const char **reason, const cJSON **code)
{
	const cJSON *term = json_at(json_at(cJSON_GetArrayItem(json_at(pod, "status", "initContainerStatuses"), 0), "state", NULL), "terminated", NULL);
	const cJSON *exit_code = json_at(term, "exitCode", NULL);

	if (!term || !cJSON_IsNumber(exit_code) || exit_code->valueint == 0)
		return NULL;
	if (message)
		*message = json_str_at(term, "message", NULL);
	if (reason)
		*reason = json_str_at(term, "reason", NULL);
	if (code)
		*code = exit_code;
	return term;
}

static void read_pod_result(const cJSON *pod, time_t now, struct pod_result *res)
{
	const char *phase = json_str_at(pod, "status", "phase");
	const cJSON *term = json_at(json_at(cJSON_GetArrayItem(json_at(pod, "status", "containerStatuses"), 0), "state", NULL), "terminated", NULL);
	const char *message = json_str_at(term, "message", NULL), *reason = json_str_at(term, "reason", NULL);
	const cJSON *code = json_at(term, "exitCode", NULL);
	const char *pod_reason = json_str_at(pod, "status", "reason"), *pod_message = json_str_at(pod, "status", "message");
	const char *origin = ""; /* which container failed: the builder, or the source init container */
	char text[DIGEST_MAX + 8];
	size_t n;

	memset(res, 0, sizeof(*res));
	res->finished_at = time_of(json_str_at(term, "finishedAt", NULL), now);
	if (!phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0))
		return;
	res->finished = true;
	if (strcmp(phase, "Succeeded") == 0) {
		copy(text, sizeof(text), message);
		n = strlen(text);
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
			text[--n] = '\0';
		if (reg_digest_valid(text) && strncmp(text, "sha256:", 7) == 0) {
			res->succeeded = true;
			copy(res->digest, sizeof(res->digest), text);
			return;
		}
		say(res->failure, sizeof(res->failure),
		    "the builder exited 0 but its termination message is not a sha256 digest: \"%.100s\"", message ? message : "");
		return;
	}
	if (pod_reason) {
		/* the kubelet failed the pod itself (Evicted, DeadlineExceeded, ...): its reason says more than the
		 * killed container's exit code */
		say(res->failure, sizeof(res->failure), "the pod failed: %s%s%.700s", pod_reason, pod_message ? ": " : "",
		    pod_message ? pod_message : "");
		return;
	}
	if (!term && (term = init_failure(pod, &message, &reason, &code)))
		origin = "source: ";
	if (term)
		say(res->failure, sizeof(res->failure), "%s%s (exit code %d)%s%.700s", origin, reason ? reason : "Error",
		    cJSON_IsNumber(code) ? code->valueint : -1, message && *message ? ": " : "", message ? message : "");
	else
		say(res->failure, sizeof(res->failure), "the pod failed%s%.700s", pod_message ? ": " : "", pod_message ? pod_message : "");
}

/* The kubelet's waiting reasons that no wait will cure for this pod (retrying means a new attempt). */
static const char *const stuck_reasons[] = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
					     "CreateContainerConfigError", "CreateContainerError", "RunContainerError", NULL};

/* The first (init, then builder) container of pod waiting for one of stuck_reasons: "REASON (container NAME):
 * message" in buf, and true; false when none is. */
static bool stuck_container(const cJSON *pod, char *buf, size_t len)
{
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const cJSON *cs;
		cJSON_ArrayForEach(cs, json_at(pod, "status", lists[l])) {
			const cJSON *waiting = json_at(json_at(cs, "state", NULL), "waiting", NULL);
			const char *reason = json_str_at(waiting, "reason", NULL), *message = json_str_at(waiting, "message", NULL);
			for (const char *const *r = stuck_reasons; reason && *r; r++) {
				if (strcmp(reason, *r) != 0)
					continue;
				say(buf, len, "%s (container %s): %.800s", reason, json_str_at(cs, "name", NULL) ? json_str_at(cs, "name", NULL) : "?",
				    message ? message : "the kubelet gave no message");
				return true;
			}
		}
	}
	return false;
}

/* Why a pending pod is not placed, from its PodScheduled condition; "" when it is or nothing says. */
static void unschedulable_reason(const cJSON *pod, char *buf, size_t len)
{
	const cJSON *c;

	buf[0] = '\0';
	cJSON_ArrayForEach(c, json_at(pod, "status", "conditions")) {
		const char *type = json_str_at(c, "type", NULL), *status = json_str_at(c, "status", NULL), *message = json_str_at(c, "message", NULL);
		if (type && strcmp(type, "PodScheduled") == 0 && status && strcmp(status, "False") == 0)
			say(buf, len, "not scheduled yet: %.900s", message ? message : "no node fits");
	}
}

static double retry_delay(const struct run *r, int failed_attempts)
{
	double d = r->opts->retry_base_s * pow(2, failed_attempts - 1);

	return d > r->opts->retry_max_s ? r->opts->retry_max_s : d;
}

/*
 * Creates the generation's builder ConfigMap (cluster CA, registry files) if the
 * configuration has any, before the first child that mounts it. Returns false
 * when that failed; the reconcile is then retried.
 */
static bool ensure_config_map(struct run *r)
{
	char err[CTL_ERRBUF_SIZE];
	cJSON *cm;
	enum ctl_write res;

	if (r->config_map_ready || !ctl_builder_config_has_files(r->opts->children.config))
		return true;
	cm = ctl_builder_config_map(r->view->build, &r->spec, &r->opts->children);
	if (!cm) {
		copy(r->out->error, sizeof(r->out->error), "cannot write the builder ConfigMap");
		r->out->retry = true;
		return false;
	}
	res = r->w->create(r->w->ctx, "ConfigMap", cm, err, sizeof(err));
	cJSON_Delete(cm);
	if (res == CTL_WRITE_OK || res == CTL_WRITE_EXISTS) {
		if (res == CTL_WRITE_OK)
			r->out->creates++;
		r->config_map_ready = true;
		return true;
	}
	say(r->out->error, sizeof(r->out->error), "cannot create the builder ConfigMap: %s", err);
	r->out->retry = true;
	return false;
}

/* Starts attempt for platform i: nodes first, then the pod (create-if-missing). */
static void start_attempt(struct run *r, size_t i, int attempt, const char *after_failure)
{
	struct platform_state *ps = &r->platforms[i];
	cJSON *selector = ctl_platform_node_selector(r->view->build, ps->platform);
	cJSON *tolerations = ctl_platform_tolerations(r->view->build, ps->platform, r->opts->children.config);
	cJSON *pod = NULL;
	size_t nodes = selector && tolerations ? r->view->nodes_fitting(r->view->nodes_ctx, selector, tolerations) : 0;
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res;

	cJSON_Delete(tolerations);
	if (nodes == 0) {
		say(ps->message, sizeof(ps->message), MSG_NO_NODES " with kubernetes.io/arch=%s%s%s%s",
		    ps->platform->platform.arch, cJSON_GetArraySize(selector) > 2 ? " and the build's nodeSelector" : "",
		    after_failure ? "; " : "", after_failure ? after_failure : "");
		cJSON_Delete(selector);
		copy(ps->reason, sizeof(ps->reason), "NoMatchingNodes");
		if (r->spec.fail_missing_nodes || ps->platform->optional)
			copy(ps->phase, sizeof(ps->phase), "Failed");
		else
			copy(ps->phase, sizeof(ps->phase), "Waiting");
		return;
	}
	cJSON_Delete(selector);
	if (!ensure_config_map(r))
		return;
	if (ctl_build_pod(r->view->build, &r->spec, i, attempt, &r->opts->children, &pod, err, sizeof(err)) != CTL_OK) {
		copy(ps->phase, sizeof(ps->phase), "Failed");
		copy(ps->reason, sizeof(ps->reason), "PodRefused");
		say(ps->message, sizeof(ps->message), MSG_REFUSED " build pod of %s: %s", ps->platform->text, err);
		return;
	}
	res = r->w->create(r->w->ctx, "Pod", pod, err, sizeof(err));
	copy(ps->pod, sizeof(ps->pod), json_str_at(pod, "metadata", "name"));
	cJSON_Delete(pod);
	switch (res) {
	case CTL_WRITE_OK:
	case CTL_WRITE_EXISTS:
		if (res == CTL_WRITE_OK)
			r->out->creates++;
		copy(ps->phase, sizeof(ps->phase), "Building");
		ps->reason[0] = '\0';
		ps->attempts = attempt;
		ps->message[0] = '\0';
		ps->completion[0] = '\0';
		ps->node[0] = '\0';
		copy(ps->start, sizeof(ps->start), r->now);
		break;
	case CTL_WRITE_REFUSED:
		copy(ps->phase, sizeof(ps->phase), "Failed");
		copy(ps->reason, sizeof(ps->reason), "PodRefused");
		say(ps->message, sizeof(ps->message), MSG_REFUSED " build pod %s: %s", ps->pod, err);
		ps->attempts = attempt;
		break;
	default:
		say(r->out->error, sizeof(r->out->error), "cannot create build pod %s: %s", ps->pod, err);
		r->out->retry = true;
		break;
	}
}

/* Attempt n of platform i failed (failure says how, at failed_at): retry after backoff, or give up. */
static void attempt_failed(struct run *r, size_t i, int n, const char *failure, time_t failed_at)
{
	struct platform_state *ps = &r->platforms[i];
	char retry_at[RFC3339_MAX], why[MESSAGE_MAX];
	double delay;

	ps->attempts = n;
	if (!ps->completion[0])
		rfc3339_format(failed_at, ps->completion, sizeof(ps->completion));
	if (n > r->spec.retries) {
		copy(ps->phase, sizeof(ps->phase), "Failed");
		copy(ps->reason, sizeof(ps->reason), "RetriesExhausted");
		say(ps->message, sizeof(ps->message), "attempt %d failed, no retries left (policy.retries=%d): %.900s", n, r->spec.retries,
		    failure);
		return;
	}
	delay = retry_delay(r, n);
	if ((double)(r->view->now - failed_at) >= delay) {
		say(why, sizeof(why), "attempt %d failed: %.900s", n, failure);
		start_attempt(r, i, n + 1, why);
		return;
	}
	rfc3339_format(failed_at + (time_t)ceil(delay), retry_at, sizeof(retry_at));
	copy(ps->phase, sizeof(ps->phase), "Waiting");
	copy(ps->reason, sizeof(ps->reason), "Retrying");
	say(ps->message, sizeof(ps->message), "attempt %d failed, retrying at %s: %.850s", n, retry_at, failure);
	requeue_within(r, (double)failed_at + delay - (double)r->view->now);
}

/* The reason a failed platform's recorded message stands for. */
static const char *failure_reason(const char *message)
{
	if (message && strncmp(message, MSG_NO_NODES, strlen(MSG_NO_NODES)) == 0)
		return "NoMatchingNodes";
	if (message && strncmp(message, MSG_REFUSED, strlen(MSG_REFUSED)) == 0)
		return "PodRefused";
	return "RetriesExhausted";
}

/* Whether the previous status already recorded attempt n as failed (a timeout, a vanished pod). */
static bool prev_recorded_failure(const struct platform_state *ps, int n)
{
	const cJSON *attempts = json_at(ps->prev, "attempts", NULL);
	const char *phase = json_str_at(ps->prev, "phase", NULL);

	return cJSON_IsNumber(attempts) && attempts->valueint == n && phase &&
	       (strcmp(phase, "Waiting") == 0 || strcmp(phase, "Failed") == 0) && json_str_at(ps->prev, "completionTime", NULL);
}

/* The failure text recorded in prev: the message after "attempt N failed...: ". */
static const char *prev_failure_text(const struct platform_state *ps)
{
	const char *m = json_str_at(ps->prev, "message", NULL), *colon;

	if (!m)
		return "failed";
	colon = strstr(m, ": ");
	return colon ? colon + 2 : m;
}

/* Works out platform i from its pods and the previous status, starting or retrying an attempt when due. */
static void reconcile_platform(struct run *r, size_t i)
{
	struct platform_state *ps = &r->platforms[i];
	const cJSON *pod;
	struct pod_result res;
	int highest = 0, recorded, n;
	long timeout = r->spec.timeout_s;

	copy(ps->phase, sizeof(ps->phase), "Pending");
	if (ps->prev) {
		const cJSON *a = json_at(ps->prev, "attempts", NULL);
		const char *phase = json_str_at(ps->prev, "phase", NULL), *digest = json_str_at(ps->prev, "digest", NULL);
		copy(ps->start, sizeof(ps->start), json_str_at(ps->prev, "startTime", NULL));
		copy(ps->pod, sizeof(ps->pod), json_str_at(ps->prev, "pod", NULL));
		if (phase && strcmp(phase, "Succeeded") == 0 && digest && reg_digest_valid(digest)) {
			copy(ps->phase, sizeof(ps->phase), "Succeeded");
			copy(ps->digest, sizeof(ps->digest), digest);
			copy(ps->node, sizeof(ps->node), json_str_at(ps->prev, "node", NULL));
			copy(ps->completion, sizeof(ps->completion), json_str_at(ps->prev, "completionTime", NULL));
			ps->attempts = cJSON_IsNumber(a) ? a->valueint : 1;
			return;
		}
		if (phase && strcmp(phase, "Failed") == 0) {
			/* final for this generation: retries exhausted, refused, or no node under policy Fail */
			copy(ps->phase, sizeof(ps->phase), "Failed");
			copy(ps->reason, sizeof(ps->reason), failure_reason(json_str_at(ps->prev, "message", NULL)));
			copy(ps->message, sizeof(ps->message), json_str_at(ps->prev, "message", NULL));
			copy(ps->completion, sizeof(ps->completion), json_str_at(ps->prev, "completionTime", NULL));
			ps->attempts = cJSON_IsNumber(a) ? a->valueint : 0;
			return;
		}
	}
	for (int a = ATTEMPTS_MAX; a >= 1; a--) {
		if (ps->pods[a]) {
			highest = a;
			break;
		}
	}
	recorded = ps->prev && cJSON_IsNumber(json_at(ps->prev, "attempts", NULL)) ? json_at(ps->prev, "attempts", NULL)->valueint : 0;
	n = highest > recorded ? highest : recorded;
	if (n > ATTEMPTS_MAX)
		n = ATTEMPTS_MAX;
	/* an older attempt still running (its deletion failed before) is stopped */
	for (int a = 1; a < n; a++) {
		const char *phase = ps->pods[a] ? json_str_at(ps->pods[a], "status", "phase") : NULL;
		if (ps->pods[a] && (!phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)))
			delete_child(r, "Pod", ps->pods[a]);
	}
	if (n == 0) {
		start_attempt(r, i, 1, NULL);
		return;
	}
	ps->attempts = n;
	pod = ps->pods[n];
	if (!pod) {
		char failure[MESSAGE_MAX];
		if (prev_recorded_failure(ps, n)) {
			copy(failure, sizeof(failure), prev_failure_text(ps));
			attempt_failed(r, i, n, failure, time_of(json_str_at(ps->prev, "completionTime", NULL), r->view->now));
		} else {
			ctl_pod_name(ps->pod, sizeof(ps->pod), r->name, r->spec.generation, ps->platform->label, n);
			say(failure, sizeof(failure), "build pod %s disappeared before it finished", ps->pod);
			attempt_failed(r, i, n, failure, r->view->now);
		}
		return;
	}
	copy(ps->pod, sizeof(ps->pod), json_str_at(pod, "metadata", "name"));
	copy(ps->node, sizeof(ps->node), json_str_at(pod, "spec", "nodeName"));
	read_pod_result(pod, r->view->now, &res);
	if (res.finished && res.succeeded) {
		copy(ps->phase, sizeof(ps->phase), "Succeeded");
		copy(ps->digest, sizeof(ps->digest), res.digest);
		rfc3339_format(res.finished_at, ps->completion, sizeof(ps->completion));
		ps->message[0] = '\0';
		ps->fresh_success = true;
		ps->succeeded_at = res.finished_at;
		return;
	}
	if (res.finished) {
		attempt_failed(r, i, n, res.failure, res.finished_at);
		return;
	}
	if (json_at(pod, "metadata", "deletionTimestamp")) {
		char failure[MESSAGE_MAX];
		if (prev_recorded_failure(ps, n)) {
			copy(failure, sizeof(failure), prev_failure_text(ps));
			attempt_failed(r, i, n, failure, time_of(json_str_at(ps->prev, "completionTime", NULL), r->view->now));
		} else {
			say(failure, sizeof(failure), "build pod %s was deleted before it finished", ps->pod);
			attempt_failed(r, i, n, failure, r->view->now);
		}
		return;
	}
	/* running or pending */
	{
		time_t created = time_of(json_str_at(pod, "metadata", "creationTimestamp"), r->view->now);
		char failure[MESSAGE_MAX];
		bool stuck = stuck_container(pod, failure, sizeof(failure));
		if (stuck || (double)(r->view->now - created) >= (double)timeout) {
			if (!stuck)
				say(failure, sizeof(failure), "timed out after %lds (policy.timeout)", timeout);
			if (r->delete_after_count < sizeof(r->delete_after_status) / sizeof(r->delete_after_status[0]))
				r->delete_after_status[r->delete_after_count++] = pod;
			/* the time recorded first stays, so a pod that takes a while to stop causes no new writes */
			attempt_failed(r, i, n, failure,
				       prev_recorded_failure(ps, n) ? time_of(json_str_at(ps->prev, "completionTime", NULL), r->view->now)
								    : r->view->now);
			return;
		}
		copy(ps->phase, sizeof(ps->phase), "Building");
		/* the start written when the attempt was created stays, so a later look writes nothing new */
		if (!(recorded == n && ps->start[0]))
			copy(ps->start, sizeof(ps->start), json_str_at(pod, "metadata", "creationTimestamp"));
		ps->node[0] = '\0'; /* recorded when the platform ends, so binding alone never costs a status write */
		unschedulable_reason(pod, ps->message, sizeof(ps->message));
		requeue_within(r, (double)created + (double)timeout - (double)r->view->now);
	}
}

/* Sorts this generation's build pods into platforms and attempts. */
static void collect_pods(struct run *r)
{
	for (size_t i = 0; i < r->view->pod_count; i++) {
		const cJSON *pod = r->view->pods[i];
		const char *role = label(pod, CTL_LABEL_ROLE), *platform = label(pod, CTL_LABEL_PLATFORM);
		long attempt = long_label(pod, CTL_LABEL_ATTEMPT);
		if (long_label(pod, CTL_LABEL_GENERATION) != r->spec.generation || !role || strcmp(role, CTL_ROLE_BUILD) != 0 || !platform ||
		    attempt < 1 || attempt > ATTEMPTS_MAX)
			continue;
		for (size_t p = 0; p < r->spec.platform_count; p++)
			if (strcmp(r->spec.platforms[p].label, platform) == 0)
				r->platforms[p].pods[attempt] = pod;
	}
}

/* The build-wide state the platforms add up to. */
struct summary {
	char phase[16];
	char reason[32];
	char message[2048];
	char image[CTL_IMAGE_MAX + DIGEST_MAX];
	char digest[DIGEST_MAX];
	char job[CTL_NAME_MAX + 1];
	char completion[RFC3339_MAX];
	char nodes_missing[512]; /* platforms without nodes, "" when none */
	unsigned succeeded;
};

/* Runs the index step once every platform is settled; fills s->phase Merging, Succeeded or Failed. */
static void reconcile_index(struct run *r, struct summary *s)
{
	const char *sources[CTL_PLATFORMS_MAX], *platforms[CTL_PLATFORMS_MAX];
	char refs[CTL_PLATFORMS_MAX][CTL_IMAGE_MAX + DIGEST_MAX];
	const cJSON *job = NULL, *index_pod_ok = NULL, *index_pod_failed = NULL;
	bool index_pod_seen = false;
	size_t count = 0;
	char err[CTL_ERRBUF_SIZE];
	cJSON *manifest = NULL;
	enum ctl_write res;

	if (!ctl_child_name(s->job, sizeof(s->job), r->name, r->spec.generation, "index")) {
		copy(s->phase, sizeof(s->phase), "Failed");
		copy(s->reason, sizeof(s->reason), "IndexRefused");
		copy(s->message, sizeof(s->message), "cannot name the index Job");
		return;
	}
	for (size_t i = 0; i < r->view->job_count; i++) {
		const char *name = json_str_at(r->view->jobs[i], "metadata", "name");
		if (name && strcmp(name, s->job) == 0)
			job = r->view->jobs[i];
	}
	for (size_t i = 0; i < r->view->pod_count; i++) {
		const cJSON *pod = r->view->pods[i];
		const char *role = label(pod, CTL_LABEL_ROLE), *phase = json_str_at(pod, "status", "phase");
		if (!role || strcmp(role, CTL_ROLE_INDEX) != 0 || long_label(pod, CTL_LABEL_GENERATION) != r->spec.generation)
			continue;
		index_pod_seen = true;
		if (!phase)
			continue;
		if (strcmp(phase, "Succeeded") == 0)
			index_pod_ok = pod;
		else if (strcmp(phase, "Failed") == 0)
			index_pod_failed = pod;
	}
	if (index_pod_ok) {
		struct pod_result done;
		read_pod_result(index_pod_ok, r->view->now, &done);
		if (done.succeeded) {
			copy(s->phase, sizeof(s->phase), "Succeeded");
			copy(s->digest, sizeof(s->digest), done.digest);
			say(s->image, sizeof(s->image), "%s@%s", r->spec.repository, done.digest);
			rfc3339_format(done.finished_at, s->completion, sizeof(s->completion));
			say(s->message, sizeof(s->message), "index %s holds %u platform%s", s->image, s->succeeded, s->succeeded == 1 ? "" : "s");
			return;
		}
	}
	if (job) {
		const cJSON *c;
		const char *complete;
		cJSON_ArrayForEach(c, json_at(job, "status", "conditions")) {
			const char *type = json_str_at(c, "type", NULL), *status = json_str_at(c, "status", NULL);
			if (type && status && strcmp(type, "Failed") == 0 && strcmp(status, "True") == 0) {
				struct pod_result failed;
				copy(s->phase, sizeof(s->phase), "Failed");
				copy(s->reason, sizeof(s->reason), "IndexFailed");
				if (index_pod_failed)
					read_pod_result(index_pod_failed, r->view->now, &failed);
				say(s->message, sizeof(s->message), "index Job %s failed (%s): %.1500s", s->job,
				    json_str_at(c, "reason", NULL) ? json_str_at(c, "reason", NULL) : "Failed",
				    index_pod_failed ? failed.failure : (json_str_at(c, "message", NULL) ? json_str_at(c, "message", NULL) : ""));
				rfc3339_format(r->view->now, s->completion, sizeof(s->completion));
				return;
			}
		}
		copy(s->phase, sizeof(s->phase), "Merging");
		complete = ctl_condition_status(json_at(job, "status", "conditions"), "Complete");
		if (complete && strcmp(complete, "True") == 0 && !index_pod_seen) {
			/* The Job finished but its pod, the one place the index digest is written, is gone: the pod garbage
			 * collector removes finished pods past its threshold. Once the pod has had time to reach the cache,
			 * the Job runs again; the same sources give the same index. */
			time_t done = time_of(json_str_at(job, "status", "completionTime"), r->view->now);
			if (r->view->now - done < INDEX_POD_GRACE_S) {
				requeue_within(r, (double)(INDEX_POD_GRACE_S - (r->view->now - done)));
			} else if (delete_child(r, "Job", job)) {
				say(s->message, sizeof(s->message), "index Job %s finished but its pod is gone; merging again", s->job);
				return;
			}
		}
		say(s->message, sizeof(s->message), "index Job %s merges %u platform%s", s->job, s->succeeded, s->succeeded == 1 ? "" : "s");
		return;
	}
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		if (strcmp(r->platforms[i].phase, "Succeeded") != 0)
			continue;
		snprintf(refs[count], sizeof(refs[count]), "%s@%s", r->spec.repository, r->platforms[i].digest);
		sources[count] = refs[count];
		platforms[count] = r->spec.platforms[i].text;
		count++;
	}
	if (!ensure_config_map(r)) {
		copy(s->phase, sizeof(s->phase), "Building");
		return;
	}
	if (ctl_index_job(r->view->build, &r->spec, s->job, sources, platforms, count, &r->opts->children, &manifest, err, sizeof(err)) !=
	    CTL_OK) {
		say(r->out->error, sizeof(r->out->error), "%s", err);
		r->out->retry = true;
		copy(s->phase, sizeof(s->phase), "Building");
		return;
	}
	res = r->w->create(r->w->ctx, "Job", manifest, err, sizeof(err));
	cJSON_Delete(manifest);
	if (res == CTL_WRITE_OK || res == CTL_WRITE_EXISTS) {
		if (res == CTL_WRITE_OK)
			r->out->creates++;
		copy(s->phase, sizeof(s->phase), "Merging");
		say(s->message, sizeof(s->message), "index Job %s merges %u platform%s", s->job, s->succeeded, s->succeeded == 1 ? "" : "s");
	} else if (res == CTL_WRITE_REFUSED) {
		copy(s->phase, sizeof(s->phase), "Failed");
		copy(s->reason, sizeof(s->reason), "IndexRefused");
		say(s->message, sizeof(s->message), "the API server refused index Job %s: %.1800s", s->job, err);
		rfc3339_format(r->view->now, s->completion, sizeof(s->completion));
	} else {
		say(r->out->error, sizeof(r->out->error), "cannot create index Job %s: %s", s->job, err);
		r->out->retry = true;
		copy(s->phase, sizeof(s->phase), "Building");
		s->job[0] = '\0';
	}
}

/* Adds the platforms up; runs the index step when they are settled. */
static void summarise(struct run *r, struct summary *s, bool run_index)
{
	bool settled = true, building = false;
	const struct platform_state *failed = NULL;
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &r->platforms[i];
		if (strcmp(ps->phase, "Succeeded") == 0)
			s->succeeded++;
		else if (strcmp(ps->phase, "Failed") == 0 && !ps->platform->optional && !failed)
			failed = ps;
		else if (strcmp(ps->phase, "Failed") != 0)
			settled = false;
		if (strcmp(ps->phase, "Building") == 0)
			building = true;
		if (strcmp(ps->reason, "NoMatchingNodes") == 0) {
			int n = snprintf(s->nodes_missing + len, sizeof(s->nodes_missing) - len, "%s%s", len ? ", " : "", ps->platform->text);
			if (n > 0 && (size_t)n < sizeof(s->nodes_missing) - len)
				len += (size_t)n;
		}
	}
	if (failed && settled) {
		copy(s->phase, sizeof(s->phase), "Failed");
		copy(s->reason, sizeof(s->reason), failed->reason[0] ? failed->reason : "PlatformFailed");
		say(s->message, sizeof(s->message), "%s failed: %.1500s", failed->platform->text, failed->message);
		copy(s->completion, sizeof(s->completion), r->now);
		return;
	}
	if (settled && s->succeeded == 0) {
		copy(s->phase, sizeof(s->phase), "Failed");
		copy(s->reason, sizeof(s->reason), "NoPlatformSucceeded");
		copy(s->message, sizeof(s->message), "no platform succeeded, so there is nothing to merge");
		copy(s->completion, sizeof(s->completion), r->now);
		return;
	}
	if (settled) {
		if (run_index)
			reconcile_index(r, s);
		else
			copy(s->phase, sizeof(s->phase), "Merging");
		return;
	}
	copy(s->phase, sizeof(s->phase), building || s->succeeded ? "Building" : "Pending");
	if (s->nodes_missing[0])
		say(s->message, sizeof(s->message), "waiting for nodes: no Ready, schedulable node for %s", s->nodes_missing);
	else
		say(s->message, sizeof(s->message), "%u of %zu platforms built", s->succeeded, r->spec.platform_count);
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
		if (!cJSON_IsObject(c) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "type")) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "status")) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "lastTransitionTime")))
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

/* The status the summary and platform states describe; conditions carried over from the old status keep their times. */
static cJSON *compose_status(const struct run *r, const struct summary *s, const struct platform_state *states)
{
	cJSON *st = cJSON_CreateObject(), *list, *conditions;
	const cJSON *old_conditions = json_at(r->old_status, "conditions", NULL);
	const char *start = r->same_generation ? json_str_at(r->old_status, "startTime", NULL) : NULL;
	char summary[16], short_digest[20];
	long gen = r->spec.generation;
	bool ok = st != NULL;
	bool done = strcmp(s->phase, "Succeeded") == 0 || strcmp(s->phase, "Failed") == 0;
	const char *progress = s->nodes_missing[0] && strcmp(s->phase, "Pending") == 0 ? "WaitingForNodes" : s->phase;

	ok = ok && cJSON_AddNumberToObject(st, "observedGeneration", (double)gen);
	ok = ok && cJSON_AddStringToObject(st, "phase", s->phase);
	ok = ok && add_nonempty(st, "image", s->image) && add_nonempty(st, "digest", s->digest);
	if (s->digest[0]) {
		const char *hex = strchr(s->digest, ':');
		snprintf(short_digest, sizeof(short_digest), "%.12s", hex ? hex + 1 : s->digest);
		ok = ok && cJSON_AddStringToObject(st, "shortDigest", short_digest);
	}
	snprintf(summary, sizeof(summary), "%u/%zu", s->succeeded, r->spec.platform_count);
	ok = ok && cJSON_AddStringToObject(st, "platformSummary", summary);
	ok = ok && add_nonempty(st, "indexJob", s->job);
	ok = ok && add_nonempty(st, "startTime", start ? start : r->now);
	ok = ok && add_nonempty(st, "completionTime", done ? s->completion : "");
	ok = ok && add_nonempty(st, "message", s->message);
	list = ok ? cJSON_AddArrayToObject(st, "platforms") : NULL;
	ok = ok && list;
	for (size_t i = 0; ok && i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &states[i];
		cJSON *e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			ok = false;
			break;
		}
		ok = cJSON_AddStringToObject(e, "platform", ps->platform->text) && cJSON_AddStringToObject(e, "phase", ps->phase) &&
		     add_nonempty(e, "digest", ps->digest) && add_nonempty(e, "pod", ps->pod) && add_nonempty(e, "node", ps->node) &&
		     cJSON_AddNumberToObject(e, "attempts", ps->attempts) && add_nonempty(e, "startTime", ps->start) &&
		     add_nonempty(e, "completionTime", ps->completion) && add_nonempty(e, "message", ps->message);
	}
	conditions = ok ? carried_conditions(old_conditions) : NULL;
	if (!conditions || !cJSON_AddItemToObject(st, "conditions", conditions)) {
		cJSON_Delete(conditions);
		cJSON_Delete(st);
		return NULL;
	}
	if (strcmp(s->phase, "Succeeded") == 0) {
		ctl_condition_set(conditions, "Ready", "True", "Succeeded", s->message, gen, r->now);
		ctl_condition_set(conditions, "Reconciling", "False", "Succeeded", "the index is pushed and verified", gen, r->now);
		ctl_condition_set(conditions, "Stalled", "False", "Succeeded", "the build succeeded", gen, r->now);
	} else if (strcmp(s->phase, "Failed") == 0) {
		ctl_condition_set(conditions, "Ready", "False", s->reason, s->message, gen, r->now);
		ctl_condition_set(conditions, "Reconciling", "False", s->reason, "the build stopped; change the spec to build again", gen, r->now);
		ctl_condition_set(conditions, "Stalled", "True", s->reason, s->message, gen, r->now);
	} else {
		ctl_condition_set(conditions, "Ready", "False", progress, s->message, gen, r->now);
		ctl_condition_set(conditions, "Reconciling", "True", progress, s->message, gen, r->now);
		ctl_condition_set(conditions, "Stalled", "False", progress, "the build is progressing", gen, r->now);
	}
	if (s->nodes_missing[0]) {
		char message[700];
		say(message, sizeof(message), "no Ready, schedulable node for %s", s->nodes_missing);
		ctl_condition_set(conditions, "NodesAvailable", "False", "NoMatchingNodes", message, gen, r->now);
	} else {
		ctl_condition_set(conditions, "NodesAvailable", "True", "NodesAvailable", "every platform has a node of its architecture", gen,
				  r->now);
	}
	return st;
}

/* Events for what changed between the written status and the one before, one per platform transition. */
static void emit_events(struct run *r, const struct summary *s)
{
	const char *old_phase = json_str_at(r->old_status, "phase", NULL);
	char note[1400];

	if (!r->w->event)
		return;
	if (!r->same_generation && r->old_status && cJSON_IsNumber(json_at(r->old_status, "observedGeneration", NULL))) {
		say(note, sizeof(note), "generation %ld: the spec changed, so the build starts over (generation %d's pods were stopped)",
		    r->spec.generation, json_at(r->old_status, "observedGeneration", NULL)->valueint);
		r->w->event(r->w->ctx, r->view->build, false, "Restarted", note);
	}
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		const struct platform_state *ps = &r->platforms[i];
		const char *was = json_str_at(ps->prev, "phase", NULL);
		const cJSON *was_attempts = json_at(ps->prev, "attempts", NULL);
		bool attempts_changed = !cJSON_IsNumber(was_attempts) || was_attempts->valueint != ps->attempts;
		bool phase_changed = !was || strcmp(was, ps->phase) != 0;
		if (strcmp(ps->phase, "Building") == 0 && (phase_changed || attempts_changed)) {
			say(note, sizeof(note), "%s: attempt %d in pod %s", ps->platform->text, ps->attempts, ps->pod);
			r->w->event(r->w->ctx, r->view->build, false, "PlatformBuilding", note);
		} else if (strcmp(ps->phase, "Succeeded") == 0 && phase_changed) {
			say(note, sizeof(note), "%s: pushed %s@%s (pod %s on node %s)", ps->platform->text, r->spec.repository, ps->digest, ps->pod,
			    ps->node[0] ? ps->node : "unknown");
			r->w->event(r->w->ctx, r->view->build, false, "PlatformSucceeded", note);
		} else if (strcmp(ps->phase, "Waiting") == 0 && (phase_changed || attempts_changed)) {
			say(note, sizeof(note), "%s: %s", ps->platform->text, ps->message);
			r->w->event(r->w->ctx, r->view->build, true, ps->reason[0] ? ps->reason : "Waiting", note);
		} else if (strcmp(ps->phase, "Failed") == 0 && phase_changed) {
			say(note, sizeof(note), "%s: %s", ps->platform->text, ps->message);
			r->w->event(r->w->ctx, r->view->build, true, "PlatformFailed", note);
		}
	}
	if (old_phase && strcmp(old_phase, s->phase) == 0 && r->same_generation)
		return;
	if (strcmp(s->phase, "Merging") == 0)
		r->w->event(r->w->ctx, r->view->build, false, "Merging", s->message);
	else if (strcmp(s->phase, "Succeeded") == 0)
		r->w->event(r->w->ctx, r->view->build, false, "Succeeded", s->message);
	else if (strcmp(s->phase, "Failed") == 0)
		r->w->event(r->w->ctx, r->view->build, true, s->reason, s->message);
}

/* Writes status when it differs from what the cache holds; a platform success alone waits for company a little while. */
static void write_status(struct run *r, const struct summary *s)
{
	cJSON *status = compose_status(r, s, r->platforms), *held = NULL;
	double wait = -1;
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res;

	if (!status) {
		copy(r->out->error, sizeof(r->out->error), "out of memory composing status");
		r->out->retry = true;
		return;
	}
	if (r->old_status && cJSON_Compare(status, r->old_status, true))
		goto out;
	/* a success that leaves others building is batched with the next change, for at most status_batch_s */
	if (r->same_generation && strcmp(s->phase, "Building") == 0) {
		struct platform_state held_states[CTL_PLATFORMS_MAX];
		struct summary held_summary;
		struct platform_state saved[CTL_PLATFORMS_MAX];
		bool any = false;
		memcpy(held_states, r->platforms, sizeof(held_states));
		for (size_t i = 0; i < r->spec.platform_count; i++) {
			struct platform_state *hs = &held_states[i];
			double left = (double)hs->succeeded_at + r->opts->status_batch_s - (double)r->view->now;
			if (!hs->fresh_success || !hs->prev || left <= 0)
				continue;
			any = true;
			if (wait < 0 || left < wait)
				wait = left;
			copy(hs->phase, sizeof(hs->phase), json_str_at(hs->prev, "phase", NULL));
			copy(hs->digest, sizeof(hs->digest), json_str_at(hs->prev, "digest", NULL));
			copy(hs->completion, sizeof(hs->completion), json_str_at(hs->prev, "completionTime", NULL));
			copy(hs->node, sizeof(hs->node), json_str_at(hs->prev, "node", NULL));
			copy(hs->message, sizeof(hs->message), json_str_at(hs->prev, "message", NULL));
		}
		if (any) {
			memcpy(saved, r->platforms, sizeof(saved));
			memcpy(r->platforms, held_states, sizeof(held_states));
			summarise(r, &held_summary, false);
			held = compose_status(r, &held_summary, held_states);
			memcpy(r->platforms, saved, sizeof(saved));
			if (held && cJSON_Compare(held, r->old_status, true)) {
				requeue_within(r, wait);
				goto out;
			}
		}
	}
	res = r->w->write_status(r->w->ctx, r->view->build, status, err, sizeof(err));
	if (res == CTL_WRITE_OK) {
		r->out->status_written = true;
		emit_events(r, s);
	} else if (res != CTL_WRITE_GONE) {
		say(r->out->error, sizeof(r->out->error), "cannot write status: %s", err);
		r->out->retry = true;
	}
out:
	cJSON_Delete(held);
	cJSON_Delete(status);
}

/* The status of a build the controller cannot act on: Stalled until the spec changes. */
static void invalid_spec(struct run *r, const char *why)
{
	struct summary s;

	memset(&s, 0, sizeof(s));
	copy(s.phase, sizeof(s.phase), "Failed");
	copy(s.reason, sizeof(s.reason), "InvalidSpec");
	say(s.message, sizeof(s.message), "%s", why);
	copy(s.completion, sizeof(s.completion), r->now);
	r->spec.platform_count = 0;
	write_status(r, &s);
}

void ctl_reconcile(const struct ctl_reconcile_options *opts, const struct ctl_view *view, const struct ctl_writer *writer,
		   struct ctl_outcome *out)
{
	struct run *r = calloc(1, sizeof(*r));
	/* arrays of tree pointers */
	const cJSON **pods = calloc(view->pod_count + 1, sizeof(cJSON *)); /* NOLINT(bugprone-sizeof-expression) */
	const cJSON **jobs = calloc(view->job_count + 1, sizeof(cJSON *)); /* NOLINT(bugprone-sizeof-expression) */
	struct ctl_view own;
	char err[CTL_ERRBUF_SIZE];
	struct summary s;
	const cJSON *gen;
	const char *old_phase;

	memset(out, 0, sizeof(*out));
	out->requeue_after_s = -1;
	if (!r || !pods || !jobs) {
		copy(out->error, sizeof(out->error), "out of memory");
		out->retry = true;
		goto done;
	}
	own_children(view, pods, jobs, &own);
	r->opts = opts;
	r->view = &own;
	r->w = writer;
	r->out = out;
	rfc3339_format(view->now, r->now, sizeof(r->now));
	copy(r->name, sizeof(r->name), json_str_at(view->build, "metadata", "name"));
	r->old_status = json_at(view->build, "status", NULL);
	gen = json_at(r->old_status, "observedGeneration", NULL);
	if (json_at(view->build, "metadata", "deletionTimestamp"))
		goto done; /* the garbage collector removes the children with their owner */
	if (ctl_build_spec_read(view->build, &r->spec, err, sizeof(err)) != CTL_OK) {
		r->same_generation = json_whole_number_or(gen, 0, JSON_WHOLE_MAX, -1) == r->spec.generation;
		invalid_spec(r, err);
		copy(out->phase, sizeof(out->phase), "Failed");
		goto done;
	}
	r->same_generation = json_whole_number_or(gen, 0, JSON_WHOLE_MAX, -1) == r->spec.generation;
	cancel_other_generations(r);
	old_phase = json_str_at(r->old_status, "phase", NULL);
	if (r->same_generation && old_phase && (strcmp(old_phase, "Succeeded") == 0 || strcmp(old_phase, "Failed") == 0)) {
		copy(out->phase, sizeof(out->phase), old_phase);
		goto done; /* finished for this generation: only a new spec builds again */
	}
	collect_pods(r);
	for (size_t i = 0; i < r->spec.platform_count; i++) {
		r->platforms[i].platform = &r->spec.platforms[i];
		r->platforms[i].prev = r->same_generation ? status_entry(r->old_status, r->spec.platforms[i].text) : NULL;
		reconcile_platform(r, i);
	}
	summarise(r, &s, !out->retry);
	copy(out->phase, sizeof(out->phase), s.phase);
	write_status(r, &s);
	/* timed-out pods are stopped only once their failure is recorded */
	if (out->status_written || (r->old_status && !out->retry))
		for (size_t i = 0; i < r->delete_after_count; i++)
			delete_child(r, "Pod", r->delete_after_status[i]);
done:
	free(pods);
	free(jobs);
	free(r);
}
