/* The work of one reconcile, shared by its steps (reconcile.c, platformstep.c, indexstep.c, buildstatus.c,
 * history.c, retention.c and runwrites.c), and by nothing else: the platform states, the build summary, and the helpers every step writes
 * through. */
#ifndef MAC_CONTROLLER_RECONCILERUN_H
#define MAC_CONTROLLER_RECONCILERUN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <time.h>

#include "controller/buildspec.h"
#include "controller/naming.h"
#include "controller/phases.h"
#include "controller/podresult.h"
#include "controller/reconciletypes.h"
#include "util/timefmt.h"

#define ATTEMPTS_MAX 11 /* 1 + policy.retries (at most 10) */
#define MESSAGE_MAX 1024

/* A platform's state as this reconcile works it out; becomes one status.platforms entry. */
struct platform_state {
	const struct ctl_platform *platform;
	const cJSON *prev;                   /* its entry in the status of the same generation, or NULL */
	const cJSON *pods[ATTEMPTS_MAX + 1]; /* this generation's build pods by attempt */
	enum ctl_phase phase;
	enum ctl_reason reason; /* why it Failed or Waits: RetriesExhausted, NoMatchingNodes, PodRefused, Retrying */
	char digest[CTL_DIGEST_MAX];
	char pod[CTL_NAME_MAX + 1];
	char node[254];
	int attempts;
	char start[RFC3339_MAX];
	char completion[RFC3339_MAX];
	char message[MESSAGE_MAX];
	bool fresh_success; /* succeeded since the last written status */
	time_t succeeded_at;
};

/* Whether the build may make its first pods, as the view's may_start answered. */
enum start_permission {
	START_UNASKED,
	START_GRANTED,
	START_QUEUED,
};

/* The work of one reconcile. */
struct run {
	const struct ctl_reconcile_options *opts;
	const struct ctl_view *view;
	const struct ctl_writer *w;
	struct ctl_outcome *out;
	struct ctl_build_spec spec;
	const cJSON *old_status;
	bool same_round;
	struct ctl_retention retention; /* the spec's over the configuration's over the built-in */
	char name[254];
	char now[RFC3339_MAX];
	struct platform_state platforms[CTL_PLATFORMS_MAX];
	const cJSON *delete_after_status[ATTEMPTS_MAX * CTL_PLATFORMS_MAX];
	size_t delete_after_count;
	bool config_map_ready;      /* the generation's builder ConfigMap exists (or none is needed) */
	bool config_map_foreign;    /* a ConfigMap of that name exists and is not this build's: nothing may mount it */
	char config_map_owner[128]; /* what owns it, for the message */
	enum start_permission start;
};

/* The build-wide state the platforms add up to. */
struct summary {
	enum ctl_phase phase;
	enum ctl_reason reason;
	char message[2048];
	char image[CTL_IMAGE_MAX + CTL_DIGEST_MAX];
	char digest[CTL_DIGEST_MAX];
	char job[CTL_NAME_MAX + 1];
	char completion[RFC3339_MAX];
	char nodes_missing[512];   /* platforms without nodes, "" when none */
	char optional_failed[512]; /* optional platforms that failed, so the index lacks them; "" when none */
	unsigned succeeded;
	bool queued; /* a platform waits for the build to be let start */
};

/* runwrites.c: the helpers every step writes through */

/* Asks for another reconcile within seconds (at least half a second); the earliest request wins. */
void run_requeue_within(struct run *r, double seconds);

/* Deletes a child unless it is already going. Returns false when the write failed (the reconcile is retried). */
bool run_delete_child(struct run *r, const char *kind, const cJSON *child);

/* Creates the generation's builder ConfigMap (cluster CA, registry files) if the configuration has any, before the
 * first child that mounts it. Returns false when that failed (the reconcile is then retried), when the create is
 * not answered yet (the next run goes on), or when a ConfigMap of its name exists that this build does not control
 * (r->config_map_foreign: no child may mount it). */
bool run_ensure_config_map(struct run *r);

/* platformstep.c */

/* Sorts this generation's build pods into platforms and attempts. */
void run_collect_pods(struct run *r);

/* Works out platform i from its pods and the previous status, starting or retrying an attempt when due. */
void run_platform_step(struct run *r, size_t i);

/* indexstep.c: runs the index step once every platform is settled; sets s->phase Merging, Succeeded or Failed
 * (Building when the step must be tried again). */
void run_index_step(struct run *r, struct summary *s);

/* history.c: adds status.history to status: the old entries and, when s ends a round, one for it (at most
 * retention.history). False when out of memory. */
bool run_add_history(const struct run *r, const struct summary *s, cJSON *status);

/* retention.c: deletes the finished pods and Jobs of earlier rounds past retention.succeeded and retention.failed
 * (newest kept), and with current_too the current round's finished ones as well (ttlAfterFinished passed). */
void run_apply_retention(struct run *r, bool current_too);

/* buildstatus.c */

/* Adds the platforms up into s; runs the index step when they are settled and run_index is true. */
void run_summarise(struct run *r, struct summary *s, bool run_index);

/* Writes status when it differs from what the cache holds (a platform success alone waits for company a little
 * while), then the Events for what changed. */
void run_write_status(struct run *r, const struct summary *s);

#endif
