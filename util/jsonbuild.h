/* Building cJSON trees with a sticky error: every step may fail only by running out of memory (or an argument too
 * long), and a failure clears the builder's ok instead of being checked at each call. */
#ifndef MAC_UTIL_JSONBUILD_H
#define MAC_UTIL_JSONBUILD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_BUILD_TEXT_MAX 65536 /* longest formatted string jb_push_fmt writes */

/* Start with {true}; once a step fails, ok stays false and later steps given NULL parents do nothing harmful. */
struct json_builder {
	bool ok;
};

/* v, clearing ok when it is NULL (a failed cJSON allocation). */
cJSON *jb_need(struct json_builder *b, cJSON *v);

/* Adds the string member key = value to obj. */
void jb_put_str(struct json_builder *b, cJSON *obj, const char *key, const char *value);

/* Adds a deep copy of value (borrowed) to obj under key; nothing when value is NULL. */
void jb_put_copy(struct json_builder *b, cJSON *obj, const char *key, const cJSON *value);

/* Appends a string to array. */
void jb_push_str(struct json_builder *b, cJSON *array, const char *value);

/* Appends a formatted string of up to JSON_BUILD_TEXT_MAX bytes to array; a longer one clears ok. */
void jb_push_fmt(struct json_builder *b, cJSON *array, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends item to array, taking it (it is freed on failure). Returns item, or NULL. */
cJSON *jb_append(struct json_builder *b, cJSON *array, cJSON *item);

/* Adds item to obj under key, taking it (it is freed on failure); nothing when item is NULL. */
void jb_attach(struct json_builder *b, cJSON *obj, const char *key, cJSON *item);

/* The array member key of obj, created when missing. */
cJSON *jb_array_in(struct json_builder *b, cJSON *obj, const char *key);

/* The object member key of obj, created (always anew) by this call. */
cJSON *jb_object_in(struct json_builder *b, cJSON *obj, const char *key);

#endif
