/* Unit tests for controller/inflight: answers kept for a key's next run, resuming after the last answer whether it
 * comes before or after the run ends, Events held until the status write succeeds, the tally, waiting for idle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/inflight.h"
#include "util/banned.h"

struct posted {
	char reasons[256];
	char uid[64];
};

static void record_post(void *ctx, const char *key, const char *uid, const struct ctl_held_event *ev)
{
	struct posted *p = ctx;
	size_t n = strlen(p->reasons);

	assert_string_equal(key, "apps/hello");
	snprintf(p->reasons + n, sizeof(p->reasons) - n, "%s ", ev->reason);
	snprintf(p->uid, sizeof(p->uid), "%s", uid);
}

/* What a run holds: the Events named (space-separated) and deletes of the pods named. */
static void hold(struct ctl_held *h, const char *reasons, const char *pods)
{
	char copy[256], *save = NULL;

	memset(h, 0, sizeof(*h));
	snprintf(copy, sizeof(copy), "%s", reasons);
	for (char *r = strtok_r(copy, " ", &save); r; r = strtok_r(NULL, " ", &save))
		snprintf(h->events[h->event_count++].reason, sizeof(h->events[0].reason), "%s", r);
	snprintf(copy, sizeof(copy), "%s", pods);
	for (char *p = strtok_r(copy, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		struct ctl_held_delete *d = &h->deletes[h->delete_count++];
		snprintf(d->kind, sizeof(d->kind), "Pod");
		d->object = strdup(p);
	}
}

static void test_answers_resume_and_tally(void **state)
{
	struct posted p = {"", ""};
	struct ctl_inflight *f = ctl_inflight_new(record_post, &p);
	struct ctl_write_tally tally = {0, 0, false};
	struct ctl_held held;
	enum ctl_write res;
	char err[64];
	(void)state;

	/* two creates sent; one answered before the run ends, the other after: the last answer resumes */
	assert_true(ctl_inflight_sent(f, "apps/hello", false));
	assert_true(ctl_inflight_sent(f, "apps/hello", false));
	assert_int_equal(ctl_inflight_count(f), 2);
	assert_false(ctl_inflight_answered(f, "apps/hello", "POST /pods a", CTL_WRITE_OK, "", CTL_WRITE_KIND_CREATE));
	hold(&held, "", "");
	assert_false(ctl_inflight_seal(f, "apps/hello", "u-1", &held));
	assert_true(ctl_inflight_answered(f, "apps/hello", "POST /pods b", CTL_WRITE_REFUSED, "invalid", CTL_WRITE_KIND_CREATE));
	assert_int_equal(ctl_inflight_count(f), 0);
	assert_true(ctl_inflight_wait_idle(f, 0.1));
	/* the next run reads each answer as the write would have come to */
	assert_true(ctl_inflight_lookup(f, "apps/hello", "POST /pods b", &res, err, sizeof(err)));
	assert_int_equal(res, CTL_WRITE_REFUSED);
	assert_string_equal(err, "invalid");
	assert_false(ctl_inflight_lookup(f, "apps/hello", "POST /pods c", &res, err, sizeof(err)));
	assert_false(ctl_inflight_lookup(f, "apps/other", "POST /pods a", &res, err, sizeof(err)));
	/* all answered before the run ends: the seal itself says resume */
	assert_true(ctl_inflight_sent(f, "apps/hello", false));
	assert_false(ctl_inflight_answered(f, "apps/hello", "DELETE /pods x", CTL_WRITE_OK, "", CTL_WRITE_KIND_DELETE));
	hold(&held, "", "");
	assert_true(ctl_inflight_seal(f, "apps/hello", "u-1", &held));
	/* a run that sends nothing ends the session: the tally of all its runs, the answers forgotten */
	ctl_inflight_finish(f, "apps/hello", &tally);
	assert_int_equal(tally.creates, 1);
	assert_int_equal(tally.deletes, 1);
	assert_false(tally.status_written);
	assert_false(ctl_inflight_lookup(f, "apps/hello", "POST /pods a", &res, err, sizeof(err)));
	assert_string_equal(p.reasons, "");
	ctl_inflight_free(f);
}

static void test_events_and_deletes_wait_for_their_status_write(void **state)
{
	struct posted p = {"", ""};
	struct ctl_inflight *f = ctl_inflight_new(record_post, &p);
	struct ctl_write_tally tally = {0, 0, false};
	struct ctl_held_delete ready[CTL_HELD_DELETES_MAX];
	struct ctl_held held;
	(void)state;

	/* answered after the run ended: the Events posted with the answer, the delete handed to the next run */
	assert_true(ctl_inflight_sent(f, "apps/hello", true));
	hold(&held, "Succeeded PlatformFailed", "pod-a");
	assert_false(ctl_inflight_seal(f, "apps/hello", "u-1", &held));
	assert_int_equal(held.delete_count, 0); /* the session took it */
	assert_string_equal(p.reasons, "");
	assert_int_equal(ctl_inflight_take_deletes(f, "apps/hello", ready, CTL_HELD_DELETES_MAX), 0); /* not before the answer */
	assert_true(ctl_inflight_answered(f, "apps/hello", "PATCH /status #1", CTL_WRITE_OK, "", CTL_WRITE_KIND_STATUS));
	assert_string_equal(p.reasons, "Succeeded PlatformFailed ");
	assert_string_equal(p.uid, "u-1");
	assert_int_equal(ctl_inflight_take_deletes(f, "apps/hello", ready, CTL_HELD_DELETES_MAX), 1);
	assert_string_equal(ready[0].object, "pod-a");
	free(ready[0].object);
	assert_int_equal(ctl_inflight_take_deletes(f, "apps/hello", ready, CTL_HELD_DELETES_MAX), 0); /* once */
	/* answered before the run ended: posted and handed over at the seal */
	p.reasons[0] = '\0';
	assert_true(ctl_inflight_sent(f, "apps/hello", true));
	assert_false(ctl_inflight_answered(f, "apps/hello", "PATCH /status #2", CTL_WRITE_OK, "", CTL_WRITE_KIND_STATUS));
	hold(&held, "Succeeded", "pod-b");
	assert_true(ctl_inflight_seal(f, "apps/hello", "u-1", &held));
	assert_string_equal(p.reasons, "Succeeded ");
	assert_int_equal(ctl_inflight_take_deletes(f, "apps/hello", ready, CTL_HELD_DELETES_MAX), 1);
	free(ready[0].object);
	/* a status write that failed: its Events and deletes are dropped (the retry makes them again) */
	p.reasons[0] = '\0';
	assert_true(ctl_inflight_sent(f, "apps/hello", true));
	hold(&held, "Succeeded PlatformFailed", "pod-c pod-d");
	assert_false(ctl_inflight_seal(f, "apps/hello", "u-1", &held));
	assert_true(ctl_inflight_answered(f, "apps/hello", "PATCH /status #3", CTL_WRITE_CONFLICT, "modified", CTL_WRITE_KIND_STATUS));
	assert_string_equal(p.reasons, "");
	assert_int_equal(ctl_inflight_take_deletes(f, "apps/hello", ready, CTL_HELD_DELETES_MAX), 0);
	ctl_inflight_finish(f, "apps/hello", &tally);
	assert_true(tally.status_written);
	/* held by a session that ends with the controller: freed with it (the sanitizers check) */
	assert_true(ctl_inflight_sent(f, "apps/other", true));
	hold(&held, "", "pod-e");
	assert_false(ctl_inflight_seal(f, "apps/other", "u-2", &held));
	assert_true(ctl_inflight_answered(f, "apps/other", "PATCH /status #4", CTL_WRITE_OK, "", CTL_WRITE_KIND_STATUS));
	ctl_inflight_free(f);
}

static void test_wait_idle_times_out_with_writes_in_flight(void **state)
{
	struct ctl_inflight *f = ctl_inflight_new(NULL, NULL);
	struct ctl_write_tally tally = {0, 0, false};
	(void)state;

	assert_true(ctl_inflight_sent(f, "apps/hello", false));
	assert_false(ctl_inflight_wait_idle(f, 0.05));
	ctl_inflight_finish(f, "apps/hello", &tally); /* not with a write in flight: kept */
	assert_int_equal(ctl_inflight_count(f), 1);
	assert_false(ctl_inflight_answered(f, "apps/hello", "POST /jobs j", CTL_WRITE_FAILED, "down", CTL_WRITE_KIND_CREATE));
	assert_true(ctl_inflight_wait_idle(f, 0.05));
	ctl_inflight_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_resume_and_tally),
		cmocka_unit_test(test_events_and_deletes_wait_for_their_status_write),
		cmocka_unit_test(test_wait_idle_times_out_with_writes_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
