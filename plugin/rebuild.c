/* kubectl mab rebuild NAME: a new multiarch.dev/requested-at (the time now), which builds the same spec again. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controller/labels.h"
#include "plugin/mab.h"
#include "util/timefmt.h"
#include "util/banned.h"

int mab_rebuild(struct mab_context *ctx)
{
	char path[KUBE_PATH_MAX], patch[256], now[RFC3339_MAX], err[512];
	struct kube_response resp;
	struct timespec ts;
	enum kube_err e;

	if (ctx->argc != 1 || ctx->argv[0][0] == '-') {
		fprintf(stderr, "kubectl-mab rebuild: which build? kubectl mab rebuild NAME\n");
		return MAB_EXIT_USAGE;
	}
	if (!mab_connect(ctx, false))
		return MAB_EXIT_FAILED;
	clock_gettime(CLOCK_REALTIME, &ts);
	rfc3339_micro_format(&ts, now, sizeof(now)); /* two requests in one second are still two */
	snprintf(patch, sizeof(patch), "{\"metadata\":{\"annotations\":{\"%s\":\"%s\"}}}", CTL_ANNOTATION_REQUESTED_AT, now);
	if (!mab_path(path, sizeof(path), ctx->namespace, ctx->argv[0])) {
		fprintf(stderr, "kubectl-mab: %s: not a valid name\n", ctx->argv[0]);
		return MAB_EXIT_USAGE;
	}
	e = kube_request(ctx->client, "PATCH", path, KUBE_CT_MERGE_PATCH, patch, strlen(patch), &resp, err, sizeof(err));
	kube_response_free(&resp);
	if (e != KUBE_OK) {
		fprintf(stderr, "kubectl-mab: cannot ask multiarchbuild %s to rebuild: %s\n", ctx->argv[0], err);
		return MAB_EXIT_FAILED;
	}
	printf("multiarchbuild.multiarch.dev/%s rebuild requested (%s=%s)\n", ctx->argv[0], CTL_ANNOTATION_REQUESTED_AT, now);
	return MAB_EXIT_OK;
}
