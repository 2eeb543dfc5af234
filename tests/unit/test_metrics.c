/* Unit tests for controller/metrics and controller/procmetrics: labelled families count what no longer fits in an
 * "other" series, the controller-runtime families add up, and /proc/self/stat is read field by field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/metrics.h"
#include "controller/procmetrics.h"
#include "util/banned.h"

static void test_overflow_is_counted_as_other(void **state)
{
	struct ctl_metrics m;
	struct dynbuf out;
	(void)state;

	ctl_metrics_init(&m);
	for (long code = 100; code < 100 + CTL_METRIC_SERIES_MAX + 6; code++)
		ctl_metrics_api(&m, "GET", code);
	for (int i = 0; i < CTL_METRIC_SERIES_MAX + 2; i++) {
		char platform[40];
		snprintf(platform, sizeof(platform), "linux/arch%d", i);
		ctl_metrics_build(&m, platform, 1);
	}
	dynbuf_init(&out, 1 << 20);
	assert_true(ctl_metrics_render(&m, &out));
	/* 63 named series, then "other" with the remaining 7 requests and 3 builds */
	assert_non_null(strstr(dynbuf_str(&out), "multiarch_api_requests_total{method=\"GET\",code=\"162\"} 1\n"));
	assert_null(strstr(dynbuf_str(&out), "code=\"163\""));
	assert_non_null(strstr(dynbuf_str(&out), "multiarch_api_requests_total{method=\"other\",code=\"0\"} 7\n"));
	assert_non_null(strstr(dynbuf_str(&out), "multiarch_platform_build_duration_seconds_count{platform=\"other\"} 3\n"));
	dynbuf_free(&out);
	ctl_metrics_destroy(&m);
}

static void test_controller_runtime_results(void **state)
{
	struct ctl_metrics m;
	struct dynbuf out;
	(void)state;

	ctl_metrics_init(&m);
	atomic_store(&m.reconciles, 10);
	atomic_store(&m.reconcile_errors, 2);
	atomic_store(&m.reconcile_requeues_after, 3);
	dynbuf_init(&out, 1 << 20);
	assert_true(ctl_metrics_render(&m, &out));
	assert_non_null(
		strstr(dynbuf_str(&out), "controller_runtime_reconcile_total{controller=\"multiarchbuild\",result=\"success\"} 5\n"));
	assert_non_null(strstr(dynbuf_str(&out), "controller_runtime_reconcile_total{controller=\"multiarchbuild\",result=\"error\"} 2\n"));
	assert_non_null(
		strstr(dynbuf_str(&out), "controller_runtime_reconcile_total{controller=\"multiarchbuild\",result=\"requeue_after\"} 3\n"));
	assert_non_null(strstr(dynbuf_str(&out), "controller_runtime_reconcile_errors_total{controller=\"multiarchbuild\"} 2\n"));
	dynbuf_free(&out);
	ctl_metrics_destroy(&m);
}

static void test_finished_builds(void **state)
{
	struct ctl_metrics m;
	struct dynbuf out;
	cJSON *building = cJSON_Parse("{\"spec\":{\"builder\":{\"type\":\"kaniko\"}},\"status\":{\"phase\":\"Building\"}}");
	cJSON *done = cJSON_Parse("{\"spec\":{},\"status\":{\"phase\":\"Merging\"}}");
	cJSON *failed = cJSON_Parse("{\"phase\":\"Failed\"}"), *succeeded = cJSON_Parse("{\"phase\":\"Succeeded\"}");
	(void)state;

	ctl_metrics_init(&m);
	ctl_metrics_status_written(&m, building, failed);
	ctl_metrics_status_written(&m, done, succeeded);
	cJSON_ReplaceItemInObject(done, "status", cJSON_Duplicate(succeeded, true));
	ctl_metrics_status_written(&m, done, succeeded); /* no change of phase: not counted again */
	dynbuf_init(&out, 1 << 20);
	assert_true(ctl_metrics_render(&m, &out));
	assert_non_null(strstr(dynbuf_str(&out), "multiarch_builds_finished_total{result=\"Failed\",backend=\"kaniko\"} 1\n"));
	assert_non_null(strstr(dynbuf_str(&out), "multiarch_builds_finished_total{result=\"Succeeded\",backend=\"buildkit\"} 1\n"));
	assert_non_null(strstr(dynbuf_str(&out), "multiarch_builds_finished_total{result=\"Succeeded\",backend=\"kaniko\"} 0\n"));
	dynbuf_free(&out);
	cJSON_Delete(building);
	cJSON_Delete(done);
	cJSON_Delete(failed);
	cJSON_Delete(succeeded);
	ctl_metrics_destroy(&m);
}

static void test_proc_stat(void **state)
{
	struct ctl_proc_stat st;
	struct dynbuf out;
	(void)state;

	/* a command name with spaces and parentheses, negative priority and nice */
	assert_true(ctl_proc_stat_parse("42 (a (b) c) S 1 42 42 0 -1 4194560 500 0 0 0 120 30 0 0 -20 -5 3 0 9000 "
					"104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
					&st));
	assert_int_equal(st.utime_ticks, 120);
	assert_int_equal(st.stime_ticks, 30);
	assert_int_equal(st.start_ticks, 9000);
	assert_int_equal(st.vsize_bytes, 104857600);
	assert_int_equal(st.rss_pages, 2560);
	assert_false(ctl_proc_stat_parse("", &st));
	assert_false(ctl_proc_stat_parse("42 (no end S 1 2 3", &st));
	assert_false(ctl_proc_stat_parse("42 (short) S 1 2 3\n", &st));
	assert_false(ctl_proc_stat_parse("42 (x) S 1 2 3 4 5 6 7 8 9 10 eleven 12 13 14 15 16 17 18 19 20 21 22 23\n", &st));
	dynbuf_init(&out, 1 << 16);
	assert_true(ctl_process_metrics_render(&out));
	assert_non_null(strstr(dynbuf_str(&out), "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(dynbuf_str(&out), "\nprocess_open_fds "));
	assert_non_null(strstr(dynbuf_str(&out), "\nprocess_start_time_seconds "));
	dynbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_is_counted_as_other),
		cmocka_unit_test(test_controller_runtime_results),
		cmocka_unit_test(test_finished_builds),
		cmocka_unit_test(test_proc_stat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
