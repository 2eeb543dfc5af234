/* The bound on builds in flight: slots held by builds under way, and the line of builds waiting for one. */
#include "controller/admission.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/keyfifo.h"
#include "util/strmap.h"
#include "util/banned.h"

/*
 * Invariants (under lock): held and waiting share no key; every key of waiting is in line (which may also hold
 * keys that stopped waiting, skipped when they come up); while held.count < max (or max is 0), waiting is empty.
 */
struct ctl_admission {
	pthread_mutex_t lock;
	size_t max;
	struct strmap held;    /* keys holding a slot; no values */
	struct strmap waiting; /* keys in line; no values */
	struct key_fifo line;  /* the waiting keys, oldest first */
};

struct ctl_admission *ctl_admission_new(size_t max)
{
	struct ctl_admission *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	a->max = max;
	strmap_init(&a->held);
	strmap_init(&a->waiting);
	return a;
}

void ctl_admission_free(struct ctl_admission *a)
{
	if (!a)
		return;
	strmap_free(&a->held);
	strmap_free(&a->waiting);
	key_fifo_free(&a->line);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static bool contains(const struct strmap *m, const char *key)
{
	bool found = false;

	strmap_get(m, key, &found);
	return found;
}

/* Puts key in line unless it is there. Out of memory, it is not (its next reconcile tries again); a copy in line
 * that is not waiting is skipped when it comes up. Called locked. */
static void wait_in_line(struct ctl_admission *a, const char *key)
{
	bool in_line = contains(&a->waiting, key) || (key_fifo_push(&a->line, key) && strmap_put(&a->waiting, key, NULL));

	(void)in_line;
}

bool ctl_admission_try(struct ctl_admission *a, const char *key)
{
	bool may;

	pthread_mutex_lock(&a->lock);
	may = contains(&a->held, key);
	if (!may && (a->max == 0 || a->held.count < a->max) && strmap_put(&a->held, key, NULL)) {
		strmap_remove(&a->waiting, key);
		may = true;
	} else if (!may) {
		wait_in_line(a, key);
	}
	pthread_mutex_unlock(&a->lock);
	return may;
}

bool ctl_admission_hold(struct ctl_admission *a, const char *key)
{
	bool ok;

	pthread_mutex_lock(&a->lock);
	strmap_remove(&a->waiting, key);
	ok = strmap_put(&a->held, key, NULL);
	pthread_mutex_unlock(&a->lock);
	return ok;
}

bool ctl_admission_holds(struct ctl_admission *a, const char *key)
{
	bool held;

	pthread_mutex_lock(&a->lock);
	held = contains(&a->held, key);
	pthread_mutex_unlock(&a->lock);
	return held;
}

/* The oldest key still waiting, given a slot; NULL when none waits or out of memory (it then stays in line).
 * Called locked. */
static char *admit_next(struct ctl_admission *a)
{
	char *next;

	while ((next = key_fifo_pop(&a->line))) {
		if (!contains(&a->waiting, next)) {
			free(next);
			continue;
		}
		if (!strmap_put(&a->held, next, NULL)) {
			if (!key_fifo_push_owned(&a->line, next)) { /* out of the line: its next reconcile tries again */
				strmap_remove(&a->waiting, next);
				free(next);
			}
			return NULL;
		}
		strmap_remove(&a->waiting, next);
		return next;
	}
	return NULL;
}

char *ctl_admission_release(struct ctl_admission *a, const char *key)
{
	char *next = NULL;
	bool freed;

	pthread_mutex_lock(&a->lock);
	freed = contains(&a->held, key);
	strmap_remove(&a->held, key);
	strmap_remove(&a->waiting, key);
	if (freed && (a->max == 0 || a->held.count < a->max))
		next = admit_next(a);
	pthread_mutex_unlock(&a->lock);
	return next;
}

void ctl_admission_counts(struct ctl_admission *a, size_t *max, size_t *in_flight, size_t *waiting)
{
	pthread_mutex_lock(&a->lock);
	*max = a->max;
	*in_flight = a->held.count;
	*waiting = a->waiting.count;
	pthread_mutex_unlock(&a->lock);
}
