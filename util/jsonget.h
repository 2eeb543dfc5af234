/* Members of borrowed cJSON trees by name: a missing member, a member of the wrong type and a NULL tree all read as
 * absent, so callers never branch on each level. */
#ifndef MAC_UTIL_JSONGET_H
#define MAC_UTIL_JSONGET_H

#include <cjson/cJSON.h>

/* Member a of obj, then member b of that when b is not NULL; NULL when any is missing. Borrowed from obj. */
const cJSON *json_at(const cJSON *obj, const char *a, const char *b);

/* The string json_at(obj, a, b), or NULL when it is missing or not a string. Borrowed from obj. */
const char *json_str_at(const cJSON *obj, const char *a, const char *b);

/* The first object of array whose string member key equals value; NULL when none is (or array is not one). */
const cJSON *json_find(const cJSON *array, const char *key, const char *value);

/* json_str_at, or NULL also when the string is empty. */
const char *json_nonempty_str_at(const cJSON *obj, const char *a, const char *b);

#endif
