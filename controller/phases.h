/* The phases a build and its platforms go through and the reasons the controller gives, as enums with one table of
 * their API spellings (status.phase, status.platforms[].phase and .reason, condition and Event reasons). */
#ifndef MAC_CONTROLLER_PHASES_H
#define MAC_CONTROLLER_PHASES_H

#include <stdbool.h>

enum ctl_phase {
	CTL_PHASE_NONE = 0, /* not worked out yet, or unknown text */
	CTL_PHASE_PENDING,
	CTL_PHASE_WAITING, /* a platform: for nodes or for its retry */
	CTL_PHASE_BUILDING,
	CTL_PHASE_MERGING, /* the build: the index Job runs */
	CTL_PHASE_SUCCEEDED,
	CTL_PHASE_FAILED,
};

enum ctl_reason {
	CTL_REASON_NONE = 0,
	CTL_REASON_NO_MATCHING_NODES,
	CTL_REASON_POD_REFUSED,
	CTL_REASON_RETRIES_EXHAUSTED,
	CTL_REASON_RETRYING,
	CTL_REASON_INDEX_REFUSED,
	CTL_REASON_INDEX_FAILED,
	CTL_REASON_NO_PLATFORM_SUCCEEDED,
	CTL_REASON_PLATFORM_FAILED,
	CTL_REASON_INVALID_SPEC,
	CTL_REASON_POLICY_VIOLATION,
	CTL_REASON_CHILD_NOT_OWNED,
	CTL_REASON_SUCCEEDED,
	CTL_REASON_WAITING_FOR_NODES,
	CTL_REASON_NODES_AVAILABLE,
	CTL_REASON_RESTARTED,
	CTL_REASON_WAITING,
	CTL_REASON_MERGING,
	CTL_REASON_PENDING,
	CTL_REASON_BUILDING,
	CTL_REASON_PARTIAL_INDEX,  /* the index lacks optional platforms that failed */
	CTL_REASON_COMPLETE_INDEX, /* the index holds every platform */
	CTL_REASON_QUEUED,         /* the build waits for one of the builds in flight to finish (the controller's bound) */
};

/* The API spelling of p ("Building"); "" for CTL_PHASE_NONE or a value outside the enum. Static storage. */
const char *ctl_phase_name(enum ctl_phase p);

/* The phase text names; CTL_PHASE_NONE for NULL or text that names none. */
enum ctl_phase ctl_phase_parse(const char *text);

/* Succeeded or Failed: nothing more happens in this generation. */
bool ctl_phase_final(enum ctl_phase p);

/* The API spelling of r ("RetriesExhausted"); "" for CTL_REASON_NONE or a value outside the enum. Static storage. */
const char *ctl_reason_name(enum ctl_reason r);

/* The reason text names; CTL_REASON_NONE for NULL or text that names none. */
enum ctl_reason ctl_reason_parse(const char *text);

/* The reason a condition gives while the build is in phase p and not finished: the phase's own name as a reason,
 * WaitingForNodes when it is Pending for want of nodes. */
enum ctl_reason ctl_reason_of_progress(enum ctl_phase p, bool waiting_for_nodes);

#endif
