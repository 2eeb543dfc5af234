/* The registry HTTP client's transfers: reused connections, batches of GETs sent at once, TLS with private CAs, plain
 * HTTP for named hosts, and bounded retries; authentication (challenges, tokens, credentials) is auth.c's. */
#include "registry/client.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/connection.h"
#include "registry/transfer.h"
#include "util/backoff.h"
#include "util/fileio.h"
#include "util/banned.h"

#define CA_BUNDLE_MAX ((size_t)4 * 1024 * 1024)
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_DIR "/etc/ssl/certs" /* OpenSSL's hashed directory: a root is read only when a chain needs it */
#define DEFAULT_BODY_MAX ((size_t)64 * 1024)

void reg_client_options_init(struct reg_client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 10000;
	o->low_speed_time_s = 30;
	o->low_speed_bps = 1024;
	o->transfer_timeout_s = 600;
	o->max_retries = 4;
	o->backoff_base_ms = 250;
	o->backoff_cap_ms = 8000;
	o->retry_after_cap_s = 30;
}

/* Whether dir holds OpenSSL's hashed links to CA certificates ("0123abcd.0"). */
static bool hashed_ca_dir(const char *dir)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		found = len == 10 && e->d_name[8] == '.' && e->d_name[9] == '0' && strspn(e->d_name, "0123456789abcdef") == 8;
	}
	closedir(d);
	return found;
}

enum reg_err reg_client_new(const struct reg_client_options *opts, struct reg_client **out, char *errbuf, size_t errlen)
{
	struct reg_client *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory creating the registry client");
	c->opts = *opts;
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = 10000;
	if (!c->opts.low_speed_time_s)
		c->opts.low_speed_time_s = 30;
	if (!c->opts.low_speed_bps)
		c->opts.low_speed_bps = 1024;
	if (!c->opts.transfer_timeout_s)
		c->opts.transfer_timeout_s = 600;
	if (!c->opts.backoff_base_ms)
		c->opts.backoff_base_ms = 250;
	if (!c->opts.backoff_cap_ms)
		c->opts.backoff_cap_ms = 8000;
	if (!c->opts.retry_after_cap_s)
		c->opts.retry_after_cap_s = 30;
	c->rng = rng_seed();
	dynbuf_init(&c->ca_blob, CA_BUNDLE_MAX);
	c->system_ca_dir = opts->system_ca_dir ? opts->system_ca_dir : SYSTEM_CA_DIR;
	if (!hashed_ca_dir(c->system_ca_dir))
		c->system_ca_dir = NULL;
	if (opts->ca_file_count) {
		/* trust the system's CAs and the private ones together; the system's through their directory when it is hashed */
		if (!c->system_ca_dir && access(SYSTEM_CA_BUNDLE, R_OK) == 0 &&
		    (file_read_all(SYSTEM_CA_BUNDLE, &c->ca_blob) || dynbuf_addstr(&c->ca_blob, "\n"))) {
			reg_client_free(c);
			return reg_fail(errbuf, errlen, REG_E_IO, "cannot read the system CA bundle %s", SYSTEM_CA_BUNDLE);
		}
		for (size_t i = 0; i < opts->ca_file_count && i < REG_CA_FILES_MAX; i++) {
			if (file_read_all(opts->ca_files[i], &c->ca_blob) || dynbuf_addstr(&c->ca_blob, "\n")) {
				reg_client_free(c);
				return reg_fail(errbuf, errlen, REG_E_IO, "cannot read CA file %s (or the CAs are larger than %zu bytes)",
						opts->ca_files[i], CA_BUNDLE_MAX);
			}
		}
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		reg_client_free(c);
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "cannot create a curl handle");
	}
	*out = c;
	return REG_OK;
}

void reg_client_free(struct reg_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < REG_BATCH_MAX; i++)
		if (c->batch_handles[i])
			curl_easy_cleanup(c->batch_handles[i]);
	dynbuf_free(&c->ca_blob);
	OPENSSL_cleanse(c->hosts, sizeof(c->hosts));
	OPENSSL_cleanse(c->tokens, sizeof(c->tokens));
	free(c);
}

unsigned long reg_client_request_count(const struct reg_client *c)
{
	return c->requests;
}

void reg_response_free(struct reg_response *resp)
{
	if (resp)
		dynbuf_free(&resp->body);
}

/* Builds the absolute URL of req into buf. */
static bool request_url(const struct reg_client *c, const struct reg_request *req, char *buf, size_t len)
{
	int n;

	if (strncmp(req->path, "http://", 7) == 0 || strncmp(req->path, "https://", 8) == 0)
		n = snprintf(buf, len, "%s", req->path);
	else
		n = snprintf(buf, len, "%s://%s%s", reg_client_insecure(c, req->host) ? "http" : "https", req->host, req->path);
	return n > 0 && (size_t)n < len;
}

/*
 * Sets handle h up for one HTTP request (no retry, no auth handshake) with the
 * given Authorization header value, and counts it. On CURLE_OK the caller
 * performs it and then frees *headers; on error nothing is left to free.
 */
/* Sets req's method on h, and what it sends: the upload file, or the body (empty for a PUT, POST or PATCH without
 * one). GET and HEAD follow redirects: blob downloads are redirected to storage, and curl drops our Authorization
 * on a host change. */
static void set_method(CURL *h, const struct reg_request *req)
{
	bool is_head = strcmp(req->method, "HEAD") == 0;

	if (strcmp(req->method, "GET") == 0 || is_head) {
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	}
	if (is_head)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->upload) {
		rewind(req->upload);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, req->upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
	} else if (req->body || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PATCH") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
}

/* The request headers of req: Accept, Content-Type, Authorization (when given) and no Expect; the caller frees the
 * list with curl_slist_free_all(). The text of the Authorization header is wiped from the stack here. */
static struct curl_slist *request_headers(const struct reg_request *req, const char *authorization)
{
	char header[REG_AUTH_HEADER_MAX + 32];
	struct curl_slist *headers = NULL;

	if (req->accept) {
		snprintf(header, sizeof(header), "Accept: %s", req->accept);
		headers = curl_slist_append(headers, header);
	}
	snprintf(header, sizeof(header), "Content-Type: %s", req->content_type ? req->content_type : "");
	if (req->content_type || req->body || req->upload)
		headers = curl_slist_append(headers, req->content_type ? header : "Content-Type: application/octet-stream");
	if (authorization) {
		snprintf(header, sizeof(header), "Authorization: %s", authorization);
		headers = curl_slist_append(headers, header);
	}
	headers = curl_slist_append(headers, "Expect:");
	OPENSSL_cleanse(header, sizeof(header));
	return headers;
}

static CURLcode prepare_transfer(struct reg_client *c, CURL *h, const struct reg_request *req, const char *authorization,
				 struct reg_transfer *t, char *curl_error, struct curl_slist **headers_out)
{
	struct curl_slist *headers;
	char url[4096];

	*headers_out = NULL;
	if (!request_url(c, req, url, sizeof(url))) {
		snprintf(curl_error, CURL_ERROR_SIZE, "request URL is too long");
		return CURLE_URL_MALFORMAT;
	}
	curl_easy_reset(h);
	curl_error[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, c->opts.low_speed_bps);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->opts.low_speed_time_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->opts.transfer_timeout_s);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a TLS registry is never followed down to plain HTTP */
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, strncmp(url, "https://", 8) == 0 ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "multiarch-controller");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, reg_transfer_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reg_transfer_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	reg_client_set_trust(c, h);
	set_method(h, req);
	headers = request_headers(req, authorization);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

	if (t->download) {
		rewind(t->download);
		if (ftruncate(fileno(t->download), 0) != 0) {
			snprintf(curl_error, CURL_ERROR_SIZE, "cannot truncate the download file: %s", strerror(errno));
			curl_slist_free_all(headers);
			return CURLE_WRITE_ERROR;
		}
	}
	dynbuf_reset(&t->resp->body);
	t->resp->status = 0;
	t->too_big = false;
	t->downloaded = 0;
	t->challenge[0] = '\0';
	t->retry_after_s = -1;
	c->requests++;
	*headers_out = headers;
	return CURLE_OK;
}

/* The batch handle of slot i, created on first use; false when memory runs out. */
static bool batch_handle(struct reg_client *c, size_t i)
{
	if (!c->batch_handles[i])
		c->batch_handles[i] = curl_easy_init();
	return c->batch_handles[i] != NULL;
}

/* Sends one HTTP request (no retry, no auth handshake) over the client's own handle. */
static CURLcode send_once(struct reg_client *c, const struct reg_request *req, const char *authorization, struct reg_transfer *t,
			  char *curl_error)
{
	struct curl_slist *headers;
	CURLcode rc = prepare_transfer(c, c->curl, req, authorization, t, curl_error, &headers);

	if (rc != CURLE_OK)
		return rc;
	reg_client_perform(c, &c->curl, 1, &rc);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &t->resp->status);
	curl_slist_free_all(headers);
	return rc;
}

/* The wait before the next attempt: our backoff, or the registry's Retry-After (capped) when longer. */
static unsigned retry_delay_ms(struct reg_client *c, unsigned attempt, CURLcode rc, const struct reg_transfer *t)
{
	unsigned delay = backoff_delay_ms(attempt, c->opts.backoff_base_ms, c->opts.backoff_cap_ms, &c->rng);

	if (rc == CURLE_OK && t->retry_after_s >= 0) {
		long cap = (long)c->opts.retry_after_cap_s;
		unsigned wanted = (unsigned)((t->retry_after_s > cap ? cap : t->retry_after_s) * 1000);
		if (wanted > delay)
			delay = wanted;
	}
	return delay;
}

/* The error of a transfer that stopped because its answer was too large. */
static enum reg_err too_big(const struct reg_request *req, const struct reg_transfer *t, const char *where, char *errbuf, size_t errlen)
{
	if (t->download)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG,
				"%s %s%s: the registry sent more than the %lld bytes the manifest declares; the transfer was stopped",
				req->method, where, req->path[0] == '/' ? req->path : "", t->download_max);
	return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "%s %s%s: the answer is larger than %zu bytes", req->method, where,
			req->path[0] == '/' ? req->path : "", t->body_max);
}

/* The error once the retries of req ran out. */
static enum reg_err retries_exhausted(const struct reg_request *req, CURLcode rc, long status, unsigned attempt, const char *curl_error,
				      char *errbuf, size_t errlen)
{
	if (rc != CURLE_OK)
		return reg_fail(errbuf, errlen, REG_E_NETWORK, "%s %s%s failed after %u retries: %s", req->method, req->host,
				req->path[0] == '/' ? req->path : "", attempt, curl_error[0] ? curl_error : curl_easy_strerror(rc));
	return reg_fail(errbuf, errlen, REG_E_HTTP, "%s %s%s: the registry answered %ld after %u retries", req->method, req->host,
			req->path[0] == '/' ? req->path : "", status, attempt);
}

enum reg_err reg_client_do(struct reg_client *c, const struct reg_request *req, struct reg_response *resp, char *errbuf, size_t errlen)
{
	struct reg_transfer t = {.resp = resp, .download = req->download, .download_max = req->download_max};
	struct reg_host_auth *h;
	char curl_error[CURL_ERROR_SIZE], auth[REG_AUTH_HEADER_MAX], where[256];
	enum reg_url_target target = reg_auth_target(c, req, where, sizeof(where));
	unsigned attempt = 0;
	bool answered_challenge = false;
	enum reg_err err = REG_OK;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	t.body_max = req->body_max ? req->body_max : DEFAULT_BODY_MAX;
	dynbuf_init(&resp->body, t.body_max);
	if (target == REG_URL_DOWNGRADE)
		return reg_fail(errbuf, errlen, REG_E_AUTH,
				"registry %s is spoken to over TLS and sent a plain-HTTP Location; nothing was sent there", req->host);
	h = reg_auth_host(c, req->host);
	if (!h)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "too many registry hosts in one run (at most %d)", REG_HOSTS_MAX);
	err = reg_auth_load_credentials(c, h, errbuf, errlen);
	while (!err) {
		auth[0] = '\0';
		if (target == REG_URL_SAME_HOST)
			reg_auth_header(c, h, req->scope ? req->scope : "", auth, sizeof(auth));
		rc = send_once(c, req, auth[0] ? auth : NULL, &t, curl_error);
		OPENSSL_cleanse(auth, sizeof(auth));
		if (t.too_big)
			return too_big(req, &t, where, errbuf, errlen);
		if (rc == CURLE_OK && resp->status == 401 && target == REG_URL_OTHER_HOST)
			return reg_fail(errbuf, errlen, REG_E_AUTH,
					"%s to %s, a Location on another host than registry %s, asks for authentication; credentials "
					"are never sent to another host",
					req->method, where, req->host);
		if (rc == CURLE_OK && resp->status == 401 && !answered_challenge) {
			answered_challenge = true;
			err = reg_auth_answer_challenge(c, h, req, t.challenge, errbuf, errlen);
			continue; /* the handshake is no retry */
		}
		if (rc == CURLE_OK && resp->status == 401)
			return reg_fail(errbuf, errlen, REG_E_AUTH, "registry %s refused %s for %s %s", req->host,
					h->have_credentials ? "the credentials" : "anonymous access", req->method, req->path);
		if (rc == CURLE_OK && resp->status != 429 && resp->status < 500) {
			h->answered = true;
			return REG_OK;
		}
		if (rc != CURLE_OK && !reg_transfer_retryable(rc))
			return reg_fail(errbuf, errlen, REG_E_NETWORK, "%s %s: %s", req->method, where,
					curl_error[0] ? curl_error : curl_easy_strerror(rc));
		if (attempt >= c->opts.max_retries)
			return retries_exhausted(req, rc, resp->status, attempt, curl_error, errbuf, errlen);
		sleep_ms(retry_delay_ms(c, attempt, rc, &t));
		resp->retries = ++attempt;
	}
	return err;
}

/* Whether a request is a GET whose answer is kept in memory: what a batch sends at once. */
static bool in_memory_get(const struct reg_request *req)
{
	return strcmp(req->method, "GET") == 0 && !req->download && !req->upload && !req->body;
}

/* Whether req's host answered before, so how it authenticates is known. */
static bool host_answered(struct reg_client *c, const struct reg_request *req)
{
	const struct reg_host_auth *h = reg_auth_host(c, req->host);

	return h && h->answered;
}

/* One batch of at most REG_BATCH_MAX requests, as reg_client_get_batch() describes. */
static void get_slice(struct reg_client *c, const struct reg_request *reqs, size_t n, struct reg_response *resps, enum reg_err *errs,
		      char (*errbufs)[REG_ERRBUF_SIZE])
{
	struct reg_transfer t[REG_BATCH_MAX] = {0};
	struct curl_slist *headers[REG_BATCH_MAX] = {0};
	char curl_errors[REG_BATCH_MAX][CURL_ERROR_SIZE], auth[REG_AUTH_HEADER_MAX];
	CURL *handles[REG_BATCH_MAX] = {0};
	CURLcode codes[REG_BATCH_MAX];
	size_t slot_of[REG_BATCH_MAX] = {0}, parallel = 0;
	bool final[REG_BATCH_MAX] = {0}, prepared[REG_BATCH_MAX] = {0};

	/* a host never heard from gets one request alone first: its answer tells how it authenticates */
	for (size_t i = 0; i < n; i++) {
		errbufs[i][0] = '\0';
		errs[i] = REG_OK;
		if (in_memory_get(&reqs[i]) && !host_answered(c, &reqs[i])) {
			errs[i] = reg_client_do(c, &reqs[i], &resps[i], errbufs[i], REG_ERRBUF_SIZE);
			final[i] = true;
		}
	}
	/* the rest at once, each with the authorization known for its host and scope */
	for (size_t i = 0; i < n; i++) {
		if (final[i] || !in_memory_get(&reqs[i]) || !host_answered(c, &reqs[i]) || !batch_handle(c, i))
			continue;
		memset(&resps[i], 0, sizeof(resps[i]));
		dynbuf_init(&resps[i].body, reqs[i].body_max ? reqs[i].body_max : DEFAULT_BODY_MAX);
		prepared[i] = true;
		t[i].resp = &resps[i];
		t[i].body_max = reqs[i].body_max ? reqs[i].body_max : DEFAULT_BODY_MAX;
		reg_auth_header(c, reg_auth_host(c, reqs[i].host), reqs[i].scope ? reqs[i].scope : "", auth, sizeof(auth));
		if (prepare_transfer(c, c->batch_handles[i], &reqs[i], auth[0] ? auth : NULL, &t[i], curl_errors[i], &headers[i]) ==
		    CURLE_OK) {
			handles[parallel] = c->batch_handles[i];
			slot_of[parallel++] = i;
		}
		OPENSSL_cleanse(auth, sizeof(auth));
	}
	reg_client_perform(c, handles, parallel, codes);
	for (size_t k = 0; k < parallel; k++) {
		size_t i = slot_of[k];
		curl_easy_getinfo(handles[k], CURLINFO_RESPONSE_CODE, &resps[i].status);
		/* a plain answer is final; a challenge, a retry or an error is left to the careful way, which words it */
		final[i] =
			codes[k] == CURLE_OK && !t[i].too_big && resps[i].status != 401 && resps[i].status != 429 && resps[i].status < 500;
	}
	for (size_t i = 0; i < n; i++) {
		curl_slist_free_all(headers[i]);
		if (final[i])
			continue;
		if (prepared[i])
			reg_response_free(&resps[i]);
		errs[i] = reg_client_do(c, &reqs[i], &resps[i], errbufs[i], REG_ERRBUF_SIZE);
	}
}

void reg_client_get_batch(struct reg_client *c, const struct reg_request *reqs, size_t n, struct reg_response *resps, enum reg_err *errs,
			  char (*errbufs)[REG_ERRBUF_SIZE])
{
	for (size_t done = 0; done < n; done += REG_BATCH_MAX) {
		size_t slice = n - done < REG_BATCH_MAX ? n - done : REG_BATCH_MAX;
		get_slice(c, reqs + done, slice, resps + done, errs + done, errbufs + done);
	}
}
