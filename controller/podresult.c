/* What a pod's status says of its build: the digest it pushed, or why it failed, is stuck or is not placed. */
#include "controller/podresult.h"

#include <string.h>

#include "registry/reference.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "util/banned.h"

bool ctl_pod_finished(const cJSON *pod)
{
	const char *phase = json_str_at(pod, "status", "phase");

	return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/* The state of the first container in the pod's status list (containerStatuses or initContainerStatuses). */
static const cJSON *first_state(const cJSON *pod, const char *list, const char *state)
{
	return json_at(json_at(cJSON_GetArrayItem(json_at(pod, "status", list), 0), "state", NULL), state, NULL);
}

/* A Succeeded pod: its termination message must be the digest it pushed. */
static void read_success(const cJSON *term, struct ctl_pod_result *res)
{
	const char *message = json_str_at(term, "message", NULL);
	char text[CTL_DIGEST_MAX + 8];
	size_t n;

	text_copy(text, sizeof(text), message);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		text[--n] = '\0';
	if (reg_digest_valid(text) && strncmp(text, "sha256:", 7) == 0) {
		res->succeeded = true;
		text_copy(res->digest, sizeof(res->digest), text);
		return;
	}
	text_format(res->failure, sizeof(res->failure),
		    "the builder exited 0 but its termination message is not a sha256 digest: \"%.100s\"", message ? message : "");
}

#define LOG_TAIL_MAX 700

/* The last LOG_TAIL_MAX bytes of a termination message (the end of a build's log, where its error is), starting on
 * a whole UTF-8 character; message itself when it is short enough, NULL for NULL. */
static const char *log_tail(const char *message)
{
	size_t len = message ? strlen(message) : 0;
	const char *tail = message;

	if (len > LOG_TAIL_MAX) {
		tail = message + len - LOG_TAIL_MAX;
		while (((unsigned char)*tail & 0xC0) == 0x80)
			tail++;
	}
	return tail;
}

/* A Failed pod: the kubelet's own reason for the pod (Evicted, ...), else the failed container's, the builder or
 * the source init container. */
static void read_failure(const cJSON *pod, const cJSON *term, struct ctl_pod_result *res)
{
	const char *pod_reason = json_str_at(pod, "status", "reason"), *pod_message = json_str_at(pod, "status", "message");
	const char *origin = "";
	const cJSON *code;
	const char *message, *reason, *full;

	if (pod_reason) {
		/* the kubelet failed the pod itself: its reason says more than the killed container's exit code */
		text_format(res->failure, sizeof(res->failure), "the pod failed: %s%s%.700s", pod_reason, pod_message ? ": " : "",
			    pod_message ? pod_message : "");
		return;
	}
	if (!term) {
		const cJSON *init = first_state(pod, "initContainerStatuses", "terminated");
		const cJSON *init_code = json_at(init, "exitCode", NULL);
		if (cJSON_IsNumber(init_code) && init_code->valueint != 0) {
			term = init;
			origin = "source: ";
		}
	}
	if (!term) {
		text_format(res->failure, sizeof(res->failure), "the pod failed%s%.700s", pod_message ? ": " : "",
			    pod_message ? pod_message : "");
		return;
	}
	code = json_at(term, "exitCode", NULL);
	full = json_str_at(term, "message", NULL);
	message = log_tail(full);
	reason = json_str_at(term, "reason", NULL);
	text_format(res->failure, sizeof(res->failure), "%s%s (exit code %d)%s%s%s", origin, reason ? reason : "Error",
		    cJSON_IsNumber(code) ? code->valueint : -1, message && *message ? ": " : "", message != full ? "..." : "",
		    message ? message : "");
}

void ctl_pod_result_read(const cJSON *pod, time_t now, struct ctl_pod_result *res)
{
	const cJSON *term = first_state(pod, "containerStatuses", "terminated");
	const char *phase = json_str_at(pod, "status", "phase");

	memset(res, 0, sizeof(*res));
	res->finished_at = rfc3339_parse_or(json_str_at(term, "finishedAt", NULL), now);
	if (!ctl_pod_finished(pod))
		return;
	res->finished = true;
	if (strcmp(phase, "Succeeded") == 0)
		read_success(term, res);
	else
		read_failure(pod, term, res);
}

/* The kubelet's waiting reasons that no wait will cure for this pod (retrying means a new attempt). */
static const char *const stuck_reasons[] = {"ErrImagePull",
					    "ImagePullBackOff",
					    "InvalidImageName",
					    "ErrImageNeverPull",
					    "CreateContainerConfigError",
					    "CreateContainerError",
					    "RunContainerError",
					    NULL};

bool ctl_pod_stuck(const cJSON *pod, char *buf, size_t len)
{
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const cJSON *cs;
		cJSON_ArrayForEach(cs, json_at(pod, "status", lists[l])) {
			const cJSON *waiting = json_at(json_at(cs, "state", NULL), "waiting", NULL);
			const char *reason = json_str_at(waiting, "reason", NULL), *message = json_str_at(waiting, "message", NULL);
			const char *name = json_str_at(cs, "name", NULL);
			for (const char *const *r = stuck_reasons; reason && *r; r++) {
				if (strcmp(reason, *r) != 0)
					continue;
				text_format(buf, len, "%s (container %s): %.800s", reason, name ? name : "?",
					    message ? message : "the kubelet gave no message");
				return true;
			}
		}
	}
	return false;
}

void ctl_pod_unschedulable(const cJSON *pod, char *buf, size_t len)
{
	const cJSON *c;

	if (len > 0)
		buf[0] = '\0';
	cJSON_ArrayForEach(c, json_at(pod, "status", "conditions")) {
		const char *type = json_str_at(c, "type", NULL), *status = json_str_at(c, "status", NULL);
		const char *message = json_str_at(c, "message", NULL);
		if (type && strcmp(type, "PodScheduled") == 0 && status && strcmp(status, "False") == 0)
			text_format(buf, len, "not scheduled yet: %.900s", message ? message : "no node fits");
	}
}
