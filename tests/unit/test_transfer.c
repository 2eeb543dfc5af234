/* Unit tests for registry/transfer: status lines read within their bytes, headers kept per response of a redirect
 * chain, Retry-After's two forms, and the body's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry/transfer.h"
#include "util/banned.h"

/* Feeds one header line (not terminated, as curl hands it over) and checks it is taken whole. */
static void header(struct reg_transfer *t, const char *line)
{
	char unterminated[256];
	size_t len = strlen(line);

	assert_true(len < sizeof(unterminated));
	memset(unterminated, '7', sizeof(unterminated)); /* digits after the line must not be read */
	for (size_t i = 0; i < len; i++)
		unterminated[i] = line[i];
	assert_int_equal(reg_transfer_header(unterminated, 1, len, t), len);
}

static void test_status_line(void **state)
{
	struct reg_response resp = {0};
	struct reg_transfer t = {.resp = &resp};
	(void)state;

	header(&t, "HTTP/1.1 200 OK\r\n");
	assert_int_equal(t.status, 200);
	header(&t, "HTTP/2 404\r\n");
	assert_int_equal(t.status, 404);
	header(&t, "HTTP/1.1 2");
	assert_int_equal(t.status, 0);
	header(&t, "HTTP/1.1 20x nope\r\n");
	assert_int_equal(t.status, 0);
	header(&t, "HTTP/1.1");
	assert_int_equal(t.status, 0);
}

static void test_headers_per_response(void **state)
{
	struct reg_response resp = {0};
	struct reg_transfer t = {.resp = &resp};
	(void)state;

	header(&t, "HTTP/1.1 307 Temporary Redirect\r\n");
	header(&t, "location:   https://blob.test/x \r\n");
	header(&t, "WWW-Authenticate: Bearer realm=\"https://auth.test\"\r\n");
	header(&t, "WWW-Authenticate: Basic realm=\"second\"\r\n");
	header(&t, "Retry-After: 7\r\n");
	assert_string_equal(resp.location, "https://blob.test/x");
	assert_string_equal(t.challenge, "Bearer realm=\"https://auth.test\"");
	assert_int_equal(t.retry_after_s, 7);
	header(&t, "HTTP/1.1 200 OK\r\n");
	assert_string_equal(resp.location, "");
	assert_string_equal(t.challenge, "");
	assert_int_equal(t.retry_after_s, -1);
	header(&t, "Docker-Content-Digest: sha256:abc\r\n");
	header(&t, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n");
	header(&t, "Content-Type-Extra: no\r\n");
	assert_string_equal(resp.docker_digest, "sha256:abc");
	assert_int_equal(t.retry_after_s, -1);
	assert_string_equal(resp.content_type, "");
}

static void test_body_bound(void **state)
{
	struct reg_response resp = {0};
	struct reg_transfer t = {.resp = &resp, .body_max = 8};
	char data[] = "0123456789";
	(void)state;

	dynbuf_init(&resp.body, 1024);
	assert_int_equal(reg_transfer_body(data, 1, 5, &t), 5);
	assert_false(t.too_big);
	assert_int_equal(reg_transfer_body(data, 1, 5, &t), 0);
	assert_true(t.too_big);
	assert_int_equal(dynbuf_len(&resp.body), 5);
	dynbuf_free(&resp.body);
}

static void test_retryable(void **state)
{
	(void)state;

	assert_true(reg_transfer_retryable(CURLE_COULDNT_CONNECT));
	assert_true(reg_transfer_retryable(CURLE_HTTP2_STREAM));
	assert_false(reg_transfer_retryable(CURLE_PEER_FAILED_VERIFICATION));
	assert_false(reg_transfer_retryable(CURLE_OK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_headers_per_response),
		cmocka_unit_test(test_body_bound),
		cmocka_unit_test(test_retryable),
	};
	return cmocka_run_group_tests_name("transfer", tests, NULL, NULL);
}
