/* Unit tests for controller/phases, controller/labels and util/text: one spelling per phase and reason, read back
 * exactly; labels read as numbers only when whole; text cut to its buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/labels.h"
#include "controller/phases.h"
#include "util/text.h"
#include "util/banned.h"

static void test_every_phase_reads_back(void **state)
{
	(void)state;
	for (int p = CTL_PHASE_PENDING; p <= CTL_PHASE_FAILED; p++) {
		const char *name = ctl_phase_name((enum ctl_phase)p);
		assert_true(name[0] != '\0');
		assert_int_equal(ctl_phase_parse(name), p);
	}
	assert_string_equal(ctl_phase_name(CTL_PHASE_MERGING), "Merging");
	assert_string_equal(ctl_phase_name(CTL_PHASE_NONE), "");
	assert_string_equal(ctl_phase_name((enum ctl_phase)99), "");
	assert_int_equal(ctl_phase_parse(NULL), CTL_PHASE_NONE);
	assert_int_equal(ctl_phase_parse("building"), CTL_PHASE_NONE); /* the API's spelling only */
	assert_int_equal(ctl_phase_parse(""), CTL_PHASE_NONE);
	assert_true(ctl_phase_final(CTL_PHASE_SUCCEEDED) && ctl_phase_final(CTL_PHASE_FAILED));
	assert_false(ctl_phase_final(CTL_PHASE_MERGING) || ctl_phase_final(CTL_PHASE_NONE));
}

static void test_every_reason_reads_back(void **state)
{
	(void)state;
	for (int r = CTL_REASON_NO_MATCHING_NODES; r <= CTL_REASON_BUILDING; r++) {
		const char *name = ctl_reason_name((enum ctl_reason)r);
		assert_true(name[0] != '\0');
		assert_int_equal(ctl_reason_parse(name), r);
	}
	assert_string_equal(ctl_reason_name(CTL_REASON_RETRIES_EXHAUSTED), "RetriesExhausted");
	assert_int_equal(ctl_reason_parse("Evicted"), CTL_REASON_NONE);
	assert_int_equal(ctl_reason_of_progress(CTL_PHASE_PENDING, true), CTL_REASON_WAITING_FOR_NODES);
	assert_int_equal(ctl_reason_of_progress(CTL_PHASE_PENDING, false), CTL_REASON_PENDING);
	assert_int_equal(ctl_reason_of_progress(CTL_PHASE_MERGING, false), CTL_REASON_MERGING);
	assert_int_equal(ctl_reason_of_progress(CTL_PHASE_BUILDING, true), CTL_REASON_BUILDING);
}

static void test_labels_as_numbers(void **state)
{
	cJSON *pod =
		cJSON_Parse("{\"metadata\":{\"labels\":{\"a\":\"12\",\"b\":\"1x\",\"c\":\"\",\"d\":\"99999999999999999999999\",\"e\":7}}}");
	(void)state;

	assert_non_null(pod);
	assert_string_equal(ctl_label(pod, "a"), "12");
	assert_int_equal(ctl_label_number(pod, "a"), 12);
	assert_int_equal(ctl_label_number(pod, "b"), -1);
	assert_int_equal(ctl_label_number(pod, "c"), -1);
	assert_int_equal(ctl_label_number(pod, "d"), -1); /* out of range */
	assert_null(ctl_label(pod, "e"));                 /* not a string */
	assert_int_equal(ctl_label_number(pod, "missing"), -1);
	assert_null(ctl_label(NULL, "a"));
	cJSON_Delete(pod);
}

static void test_text_is_cut_to_fit(void **state)
{
	char small[6];
	(void)state;

	text_copy(small, sizeof(small), "abcdefgh");
	assert_string_equal(small, "abcde");
	text_copy(small, sizeof(small), NULL);
	assert_string_equal(small, "");
	text_format(small, sizeof(small), "%d-%s", 42, "xyz");
	assert_string_equal(small, "42-xy");
	text_copy(small, 0, "untouched"); /* nothing written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_phase_reads_back),
		cmocka_unit_test(test_every_reason_reads_back),
		cmocka_unit_test(test_labels_as_numbers),
		cmocka_unit_test(test_text_is_cut_to_fit),
	};
	return cmocka_run_group_tests_name("phases", tests, NULL, NULL);
}
