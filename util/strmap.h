/* A hash map from strings to pointers (open addressing, linear probing), for caches and work-queue sets. Not thread-safe. */
#ifndef MAC_UTIL_STRMAP_H
#define MAC_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits, of a NUL-terminated string: the map's hash, also for stable short names. */
uint64_t strmap_hash(const char *s);

/*
 * Invariants: slots is NULL or cap (a power of two) entries; count live
 * entries and tombstones together stay under 3/4 of cap; every live key is
 * an owned copy. Values are borrowed: the map never frees them.
 */
struct strmap {
	struct strmap_slot *slots;
	size_t cap;
	size_t count;      /* live entries */
	size_t tombstones; /* deleted slots not yet reused */
};

void strmap_init(struct strmap *m);

/* Frees the keys and the table (not the values). Accepts NULL. */
void strmap_free(struct strmap *m);

/* Sets key to value, replacing an existing value. Returns false when out of memory (the map is unchanged). */
bool strmap_put(struct strmap *m, const char *key, void *value) __attribute__((warn_unused_result));

/* The value of key, or NULL. *found (when not NULL) tells a stored NULL apart from a missing key. */
void *strmap_get(const struct strmap *m, const char *key, bool *found);

/* Removes key; returns its value (NULL when absent). */
void *strmap_remove(struct strmap *m, const char *key);

/* Calls fn for every entry (in no particular order); fn must not change the map. */
void strmap_each(const struct strmap *m, void (*fn)(void *ctx, const char *key, void *value), void *ctx);

/* Calls match for the entries (in no particular order) until one matches; returns whether one did. match must not
 * change the map. */
bool strmap_any(const struct strmap *m, bool (*match)(void *ctx, const char *key, void *value), void *ctx);

#endif
