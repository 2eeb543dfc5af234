/* A cached object: its references, its key, and a tree of it for the reconcile that reads it. */
#include <stdio.h>
#include <stdlib.h>

#include "controller/cachedobj.h"
#include "util/banned.h"

struct ctl_obj *ctl_obj_ref(struct ctl_obj *o)
{
	atomic_fetch_add(&o->refs, 1);
	return o;
}

void ctl_obj_release(struct ctl_obj *o)
{
	if (o && atomic_fetch_sub(&o->refs, 1) == 1) {
		cJSON_Delete(o->json);
		free(o);
	}
}

cJSON *ctl_obj_parse(const struct ctl_obj *o)
{
	return o->text ? cJSON_ParseWithLength(o->text, o->text_len) : cJSON_Duplicate(o->json, true);
}

bool ctl_obj_key(const cJSON *json, char *key, size_t len)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
	int n;

	if (!cJSON_IsString(name) || !name->valuestring[0])
		return false;
	if (cJSON_IsString(ns) && ns->valuestring[0])
		n = snprintf(key, len, "%s/%s", ns->valuestring, name->valuestring);
	else
		n = snprintf(key, len, "%s", name->valuestring);
	return n > 0 && (size_t)n < len;
}

void ctl_obj_release_all(struct ctl_obj **objs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ctl_obj_release(objs[i]);
	free(objs);
}
