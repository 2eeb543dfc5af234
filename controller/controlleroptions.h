/* What a controller is told when it is made: the reconcile's options, workers, scope, leader election, logging and
 * the addresses it serves; below the running controller, so that its parts read them without knowing it. */
#ifndef MAC_CONTROLLER_CONTROLLEROPTIONS_H
#define MAC_CONTROLLER_CONTROLLEROPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "controller/httpd.h"
#include "controller/informer.h"
#include "controller/metrics.h"
#include "controller/reconcile.h"

/* Log levels, as the caller prints them. */
enum ctl_log_level { CTL_LOG_DEBUG, CTL_LOG_INFO, CTL_LOG_WARN, CTL_LOG_ERROR };

/* One fact of a log line: a key ("namespace", "build", "phase", "error", ...) and its value. */
struct ctl_log_field {
	const char *key;
	const char *value;
};

/* A log line: a constant message and count fields, never a credential. */
typedef void (*ctl_log_fn)(void *ctx, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count);

struct ctl_controller_options {
	struct ctl_reconcile_options reconcile;
	int workers;                                      /* 2 */
	size_t max_builds_in_flight;                      /* builds started and not finished, at most (1000; 0: no bound) */
	double resync_s;                                  /* every build is looked at again this often; 0 for never (default 600) */
	const char *namespaces[CTL_INFORMER_SOURCES_MAX]; /* only these namespaces (borrowed); none: all */
	size_t namespace_count;
	bool leader_elect;           /* true */
	const char *lease_namespace; /* "default" */
	const char *lease_name;      /* "multiarch-controller" */
	const char *identity;        /* who holds the lease and reports events (host name and a random suffix) */
	long lease_duration_s, renew_deadline_s, retry_period_s; /* 15, 10, 2 */
	ctl_log_fn log;
	void *log_ctx;
	struct ctl_metrics *metrics;            /* where reconciles, waits and durations are counted; may be NULL */
	const char *metrics_addr;               /* /metrics and the status page: "HOST:PORT", ":PORT", or "0" for off (default) */
	const char *health_addr;                /* /healthz and /readyz; "0" for off (default) */
	enum ctl_status_auth_mode metrics_auth; /* who may read metrics_addr (default CTL_STATUS_AUTH_AUTO) */
	void (*release_memory)(void);           /* called at start and every 10 s to give freed memory back to the system; may be NULL */
};

void ctl_controller_options_init(struct ctl_controller_options *o);

#endif
