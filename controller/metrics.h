/* The controller's metrics: counters and histograms updated from any thread, rendered in the Prometheus text format. */
#ifndef MAC_CONTROLLER_METRICS_H
#define MAC_CONTROLLER_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "controller/buildspec.h"
#include "util/dynbuf.h"

#define CTL_HIST_BUCKETS_MAX 16
#define CTL_METRICS_CONTROLLER "multiarchbuild" /* the controller and work queue label of the controller-runtime families */
#define CTL_METRIC_SERIES_MAX 64                /* labelled series per family; the last is "other", which counts every later one */

/* A histogram with fixed upper bounds (seconds). Lock-free: observe() from any thread. */
struct ctl_histogram {
	const double *bounds;
	size_t bound_count;
	atomic_ullong counts[CTL_HIST_BUCKETS_MAX + 1]; /* per bucket, not cumulative; the last is +Inf */
	atomic_ullong sum_us;
};

void ctl_histogram_init(struct ctl_histogram *h, const double *bounds, size_t bound_count);
void ctl_histogram_observe(struct ctl_histogram *h, double seconds);

/* API requests by method and status, and build durations by platform: small labelled families under a lock. */
struct ctl_api_series {
	char method[8];
	long code;
	unsigned long long count;
};

struct ctl_platform_series {
	char platform[40];
	struct ctl_histogram seconds;
};

struct ctl_metrics {
	atomic_ullong reconciles;
	atomic_ullong reconcile_errors;
	atomic_ullong reconcile_requeues_after; /* reconciles that asked to run again after a time (a timeout, a backoff) */
	struct ctl_histogram reconcile_seconds;
	struct ctl_histogram queue_wait_seconds;
	struct ctl_histogram index_seconds;
	pthread_mutex_t lock;
	struct ctl_api_series api[CTL_METRIC_SERIES_MAX];
	size_t api_count;
	struct ctl_platform_series builds[CTL_METRIC_SERIES_MAX];
	size_t build_count;
	atomic_ullong finished[2][CTL_BACKEND_COUNT]; /* builds that finished: [0] Succeeded, [1] Failed, by backend */
};

void ctl_metrics_init(struct ctl_metrics *m);
void ctl_metrics_destroy(struct ctl_metrics *m);

/* One API request's answer (for kube_client_options.on_response). */
void ctl_metrics_api(void *m, const char *method, long code);

/* A platform built in seconds. */
void ctl_metrics_build(struct ctl_metrics *m, const char *platform, double seconds);

/* Appends every family above, with HELP and TYPE lines, to out. Returns false when out is full. */
bool ctl_metrics_render(struct ctl_metrics *m, struct dynbuf *out);

/* Appends the HELP and TYPE lines of family name to out; false when out is full. */
bool ctl_metrics_family(struct dynbuf *out, const char *name, const char *type, const char *help);

/* Appends one histogram family member (name, optional {labels}) to out. */
bool ctl_histogram_render(const struct ctl_histogram *h, const char *name, const char *labels, struct dynbuf *out);

/* Counts what a status write shows, once each: the build and index durations of a platform or a build that moved
 * to Succeeded, and a build that finished (Succeeded or Failed) by result and backend, from build's status to
 * new_status (both borrowed; build may have no status yet). */
void ctl_metrics_status_written(struct ctl_metrics *m, const cJSON *build, const cJSON *new_status);

#endif
