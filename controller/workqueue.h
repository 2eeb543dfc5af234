/* The work queue: keys to reconcile, de-duplicated, never handed to two workers at once, with delayed and
 * rate-limited (per-key exponential backoff) re-adds; the queue/dirty/processing shape of client-go. Thread-safe. */
#ifndef MAC_CONTROLLER_WORKQUEUE_H
#define MAC_CONTROLLER_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct ctl_queue;

/* A queue whose rate-limited re-adds wait base_s * 2^failures, at most max_s. NULL when out of memory. */
struct ctl_queue *ctl_queue_new(double base_s, double max_s);

/* Frees the queue; no thread may be using it. Accepts NULL. */
void ctl_queue_free(struct ctl_queue *q);

/* Queues key unless it is queued already; a key being processed is queued again once done. */
void ctl_queue_add(struct ctl_queue *q, const char *key);

/* Queues key after delay_s seconds (the earliest of several pending delays wins). */
void ctl_queue_add_after(struct ctl_queue *q, const char *key, double delay_s);

/* Queues key after its backoff, and counts one more failure for it. Returns the delay used. */
double ctl_queue_add_rate_limited(struct ctl_queue *q, const char *key);

/* Forgets key's failures (after a success), so its next backoff starts from base_s again. */
void ctl_queue_forget(struct ctl_queue *q, const char *key);

/* How many failures key has now. */
unsigned ctl_queue_failures(struct ctl_queue *q, const char *key);

/*
 * Waits for a key and marks it processing; *key is the caller's to free()
 * after ctl_queue_done(). Returns false once the queue is shut down (after
 * draining, when that was asked).
 */
bool ctl_queue_get(struct ctl_queue *q, char **key);

/* As ctl_queue_get(); *waited_s (when not NULL) receives how long the key waited in the queue since it was added. */
bool ctl_queue_get_waited(struct ctl_queue *q, char **key, double *waited_s);

/*
 * Hands key, which must be processing (its worker let it go with its writes in flight, and they are answered), to
 * a worker again ahead of every queued key, so that builds under way finish before new ones start. It stays
 * processing throughout: no other worker can take it meanwhile. Resumed keys are handed out in a draining
 * shutdown too. Out of memory, the key is not resumed (it stays processing until ctl_queue_done()).
 */
void ctl_queue_resume(struct ctl_queue *q, const char *key);

/*
 * Marks key preferred (or no longer): whenever it is queued from now on, it is handed out before every key that is
 * not, after the resumed ones, so that builds under way finish before new ones start. A key queued already keeps
 * its place. Out of memory, the key is served in its turn.
 */
void ctl_queue_prefer(struct ctl_queue *q, const char *key, bool preferred);

/* Ends the processing of key; if it was added meanwhile, it is queued again. */
void ctl_queue_done(struct ctl_queue *q, const char *key);

/*
 * Shuts the queue down: waiting get()s return false. With drain, get()
 * still hands out what is queued (delayed keys are dropped) and shutdown
 * returns once nothing is processing.
 */
void ctl_queue_shutdown(struct ctl_queue *q, bool drain);

/* How many keys were added (a key already waiting counts once) and how many were requeued with backoff. */
void ctl_queue_counts(struct ctl_queue *q, unsigned long long *adds, unsigned long long *retries);

/* Keys queued now (not delayed, not processing). */
size_t ctl_queue_len(struct ctl_queue *q);

#endif
