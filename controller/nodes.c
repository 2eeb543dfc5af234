/* Node preflight: whether a Ready, schedulable node exists that a build pod with a given nodeSelector and tolerations could run on. */
#include "controller/nodes.h"
#include "util/jsonget.h"

#include <string.h>
#include "util/banned.h"

bool ctl_node_usable(const cJSON *node)
{
	const char *ready = json_str_at(cJSON_GetObjectItemCaseSensitive(node, "status"), "ready", NULL);
	const cJSON *unschedulable = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "spec"), "unschedulable");

	return ready && strcmp(ready, "True") == 0 && !cJSON_IsTrue(unschedulable);
}

/* Whether toleration tolerates taint, by the rules of core/v1 (empty key with Exists tolerates everything). */
static bool tolerates(const cJSON *toleration, const cJSON *taint)
{
	const char *tkey = json_str_at(toleration, "key", NULL), *op = json_str_at(toleration, "operator", NULL),
		   *teffect = json_str_at(toleration, "effect", NULL);
	const char *key = json_str_at(taint, "key", NULL), *value = json_str_at(taint, "value", NULL),
		   *effect = json_str_at(taint, "effect", NULL);
	const char *tvalue = json_str_at(toleration, "value", NULL);

	if (teffect && teffect[0] && (!effect || strcmp(teffect, effect) != 0))
		return false;
	if (op && strcmp(op, "Exists") == 0)
		return !tkey || !tkey[0] || (key && strcmp(tkey, key) == 0);
	if (!tkey || !key || strcmp(tkey, key) != 0)
		return false;
	return strcmp(tvalue ? tvalue : "", value ? value : "") == 0;
}

bool ctl_node_fits(const cJSON *node, const cJSON *selector, const cJSON *tolerations)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "metadata"), "labels");
	const cJSON *taints = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "spec"), "taints");
	const cJSON *want, *taint, *tol;

	if (!ctl_node_usable(node))
		return false;
	cJSON_ArrayForEach(want, selector) {
		const char *have = json_str_at(labels, want->string, NULL);
		if (!cJSON_IsString(want) || !have || strcmp(have, want->valuestring) != 0)
			return false;
	}
	cJSON_ArrayForEach(taint, taints) {
		const char *effect = json_str_at(taint, "effect", NULL);
		bool tolerated = false;
		if (!effect || strcmp(effect, "PreferNoSchedule") == 0)
			continue;
		cJSON_ArrayForEach(tol, tolerations) {
			if (tolerates(tol, taint)) {
				tolerated = true;
				break;
			}
		}
		if (!tolerated)
			return false;
	}
	return true;
}

struct fit_ask {
	const cJSON *selector;
	const cJSON *tolerations;
};

static bool node_fits(void *ctx, const struct ctl_obj *o)
{
	const struct fit_ask *ask = ctx;

	return ctl_node_fits(o->json, ask->selector, ask->tolerations);
}

bool ctl_nodes_any_fit(struct ctl_store *nodes, const cJSON *selector, const cJSON *tolerations)
{
	struct fit_ask ask = {selector, tolerations};

	return ctl_store_any(nodes, node_fits, &ask);
}
