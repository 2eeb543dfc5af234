/* Building cJSON trees with a sticky error: a failed step clears the builder's ok. */
#include "util/jsonbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "util/banned.h"

cJSON *jb_need(struct json_builder *b, cJSON *v)
{
	if (!v)
		b->ok = false;
	return v;
}

void jb_put_str(struct json_builder *b, cJSON *obj, const char *key, const char *value)
{
	jb_need(b, cJSON_AddStringToObject(obj, key, value));
}

void jb_put_copy(struct json_builder *b, cJSON *obj, const char *key, const cJSON *value)
{
	if (value)
		jb_attach(b, obj, key, jb_need(b, cJSON_Duplicate(value, true)));
}

void jb_push_str(struct json_builder *b, cJSON *array, const char *value)
{
	jb_append(b, array, jb_need(b, cJSON_CreateString(value)));
}

void jb_push_fmt(struct json_builder *b, cJSON *array, const char *fmt, ...)
{
	char *buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= JSON_BUILD_TEXT_MAX || !(buf = malloc((size_t)n + 1))) {
		b->ok = false;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	jb_push_str(b, array, buf);
	free(buf);
}

cJSON *jb_append(struct json_builder *b, cJSON *array, cJSON *item)
{
	if (!item || !array || !cJSON_AddItemToArray(array, item)) {
		cJSON_Delete(item);
		b->ok = false;
		return NULL;
	}
	return item;
}

void jb_attach(struct json_builder *b, cJSON *obj, const char *key, cJSON *item)
{
	if (item && (!obj || !cJSON_AddItemToObject(obj, key, item))) {
		cJSON_Delete(item);
		b->ok = false;
	}
}

cJSON *jb_array_in(struct json_builder *b, cJSON *obj, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);

	return a ? a : jb_need(b, cJSON_AddArrayToObject(obj, key));
}

cJSON *jb_object_in(struct json_builder *b, cJSON *obj, const char *key)
{
	return jb_need(b, cJSON_AddObjectToObject(obj, key));
}
