/* The platform step of a reconcile: each platform's attempts from its pods and its previous status, a pod started
 * when one is due, a failed attempt retried after its backoff or given up. */
#include <math.h>
#include <string.h>

#include "controller/children.h"
#include "controller/labels.h"
#include "controller/reconcilerun.h"
#include "registry/reference.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "util/banned.h"

/* The first words of these failures' messages; a status written before status.platforms[].reason existed is read
 * back by them. */
#define MSG_NO_NODES "no Ready, schedulable node"
#define MSG_REFUSED "the API server refused"

static void set_state(struct platform_state *ps, enum ctl_phase phase, enum ctl_reason reason)
{
	ps->phase = phase;
	ps->reason = reason;
}

/* The build pod of platform i, attempt n, could not be placed: no node fits. */
static void no_nodes(struct run *r, struct platform_state *ps, const cJSON *selector, const char *after_failure)
{
	text_format(ps->message, sizeof(ps->message), MSG_NO_NODES " with kubernetes.io/arch=%s%s%s%s", ps->platform->platform.arch,
		    cJSON_GetArraySize(selector) > 2 ? " and the build's nodeSelector" : "", after_failure ? "; " : "",
		    after_failure ? after_failure : "");
	set_state(ps, r->spec.fail_missing_nodes || ps->platform->optional ? CTL_PHASE_FAILED : CTL_PHASE_WAITING,
		  CTL_REASON_NO_MATCHING_NODES);
}

/* Whether a usable node carries selector (borrowed; platform ps's, may be NULL) and admits ps's tolerations;
 * unknown (out of memory) when either cannot be made. */
static bool some_node_fits(const struct run *r, const struct platform_state *ps, const cJSON *selector, bool unknown)
{
	cJSON *tolerations = ctl_platform_tolerations(r->view->build, ps->platform, r->opts->children.config);
	bool fits = selector && tolerations ? r->view->any_node_fits(r->view->nodes_ctx, selector, tolerations) : unknown;

	cJSON_Delete(tolerations);
	return fits;
}

/* How long a build pod may wait for a node: the build's policy.nodeWaitTimeout, else the configuration's. */
static long node_wait_s(const struct run *r)
{
	const struct ctl_builder_config *config = r->opts->children.config;

	if (r->spec.node_wait_s > 0)
		return r->spec.node_wait_s;
	return config && config->node_wait_s > 0 ? config->node_wait_s : CTL_NODE_WAIT_DEFAULT_S;
}

/* Platform i's pod, made at created, exists and no node takes it (none of its architecture is Ready, or the
 * scheduler found none that fits): Waiting, so that NodesAvailable says so, while a cluster autoscaler may add
 * one; scheduler is the scheduler's word ("" when it has none yet). The message holds no clock, so that a look
 * while nothing changed writes nothing. */
static void waiting_for_node(struct run *r, struct platform_state *ps, time_t created, const char *scheduler)
{
	char deadline[RFC3339_MAX];

	rfc3339_format(created + node_wait_s(r), deadline, sizeof(deadline));
	set_state(ps, CTL_PHASE_WAITING, CTL_REASON_NO_MATCHING_NODES);
	text_format(ps->message, sizeof(ps->message),
		    MSG_NO_NODES " with kubernetes.io/arch=%s has taken pod %s; it waits for one until %s (policy.nodeWaitTimeout "
				 "%lds), which a cluster autoscaler can add%s%s",
		    ps->platform->platform.arch, ps->pod, deadline, node_wait_s(r), scheduler[0] ? "; " : "", scheduler);
	run_requeue_within(r, (double)(created + node_wait_s(r)) - (double)r->view->now);
}

/* The generation's builder ConfigMap exists and is not this build's: no pod may mount it. */
static void config_map_taken(const struct run *r, struct platform_state *ps)
{
	char name[CTL_NAME_MAX + 1];

	ctl_builder_config_map_name(name, sizeof(name), r->name, r->spec.round);
	set_state(ps, CTL_PHASE_FAILED, CTL_REASON_CHILD_NOT_OWNED);
	text_format(ps->message, sizeof(ps->message),
		    "ConfigMap %s already exists and this build does not control it (its controller: %s); no pod mounts it: delete it, "
		    "or rename the build",
		    name, r->config_map_owner);
	text_copy(ps->completion, sizeof(ps->completion), r->now);
}

/* What came of creating attempt's pod (named in ps->pod); err is the API server's word on a failure. */
static void pod_created(struct run *r, struct platform_state *ps, int attempt, enum ctl_write res, const char *err)
{
	switch (res) {
	case CTL_WRITE_OK:
	case CTL_WRITE_EXISTS:
	case CTL_WRITE_PENDING:
		if (res == CTL_WRITE_OK)
			r->out->creates++;
		if (res == CTL_WRITE_PENDING)
			r->out->writes_pending = true;
		set_state(ps, CTL_PHASE_BUILDING, CTL_REASON_NONE);
		ps->attempts = attempt;
		ps->message[0] = ps->completion[0] = ps->node[0] = '\0';
		text_copy(ps->start, sizeof(ps->start), r->now);
		break;
	case CTL_WRITE_REFUSED:
		set_state(ps, CTL_PHASE_FAILED, CTL_REASON_POD_REFUSED);
		text_format(ps->message, sizeof(ps->message), MSG_REFUSED " build pod %s: %s", ps->pod, err);
		ps->attempts = attempt;
		break;
	case CTL_WRITE_GONE:
	case CTL_WRITE_CONFLICT:
	case CTL_WRITE_FAILED:
		text_format(r->out->error, sizeof(r->out->error), "cannot create build pod %s: %s", ps->pod, err);
		r->out->retry = true;
		break;
	}
}

/* Whether the build may make its first pods: asks the view once a reconcile. */
static bool may_start(struct run *r)
{
	if (r->start == START_UNASKED)
		r->start = !r->view->may_start || r->view->may_start(r->view->start_ctx) ? START_GRANTED : START_QUEUED;
	return r->start == START_GRANTED;
}

/* Platform ps waits with its build for one of the builds in flight to finish. The message holds no count that
 * changes while it waits, so that a look meanwhile writes nothing. */
static void queued(const struct run *r, struct platform_state *ps)
{
	set_state(ps, CTL_PHASE_PENDING, CTL_REASON_QUEUED);
	text_format(ps->message, sizeof(ps->message),
		    "queued: the controller runs at most %zu build%s at once (--max-builds-in-flight) and that many are in "
		    "flight; it starts when one of them finishes",
		    r->view->in_flight_max, r->view->in_flight_max == 1 ? "" : "s");
}

/* Starts attempt for platform i: nodes first, then the pod (create-if-missing). */
static void start_attempt(struct run *r, size_t i, int attempt, const char *after_failure)
{
	struct platform_state *ps = &r->platforms[i];
	cJSON *selector = ctl_platform_node_selector(r->view->build, ps->platform);
	bool fits = some_node_fits(r, ps, selector, false);
	cJSON *pod = NULL;
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res;

	if (!fits)
		no_nodes(r, ps, selector, after_failure);
	cJSON_Delete(selector);
	/* policy Wait: the pod is made all the same, pinned as usual, so that a cluster autoscaler sees it */
	if ((!fits && ps->phase == CTL_PHASE_FAILED) || !run_ensure_config_map(r)) {
		if (r->config_map_foreign)
			config_map_taken(r, ps);
		return;
	}
	if (ctl_build_pod(r->view->build, &r->spec, i, attempt, &r->opts->children, &pod, err, sizeof(err)) != CTL_OK) {
		set_state(ps, CTL_PHASE_FAILED, CTL_REASON_POD_REFUSED);
		text_format(ps->message, sizeof(ps->message), MSG_REFUSED " build pod of %s: %s", ps->platform->text, err);
		return;
	}
	res = r->w->create(r->w->ctx, "Pod", pod, err, sizeof(err));
	text_copy(ps->pod, sizeof(ps->pod), json_str_at(pod, "metadata", "name"));
	cJSON_Delete(pod);
	pod_created(r, ps, attempt, res, err);
	if (!fits && ps->phase == CTL_PHASE_BUILDING)
		waiting_for_node(r, ps, r->view->now, "");
}

static double retry_delay(const struct run *r, int failed_attempts)
{
	double d = r->opts->retry_base_s * pow(2, failed_attempts - 1);

	return d > r->opts->retry_max_s ? r->opts->retry_max_s : d;
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
		set_state(ps, CTL_PHASE_FAILED, CTL_REASON_RETRIES_EXHAUSTED);
		text_format(ps->message, sizeof(ps->message), "attempt %d failed, no retries left (policy.retries=%d): %.900s", n,
			    r->spec.retries, failure);
		return;
	}
	delay = retry_delay(r, n);
	if ((double)(r->view->now - failed_at) >= delay) {
		text_format(why, sizeof(why), "attempt %d failed: %.900s", n, failure);
		start_attempt(r, i, n + 1, why);
		return;
	}
	rfc3339_format(failed_at + (time_t)ceil(delay), retry_at, sizeof(retry_at));
	set_state(ps, CTL_PHASE_WAITING, CTL_REASON_RETRYING);
	text_format(ps->message, sizeof(ps->message), "attempt %d failed, retrying at %s: %.850s", n, retry_at, failure);
	run_requeue_within(r, (double)failed_at + delay - (double)r->view->now);
}

/* The reason of a Failed platform in the previous status: its reason field, or for a status written before that
 * field existed, what its message starts with. */
static enum ctl_reason prev_failure_reason(const cJSON *prev)
{
	enum ctl_reason reason = ctl_reason_parse(json_str_at(prev, "reason", NULL));
	const char *message = json_str_at(prev, "message", NULL);

	if (reason != CTL_REASON_NONE)
		return reason;
	if (message && strncmp(message, MSG_NO_NODES, strlen(MSG_NO_NODES)) == 0)
		return CTL_REASON_NO_MATCHING_NODES;
	if (message && strncmp(message, MSG_REFUSED, strlen(MSG_REFUSED)) == 0)
		return CTL_REASON_POD_REFUSED;
	return CTL_REASON_RETRIES_EXHAUSTED;
}

/* Whether the previous status already recorded attempt n as failed (a timeout, a vanished pod). */
static bool prev_recorded_failure(const struct platform_state *ps, int n)
{
	const cJSON *attempts = json_at(ps->prev, "attempts", NULL);
	enum ctl_phase phase = ctl_phase_parse(json_str_at(ps->prev, "phase", NULL));

	return cJSON_IsNumber(attempts) && attempts->valueint == n && (phase == CTL_PHASE_WAITING || phase == CTL_PHASE_FAILED) &&
	       json_str_at(ps->prev, "completionTime", NULL);
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

/* A platform the previous status of this generation already ended (Succeeded with a digest, or Failed) keeps
 * that end; returns false when it did not end. */
static bool kept_from_prev(struct platform_state *ps)
{
	const cJSON *a = json_at(ps->prev, "attempts", NULL);
	enum ctl_phase phase = ctl_phase_parse(json_str_at(ps->prev, "phase", NULL));
	const char *digest = json_str_at(ps->prev, "digest", NULL);

	text_copy(ps->start, sizeof(ps->start), json_str_at(ps->prev, "startTime", NULL));
	text_copy(ps->pod, sizeof(ps->pod), json_str_at(ps->prev, "pod", NULL));
	if (phase == CTL_PHASE_SUCCEEDED && digest && reg_digest_valid(digest)) {
		set_state(ps, CTL_PHASE_SUCCEEDED, CTL_REASON_NONE);
		text_copy(ps->digest, sizeof(ps->digest), digest);
		text_copy(ps->node, sizeof(ps->node), json_str_at(ps->prev, "node", NULL));
		text_copy(ps->completion, sizeof(ps->completion), json_str_at(ps->prev, "completionTime", NULL));
		ps->attempts = cJSON_IsNumber(a) ? a->valueint : 1;
		return true;
	}
	if (phase != CTL_PHASE_FAILED)
		return false;
	/* final for this generation: retries exhausted, refused, or no node under policy Fail */
	set_state(ps, CTL_PHASE_FAILED, prev_failure_reason(ps->prev));
	text_copy(ps->message, sizeof(ps->message), json_str_at(ps->prev, "message", NULL));
	text_copy(ps->completion, sizeof(ps->completion), json_str_at(ps->prev, "completionTime", NULL));
	ps->attempts = cJSON_IsNumber(a) ? a->valueint : 0;
	return true;
}

/* Attempt n's pod is gone, or going before it finished (how names which): a failed attempt, at the time the
 * previous status recorded when it did. */
static void attempt_lost(struct run *r, size_t i, int n, const char *how)
{
	struct platform_state *ps = &r->platforms[i];
	char failure[MESSAGE_MAX];

	if (prev_recorded_failure(ps, n)) {
		text_copy(failure, sizeof(failure), prev_failure_text(ps));
		attempt_failed(r, i, n, failure, rfc3339_parse_or(json_str_at(ps->prev, "completionTime", NULL), r->view->now));
		return;
	}
	text_format(failure, sizeof(failure), "build pod %s %s before it finished", ps->pod, how);
	attempt_failed(r, i, n, failure, r->view->now);
}

/* Whether platform i's pod has no node and none is there for it: none of its architecture fits, or the scheduler
 * said it found none. */
static bool unplaced(const struct run *r, size_t i, const cJSON *pod)
{
	const struct platform_state *ps = &r->platforms[i];
	cJSON *selector;
	char scheduler[64];
	bool fits;

	if (json_str_at(pod, "spec", "nodeName"))
		return false;
	ctl_pod_unschedulable(pod, scheduler, sizeof(scheduler));
	if (scheduler[0])
		return true;
	selector = ctl_platform_node_selector(r->view->build, ps->platform);
	fits = some_node_fits(r, ps, selector, true);
	cJSON_Delete(selector);
	return !fits;
}

/* Attempt n's pod, made at created, waits for a node: Waiting, or past policy.nodeWaitTimeout the platform fails
 * with NoMatchingNodes (no retry: another attempt would wait the same) and the pod is deleted once that is
 * written. */
static void waited_for_node(struct run *r, size_t i, int n, const cJSON *pod, time_t created)
{
	struct platform_state *ps = &r->platforms[i];
	char scheduler[MESSAGE_MAX / 2];

	ctl_pod_unschedulable(pod, scheduler, sizeof(scheduler));
	if ((double)r->view->now - (double)created < (double)node_wait_s(r)) {
		waiting_for_node(r, ps, created, scheduler);
		return;
	}
	if (r->delete_after_count < sizeof(r->delete_after_status) / sizeof(r->delete_after_status[0]))
		r->delete_after_status[r->delete_after_count++] = pod;
	set_state(ps, CTL_PHASE_FAILED, CTL_REASON_NO_MATCHING_NODES);
	ps->attempts = n;
	text_format(ps->message, sizeof(ps->message),
		    MSG_NO_NODES " with kubernetes.io/arch=%s took pod %s within %lds (policy.nodeWaitTimeout)%s%s",
		    ps->platform->platform.arch, ps->pod, node_wait_s(r), scheduler[0] ? "; " : "", scheduler);
	/* the time recorded first stays, so a pod that takes a while to go causes no new writes */
	text_copy(ps->completion, sizeof(ps->completion),
		  prev_recorded_failure(ps, n) && json_str_at(ps->prev, "completionTime", NULL)
			  ? json_str_at(ps->prev, "completionTime", NULL)
			  : r->now);
}

/* Attempt n's pod runs or waits: stopped when it is stuck or past policy.timeout, else Building. */
static void attempt_running(struct run *r, size_t i, int n, int recorded, const cJSON *pod)
{
	struct platform_state *ps = &r->platforms[i];
	long timeout = r->spec.timeout_s;
	time_t created = rfc3339_parse_or(json_str_at(pod, "metadata", "creationTimestamp"), r->view->now);
	char failure[MESSAGE_MAX];
	bool stuck = ctl_pod_stuck(pod, failure, sizeof(failure));

	if (stuck || (double)(r->view->now - created) >= (double)timeout) {
		if (!stuck)
			text_format(failure, sizeof(failure), "timed out after %lds (policy.timeout)", timeout);
		if (r->delete_after_count < sizeof(r->delete_after_status) / sizeof(r->delete_after_status[0]))
			r->delete_after_status[r->delete_after_count++] = pod;
		/* the time recorded first stays, so a pod that takes a while to stop causes no new writes */
		attempt_failed(r, i, n, failure,
			       prev_recorded_failure(ps, n) ? rfc3339_parse_or(json_str_at(ps->prev, "completionTime", NULL), r->view->now)
							    : r->view->now);
		return;
	}
	if (unplaced(r, i, pod)) {
		waited_for_node(r, i, n, pod, created);
		return;
	}
	set_state(ps, CTL_PHASE_BUILDING, CTL_REASON_NONE);
	/* the start written when the attempt was created stays, so a later look writes nothing new */
	if (!(recorded == n && ps->start[0]))
		text_copy(ps->start, sizeof(ps->start), json_str_at(pod, "metadata", "creationTimestamp"));
	ps->node[0] = '\0'; /* recorded when the platform ends, so binding alone never costs a status write */
	ctl_pod_unschedulable(pod, ps->message, sizeof(ps->message));
	run_requeue_within(r, (double)created + (double)timeout - (double)r->view->now);
}

/* The latest attempt of platform i: the highest with a pod, or the one the previous status recorded. Older
 * attempts still running (their deletion failed before) are stopped. recorded receives the previous status's. */
static int latest_attempt(struct run *r, size_t i, int *recorded)
{
	struct platform_state *ps = &r->platforms[i];
	int highest = 0, n;

	for (int a = ATTEMPTS_MAX; a >= 1 && !highest; a--)
		if (ps->pods[a])
			highest = a;
	*recorded = (int)(cJSON_IsNumber(json_at(ps->prev, "attempts", NULL)) ? json_at(ps->prev, "attempts", NULL)->valueint : 0);
	n = highest > *recorded ? highest : *recorded;
	if (n > ATTEMPTS_MAX)
		n = ATTEMPTS_MAX;
	for (int a = 1; a < n; a++)
		if (ps->pods[a] && !ctl_pod_finished(ps->pods[a]))
			run_delete_child(r, "Pod", ps->pods[a]);
	return n;
}

void run_platform_step(struct run *r, size_t i)
{
	struct platform_state *ps = &r->platforms[i];
	struct ctl_pod_result res;
	const cJSON *pod;
	int recorded, n;

	set_state(ps, CTL_PHASE_PENDING, CTL_REASON_NONE);
	if (ps->prev && kept_from_prev(ps))
		return;
	n = latest_attempt(r, i, &recorded);
	if (n == 0) {
		if (may_start(r))
			start_attempt(r, i, 1, NULL);
		else
			queued(r, ps);
		return;
	}
	ps->attempts = n;
	pod = ps->pods[n];
	if (!pod) {
		if (!prev_recorded_failure(ps, n))
			ctl_pod_name(ps->pod, sizeof(ps->pod), r->name, r->spec.round, ps->platform->label, n);
		attempt_lost(r, i, n, "disappeared");
		return;
	}
	text_copy(ps->pod, sizeof(ps->pod), json_str_at(pod, "metadata", "name"));
	text_copy(ps->node, sizeof(ps->node), json_str_at(pod, "spec", "nodeName"));
	ctl_pod_result_read(pod, r->view->now, &res);
	if (res.finished && res.succeeded) {
		set_state(ps, CTL_PHASE_SUCCEEDED, CTL_REASON_NONE);
		text_copy(ps->digest, sizeof(ps->digest), res.digest);
		rfc3339_format(res.finished_at, ps->completion, sizeof(ps->completion));
		ps->message[0] = '\0';
		ps->fresh_success = true;
		ps->succeeded_at = res.finished_at;
	} else if (res.finished) {
		attempt_failed(r, i, n, res.failure, res.finished_at);
	} else if (json_at(pod, "metadata", "deletionTimestamp")) {
		attempt_lost(r, i, n, "was deleted");
	} else {
		attempt_running(r, i, n, recorded, pod);
	}
}

void run_collect_pods(struct run *r)
{
	for (size_t i = 0; i < r->view->pod_count; i++) {
		const cJSON *pod = r->view->pods[i];
		const char *role = ctl_label(pod, CTL_LABEL_ROLE), *platform = ctl_label(pod, CTL_LABEL_PLATFORM);
		long attempt = ctl_label_number(pod, CTL_LABEL_ATTEMPT);
		if (!ctl_child_in_round(pod, &r->spec) || !role || strcmp(role, CTL_ROLE_BUILD) != 0 || !platform || attempt < 1 ||
		    attempt > ATTEMPTS_MAX)
			continue;
		for (size_t p = 0; p < r->spec.platform_count; p++)
			if (strcmp(r->spec.platforms[p].label, platform) == 0)
				r->platforms[p].pods[attempt] = pod;
	}
}
