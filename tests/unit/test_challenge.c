/* Unit tests for registry/challenge: WWW-Authenticate parsing as registries send it, and its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry/challenge.h"
#include "util/banned.h"

static void test_bearer_with_quoted_params(void **state)
{
	struct reg_challenge ch;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(reg_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
					     "scope=\"repository:library/alpine:pull\"",
					     &ch, err, sizeof(err)),
			 REG_OK);
	assert_int_equal(ch.scheme, REG_AUTH_BEARER);
	assert_string_equal(ch.realm, "https://auth.docker.io/token");
	assert_string_equal(ch.service, "registry.docker.io");
	assert_string_equal(ch.scope, "repository:library/alpine:pull");
}

static void test_case_spaces_tokens_and_escapes(void **state)
{
	struct reg_challenge ch;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(
		reg_challenge_parse("  bEaReR  realm = \"https://a/t\" , error=insufficient_scope ,service=reg.io", &ch, err, sizeof(err)),
		REG_OK);
	assert_string_equal(ch.realm, "https://a/t");
	assert_string_equal(ch.service, "reg.io");
	assert_string_equal(ch.error, "insufficient_scope");
	assert_int_equal(reg_challenge_parse("Basic realm=\"say \\\"hi\\\"\"", &ch, err, sizeof(err)), REG_OK);
	assert_int_equal(ch.scheme, REG_AUTH_BASIC);
	assert_string_equal(ch.realm, "say \"hi\"");
}

static void test_first_supported_challenge_wins(void **state)
{
	struct reg_challenge ch;
	char err[REG_ERRBUF_SIZE];
	(void)state;

	assert_int_equal(reg_challenge_parse("Negotiate abc, Basic realm=\"r1\", Bearer realm=\"https://x\"", &ch, err, sizeof(err)),
			 REG_OK);
	assert_int_equal(ch.scheme, REG_AUTH_BASIC);
	assert_string_equal(ch.realm, "r1");
	assert_int_equal(
		reg_challenge_parse("Digest realm=\"x\", nonce=\"y\", Bearer realm=\"https://t\",service=s", &ch, err, sizeof(err)),
		REG_OK);
	assert_int_equal(ch.scheme, REG_AUTH_BEARER);
	assert_string_equal(ch.service, "s");
}

static void expect_invalid(const char *header, const char *fragment)
{
	struct reg_challenge ch;
	char err[REG_ERRBUF_SIZE] = "";

	assert_int_equal(reg_challenge_parse(header, &ch, err, sizeof(err)), REG_E_INVALID);
	if (!strstr(err, fragment))
		fail_msg("\"%s\": error \"%s\" does not mention \"%s\"", header, err, fragment);
}

static void test_refusals(void **state)
{
	char *big;
	(void)state;

	expect_invalid("", "neither Basic nor Bearer");
	expect_invalid("Negotiate", "neither Basic nor Bearer");
	expect_invalid("Bearer service=\"x\"", "no realm");
	expect_invalid("Bearer realm=\"unterminated", "malformed");
	expect_invalid("Bearer realm=", "malformed");
	expect_invalid(";;;", "malformed");
	big = malloc(REG_CHALLENGE_MAX + 100);
	assert_non_null(big);
	memset(big, 'a', REG_CHALLENGE_MAX + 99);
	big[REG_CHALLENGE_MAX + 99] = '\0';
	expect_invalid(big, "longer than");
	memcpy(big, "Bearer realm=\"", 14);
	big[REG_CHALLENGE_MAX - 10] = '"';
	big[REG_CHALLENGE_MAX - 9] = '\0';
	expect_invalid(big, "oversized");
	free(big);
}

/* Where a registry's credentials may go, and which tokens a header may carry. */
static void test_credential_rules(void **state)
{
	char why[256];
	(void)state;

	/* TLS registry: its realm must be TLS too, on any host */
	assert_true(reg_realm_may_get_credentials("r.example:5000", true, "https://auth.example/token", why, sizeof(why)));
	assert_false(reg_realm_may_get_credentials("r.example:5000", true, "http://r.example:5000/token", why, sizeof(why)));
	assert_non_null(strstr(why, "never sent in clear"));
	/* plain-HTTP registry: its own host only, unless the realm is TLS */
	assert_true(reg_realm_may_get_credentials("127.0.0.1:5000", false, "http://127.0.0.1:5000/token?x=1", why, sizeof(why)));
	assert_true(reg_realm_may_get_credentials("127.0.0.1:5000", false, "https://auth.example/token", why, sizeof(why)));
	assert_false(reg_realm_may_get_credentials("127.0.0.1:5000", false, "http://other-host/token", why, sizeof(why)));
	assert_non_null(strstr(why, "another host, other-host, over plain HTTP"));
	/* the same host on another port (a token server beside the registry) is that host */
	assert_true(reg_realm_may_get_credentials("127.0.0.1:5000", false, "http://127.0.0.1:5001/token", why, sizeof(why)));
	assert_true(reg_realm_may_get_credentials("Registry.Test", false, "http://registry.test:8080/token", why, sizeof(why)));
	assert_false(reg_realm_may_get_credentials("[::1]:5000", false, "http://[::2]:5000/token", why, sizeof(why)));
	assert_true(reg_realm_may_get_credentials("[::1]:5000", false, "http://[::1]:5001/token", why, sizeof(why)));
	assert_false(reg_realm_may_get_credentials("127.0.0.1:5000", false, "ftp:/x", why, sizeof(why)));

	assert_true(reg_token_valid("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/"));
	assert_true(reg_token_valid("dG9rZW4="));
	assert_false(reg_token_valid("abc\r\nX-Injected: yes"));
	assert_false(reg_token_valid("two words"));
	assert_false(reg_token_valid("a=b"));
	assert_false(reg_token_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer_with_quoted_params),
		cmocka_unit_test(test_case_spaces_tokens_and_escapes),
		cmocka_unit_test(test_first_supported_challenge_wins),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_credential_rules),
	};
	return cmocka_run_group_tests_name("challenge", tests, NULL, NULL);
}
