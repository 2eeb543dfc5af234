/* Finished build pods deleted (by the pod garbage collector, a person, a node's removal) before a reconcile read
 * their result: kept, by their build's key, until a reconcile has. Thread-safe. */
#ifndef MAC_CONTROLLER_TOMBSTONES_H
#define MAC_CONTROLLER_TOMBSTONES_H

#include <stdbool.h>
#include <stddef.h>

#include "controller/store.h"

#define CTL_TOMBSTONES_PER_BUILD 16 /* a build's pods kept at once; its platforms' latest attempts fit */

struct ctl_tombstones;

/* A new, empty set holding at most max pods in all; NULL when out of memory. */
struct ctl_tombstones *ctl_tombstones_new(size_t max);

/* Releases every pod kept, then t. NULL is a no-op. */
void ctl_tombstones_free(struct ctl_tombstones *t);

/*
 * Keeps a reference to o, a pod just deleted from the cache, under its group (its build's key) when it had
 * finished. False, keeping nothing, when it had not, has no group, or the set or its build's share is full.
 */
bool ctl_tombstones_keep(struct ctl_tombstones *t, struct ctl_obj *o);

/*
 * Appends to the array *objs of *count pods (the cache's group, as ctl_store_group() gives it; may be NULL and 0)
 * the pods kept for group that are not among them, each referenced, growing the array. Returns how many were
 * added; 0 when out of memory, leaving *objs as it was.
 */
size_t ctl_tombstones_add_group(struct ctl_tombstones *t, const char *group, struct ctl_obj ***objs, size_t *count);

/* Forgets, of group's kept pods, those among objs (a reconcile has recorded what they said); all of them when
 * objs is NULL (the build is gone). */
void ctl_tombstones_forget(struct ctl_tombstones *t, const char *group, struct ctl_obj *const *objs, size_t count);

/* How many pods are kept. */
size_t ctl_tombstones_len(struct ctl_tombstones *t);

#endif
