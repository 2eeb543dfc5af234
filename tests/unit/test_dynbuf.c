/* Unit tests for util/dynbuf: growth, the hard cap, formatting, consume and take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/dynbuf.h"
#include "util/banned.h"

static void test_empty_buffer_reads_as_empty_string(void **state)
{
	struct dynbuf b;
	(void)state;

	dynbuf_init(&b, 16);
	assert_string_equal(dynbuf_str(&b), "");
	assert_int_equal(dynbuf_len(&b), 0);
	dynbuf_free(&b);
	dynbuf_free(NULL);
}

static void test_add_grows_and_keeps_nul(void **state)
{
	struct dynbuf b;
	char chunk[100];
	(void)state;

	memset(chunk, 'x', sizeof(chunk));
	dynbuf_init(&b, 10000);
	for (int i = 0; i < 50; i++)
		assert_int_equal(dynbuf_add(&b, chunk, sizeof(chunk)), DYNBUF_OK);
	assert_int_equal(dynbuf_len(&b), 5000);
	assert_int_equal(strlen(dynbuf_str(&b)), 5000);
	dynbuf_free(&b);
}

static void test_cap_is_enforced_and_nothing_appended(void **state)
{
	struct dynbuf b;
	(void)state;

	dynbuf_init(&b, 8);
	assert_int_equal(dynbuf_addstr(&b, "12345678"), DYNBUF_OK);
	assert_int_equal(dynbuf_addstr(&b, "9"), DYNBUF_TOO_BIG);
	assert_string_equal(dynbuf_str(&b), "12345678");
	dynbuf_reset(&b);
	assert_int_equal(dynbuf_addf(&b, "%d-%s", 42, "toolong"), DYNBUF_TOO_BIG);
	assert_int_equal(dynbuf_len(&b), 0);
	assert_int_equal(dynbuf_add(&b, "x", SIZE_MAX), DYNBUF_TOO_BIG);
	dynbuf_free(&b);
}

static void test_addf_formats(void **state)
{
	struct dynbuf b;
	(void)state;

	dynbuf_init(&b, 64);
	assert_int_equal(dynbuf_addf(&b, "%s/%s", "linux", "arm64"), DYNBUF_OK);
	assert_int_equal(dynbuf_addf(&b, ":%03d", 7), DYNBUF_OK);
	assert_string_equal(dynbuf_str(&b), "linux/arm64:007");
	dynbuf_free(&b);
}

static void test_consume_moves_the_rest_forward(void **state)
{
	struct dynbuf b;
	(void)state;

	dynbuf_init(&b, 64);
	assert_int_equal(dynbuf_addstr(&b, "line1\nline2\n"), DYNBUF_OK);
	dynbuf_consume(&b, 6);
	assert_string_equal(dynbuf_str(&b), "line2\n");
	dynbuf_consume(&b, 100);
	assert_string_equal(dynbuf_str(&b), "");
	assert_int_equal(dynbuf_len(&b), 0);
	dynbuf_free(&b);
}

static void test_take_hands_over_ownership(void **state)
{
	struct dynbuf b;
	size_t len = 99;
	char *s;
	(void)state;

	dynbuf_init(&b, 64);
	s = dynbuf_take(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	assert_int_equal(dynbuf_addstr(&b, "sha256:abc"), DYNBUF_OK);
	s = dynbuf_take(&b, &len);
	assert_string_equal(s, "sha256:abc");
	assert_int_equal(len, 10);
	assert_int_equal(dynbuf_len(&b), 0);
	assert_int_equal(b.max, 64);
	free(s);
	dynbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_buffer_reads_as_empty_string),   cmocka_unit_test(test_add_grows_and_keeps_nul),
		cmocka_unit_test(test_cap_is_enforced_and_nothing_appended), cmocka_unit_test(test_addf_formats),
		cmocka_unit_test(test_consume_moves_the_rest_forward),       cmocka_unit_test(test_take_hands_over_ownership),
	};
	return cmocka_run_group_tests_name("dynbuf", tests, NULL, NULL);
}
