/* What the informers keep of each kind: only the fields the reconciler reads, so a cached pod or node costs
 * a few hundred bytes instead of several KiB. */
#include "controller/slim.h"

#include <stdio.h>
#include <string.h>

#include "controller/labels.h"
#include "util/banned.h"

/* Adds a copy of item to object under name, or to the array object when name is NULL. Returns false when out of memory. */
static bool keep_item_as(cJSON *object, const char *name, const cJSON *item)
{
	cJSON *copy = cJSON_Duplicate(item, true);

	if (!copy || !(name ? cJSON_AddItemToObject(object, name, copy) : cJSON_AddItemToArray(object, copy))) {
		cJSON_Delete(copy);
		return false;
	}
	return true;
}

/* Copies the named members of from into to (those present). Returns false when out of memory. */
static bool keep(cJSON *to, const cJSON *from, const char *const *names)
{
	for (; *names; names++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, *names);
		if (v && !keep_item_as(to, *names, v))
			return false;
	}
	return true;
}

/* A new object with the named members of from, added to parent under name (when from exists). */
static bool keep_object(cJSON *parent, const char *name, const cJSON *from, const char *const *names)
{
	cJSON *o;

	if (!cJSON_IsObject(from))
		return true;
	o = cJSON_AddObjectToObject(parent, name);
	return o && keep(o, from, names);
}

static const char *const metadata_fields[] = {
	"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", NULL};

/* Copies the labels of from whose keys start with "multiarch.dev/" (the only ones the reconciler reads) into meta. */
static bool keep_own_labels(cJSON *meta, const cJSON *from)
{
	const cJSON *l;
	cJSON *labels = NULL;

	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(from, "labels")) {
		if (!l->string || strncmp(l->string, CTL_LABEL_PREFIX, strlen(CTL_LABEL_PREFIX)) != 0)
			continue;
		if ((!labels && !(labels = cJSON_AddObjectToObject(meta, "labels"))) || !keep_item_as(labels, l->string, l))
			return false;
	}
	return true;
}

/* Copies the controller ownerReference of from, as its uid and controller: true, into meta. */
static bool keep_controller_ref(cJSON *meta, const cJSON *from)
{
	const cJSON *ref, *uid;
	cJSON *refs, *kept;

	cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(from, "ownerReferences")) {
		uid = cJSON_GetObjectItemCaseSensitive(ref, "uid");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")) || !cJSON_IsString(uid))
			continue;
		if (!(refs = cJSON_AddArrayToObject(meta, "ownerReferences")) || !(kept = cJSON_CreateObject()))
			return false;
		if (!cJSON_AddItemToArray(refs, kept)) {
			cJSON_Delete(kept);
			return false;
		}
		return cJSON_AddStringToObject(kept, "uid", uid->valuestring) && cJSON_AddTrueToObject(kept, "controller");
	}
	return true;
}

static cJSON *slim_with_metadata(const cJSON *object)
{
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	cJSON *out = cJSON_CreateObject(), *meta;

	if (!out || !cJSON_IsObject(from))
		return out;
	if (!(meta = cJSON_AddObjectToObject(out, "metadata")) || !keep(meta, from, metadata_fields) || !keep_own_labels(meta, from) ||
	    !keep_controller_ref(meta, from)) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* Keeps the named fields of the first element of status's list member key, as a one-element list. */
static bool keep_first_status(cJSON *to, const cJSON *status, const char *key, const char *const *fields)
{
	const cJSON *statuses = cJSON_GetObjectItemCaseSensitive(status, key);
	cJSON *list, *first;

	if (!cJSON_IsArray(statuses) || cJSON_GetArraySize(statuses) == 0)
		return true;
	list = cJSON_AddArrayToObject(to, key);
	first = list ? cJSON_CreateObject() : NULL;
	if (!first)
		return false;
	if (!cJSON_AddItemToArray(list, first)) {
		cJSON_Delete(first);
		return false;
	}
	return keep(first, cJSON_GetArrayItem(statuses, 0), fields);
}

cJSON *ctl_slim_pod(const cJSON *object)
{
	static const char *const spec_fields[] = {"nodeName", NULL};
	static const char *const status_fields[] = {"phase", "reason", "message", "startTime", NULL};
	static const char *const container_fields[] = {"name", "state", NULL};
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(object, "status");
	const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(status, "conditions"), *c;
	cJSON *out = slim_with_metadata(object), *st, *kept;

	if (!out || !keep_object(out, "spec", cJSON_GetObjectItemCaseSensitive(object, "spec"), spec_fields) ||
	    !(st = cJSON_AddObjectToObject(out, "status")) || !keep(st, status, status_fields))
		goto fail;
	/* the first container's state (the builder's result), the first init container's (the source fetch), and the
	 * scheduling condition (why a pod waits) */
	if (!keep_first_status(st, status, "containerStatuses", container_fields) ||
	    !keep_first_status(st, status, "initContainerStatuses", container_fields))
		goto fail;
	cJSON_ArrayForEach(c, conditions) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
		if (!cJSON_IsString(type) || strcmp(type->valuestring, "PodScheduled") != 0)
			continue;
		kept = cJSON_AddArrayToObject(st, "conditions");
		if (!kept || !keep_item_as(kept, NULL, c))
			goto fail;
		break;
	}
	return out;
fail:
	cJSON_Delete(out);
	return NULL;
}

cJSON *ctl_slim_job(const cJSON *object)
{
	static const char *const status_fields[] = {"conditions", "succeeded", "failed", "active", "startTime", "completionTime", NULL};
	cJSON *out = slim_with_metadata(object);

	if (!out || !keep_object(out, "status", cJSON_GetObjectItemCaseSensitive(object, "status"), status_fields)) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

cJSON *ctl_slim_node(const cJSON *object)
{
	static const char *const node_metadata[] = {"name", "uid", "resourceVersion", "labels", NULL};
	static const char *const spec_fields[] = {"unschedulable", "taints", NULL};
	const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(object, "status"), "conditions");
	const cJSON *c;
	cJSON *out = cJSON_CreateObject(), *status;

	if (!out || !keep_object(out, "metadata", cJSON_GetObjectItemCaseSensitive(object, "metadata"), node_metadata) ||
	    !keep_object(out, "spec", cJSON_GetObjectItemCaseSensitive(object, "spec"), spec_fields) ||
	    !(status = cJSON_AddObjectToObject(out, "status")))
		goto fail;
	/* Ready only: the heartbeat times of every other condition change all the time and are never read */
	cJSON_ArrayForEach(c, conditions) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "status");
		if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0 && cJSON_IsString(st)) {
			if (!cJSON_AddStringToObject(status, "ready", st->valuestring))
				goto fail;
		}
	}
	return out;
fail:
	cJSON_Delete(out);
	return NULL;
}

cJSON *ctl_slim_build(const cJSON *object)
{
	static const char *const top[] = {"spec", "status", NULL};
	static const char *const annotations[] = {CTL_ANNOTATION_REQUESTED_AT, NULL};
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(object, "metadata"), "annotations");
	cJSON *out = slim_with_metadata(object);
	bool has_request = cJSON_GetObjectItemCaseSensitive(from, CTL_ANNOTATION_REQUESTED_AT) != NULL;

	if (!out || !keep(out, object, top) ||
	    (has_request && !keep_object(cJSON_GetObjectItemCaseSensitive(out, "metadata"), "annotations", from, annotations))) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

bool ctl_child_group(const cJSON *json, char *buf, size_t len)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "labels"), CTL_LABEL_BUILD);
	int n;

	if (!cJSON_IsString(ns) || !cJSON_IsString(build) || !build->valuestring[0])
		return false;
	n = snprintf(buf, len, "%s/%s", ns->valuestring, build->valuestring);
	return n > 0 && (size_t)n < len;
}
