/* kubectl mab wait NAME: until the build is Ready (exit 0, its image by digest printed), Stalled (1) or the timeout
 * passes (124), on a watch of that one build. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/buildspec.h"
#include "kube/watch.h"
#include "plugin/mab.h"
#include "util/jsonget.h"
#include "util/timefmt.h"
#include "util/banned.h"

#define WAIT_DEFAULT_S (30L * 60)

/* What the watch saw last: the build's state, and the build when it is final. */
struct wait_seen {
	enum mab_state state;
	cJSON *build;
};

static bool on_event(void *ctx, enum kube_event_type type, const cJSON *object)
{
	struct wait_seen *seen = ctx;

	if (type != KUBE_EV_ADDED && type != KUBE_EV_MODIFIED)
		return true;
	seen->state = mab_state_of(object);
	if (seen->state == MAB_GOING)
		return true;
	seen->build = cJSON_Duplicate(object, true);
	return false;
}

/* Prints the outcome of a final build; the exit code. */
static int report(const cJSON *build, const char *name, bool digest_only, enum mab_state state)
{
	const char *image = json_str_at(build, "status", "image"), *digest = json_str_at(build, "status", "digest");
	const cJSON *stalled = json_find(json_at(build, "status", "conditions"), "type", "Stalled");

	if (state == MAB_READY) {
		printf("%s\n", digest_only ? (digest ? digest : "") : (image ? image : ""));
		return MAB_EXIT_OK;
	}
	fprintf(stderr, "kubectl-mab: multiarchbuild %s failed: %s\n", name,
		json_str_at(stalled, "message", NULL) ? json_str_at(stalled, "message", NULL) : "Stalled");
	return MAB_EXIT_FAILED;
}

/* Watches the build from resourceVersion rv for at most seconds; the state it reached (the final build in *final). */
static enum mab_state watch_for(const struct mab_context *ctx, const char *name, const char *rv, long seconds, cJSON **final)
{
	char path[KUBE_PATH_MAX], selector[300], last_rv[KUBE_RV_MAX], err[512];
	struct kube_watch_options o = {path, rv, seconds, NULL};
	struct wait_seen seen = {MAB_GOING, NULL};

	snprintf(selector, sizeof(selector), "metadata.name=%s", name);
	snprintf(last_rv, sizeof(last_rv), "%s", rv ? rv : "");
	if (!mab_path(path, sizeof(path), ctx->namespace, NULL) || !kube_query(path, sizeof(path), "fieldSelector", selector))
		return MAB_GOING;
	if (kube_watch(ctx->client, &o, on_event, &seen, last_rv, sizeof(last_rv), err, sizeof(err)) != KUBE_E_STOPPED)
		sleep(1); /* the server ended the watch, or it failed: read the build again after a pause */
	*final = seen.build;
	return seen.build ? seen.state : MAB_GOING;
}

int mab_wait(struct mab_context *ctx)
{
	const char *name = NULL;
	long timeout_s = WAIT_DEFAULT_S;
	bool digest_only = false;
	double deadline;

	for (int i = 0; i < ctx->argc; i++) {
		const char *a = ctx->argv[i];
		if (strncmp(a, "--timeout=", 10) == 0 && ctl_parse_duration(a + 10, &timeout_s))
			continue;
		if (strcmp(a, "--output=digest") == 0 || strcmp(a, "-odigest") == 0) {
			digest_only = true;
		} else if (a[0] != '-' && !name) {
			name = a;
		} else {
			fprintf(stderr, "kubectl-mab wait: unknown argument %s (see kubectl mab wait --help)\n", a);
			return MAB_EXIT_USAGE;
		}
	}
	if (!name) {
		fprintf(stderr, "kubectl-mab wait: which build? kubectl mab wait NAME [--timeout=30m] [--output=digest]\n");
		return MAB_EXIT_USAGE;
	}
	if (!mab_connect(ctx, false))
		return MAB_EXIT_FAILED;
	deadline = monotonic_seconds() + (double)timeout_s;
	for (;;) {
		cJSON *build = NULL, *final = NULL;
		enum mab_state state;
		double left = deadline - monotonic_seconds();
		int code;
		if (!mab_get(ctx, name, &build))
			return MAB_EXIT_FAILED;
		state = mab_state_of(build);
		if (state == MAB_GOING && left > 0)
			state = watch_for(ctx, name, json_str_at(build, "metadata", "resourceVersion"), (long)left + 1, &final);
		if (state == MAB_GOING) {
			cJSON_Delete(build);
			if (deadline - monotonic_seconds() > 0)
				continue;
			fprintf(stderr, "kubectl-mab: timed out after %lds waiting for multiarchbuild %s\n", timeout_s, name);
			return MAB_EXIT_TIMEOUT;
		}
		code = report(final ? final : build, name, digest_only, state);
		cJSON_Delete(final);
		cJSON_Delete(build);
		return code;
	}
}
