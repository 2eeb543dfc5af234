/* Unit tests for controller/naming: stable, short, distinct, DNS-label names for a build's children. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/naming.h"
#include "util/banned.h"

static void assert_dns_label(const char *s)
{
	size_t n = strlen(s);

	assert_true(n >= 1 && n <= 63);
	assert_true(s[0] != '-' && s[n - 1] != '-');
	for (size_t i = 0; i < n; i++)
		assert_true((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-');
}

static void test_short_names_are_readable(void **state)
{
	char name[64];
	(void)state;

	assert_true(ctl_pod_name(name, sizeof(name), "hello", "g3", "linux-arm64", 1));
	assert_string_equal(name, "hello-g3-linux-arm64-a1");
	assert_true(ctl_child_name(name, sizeof(name), "web.v2", "g12", "index"));
	assert_string_equal(name, "web-v2-g12-index");
	assert_true(ctl_pod_name(name, sizeof(name), "hello", "g3r8601ec8c", "linux-arm64", 1)); /* a requested round */
	assert_string_equal(name, "hello-g3r8601ec8c-linux-arm64-a1");
	assert_dns_label(name);
}

static void test_long_names_stay_stable_and_distinct(void **state)
{
	char a[64], b[64], c[64], again[64];
	const char *long_build = "a-very-long-multiarchbuild-name-that-a-team-chose-for-its-service-x";
	(void)state;

	assert_true(ctl_pod_name(a, sizeof(a), long_build, "g7", "linux-arm-v7", 1));
	assert_true(ctl_pod_name(b, sizeof(b), long_build, "g7", "linux-arm-v7", 2));
	assert_true(
		ctl_pod_name(c, sizeof(c), "a-very-long-multiarchbuild-name-that-a-team-chose-for-its-service-y", "g7", "linux-arm-v7", 1));
	assert_true(ctl_pod_name(again, sizeof(again), long_build, "g7", "linux-arm-v7", 1));
	assert_dns_label(a);
	assert_dns_label(b);
	assert_dns_label(c);
	assert_string_equal(a, again);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_non_null(strstr(a, "-g7-linux-arm-v7-a1-"));
}

static void test_cut_never_leaves_a_dash(void **state)
{
	char name[64], small[10];
	(void)state;

	/* a build name whose cut point falls on dashes */
	assert_true(
		ctl_child_name(name, sizeof(name), "abcdefghijklmnopqrstuvwxyz---------------------------------------x", "g1", "index"));
	assert_dns_label(name);
	assert_false(ctl_child_name(small, sizeof(small), "a", "g1", "index"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_names_are_readable),
		cmocka_unit_test(test_long_names_stay_stable_and_distinct),
		cmocka_unit_test(test_cut_never_leaves_a_dash),
	};
	return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
