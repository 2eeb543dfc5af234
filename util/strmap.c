/* A hash map from strings to pointers (open addressing, linear probing), for caches and work-queue sets. Not thread-safe. */
#include "util/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/banned.h"

struct strmap_slot {
	char *key; /* NULL: empty; TOMBSTONE: deleted */
	void *value;
	uint64_t hash;
};

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

uint64_t strmap_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			free(m->slots[i].key);
	free(m->slots);
	strmap_init(m);
}

/* The slot holding key, or NULL. */
static struct strmap_slot *find(const struct strmap *m, const char *key, uint64_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
	return NULL;
}

static bool grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap_slot *old = m->slots, *slots;
	size_t old_cap = m->cap;

	/* only tombstones to clear: rebuild at the same size */
	if (m->count * 2 < old_cap)
		cap = old_cap;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < old_cap; i++) {
		struct strmap_slot *s = &old[i];
		size_t j;
		if (!s->key || s->key == TOMBSTONE)
			continue;
		for (j = s->hash & (cap - 1); slots[j].key; j = (j + 1) & (cap - 1))
			;
		slots[j] = *s;
	}
	free(old);
	m->slots = slots;
	m->cap = cap;
	m->tombstones = 0;
	return true;
}

bool strmap_put(struct strmap *m, const char *key, void *value)
{
	uint64_t h = strmap_hash(key);
	struct strmap_slot *s = find(m, key, h);
	size_t i;
	char *copy;

	if (s) {
		s->value = value;
		return true;
	}
	if ((m->count + m->tombstones + 1) * 4 > m->cap * 3 && !grow(m))
		return false;
	copy = strdup(key);
	if (!copy)
		return false;
	for (i = h & (m->cap - 1); m->slots[i].key && m->slots[i].key != TOMBSTONE; i = (i + 1) & (m->cap - 1))
		;
	if (m->slots[i].key == TOMBSTONE)
		m->tombstones--;
	m->slots[i].key = copy;
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->count++;
	return true;
}

void *strmap_get(const struct strmap *m, const char *key, bool *found)
{
	struct strmap_slot *s = find(m, key, strmap_hash(key));

	if (found)
		*found = s != NULL;
	return s ? s->value : NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
	struct strmap_slot *s = find(m, key, strmap_hash(key));
	void *value;

	if (!s)
		return NULL;
	value = s->value;
	free(s->key);
	s->key = TOMBSTONE;
	s->value = NULL;
	m->count--;
	m->tombstones++;
	return value;
}

void strmap_each(const struct strmap *m, void (*fn)(void *ctx, const char *key, void *value), void *ctx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			fn(ctx, m->slots[i].key, m->slots[i].value);
}

bool strmap_any(const struct strmap *m, bool (*match)(void *ctx, const char *key, void *value), void *ctx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE && match(ctx, m->slots[i].key, m->slots[i].value))
			return true;
	return false;
}
