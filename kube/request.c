/* The client's requests: one attempt prepared on a pooled handle and run on the transfer loop, its answer read
 * and classified, bounded retries with backoff; or one attempt started without waiting. */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/client.h"
#include "kube/clientpool.h"
#include "kube/mux.h"
#include "util/backoff.h"
#include "util/banned.h"

#define RETRY_AFTER_CAP_S 30

struct body_sink {
	struct dynbuf *body;
	bool too_big;
	long retry_after_s;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct body_sink *s = userp;
	size_t len = size * nmemb;

	if (dynbuf_add(s->body, data, len) != DYNBUF_OK) {
		s->too_big = true;
		return 0;
	}
	return len;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
	struct body_sink *s = userp;
	size_t len = size * nmemb;

	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
		char *end = NULL;
		long v = strtol(line + 12, &end, 10);
		if (end != line + 12 && v >= 0)
			s->retry_after_s = v;
	}
	return len;
}

/* The largest answer body c takes: its option, else KUBE_BODY_MAX. */
static size_t body_max_of(const struct kube_client *c)
{
	size_t max = kube_client_options_of(c)->body_max;

	return max ? max : KUBE_BODY_MAX;
}

static bool is_read(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Sets p up for one attempt of method with its body, if any, with content_type; the answer goes to sink. *extra
 * receives the headers list made for a body (to be given to end_attempt). */
static void prepare_attempt(struct kube_client *c, void *p, const char *method, const char *content_type, const char *body, size_t body_len,
			    struct body_sink *sink, char *curl_error, struct curl_slist **extra)
{
	char ct_header[128];

	*extra = NULL;
	curl_error[0] = '\0';
	curl_easy_setopt(kube_handle_curl(p), CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(kube_handle_curl(p), CURLOPT_TIMEOUT, kube_client_options_of(c)->request_timeout_s);
	curl_easy_setopt(kube_handle_curl(p), CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(kube_handle_curl(p), CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(kube_handle_curl(p), CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(kube_handle_curl(p), CURLOPT_HEADERDATA, sink);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(kube_handle_curl(p), CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(kube_handle_curl(p), CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(kube_handle_curl(p), CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		snprintf(ct_header, sizeof(ct_header), "Content-Type: %s", content_type ? content_type : KUBE_CT_JSON);
		*extra = curl_slist_append(NULL, ct_header);
		for (struct curl_slist *h = kube_handle_headers(p); h && *extra; h = h->next)
			*extra = curl_slist_append(*extra, h->data);
		curl_easy_setopt(kube_handle_curl(p), CURLOPT_HTTPHEADER, *extra);
	}
}

/* After an attempt over p: its HTTP status into resp, p released, the response hook called, extra wiped and freed. */
static void end_attempt(struct kube_client *c, void *p, const char *method, struct curl_slist *extra, struct kube_response *resp)
{
	resp->status = 0;
	curl_easy_getinfo(kube_handle_curl(p), CURLINFO_RESPONSE_CODE, &resp->status);
	kube_client_release(c, p);
	if (kube_client_options_of(c)->on_response)
		kube_client_options_of(c)->on_response(kube_client_options_of(c)->on_response_ctx, method, resp->status);
	/* the list copied the Authorization header: wipe it before freeing */
	for (struct curl_slist *h = extra; h; h = h->next)
		if (strncmp(h->data, "Authorization:", 14) == 0)
			OPENSSL_cleanse(h->data, strlen(h->data));
	curl_slist_free_all(extra);
}

/* Sends one attempt over the pooled handle p (released here) on the transfer loop and waits for it; the answer goes
 * to resp and sink. Returns curl's result. */
static CURLcode send_attempt(struct kube_client *c, void *p, const char *method, const char *content_type, const char *body,
			     size_t body_len, struct body_sink *sink, char *curl_error, struct kube_response *resp)
{
	struct curl_slist *extra;
	CURLcode rc;

	prepare_attempt(c, p, method, content_type, body, body_len, sink, curl_error, &extra);
	rc = kube_mux_perform(kube_client_mux(c), kube_handle_curl(p));
	end_attempt(c, p, method, extra, resp);
	return rc;
}

/* The error of an attempt that ended with rc and resp (worded into errbuf), and in *retry whether it may be sent
 * again: a refused connection for any verb, other transport errors and 5xx for reads, 429 and 503 for all. */
static enum kube_err attempt_error(const struct kube_client *c, const char *method, const char *path, CURLcode rc,
				   const struct body_sink *sink, const char *curl_error, struct kube_response *resp, bool *retry,
				   char *errbuf, size_t errlen)
{
	enum kube_err err;

	*retry = false;
	if (sink->too_big)
		return kube_fail(errbuf, errlen, KUBE_E_TOO_LONG, "%s %s: the answer is larger than %zu bytes", method, path,
				 body_max_of(c));
	if (rc != CURLE_OK) {
		/* a refused connection never reached the server, so any verb may be sent again */
		*retry = rc == CURLE_COULDNT_CONNECT ||
			 (is_read(method) &&
			  (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR ||
			   rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM));
		return kube_fail(errbuf, errlen, KUBE_E_NETWORK, "%s %s%s: %s", method, kube_client_config_of(c)->server, path,
				 curl_error[0] ? curl_error : curl_easy_strerror(rc));
	}
	err = kube_err_from_http(resp->status);
	if (!err)
		return KUBE_OK;
	kube_status_parse(resp->body.data, resp->body.len, resp->status, &resp->st);
	if (sink->retry_after_s >= 0)
		resp->st.retry_after_s = sink->retry_after_s;
	kube_fail(errbuf, errlen, err, "%s %s: %ld %s%s%s", method, path, resp->status, resp->st.reason, resp->st.reason[0] ? ": " : "",
		  resp->st.message);
	*retry = err == KUBE_E_TOO_MANY || (err == KUBE_E_SERVER && (is_read(method) || resp->status == 503));
	return err;
}

/* The wait before retry number attempt + 1: our backoff, or the server's Retry-After (capped) when longer. */
static unsigned retry_delay_ms(struct kube_client *c, unsigned attempt, CURLcode rc, const struct kube_response *resp)
{
	unsigned delay;

	delay = kube_client_backoff_ms(c, attempt);
	if (rc == CURLE_OK && resp->st.retry_after_s >= 0) {
		long s = resp->st.retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : resp->st.retry_after_s;
		delay = (unsigned)(s * 1000) > delay ? (unsigned)(s * 1000) : delay;
	}
	return delay;
}

enum kube_err kube_request(struct kube_client *c, const char *method, const char *path, const char *content_type, const char *body,
			   size_t body_len, struct kube_response *resp, char *errbuf, size_t errlen)
{
	char curl_error[CURL_ERROR_SIZE];
	enum kube_err err;
	bool reauthed = false, retry;
	unsigned attempt = 0;

	memset(resp, 0, sizeof(*resp));
	dynbuf_init(&resp->body, body_max_of(c));
	for (;;) {
		struct body_sink sink = {.body = &resp->body, .retry_after_s = -1};
		void *p;
		CURLcode rc;

		kube_client_rate_wait(c);
		p = kube_client_acquire(c, path, errbuf, errlen);
		if (!p)
			return kube_client_config_of(c)->has_exec ? KUBE_E_EXEC : KUBE_E_CONFIG;
		dynbuf_reset(&resp->body);
		rc = send_attempt(c, p, method, content_type, body, body_len, &sink, curl_error, resp);
		err = attempt_error(c, method, path, rc, &sink, curl_error, resp, &retry, errbuf, errlen);
		if (err == KUBE_E_UNAUTHORIZED && kube_client_config_of(c)->has_exec && !reauthed) {
			/* the plugin's credential may have been revoked early: run it again once */
			reauthed = true;
			kube_client_invalidate_credentials(c);
			continue;
		}
		if (!retry || attempt >= kube_client_options_of(c)->max_retries)
			return err;
		sleep_ms(retry_delay_ms(c, attempt, rc, resp));
		attempt++;
	}
}

/* One request started by kube_request_start(), the loop's until its callback ran. */
struct started {
	struct kube_client *c;
	void *p; /* the pooled handle, released when the attempt ends */
	char method[16];
	char path[KUBE_PATH_MAX];
	char *body;
	struct body_sink sink;
	struct kube_response resp;
	struct curl_slist *extra;
	char curl_error[CURL_ERROR_SIZE];
	kube_request_done_fn done;
	void *ctx;
};

static void started_done(void *ctx, CURLcode rc)
{
	struct started *s = ctx;
	char errbuf[KUBE_ERRBUF_SIZE] = "";
	enum kube_err err;
	bool retry;

	end_attempt(s->c, s->p, s->method, s->extra, &s->resp);
	err = attempt_error(s->c, s->method, s->path, rc, &s->sink, s->curl_error, &s->resp, &retry, errbuf, sizeof(errbuf));
	if (err == KUBE_E_UNAUTHORIZED && kube_client_config_of(s->c)->has_exec)
		kube_client_invalidate_credentials(s->c); /* the next request runs the plugin again */
	s->done(s->ctx, err, &s->resp, errbuf);
	kube_response_free(&s->resp);
	free(s->body);
	free(s);
}

enum kube_err kube_request_start(struct kube_client *c, const char *method, const char *path, const char *content_type, const char *body,
				 size_t body_len, kube_request_done_fn done, void *ctx, char *errbuf, size_t errlen)
{
	struct started *s = calloc(1, sizeof(*s));

	if (!s || (body && !(s->body = malloc(body_len + 1))) ||
	    snprintf(s->method, sizeof(s->method), "%s", method) >= (int)sizeof(s->method) ||
	    snprintf(s->path, sizeof(s->path), "%s", path) >= (int)sizeof(s->path)) {
		if (s)
			free(s->body);
		free(s);
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "%s %s: out of memory, or the method or path too long", method, path);
	}
	if (body) {
		memcpy(s->body, body, body_len);
		s->body[body_len] = '\0';
	}
	s->c = c;
	s->done = done;
	s->ctx = ctx;
	s->sink.body = &s->resp.body;
	s->sink.retry_after_s = -1;
	dynbuf_init(&s->resp.body, body_max_of(c));
	kube_client_rate_wait(c);
	s->p = kube_client_acquire(c, path, errbuf, errlen);
	if (!s->p) {
		free(s->body);
		free(s);
		return kube_client_config_of(c)->has_exec ? KUBE_E_EXEC : KUBE_E_CONFIG;
	}
	prepare_attempt(c, s->p, method, content_type, s->body, body_len, &s->sink, s->curl_error, &s->extra);
	if (!kube_mux_submit(kube_client_mux(c), kube_handle_curl(s->p), started_done, s)) {
		end_attempt(c, s->p, method, s->extra, &s->resp);
		kube_response_free(&s->resp);
		free(s->body);
		free(s);
		return kube_fail(errbuf, errlen, KUBE_E_STOPPED, "%s %s: the client's transfer loop is ending", method, path);
	}
	return KUBE_OK;
}
