/* kubectl mab: reading a MultiArchBuild and telling whether its status is final for the current round. */
#include <stdio.h>
#include <string.h>

#include "controller/labels.h"
#include "plugin/mab.h"
#include "util/jsonget.h"
#include "util/jsonnum.h"
#include "util/banned.h"

bool mab_path(char *buf, size_t len, const char *namespace, const char *name)
{
	return kube_path(buf, len, CTL_API_GROUP, CTL_API_VERSION, namespace, CTL_RESOURCE, name, NULL);
}

bool mab_get(const struct mab_context *ctx, const char *name, cJSON **out)
{
	char path[KUBE_PATH_MAX], err[512];
	struct kube_response resp;
	enum kube_err e;

	*out = NULL;
	if (!mab_path(path, sizeof(path), ctx->namespace, name)) {
		fprintf(stderr, "kubectl-mab: %s: not a valid name\n", name);
		return false;
	}
	e = kube_request(ctx->client, "GET", path, NULL, NULL, 0, &resp, err, sizeof(err));
	if (e == KUBE_OK)
		*out = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
	if (e == KUBE_E_NOT_FOUND)
		fprintf(stderr, "kubectl-mab: multiarchbuild %s not found in namespace %s\n", name, ctx->namespace);
	else if (e != KUBE_OK)
		fprintf(stderr, "kubectl-mab: cannot read multiarchbuild %s: %s\n", name, err);
	else if (!*out)
		fprintf(stderr, "kubectl-mab: the API server's answer for %s is not JSON\n", name);
	kube_response_free(&resp);
	return *out != NULL;
}

/* The status of condition type in build, "" when absent. */
static const char *condition_status(const cJSON *build, const char *type)
{
	const cJSON *c = json_find(json_at(build, "status", "conditions"), "type", type);
	const char *status = json_str_at(c, "status", NULL);

	return status ? status : "";
}

enum mab_state mab_state_of(const cJSON *build)
{
	long gen = json_whole_number_or(json_at(build, "metadata", "generation"), 0, JSON_WHOLE_MAX, -1);
	long seen = json_whole_number_or(json_at(build, "status", "observedGeneration"), 0, JSON_WHOLE_MAX, -2);
	const cJSON *annotations = json_at(build, "metadata", "annotations");
	const char *asked = json_str_at(annotations, CTL_ANNOTATION_REQUESTED_AT, NULL);
	const char *handled = json_str_at(build, "status", "lastHandledRequestedAt");

	if (gen != seen || strcmp(asked ? asked : "", handled ? handled : "") != 0)
		return MAB_GOING; /* the status is of an earlier round */
	if (strcmp(condition_status(build, "Ready"), "True") == 0)
		return MAB_READY;
	if (strcmp(condition_status(build, "Stalled"), "True") == 0)
		return MAB_STALLED;
	return MAB_GOING;
}
