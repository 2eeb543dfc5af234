/* Unit tests for the pure parts of kube/: Status decoding, paths and escaping, the rate limiter, lease decisions, timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kube/client.h"
#include "kube/error.h"
#include "kube/lease.h"
#include "kube/ratelimit.h"
#include "util/timefmt.h"
#include "util/banned.h"

static void test_status_bodies(void **state)
{
	struct kube_status st;
	const char *conflict =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"Operation cannot be fulfilled on "
		"configmaps \\\"a\\\": the object has been modified\",\"reason\":\"Conflict\",\"code\":409}";
	const char *throttled = "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"message\":\"slow "
				"down\",\"details\":{\"retryAfterSeconds\":3},\"code\":429}";
	(void)state;

	kube_status_parse(conflict, strlen(conflict), 409, &st);
	assert_int_equal(st.code, 409);
	assert_string_equal(st.reason, "Conflict");
	assert_non_null(strstr(st.message, "has been modified"));
	assert_int_equal(st.retry_after_s, -1);
	kube_status_parse(throttled, strlen(throttled), 429, &st);
	assert_int_equal(st.retry_after_s, 3);
	kube_status_parse("<html>\n502 Bad Gateway</html>", 29, 502, &st);
	assert_string_equal(st.reason, "");
	assert_string_equal(st.message, "<html> 502 Bad Gateway</html>");
	kube_status_parse(NULL, 0, 500, &st);
	assert_int_equal(st.code, 500);
}

static void test_http_codes_map_to_errors(void **state)
{
	(void)state;
	assert_int_equal(kube_err_from_http(200), KUBE_OK);
	assert_int_equal(kube_err_from_http(201), KUBE_OK);
	assert_int_equal(kube_err_from_http(401), KUBE_E_UNAUTHORIZED);
	assert_int_equal(kube_err_from_http(403), KUBE_E_FORBIDDEN);
	assert_int_equal(kube_err_from_http(404), KUBE_E_NOT_FOUND);
	assert_int_equal(kube_err_from_http(409), KUBE_E_CONFLICT);
	assert_int_equal(kube_err_from_http(410), KUBE_E_GONE);
	assert_int_equal(kube_err_from_http(422), KUBE_E_UNPROCESSABLE);
	assert_int_equal(kube_err_from_http(429), KUBE_E_TOO_MANY);
	assert_int_equal(kube_err_from_http(503), KUBE_E_SERVER);
	assert_int_equal(kube_err_from_http(418), KUBE_E_HTTP);
	assert_string_equal(kube_strerror(KUBE_E_GONE), "resource version too old");
}

static void test_paths_and_queries(void **state)
{
	char p[256], tiny[12];
	(void)state;

	assert_true(kube_path(p, sizeof(p), "", "v1", "apps", "pods", "web-0", "status"));
	assert_string_equal(p, "/api/v1/namespaces/apps/pods/web-0/status");
	assert_true(kube_path(p, sizeof(p), "multiarch.dev", "v1alpha1", NULL, "multiarchbuilds", NULL, NULL));
	assert_string_equal(p, "/apis/multiarch.dev/v1alpha1/multiarchbuilds");
	assert_true(kube_path(p, sizeof(p), NULL, "v1", "a b", "configmaps", "x/../y?z#w", NULL));
	assert_string_equal(p, "/api/v1/namespaces/a%20b/configmaps/x%2F..%2Fy%3Fz%23w");
	assert_false(kube_path(tiny, sizeof(tiny), "", "v1", "apps", "pods", NULL, NULL));
	assert_true(kube_query(p, sizeof(p), "labelSelector", "multiarch.dev/build=a,role in (b)"));
	assert_non_null(strstr(p, "?labelSelector=multiarch.dev%2Fbuild%3Da%2Crole%20in%20%28b%29"));
	assert_true(kube_query(p, sizeof(p), "limit", "500"));
	assert_non_null(strstr(p, "&limit=500"));
}

static void test_rate_limiter_arithmetic(void **state)
{
	struct kube_ratelimit rl;
	(void)state;

	kube_ratelimit_init(&rl, 10, 3); /* 10 per second, burst 3 */
	assert_true(kube_ratelimit_reserve(&rl, 100.0) == 0);
	assert_true(kube_ratelimit_reserve(&rl, 100.0) == 0);
	assert_true(kube_ratelimit_reserve(&rl, 100.0) == 0);
	assert_true(kube_ratelimit_reserve(&rl, 100.0) > 0.099 && kube_ratelimit_reserve(&rl, 100.0) > 0.199); /* queued */
	kube_ratelimit_destroy(&rl);
	kube_ratelimit_init(&rl, 10, 3);
	for (int i = 0; i < 3; i++)
		kube_ratelimit_reserve(&rl, 0.0);
	assert_true(kube_ratelimit_reserve(&rl, 0.5) == 0); /* 0.5 s refilled 5, capped at 3 */
	assert_true(kube_ratelimit_reserve(&rl, 0.5) == 0);
	assert_true(kube_ratelimit_reserve(&rl, 0.5) == 0);
	assert_true(kube_ratelimit_reserve(&rl, 0.5) > 0);
	kube_ratelimit_destroy(&rl);
	kube_ratelimit_init(&rl, 0, 0); /* off */
	for (int i = 0; i < 1000; i++)
		assert_true(kube_ratelimit_reserve(&rl, 0.0) == 0);
	kube_ratelimit_destroy(&rl);
}

static void test_lease_decisions(void **state)
{
	struct kube_lease_record rec = {0};
	struct kube_lease_observation seen = {{0}, 0};
	(void)state;

	assert_int_equal(kube_lease_decide(&rec, "me", &seen, 100), KUBE_LEASE_CREATE);
	rec.exists = true;
	snprintf(rec.holder, sizeof(rec.holder), "other");
	snprintf(rec.resource_version, sizeof(rec.resource_version), "41");
	rec.duration_s = 15;
	/* the holder's renewTime is its own clock's: 30 s behind ours, or 30 s ahead, it decides nothing */
	for (long skew = -30; skew <= 30; skew += 60) {
		memset(&seen, 0, sizeof(seen));
		rec.renew_time = time(NULL) + skew;
		kube_lease_observe(&seen, &rec, 100);
		assert_int_equal(kube_lease_decide(&rec, "me", &seen, 100), KUBE_LEASE_WAIT);
		assert_int_equal(kube_lease_decide(&rec, "me", &seen, 115), KUBE_LEASE_WAIT);
		kube_lease_observe(&seen, &rec, 115.5); /* the same version again: the clock keeps running */
		assert_int_equal(kube_lease_decide(&rec, "me", &seen, 115.5), KUBE_LEASE_TAKE);
	}
	/* a renewal (a new resourceVersion) restarts the clock */
	snprintf(rec.resource_version, sizeof(rec.resource_version), "42");
	kube_lease_observe(&seen, &rec, 116);
	assert_int_equal(kube_lease_decide(&rec, "me", &seen, 130), KUBE_LEASE_WAIT);
	assert_int_equal(kube_lease_decide(&rec, "me", &seen, 131.5), KUBE_LEASE_TAKE);
	/* a version never observed is never expired */
	snprintf(rec.resource_version, sizeof(rec.resource_version), "43");
	assert_int_equal(kube_lease_decide(&rec, "me", &seen, 1000), KUBE_LEASE_WAIT);
	assert_int_equal(kube_lease_decide(&rec, "other", &seen, 100), KUBE_LEASE_RENEW);
	rec.holder[0] = '\0';
	assert_int_equal(kube_lease_decide(&rec, "me", &seen, 100), KUBE_LEASE_TAKE);
}

static void test_timestamps(void **state)
{
	time_t t;
	char buf[RFC3339_MAX];
	(void)state;

	assert_true(rfc3339_parse("2026-11-22T10:00:00Z", &t));
	assert_int_equal(t, 1795341600);
	assert_true(rfc3339_parse("2026-11-22T10:00:00.123456Z", &t));
	assert_int_equal(t, 1795341600);
	assert_true(rfc3339_parse("2026-11-22T12:30:00+02:30", &t));
	assert_int_equal(t, 1795341600);
	assert_false(rfc3339_parse("2026-11-22 10:00:00Z", &t));
	assert_false(rfc3339_parse("2026-13-22T10:00:00Z", &t));
	assert_false(rfc3339_parse("2026-11-22T10:00:00", &t));
	assert_false(rfc3339_parse("2026-11-22T10:00:00.Z", &t));
	rfc3339_format(1795341600, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-22T10:00:00Z");
	rfc3339_micro_format(&(struct timespec){1795341600, 123456789}, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-22T10:00:00.123456Z");
	rfc3339_micro_now(buf, sizeof(buf));
	assert_int_equal(strlen(buf), 27);
	assert_true(rfc3339_parse(buf, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_bodies),     cmocka_unit_test(test_http_codes_map_to_errors),
		cmocka_unit_test(test_paths_and_queries), cmocka_unit_test(test_rate_limiter_arithmetic),
		cmocka_unit_test(test_lease_decisions),   cmocka_unit_test(test_timestamps),
	};
	return cmocka_run_group_tests_name("kubeapi", tests, NULL, NULL);
}
