/* Events written off the workers: a bounded queue and writer threads of their own, so a reconcile never
 * waits for an Event; when the queue is full, new Events are dropped and counted. */
#include "controller/eventsink.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/error.h"
#include "util/banned.h"

/* A queued Event: the strings live in text, after the entry. */
struct entry {
	struct entry *next;
	struct ctl_event ev;
	char text[];
};

/*
 * Invariants: head..tail is the queue, count entries long, never more than
 * capacity; writing counts the entries threads took off the queue and are
 * writing; stopping is set once, after which nothing is queued or written.
 */
struct ctl_event_sink {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t idle; /* signalled when the queue is empty and no write is under way */
	pthread_t threads[CTL_EVENT_WRITERS_MAX];
	int thread_count;
	struct entry *head, *tail;
	size_t count, capacity;
	size_t writing; /* writes under way */
	bool stopping;
	unsigned long long dropped, written;
	ctl_event_write_fn write;
	ctl_event_failed_fn failed;
	void *ctx;
};

static void *run(void *arg)
{
	struct ctl_event_sink *s = arg;
	char err[KUBE_ERRBUF_SIZE];

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct entry *e;
		bool ok;
		while (!s->head && !s->stopping) {
			if (!s->writing)
				pthread_cond_broadcast(&s->idle);
			pthread_cond_wait(&s->wake, &s->lock);
		}
		if (s->stopping)
			break;
		e = s->head;
		s->head = e->next;
		if (!s->head)
			s->tail = NULL;
		s->count--;
		s->writing++;
		pthread_mutex_unlock(&s->lock);
		err[0] = '\0';
		ok = s->write(s->ctx, &e->ev, err, sizeof(err));
		if (!ok && s->failed)
			s->failed(s->ctx, &e->ev, err);
		free(e);
		pthread_mutex_lock(&s->lock);
		s->writing--;
		if (ok)
			s->written++;
		else
			s->dropped++;
	}
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct ctl_event_sink *ctl_event_sink_start(size_t capacity, int writers, ctl_event_write_fn write, ctl_event_failed_fn failed, void *ctx)
{
	struct ctl_event_sink *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;

	if (!s || writers < 1 || writers > CTL_EVENT_WRITERS_MAX) {
		free(s);
		return NULL;
	}
	s->capacity = capacity ? capacity : CTL_EVENT_QUEUE_MAX;
	s->write = write;
	s->failed = failed;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &attr);
	pthread_condattr_destroy(&attr);
	for (; s->thread_count < writers; s->thread_count++) {
		if (pthread_create(&s->threads[s->thread_count], NULL, run, s) != 0) {
			ctl_event_sink_stop(s);
			return NULL;
		}
	}
	return s;
}

/* Copies src (NULL as "") to *at and points *dst at the copy. */
static void place(char **at, const char **dst, const char *src)
{
	size_t len = strlen(src ? src : "");

	memcpy(*at, src ? src : "", len + 1);
	*dst = *at;
	*at += len + 1;
}

static size_t len0(const char *s)
{
	return (s ? strlen(s) : 0) + 1;
}

bool ctl_event_sink_post(struct ctl_event_sink *s, const struct ctl_event *ev)
{
	struct entry *e;
	char *at;
	bool queued = false;

	e = malloc(sizeof(*e) + len0(ev->ns) + len0(ev->name) + len0(ev->uid) + len0(ev->reason) + len0(ev->note));
	if (e) {
		e->next = NULL;
		e->ev.when = ev->when;
		e->ev.warning = ev->warning;
		at = e->text;
		place(&at, &e->ev.ns, ev->ns);
		place(&at, &e->ev.name, ev->name);
		place(&at, &e->ev.uid, ev->uid);
		place(&at, &e->ev.reason, ev->reason);
		place(&at, &e->ev.note, ev->note);
	}
	pthread_mutex_lock(&s->lock);
	if (e && !s->stopping && s->count < s->capacity) {
		if (s->tail)
			s->tail->next = e;
		else
			s->head = e;
		s->tail = e;
		s->count++;
		queued = true;
		pthread_cond_signal(&s->wake);
	} else {
		s->dropped++;
	}
	pthread_mutex_unlock(&s->lock);
	if (!queued)
		free(e);
	return queued;
}

void ctl_event_sink_counts(struct ctl_event_sink *s, struct ctl_event_counts *out)
{
	pthread_mutex_lock(&s->lock);
	out->written = s->written;
	out->dropped = s->dropped;
	out->pending = s->count + s->writing;
	pthread_mutex_unlock(&s->lock);
}

/* deadline = now + seconds on CLOCK_MONOTONIC */
static void deadline_in(struct timespec *deadline, double seconds)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += (time_t)seconds;
	deadline->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
}

bool ctl_event_sink_drain(struct ctl_event_sink *s, double seconds)
{
	struct timespec deadline;
	bool empty;

	deadline_in(&deadline, seconds);
	pthread_mutex_lock(&s->lock);
	while ((s->head || s->writing) && !s->stopping && pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == 0)
		;
	empty = !s->head && !s->writing;
	pthread_mutex_unlock(&s->lock);
	return empty;
}

void ctl_event_sink_stop(struct ctl_event_sink *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < s->thread_count; i++)
		pthread_join(s->threads[i], NULL);
	while (s->head) {
		struct entry *e = s->head;
		s->head = e->next;
		free(e);
		s->dropped++;
	}
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
