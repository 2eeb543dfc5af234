/* Unit tests for controller/buildspec: defaults, normalisation, durations, and what the controller refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/buildspec.h"
#include "util/banned.h"

static enum ctl_err read_spec(const char *json, struct ctl_build_spec *out, char *err)
{
	cJSON *mab = cJSON_Parse(json);
	enum ctl_err e;

	assert_non_null(mab);
	e = ctl_build_spec_read(mab, out, err, CTL_ERRBUF_SIZE);
	cJSON_Delete(mab);
	return e;
}

static void test_defaults_and_normalisation(void **state)
{
	struct ctl_build_spec s;
	char err[CTL_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(read_spec("{\"metadata\":{\"generation\":4},\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\","
				   "\"linux/arm64/v8\",\"linux/arm/v7\"]}}",
				   &s, err),
			 CTL_OK);
	assert_int_equal(s.generation, 4);
	assert_int_equal(s.platform_count, 3);
	assert_string_equal(s.platforms[1].text, "linux/arm64/v8");
	assert_string_equal(s.platforms[1].label, "linux-arm64");
	assert_string_equal(s.platforms[2].label, "linux-arm-v7");
	assert_int_equal(s.retries, 2);
	assert_int_equal(s.timeout_s, 3600);
	assert_int_equal(s.node_wait_s, -1); /* the configuration's default */
	assert_false(s.fail_missing_nodes);
	assert_int_equal(s.backend, CTL_BACKEND_BUILDKIT);
	assert_string_equal(s.push_secret, "");
	assert_string_equal(s.round, "g4");
	assert_string_equal(s.requested_at, "");
}

/* The requested-at annotation names a round of its own: generation plus 8 hex of the value (FNV-1a). */
static void test_requested_round(void **state)
{
	struct ctl_build_spec s;
	char err[CTL_ERRBUF_SIZE];
	cJSON *pod;
	(void)state;

	assert_int_equal(read_spec("{\"metadata\":{\"generation\":4,\"annotations\":{\"multiarch.dev/requested-at\":\"a\"}},"
				   "\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"]}}",
				   &s, err),
			 CTL_OK);
	assert_string_equal(s.requested_at, "a");
	assert_string_equal(s.request_tag, "8601ec8c"); /* FNV-1a 64 of "a", low 32 bits */
	assert_string_equal(s.round, "g4r8601ec8c");
	pod = cJSON_Parse("{\"metadata\":{\"labels\":{\"multiarch.dev/generation\":\"4\",\"multiarch.dev/request\":\"8601ec8c\"}}}");
	assert_true(ctl_child_in_round(pod, &s));
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "labels"), "multiarch.dev/request");
	assert_false(ctl_child_in_round(pod, &s)); /* the plain generation's pod is another round */
	cJSON_Delete(pod);
	assert_int_equal(read_spec("{\"metadata\":{\"generation\":4,\"annotations\":{\"multiarch.dev/requested-at\":"
				   "\"12345678901234567890123456789012345678901234567890123456789012345\"}},"
				   "\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"]}}",
				   &s, err),
			 CTL_E_INVALID);
	assert_string_equal(err, "the annotation multiarch.dev/requested-at is longer than 64 characters");
}

/* spec.retention: counts in range, a TTL from 1m to 720h, no unknown key; the defaults under what a build sets. */
static void test_retention(void **state)
{
	struct ctl_retention r, defaults = {-1, 5, -1, 3600}, resolved;
	struct ctl_build_spec s;
	char err[CTL_ERRBUF_SIZE];
	cJSON *obj;
	(void)state;

	assert_int_equal(ctl_retention_parse(NULL, "spec.retention", &r, err, sizeof(err)), CTL_OK);
	resolved = ctl_retention_resolve(&r, NULL);
	assert_int_equal(resolved.history, 10);
	assert_int_equal(resolved.succeeded, 1);
	assert_int_equal(resolved.failed, 1);
	assert_int_equal(resolved.ttl_s, -1);
	r = (struct ctl_retention){2, -1, 0, -1};
	resolved = ctl_retention_resolve(&r, &defaults);
	assert_int_equal(resolved.history, 2);
	assert_int_equal(resolved.succeeded, 5);
	assert_int_equal(resolved.failed, 0);
	assert_int_equal(resolved.ttl_s, 3600);
	assert_int_equal(
		read_spec("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"retention\":{\"history\":51}}}", &s, err),
		CTL_E_INVALID);
	assert_string_equal(err, "spec.retention.history must be a whole number from 0 to 50");
	assert_int_equal(
		read_spec(
			"{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"retention\":{\"ttlAfterFinished\":\"30s\"}}}",
			&s, err),
		CTL_E_INVALID);
	assert_string_equal(err, "spec.retention.ttlAfterFinished must be a duration from 1m to 720h");
	obj = cJSON_Parse("{\"kept\":1}");
	assert_int_equal(ctl_retention_parse(obj, "spec.retention", &r, err, sizeof(err)), CTL_E_INVALID);
	assert_string_equal(err, "spec.retention.kept: unknown key");
	cJSON_Delete(obj);
}

static void test_policy_and_builder(void **state)
{
	struct ctl_build_spec s;
	char err[CTL_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(read_spec("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\",\"linux/riscv64\"],"
				   "\"policy\":{\"retries\":0,\"timeout\":\"1h30m\",\"nodeWaitTimeout\":\"90s\",\"missingNodes\":\"Fail\","
				   "\"optionalPlatforms\":["
				   "\"linux/riscv64\"]},"
				   "\"builder\":{\"type\":\"buildah\",\"image\":\"quay.io/buildah/"
				   "stable:v1\"},\"pushSecretRef\":{\"name\":\"regcred\"}}}",
				   &s, err),
			 CTL_OK);
	assert_int_equal(s.retries, 0);
	assert_int_equal(s.timeout_s, 5400);
	assert_int_equal(s.node_wait_s, 90);
	assert_true(s.fail_missing_nodes);
	assert_false(s.platforms[0].optional);
	assert_true(s.platforms[1].optional);
	assert_int_equal(s.backend, CTL_BACKEND_BUILDAH);
	assert_string_equal(ctl_backend_name(s.backend), "buildah");
	assert_string_equal(s.push_secret, "regcred");
}

static void test_durations(void **state)
{
	long v;
	(void)state;

	assert_true(ctl_parse_duration("45m", &v) && v == 2700);
	assert_true(ctl_parse_duration("1.5h", &v) && v == 5400);
	assert_true(ctl_parse_duration("90s", &v) && v == 90);
	assert_true(ctl_parse_duration("1h0m30s", &v) && v == 3630);
	assert_true(ctl_parse_duration("1500ms", &v) && v == 1);
	assert_false(ctl_parse_duration("", &v));
	assert_false(ctl_parse_duration("10", &v));
	assert_false(ctl_parse_duration("-5m", &v));
	/* no NaN, infinity, exponent or hex: each would reach an integer conversion */
	assert_false(ctl_parse_duration("nanh", &v));
	assert_false(ctl_parse_duration("NaNm", &v));
	assert_false(ctl_parse_duration("infh", &v));
	assert_false(ctl_parse_duration("infinitys", &v));
	assert_false(ctl_parse_duration("1e3s", &v));
	assert_false(ctl_parse_duration("0x10s", &v));
	assert_false(ctl_parse_duration("1h nanm", &v));
	assert_false(ctl_parse_duration("5d", &v));
	assert_false(ctl_parse_duration("m", &v));
	assert_false(ctl_parse_duration("99999999999h", &v));
}

static void expect_refused(const char *json, const char *fragment)
{
	struct ctl_build_spec s;
	char err[CTL_ERRBUF_SIZE] = "";

	assert_int_equal(read_spec(json, &s, err), CTL_E_INVALID);
	if (!strstr(err, fragment))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", json, err, fragment);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("{}", "no spec");
	expect_refused("{\"spec\":{\"platforms\":[\"linux/amd64\"]}}", "spec.image");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[]}}", "no platform");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/sparc\"]}}", "unknown architecture");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/arm64\",\"linux/aarch64\"]}}", "the same platform");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"timeout\":\"forever\"}}}",
		       "spec.policy.timeout");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"timeout\":\"5s\"}}}", "from 1m");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"nodeWaitTimeout\":\"5s\"}}}",
		       "nodeWaitTimeout \"5s\" must be a duration from 10s");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"retries\":-1}}}", "retries");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"retries\":1.44444e+100}}}",
		       "retries");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"retries\":2.5}}}", "retries");
	expect_refused(
		"{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"policy\":{\"optionalPlatforms\":[\"linux/s390x\"]}}}",
		"optionalPlatforms");
	expect_refused("{\"spec\":{\"image\":\"r.io/a:1\",\"platforms\":[\"linux/amd64\"],\"builder\":{\"type\":\"docker\"}}}",
		       "builder.type");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_normalisation), cmocka_unit_test(test_requested_round), cmocka_unit_test(test_retention),
		cmocka_unit_test(test_policy_and_builder),         cmocka_unit_test(test_durations),       cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests_name("buildspec", tests, NULL, NULL);
}
