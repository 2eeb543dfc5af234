/* The informer cache: the last seen version of every object of one kind, by "namespace/name", shared by
 * reference so workers read without copying and nobody ever modifies a cached object. Thread-safe. */
#include "controller/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strmap.h"

/*
 * Invariants: objects maps every key to a ctl_obj holding one reference for
 * the store; during a replace, seen holds the keys put since begin.
 */
struct ctl_store {
	pthread_mutex_t lock;
	struct strmap objects;
	struct strmap seen;
	bool replacing;
};

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

struct ctl_store *ctl_store_new(void)
{
	struct ctl_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	strmap_init(&s->objects);
	strmap_init(&s->seen);
	return s;
}

static void release_value(void *ctx, const char *key, void *value)
{
	(void)ctx;
	(void)key;
	ctl_obj_release(value);
}

void ctl_store_free(struct ctl_store *s)
{
	if (!s)
		return;
	strmap_each(&s->objects, release_value, NULL);
	strmap_free(&s->objects);
	strmap_free(&s->seen);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Drops the fields the controller never reads, which are often most of an object's size. */
static void trim(cJSON *json)
{
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");
	cJSON *annotations = cJSON_GetObjectItemCaseSensitive(meta, "annotations");

	cJSON_DeleteItemFromObjectCaseSensitive(meta, "managedFields");
	cJSON_DeleteItemFromObjectCaseSensitive(annotations, "kubectl.kubernetes.io/last-applied-configuration");
}

struct ctl_obj *ctl_store_put(struct ctl_store *s, cJSON *json)
{
	struct ctl_obj *o = calloc(1, sizeof(*o)), *old;

	if (!o || !ctl_obj_key(json, o->key, sizeof(o->key))) {
		free(o);
		cJSON_Delete(json);
		return NULL;
	}
	trim(json);
	o->json = json;
	atomic_store(&o->refs, 2); /* the store's and the caller's */
	pthread_mutex_lock(&s->lock);
	old = strmap_get(&s->objects, o->key, NULL);
	if (!strmap_put(&s->objects, o->key, o)) {
		pthread_mutex_unlock(&s->lock);
		cJSON_Delete(json);
		free(o);
		return NULL;
	}
	if (s->replacing)
		strmap_put(&s->seen, o->key, NULL);
	pthread_mutex_unlock(&s->lock);
	ctl_obj_release(old);
	return o;
}

struct ctl_obj *ctl_store_delete(struct ctl_store *s, const char *key)
{
	struct ctl_obj *o;

	pthread_mutex_lock(&s->lock);
	o = strmap_remove(&s->objects, key);
	pthread_mutex_unlock(&s->lock);
	return o;
}

struct ctl_obj *ctl_store_get(struct ctl_store *s, const char *key)
{
	struct ctl_obj *o;

	pthread_mutex_lock(&s->lock);
	o = strmap_get(&s->objects, key, NULL);
	if (o)
		ctl_obj_ref(o);
	pthread_mutex_unlock(&s->lock);
	return o;
}

void ctl_store_replace_begin(struct ctl_store *s)
{
	pthread_mutex_lock(&s->lock);
	strmap_free(&s->seen);
	strmap_init(&s->seen);
	s->replacing = true;
	pthread_mutex_unlock(&s->lock);
}

struct stale {
	const struct strmap *seen;
	struct ctl_obj **list;
	size_t count;
};

static void collect_stale(void *ctx, const char *key, void *value)
{
	struct stale *st = ctx;
	bool found;

	strmap_get(st->seen, key, &found);
	if (!found)
		st->list[st->count++] = value;
}

void ctl_store_replace_end(struct ctl_store *s, void (*gone)(void *ctx, struct ctl_obj *o), void *ctx)
{
	struct stale st = {0};

	pthread_mutex_lock(&s->lock);
	st.seen = &s->seen;
	/* an array of object pointers */
	st.list = calloc(s->objects.count ? s->objects.count : 1, sizeof(struct ctl_obj *)); /* NOLINT(bugprone-sizeof-expression) */
	if (st.list) {
		strmap_each(&s->objects, collect_stale, &st);
		for (size_t i = 0; i < st.count; i++)
			strmap_remove(&s->objects, st.list[i]->key);
	}
	strmap_free(&s->seen);
	strmap_init(&s->seen);
	s->replacing = false;
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < st.count; i++) {
		if (gone)
			gone(ctx, st.list[i]);
		ctl_obj_release(st.list[i]);
	}
	free(st.list);
}

struct each_ctx {
	void (*fn)(void *ctx, struct ctl_obj *o);
	void *ctx;
};

static void each_value(void *ctx, const char *key, void *value)
{
	struct each_ctx *e = ctx;
	(void)key;
	e->fn(e->ctx, value);
}

void ctl_store_each(struct ctl_store *s, void (*fn)(void *ctx, struct ctl_obj *o), void *ctx)
{
	struct each_ctx e = {fn, ctx};

	pthread_mutex_lock(&s->lock);
	strmap_each(&s->objects, each_value, &e);
	pthread_mutex_unlock(&s->lock);
}

size_t ctl_store_len(struct ctl_store *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->objects.count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
