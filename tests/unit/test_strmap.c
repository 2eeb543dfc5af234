/* Unit tests for util/strmap: put, get, replace, remove with tombstones, growth, and iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/strmap.h"
#include "util/banned.h"

static void count_entry(void *ctx, const char *key, void *value)
{
	(void)key;
	(void)value;
	(*(size_t *)ctx)++;
}

static void test_basic_operations(void **state)
{
	struct strmap m;
	int a = 1, b = 2;
	bool found;
	(void)state;

	strmap_init(&m);
	assert_null(strmap_get(&m, "x", &found));
	assert_false(found);
	assert_true(strmap_put(&m, "ns/a", &a));
	assert_true(strmap_put(&m, "ns/b", NULL));
	assert_ptr_equal(strmap_get(&m, "ns/a", NULL), &a);
	assert_null(strmap_get(&m, "ns/b", &found));
	assert_true(found);
	assert_true(strmap_put(&m, "ns/a", &b));
	assert_ptr_equal(strmap_get(&m, "ns/a", NULL), &b);
	assert_int_equal(m.count, 2);
	assert_ptr_equal(strmap_remove(&m, "ns/a"), &b);
	assert_null(strmap_remove(&m, "ns/a"));
	assert_int_equal(m.count, 1);
	strmap_free(&m);
	strmap_free(NULL);
}

/* Counts the calls in ctx[0] and matches the value equal to ctx[1]. */
static bool count_until(void *ctx, const char *key, void *value)
{
	int *c = ctx;
	(void)key;
	c[0]++;
	return *(int *)value == c[1];
}

/* strmap_any stops at the first match and asks every entry when none matches. */
static void test_any_stops_at_a_match(void **state)
{
	static int numbers[100];
	struct strmap m;
	char key[32];
	int ask[2] = {0, -1};
	(void)state;

	strmap_init(&m);
	assert_false(strmap_any(&m, count_until, ask));
	for (int i = 0; i < 100; i++) {
		numbers[i] = i;
		snprintf(key, sizeof(key), "nodes/%d", i);
		assert_true(strmap_put(&m, key, &numbers[i]));
	}
	assert_false(strmap_any(&m, count_until, ask));
	assert_int_equal(ask[0], 100);
	ask[0] = 0;
	ask[1] = 42;
	assert_true(strmap_any(&m, count_until, ask));
	assert_in_range(ask[0], 1, 100);
	/* with every value matching, the first entry asked answers */
	for (int i = 0; i < 100; i++)
		numbers[i] = 0;
	ask[0] = 0;
	ask[1] = 0;
	assert_true(strmap_any(&m, count_until, ask));
	assert_int_equal(ask[0], 1);
	strmap_free(&m);
}

static int values[20000];

static void test_many_keys_and_churn(void **state)
{
	struct strmap m;
	char key[32];
	size_t n = 0;
	(void)state;

	strmap_init(&m);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "apps/build-%d", i);
		values[i] = i + 1;
		assert_true(strmap_put(&m, key, &values[i]));
	}
	assert_int_equal(m.count, 20000);
	for (int i = 0; i < 20000; i += 2) {
		snprintf(key, sizeof(key), "apps/build-%d", i);
		assert_int_equal(*(int *)strmap_remove(&m, key), i + 1);
	}
	/* churn through tombstones: the table must not fill up */
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < 10000; i++) {
			snprintf(key, sizeof(key), "tmp/%d", i);
			assert_true(strmap_put(&m, key, NULL));
			strmap_remove(&m, key);
		}
	for (int i = 1; i < 20000; i += 2) {
		snprintf(key, sizeof(key), "apps/build-%d", i);
		assert_int_equal(*(int *)strmap_get(&m, key, NULL), i + 1);
	}
	strmap_each(&m, count_entry, &n);
	assert_int_equal(n, 10000);
	assert_true(m.cap < 65536);
	strmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_operations),
		cmocka_unit_test(test_many_keys_and_churn),
		cmocka_unit_test(test_any_stops_at_a_match),
	};
	return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
