/* A GET whose answer is read line by line as it arrives (watches, followed pod logs), and the capped line splitter. */
#include "kube/stream.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/banned.h"

#define ERROR_BODY_MAX ((size_t)64 * 1024)

void kube_linebuf_init(struct kube_linebuf *lb, size_t max_line)
{
	dynbuf_init(&lb->buf, max_line);
}

void kube_linebuf_free(struct kube_linebuf *lb)
{
	dynbuf_free(&lb->buf);
}

/* Hands one finished line (without its newline) to fn, dropping a trailing CR and skipping empty lines. */
static bool emit(const char *line, size_t len, kube_line_fn fn, void *ctx)
{
	if (len && line[len - 1] == '\r')
		len--;
	return len == 0 || fn(ctx, line, len);
}

enum kube_err kube_linebuf_feed(struct kube_linebuf *lb, const char *data, size_t len, kube_line_fn fn, void *ctx)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t part = nl ? (size_t)(nl - data) : len;

		if (dynbuf_len(&lb->buf) == 0 && nl) {
			/* a whole line inside this chunk: no copy */
			if (!emit(data, part, fn, ctx))
				return KUBE_E_STOPPED;
		} else {
			if (dynbuf_add(&lb->buf, data, part) != DYNBUF_OK)
				return KUBE_E_TOO_LONG;
			if (nl) {
				bool go = emit(lb->buf.data, lb->buf.len, fn, ctx);
				dynbuf_reset(&lb->buf);
				if (!go)
					return KUBE_E_STOPPED;
			}
		}
		if (!nl)
			break;
		data = nl + 1;
		len -= part + 1;
	}
	return KUBE_OK;
}

/* State of one running stream, shared with the curl callbacks. */
struct stream_run {
	struct kube_linebuf lines;
	kube_line_fn fn;
	void *ctx;
	const atomic_int *stop;
	long http_status;
	struct dynbuf error_body; /* the body of a non-200 answer */
	enum kube_err err;        /* why we cut the stream: KUBE_E_TOO_LONG or KUBE_E_STOPPED */
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp)
{
	struct stream_run *s = userp;
	size_t len = size * nmemb;
	enum kube_err err;

	if (s->http_status == 0)
		return len;
	if (s->http_status != 200)
		return dynbuf_add(&s->error_body, data, len) == DYNBUF_OK ? len : 0;
	err = kube_linebuf_feed(&s->lines, data, len, s->fn, s->ctx);
	if (err != KUBE_OK)
		s->err = err;
	return err == KUBE_OK ? len : 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
	struct stream_run *s = userp;
	size_t len = size * nmemb;

	if (len > 9 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', len);
		s->http_status = sp ? strtol(sp + 1, NULL, 10) : 0;
	}
	return len;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct stream_run *s = userp;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (s->stop && atomic_load(s->stop)) {
		s->err = KUBE_E_STOPPED;
		return 1;
	}
	return 0;
}

/* The error of a finished transfer; messages start with label. */
static enum kube_err outcome(const struct stream_run *s, const struct kube_stream_options *o, const char *label, CURLcode rc,
			     const char *curl_error, char *errbuf, size_t errlen)
{
	struct kube_status st;

	if (s->err == KUBE_E_TOO_LONG)
		return kube_fail(errbuf, errlen, KUBE_E_TOO_LONG, "%s: a line is longer than %zu bytes", label, o->max_line);
	if (s->err == KUBE_E_STOPPED)
		return kube_fail(errbuf, errlen, KUBE_E_STOPPED, "%s: stopped", label);
	if (s->http_status != 200 && s->http_status != 0) {
		kube_status_parse(s->error_body.data, s->error_body.len, s->http_status, &st);
		return kube_fail(errbuf, errlen, kube_err_from_http(s->http_status), "%s: %ld %s %s", label, s->http_status, st.reason,
				 st.message);
	}
	if (rc != CURLE_OK)
		return kube_fail(errbuf, errlen, KUBE_E_NETWORK, "%s: %s", label, curl_error[0] ? curl_error : curl_easy_strerror(rc));
	return KUBE_OK;
}

enum kube_err kube_stream_lines(struct kube_client *c, const struct kube_stream_options *o, kube_line_fn fn, void *ctx, char *errbuf,
				size_t errlen)
{
	char curl_error[CURL_ERROR_SIZE], label[KUBE_PATH_MAX + 300];
	struct stream_run s;
	enum kube_err err;
	void *handle;
	CURL *h;
	CURLcode rc;

	memset(&s, 0, sizeof(s));
	s.fn = fn;
	s.ctx = ctx;
	s.stop = o->stop;
	handle = kube_client_acquire(c, o->path, errbuf, errlen);
	if (!handle)
		return KUBE_E_CONFIG;
	kube_linebuf_init(&s.lines, o->max_line);
	dynbuf_init(&s.error_body, ERROR_BODY_MAX);
	h = kube_handle_curl(handle);
	curl_error[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 0L);
	rc = curl_easy_perform(h);
	kube_client_release(c, handle);
	snprintf(label, sizeof(label), "%s%s", o->label ? "" : "GET ", o->label ? o->label : o->path);
	err = outcome(&s, o, label, rc, curl_error, errbuf, errlen);
	kube_linebuf_free(&s.lines);
	dynbuf_free(&s.error_body);
	return err;
}
