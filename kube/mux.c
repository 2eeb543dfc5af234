/* The transfer loop of kube/mux.h: one thread drives a curl multi handle; submitters queue transfers and wake it. */
#include "kube/mux.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include "util/banned.h"

#define DEFAULT_IN_FLIGHT 64
#define DEFAULT_CONNECTIONS 16 /* HTTP/2 needs one; HTTP/1.1 servers get as many as the old handle pool had */
#define POLL_MS 1000           /* the loop wakes at least this often even when nothing is said */

/* A submitted transfer; the mux's own, freed once done ran. */
struct transfer {
	CURL *h;
	kube_mux_done_fn done;
	void *ctx;
	struct transfer *next;
};

/*
 * Invariants: multi, flying and flying_count are touched by the loop's thread only (curl_multi_wakeup excepted);
 * lock guards the waiting list, stopping and stats. A transfer is in exactly one of waiting or flying until its
 * callback ran.
 */
struct kube_mux {
	struct kube_mux_options opts;
	CURLM *multi;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	struct transfer *waiting_head, *waiting_tail;
	bool stopping;
	struct kube_mux_stats stats;
	struct transfer **flying;
	size_t flying_count;
};

static struct transfer *pop_waiting(struct kube_mux *m)
{
	struct transfer *t = m->waiting_head;

	if (t) {
		m->waiting_head = t->next;
		if (!m->waiting_head)
			m->waiting_tail = NULL;
		t->next = NULL;
		m->stats.waiting--;
	}
	return t;
}

static void finish(struct kube_mux *m, struct transfer *t, CURLcode rc)
{
	long connects = 0;

	curl_easy_getinfo(t->h, CURLINFO_NUM_CONNECTS, &connects);
	pthread_mutex_lock(&m->lock);
	m->stats.transfers++;
	m->stats.connections += connects > 0 ? (unsigned long long)connects : 0;
	pthread_mutex_unlock(&m->lock);
	t->done(t->ctx, rc);
	free(t);
}

/* Hands waiting transfers to curl while there is room under max_in_flight. */
static void admit_waiting(struct kube_mux *m)
{
	while (m->flying_count < m->opts.max_in_flight) {
		struct transfer *t;

		pthread_mutex_lock(&m->lock);
		t = pop_waiting(m);
		if (t) {
			m->stats.in_flight++;
			if (m->stats.in_flight > m->stats.in_flight_peak)
				m->stats.in_flight_peak = m->stats.in_flight;
		}
		pthread_mutex_unlock(&m->lock);
		if (!t)
			return;
		if (curl_multi_add_handle(m->multi, t->h) != CURLM_OK) {
			pthread_mutex_lock(&m->lock);
			m->stats.in_flight--;
			pthread_mutex_unlock(&m->lock);
			finish(m, t, CURLE_FAILED_INIT);
			continue;
		}
		m->flying[m->flying_count++] = t;
	}
}

/* Takes the transfer of h out of curl and of flying; NULL when h is not one of ours. */
static struct transfer *land(struct kube_mux *m, CURL *h)
{
	for (size_t i = 0; i < m->flying_count; i++) {
		struct transfer *t = m->flying[i];
		if (t->h != h)
			continue;
		m->flying[i] = m->flying[--m->flying_count];
		curl_multi_remove_handle(m->multi, h);
		pthread_mutex_lock(&m->lock);
		m->stats.in_flight--;
		pthread_mutex_unlock(&m->lock);
		return t;
	}
	return NULL;
}

static void finish_ended(struct kube_mux *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		struct transfer *t;
		if (msg->msg == CURLMSG_DONE && (t = land(m, msg->easy_handle)))
			finish(m, t, msg->data.result);
	}
}

/* Ends what is still in flight or waiting, each with CURLE_ABORTED_BY_CALLBACK. */
static void abort_all(struct kube_mux *m)
{
	struct transfer *t;

	while (m->flying_count) {
		t = land(m, m->flying[m->flying_count - 1]->h);
		finish(m, t, CURLE_ABORTED_BY_CALLBACK);
	}
	for (;;) {
		pthread_mutex_lock(&m->lock);
		t = pop_waiting(m);
		pthread_mutex_unlock(&m->lock);
		if (!t)
			break;
		finish(m, t, CURLE_ABORTED_BY_CALLBACK);
	}
}

static void *loop_main(void *arg)
{
	struct kube_mux *m = arg;
	int running = 0;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&m->lock);
		stop = m->stopping;
		pthread_mutex_unlock(&m->lock);
		if (stop)
			break;
		admit_waiting(m);
		curl_multi_perform(m->multi, &running);
		finish_ended(m);
		admit_waiting(m); /* what ended made room: start the next before sleeping */
		curl_multi_poll(m->multi, NULL, 0, POLL_MS, NULL);
	}
	abort_all(m);
	return NULL;
}

enum kube_err kube_mux_new(const struct kube_mux_options *opts, struct kube_mux **out, char *errbuf, size_t errlen)
{
	struct kube_mux *m = calloc(1, sizeof(*m));
	sigset_t all, before;
	bool started;

	*out = NULL;
	if (!m)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	if (opts)
		m->opts = *opts;
	if (!m->opts.max_in_flight)
		m->opts.max_in_flight = DEFAULT_IN_FLIGHT;
	if (!m->opts.max_connections)
		m->opts.max_connections = DEFAULT_CONNECTIONS;
	pthread_mutex_init(&m->lock, NULL);
	m->flying = calloc(m->opts.max_in_flight, sizeof(struct transfer *)); /* NOLINT(bugprone-sizeof-expression) */
	m->multi = curl_multi_init();
	if (!m->flying || !m->multi) {
		kube_mux_free(m);
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "cannot create a curl multi handle");
	}
	curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)m->opts.max_connections);
	curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)m->opts.max_connections);
	/* the loop's thread takes no signal: the program's own threads handle them, whatever mask they use */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &before);
	started = pthread_create(&m->thread, NULL, loop_main, m) == 0;
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (!started) {
		kube_mux_free(m);
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "cannot start the transfer loop's thread");
	}
	m->thread_started = true;
	*out = m;
	return KUBE_OK;
}

void kube_mux_free(struct kube_mux *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	pthread_mutex_unlock(&m->lock);
	if (m->thread_started) {
		curl_multi_wakeup(m->multi);
		pthread_join(m->thread, NULL);
	}
	if (m->multi)
		curl_multi_cleanup(m->multi);
	free(m->flying);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

bool kube_mux_submit(struct kube_mux *m, CURL *h, kube_mux_done_fn done, void *ctx)
{
	struct transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return false;
	t->h = h;
	t->done = done;
	t->ctx = ctx;
	pthread_mutex_lock(&m->lock);
	if (m->stopping) {
		pthread_mutex_unlock(&m->lock);
		free(t);
		return false;
	}
	if (m->waiting_tail)
		m->waiting_tail->next = t;
	else
		m->waiting_head = t;
	m->waiting_tail = t;
	m->stats.waiting++;
	pthread_mutex_unlock(&m->lock);
	curl_multi_wakeup(m->multi);
	return true;
}

/* A caller of kube_mux_perform() waiting for its transfer. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t ended;
	bool done;
	CURLcode rc;
};

static void waiter_done(void *ctx, CURLcode rc)
{
	struct waiter *w = ctx;

	pthread_mutex_lock(&w->lock);
	w->rc = rc;
	w->done = true;
	pthread_cond_signal(&w->ended);
	pthread_mutex_unlock(&w->lock);
}

CURLcode kube_mux_perform(struct kube_mux *m, CURL *h)
{
	struct waiter w = {.done = false, .rc = CURLE_OK};

	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.ended, NULL);
	if (!kube_mux_submit(m, h, waiter_done, &w)) {
		w.rc = CURLE_ABORTED_BY_CALLBACK; /* the loop is ending (or no memory for the record): nothing was sent */
		w.done = true;
	}
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.ended, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.ended);
	pthread_mutex_destroy(&w.lock);
	return w.rc;
}

void kube_mux_get_stats(struct kube_mux *m, struct kube_mux_stats *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->stats;
	pthread_mutex_unlock(&m->lock);
}
