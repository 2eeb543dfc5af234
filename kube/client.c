/* The Kubernetes API client: pooled curl handles configured with every auth kind, TLS, proxy and timeouts, the
 * rate limiter and the transfer loop the requests (request.c) run on. Thread-safe. */
#include "kube/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "kube/clientpool.h"
#include "kube/exec.h"
#include "kube/mux.h"
#include "kube/ratelimit.h"
#include "util/backoff.h"
#include "util/fileio.h"
#include "util/banned.h"

#define POOL_MAX 128 /* handles, not connections: the requests share the mux's; each watch holds one */
#define TOKEN_FILE_MAX ((size_t)64 * 1024)

/* A curl handle of the pool with the headers it was given; busy while a caller holds it. */
struct pooled {
	CURL *h;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	bool busy;
	char url[KUBE_PATH_MAX + 512];
};

/*
 * Invariants: pool[0..pool_count) are created handles, attached to share for
 * the DNS and TLS session caches; a request's handle uses the connections of
 * mux (its multi handle), a stream's keeps its own; share_locks serialise the share; lock guards the pool, rng and
 * the request count; cred_lock guards the token-file cache and the exec
 * credential, so that running a credential plugin (up to its timeout) never
 * holds up a thread that only wants a handle. A thread holding lock never
 * takes cred_lock.
 */
struct kube_client {
	const struct kube_config *cfg;
	struct kube_client_options opts;
	CURLSH *share;
	struct kube_mux *mux; /* every request but the streams (watches, logs) */
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock;
	pthread_mutex_t cred_lock;
	pthread_cond_t pool_free;
	struct pooled pool[POOL_MAX];
	size_t pool_count;
	/* token file cache */
	char *file_token;
	struct timespec file_mtime;
	off_t file_size;
	/* exec credential cache */
	struct kube_exec_credential exec_cred;
	bool have_exec_cred;
	struct kube_ratelimit limiter;
	uint64_t rng;
	unsigned long requests;
	char host_port[512]; /* for CONNECT_TO with tls-server-name */
};

void kube_client_options_init(struct kube_client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->max_retries = 3;
	o->connect_timeout_ms = 10000;
	o->request_timeout_s = 60;
	o->user_agent = "multiarch-controller";
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
	struct kube_client *c = userp;
	(void)h;
	(void)access;
	pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
	struct kube_client *c = userp;
	(void)h;
	pthread_mutex_unlock(&c->share_locks[data]);
}

enum kube_err kube_client_new(const struct kube_config *cfg, const struct kube_client_options *opts, struct kube_client **out, char *errbuf,
			      size_t errlen)
{
	struct kube_client *c;

	*out = NULL;
	if (!cfg->server)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "the configuration has no server");
	c = calloc(1, sizeof(*c));
	if (!c)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	c->cfg = cfg;
	if (opts)
		c->opts = *opts;
	else
		kube_client_options_init(&c->opts);
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = 10000;
	if (!c->opts.request_timeout_s)
		c->opts.request_timeout_s = 60;
	if (!c->opts.user_agent)
		c->opts.user_agent = "multiarch-controller";
	c->rng = rng_seed();
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->cred_lock, NULL);
	pthread_cond_init(&c->pool_free, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	kube_ratelimit_init(&c->limiter, c->opts.qps, c->opts.burst);
	c->share = curl_share_init();
	if (!c->share || kube_mux_new(NULL, &c->mux, errbuf, errlen) != KUBE_OK) {
		kube_client_free(c);
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "cannot create a curl share handle or the transfer loop");
	}
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	if (cfg->tls_server_name) {
		/* connect to the server's address, but name (SNI, verification) the tls-server-name */
		const char *hp = strstr(cfg->server, "://");
		snprintf(c->host_port, sizeof(c->host_port), "%.*s", (int)strcspn(hp ? hp + 3 : cfg->server, "/"),
			 hp ? hp + 3 : cfg->server);
	}
	*out = c;
	return KUBE_OK;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	kube_mux_free(c->mux);
	for (size_t i = 0; i < c->pool_count; i++) {
		curl_easy_cleanup(c->pool[i].h);
		curl_slist_free_all(c->pool[i].headers);
		curl_slist_free_all(c->pool[i].connect_to);
	}
	if (c->share)
		curl_share_cleanup(c->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	if (c->file_token) {
		OPENSSL_cleanse(c->file_token, strlen(c->file_token));
		free(c->file_token);
	}
	kube_exec_credential_free(&c->exec_cred);
	kube_ratelimit_destroy(&c->limiter);
	pthread_cond_destroy(&c->pool_free);
	pthread_mutex_destroy(&c->cred_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

unsigned long kube_client_request_count(struct kube_client *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = c->requests;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void kube_client_mux_stats(struct kube_client *c, struct kube_mux_stats *out)
{
	kube_mux_get_stats(c->mux, out);
}

unsigned kube_client_list_pages_max(const struct kube_client *c)
{
	return c->opts.list_pages_max ? c->opts.list_pages_max : KUBE_LIST_PAGES_MAX;
}

void kube_response_free(struct kube_response *r)
{
	if (r)
		dynbuf_free(&r->body);
}

void kube_client_invalidate_credentials(struct kube_client *c)
{
	pthread_mutex_lock(&c->cred_lock);
	kube_exec_credential_free(&c->exec_cred);
	c->have_exec_cred = false;
	c->file_mtime.tv_sec = 0;
	c->file_mtime.tv_nsec = 0;
	pthread_mutex_unlock(&c->cred_lock);
}

/* Re-reads the token file when its size or modification time changed (a projected token rotates). Called with
 * cred_lock held. */
static enum kube_err refresh_file_token(struct kube_client *c, char *errbuf, size_t errlen)
{
	struct stat st;
	struct dynbuf buf;
	int rc;

	if (stat(c->cfg->token_file, &st) != 0)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "cannot read the token file %s: %s", c->cfg->token_file, strerror(errno));
	if (c->file_token && st.st_mtim.tv_sec == c->file_mtime.tv_sec && st.st_mtim.tv_nsec == c->file_mtime.tv_nsec &&
	    st.st_size == c->file_size)
		return KUBE_OK;
	dynbuf_init(&buf, TOKEN_FILE_MAX);
	rc = file_read_all(c->cfg->token_file, &buf);
	if (rc) {
		dynbuf_free(&buf);
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "cannot read the token file %s: %s", c->cfg->token_file, strerror(rc));
	}
	if (c->file_token) {
		OPENSSL_cleanse(c->file_token, strlen(c->file_token));
		free(c->file_token);
	}
	c->file_token = dynbuf_take(&buf, NULL);
	if (!c->file_token)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	c->file_token[strcspn(c->file_token, "\r\n")] = '\0';
	c->file_mtime = st.st_mtim;
	c->file_size = st.st_size;
	return KUBE_OK;
}

/* Runs the exec plugin when there is no credential or it expires within 10 s. Called with cred_lock held. */
static enum kube_err refresh_exec(struct kube_client *c, char *errbuf, size_t errlen)
{
	time_t now = time(NULL);

	if (c->have_exec_cred && (c->exec_cred.expires == 0 || c->exec_cred.expires > now + 10))
		return KUBE_OK;
	kube_exec_credential_free(&c->exec_cred);
	c->have_exec_cred = false;
	if (kube_exec_run(&c->cfg->exec, &c->exec_cred, errbuf, errlen) != KUBE_OK)
		return KUBE_E_EXEC;
	c->have_exec_cred = true;
	return KUBE_OK;
}

/* Sets the credentials of p: the exec plugin's, a static token, the token file's, a client certificate or basic
 * auth. Takes cred_lock: the credential is read (and the header built) while no refresh can free it. */
static enum kube_err set_credentials(struct kube_client *c, struct pooled *p, char *errbuf, size_t errlen)
{
	const struct kube_config *cfg = c->cfg;
	const char *token = NULL, *cert = cfg->cert_pem, *key = cfg->key_pem;
	size_t cert_len = cfg->cert_len, key_len = cfg->key_len;
	enum kube_err err = KUBE_OK;
	char header[16384];

	pthread_mutex_lock(&c->cred_lock);
	if (cfg->has_exec && (err = refresh_exec(c, errbuf, errlen)) == KUBE_OK) {
		token = c->exec_cred.token;
		if (c->exec_cred.cert_pem && c->exec_cred.key_pem) {
			cert = c->exec_cred.cert_pem;
			cert_len = strlen(cert);
			key = c->exec_cred.key_pem;
			key_len = strlen(key);
		}
	}
	if (err == KUBE_OK && !token && cfg->token)
		token = cfg->token;
	if (err == KUBE_OK && !token && cfg->token_file && (err = refresh_file_token(c, errbuf, errlen)) == KUBE_OK)
		token = c->file_token;
	if (err == KUBE_OK && cert && key) {
		struct curl_blob cb = {.data = (void *)cert, .len = cert_len, .flags = CURL_BLOB_COPY};
		struct curl_blob kb = {.data = (void *)key, .len = key_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(p->h, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(p->h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(p->h, CURLOPT_SSLKEY_BLOB, &kb);
		curl_easy_setopt(p->h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (err == KUBE_OK && token) {
		snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
		p->headers = curl_slist_append(p->headers, header);
		OPENSSL_cleanse(header, sizeof(header));
	} else if (err == KUBE_OK && cfg->username && cfg->password) {
		curl_easy_setopt(p->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(p->h, CURLOPT_USERNAME, cfg->username);
		curl_easy_setopt(p->h, CURLOPT_PASSWORD, cfg->password);
	}
	pthread_mutex_unlock(&c->cred_lock);
	return err;
}

/*
 * Keeps a TLS connection's record buffers between reads (curl asks OpenSSL to give them back once a record is
 * read): a watch stream otherwise allocated and freed 16 KiB per record, and every such allocation made the
 * allocator consolidate what the informers had just freed. A few connections, some 34 KiB each, kept.
 */
static CURLcode keep_tls_buffers(CURL *h, void *ssl_ctx, void *arg)
{
	(void)h;
	(void)arg;
	SSL_CTX_clear_mode((SSL_CTX *)ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	return CURLE_OK;
}

/* Sets the URL, TLS, proxy, timeouts and credentials of p for path. p is the caller's (busy); no lock is held. */
static enum kube_err configure(struct kube_client *c, struct pooled *p, const char *path, char *errbuf, size_t errlen)
{
	const struct kube_config *cfg = c->cfg;
	CURL *h = p->h;
	enum kube_err err;

	curl_easy_reset(h);
	curl_slist_free_all(p->headers);
	curl_slist_free_all(p->connect_to);
	p->headers = NULL;
	p->connect_to = NULL;
	if (cfg->tls_server_name) {
		char connect_to[1024];
		const char *port = strrchr(c->host_port, ':');
		snprintf(p->url, sizeof(p->url), "https://%s%s%s", cfg->tls_server_name, port ? port : "", path);
		snprintf(connect_to, sizeof(connect_to), "%s%s:%s", cfg->tls_server_name, port ? port : ":443", c->host_port);
		p->connect_to = curl_slist_append(NULL, connect_to);
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, p->connect_to);
	} else {
		snprintf(p->url, sizeof(p->url), "%s%s", cfg->server, path);
	}
	curl_easy_setopt(h, CURLOPT_URL, p->url);
	/* over TLS, ALPN says at the handshake whether HTTP/2 carries many requests on the one connection: wait for it */
	curl_easy_setopt(h, CURLOPT_PIPEWAIT, strncmp(p->url, "https:", 6) == 0 ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, keep_tls_buffers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->opts.user_agent);
	if (cfg->ca_pem) {
		struct curl_blob blob = {.data = cfg->ca_pem, .len = cfg->ca_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (cfg->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->proxy_url)
		curl_easy_setopt(h, CURLOPT_PROXY, cfg->proxy_url);
	if ((err = set_credentials(c, p, errbuf, errlen)) != KUBE_OK)
		return err;
	p->headers = curl_slist_append(p->headers, "Accept: application/json");
	if (!p->headers)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, p->headers);
	return KUBE_OK;
}

void *kube_client_acquire(struct kube_client *c, const char *path, char *errbuf, size_t errlen)
{
	struct pooled *p = NULL;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		for (size_t i = 0; i < c->pool_count && !p; i++)
			if (!c->pool[i].busy)
				p = &c->pool[i];
		if (!p && c->pool_count < POOL_MAX) {
			p = &c->pool[c->pool_count];
			p->h = curl_easy_init();
			if (!p->h) {
				pthread_mutex_unlock(&c->lock);
				kube_fail(errbuf, errlen, KUBE_E_NOMEM, "cannot create a curl handle");
				return NULL;
			}
			c->pool_count++;
		}
		if (p)
			break;
		pthread_cond_wait(&c->pool_free, &c->lock);
	}
	p->busy = true;
	pthread_mutex_unlock(&c->lock);
	if (configure(c, p, path, errbuf, errlen) != KUBE_OK) {
		kube_client_release(c, p);
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	c->requests++;
	pthread_mutex_unlock(&c->lock);
	return p;
}

void *kube_handle_curl(void *handle)
{
	return ((struct pooled *)handle)->h;
}

void kube_client_release(struct kube_client *c, void *handle)
{
	struct pooled *p = handle;

	pthread_mutex_lock(&c->lock);
	/* the handle keeps its connection in the shared cache; its options are reset on the next use */
	p->busy = false;
	pthread_cond_signal(&c->pool_free);
	pthread_mutex_unlock(&c->lock);
}

const struct kube_client_options *kube_client_options_of(const struct kube_client *c)
{
	return &c->opts;
}

const struct kube_config *kube_client_config_of(const struct kube_client *c)
{
	return c->cfg;
}

struct kube_mux *kube_client_mux(struct kube_client *c)
{
	return c->mux;
}

void kube_client_rate_wait(struct kube_client *c)
{
	kube_ratelimit_wait(&c->limiter);
}

unsigned kube_client_backoff_ms(struct kube_client *c, unsigned attempt)
{
	unsigned delay;

	pthread_mutex_lock(&c->lock); /* requests retry from several threads; the generator's state is shared */
	delay = backoff_delay_ms(attempt, 200, 5000, &c->rng);
	pthread_mutex_unlock(&c->lock);
	return delay;
}

struct curl_slist *kube_handle_headers(void *handle)
{
	return ((struct pooled *)handle)->headers;
}
