/* Unit tests for controller/eventsink: posting never waits for a write, order and time, the bound, failures, several writers, drain and stop. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "controller/eventsink.h"
#include "util/banned.h"

/* A writer that records what it writes and, while gated, waits for each write to be allowed. */
struct fake_api {
	bool gated;
	sem_t entered; /* posted when a write starts */
	sem_t allow;   /* one post lets one gated write finish */
	bool fail;
	pthread_mutex_t lock;
	char written[512];
	char failures[512];
};

static bool fake_write(void *ctx, const struct ctl_event *ev, char *err, size_t errlen)
{
	struct fake_api *api = ctx;
	size_t used;

	sem_post(&api->entered);
	if (api->gated)
		sem_wait(&api->allow);
	if (api->fail) {
		snprintf(err, errlen, "refused %s", ev->reason);
		return false;
	}
	pthread_mutex_lock(&api->lock);
	used = strlen(api->written);
	snprintf(api->written + used, sizeof(api->written) - used, "%s/%s:%s:%s:%s@%lld.%09ld;", ev->ns, ev->name, ev->warning ? "W" : "N",
		 ev->reason, ev->note, (long long)ev->when.tv_sec, ev->when.tv_nsec);
	pthread_mutex_unlock(&api->lock);
	return true;
}

static void fake_failed(void *ctx, const struct ctl_event *ev, const char *err)
{
	struct fake_api *api = ctx;
	size_t used = strlen(api->failures);

	snprintf(api->failures + used, sizeof(api->failures) - used, "%s=%s;", ev->reason, err);
}

static void fake_init(struct fake_api *api, bool gated)
{
	memset(api, 0, sizeof(*api));
	api->gated = gated;
	sem_init(&api->entered, 0, 0);
	sem_init(&api->allow, 0, 0);
	pthread_mutex_init(&api->lock, NULL);
}

static void fake_destroy(struct fake_api *api)
{
	sem_destroy(&api->entered);
	sem_destroy(&api->allow);
	pthread_mutex_destroy(&api->lock);
}

static struct ctl_event_counts counts(struct ctl_event_sink *s)
{
	struct ctl_event_counts c;

	ctl_event_sink_counts(s, &c);
	return c;
}

static struct ctl_event event(const char *reason, const char *note, bool warning)
{
	struct ctl_event ev = {{1790000000, 123456000}, "apps", "hello", "u-1", warning, reason, note};
	return ev;
}

/* While a write hangs, posts return at once; the queued Events are then written in order, copies of what was posted. */
static void test_post_does_not_wait_and_keeps_order(void **state)
{
	struct fake_api api;
	struct ctl_event_sink *s;
	char note[32];
	struct ctl_event ev;
	(void)state;

	fake_init(&api, true);
	s = ctl_event_sink_start(0, 1, fake_write, fake_failed, &api);
	assert_non_null(s);
	assert_true(ctl_event_sink_post(s, (ev = event("PlatformBuilding", "amd64", false), &ev)));
	sem_wait(&api.entered); /* the first write is under way and hangs */
	snprintf(note, sizeof(note), "arm64");
	assert_true(ctl_event_sink_post(s, (ev = event("PlatformBuilding", note, false), &ev)));
	assert_true(ctl_event_sink_post(s, (ev = event("PlatformFailed", "exit 1", true), &ev)));
	memset(note, 'x', sizeof(note) - 1); /* the sink holds its own copy */
	assert_string_equal(api.written, "");
	assert_false(ctl_event_sink_drain(s, 0.05)); /* a hanging write: not drained */
	for (int i = 0; i < 3; i++)
		sem_post(&api.allow);
	assert_true(ctl_event_sink_drain(s, 10));
	assert_string_equal(
		api.written,
		"apps/hello:N:PlatformBuilding:amd64@1790000000.123456000;apps/hello:N:PlatformBuilding:arm64@1790000000.123456000;"
		"apps/hello:W:PlatformFailed:exit 1@1790000000.123456000;");
	assert_int_equal(counts(s).written, 3);
	assert_int_equal(counts(s).dropped, 0);
	ctl_event_sink_stop(s);
	fake_destroy(&api);
}

/* A full queue drops new Events and counts them; what was queued is still written. */
static void test_full_queue_drops(void **state)
{
	struct fake_api api;
	struct ctl_event_sink *s;
	struct ctl_event ev = event("Merging", "m", false);
	(void)state;

	fake_init(&api, true);
	s = ctl_event_sink_start(2, 1, fake_write, NULL, &api);
	assert_true(ctl_event_sink_post(s, &ev));
	sem_wait(&api.entered); /* taken off the queue: two places left */
	assert_true(ctl_event_sink_post(s, &ev));
	assert_true(ctl_event_sink_post(s, &ev));
	assert_false(ctl_event_sink_post(s, &ev));
	assert_false(ctl_event_sink_post(s, &ev));
	assert_int_equal(counts(s).dropped, 2);
	for (int i = 0; i < 3; i++)
		sem_post(&api.allow);
	assert_true(ctl_event_sink_drain(s, 10));
	assert_int_equal(counts(s).written, 3);
	ctl_event_sink_stop(s);
	fake_destroy(&api);
}

/* A refused write is reported with its message and counted as dropped. */
static void test_failed_write_is_reported(void **state)
{
	struct fake_api api;
	struct ctl_event_sink *s;
	struct ctl_event ev = event("Succeeded", "done", false);
	(void)state;

	fake_init(&api, false);
	api.fail = true;
	s = ctl_event_sink_start(0, 1, fake_write, fake_failed, &api);
	assert_true(ctl_event_sink_post(s, &ev));
	assert_true(ctl_event_sink_drain(s, 10));
	assert_string_equal(api.failures, "Succeeded=refused Succeeded;");
	assert_int_equal(counts(s).written, 0);
	assert_int_equal(counts(s).dropped, 1);
	ctl_event_sink_stop(s);
	fake_destroy(&api);
}

static void *allow_later(void *arg)
{
	struct fake_api *api = arg;
	struct timespec pause = {0, 200000000L};

	nanosleep(&pause, NULL);
	sem_post(&api->allow);
	return NULL;
}

/* Stop lets the write under way end and starts no other: the rest is dropped. */
static void test_stop_drops_the_rest(void **state)
{
	struct fake_api api;
	struct ctl_event_sink *s;
	struct ctl_event ev = event("Restarted", "r", false);
	pthread_t helper;
	(void)state;

	fake_init(&api, true);
	s = ctl_event_sink_start(0, 1, fake_write, NULL, &api);
	for (int i = 0; i < 4; i++)
		assert_true(ctl_event_sink_post(s, &ev));
	sem_wait(&api.entered);
	assert_int_equal(pthread_create(&helper, NULL, allow_later, &api), 0);
	ctl_event_sink_stop(s); /* returns once the hanging write is let go, 200 ms from now */
	pthread_join(helper, NULL);
	assert_string_equal(api.written, "apps/hello:N:Restarted:r@1790000000.123456000;");
	assert_int_equal(sem_trywait(&api.entered), -1); /* no second write started */
	fake_destroy(&api);
}

/* Several writers write at once: every Event once, the pending count back to zero. */
static void test_writers_at_once(void **state)
{
	struct fake_api api;
	struct ctl_event_sink *s;
	char note[24];
	struct ctl_event ev;
	(void)state;

	assert_null(ctl_event_sink_start(0, 0, fake_write, NULL, &api));
	assert_null(ctl_event_sink_start(0, CTL_EVENT_WRITERS_MAX + 1, fake_write, NULL, &api));
	fake_init(&api, true);
	s = ctl_event_sink_start(0, 3, fake_write, NULL, &api);
	for (int i = 0; i < 9; i++) {
		snprintf(note, sizeof(note), "n%d", i);
		assert_true(ctl_event_sink_post(s, (ev = event("Merging", note, false), &ev)));
	}
	for (int i = 0; i < 3; i++)
		sem_wait(&api.entered); /* three writes hang at once */
	assert_int_equal(counts(s).pending, 9);
	for (int i = 0; i < 9; i++)
		sem_post(&api.allow);
	assert_true(ctl_event_sink_drain(s, 10));
	assert_int_equal(counts(s).pending, 0);
	assert_int_equal(counts(s).written, 9);
	for (int i = 0; i < 9; i++) {
		snprintf(note, sizeof(note), ":n%d@", i);
		assert_non_null(strstr(api.written, note));
	}
	ctl_event_sink_stop(s);
	fake_destroy(&api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_does_not_wait_and_keeps_order),
		cmocka_unit_test(test_full_queue_drops),
		cmocka_unit_test(test_failed_write_is_reported),
		cmocka_unit_test(test_stop_drops_the_rest),
		cmocka_unit_test(test_writers_at_once),
	};
	return cmocka_run_group_tests_name("eventsink", tests, NULL, NULL);
}
