/* Events written off the workers: a bounded queue and writer threads of their own, so a reconcile never
 * waits for an Event; when the queue is full, new Events are dropped and counted. */
#ifndef MAC_CONTROLLER_EVENTSINK_H
#define MAC_CONTROLLER_EVENTSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CTL_EVENT_QUEUE_MAX 4096 /* Events waiting to be written; more are dropped */
#define CTL_EVENT_WRITERS_MAX 16 /* writer threads at most */

/* One Event about a MultiArchBuild, as queued (the strings are the sink's copies). */
struct ctl_event {
	struct timespec when; /* when it happened (CLOCK_REALTIME), which the Event records however late it is written */
	const char *ns;
	const char *name;
	const char *uid;
	bool warning;
	const char *reason;
	const char *note;
};

/* Writes one Event; returns false with a message in err when it could not. Called from the sink's threads at once. */
typedef bool (*ctl_event_write_fn)(void *ctx, const struct ctl_event *ev, char *err, size_t errlen);

/* Told of every Event the write function could not write, with its message. May be NULL. */
typedef void (*ctl_event_failed_fn)(void *ctx, const struct ctl_event *ev, const char *err);

struct ctl_event_sink;

/*
 * Starts `writers` threads (1 to CTL_EVENT_WRITERS_MAX) that take Events
 * from a queue of capacity (0: CTL_EVENT_QUEUE_MAX); with one, Events are
 * written in the order posted. NULL when the sink cannot be made.
 */
struct ctl_event_sink *ctl_event_sink_start(size_t capacity, int writers, ctl_event_write_fn write, ctl_event_failed_fn failed, void *ctx);

/* Queues a copy of ev without waiting. Returns false when the queue is full or memory ran out (ev is dropped and counted). */
bool ctl_event_sink_post(struct ctl_event_sink *s, const struct ctl_event *ev);

/* What became of the Events posted so far. */
struct ctl_event_counts {
	unsigned long long written;
	unsigned long long dropped; /* the queue was full, memory ran out, or the write failed */
	size_t pending;             /* queued or being written now */
};

void ctl_event_sink_counts(struct ctl_event_sink *s, struct ctl_event_counts *out);

/* Waits until every queued Event is written, for at most seconds. Returns whether the queue is empty. */
bool ctl_event_sink_drain(struct ctl_event_sink *s, double seconds);

/* Stops the threads once their writes under way end, drops what is still queued, and frees the sink. Accepts NULL. */
void ctl_event_sink_stop(struct ctl_event_sink *s);

#endif
