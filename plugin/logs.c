/* kubectl mab logs NAME [-f] [--platform P]: the builder logs of every platform's pod, each line prefixed with its
 * platform; with -f, followed as they are written, from one attempt's pod to the next, until the build ends. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/buildspec.h"
#include "kube/stream.h"
#include "plugin/mab.h"
#include "util/jsonget.h"
#include "util/banned.h"

#define LOG_LINE_MAX ((size_t)1024 * 1024)
#define BUILDER_CONTAINER "builder"
#define FOLLOW_PAUSE_S 2

/* One platform's log reader. */
struct platform_log {
	const struct mab_context *ctx;
	const char *name;
	char platform[64];
	pthread_mutex_t *out_lock; /* one line at a time on stdout */
	int failures;
};

static bool print_line(void *arg, const char *line, size_t len)
{
	struct platform_log *p = arg;

	pthread_mutex_lock(p->out_lock);
	printf("[%s] %.*s\n", p->platform, (int)len, line);
	fflush(stdout);
	pthread_mutex_unlock(p->out_lock);
	return true;
}

/* The log path of pod's builder container, followed or not. */
static bool log_path(char *buf, size_t len, const char *namespace, const char *pod, bool follow)
{
	return kube_path(buf, len, "", "v1", namespace, "pods", pod, "log") && kube_query(buf, len, "container", BUILDER_CONTAINER) &&
	       (!follow || kube_query(buf, len, "follow", "true"));
}

/* The pod and phase status.platforms holds for platform p (copied into pod, phase). */
static void platform_pod(const cJSON *build, const char *platform, char *pod, size_t pod_len, char *phase, size_t phase_len)
{
	const cJSON *e = json_find(json_at(build, "status", "platforms"), "platform", platform);

	snprintf(pod, pod_len, "%s", json_str_at(e, "pod", NULL) ? json_str_at(e, "pod", NULL) : "");
	snprintf(phase, phase_len, "%s", json_str_at(e, "phase", NULL) ? json_str_at(e, "phase", NULL) : "");
}

/* Whether nothing more will be logged for the platform: the build is final, or the platform is. */
static bool ended(enum mab_state state, const char *phase)
{
	return state != MAB_GOING || strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

/* Follows the platform's pods until the build or the platform is final and its last pod's log is read. */
static void *follow_platform(void *arg)
{
	struct platform_log *p = arg;
	char done[254] = "", pod[254], phase[32], path[KUBE_PATH_MAX], err[512];

	for (;;) {
		cJSON *build = NULL;
		enum mab_state state;
		if (!mab_get(p->ctx, p->name, &build)) {
			p->failures++;
			break;
		}
		state = mab_state_of(build);
		platform_pod(build, p->platform, pod, sizeof(pod), phase, sizeof(phase));
		cJSON_Delete(build);
		if (pod[0] && strcmp(pod, done) != 0 && log_path(path, sizeof(path), p->ctx->namespace, pod, true)) {
			struct kube_stream_options o = {path, 0, LOG_LINE_MAX, NULL, NULL};
			enum kube_err e = kube_stream_lines(p->ctx->client, &o, print_line, p, err, sizeof(err));
			if (e == KUBE_E_HTTP && !ended(state, phase)) { /* 400: its container has not started yet */
				sleep(FOLLOW_PAUSE_S);
				continue;
			}
			if (e == KUBE_E_HTTP) /* it never started, and the build or the platform is over */
				break;
			if (e != KUBE_OK) {
				fprintf(stderr, "kubectl-mab: %s\n", err);
				p->failures++;
			}
			snprintf(done, sizeof(done), "%s", pod);
			continue;
		}
		if (ended(state, phase))
			break;
		sleep(FOLLOW_PAUSE_S);
	}
	return NULL;
}

/* Prints what the platform's current pod has logged so far. */
static void print_platform(struct platform_log *p, const cJSON *build)
{
	char pod[254], phase[32], path[KUBE_PATH_MAX], err[512];
	struct kube_response resp;
	const char *line, *end;

	platform_pod(build, p->platform, pod, sizeof(pod), phase, sizeof(phase));
	if (!pod[0]) {
		fprintf(stderr, "kubectl-mab: %s has no pod yet (%s)\n", p->platform, phase[0] ? phase : "Pending");
		return;
	}
	if (!log_path(path, sizeof(path), p->ctx->namespace, pod, false) ||
	    kube_request(p->ctx->client, "GET", path, NULL, NULL, 0, &resp, err, sizeof(err)) != KUBE_OK) {
		fprintf(stderr, "kubectl-mab: the log of %s (%s): %s\n", pod, p->platform, err);
		p->failures++;
		kube_response_free(&resp);
		return;
	}
	for (line = resp.body.data; line && line < resp.body.data + resp.body.len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(resp.body.data + resp.body.len - line));
		if (!end)
			end = resp.body.data + resp.body.len;
		print_line(p, line, (size_t)(end - line));
	}
	kube_response_free(&resp);
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "kubectl-mab logs: %s %s (see kubectl mab logs --help)\n", what, arg);
	return MAB_EXIT_USAGE;
}

int mab_logs(struct mab_context *ctx)
{
	struct platform_log logs[CTL_PLATFORMS_MAX];
	pthread_t threads[CTL_PLATFORMS_MAX];
	bool started[CTL_PLATFORMS_MAX] = {false};
	pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
	const char *name = NULL, *only = NULL;
	bool follow = false;
	const cJSON *e;
	cJSON *build;
	size_t n = 0;
	int failures = 0;

	for (int i = 0; i < ctx->argc; i++) {
		const char *a = ctx->argv[i];
		if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0)
			follow = true;
		else if (strncmp(a, "--platform=", 11) == 0)
			only = a + 11;
		else if (strcmp(a, "--platform") == 0 && i + 1 < ctx->argc)
			only = ctx->argv[++i];
		else if (a[0] != '-' && !name)
			name = a;
		else
			return usage_error("unknown argument", a);
	}
	if (!name)
		return usage_error("which build? kubectl mab logs NAME [-f] [--platform P]", "");
	if (!mab_connect(ctx, false) || !mab_get(ctx, name, &build))
		return MAB_EXIT_FAILED;
	cJSON_ArrayForEach(e, json_at(build, "spec", "platforms")) {
		if (!cJSON_IsString(e) || n == CTL_PLATFORMS_MAX || (only && strcmp(only, e->valuestring) != 0))
			continue;
		logs[n] = (struct platform_log){ctx, name, "", &out_lock, 0};
		snprintf(logs[n].platform, sizeof(logs[n].platform), "%s", e->valuestring);
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "kubectl-mab: multiarchbuild %s has no platform %s\n", name, only ? only : "");
		cJSON_Delete(build);
		return MAB_EXIT_FAILED;
	}
	for (size_t i = 0; i < n && !follow; i++)
		print_platform(&logs[i], build);
	for (size_t i = 0; i < n && follow; i++) {
		started[i] = pthread_create(&threads[i], NULL, follow_platform, &logs[i]) == 0;
		if (!started[i])
			follow_platform(&logs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (follow && started[i])
			pthread_join(threads[i], NULL);
		failures += logs[i].failures;
	}
	cJSON_Delete(build);
	return failures ? MAB_EXIT_FAILED : MAB_EXIT_OK;
}
