/* The API spellings of build and platform phases and of the controller's reasons: one table each. */
#include "controller/phases.h"

#include <stddef.h>
#include <string.h>
#include "util/banned.h"

static const char *const phase_names[] = {
	[CTL_PHASE_NONE] = "",           [CTL_PHASE_PENDING] = "Pending",
	[CTL_PHASE_WAITING] = "Waiting", [CTL_PHASE_BUILDING] = "Building",
	[CTL_PHASE_MERGING] = "Merging", [CTL_PHASE_SUCCEEDED] = "Succeeded",
	[CTL_PHASE_FAILED] = "Failed",
};

static const char *const reason_names[] = {
	[CTL_REASON_NONE] = "",
	[CTL_REASON_NO_MATCHING_NODES] = "NoMatchingNodes",
	[CTL_REASON_POD_REFUSED] = "PodRefused",
	[CTL_REASON_RETRIES_EXHAUSTED] = "RetriesExhausted",
	[CTL_REASON_RETRYING] = "Retrying",
	[CTL_REASON_INDEX_REFUSED] = "IndexRefused",
	[CTL_REASON_INDEX_FAILED] = "IndexFailed",
	[CTL_REASON_NO_PLATFORM_SUCCEEDED] = "NoPlatformSucceeded",
	[CTL_REASON_PLATFORM_FAILED] = "PlatformFailed",
	[CTL_REASON_INVALID_SPEC] = "InvalidSpec",
	[CTL_REASON_POLICY_VIOLATION] = "PolicyViolation",
	[CTL_REASON_CHILD_NOT_OWNED] = "ChildNotOwned",
	[CTL_REASON_SUCCEEDED] = "Succeeded",
	[CTL_REASON_WAITING_FOR_NODES] = "WaitingForNodes",
	[CTL_REASON_NODES_AVAILABLE] = "NodesAvailable",
	[CTL_REASON_RESTARTED] = "Restarted",
	[CTL_REASON_WAITING] = "Waiting",
	[CTL_REASON_MERGING] = "Merging",
	[CTL_REASON_PENDING] = "Pending",
	[CTL_REASON_BUILDING] = "Building",
	[CTL_REASON_PARTIAL_INDEX] = "PartialIndex",
	[CTL_REASON_COMPLETE_INDEX] = "CompleteIndex",
	[CTL_REASON_QUEUED] = "Queued",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *ctl_phase_name(enum ctl_phase p)
{
	return (size_t)p < COUNT(phase_names) && phase_names[p] ? phase_names[p] : "";
}

enum ctl_phase ctl_phase_parse(const char *text)
{
	for (size_t i = 1; text && i < COUNT(phase_names); i++)
		if (strcmp(text, phase_names[i]) == 0)
			return (enum ctl_phase)i;
	return CTL_PHASE_NONE;
}

bool ctl_phase_final(enum ctl_phase p)
{
	return p == CTL_PHASE_SUCCEEDED || p == CTL_PHASE_FAILED;
}

const char *ctl_reason_name(enum ctl_reason r)
{
	return (size_t)r < COUNT(reason_names) && reason_names[r] ? reason_names[r] : "";
}

enum ctl_reason ctl_reason_parse(const char *text)
{
	for (size_t i = 1; text && i < COUNT(reason_names); i++)
		if (strcmp(text, reason_names[i]) == 0)
			return (enum ctl_reason)i;
	return CTL_REASON_NONE;
}

enum ctl_reason ctl_reason_of_progress(enum ctl_phase p, bool waiting_for_nodes)
{
	switch (p) {
	case CTL_PHASE_PENDING:
		return waiting_for_nodes ? CTL_REASON_WAITING_FOR_NODES : CTL_REASON_PENDING;
	case CTL_PHASE_MERGING:
		return CTL_REASON_MERGING;
	case CTL_PHASE_WAITING:
		return CTL_REASON_WAITING;
	case CTL_PHASE_BUILDING:
	case CTL_PHASE_NONE:
	case CTL_PHASE_SUCCEEDED:
	case CTL_PHASE_FAILED:
		break;
	}
	return CTL_REASON_BUILDING;
}
