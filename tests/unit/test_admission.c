/* Unit tests for controller/admission: the bound on builds in flight, the line of builds waiting to start, slots
 * handed on in order, builds found under way, and builds gone while they wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/admission.h"
#include "util/keyfifo.h"
#include "util/banned.h"

static void assert_counts(struct ctl_admission *a, size_t in_flight, size_t waiting)
{
	size_t max, held, queued;

	ctl_admission_counts(a, &max, &held, &queued);
	assert_int_equal(held, in_flight);
	assert_int_equal(queued, waiting);
}

/* Releases key and checks which key its slot went to (NULL: none). */
static void assert_released_to(struct ctl_admission *a, const char *key, const char *want)
{
	char *next = ctl_admission_release(a, key);

	if (want) {
		assert_non_null(next);
		assert_string_equal(next, want);
	} else {
		assert_null(next);
	}
	free(next);
}

static void test_bound_and_line(void **state)
{
	struct ctl_admission *a = ctl_admission_new(2);
	(void)state;

	assert_true(ctl_admission_try(a, "ns/a"));
	assert_true(ctl_admission_try(a, "ns/a")); /* asked again: still its slot */
	assert_true(ctl_admission_try(a, "ns/b"));
	assert_false(ctl_admission_try(a, "ns/c"));
	assert_false(ctl_admission_try(a, "ns/d"));
	assert_false(ctl_admission_try(a, "ns/c")); /* in line once */
	assert_counts(a, 2, 2);
	assert_false(ctl_admission_holds(a, "ns/c"));
	assert_released_to(a, "ns/a", "ns/c"); /* oldest first */
	assert_true(ctl_admission_holds(a, "ns/c"));
	assert_true(ctl_admission_try(a, "ns/c"));
	assert_false(ctl_admission_try(a, "ns/e")); /* behind ns/d, though nobody was let in meanwhile */
	assert_counts(a, 2, 2);
	assert_released_to(a, "ns/nobody", NULL); /* held nothing: frees nothing */
	assert_released_to(a, "ns/b", "ns/d");
	assert_released_to(a, "ns/d", "ns/e");
	assert_released_to(a, "ns/e", NULL);
	assert_released_to(a, "ns/c", NULL);
	assert_counts(a, 0, 0);
	assert_true(ctl_admission_try(a, "ns/f"));
	ctl_admission_free(a);
}

/* A build found under way counts whatever the bound; a slot freed while over the bound goes to nobody. A build gone
 * while it waits leaves the line, and the next one gets the slot. */
static void test_under_way_and_gone(void **state)
{
	struct ctl_admission *a = ctl_admission_new(1);
	(void)state;

	assert_true(ctl_admission_try(a, "ns/a"));
	assert_false(ctl_admission_try(a, "ns/w"));
	assert_true(ctl_admission_hold(a, "ns/running")); /* over the bound */
	assert_counts(a, 2, 1);
	assert_released_to(a, "ns/a", NULL); /* one still in flight: the bound is reached */
	assert_false(ctl_admission_try(a, "ns/x"));
	assert_false(ctl_admission_try(a, "ns/y"));
	assert_released_to(a, "ns/w", NULL); /* gone while waiting: frees no slot */
	assert_counts(a, 1, 2);
	assert_released_to(a, "ns/running", "ns/x"); /* ns/w is skipped */
	assert_false(ctl_admission_try(a, "ns/w"));  /* back: at the end of the line */
	assert_released_to(a, "ns/x", "ns/y");
	assert_true(ctl_admission_hold(a, "ns/w")); /* found under way while waiting: out of the line */
	assert_counts(a, 2, 0);
	assert_released_to(a, "ns/y", NULL);
	assert_released_to(a, "ns/w", NULL);
	ctl_admission_free(a);
}

/* No bound: every build starts at once, and many keys are held and given back. */
static void test_no_bound(void **state)
{
	struct ctl_admission *a = ctl_admission_new(0);
	char key[32];
	(void)state;

	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "ns/b-%d", i);
		assert_true(ctl_admission_try(a, key));
	}
	assert_counts(a, 3000, 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "ns/b-%d", i);
		assert_released_to(a, key, NULL);
	}
	assert_counts(a, 0, 0);
	ctl_admission_free(a);
}

/* The key fifo under the line: oldest first across growth and wrap-around, owned keys freed with it. */
static void test_key_fifo(void **state)
{
	struct key_fifo f = {0};
	char key[16], *k;
	int next = 0;
	(void)state;

	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 50; i++) {
			snprintf(key, sizeof(key), "k%d", round * 50 + i);
			assert_true(key_fifo_push(&f, key));
		}
		for (int i = 0; i < 30; i++, next++) {
			snprintf(key, sizeof(key), "k%d", next);
			k = key_fifo_pop(&f);
			assert_non_null(k);
			assert_string_equal(k, key);
			free(k);
		}
	}
	assert_int_equal(f.len, 100);
	k = strdup("owned");
	assert_non_null(k);
	assert_true(key_fifo_push_owned(&f, k));
	key_fifo_free(&f);
	assert_null(key_fifo_pop(&f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_and_line),
		cmocka_unit_test(test_under_way_and_gone),
		cmocka_unit_test(test_no_bound),
		cmocka_unit_test(test_key_fifo),
	};
	return cmocka_run_group_tests_name("admission", tests, NULL, NULL);
}
