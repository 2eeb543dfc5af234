/* Unit tests for controller/conditions: transitions keep their time, no-op sets change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/conditions.h"
#include "util/banned.h"

static const char *field(const cJSON *conditions, const char *type, const char *key)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, conditions)
		if (strcmp(cJSON_GetObjectItem(c, "type")->valuestring, type) == 0)
			return cJSON_GetObjectItem(c, key)->valuestring;
	return NULL;
}

static void test_set_keep_and_transition(void **state)
{
	cJSON *conds = cJSON_CreateArray();
	(void)state;

	assert_true(ctl_condition_set(conds, "Ready", "False", "Building", "2 platforms building", 1, "T1"));
	assert_string_equal(field(conds, "Ready", "lastTransitionTime"), "T1");
	assert_false(ctl_condition_set(conds, "Ready", "False", "Building", "2 platforms building", 1, "T2")); /* nothing new */
	assert_true(ctl_condition_set(conds, "Ready", "False", "Merging", "merging the index", 1, "T3"));
	assert_string_equal(field(conds, "Ready", "lastTransitionTime"), "T1"); /* same status: same transition time */
	assert_string_equal(field(conds, "Ready", "reason"), "Merging");
	assert_true(ctl_condition_set(conds, "Ready", "True", "Succeeded", "index pushed", 1, "T4"));
	assert_string_equal(field(conds, "Ready", "lastTransitionTime"), "T4");
	assert_true(ctl_condition_set(conds, "Ready", "True", "Succeeded", "index pushed", 2, "T5")); /* a new generation */
	assert_string_equal(field(conds, "Ready", "lastTransitionTime"), "T4");
	assert_true(ctl_condition_set(conds, "Stalled", "False", "Progressing", "", 2, "T6"));
	assert_int_equal(cJSON_GetArraySize(conds), 2);
	assert_string_equal(ctl_condition_status(conds, "Ready"), "True");
	assert_string_equal(ctl_condition_status(conds, "Stalled"), "False");
	assert_null(ctl_condition_status(conds, "Reconciling"));
	cJSON_Delete(conds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_keep_and_transition),
	};
	return cmocka_run_group_tests_name("conditions", tests, NULL, NULL);
}
