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
	};
	return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
