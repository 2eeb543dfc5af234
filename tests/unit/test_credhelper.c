/* Unit tests for registry/credhelper and the helper path of registry/credentials: a helper of the tests' own
 * (tests/fixtures/credhelper) answers, fails, hangs and floods; names that are not helper names are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "registry/credhelper.h"
#include "registry/credentials.h"
#include "util/timefmt.h"
#include "util/banned.h"

static int put_fixture_in_path(void **state)
{
	char path[8192], cwd[4096];
	(void)state;

	if (!realpath("tests/fixtures/credhelper", cwd))
		return -1;
	snprintf(path, sizeof(path), "%s:%s", cwd, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	return setenv("PATH", path, 1);
}

static void test_answers(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(reg_credhelper_get("mac-test", "reg.io", 5000, &c, err, sizeof(err)), REG_OK);
	assert_string_equal(c.username, "ci");
	assert_string_equal(c.password, "s3cret-from-helper");
	assert_string_equal(c.identity_token, "");
	assert_int_equal(reg_credhelper_get("mac-test", "token.io", 5000, &c, err, sizeof(err)), REG_OK);
	assert_string_equal(c.username, "");
	assert_string_equal(c.identity_token, "refresh-from-helper");
	reg_credentials_clear(&c);
	assert_int_equal(reg_credhelper_get("mac-test", "none.io", 5000, &c, err, sizeof(err)), REG_E_NOT_FOUND);
	assert_string_equal(err, "the credential helper docker-credential-mac-test has no credentials for none.io");
}

static void test_failures(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	double started;
	(void)state;

	assert_int_equal(reg_credhelper_get("mac-test", "broken.io", 5000, &c, err, sizeof(err)), REG_E_AUTH);
	assert_string_equal(err, "the credential helper docker-credential-mac-test failed for broken.io (exit status 2): "
				 "helper crashed: no route to the metadata server ");
	assert_int_equal(reg_credhelper_get("mac-test", "garbage.io", 5000, &c, err, sizeof(err)), REG_E_INVALID);
	assert_non_null(strstr(err, "answered without a Username and Secret"));
	started = monotonic_seconds();
	assert_int_equal(reg_credhelper_get("mac-test", "slow.io", 300, &c, err, sizeof(err)), REG_E_AUTH);
	assert_true(monotonic_seconds() - started < 5); /* killed at the bound, not after the helper's 30 s */
	assert_string_equal(err, "the credential helper docker-credential-mac-test did not answer for slow.io within 300 ms");
	assert_int_equal(reg_credhelper_get("mac-test", "big.io", 5000, &c, err, sizeof(err)), REG_E_TOO_LONG);
	assert_non_null(strstr(err, "answered more than 65536 bytes"));
	assert_int_equal(reg_credhelper_get("absent-helper", "reg.io", 5000, &c, err, sizeof(err)), REG_E_AUTH);
	assert_non_null(strstr(err, "cannot run the credential helper docker-credential-absent-helper for reg.io"));
	assert_int_equal(reg_credhelper_get("../../bin/sh", "reg.io", 5000, &c, err, sizeof(err)), REG_E_INVALID);
	assert_false(reg_credentials_helper_name_valid(""));
	assert_false(reg_credentials_helper_name_valid("-rf"));
	assert_false(reg_credentials_helper_name_valid("a b"));
	assert_true(reg_credentials_helper_name_valid("ecr-login"));
	assert_true(reg_credentials_helper_name_valid("acr-env"));
}

/* Writes config.json with text into a fresh folder; returns the folder (static storage). */
static const char *config_dir(const char *text)
{
	static char dir[64];
	char path[128];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/credhelper-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return dir;
}

static void remove_config_dir(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/config.json", dir);
	remove(path);
	remove(dir);
}

/* credHelpers first, an auths entry before credsStore, and a helper with nothing means anonymous. */
static void test_config_order(void **state)
{
	struct reg_credentials c;
	char err[REG_ERRBUF_SIZE];
	const char *dir;
	(void)state;

	dir = config_dir("{\"credHelpers\":{\"reg.io\":\"mac-test\"},\"auths\":{\"reg.io\":{\"username\":\"file\",\"password\":\"f\"}}}");
	assert_int_equal(reg_credentials_load(dir, "reg.io", &c, err, sizeof(err)), REG_OK);
	assert_string_equal(c.username, "ci");
	assert_string_equal(c.helper, "");
	remove_config_dir(dir);
	dir = config_dir("{\"credsStore\":\"mac-test\",\"auths\":{\"other.io\":{\"username\":\"file\",\"password\":\"f\"}}}");
	assert_int_equal(reg_credentials_load(dir, "token.io", &c, err, sizeof(err)), REG_OK);
	assert_string_equal(c.identity_token, "refresh-from-helper");
	assert_int_equal(reg_credentials_load(dir, "other.io", &c, err, sizeof(err)), REG_OK);
	assert_string_equal(c.username, "file");
	assert_int_equal(reg_credentials_load(dir, "none.io", &c, err, sizeof(err)), REG_E_NOT_FOUND);
	remove_config_dir(dir);
	dir = config_dir("{\"credHelpers\":{\"reg.io\":\"../evil\"}}");
	assert_int_equal(reg_credentials_load(dir, "reg.io", &c, err, sizeof(err)), REG_E_INVALID);
	assert_non_null(strstr(err, "credHelpers names \"../evil\", which is not a credential helper name"));
	remove_config_dir(dir);
	reg_credentials_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_config_order),
	};

	return cmocka_run_group_tests_name("credhelper", tests, put_fixture_in_path, NULL);
}
