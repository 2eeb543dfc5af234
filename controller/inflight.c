/* The sessions of keys with writes in flight (see inflight.h): per key, the writes still unanswered, the
 * answers so far, the tally and the Events held for the status write. */
#include "controller/inflight.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/strmap.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "util/banned.h"

#define ANSWERS_MAX 256 /* answers kept per session; a run makes a few dozen writes at most */

struct answer {
	char what[CTL_WRITE_WHAT_MAX];
	enum ctl_write res;
	char err[256];
};

enum status_state { STATUS_NONE, STATUS_PENDING, STATUS_OK, STATUS_FAILED };

/* One key's writes since its last run that sent nothing. */
struct session {
	unsigned outstanding; /* sent, not answered */
	bool sealed;          /* the run that sent them ended: the last answer resumes the key */
	struct answer *answers;
	size_t answer_count, answer_cap;
	enum status_state status;                           /* the latest run's status write */
	struct ctl_held held;                               /* what that run holds back until the status write is answered */
	struct ctl_held_delete ready[CTL_HELD_DELETES_MAX]; /* deletes whose status write succeeded: the next run's */
	size_t ready_count;
	char uid[128];
	struct ctl_write_tally tally;
};

/* Invariants (under lock): sessions maps keys to their session (owned); in_flight is the sum of outstanding. */
struct ctl_inflight {
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct strmap sessions;
	size_t in_flight;
	ctl_post_event_fn post;
	void *post_ctx;
};

struct ctl_inflight *ctl_inflight_new(ctl_post_event_fn post, void *ctx)
{
	struct ctl_inflight *f = calloc(1, sizeof(*f));
	pthread_condattr_t attr;

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->idle, &attr);
	pthread_condattr_destroy(&attr);
	strmap_init(&f->sessions);
	f->post = post;
	f->post_ctx = ctx;
	return f;
}

void ctl_held_free(struct ctl_held *held)
{
	for (size_t i = 0; i < held->delete_count; i++)
		free(held->deletes[i].object);
	held->delete_count = 0;
}

static void session_free(struct session *s)
{
	if (s) {
		free(s->answers);
		ctl_held_free(&s->held);
		for (size_t i = 0; i < s->ready_count; i++)
			free(s->ready[i].object);
	}
	free(s);
}

static void free_session(void *ctx, const char *key, void *value)
{
	(void)ctx;
	(void)key;
	session_free(value);
}

void ctl_inflight_free(struct ctl_inflight *f)
{
	if (!f)
		return;
	strmap_each(&f->sessions, free_session, NULL);
	strmap_free(&f->sessions);
	pthread_cond_destroy(&f->idle);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

bool ctl_inflight_lookup(struct ctl_inflight *f, const char *key, const char *what, enum ctl_write *res, char *err, size_t errlen)
{
	struct session *s;
	bool found = false;

	pthread_mutex_lock(&f->lock);
	s = strmap_get(&f->sessions, key, NULL);
	for (size_t i = 0; s && i < s->answer_count && !found; i++) {
		if (strcmp(s->answers[i].what, what) != 0)
			continue;
		*res = s->answers[i].res;
		text_copy(err, errlen, s->answers[i].err);
		found = true;
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

bool ctl_inflight_sent(struct ctl_inflight *f, const char *key, bool status)
{
	struct session *s;

	pthread_mutex_lock(&f->lock);
	s = strmap_get(&f->sessions, key, NULL);
	if (!s && (s = calloc(1, sizeof(*s))) && !strmap_put(&f->sessions, key, s)) {
		free(s);
		s = NULL;
	}
	if (s) {
		s->outstanding++;
		f->in_flight++;
		if (status) {
			s->status = STATUS_PENDING;
			s->held.event_count = 0;
			ctl_held_free(&s->held);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return s != NULL;
}

static void remember(struct session *s, const char *what, enum ctl_write res, const char *err)
{
	struct answer *a;

	if (s->answer_count == s->answer_cap) {
		size_t cap = s->answer_cap ? s->answer_cap * 2 : 8;
		struct answer *grown = cap <= ANSWERS_MAX ? realloc(s->answers, cap * sizeof(*grown)) : NULL;
		if (!grown)
			return; /* not kept: the next run sends the write again, and reads its answer then */
		s->answers = grown;
		s->answer_cap = cap;
	}
	a = &s->answers[s->answer_count++];
	text_copy(a->what, sizeof(a->what), what);
	a->res = res;
	text_copy(a->err, sizeof(a->err), err ? err : "");
}

/*
 * Settles what s holds once its status write is no longer in flight: written, the Events go to out (*count of
 * them, with the build's uid; none when out is NULL) and the deletes to the next run; failed, both are dropped.
 * Called locked.
 */
static void settle_held(struct session *s, struct ctl_held_event *out, size_t *count, char *uid, size_t uid_len)
{
	*count = 0;
	if (s->status == STATUS_PENDING)
		return;
	if (s->status == STATUS_OK) {
		if (out && s->held.event_count) { /* no room for them (out of memory): the log has them */
			memcpy(out, s->held.events, s->held.event_count * sizeof(*out));
			*count = s->held.event_count;
			text_copy(uid, uid_len, s->uid);
		}
		for (size_t i = 0; i < s->held.delete_count && s->ready_count < CTL_HELD_DELETES_MAX; i++) {
			s->ready[s->ready_count++] = s->held.deletes[i];
			s->held.deletes[i].object = NULL;
		}
	}
	s->held.event_count = 0;
	ctl_held_free(&s->held);
}

static void post_all(struct ctl_inflight *f, const char *key, const char *uid, const struct ctl_held_event *events, size_t count)
{
	for (size_t i = 0; i < count; i++)
		f->post(f->post_ctx, key, uid, &events[i]);
}

bool ctl_inflight_answered(struct ctl_inflight *f, const char *key, const char *what, enum ctl_write res, const char *err,
			   enum ctl_write_kind kind)
{
	struct ctl_held_event *posting = kind == CTL_WRITE_KIND_STATUS ? calloc(CTL_HELD_EVENTS_MAX, sizeof(*posting)) : NULL;
	char uid[128] = "";
	size_t posts = 0;
	struct session *s;
	bool resume = false;

	pthread_mutex_lock(&f->lock);
	s = strmap_get(&f->sessions, key, NULL);
	if (s) {
		remember(s, what, res, err);
		if (res == CTL_WRITE_OK && kind == CTL_WRITE_KIND_CREATE)
			s->tally.creates++;
		else if (res == CTL_WRITE_OK && kind == CTL_WRITE_KIND_DELETE)
			s->tally.deletes++;
		if (kind == CTL_WRITE_KIND_STATUS) {
			s->status = res == CTL_WRITE_OK ? STATUS_OK : STATUS_FAILED;
			s->tally.status_written = s->tally.status_written || res == CTL_WRITE_OK;
			settle_held(s, posting, &posts, uid, sizeof(uid));
		}
		s->outstanding--;
		f->in_flight--;
		resume = s->sealed && s->outstanding == 0;
		if (resume)
			s->sealed = false;
	}
	if (f->in_flight == 0)
		pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
	if (posting)
		post_all(f, key, uid, posting, posts);
	free(posting);
	return resume;
}

bool ctl_inflight_seal(struct ctl_inflight *f, const char *key, const char *uid, struct ctl_held *held)
{
	struct ctl_held_event *posting = held->event_count ? calloc(held->event_count, sizeof(*posting)) : NULL;
	char held_uid[128];
	size_t posts = 0;
	struct session *s;
	bool resume = true;

	pthread_mutex_lock(&f->lock);
	s = strmap_get(&f->sessions, key, NULL);
	if (s) {
		if (s->status == STATUS_PENDING || s->status == STATUS_OK) {
			memcpy(s->held.events, held->events, held->event_count * sizeof(*held->events));
			s->held.event_count = held->event_count;
			memcpy(s->held.deletes, held->deletes, held->delete_count * sizeof(*held->deletes));
			s->held.delete_count = held->delete_count;
			held->delete_count = 0; /* the session's now */
			text_copy(s->uid, sizeof(s->uid), uid);
		}
		settle_held(s, posting, &posts, held_uid, sizeof(held_uid));
		resume = s->outstanding == 0;
		s->sealed = !resume;
	}
	pthread_mutex_unlock(&f->lock);
	held->event_count = 0;
	ctl_held_free(held); /* what no session took */
	if (posting)
		post_all(f, key, uid, posting, posts);
	free(posting);
	return resume;
}

size_t ctl_inflight_take_deletes(struct ctl_inflight *f, const char *key, struct ctl_held_delete *out, size_t max)
{
	struct session *s;
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	s = strmap_get(&f->sessions, key, NULL);
	if (s) {
		for (n = 0; n < s->ready_count && n < max; n++)
			out[n] = s->ready[n];
		memmove(s->ready, s->ready + n, (s->ready_count - n) * sizeof(*s->ready));
		s->ready_count -= n;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

void ctl_inflight_finish(struct ctl_inflight *f, const char *key, struct ctl_write_tally *out)
{
	struct session *s;

	pthread_mutex_lock(&f->lock);
	s = strmap_get(&f->sessions, key, NULL);
	if (s && s->outstanding == 0) {
		strmap_remove(&f->sessions, key);
		out->creates += s->tally.creates;
		out->deletes += s->tally.deletes;
		out->status_written = out->status_written || s->tally.status_written;
		session_free(s);
	}
	pthread_mutex_unlock(&f->lock);
}

size_t ctl_inflight_count(struct ctl_inflight *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->in_flight;
	pthread_mutex_unlock(&f->lock);
	return n;
}

bool ctl_inflight_wait_idle(struct ctl_inflight *f, double seconds)
{
	double until = monotonic_seconds() + seconds;
	struct timespec deadline = {.tv_sec = (time_t)until, .tv_nsec = (long)((until - floor(until)) * 1e9)};
	bool idle;

	pthread_mutex_lock(&f->lock);
	while (f->in_flight > 0 && pthread_cond_timedwait(&f->idle, &f->lock, &deadline) == 0)
		;
	idle = f->in_flight == 0;
	pthread_mutex_unlock(&f->lock);
	return idle;
}
