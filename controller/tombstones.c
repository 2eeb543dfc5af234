/* Finished pods deleted before a reconcile read them, kept by build until one has (see tombstones.h). */
#include "controller/tombstones.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controller/podresult.h"
#include "util/strmap.h"
#include "util/banned.h"

/* One build's kept pods, in the order they were deleted. */
struct build_tombstones {
	size_t count;
	struct ctl_obj *pods[CTL_TOMBSTONES_PER_BUILD];
};

/* Invariants: total is the sum of every build's count, at most max; builds holds no empty entry. */
struct ctl_tombstones {
	pthread_mutex_t lock;
	struct strmap builds; /* build key -> struct build_tombstones (owned) */
	size_t total, max;
};

struct ctl_tombstones *ctl_tombstones_new(size_t max)
{
	struct ctl_tombstones *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	strmap_init(&t->builds);
	t->max = max;
	return t;
}

static void free_build(void *ctx, const char *key, void *value)
{
	struct build_tombstones *b = value;
	(void)ctx;
	(void)key;

	for (size_t i = 0; i < b->count; i++)
		ctl_obj_release(b->pods[i]);
	free(b);
}

void ctl_tombstones_free(struct ctl_tombstones *t)
{
	if (!t)
		return;
	strmap_each(&t->builds, free_build, NULL);
	strmap_free(&t->builds);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Whether the pod o describes had finished (parsed to be read; false when out of memory). */
static bool had_finished(const struct ctl_obj *o)
{
	cJSON *pod = ctl_obj_parse(o);
	bool finished = pod && ctl_pod_finished(pod);

	cJSON_Delete(pod);
	return finished;
}

/* Under t->lock: group's entry, created when missing and create is set; NULL otherwise or out of memory. */
static struct build_tombstones *build_entry(struct ctl_tombstones *t, const char *group, bool create)
{
	struct build_tombstones *b = strmap_get(&t->builds, group, NULL);

	if (b || !create)
		return b;
	if (!(b = calloc(1, sizeof(*b))))
		return NULL;
	if (!strmap_put(&t->builds, group, b)) {
		free(b);
		return NULL;
	}
	return b;
}

bool ctl_tombstones_keep(struct ctl_tombstones *t, struct ctl_obj *o)
{
	struct build_tombstones *b;
	bool kept = false;

	if (!o->group[0] || !had_finished(o))
		return false;
	pthread_mutex_lock(&t->lock);
	if (t->total < t->max && (b = build_entry(t, o->group, true)) && b->count < CTL_TOMBSTONES_PER_BUILD) {
		b->pods[b->count++] = ctl_obj_ref(o);
		t->total++;
		kept = true;
	}
	pthread_mutex_unlock(&t->lock);
	return kept;
}

/* Whether objs holds an object of key. */
static bool holds_key(struct ctl_obj *const *objs, size_t count, const char *key)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(objs[i]->key, key) == 0)
			return true;
	return false;
}

size_t ctl_tombstones_add_group(struct ctl_tombstones *t, const char *group, struct ctl_obj ***objs, size_t *count)
{
	struct build_tombstones *b;
	struct ctl_obj **grown;
	size_t added = 0;

	pthread_mutex_lock(&t->lock);
	b = build_entry(t, group, false);
	/* an array of object pointers, room for every kept pod */
	grown = b ? realloc(*objs, (*count + b->count) * sizeof(struct ctl_obj *)) : NULL; /* NOLINT(bugprone-sizeof-expression) */
	if (grown) {
		for (size_t i = 0; i < b->count; i++)
			if (!holds_key(grown, *count + added, b->pods[i]->key))
				grown[*count + added++] = ctl_obj_ref(b->pods[i]);
		*objs = grown;
		*count += added;
	}
	pthread_mutex_unlock(&t->lock);
	return added;
}

void ctl_tombstones_forget(struct ctl_tombstones *t, const char *group, struct ctl_obj *const *objs, size_t count)
{
	struct build_tombstones *b;
	size_t kept = 0;

	pthread_mutex_lock(&t->lock);
	if ((b = build_entry(t, group, false))) {
		for (size_t i = 0; i < b->count; i++) {
			if (!objs || holds_key(objs, count, b->pods[i]->key)) {
				ctl_obj_release(b->pods[i]);
				t->total--;
			} else {
				b->pods[kept++] = b->pods[i];
			}
		}
		b->count = kept;
		if (!kept)
			free(strmap_remove(&t->builds, group));
	}
	pthread_mutex_unlock(&t->lock);
}

size_t ctl_tombstones_len(struct ctl_tombstones *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->total;
	pthread_mutex_unlock(&t->lock);
	return n;
}
