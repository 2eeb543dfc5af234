/* The controller's metrics: counters and histograms updated from any thread, rendered in the Prometheus text format. */
#include "controller/metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/jsonget.h"
#include "util/timefmt.h"
#include "util/banned.h"

static const double reconcile_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
static const double wait_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};
static const double build_bounds[] = {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};

void ctl_histogram_init(struct ctl_histogram *h, const double *bounds, size_t bound_count)
{
	h->bounds = bounds;
	h->bound_count = bound_count > CTL_HIST_BUCKETS_MAX ? CTL_HIST_BUCKETS_MAX : bound_count;
	for (size_t i = 0; i <= CTL_HIST_BUCKETS_MAX; i++)
		atomic_store(&h->counts[i], 0);
	atomic_store(&h->sum_us, 0);
}

void ctl_histogram_observe(struct ctl_histogram *h, double seconds)
{
	size_t i = 0;

	if (seconds < 0)
		seconds = 0;
	while (i < h->bound_count && seconds > h->bounds[i])
		i++;
	atomic_fetch_add(&h->counts[i], 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)(seconds * 1e6));
}

bool ctl_histogram_render(const struct ctl_histogram *h, const char *name, const char *labels, struct dynbuf *out)
{
	unsigned long long cumulative = 0;
	bool ok = true;
	const char *sep = labels && *labels ? "," : "";

	labels = labels ? labels : "";
	for (size_t i = 0; i <= h->bound_count; i++) {
		cumulative += atomic_load(&h->counts[i]);
		if (i < h->bound_count)
			ok = ok &&
			     dynbuf_addf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i], cumulative) == DYNBUF_OK;
		else
			ok = ok && dynbuf_addf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, cumulative) == DYNBUF_OK;
	}
	ok = ok && dynbuf_addf(out, "%s_sum%s%s%s %.6f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
			       (double)atomic_load(&h->sum_us) / 1e6) == DYNBUF_OK;
	ok = ok && dynbuf_addf(out, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", cumulative) == DYNBUF_OK;
	return ok;
}

void ctl_metrics_init(struct ctl_metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	ctl_histogram_init(&m->reconcile_seconds, reconcile_bounds, sizeof(reconcile_bounds) / sizeof(reconcile_bounds[0]));
	ctl_histogram_init(&m->queue_wait_seconds, wait_bounds, sizeof(wait_bounds) / sizeof(wait_bounds[0]));
	ctl_histogram_init(&m->index_seconds, build_bounds, sizeof(build_bounds) / sizeof(build_bounds[0]));
}

void ctl_metrics_destroy(struct ctl_metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

void ctl_metrics_api(void *ctx, const char *method, long code)
{
	struct ctl_metrics *m = ctx;
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->api_count; i++)
		if (m->api[i].code == code && strcmp(m->api[i].method, method) == 0)
			break;
	if (i == m->api_count && m->api_count < CTL_METRIC_SERIES_MAX) {
		bool last = m->api_count == CTL_METRIC_SERIES_MAX - 1; /* the overflow series */
		snprintf(m->api[i].method, sizeof(m->api[i].method), "%s", last ? "other" : method);
		m->api[i].code = last ? 0 : code;
		m->api_count++;
	}
	m->api[i < m->api_count ? i : m->api_count - 1].count++;
	pthread_mutex_unlock(&m->lock);
}

void ctl_metrics_build(struct ctl_metrics *m, const char *platform, double seconds)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->build_count; i++)
		if (strcmp(m->builds[i].platform, platform) == 0)
			break;
	if (i == m->build_count && m->build_count < CTL_METRIC_SERIES_MAX) {
		bool last = m->build_count == CTL_METRIC_SERIES_MAX - 1; /* the overflow series */
		snprintf(m->builds[i].platform, sizeof(m->builds[i].platform), "%s", last ? "other" : platform);
		ctl_histogram_init(&m->builds[i].seconds, build_bounds, sizeof(build_bounds) / sizeof(build_bounds[0]));
		m->build_count++;
	}
	ctl_histogram_observe(&m->builds[i < m->build_count ? i : m->build_count - 1].seconds, seconds);
	pthread_mutex_unlock(&m->lock);
}

bool ctl_metrics_family(struct dynbuf *out, const char *name, const char *type, const char *help)
{
	return dynbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) == DYNBUF_OK;
}

/* The families controller-runtime operators export, under their names and labels, from the same counts: what
 * dashboards and alerts written for those operators read. */
static bool render_controller_runtime(struct ctl_metrics *m, struct dynbuf *out)
{
	unsigned long long total = atomic_load(&m->reconciles), errors = atomic_load(&m->reconcile_errors);
	unsigned long long requeued = atomic_load(&m->reconcile_requeues_after);
	unsigned long long success = total >= errors + requeued ? total - errors - requeued : 0;
	bool ok = ctl_metrics_family(out, "controller_runtime_reconcile_total", "counter", "Reconciles per controller, by result.");

	ok = ok &&
	     dynbuf_addf(out,
			 "controller_runtime_reconcile_total{controller=\"" CTL_METRICS_CONTROLLER "\",result=\"success\"} %llu\n"
			 "controller_runtime_reconcile_total{controller=\"" CTL_METRICS_CONTROLLER "\",result=\"error\"} %llu\n"
			 "controller_runtime_reconcile_total{controller=\"" CTL_METRICS_CONTROLLER "\",result=\"requeue\"} 0\n"
			 "controller_runtime_reconcile_total{controller=\"" CTL_METRICS_CONTROLLER "\",result=\"requeue_after\"} %llu\n",
			 success, errors, requeued) == DYNBUF_OK;
	ok = ok && ctl_metrics_family(out, "controller_runtime_reconcile_errors_total", "counter",
				      "Reconciles that returned an error, per controller.");
	ok = ok && dynbuf_addf(out, "controller_runtime_reconcile_errors_total{controller=\"" CTL_METRICS_CONTROLLER "\"} %llu\n",
			       errors) == DYNBUF_OK;
	ok = ok &&
	     ctl_metrics_family(out, "controller_runtime_reconcile_time_seconds", "histogram", "Time one reconcile took, per controller.");
	ok = ok && ctl_histogram_render(&m->reconcile_seconds, "controller_runtime_reconcile_time_seconds",
					"controller=\"" CTL_METRICS_CONTROLLER "\"", out);
	/* a worker's work on a key is its reconcile: the same observations under the work queue's name */
	ok = ok && ctl_metrics_family(out, "workqueue_work_duration_seconds", "histogram",
				      "Time a worker took on a key taken from the work queue, per queue.");
	ok = ok &&
	     ctl_histogram_render(&m->reconcile_seconds, "workqueue_work_duration_seconds", "name=\"" CTL_METRICS_CONTROLLER "\"", out);
	ok = ok &&
	     ctl_metrics_family(out, "workqueue_queue_duration_seconds", "histogram", "Time a key waited in the work queue, per queue.");
	ok = ok &&
	     ctl_histogram_render(&m->queue_wait_seconds, "workqueue_queue_duration_seconds", "name=\"" CTL_METRICS_CONTROLLER "\"", out);
	return ok;
}

bool ctl_metrics_render(struct ctl_metrics *m, struct dynbuf *out)
{
	char labels[80];
	bool ok = render_controller_runtime(m, out);

	ok = ok && ctl_metrics_family(out, "multiarch_reconciles_total", "counter", "Reconciles run.");
	ok = ok && dynbuf_addf(out, "multiarch_reconciles_total %llu\n", atomic_load(&m->reconciles)) == DYNBUF_OK;
	ok = ok && ctl_metrics_family(out, "multiarch_reconcile_errors_total", "counter",
				      "Reconciles that failed and were requeued with backoff.");
	ok = ok && dynbuf_addf(out, "multiarch_reconcile_errors_total %llu\n", atomic_load(&m->reconcile_errors)) == DYNBUF_OK;
	ok = ok && ctl_metrics_family(out, "multiarch_reconcile_duration_seconds", "histogram", "Time one reconcile took.");
	ok = ok && ctl_histogram_render(&m->reconcile_seconds, "multiarch_reconcile_duration_seconds", NULL, out);
	ok = ok && ctl_metrics_family(out, "multiarch_workqueue_wait_seconds", "histogram",
				      "Time a key waited in the work queue before a worker took it.");
	ok = ok && ctl_histogram_render(&m->queue_wait_seconds, "multiarch_workqueue_wait_seconds", NULL, out);
	ok = ok && ctl_metrics_family(out, "multiarch_index_duration_seconds", "histogram",
				      "Time from the index Job's creation to the pushed index.");
	ok = ok && ctl_histogram_render(&m->index_seconds, "multiarch_index_duration_seconds", NULL, out);
	pthread_mutex_lock(&m->lock);
	ok = ok && ctl_metrics_family(out, "multiarch_api_requests_total", "counter",
				      "Requests to the Kubernetes API by method and HTTP status.");
	for (size_t i = 0; ok && i < m->api_count; i++)
		ok = dynbuf_addf(out, "multiarch_api_requests_total{method=\"%s\",code=\"%ld\"} %llu\n", m->api[i].method, m->api[i].code,
				 m->api[i].count) == DYNBUF_OK;
	ok = ok &&
	     ctl_metrics_family(out, "rest_client_requests_total", "counter", "Requests to the Kubernetes API by method and HTTP status.");
	for (size_t i = 0; ok && i < m->api_count; i++)
		ok = dynbuf_addf(out, "rest_client_requests_total{method=\"%s\",code=\"%ld\"} %llu\n", m->api[i].method, m->api[i].code,
				 m->api[i].count) == DYNBUF_OK;
	ok = ok && ctl_metrics_family(out, "multiarch_platform_build_duration_seconds", "histogram",
				      "Time a platform took to build, by platform.");
	for (size_t i = 0; ok && i < m->build_count; i++) {
		snprintf(labels, sizeof(labels), "platform=\"%s\"", m->builds[i].platform);
		ok = ctl_histogram_render(&m->builds[i].seconds, "multiarch_platform_build_duration_seconds", labels, out);
	}
	pthread_mutex_unlock(&m->lock);
	ok = ok &&
	     ctl_metrics_family(out, "multiarch_builds_finished_total", "counter", "Builds that finished, by result and builder backend.");
	for (int r = 0; ok && r < 2; r++)
		for (int b = 0; ok && b < CTL_BACKEND_COUNT; b++)
			ok = dynbuf_addf(out, "multiarch_builds_finished_total{result=\"%s\",backend=\"%s\"} %llu\n",
					 r == 0 ? "Succeeded" : "Failed", ctl_backend_name((enum ctl_backend)b),
					 atomic_load(&m->finished[r][b])) == DYNBUF_OK;
	return ok;
}

static double seconds_between(const char *from, const char *to)
{
	time_t a, b;

	return from && to && rfc3339_parse(from, &a) && rfc3339_parse(to, &b) && b >= a ? (double)(b - a) : -1;
}

/* A build that moved to Succeeded or Failed: counted by result and backend (spec.builder.type). */
static void count_finished(struct ctl_metrics *m, const cJSON *build, const char *old_phase, const char *phase)
{
	const char *type = json_str_at(json_at(build, "spec", "builder"), "type", NULL);
	enum ctl_backend backend;
	int result;

	if (!phase || (old_phase && strcmp(old_phase, phase) == 0))
		return;
	if (strcmp(phase, "Succeeded") == 0)
		result = 0;
	else if (strcmp(phase, "Failed") == 0)
		result = 1;
	else
		return;
	if (!ctl_backend_parse(type ? type : "buildkit", &backend))
		return;
	atomic_fetch_add(&m->finished[result][backend], 1);
}

void ctl_metrics_status_written(struct ctl_metrics *m, const cJSON *build, const cJSON *new_status)
{
	const cJSON *old_status = cJSON_GetObjectItemCaseSensitive(build, "status"), *p, *q;
	const char *last_platform_done = NULL, *old_phase = json_str_at(old_status, "phase", NULL),
		   *phase = json_str_at(new_status, "phase", NULL);
	double d;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(new_status, "platforms")) {
		const char *name = json_str_at(p, "platform", NULL), *ph = json_str_at(p, "phase", NULL), *was = NULL;
		if (!name || !ph || strcmp(ph, "Succeeded") != 0)
			continue;
		if (!last_platform_done ||
		    strcmp(json_str_at(p, "completionTime", NULL) ? json_str_at(p, "completionTime", NULL) : "", last_platform_done) > 0)
			last_platform_done = json_str_at(p, "completionTime", NULL);
		cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(old_status, "platforms")) {
			if (json_str_at(q, "platform", NULL) && strcmp(json_str_at(q, "platform", NULL), name) == 0)
				was = json_str_at(q, "phase", NULL);
		}
		if ((!was || strcmp(was, "Succeeded") != 0) &&
		    (d = seconds_between(json_str_at(p, "startTime", NULL), json_str_at(p, "completionTime", NULL))) >= 0)
			ctl_metrics_build(m, name, d);
	}
	count_finished(m, build, old_phase, phase);
	if (phase && strcmp(phase, "Succeeded") == 0 && (!old_phase || strcmp(old_phase, "Succeeded") != 0) &&
	    (d = seconds_between(last_platform_done, json_str_at(new_status, "completionTime", NULL))) >= 0)
		ctl_histogram_observe(&m->index_seconds, d);
}
