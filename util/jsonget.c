/* Members of borrowed cJSON trees by name, missing and mistyped members read as absent. */
#include "util/jsonget.h"

#include <string.h>
#include "util/banned.h"

const cJSON *json_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

const char *json_str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = json_at(obj, a, b);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *json_nonempty_str_at(const cJSON *obj, const char *a, const char *b)
{
	const char *v = json_str_at(obj, a, b);

	return v && v[0] ? v : NULL;
}

const cJSON *json_find(const cJSON *array, const char *key, const char *value)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, array) {
		const char *v = json_str_at(e, key, NULL);
		if (v && strcmp(v, value) == 0)
			return e;
	}
	return NULL;
}
