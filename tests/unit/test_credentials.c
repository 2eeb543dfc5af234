/* Unit tests for registry/credentials: docker config.json lookups, helpers named, secrets kept out of messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry/credhelper.h"
#include "registry/credentials.h"
#include "util/banned.h"

/* base64("ci:p4ss:word") */
#define AUTH_CI "Y2k6cDRzczp3b3Jk"

static enum reg_err lookup(const char *json, const char *host, struct reg_credentials *c, char *err)
{
	return reg_credentials_parse(json, strlen(json), host, c, err, REG_ERRBUF_SIZE);
}

static void test_auth_field_and_key_forms(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(lookup("{\"auths\":{\"reg.io:5000\":{\"auth\":\"" AUTH_CI "\"}}}", "reg.io:5000", &c, err), REG_OK);
	assert_string_equal(c.username, "ci");
	assert_string_equal(c.password, "p4ss:word");
	assert_int_equal(lookup("{\"auths\":{\"https://reg.io/v1/\":{\"auth\":\"" AUTH_CI "\"}}}", "reg.io", &c, err), REG_OK);
	assert_string_equal(c.username, "ci");
	assert_int_equal(lookup("{\"auths\":{\"http://reg.io\":{\"username\":\"u\",\"password\":\"p\"}}}", "reg.io", &c, err), REG_OK);
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "p");
	assert_int_equal(lookup("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" AUTH_CI "\"}}}", "docker.io", &c, err), REG_OK);
	assert_string_equal(c.password, "p4ss:word");
	assert_int_equal(lookup("{\"auths\":{\"reg.io\":{\"identitytoken\":\"refresh-me\"}}}", "reg.io", &c, err), REG_OK);
	assert_string_equal(c.identity_token, "refresh-me");
	assert_string_equal(c.username, "");
	reg_credentials_clear(&c);
	assert_string_equal(c.identity_token, "");
}

static void test_not_found_is_anonymous(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(lookup("{\"auths\":{\"other.io\":{\"auth\":\"" AUTH_CI "\"}}}", "reg.io", &c, err), REG_E_NOT_FOUND);
	assert_int_equal(lookup("{}", "reg.io", &c, err), REG_E_NOT_FOUND);
	assert_int_equal(lookup("{\"auths\":{\"reg.io.evil\":{\"auth\":\"" AUTH_CI "\"}}}", "reg.io", &c, err), REG_E_NOT_FOUND);
	assert_string_equal(c.username, "");
}

static void test_helpers_are_named(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(lookup("{\"credHelpers\":{\"reg.io\":\"ecr-login\"}}", "reg.io", &c, err), REG_OK);
	assert_string_equal(c.helper, "ecr-login");
	assert_string_equal(c.username, "");
	assert_int_equal(lookup("{\"credsStore\":\"desktop\"}", "reg.io", &c, err), REG_OK);
	assert_string_equal(c.helper, "desktop");
	/* a direct entry wins over the store, a helper for the host over a direct entry */
	assert_int_equal(lookup("{\"credsStore\":\"desktop\",\"auths\":{\"reg.io\":{\"auth\":\"" AUTH_CI "\"}}}", "reg.io", &c, err),
			 REG_OK);
	assert_string_equal(c.helper, "");
	assert_string_equal(c.username, "ci");
	assert_int_equal(
		lookup("{\"credHelpers\":{\"reg.io\":\"gcr\"},\"auths\":{\"reg.io\":{\"auth\":\"" AUTH_CI "\"}}}", "reg.io", &c, err),
		REG_OK);
	assert_string_equal(c.helper, "gcr");
	assert_string_equal(c.username, "");
	assert_int_equal(lookup("{\"credHelpers\":{\"reg.io\":\"/bin/sh\"}}", "reg.io", &c, err), REG_E_INVALID);
	assert_int_equal(lookup("{\"credHelpers\":{\"reg.io\":7}}", "reg.io", &c, err), REG_E_INVALID);
	reg_credentials_clear(&c);
}

static void test_malformed_input_never_leaks_secrets(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(lookup("{\"auths\":{\"reg.io\":{\"auth\":\"c2VjcmV0LW5vLWNvbG9u\"}}}", "reg.io", &c, err), REG_E_INVALID);
	assert_null(strstr(err, "secret"));
	assert_null(strstr(err, "c2VjcmV0"));
	assert_int_equal(lookup("{\"auths\":{\"reg.io\":{\"auth\":\"!!!notbase64\"}}}", "reg.io", &c, err), REG_E_INVALID);
	assert_null(strstr(err, "notbase64"));
	assert_int_equal(lookup("{\"auths\":[1,2]}", "reg.io", &c, err), REG_E_INVALID);
	assert_int_equal(lookup("not json", "reg.io", &c, err), REG_E_INVALID);
	assert_int_equal(lookup("{\"auths\":{\"reg.io\":\"x\"}}", "reg.io", &c, err), REG_E_INVALID);
	assert_string_equal(c.username, "");
}

static void test_load_missing_file(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(reg_credentials_load("/nonexistent-folder", "reg.io", &c, err, sizeof(err)), REG_E_IO);
	assert_non_null(strstr(err, "/nonexistent-folder/config.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_field_and_key_forms), cmocka_unit_test(test_not_found_is_anonymous),
		cmocka_unit_test(test_helpers_are_named),        cmocka_unit_test(test_malformed_input_never_leaks_secrets),
		cmocka_unit_test(test_load_missing_file),
	};
	return cmocka_run_group_tests_name("credentials", tests, NULL, NULL);
}
