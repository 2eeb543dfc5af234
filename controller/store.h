/* The informer cache: the last seen version of every object of one kind, by "namespace/name", shared by
 * reference so workers read without copying and nobody ever modifies a cached object. Thread-safe. */
#ifndef MAC_CONTROLLER_STORE_H
#define MAC_CONTROLLER_STORE_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_KEY_MAX 320 /* "namespace/name": 63 + 1 + 253, rounded */

/*
 * A cached object. json and key never change after ctl_store_put(); the
 * object lives while anyone holds a reference (refs > 0).
 */
struct ctl_obj {
	atomic_int refs;
	char key[CTL_KEY_MAX];
	cJSON *json;
};

/* Takes a reference. Returns o. */
struct ctl_obj *ctl_obj_ref(struct ctl_obj *o);

/* Drops a reference, freeing the object with the last one. Accepts NULL. */
void ctl_obj_release(struct ctl_obj *o);

/* Writes "namespace/name" (or "name" for cluster-scoped objects) of json into key; false when it has no name or does not fit. */
bool ctl_obj_key(const cJSON *json, char *key, size_t len);

struct ctl_store;

struct ctl_store *ctl_store_new(void);
void ctl_store_free(struct ctl_store *s);

/*
 * Stores json (taking ownership) under its key, after dropping what the
 * controller never reads (metadata.managedFields, the last-applied
 * annotation). Returns the new object with a reference for the caller, or
 * NULL when json has no name or memory ran out (json is freed either way).
 */
struct ctl_obj *ctl_store_put(struct ctl_store *s, cJSON *json);

/* Removes key; returns the removed object (the caller's reference) or NULL. */
struct ctl_obj *ctl_store_delete(struct ctl_store *s, const char *key);

/* The object under key with a reference for the caller, or NULL. */
struct ctl_obj *ctl_store_get(struct ctl_store *s, const char *key);

/*
 * Replace: between begin and end, put() marks what a full list returned;
 * end removes every object the list did not name and calls gone() for each
 * (with a reference the callback must not keep past its return).
 */
void ctl_store_replace_begin(struct ctl_store *s);
void ctl_store_replace_end(struct ctl_store *s, void (*gone)(void *ctx, struct ctl_obj *o), void *ctx);

/* Calls fn for every object, under the store's lock: fn must be quick and must not call back into the store. */
void ctl_store_each(struct ctl_store *s, void (*fn)(void *ctx, struct ctl_obj *o), void *ctx);

size_t ctl_store_len(struct ctl_store *s);

#endif
