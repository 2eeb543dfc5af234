/* The informer cache: the last seen version of every object of one kind, by "namespace/name", shared by
 * reference so nobody ever modifies a cached object, kept as a tree or as compact JSON text. Thread-safe. */
#include "controller/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strmap.h"
#include "util/banned.h"

/*
 * Invariants: objects maps every key to a ctl_obj holding one reference for
 * the store; during the replace of a scope (one namespace's list, or every
 * object's), its seen holds the keys of that scope put since begin, unless
 * incomplete says a key could not be recorded (out of memory): then the
 * replace drops nothing, and stale objects wait for the next list.
 */
struct replace_scope {
	bool active;
	char prefix[CTL_SCOPE_MAX + 2]; /* "namespace/", or "" for every object */
	struct strmap seen;
	bool incomplete;
};

struct ctl_store {
	pthread_mutex_t lock;
	enum ctl_store_form form;
	struct strmap objects;
	struct replace_scope scopes[CTL_STORE_SCOPES_MAX];
	ctl_group_fn group_of; /* NULL: no groups */
	struct strmap groups;  /* group -> struct group */
};

/* The objects of one group: borrowed pointers to objects the store holds (never more than it holds). */
struct group {
	struct ctl_obj **objs;
	size_t count;
	size_t cap;
};

/* Records key in every replace under way whose scope holds it. Under the lock. */
static void mark_seen(struct ctl_store *s, const char *key)
{
	for (size_t i = 0; i < CTL_STORE_SCOPES_MAX; i++) {
		struct replace_scope *sc = &s->scopes[i];
		if (sc->active && strncmp(key, sc->prefix, strlen(sc->prefix)) == 0 && !strmap_put(&sc->seen, key, NULL))
			sc->incomplete = true;
	}
}

struct ctl_store *ctl_store_new(enum ctl_store_form form, ctl_group_fn group_of)
{
	struct ctl_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	strmap_init(&s->objects);
	for (size_t i = 0; i < CTL_STORE_SCOPES_MAX; i++)
		strmap_init(&s->scopes[i].seen);
	strmap_init(&s->groups);
	s->form = form;
	s->group_of = group_of;
	return s;
}

static void free_group(void *ctx, const char *key, void *value)
{
	struct group *g = value;
	(void)ctx;
	(void)key;
	free(g->objs);
	free(g);
}

/* Adds o to its group (under the lock). Returns false when out of memory. */
static bool group_add(struct ctl_store *s, struct ctl_obj *o)
{
	struct group *g;

	if (!o->group[0])
		return true;
	g = strmap_get(&s->groups, o->group, NULL);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || !strmap_put(&s->groups, o->group, g)) {
			free(g);
			return false;
		}
	}
	if (g->count == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4;
		/* an array of object pointers */
		struct ctl_obj **objs = realloc(g->objs, cap * sizeof(struct ctl_obj *)); /* NOLINT(bugprone-sizeof-expression) */
		if (!objs)
			return false;
		g->objs = objs;
		g->cap = cap;
	}
	g->objs[g->count++] = o;
	return true;
}

/* Removes o from its group (under the lock), dropping the group once empty. */
static void group_remove(struct ctl_store *s, const struct ctl_obj *o)
{
	struct group *g;

	if (!o || !o->group[0] || !(g = strmap_get(&s->groups, o->group, NULL)))
		return;
	for (size_t i = 0; i < g->count; i++) {
		if (g->objs[i] == o) {
			g->objs[i] = g->objs[--g->count];
			break;
		}
	}
	if (g->count == 0) {
		strmap_remove(&s->groups, o->group);
		free_group(NULL, NULL, g);
	}
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
	strmap_each(&s->groups, free_group, NULL);
	strmap_free(&s->objects);
	for (size_t i = 0; i < CTL_STORE_SCOPES_MAX; i++)
		strmap_free(&s->scopes[i].seen);
	strmap_free(&s->groups);
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

/* The resourceVersion of json as a number, or -1 when it has none or it is not a plain integer. */
static long long resource_version_number(const cJSON *json)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "metadata"), "resourceVersion");
	char *end = NULL;
	long long n;

	if (!cJSON_IsString(rv) || !rv->valuestring[0])
		return -1;
	n = strtoll(rv->valuestring, &end, 10);
	return (*end || n < 0) ? -1 : n;
}

/* Appends the NUL-terminated copy of len bytes of src at *at, returning where it starts. */
static const char *append(char **at, const char *src, size_t len)
{
	char *start = *at;

	memcpy(start, src, len);
	start[len] = '\0';
	*at += len + 1;
	return start;
}

/*
 * A new object (one reference) for json (trimmed; taken when the store keeps
 * trees, left to the caller otherwise), or NULL when json has no name or
 * memory ran out.
 */
static struct ctl_obj *make_obj(const struct ctl_store *s, cJSON *json)
{
	char key[CTL_KEY_MAX], group[CTL_KEY_MAX];
	char *text = NULL, *at;
	size_t key_len, group_len, text_len = 0;
	struct ctl_obj *o;

	if (!ctl_obj_key(json, key, sizeof(key)))
		return NULL;
	if (!s->group_of || !s->group_of(json, group, sizeof(group)))
		group[0] = '\0';
	trim(json);
	if (s->form == CTL_STORE_TEXT) {
		if (!(text = cJSON_PrintUnformatted(json)))
			return NULL;
		text_len = strlen(text);
	}
	key_len = strlen(key);
	group_len = strlen(group);
	o = malloc(sizeof(*o) + key_len + 1 + group_len + 1 + (text ? text_len + 1 : 0));
	if (!o) {
		cJSON_free(text);
		return NULL;
	}
	atomic_init(&o->refs, 1);
	o->resource_version = resource_version_number(json);
	at = o->data;
	o->key = append(&at, key, key_len);
	o->group = append(&at, group, group_len);
	o->json = text ? NULL : json;
	o->text = text ? append(&at, text, text_len) : NULL;
	o->text_len = text_len;
	cJSON_free(text);
	return o;
}

/* How put() treats an object already stored under the same key. */
enum put_mode {
	PUT_ALWAYS,     /* replace it */
	PUT_NEWER,      /* keep it unless the new one's resourceVersion is greater */
	PUT_IF_CHANGED, /* keep it when the resourceVersions are equal (the same object) */
};

static struct ctl_obj *put(struct ctl_store *s, cJSON *json, enum put_mode mode, bool *kept)
{
	struct ctl_obj *o = make_obj(s, json), *old;
	bool keep;

	if (kept)
		*kept = false;
	if (!o || o->text)
		cJSON_Delete(json); /* not kept: the object holds its text */
	if (!o)
		return NULL;
	atomic_store(&o->refs, 2); /* the store's and the caller's */
	pthread_mutex_lock(&s->lock);
	old = strmap_get(&s->objects, o->key, NULL);
	keep = old && old->resource_version >= 0 && o->resource_version >= 0 &&
	       ((mode == PUT_NEWER && o->resource_version <= old->resource_version) ||
		(mode == PUT_IF_CHANGED && o->resource_version == old->resource_version));
	if (keep) {
		mark_seen(s, old->key);
		ctl_obj_ref(old);
		pthread_mutex_unlock(&s->lock);
		atomic_store(&o->refs, 1);
		ctl_obj_release(o);
		if (kept)
			*kept = true;
		return old;
	}
	if (!strmap_put(&s->objects, o->key, o)) {
		pthread_mutex_unlock(&s->lock);
		atomic_store(&o->refs, 1);
		ctl_obj_release(o);
		return NULL;
	}
	group_remove(s, old);
	if (!group_add(s, o))
		o->group = ""; /* out of memory: the object stays reachable by key */
	mark_seen(s, o->key);
	pthread_mutex_unlock(&s->lock);
	ctl_obj_release(old);
	return o;
}

struct ctl_obj *ctl_store_put(struct ctl_store *s, cJSON *json)
{
	return put(s, json, PUT_ALWAYS, NULL);
}

struct ctl_obj *ctl_store_put_newer(struct ctl_store *s, cJSON *json)
{
	return put(s, json, PUT_NEWER, NULL);
}

struct ctl_obj *ctl_store_put_if_changed(struct ctl_store *s, cJSON *json, bool *changed)
{
	bool kept = false;
	struct ctl_obj *o = put(s, json, PUT_IF_CHANGED, &kept);

	*changed = o && !kept;
	return o;
}

size_t ctl_store_group(struct ctl_store *s, const char *group, struct ctl_obj ***out)
{
	struct group *g;
	size_t n = 0;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	g = strmap_get(&s->groups, group, NULL);
	/* an array of object pointers */
	if (g && g->count && (*out = calloc(g->count, sizeof(struct ctl_obj *)))) { /* NOLINT(bugprone-sizeof-expression) */
		for (n = 0; n < g->count; n++)
			(*out)[n] = ctl_obj_ref(g->objs[n]);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct collect {
	struct ctl_obj **list;
	size_t count;
};

static void collect_value(void *ctx, const char *key, void *value)
{
	struct collect *c = ctx;
	(void)key;
	c->list[c->count++] = ctl_obj_ref(value);
}

size_t ctl_store_list(struct ctl_store *s, struct ctl_obj ***out)
{
	struct collect c = {NULL, 0};

	pthread_mutex_lock(&s->lock);
	/* an array of object pointers */
	if (s->objects.count && (c.list = calloc(s->objects.count, sizeof(struct ctl_obj *)))) /* NOLINT(bugprone-sizeof-expression) */
		strmap_each(&s->objects, collect_value, &c);
	pthread_mutex_unlock(&s->lock);
	*out = c.list;
	return c.count;
}

struct ctl_obj *ctl_store_delete(struct ctl_store *s, const char *key)
{
	struct ctl_obj *o;

	pthread_mutex_lock(&s->lock);
	o = strmap_remove(&s->objects, key);
	group_remove(s, o);
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

/* The replace scope of namespace scope ("" or NULL: every object): the one under way, else a free one; NULL when
 * the name is too long or every slot is taken. Under the lock. */
static struct replace_scope *scope_for(struct ctl_store *s, const char *scope, bool create)
{
	char prefix[CTL_SCOPE_MAX + 2];
	struct replace_scope *free_slot = NULL;

	if (scope && strlen(scope) > CTL_SCOPE_MAX)
		return NULL;
	snprintf(prefix, sizeof(prefix), "%s%s", scope ? scope : "", scope && scope[0] ? "/" : "");
	for (size_t i = 0; i < CTL_STORE_SCOPES_MAX; i++) {
		if (s->scopes[i].active && strcmp(s->scopes[i].prefix, prefix) == 0)
			return &s->scopes[i];
		if (!s->scopes[i].active && !free_slot)
			free_slot = &s->scopes[i];
	}
	if (!create || !free_slot)
		return NULL;
	snprintf(free_slot->prefix, sizeof(free_slot->prefix), "%s", prefix);
	return free_slot;
}

bool ctl_store_replace_begin(struct ctl_store *s, const char *scope)
{
	struct replace_scope *sc;

	pthread_mutex_lock(&s->lock);
	sc = scope_for(s, scope, true);
	if (sc) {
		strmap_free(&sc->seen);
		strmap_init(&sc->seen);
		sc->incomplete = false;
		sc->active = true;
	}
	pthread_mutex_unlock(&s->lock);
	return sc != NULL;
}

struct stale {
	const struct replace_scope *scope;
	struct ctl_obj **list;
	size_t count;
};

static void collect_stale(void *ctx, const char *key, void *value)
{
	struct stale *st = ctx;
	bool found;

	if (strncmp(key, st->scope->prefix, strlen(st->scope->prefix)) != 0)
		return; /* another namespace's list keeps it */
	strmap_get(&st->scope->seen, key, &found);
	if (!found)
		st->list[st->count++] = value;
}

void ctl_store_replace_end(struct ctl_store *s, const char *scope, void (*gone)(void *ctx, struct ctl_obj *o), void *ctx)
{
	struct stale st = {0};
	struct replace_scope *sc;

	pthread_mutex_lock(&s->lock);
	sc = scope_for(s, scope, false);
	st.scope = sc;
	/* an array of object pointers */
	st.list = calloc(s->objects.count ? s->objects.count : 1, sizeof(struct ctl_obj *)); /* NOLINT(bugprone-sizeof-expression) */
	if (sc && st.list && !sc->incomplete) {
		strmap_each(&s->objects, collect_stale, &st);
		for (size_t i = 0; i < st.count; i++) {
			strmap_remove(&s->objects, st.list[i]->key);
			group_remove(s, st.list[i]);
		}
	}
	if (sc) {
		strmap_free(&sc->seen);
		strmap_init(&sc->seen);
		sc->active = false;
	}
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

struct any_ctx {
	bool (*match)(void *ctx, const struct ctl_obj *o);
	void *ctx;
};

static bool value_matches(void *ctx, const char *key, void *value)
{
	const struct any_ctx *a = ctx;
	(void)key;
	return a->match(a->ctx, value);
}

bool ctl_store_any(struct ctl_store *s, bool (*match)(void *ctx, const struct ctl_obj *o), void *ctx)
{
	struct any_ctx a = {match, ctx};
	bool found;

	pthread_mutex_lock(&s->lock);
	found = strmap_any(&s->objects, value_matches, &a);
	pthread_mutex_unlock(&s->lock);
	return found;
}

size_t ctl_store_len(struct ctl_store *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->objects.count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
