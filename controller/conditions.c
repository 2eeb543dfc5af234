/* Status conditions (metav1.Condition) as kstatus reads them: set one, keeping lastTransitionTime while its
 * status holds, and tell whether anything changed so unchanged status is never written. */
#include "controller/conditions.h"

#include <string.h>

#include "util/jsonnum.h"
#include "util/banned.h"

static cJSON *find(const cJSON *conditions, const char *type)
{
	cJSON *c;

	cJSON_ArrayForEach(c, conditions) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "type");
		if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
			return c;
	}
	return NULL;
}

static bool same_string(const cJSON *obj, const char *key, const char *value)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && strcmp(v->valuestring, value) == 0;
}

/* Sets obj[key] to a string, replacing what was there. */
static bool put_string(cJSON *obj, const char *key, const char *value)
{
	cJSON *v = cJSON_CreateString(value);

	if (!v)
		return false;
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	return cJSON_AddItemToObject(obj, key, v);
}

bool ctl_condition_set(cJSON *conditions, const char *type, const char *status, const char *reason, const char *message, long generation,
		       const char *now)
{
	cJSON *c = find(conditions, type), *gen;
	bool status_changed;

	if (c && same_string(c, "status", status) && same_string(c, "reason", reason) && same_string(c, "message", message) &&
	    json_whole_number_or(cJSON_GetObjectItemCaseSensitive(c, "observedGeneration"), 0, JSON_WHOLE_MAX, -1) == generation)
		return false;
	if (!c) {
		c = cJSON_CreateObject();
		if (!c || !cJSON_AddItemToArray(conditions, c)) {
			cJSON_Delete(c);
			return false;
		}
		put_string(c, "type", type);
	}
	status_changed = !same_string(c, "status", status);
	put_string(c, "status", status);
	put_string(c, "reason", reason);
	put_string(c, "message", message);
	gen = cJSON_CreateNumber((double)generation);
	if (gen) {
		if (cJSON_GetObjectItemCaseSensitive(c, "observedGeneration"))
			cJSON_ReplaceItemInObjectCaseSensitive(c, "observedGeneration", gen);
		else
			cJSON_AddItemToObject(c, "observedGeneration", gen);
	}
	if (status_changed || !cJSON_GetObjectItemCaseSensitive(c, "lastTransitionTime"))
		put_string(c, "lastTransitionTime", now);
	return true;
}

const char *ctl_condition_status(const cJSON *conditions, const char *type)
{
	const cJSON *c = find(conditions, type), *s = cJSON_GetObjectItemCaseSensitive(c, "status");

	return cJSON_IsString(s) ? s->valuestring : NULL;
}
