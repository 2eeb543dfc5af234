/* What a pod's status says of its build: finished or not, the digest it pushed, or why it failed, stuck or waits
 * for a node, in words for the platform's status message. */
#ifndef MAC_CONTROLLER_PODRESULT_H
#define MAC_CONTROLLER_PODRESULT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CTL_DIGEST_MAX 80
#define CTL_POD_FAILURE_MAX 1024

/* What a finished pod came to. */
struct ctl_pod_result {
	bool finished;  /* phase Succeeded or Failed */
	bool succeeded; /* Succeeded with a sha256 digest as its termination message */
	char digest[CTL_DIGEST_MAX];
	char failure[CTL_POD_FAILURE_MAX]; /* why it failed, when finished and not succeeded */
	time_t finished_at;                /* its first container's finish time, or now when it gives none */
};

/* Whether pod (borrowed) is in phase Succeeded or Failed. */
bool ctl_pod_finished(const cJSON *pod);

/* Reads pod (borrowed) into *res; now stands in for a missing finish time. */
void ctl_pod_result_read(const cJSON *pod, time_t now, struct ctl_pod_result *res);

/* When a container of pod (init containers first) waits for a reason no wait will cure (an image that cannot be
 * pulled, a container that cannot be created): "REASON (container NAME): message" in buf, and true. */
bool ctl_pod_stuck(const cJSON *pod, char *buf, size_t len);

/* Why a pending pod is not placed, from its PodScheduled condition, in buf; "" when it is or nothing says. */
void ctl_pod_unschedulable(const cJSON *pod, char *buf, size_t len);

#endif
