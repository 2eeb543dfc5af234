/* libFuzzer target: a registry's status lines and headers, then a body, through the transfer callbacks: every field
 * stays terminated within its size, the body never passes its bound, and Retry-After is -1 or a number of seconds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/transfer.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds the header lines of data (up to a blank line), then the rest as the body in pieces of at most 7 bytes. */
static void feed(struct reg_transfer *t, char *data, size_t size)
{
	size_t at = 0;

	while (at < size) {
		char *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
		bool blank = len <= 2 && (data[at] == '\n' || data[at] == '\r');
		if (reg_transfer_header(data + at, 1, len, t) != len)
			abort();
		at += len;
		if (blank)
			break;
	}
	while (at < size) {
		size_t len = size - at < 7 ? size - at : 7;
		size_t took = reg_transfer_body(data + at, 1, len, t);
		if (took != len && !t->too_big)
			abort();
		if (took != len)
			break;
		at += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	struct reg_response resp = {0};
	struct reg_transfer t = {.resp = &resp, .body_max = 64, .retry_after_s = -1};

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	dynbuf_init(&resp.body, 1024);
	feed(&t, copy, size);
	if (memchr(resp.content_type, '\0', sizeof(resp.content_type)) == NULL ||
	    memchr(resp.docker_digest, '\0', sizeof(resp.docker_digest)) == NULL ||
	    memchr(resp.location, '\0', sizeof(resp.location)) == NULL || memchr(t.challenge, '\0', sizeof(t.challenge)) == NULL)
		abort();
	if (dynbuf_len(&resp.body) > t.body_max || t.retry_after_s < -1)
		abort();
	dynbuf_free(&resp.body);
	free(copy);
	return 0;
}
