/* Unit tests for controller/workqueue: de-duplication, one worker per key, delays, backoff, shutdown and drain. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/workqueue.h"
#include "util/banned.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_duplicates_collapse_and_order_is_fifo(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.01, 1);
	char *k;
	(void)state;

	ctl_queue_add(q, "ns/a");
	ctl_queue_add(q, "ns/b");
	ctl_queue_add(q, "ns/a");
	ctl_queue_add(q, "ns/a");
	assert_int_equal(ctl_queue_len(q), 2);
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/a");
	ctl_queue_done(q, k);
	free(k);
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/b");
	ctl_queue_done(q, k);
	free(k);
	assert_int_equal(ctl_queue_len(q), 0);
	ctl_queue_free(q);
}

static void test_a_key_added_while_processing_waits_for_done(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.01, 1);
	char *k, *k2;
	(void)state;

	ctl_queue_add(q, "ns/a");
	assert_true(ctl_queue_get(q, &k));
	ctl_queue_add(q, "ns/a"); /* changed while being reconciled */
	assert_int_equal(ctl_queue_len(q), 0);
	ctl_queue_done(q, k);
	assert_int_equal(ctl_queue_len(q), 1);
	assert_true(ctl_queue_get(q, &k2));
	assert_string_equal(k2, "ns/a");
	ctl_queue_done(q, k2);
	free(k);
	free(k2);
	ctl_queue_free(q);
}

static void test_delays_earliest_wins(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.01, 1);
	double start = now_s(), waited;
	char *k;
	(void)state;

	ctl_queue_add_after(q, "ns/late", 0.30);
	ctl_queue_add_after(q, "ns/soon", 0.10);
	ctl_queue_add_after(q, "ns/soon", 0.50); /* later than pending: ignored */
	assert_int_equal(ctl_queue_len(q), 0);
	assert_true(ctl_queue_get(q, &k));
	waited = now_s() - start;
	assert_string_equal(k, "ns/soon");
	assert_true(waited >= 0.09 && waited < 0.28);
	ctl_queue_done(q, k);
	free(k);
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/late");
	assert_true(now_s() - start >= 0.29);
	ctl_queue_done(q, k);
	free(k);
	ctl_queue_free(q);
}

static void test_backoff_grows_caps_and_forgets(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.005, 0.04);
	char *k;
	(void)state;

	assert_true(ctl_queue_add_rate_limited(q, "ns/x") == 0.005);
	assert_true(ctl_queue_add_rate_limited(q, "ns/x") == 0.01);
	assert_true(ctl_queue_add_rate_limited(q, "ns/x") == 0.02);
	assert_true(ctl_queue_add_rate_limited(q, "ns/x") == 0.04);
	assert_true(ctl_queue_add_rate_limited(q, "ns/x") == 0.04);
	assert_int_equal(ctl_queue_failures(q, "ns/x"), 5);
	assert_int_equal(ctl_queue_failures(q, "ns/y"), 0);
	ctl_queue_forget(q, "ns/x");
	assert_int_equal(ctl_queue_failures(q, "ns/x"), 0);
	assert_true(ctl_queue_add_rate_limited(q, "ns/x") == 0.005);
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/x");
	ctl_queue_done(q, k);
	free(k);
	ctl_queue_free(q);
}

static struct ctl_queue *shared_queue;
static atomic_int got_key;

static void *get_one(void *arg)
{
	char *k = NULL;
	(void)arg;

	atomic_store(&got_key, ctl_queue_get(shared_queue, &k) ? 1 : 0);
	free(k);
	return NULL;
}

static void test_shutdown_wakes_waiting_workers(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.01, 1);
	pthread_t t;
	(void)state;

	shared_queue = q;
	atomic_store(&got_key, -1);
	pthread_create(&t, NULL, get_one, NULL);
	usleep(50000);
	ctl_queue_shutdown(q, false);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&got_key), 0);
	ctl_queue_add(q, "ns/after"); /* ignored once shut down */
	assert_int_equal(ctl_queue_len(q), 0);
	ctl_queue_free(q);
}

#define KEYS 16
#define WORKERS 6
#define ROUNDS 3000

struct stress {
	struct ctl_queue *q;
	atomic_int holders[KEYS];
	atomic_int overlaps;
	atomic_int handled;
};

static void *worker(void *arg)
{
	struct stress *s = arg;
	char *k;

	while (ctl_queue_get(s->q, &k)) {
		int i = (int)strtol(k + 2, NULL, 10);
		if (atomic_fetch_add(&s->holders[i], 1) != 0)
			atomic_fetch_add(&s->overlaps, 1);
		usleep(50);
		atomic_fetch_sub(&s->holders[i], 1);
		atomic_fetch_add(&s->handled, 1);
		ctl_queue_done(s->q, k);
		free(k);
	}
	return NULL;
}

static void test_never_two_workers_on_one_key(void **state)
{
	static struct stress s;
	pthread_t t[WORKERS];
	char key[16];
	(void)state;

	memset(&s, 0, sizeof(s));
	s.q = ctl_queue_new(0.001, 0.01);
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, &s);
	for (int r = 0; r < ROUNDS; r++) {
		snprintf(key, sizeof(key), "k/%d", r % KEYS);
		ctl_queue_add(s.q, key);
		if (r % 7 == 0)
			ctl_queue_add_after(s.q, key, 0.002);
	}
	ctl_queue_shutdown(s.q, true); /* drain: everything queued is handled before it returns */
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&s.overlaps), 0);
	assert_true(atomic_load(&s.handled) >= KEYS);
	assert_true(atomic_load(&s.handled) <= ROUNDS + ROUNDS / 7 + 1);
	assert_int_equal(ctl_queue_len(s.q), 0);
	ctl_queue_free(s.q);
}

/* A key let go with its writes in flight stays processing (an add waits for done); resumed, it is handed out ahead
 * of queued keys, once; a key not processing is not resumed. */
static void test_resume_hands_a_processing_key_back_first(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.01, 1);
	char *k, *again;
	(void)state;

	ctl_queue_add(q, "ns/a");
	ctl_queue_add(q, "ns/b");
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/a");
	ctl_queue_add(q, "ns/a"); /* a change while its writes fly: dirty, not queued beside it */
	assert_int_equal(ctl_queue_len(q), 1);
	ctl_queue_resume(q, "ns/a");
	ctl_queue_resume(q, "ns/never-taken"); /* not processing: ignored */
	assert_true(ctl_queue_get(q, &again));
	assert_string_equal(again, "ns/a"); /* ahead of ns/b, which was queued first */
	free(again);
	ctl_queue_done(q, k); /* now the change queued meanwhile comes round, after ns/b */
	free(k);
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/b");
	ctl_queue_done(q, k);
	free(k);
	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, "ns/a");
	ctl_queue_done(q, k);
	free(k);
	assert_int_equal(ctl_queue_len(q), 0);
	ctl_queue_free(q);
}

/* Takes the next key, checks it is want, and ends its processing. */
static void take(struct ctl_queue *q, const char *want)
{
	char *k;

	assert_true(ctl_queue_get(q, &k));
	assert_string_equal(k, want);
	ctl_queue_done(q, k);
	free(k);
}

/* Keys of builds under way (preferred) are handed out before the others, after resumed ones, each lane oldest
 * first; a key no longer preferred, or queued before it was, takes its turn; a delayed preferred key, once due,
 * goes ahead too. Many keys: the lanes grow past their first ring. */
static void test_preferred_keys_go_first(void **state)
{
	struct ctl_queue *q = ctl_queue_new(0.01, 1);
	char name[32], *k;
	(void)state;

	ctl_queue_add(q, "ns/early"); /* queued before it is preferred: keeps its place */
	ctl_queue_prefer(q, "ns/early", true);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "ns/new-%03d", i);
		ctl_queue_add(q, name);
	}
	ctl_queue_prefer(q, "ns/going", true);
	ctl_queue_prefer(q, "ns/finished", true);
	ctl_queue_prefer(q, "ns/finished", false);
	ctl_queue_add(q, "ns/finished");
	ctl_queue_add(q, "ns/going");
	ctl_queue_add(q, "ns/early");
	ctl_queue_add_after(q, "ns/early-too", 0.05);
	ctl_queue_prefer(q, "ns/early-too", true);
	for (int i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "ns/going-%03d", i);
		ctl_queue_prefer(q, name, true);
		ctl_queue_add(q, name);
	}
	take(q, "ns/going");
	for (int i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "ns/going-%03d", i);
		take(q, name);
	}
	usleep(80 * 1000);
	take(q, "ns/early-too"); /* due now, and preferred */
	take(q, "ns/early");
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "ns/new-%03d", i);
		take(q, name);
	}
	take(q, "ns/finished");
	assert_int_equal(ctl_queue_len(q), 0);
	/* a resumed key goes before a preferred one */
	ctl_queue_add(q, "ns/a");
	assert_true(ctl_queue_get(q, &k));
	ctl_queue_add(q, "ns/going");
	ctl_queue_resume(q, k);
	take(q, "ns/a");
	free(k);
	take(q, "ns/going");
	ctl_queue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicates_collapse_and_order_is_fifo),
		cmocka_unit_test(test_a_key_added_while_processing_waits_for_done),
		cmocka_unit_test(test_delays_earliest_wins),
		cmocka_unit_test(test_backoff_grows_caps_and_forgets),
		cmocka_unit_test(test_shutdown_wakes_waiting_workers),
		cmocka_unit_test(test_never_two_workers_on_one_key),
		cmocka_unit_test(test_resume_hands_a_processing_key_back_first),
		cmocka_unit_test(test_preferred_keys_go_first),
	};
	return cmocka_run_group_tests_name("workqueue", tests, NULL, NULL);
}
