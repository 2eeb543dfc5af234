/* The writes of keys in flight: a reconcile sends its writes without waiting and its worker moves on; the key stays
 * processing until every write is answered, then runs again with the answers at hand, so that each step reads what
 * its writes came to as if it had waited. Thread-safe. */
#ifndef MAC_CONTROLLER_INFLIGHT_H
#define MAC_CONTROLLER_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "controller/reconcile.h"

#define CTL_WRITE_WHAT_MAX 600 /* "METHOD path name #hash" of one write */
#define CTL_HELD_EVENTS_MAX 24 /* Events of one run held until its status write is answered */
#define CTL_HELD_NOTE_MAX 1400

/* An Event a run made that is posted only once the status it describes is written. */
struct ctl_held_event {
	bool warning;
	char reason[64];
	char note[CTL_HELD_NOTE_MAX];
};

#define CTL_HELD_DELETES_MAX 16 /* children of one run deleted only once its status write is answered */

/* A child a run deletes only after its status is written (a timed-out pod, stopped once its failure is recorded). */
struct ctl_held_delete {
	char kind[16];
	char *object; /* the child as JSON text; owned */
};

/* What a run holds back while its status write is in flight. */
struct ctl_held {
	struct ctl_held_event events[CTL_HELD_EVENTS_MAX];
	size_t event_count;
	struct ctl_held_delete deletes[CTL_HELD_DELETES_MAX];
	size_t delete_count;
};

/* Frees the deletes of held (the events need nothing). */
void ctl_held_free(struct ctl_held *held);

/* Posts a held Event of the build key (namespace/name) whose uid is given. */
typedef void (*ctl_post_event_fn)(void *ctx, const char *key, const char *uid, const struct ctl_held_event *ev);

/* What a key's writes came to over all its runs, for the log line and the metrics of its reconcile. */
struct ctl_write_tally {
	unsigned creates;
	unsigned deletes;
	bool status_written;
};

struct ctl_inflight;

struct ctl_inflight *ctl_inflight_new(ctl_post_event_fn post, void *ctx);

/* Frees every record; no write may be in flight (see ctl_inflight_wait_idle()). Accepts NULL. */
void ctl_inflight_free(struct ctl_inflight *f);

/* Whether the write what of key was answered in this key's session; then *res and err (errlen) say how. */
bool ctl_inflight_lookup(struct ctl_inflight *f, const char *key, const char *what, enum ctl_write *res, char *err, size_t errlen);

/* Counts a write of key sent (status: it is the run's status write). False when out of memory: nothing counted. */
bool ctl_inflight_sent(struct ctl_inflight *f, const char *key, bool status);

/*
 * Records the answer to the write what of key (a create, a delete or the status write, for the tally). Held Events
 * are posted when it is the status write and it succeeded. Returns true when it was the last write of a run that
 * has ended (ctl_inflight_seal()): the caller hands the key to a worker again.
 */
bool ctl_inflight_answered(struct ctl_inflight *f, const char *key, const char *what, enum ctl_write res, const char *err,
			   enum ctl_write_kind kind);

/*
 * Ends a run of key that sent writes, taking over what it held (its Events are posted once its status write
 * succeeds, its deletes handed to the next run then; both are dropped when the write fails; held is emptied).
 * Returns true when every write is answered already: the caller hands the key to a worker again; otherwise the
 * last answer does.
 */
bool ctl_inflight_seal(struct ctl_inflight *f, const char *key, const char *uid, struct ctl_held *held);

/* Moves the deletes whose status write succeeded into out (at most max; the caller's to free with their objects).
 * Returns how many. */
size_t ctl_inflight_take_deletes(struct ctl_inflight *f, const char *key, struct ctl_held_delete *out, size_t max);

/* Ends key's session after a run that sent nothing: its answers are forgotten and its tally added to *out. */
void ctl_inflight_finish(struct ctl_inflight *f, const char *key, struct ctl_write_tally *out);

/* Writes in flight now, over every key. */
size_t ctl_inflight_count(struct ctl_inflight *f);

/* Waits until no write is in flight, for at most seconds. Returns whether none is. */
bool ctl_inflight_wait_idle(struct ctl_inflight *f, double seconds);

#endif
