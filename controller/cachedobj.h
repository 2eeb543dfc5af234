/* A cached object: one allocation holding its key, group and JSON, shared by reference, read as a tree. */
#ifndef MAC_CONTROLLER_CACHEDOBJ_H
#define MAC_CONTROLLER_CACHEDOBJ_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_KEY_MAX 320 /* "namespace/name": 63 + 1 + 253, rounded */

/*
 * A cached object: one allocation holding its key, group and text. Nothing
 * in it changes once a store holds it; it lives while anyone holds a
 * reference (refs > 0).
 */
struct ctl_obj {
	atomic_int refs;
	long long resource_version; /* -1 when not a plain integer */
	const char *key;            /* "namespace/name" */
	const char *group;          /* the store's group of the object ("" for none), e.g. its build's key */
	cJSON *json;                /* a store of trees: the object; NULL otherwise */
	const char *text;           /* a store of text: the object as compact JSON; NULL otherwise */
	size_t text_len;
	char data[]; /* key, group and text, each NUL-terminated */
};

/* A new tree of o (the caller's to cJSON_Delete()), parsed from its text or copied; NULL when out of memory. */
cJSON *ctl_obj_parse(const struct ctl_obj *o);

/* Takes a reference. Returns o. */
struct ctl_obj *ctl_obj_ref(struct ctl_obj *o);

/* Drops a reference, freeing the object with the last one. Accepts NULL. */
void ctl_obj_release(struct ctl_obj *o);

/* Writes "namespace/name" (or "name" for cluster-scoped objects) of json into key; false when it has no name or does not fit. */
bool ctl_obj_key(const cJSON *json, char *key, size_t len);

/* Drops the references of count objects and frees the array (as ctl_store_group() returns them). */
void ctl_obj_release_all(struct ctl_obj **objs, size_t count);

#endif
