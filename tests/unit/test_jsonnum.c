/* Unit tests for util/jsonnum: whole numbers in range are read; fractions, huge values, NaN and non-numbers are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/jsonnum.h"
#include "util/banned.h"

/* Reads the JSON text as one value and applies json_whole_number with [lo, hi]. */
static bool read_whole(const char *text, long lo, long hi, long *out)
{
	cJSON *v = cJSON_Parse(text);
	bool ok;

	assert_non_null(v);
	ok = json_whole_number(v, lo, hi, out);
	cJSON_Delete(v);
	return ok;
}

static void test_whole_numbers_in_range(void **state)
{
	long n = -7;
	(void)state;

	assert_true(read_whole("0", 0, 10, &n));
	assert_int_equal(n, 0);
	assert_true(read_whole("10", 0, 10, &n));
	assert_int_equal(n, 10);
	assert_true(read_whole("-3", -5, 5, &n));
	assert_int_equal(n, -3);
	assert_true(read_whole("1e3", 0, 5000, &n));
	assert_int_equal(n, 1000);
	assert_true(read_whole("9007199254740992", 0, JSON_WHOLE_MAX, &n));
	assert_int_equal(n, JSON_WHOLE_MAX);
}

static void test_everything_else_is_refused_and_leaves_out_alone(void **state)
{
	static const char *const refused[] = {"11", "-1", "2.5", "1e70", "-1e300", "1.44444e+100", "\"3\"", "true", "null", "[1]", "{}"};
	cJSON *nan;
	long n = 42;
	(void)state;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_false(read_whole(refused[i], 0, 10, &n));
		assert_int_equal(n, 42);
	}
	assert_false(json_whole_number(NULL, 0, 10, &n));
	nan = cJSON_CreateNumber(0.0 / 0.0);
	assert_false(json_whole_number(nan, 0, 10, &n));
	cJSON_Delete(nan);
	assert_int_equal(n, 42);
}

static void test_fallback(void **state)
{
	cJSON *v = cJSON_Parse("1e70");
	(void)state;

	assert_int_equal(json_whole_number_or(v, 0, JSON_WHOLE_MAX, -1), -1);
	assert_int_equal(json_whole_number_or(NULL, 0, 10, 2), 2);
	cJSON_Delete(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_numbers_in_range),
		cmocka_unit_test(test_everything_else_is_refused_and_leaves_out_alone),
		cmocka_unit_test(test_fallback),
	};

	return cmocka_run_group_tests_name("jsonnum", tests, NULL, NULL);
}
