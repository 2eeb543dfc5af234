/* The informer cache: the last seen version of every object of one kind, by "namespace/name", shared by
 * reference so nobody ever modifies a cached object, kept as a tree or as compact JSON text. Thread-safe. */
#ifndef MAC_CONTROLLER_STORE_H
#define MAC_CONTROLLER_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/cachedobj.h"

/*
 * How a store keeps its objects. Trees are read in place (o->json) and suit
 * few objects read in bulk, such as nodes; text costs a fraction of the
 * memory (one allocation per object instead of three per field) and is
 * parsed by the reader (ctl_obj_parse()), which suits the many objects read
 * one build at a time: builds, pods, Jobs.
 */
enum ctl_store_form {
	CTL_STORE_TREES,
	CTL_STORE_TEXT,
};

/* Writes the group an object belongs to (e.g. "namespace/build" from a label) into buf; false when none. */
typedef bool (*ctl_group_fn)(const cJSON *json, char *buf, size_t len);

struct ctl_store;

/* A new store keeping objects in form; with group_of (may be NULL), objects are also found by group (ctl_store_group()). */
struct ctl_store *ctl_store_new(enum ctl_store_form form, ctl_group_fn group_of);
void ctl_store_free(struct ctl_store *s);

/*
 * Stores json (taking ownership) under its key, after dropping what the
 * controller never reads (metadata.managedFields, the last-applied
 * annotation). Returns the new object with a reference for the caller, or
 * NULL when json has no name or memory ran out (json is freed either way).
 */
struct ctl_obj *ctl_store_put(struct ctl_store *s, cJSON *json);

/*
 * As ctl_store_put(), but keeps the stored object when it is not older than
 * json (both resourceVersions integers, json's not greater): for writing an
 * API answer through to the cache without undoing a newer watch event.
 * Returns the object now stored, with a reference for the caller.
 */
struct ctl_obj *ctl_store_put_newer(struct ctl_store *s, cJSON *json);

/*
 * As ctl_store_put(), but keeps the stored object when json has the same
 * resourceVersion (the same version of the object: the watch echo of an
 * answer already written through, or a relist of an unchanged object).
 * *changed says whether json was stored. Returns the object now stored.
 */
struct ctl_obj *ctl_store_put_if_changed(struct ctl_store *s, cJSON *json, bool *changed);

/*
 * The objects of group, each with a reference, in a new array (*out, NULL
 * when none) to give back with ctl_obj_release_all(). Returns how many.
 */
size_t ctl_store_group(struct ctl_store *s, const char *group, struct ctl_obj ***out);

/* Every object, each with a reference, in a new array as ctl_store_group() gives them. Returns how many. */
size_t ctl_store_list(struct ctl_store *s, struct ctl_obj ***out);

/* Removes key; returns the removed object (the caller's reference) or NULL. */
struct ctl_obj *ctl_store_delete(struct ctl_store *s, const char *key);

/* The object under key with a reference for the caller, or NULL. */
struct ctl_obj *ctl_store_get(struct ctl_store *s, const char *key);

#define CTL_STORE_SCOPES_MAX 17 /* replaces under way at once: one a namespace watched, and one for everything */
#define CTL_SCOPE_MAX 63        /* a namespace name */

/*
 * Replace of a scope (a namespace, or "" / NULL for every object): between
 * begin and end, put() marks what a full list of that scope returned; end
 * removes every object of the scope the list did not name and calls gone()
 * for each (with a reference the callback must not keep past its return).
 * Objects of other namespaces are left alone, so one store can be filled by
 * one list per namespace. begin is false when the scope's name is too long
 * or CTL_STORE_SCOPES_MAX replaces are under way: the list then drops nothing.
 */
bool ctl_store_replace_begin(struct ctl_store *s, const char *scope);
void ctl_store_replace_end(struct ctl_store *s, const char *scope, void (*gone)(void *ctx, struct ctl_obj *o), void *ctx);

/* Calls fn for every object, under the store's lock: fn must be quick and must not call back into the store. */
void ctl_store_each(struct ctl_store *s, void (*fn)(void *ctx, struct ctl_obj *o), void *ctx);

/* Whether match holds for some object: asked of the objects in turn, under the store's lock, until it does; match must
 * be quick and must not call back into the store. */
bool ctl_store_any(struct ctl_store *s, bool (*match)(void *ctx, const struct ctl_obj *o), void *ctx);

size_t ctl_store_len(struct ctl_store *s);

#endif
