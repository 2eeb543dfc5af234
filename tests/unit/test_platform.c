/* Unit tests for registry/platform: accepted spellings, normalisation, and the errors users see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry/platform.h"
#include "util/banned.h"

static void expect_platform(const char *in, const char *want, const char *label)
{
	struct reg_platform p;
	char err[REG_ERRBUF_SIZE] = "", buf[REG_PLATFORM_STR_MAX];

	if (reg_platform_parse(in, &p, err, sizeof(err)) != REG_OK)
		fail_msg("%s: unexpected error: %s", in, err);
	reg_platform_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, want);
	reg_platform_label(&p, buf, sizeof(buf));
	assert_string_equal(buf, label);
}

static void expect_rejected(const char *in, const char *fragment)
{
	struct reg_platform p;
	char err[REG_ERRBUF_SIZE] = "";

	assert_int_equal(reg_platform_parse(in, &p, err, sizeof(err)), REG_E_INVALID);
	if (!strstr(err, fragment))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", in, err, fragment);
	assert_string_equal(p.arch, "");
}

static void test_common_platforms(void **state)
{
	(void)state;
	expect_platform("linux/amd64", "linux/amd64", "linux-amd64");
	expect_platform("linux/arm64", "linux/arm64", "linux-arm64");
	expect_platform("linux/arm/v7", "linux/arm/v7", "linux-arm-v7");
	expect_platform("linux/arm/v6", "linux/arm/v6", "linux-arm-v6");
	expect_platform("linux/ppc64le", "linux/ppc64le", "linux-ppc64le");
	expect_platform("linux/s390x", "linux/s390x", "linux-s390x");
	expect_platform("linux/riscv64", "linux/riscv64", "linux-riscv64");
	expect_platform("linux/386", "linux/386", "linux-386");
	expect_platform("windows/amd64", "windows/amd64", "windows-amd64");
}

static void test_normalisation(void **state)
{
	(void)state;
	expect_platform("linux/arm64/v8", "linux/arm64", "linux-arm64");
	expect_platform("linux/aarch64", "linux/arm64", "linux-arm64");
	expect_platform("linux/x86_64", "linux/amd64", "linux-amd64");
	expect_platform("Linux/AMD64", "linux/amd64", "linux-amd64");
	expect_platform("linux/arm", "linux/arm/v7", "linux-arm-v7");
	expect_platform("linux/i686", "linux/386", "linux-386");
	expect_platform("linux/amd64/v1", "linux/amd64", "linux-amd64");
	expect_platform("linux/amd64/v3", "linux/amd64/v3", "linux-amd64-v3");
}

static void test_equal_after_normalisation(void **state)
{
	struct reg_platform a, b, c;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(reg_platform_parse("linux/arm64", &a, err, sizeof(err)), REG_OK);
	assert_int_equal(reg_platform_parse("linux/arm64/v8", &b, err, sizeof(err)), REG_OK);
	assert_int_equal(reg_platform_parse("linux/arm/v7", &c, err, sizeof(err)), REG_OK);
	assert_true(reg_platform_equal(&a, &b));
	assert_false(reg_platform_equal(&a, &c));
}

static void test_from_fields(void **state)
{
	struct reg_platform p;
	char err[REG_ERRBUF_SIZE], buf[REG_PLATFORM_STR_MAX];
	(void)state;

	assert_int_equal(reg_platform_from_fields("linux", "arm64", "v8", &p, err, sizeof(err)), REG_OK);
	reg_platform_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "linux/arm64");
	assert_int_equal(reg_platform_from_fields("linux", "arm", NULL, &p, err, sizeof(err)), REG_OK);
	reg_platform_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "linux/arm/v7");
	assert_int_equal(reg_platform_from_fields("linux", "", NULL, &p, err, sizeof(err)), REG_E_INVALID);
	assert_int_equal(reg_platform_from_fields(NULL, "amd64", NULL, &p, err, sizeof(err)), REG_E_INVALID);
	assert_int_equal(reg_platform_from_fields("unknown", "unknown", NULL, &p, err, sizeof(err)), REG_E_INVALID);
}

static void test_rejections_name_the_fix(void **state)
{
	(void)state;
	expect_rejected("amd64", "os/arch");
	expect_rejected("linux/", "non-empty");
	expect_rejected("/amd64", "non-empty");
	expect_rejected("linux/amd64/", "non-empty");
	expect_rejected("linux/sparc", "unknown architecture");
	expect_rejected("darwin/arm64", "unknown os");
	expect_rejected("linux/arm64/v7", "arm64 has no variant");
	expect_rejected("linux/arm/v9", "arm has no variant");
	expect_rejected("linux/s390x/v2", "takes no variant");
	expect_rejected("linux/amd64/v7/x", "too many parts");
	expect_rejected("linux/am d64", "letters and digits");
	expect_rejected("linux/abcdefghijklmnopqrstuvwxyzabcdefghij", "letters and digits");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_platforms),          cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_equal_after_normalisation), cmocka_unit_test(test_from_fields),
		cmocka_unit_test(test_rejections_name_the_fix),
	};
	return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
