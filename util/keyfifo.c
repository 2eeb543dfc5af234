/* A first-in first-out list of owned string keys on a growing ring: the work queue's lanes, and the line of builds
 * waiting for a slot. */
#include "util/keyfifo.h"

#include <stdlib.h>
#include <string.h>
#include "util/banned.h"

void key_fifo_free(struct key_fifo *f)
{
	for (size_t i = 0; f->cap && i < f->len; i++)
		free(f->keys[(f->head + i) % f->cap]);
	free(f->keys);
	memset(f, 0, sizeof(*f));
}

/* Makes room for one more key, laying the ring out from 0 when it grows. False when out of memory. */
static bool make_room(struct key_fifo *f)
{
	size_t cap;
	char **keys;

	if (f->len < f->cap)
		return true;
	cap = f->cap ? f->cap * 2 : 64;
	keys = malloc(cap * sizeof(*keys));
	if (!keys)
		return false;
	for (size_t i = 0; f->cap && i < f->len; i++)
		keys[i] = f->keys[(f->head + i) % f->cap];
	free(f->keys);
	f->keys = keys;
	f->cap = cap;
	f->head = 0;
	return true;
}

bool key_fifo_push_owned(struct key_fifo *f, char *key)
{
	if (!make_room(f))
		return false;
	f->keys[(f->head + f->len) % f->cap] = key;
	f->len++;
	return true;
}

bool key_fifo_push(struct key_fifo *f, const char *key)
{
	char *copy = strdup(key);

	if (copy && key_fifo_push_owned(f, copy))
		return true;
	free(copy);
	return false;
}

char *key_fifo_pop(struct key_fifo *f)
{
	char *key;

	if (!f->len || !f->cap)
		return NULL;
	key = f->keys[f->head];
	f->keys[f->head] = NULL;
	f->head = (f->head + 1) % f->cap;
	f->len--;
	return key;
}
