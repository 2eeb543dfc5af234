/* Unit tests for util/yamljson: YAML as kubectl reads it, with bounded depth and bounded alias expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/yamljson.h"
#include "util/banned.h"

/* text nested n levels deep as flow sequences: "x: [[[...]]]" */
static char *nested(int n)
{
	char *s = malloc((size_t)n * 2 + 8);
	size_t at = 0;

	assert_non_null(s);
	at += (size_t)snprintf(s, 8, "x: ");
	for (int i = 0; i < n; i++)
		s[at++] = '[';
	for (int i = 0; i < n; i++)
		s[at++] = ']';
	s[at] = '\0';
	return s;
}

static void test_depth_is_refused_before_loading(void **state)
{
	char err[256];
	char *ok = nested(YAMLJSON_DEPTH_MAX - 1), *deep = nested(200000);
	cJSON *j;
	(void)state;

	j = yaml_to_json(ok, strlen(ok), err, sizeof(err));
	assert_non_null(j);
	cJSON_Delete(j);
	assert_null(yaml_to_json(deep, strlen(deep), err, sizeof(err)));
	assert_non_null(strstr(err, "nested deeper than 64 levels"));
	free(ok);
	free(deep);
}

/* Nine levels of nine aliases: 324 bytes that stand for 9^9 nodes. */
static void test_alias_expansion_is_bounded(void **state)
{
	static const char bomb[] =
		"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	static const char fine[] = "base: &base {cpu: 1, memory: 1Gi}\nrequests: *base\nlimits: *base\n";
	char err[256];
	cJSON *j;
	(void)state;

	assert_null(yaml_to_json(bomb, sizeof(bomb) - 1, err, sizeof(err)));
	assert_non_null(strstr(err, "aliases expand to more than"));
	/* an alias used as manifests use them is read as before */
	j = yaml_to_json(fine, sizeof(fine) - 1, err, sizeof(err));
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "limits"), "memory")->valuestring, "1Gi");
	cJSON_Delete(j);
}

static void test_kubectl_scalars(void **state)
{
	static const char text[] = "a: yes\nb: off\nc: 12\nd: '12'\ne: ~\nf: 1:30\n";
	char err[256];
	cJSON *j;
	(void)state;

	j = yaml_to_json(text, sizeof(text) - 1, err, sizeof(err));
	assert_non_null(j);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "a")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "b")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "c")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "d")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "e")));
	assert_string_equal(cJSON_GetObjectItem(j, "f")->valuestring, "1:30");
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_is_refused_before_loading),
		cmocka_unit_test(test_alias_expansion_is_bounded),
		cmocka_unit_test(test_kubectl_scalars),
	};
	return cmocka_run_group_tests_name("yamljson", tests, NULL, NULL);
}
