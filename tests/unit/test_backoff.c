/* Unit tests for util/backoff: exponential growth, the cap, and jitter staying in [delay/2, delay]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/backoff.h"
#include "util/banned.h"

static void test_growth_cap_and_jitter_bounds(void **state)
{
	uint64_t rng = 42;
	(void)state;

	for (int round = 0; round < 1000; round++) {
		unsigned want = 250;
		for (unsigned attempt = 0; attempt < 12; attempt++) {
			unsigned d = backoff_delay_ms(attempt, 250, 8000, &rng);
			assert_true(d >= want / 2);
			assert_true(d <= want);
			want = want * 2 > 8000 ? 8000 : want * 2;
		}
	}
	assert_int_equal(backoff_delay_ms(1000, 250, 8000, &rng) <= 8000, 1);
	assert_int_equal(backoff_delay_ms(0, 0, 0, &rng), 0);
}

static void test_jitter_spreads(void **state)
{
	uint64_t rng = rng_seed();
	unsigned lo = 1000, hi = 0;
	(void)state;

	for (int i = 0; i < 200; i++) {
		unsigned d = backoff_delay_ms(3, 100, 10000, &rng);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(hi - lo > 200); /* 400..800: not one fixed value */
}

static void test_rng_zero_state_recovers(void **state)
{
	uint64_t s = 0;
	(void)state;

	assert_true(rng_next(&s) != 0);
	assert_true(s != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_cap_and_jitter_bounds),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_rng_zero_state_recovers),
	};
	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
