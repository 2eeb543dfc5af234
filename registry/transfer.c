/* One registry transfer's answer as curl hands it over: the status line and headers a registry sends (parsed, capped),
 * the body kept in memory or streamed to a download file within its bound, and which curl errors are worth a retry. */
#include "registry/transfer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/banned.h"

/* Copies a header value (trimmed) into dst when the line's name matches name. */
static bool header_value(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, line, len);
	dst[len] = '\0';
	return true;
}

/* The three-digit code of a status line ("HTTP/1.1 200 OK"), read within its len bytes (curl's header buffer is not
 * terminated); 0 when there is none. */
static long status_code(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	size_t at = sp ? (size_t)(sp - line) + 1 : len;
	long code = 0;

	if (len - at < 3)
		return 0;
	for (size_t i = at; i < at + 3; i++) {
		if (line[i] < '0' || line[i] > '9')
			return 0;
		code = code * 10 + (line[i] - '0');
	}
	return code;
}

size_t reg_transfer_header(char *line, size_t size, size_t nmemb, void *userp)
{
	struct reg_transfer *t = userp;
	size_t len = size * nmemb;
	char value[64];

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new response of a redirect chain: forget the previous one's headers */
		t->resp->content_type[0] = t->resp->docker_digest[0] = t->resp->location[0] = '\0';
		t->challenge[0] = '\0';
		t->retry_after_s = -1;
		t->status = 0;
		t->status = status_code(line, len);
		return len;
	}
	header_value(line, len, "Content-Type", t->resp->content_type, sizeof(t->resp->content_type));
	header_value(line, len, "Docker-Content-Digest", t->resp->docker_digest, sizeof(t->resp->docker_digest));
	header_value(line, len, "Location", t->resp->location, sizeof(t->resp->location));
	if (!t->challenge[0])
		header_value(line, len, "WWW-Authenticate", t->challenge, sizeof(t->challenge));
	if (header_value(line, len, "Retry-After", value, sizeof(value))) {
		char *end = NULL;
		long v = strtol(value, &end, 10);
		/* only the delay-seconds form; an HTTP date falls back to our own backoff */
		t->retry_after_s = (end != value && *end == '\0' && v >= 0) ? v : -1;
	}
	return len;
}

size_t reg_transfer_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct reg_transfer *t = userp;
	size_t len = size * nmemb;

	/* only a successful body goes to the download file; error bodies are kept for messages */
	if (t->download && t->status >= 200 && t->status < 300) {
		if (t->downloaded + (long long)len > t->download_max) {
			t->too_big = true; /* not one byte past the declared size reaches the disk */
			return 0;
		}
		t->downloaded += (long long)len;
		return fwrite(data, 1, len, t->download) == len ? len : 0;
	}
	if (dynbuf_len(&t->resp->body) + len > t->body_max) {
		t->too_big = true;
		return 0;
	}
	return dynbuf_add(&t->resp->body, data, len) == DYNBUF_OK ? len : 0;
}

bool reg_transfer_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}
