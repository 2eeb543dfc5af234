/* The work queue: keys to reconcile, de-duplicated, never handed to two workers at once, with delayed and
 * rate-limited (per-key exponential backoff) re-adds; the queue/dirty/processing shape of client-go. Thread-safe. */
#include "controller/workqueue.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/keyfifo.h"
#include "util/strmap.h"
#include "util/timefmt.h"
#include "util/banned.h"

/* A delayed key; the heap may hold stale entries, recognised by a due time that differs from the delayed map's. */
struct delayed {
	double due;
	char *key;
};

/* The queued keys' lanes, served in this order (after the resumed keys). */
enum lane {
	LANE_PREFERRED, /* keys marked by ctl_queue_prefer(): builds under way */
	LANE_OTHERS,
	LANE_COUNT,
};

/*
 * Invariants (under lock): every key in a lane is in dirty and not in
 * processing; a key is in at most one lane or processing; waiting holds
 * each key's earliest pending due time (boxed double) and heap orders
 * entries by due; failures holds per-key counts (boxed unsigned); preferred
 * holds the keys that go to LANE_PREFERRED (no values).
 */
struct ctl_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	double base_s, max_s;
	struct key_fifo lanes[LANE_COUNT];
	struct strmap dirty;
	struct strmap processing;
	struct strmap waiting;
	struct strmap failures;
	struct strmap preferred;
	struct delayed *heap;
	size_t heap_len, heap_cap;
	struct key_fifo resumed; /* processing keys handed back by ctl_queue_resume() */
	bool shutting_down;
	bool drain;
	unsigned long long adds;    /* keys that became dirty (a key already waiting is not added again) */
	unsigned long long retries; /* ctl_queue_add_rate_limited() calls */
};

struct ctl_queue *ctl_queue_new(double base_s, double max_s)
{
	struct ctl_queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t attr;

	if (!q)
		return NULL;
	q->base_s = base_s;
	q->max_s = max_s;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
	strmap_init(&q->dirty);
	strmap_init(&q->processing);
	strmap_init(&q->waiting);
	strmap_init(&q->failures);
	strmap_init(&q->preferred);
	return q;
}

static void free_value(void *ctx, const char *key, void *value)
{
	(void)ctx;
	(void)key;
	free(value);
}

void ctl_queue_free(struct ctl_queue *q)
{
	if (!q)
		return;
	for (int i = 0; i < LANE_COUNT; i++)
		key_fifo_free(&q->lanes[i]);
	key_fifo_free(&q->resumed);
	for (size_t i = 0; i < q->heap_len; i++)
		free(q->heap[i].key);
	free(q->heap);
	strmap_each(&q->waiting, free_value, NULL);
	strmap_each(&q->failures, free_value, NULL);
	strmap_each(&q->dirty, free_value, NULL);
	strmap_free(&q->dirty);
	strmap_free(&q->processing);
	strmap_free(&q->waiting);
	strmap_free(&q->failures);
	strmap_free(&q->preferred);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Appends key (copied) to its lane. Called locked. */
static bool fifo_push(struct ctl_queue *q, const char *key)
{
	bool preferred;

	strmap_get(&q->preferred, key, &preferred);
	return key_fifo_push(&q->lanes[preferred ? LANE_PREFERRED : LANE_OTHERS], key);
}

/* Keys queued in every lane. Called locked. */
static size_t queued_locked(const struct ctl_queue *q)
{
	return q->lanes[LANE_PREFERRED].len + q->lanes[LANE_OTHERS].len;
}

/* Removes key from the dirty set, freeing the time it was added; returns that time (0 when it was not there). */
static double dirty_remove(struct ctl_queue *q, const char *key)
{
	double *added = strmap_remove(&q->dirty, key), t = added ? *added : 0;

	free(added);
	return t;
}

/* The add rule: queued once; a key being processed waits for its done(). Called locked. */
static void add_locked(struct ctl_queue *q, const char *key)
{
	double *added;
	bool found;

	if (q->shutting_down)
		return;
	strmap_get(&q->dirty, key, &found);
	if (found)
		return;
	/* the dirty set remembers when the key was added, for the wait time */
	added = malloc(sizeof(*added));
	if (!added)
		return;
	*added = monotonic_seconds();
	if (!strmap_put(&q->dirty, key, added)) {
		free(added);
		return;
	}
	q->adds++;
	strmap_get(&q->processing, key, &found);
	if (found)
		return;
	if (!fifo_push(q, key)) {
		dirty_remove(q, key);
		return;
	}
	pthread_cond_signal(&q->cond);
}

void ctl_queue_add(struct ctl_queue *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	add_locked(q, key);
	pthread_mutex_unlock(&q->lock);
}

static void heap_swap(struct delayed *a, struct delayed *b)
{
	struct delayed t = *a;
	*a = *b;
	*b = t;
}

static void heap_push(struct ctl_queue *q, double due, char *key)
{
	size_t i;

	if (q->heap_len == q->heap_cap) {
		size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
		struct delayed *h = realloc(q->heap, cap * sizeof(*h));
		if (!h) {
			free(key);
			return;
		}
		q->heap = h;
		q->heap_cap = cap;
	}
	i = q->heap_len++;
	q->heap[i].due = due;
	q->heap[i].key = key;
	while (i > 0 && q->heap[(i - 1) / 2].due > q->heap[i].due) {
		heap_swap(&q->heap[(i - 1) / 2], &q->heap[i]);
		i = (i - 1) / 2;
	}
}

static struct delayed heap_pop(struct ctl_queue *q)
{
	struct delayed top = q->heap[0];
	size_t i = 0;

	q->heap_len--;
	if (q->heap_len)
		q->heap[0] = q->heap[q->heap_len];
	q->heap[q->heap_len] = (struct delayed){0}; /* the vacated slot holds no key */
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->heap_len && q->heap[l].due < q->heap[m].due)
			m = l;
		if (r < q->heap_len && q->heap[r].due < q->heap[m].due)
			m = r;
		if (m == i)
			break;
		heap_swap(&q->heap[m], &q->heap[i]);
		i = m;
	}
	return top;
}

/* Records a delayed add, keeping the earliest due time per key. Called locked. */
static void add_after_locked(struct ctl_queue *q, const char *key, double delay_s)
{
	double due = monotonic_seconds() + delay_s, *pending;
	char *copy;

	if (q->shutting_down)
		return;
	if (delay_s <= 0) {
		add_locked(q, key);
		return;
	}
	pending = strmap_get(&q->waiting, key, NULL);
	if (pending && *pending <= due)
		return;
	if (!pending) {
		pending = malloc(sizeof(*pending));
		if (!pending || !strmap_put(&q->waiting, key, pending)) {
			free(pending);
			return;
		}
	}
	*pending = due;
	copy = strdup(key);
	if (copy)
		heap_push(q, due, copy);
	pthread_cond_signal(&q->cond);
}

void ctl_queue_add_after(struct ctl_queue *q, const char *key, double delay_s)
{
	pthread_mutex_lock(&q->lock);
	add_after_locked(q, key, delay_s);
	pthread_mutex_unlock(&q->lock);
}

double ctl_queue_add_rate_limited(struct ctl_queue *q, const char *key)
{
	unsigned *n;
	double delay;

	pthread_mutex_lock(&q->lock);
	n = strmap_get(&q->failures, key, NULL);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (n && !strmap_put(&q->failures, key, n)) {
			free(n);
			n = NULL;
		}
	}
	delay = q->base_s * pow(2.0, n ? (double)*n : 0.0);
	if (delay > q->max_s || !isfinite(delay))
		delay = q->max_s;
	if (n && *n < 64)
		(*n)++;
	q->retries++;
	add_after_locked(q, key, delay);
	pthread_mutex_unlock(&q->lock);
	return delay;
}

void ctl_queue_forget(struct ctl_queue *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	free(strmap_remove(&q->failures, key));
	pthread_mutex_unlock(&q->lock);
}

unsigned ctl_queue_failures(struct ctl_queue *q, const char *key)
{
	unsigned *n, v;

	pthread_mutex_lock(&q->lock);
	n = strmap_get(&q->failures, key, NULL);
	v = n ? *n : 0;
	pthread_mutex_unlock(&q->lock);
	return v;
}

/* Moves every delayed key that is due into the queue; returns the next due time (or 0 when none). Called locked. */
static double promote_due(struct ctl_queue *q)
{
	double now = monotonic_seconds();

	while (q->heap_len) {
		double *pending;
		struct delayed top;
		if (q->heap[0].due > now)
			return q->heap[0].due;
		top = heap_pop(q);
		pending = strmap_get(&q->waiting, top.key, NULL);
		if (pending && *pending == top.due) {
			free(strmap_remove(&q->waiting, top.key));
			add_locked(q, top.key);
		}
		free(top.key);
	}
	return 0;
}

bool ctl_queue_get(struct ctl_queue *q, char **key)
{
	return ctl_queue_get_waited(q, key, NULL);
}

void ctl_queue_resume(struct ctl_queue *q, const char *key)
{
	bool processing = false;

	pthread_mutex_lock(&q->lock);
	strmap_get(&q->processing, key, &processing);
	if (processing && key_fifo_push(&q->resumed, key))
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void ctl_queue_prefer(struct ctl_queue *q, const char *key, bool preferred)
{
	pthread_mutex_lock(&q->lock);
	if (!preferred || !strmap_put(&q->preferred, key, NULL))
		strmap_remove(&q->preferred, key);
	pthread_mutex_unlock(&q->lock);
}

/* The oldest queued key of the first lane that has one, taken out (its dirty entry too); *added receives when it
 * was added. NULL when none. Called locked. */
static char *pop_queued(struct ctl_queue *q, double *added)
{
	for (int i = 0; i < LANE_COUNT; i++) {
		char *k = key_fifo_pop(&q->lanes[i]);
		if (k) {
			*added = dirty_remove(q, k);
			return k;
		}
	}
	return NULL;
}

bool ctl_queue_get_waited(struct ctl_queue *q, char **key, double *waited_s)
{
	*key = NULL;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		double next = q->shutting_down ? 0 : promote_due(q);
		char *resumed = q->shutting_down && !q->drain ? NULL : key_fifo_pop(&q->resumed);
		if (resumed) {
			if (waited_s)
				*waited_s = 0;
			*key = resumed;
			pthread_mutex_unlock(&q->lock);
			return true;
		}
		if (queued_locked(q) && (!q->shutting_down || q->drain)) {
			double added = 0;
			char *k = pop_queued(q, &added);
			if (waited_s)
				*waited_s = added > 0 ? monotonic_seconds() - added : 0;
			if (!strmap_put(&q->processing, k, NULL)) {
				/* out of memory: put it back and let the caller retry later */
				add_locked(q, k);
				free(k);
				pthread_mutex_unlock(&q->lock);
				return false;
			}
			*key = k;
			pthread_mutex_unlock(&q->lock);
			return true;
		}
		if (q->shutting_down) {
			pthread_cond_broadcast(&q->cond);
			pthread_mutex_unlock(&q->lock);
			return false;
		}
		if (next > 0) {
			struct timespec until = {.tv_sec = (time_t)next, .tv_nsec = (long)((next - floor(next)) * 1e9)};
			pthread_cond_timedwait(&q->cond, &q->lock, &until);
		} else {
			pthread_cond_wait(&q->cond, &q->lock);
		}
	}
}

void ctl_queue_done(struct ctl_queue *q, const char *key)
{
	bool dirty;

	pthread_mutex_lock(&q->lock);
	strmap_remove(&q->processing, key);
	strmap_get(&q->dirty, key, &dirty);
	if (dirty && (!q->shutting_down || q->drain)) {
		if (fifo_push(q, key))
			pthread_cond_signal(&q->cond);
		else
			dirty_remove(q, key);
	}
	/* a draining shutdown waits for processing to empty */
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void ctl_queue_shutdown(struct ctl_queue *q, bool drain)
{
	pthread_mutex_lock(&q->lock);
	q->shutting_down = true;
	q->drain = drain;
	pthread_cond_broadcast(&q->cond);
	while (drain && (q->processing.count > 0 || queued_locked(q) > 0))
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void ctl_queue_counts(struct ctl_queue *q, unsigned long long *adds, unsigned long long *retries)
{
	pthread_mutex_lock(&q->lock);
	*adds = q->adds;
	*retries = q->retries;
	pthread_mutex_unlock(&q->lock);
}

size_t ctl_queue_len(struct ctl_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = queued_locked(q);
	pthread_mutex_unlock(&q->lock);
	return n;
}
