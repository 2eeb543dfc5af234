/* Unit tests for registry/reference: the distribution grammar, Docker Hub normalisation, digests and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry/reference.h"
#include "util/banned.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct ref_case {
	const char *input;
	const char *domain;
	const char *api_host;
	const char *repository;
	const char *tag;
	const char *digest;
};

static void check_case(const struct ref_case *c)
{
	struct reg_ref ref;
	char err[REG_ERRBUF_SIZE] = "";

	if (reg_ref_parse(c->input, &ref, err, sizeof(err)) != REG_OK)
		fail_msg("%s: unexpected error: %s", c->input, err);
	assert_string_equal(ref.domain, c->domain);
	assert_string_equal(ref.api_host, c->api_host);
	assert_string_equal(ref.repository, c->repository);
	assert_string_equal(ref.tag, c->tag);
	assert_string_equal(ref.digest, c->digest);
	reg_ref_free(&ref);
}

static void test_valid_references(void **state)
{
	static const struct ref_case cases[] = {
		{"registry.example.com/team/hello:1.2.0", "registry.example.com", "registry.example.com", "team/hello", "1.2.0", ""},
		{"127.0.0.1:5000/hello", "127.0.0.1:5000", "127.0.0.1:5000", "hello", "", ""},
		{"localhost/a/b/c:latest", "localhost", "localhost", "a/b/c", "latest", ""},
		{"localhost:5000/x@sha256:" HEX64, "localhost:5000", "localhost:5000", "x", "", "sha256:" HEX64},
		{"reg.io/x:v1@sha256:" HEX64, "reg.io", "reg.io", "x", "v1", "sha256:" HEX64},
		{"[::1]:5000/img:tag", "[::1]:5000", "[::1]:5000", "img", "tag", ""},
		{"my-registry.corp:443/a_b/c__d/e-f/g---h.i:_tag-1.x", "my-registry.corp:443", "my-registry.corp:443",
		 "a_b/c__d/e-f/g---h.i", "_tag-1.x", ""},
		{"Registry.Example.com/app", "Registry.Example.com", "Registry.Example.com", "app", "", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void test_docker_hub_normalisation(void **state)
{
	static const struct ref_case cases[] = {
		{"alpine", "docker.io", "registry-1.docker.io", "library/alpine", "", ""},
		{"alpine:3.20", "docker.io", "registry-1.docker.io", "library/alpine", "3.20", ""},
		{"team/app:1", "docker.io", "registry-1.docker.io", "team/app", "1", ""},
		{"docker.io/alpine", "docker.io", "registry-1.docker.io", "library/alpine", "", ""},
		{"index.docker.io/team/app", "docker.io", "registry-1.docker.io", "team/app", "", ""},
		{"localhost:5000", "docker.io", "registry-1.docker.io", "library/localhost", "5000", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void expect_rejected(const char *input, enum reg_err want, const char *fragment)
{
	struct reg_ref ref;
	char err[REG_ERRBUF_SIZE] = "";

	assert_int_equal(reg_ref_parse(input, &ref, err, sizeof(err)), want);
	if (!strstr(err, fragment))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", input, err, fragment);
	assert_null(ref.repository);
}

static void test_invalid_references(void **state)
{
	char longname[300], longtag[200];
	(void)state;

	expect_rejected("", REG_E_INVALID, "empty");
	expect_rejected("reg.io/Team/app", REG_E_INVALID, "lowercase");
	expect_rejected("reg.io/app:", REG_E_INVALID, "empty tag");
	expect_rejected("reg.io/app:-x", REG_E_INVALID, "must start");
	expect_rejected("reg.io/app:a+b", REG_E_INVALID, "invalid character");
	expect_rejected("reg.io/app@sha256:abc", REG_E_INVALID, "too short");
	expect_rejected("reg.io/app@sha256:" HEX64 "00", REG_E_INVALID, "64 lowercase hex");
	expect_rejected("reg.io/app@md5:0123456789abcdef0123456789abcdef", REG_E_INVALID, "not supported");
	expect_rejected("reg.io/app@" HEX64, REG_E_INVALID, "no algorithm");
	expect_rejected("reg.io/app@sha256:" HEX64 "@sha256:" HEX64, REG_E_INVALID, "more than one");
	expect_rejected("reg.io//app", REG_E_INVALID, "malformed");
	expect_rejected("reg.io/app/", REG_E_INVALID, "ends with");
	expect_rejected("reg.io/-app", REG_E_INVALID, "malformed");
	expect_rejected("reg.io/a..b", REG_E_INVALID, "malformed");
	expect_rejected("reg.io/a___b", REG_E_INVALID, "malformed");
	expect_rejected("reg.io:99999/app", REG_E_INVALID, "out of range");
	expect_rejected("reg.io:/app", REG_E_INVALID, "port");
	expect_rejected("-reg.io/app", REG_E_INVALID, "malformed");
	expect_rejected("reg..io/app", REG_E_INVALID, "malformed");
	expect_rejected("reg.io/app name", REG_E_INVALID, "space");
	expect_rejected("@sha256:" HEX64, REG_E_INVALID, "no repository");

	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "reg.io/", 7);
	longname[sizeof(longname) - 1] = '\0';
	expect_rejected(longname, REG_E_TOO_LONG, "at most 255");
	/* 250 characters as written, over 255 once "docker.io/" is added */
	memset(longname, 'a', 250);
	longname[250] = '\0';
	expect_rejected(longname, REG_E_TOO_LONG, "once normalised");
	memset(longtag, 'b', sizeof(longtag));
	memcpy(longtag, "reg.io/x:", 9);
	longtag[sizeof(longtag) - 1] = '\0';
	expect_rejected(longtag, REG_E_TOO_LONG, "at most 128");
}

static void test_format_round_trips(void **state)
{
	struct reg_ref ref;
	char err[REG_ERRBUF_SIZE], buf[REG_REF_MAX + 64], tiny[8];
	(void)state;

	assert_int_equal(reg_ref_parse("alpine:3", &ref, err, sizeof(err)), REG_OK);
	assert_true(reg_ref_format(&ref, buf, sizeof(buf)));
	assert_string_equal(buf, "docker.io/library/alpine:3");
	assert_false(reg_ref_format(&ref, tiny, sizeof(tiny)));
	reg_ref_free(&ref);
	reg_ref_free(NULL);

	assert_int_equal(reg_ref_parse("127.0.0.1:5000/a/b:t@sha256:" HEX64, &ref, err, sizeof(err)), REG_OK);
	assert_true(reg_ref_format(&ref, buf, sizeof(buf)));
	assert_string_equal(buf, "127.0.0.1:5000/a/b:t@sha256:" HEX64);
	reg_ref_free(&ref);
}

static void test_digest_valid(void **state)
{
	(void)state;
	assert_true(reg_digest_valid("sha256:" HEX64));
	assert_true(reg_digest_valid("sha512:" HEX64 HEX64));
	assert_false(reg_digest_valid("sha256:" HEX64 "0"));
	assert_false(reg_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(reg_digest_valid("sha256:"));
	assert_false(reg_digest_valid("sha1:" HEX64));
	assert_false(reg_digest_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_references),   cmocka_unit_test(test_docker_hub_normalisation),
		cmocka_unit_test(test_invalid_references), cmocka_unit_test(test_format_round_trips),
		cmocka_unit_test(test_digest_valid),
	};
	return cmocka_run_group_tests_name("reference", tests, NULL, NULL);
}
