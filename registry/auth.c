/* Registry authentication: how each host authenticates and our credentials for it, the bearer-token cache and the
 * token server exchange, and where a request's credentials may go. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/connection.h"
#include "registry/credhelper.h"
#include "registry/transfer.h"
#include "util/backoff.h"
#include "util/timefmt.h"
#include "util/banned.h"

#define TOKEN_RESPONSE_MAX ((size_t)64 * 1024)

struct reg_host_auth *reg_auth_host(struct reg_client *c, const char *host)
{
	for (size_t i = 0; i < c->host_count; i++)
		if (strcmp(c->hosts[i].host, host) == 0)
			return &c->hosts[i];
	if (c->host_count == REG_HOSTS_MAX || strlen(host) >= sizeof(c->hosts[0].host))
		return NULL;
	snprintf(c->hosts[c->host_count].host, sizeof(c->hosts[0].host), "%s", host);
	return &c->hosts[c->host_count++];
}

enum reg_err reg_auth_load_credentials(struct reg_client *c, struct reg_host_auth *h, char *errbuf, size_t errlen)
{
	enum reg_err err;

	if (h->credentials_loaded)
		return REG_OK;
	h->credentials_loaded = true;
	if (!c->opts.docker_config_dir)
		return REG_OK;
	/* docker config keys name Docker Hub "docker.io" or "index.docker.io", not its API host */
	err = reg_credentials_load(c->opts.docker_config_dir, strcmp(h->host, "registry-1.docker.io") == 0 ? "docker.io" : h->host,
				   &h->credentials, errbuf, errlen);
	if (err == REG_OK)
		h->have_credentials = true;
	else if (err == REG_E_NOT_FOUND)
		err = REG_OK;
	return err;
}

/* The cached token of host and scope that has not expired, or NULL. */
static const char *find_token(struct reg_client *c, const char *host, const char *scope)
{
	double now = monotonic_seconds();

	for (size_t i = 0; i < c->token_count; i++) {
		struct reg_cached_token *t = &c->tokens[i];
		double exp = (double)t->expires.tv_sec + (double)t->expires.tv_nsec / 1e9;
		if (strcmp(t->host, host) == 0 && strcmp(t->scope, scope) == 0 && exp > now)
			return t->token;
	}
	return NULL;
}

/* Caches token for host and scope, replacing an older one or, when the cache is full, a random one. */
static void store_token(struct reg_client *c, const char *host, const char *scope, const char *token, long expires_in)
{
	struct reg_cached_token *t = NULL;
	double exp;

	for (size_t i = 0; i < c->token_count; i++)
		if (strcmp(c->tokens[i].host, host) == 0 && strcmp(c->tokens[i].scope, scope) == 0)
			t = &c->tokens[i];
	if (!t)
		t = c->token_count < REG_TOKENS_MAX ? &c->tokens[c->token_count++] : &c->tokens[rng_next(&c->rng) % REG_TOKENS_MAX];
	snprintf(t->host, sizeof(t->host), "%s", host);
	snprintf(t->scope, sizeof(t->scope), "%s", scope);
	snprintf(t->token, sizeof(t->token), "%s", token);
	/* refresh a little before the registry's deadline */
	exp = monotonic_seconds() + (double)expires_in * 0.9;
	t->expires.tv_sec = (time_t)exp;
	t->expires.tv_nsec = (long)((exp - (double)t->expires.tv_sec) * 1e9);
}

/* Appends "&scope=X" for every space-separated scope, escaped. */
static bool add_scopes(CURL *h, struct dynbuf *url, const char *scopes)
{
	const char *p = scopes;

	while (*p) {
		size_t n = strcspn(p, " ");
		if (n) {
			char *esc = curl_easy_escape(h, p, (int)n);
			bool ok = esc && dynbuf_addf(url, "&scope=%s", esc) == DYNBUF_OK;
			curl_free(esc);
			if (!ok)
				return false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return true;
}

/* The token request of h for scope: its URL (realm, service and scopes) into url. Refuses a realm that is not an
 * http(s) URL and, when we have credentials, one they may not be sent to. */
static enum reg_err token_request_url(struct reg_client *c, const struct reg_host_auth *h, const char *scope, struct dynbuf *url,
				      char *errbuf, size_t errlen)
{
	char *esc = curl_easy_escape(c->curl, h->service, 0);
	bool ok = esc && dynbuf_addf(url, "%s%sservice=%s", h->realm, strchr(h->realm, '?') ? "&" : "?", esc) == DYNBUF_OK &&
		  add_scopes(c->curl, url, scope);
	char why[REG_ERRBUF_SIZE];

	curl_free(esc);
	if (!ok)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "token request URL for %s is too long", h->host);
	if (strncmp(h->realm, "https://", 8) != 0 && strncmp(h->realm, "http://", 7) != 0)
		return reg_fail(errbuf, errlen, REG_E_AUTH, "registry %s names a token realm that is not an http(s) URL", h->host);
	if (h->have_credentials && !reg_realm_may_get_credentials(h->host, !reg_client_insecure(c, h->host), h->realm, why, sizeof(why)))
		return reg_fail(errbuf, errlen, REG_E_AUTH, "registry %s: %s; nothing was sent", h->host, why);
	return REG_OK;
}

/* The OAuth2 refresh-token grant of h's identity token for scope (docker login with an identity token) into form. */
static bool refresh_grant(struct reg_client *c, const struct reg_host_auth *h, const char *scope, struct dynbuf *form)
{
	char *e_tok = curl_easy_escape(c->curl, h->credentials.identity_token, 0);
	char *e_srv = curl_easy_escape(c->curl, h->service, 0);
	bool ok;

	dynbuf_reset(form);
	ok = e_tok && e_srv &&
	     dynbuf_addf(form, "grant_type=refresh_token&client_id=multiarch-controller&refresh_token=%s&service=%s", e_tok, e_srv) ==
		     DYNBUF_OK &&
	     add_scopes(c->curl, form, scope);
	if (e_tok)
		OPENSSL_cleanse(e_tok, strlen(e_tok));
	curl_free(e_tok);
	curl_free(e_srv);
	return ok;
}

/* Sets the client's handle up for one token request of h to url (or to the realm with the grant in form); false
 * when the grant does not fit. */
static bool token_request_setup(struct reg_client *c, const struct reg_host_auth *h, const char *scope, const struct dynbuf *url,
				struct dynbuf *form, struct reg_transfer *t, char *curl_error)
{
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, dynbuf_str(url));
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "multiarch-controller");
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, reg_transfer_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, reg_transfer_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, t);
	reg_client_set_trust(c, c->curl);
	if (h->have_credentials && h->credentials.identity_token[0]) {
		if (!refresh_grant(c, h, scope, form))
			return false;
		curl_easy_setopt(c->curl, CURLOPT_URL, h->realm);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, dynbuf_str(form));
	} else if (h->have_credentials) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, h->credentials.username);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, h->credentials.password);
	}
	return true;
}

/* Asks h's token server for scope, retrying connection errors, 5xx and 429 as requests do; the answer is in t->resp. */
static enum reg_err token_exchange(struct reg_client *c, const struct reg_host_auth *h, const char *scope, const struct dynbuf *url,
				   struct dynbuf *form, struct reg_transfer *t, char *errbuf, size_t errlen)
{
	char curl_error[CURL_ERROR_SIZE];
	struct curl_slist *headers;
	CURLcode rc;

	for (unsigned attempt = 0;; attempt++) {
		curl_error[0] = '\0';
		if (!token_request_setup(c, h, scope, url, form, t, curl_error))
			return reg_fail(errbuf, errlen, REG_E_NOMEM, "token request for %s is too long", h->host);
		headers = curl_slist_append(NULL, "Accept: application/json");
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
		dynbuf_reset(&t->resp->body);
		t->resp->status = 0;
		c->requests++;
		reg_client_perform(c, &c->curl, 1, &rc);
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &t->resp->status);
		curl_slist_free_all(headers);
		if (rc == CURLE_OK && t->resp->status < 500 && t->resp->status != 429)
			return REG_OK;
		if (attempt >= c->opts.max_retries)
			return rc != CURLE_OK ? reg_fail(errbuf, errlen, REG_E_NETWORK, "token server of %s: %s", h->host, curl_error)
					      : reg_fail(errbuf, errlen, REG_E_HTTP, "token server of %s answered %ld after %u retries",
							 h->host, t->resp->status, attempt);
		sleep_ms(backoff_delay_ms(attempt, c->opts.backoff_base_ms, c->opts.backoff_cap_ms, &c->rng));
	}
}

/* Takes the token of the token server's answer resp (to a request for scope) into the cache under cache_scope. */
static enum reg_err token_from_answer(struct reg_client *c, const struct reg_host_auth *h, const char *scope, const char *cache_scope,
				      const struct reg_response *resp, char *errbuf, size_t errlen)
{
	cJSON *json;
	const cJSON *tok, *exp;
	long expires_in = 60;
	enum reg_err err = REG_OK;

	if (resp->status == 401 || resp->status == 403)
		return reg_fail(errbuf, errlen, REG_E_AUTH, "token server of %s refused %s for scope \"%s\" (HTTP %ld)", h->host,
				h->have_credentials ? "our credentials" : "anonymous access", scope, resp->status);
	if (resp->status != 200)
		return reg_fail(errbuf, errlen, REG_E_AUTH, "token server of %s answered HTTP %ld", h->host, resp->status);
	json = cJSON_ParseWithLength(dynbuf_str(&resp->body), dynbuf_len(&resp->body));
	tok = cJSON_GetObjectItemCaseSensitive(json, "token");
	if (!cJSON_IsString(tok) || !tok->valuestring[0])
		tok = cJSON_GetObjectItemCaseSensitive(json, "access_token");
	exp = cJSON_GetObjectItemCaseSensitive(json, "expires_in");
	if (cJSON_IsNumber(exp) && exp->valuedouble >= 1 && exp->valuedouble < 86400 * 30)
		expires_in = (long)exp->valuedouble;
	if (!cJSON_IsString(tok) || !tok->valuestring[0] || strlen(tok->valuestring) >= REG_TOKEN_MAX)
		err = reg_fail(errbuf, errlen, REG_E_AUTH, "token server of %s sent no usable token", h->host);
	else if (!reg_token_valid(tok->valuestring))
		err = reg_fail(errbuf, errlen, REG_E_AUTH, "token server of %s sent a token with characters outside the token grammar",
			       h->host);
	else
		store_token(c, h->host, cache_scope, tok->valuestring, expires_in);
	if (cJSON_IsString(tok))
		OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(json);
	return err;
}

/*
 * Fetches a bearer token for scope from h's realm, with our credentials when
 * we have them, and caches it under cache_scope (the scope requests name).
 * Every buffer that held a secret is wiped.
 */
static enum reg_err fetch_token(struct reg_client *c, struct reg_host_auth *h, const char *scope, const char *cache_scope, char *errbuf,
				size_t errlen)
{
	struct dynbuf url, form;
	struct reg_response resp = {0};
	struct reg_transfer t = {.resp = &resp, .body_max = TOKEN_RESPONSE_MAX};
	enum reg_err err;

	dynbuf_init(&url, 8192);
	dynbuf_init(&form, 16384);
	dynbuf_init(&resp.body, TOKEN_RESPONSE_MAX);
	err = token_request_url(c, h, scope, &url, errbuf, errlen);
	if (!err)
		err = token_exchange(c, h, scope, &url, &form, &t, errbuf, errlen);
	if (!err)
		err = token_from_answer(c, h, scope, cache_scope, &resp, errbuf, errlen);
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.alloc);
	if (form.data)
		OPENSSL_cleanse(form.data, form.alloc);
	dynbuf_free(&resp.body);
	dynbuf_free(&url);
	dynbuf_free(&form);
	return err;
}

void reg_auth_header(struct reg_client *c, struct reg_host_auth *h, const char *scope, char *buf, size_t len)
{
	const char *tok;

	buf[0] = '\0';
	if (h->scheme == REG_AUTH_BASIC && h->have_credentials && h->credentials.username[0]) {
		char plain[2 * REG_CRED_FIELD_MAX + 2];
		unsigned char b64[sizeof(plain) * 4 / 3 + 8];
		int n = snprintf(plain, sizeof(plain), "%s:%s", h->credentials.username, h->credentials.password);
		if (n > 0 && (size_t)n < sizeof(plain)) {
			EVP_EncodeBlock(b64, (unsigned char *)plain, n);
			snprintf(buf, len, "Basic %s", (char *)b64);
		}
		OPENSSL_cleanse(plain, sizeof(plain));
		OPENSSL_cleanse(b64, sizeof(b64));
	} else if (h->scheme == REG_AUTH_BEARER && (tok = find_token(c, h->host, scope))) {
		snprintf(buf, len, "Bearer %s", tok);
	}
}

/* The host[:port] of an absolute URL, without a default port, in buf; false when it does not fit or has userinfo. */
static bool url_authority(const char *url, char *buf, size_t len)
{
	bool tls = strncmp(url, "https://", 8) == 0;
	const char *start = url + (tls ? 8 : 7);
	size_t n = strcspn(start, "/?#");

	if (n == 0 || n >= len || memchr(start, '@', n))
		return false;
	memcpy(buf, start, n);
	buf[n] = '\0';
	if ((tls && n > 4 && strcmp(buf + n - 4, ":443") == 0) || (!tls && n > 3 && strcmp(buf + n - 3, ":80") == 0))
		buf[strrchr(buf, ':') - buf] = '\0';
	return true;
}

enum reg_url_target reg_auth_target(const struct reg_client *c, const struct reg_request *req, char *authority, size_t len)
{
	bool absolute_tls = strncmp(req->path, "https://", 8) == 0;

	snprintf(authority, len, "%s", req->host);
	if (!absolute_tls && strncmp(req->path, "http://", 7) != 0)
		return REG_URL_SAME_HOST;
	if (!absolute_tls && !reg_client_insecure(c, req->host))
		return REG_URL_DOWNGRADE;
	if (!url_authority(req->path, authority, len))
		return REG_URL_OTHER_HOST;
	return strcasecmp(authority, req->host) == 0 ? REG_URL_SAME_HOST : REG_URL_OTHER_HOST;
}

enum reg_err reg_auth_answer_challenge(struct reg_client *c, struct reg_host_auth *h, const struct reg_request *req, const char *challenge,
				       char *errbuf, size_t errlen)
{
	const char *scope = req->scope ? req->scope : "";
	struct reg_challenge ch;
	char cherr[REG_ERRBUF_SIZE];

	if (reg_challenge_parse(challenge, &ch, cherr, sizeof(cherr)) != REG_OK)
		return reg_fail(errbuf, errlen, REG_E_AUTH, "registry %s asks for authentication: %s", req->host, cherr);
	h->scheme = ch.scheme;
	snprintf(h->realm, sizeof(h->realm), "%s", ch.realm);
	snprintf(h->service, sizeof(h->service), "%s", ch.service);
	if (ch.scheme == REG_AUTH_BASIC && !h->have_credentials)
		return reg_fail(errbuf, errlen, REG_E_AUTH,
				"registry %s requires a login and no credentials for it were given (use --docker-config)", req->host);
	/* ask for the scope this request needs; without one, for what the challenge names */
	if (ch.scheme == REG_AUTH_BEARER)
		return fetch_token(c, h, scope[0] ? scope : ch.scope, scope, errbuf, errlen);
	return REG_OK;
}
