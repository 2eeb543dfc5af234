/* libFuzzer target: the reconciler and the cache slimmers on any JSON the API server might send: a build, its
 * children and nodes; checks that every status it writes is well formed. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/nodes.h"
#include "controller/reconcile.h"
#include "controller/slim.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum ctl_write accept_create(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	if (!kind || !cJSON_IsObject(object) || !cJSON_GetObjectItemCaseSensitive(object, "metadata"))
		abort(); /* children are always whole objects */
	return CTL_WRITE_OK;
}

static enum ctl_write accept_remove(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	(void)ctx;
	(void)kind;
	(void)object;
	(void)err;
	(void)errlen;
	return CTL_WRITE_OK;
}

static enum ctl_write check_status(void *ctx, const cJSON *build, const cJSON *status, char *err, size_t errlen)
{
	const cJSON *phase = cJSON_GetObjectItemCaseSensitive(status, "phase");
	(void)ctx;
	(void)build;
	(void)err;
	(void)errlen;
	if (!cJSON_IsString(phase) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(status, "observedGeneration")) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(status, "conditions")))
		abort();
	return CTL_WRITE_OK;
}

static bool any_nodes(void *ctx, const cJSON *selector, const cJSON *tolerations)
{
	const cJSON *nodes = ctx, *n;

	cJSON_ArrayForEach(n, nodes) {
		if (ctl_node_fits(n, selector, tolerations))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ctl_writer writer = {accept_create, accept_remove, check_status, NULL, NULL, NULL};
	struct ctl_reconcile_options opts;
	const cJSON *children[16];
	struct ctl_view view = {0};
	struct ctl_outcome out;
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size), *nodes = cJSON_CreateArray(), *item;
	size_t count = 0;

	/* [build, child, child, ..., {"nodes": [...]}] */
	if (!cJSON_IsArray(doc) || !cJSON_IsObject(cJSON_GetArrayItem(doc, 0)) || !nodes)
		goto out;
	cJSON_ArrayForEach(item, doc) {
		cJSON *slim;
		if (item == doc->child)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(item, "nodes")) {
			const cJSON *n;
			cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(item, "nodes")) {
				cJSON *slim_node = ctl_slim_node(n);
				if (slim_node && !cJSON_AddItemToArray(nodes, slim_node))
					cJSON_Delete(slim_node);
			}
			continue;
		}
		if (count == 16)
			break;
		slim = cJSON_GetObjectItemCaseSensitive(item, "spec") &&
				       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, "spec"), "template")
			       ? ctl_slim_job(item)
			       : ctl_slim_pod(item);
		if (!slim)
			continue;
		children[count++] = slim;
	}
	ctl_reconcile_options_init(&opts);
	view.build = cJSON_GetArrayItem(doc, 0);
	view.pods = children;
	view.pod_count = count;
	view.jobs = children;
	view.job_count = count;
	view.any_node_fits = any_nodes;
	view.nodes_ctx = nodes;
	view.now = 1790000000;
	ctl_reconcile(&opts, &view, &writer, &out);
	cJSON_Delete(ctl_slim_build(view.build));
	for (size_t i = 0; i < count; i++)
		cJSON_Delete((cJSON *)children[i]);
out:
	cJSON_Delete(nodes);
	cJSON_Delete(doc);
	return 0;
}
