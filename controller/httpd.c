/* The controller's HTTP server on libwebsockets: /healthz and /readyz on the health address; /metrics, the live
 * status page and its websocket on the metrics address. One service thread; handlers fill buffers. */
#include "controller/httpd.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <openssl/crypto.h>
#include <sys/ioctl.h>

#include "controller/statusauth.h"
#include "controller/statuspage.h"
#include "util/strmap.h"
#include "util/banned.h"

#define WS_PROTOCOL "multiarch-status"
#define CHUNK 16384
#define WAITING_MAX 64                      /* requests waiting for a token review at once; more get 503 */
#define PATH_MAX_LEN 64                     /* longer paths are none of ours: 404 */
#define REVIEW_WAIT_S 30                    /* a request whose review takes longer is closed */
#define WS_CHOKE_S 10                       /* a websocket client that has not taken a snapshot for this long is dropped */
#define WS_RECHECK_US (500 * LWS_US_PER_MS) /* how often a client that is behind is looked at again */

/*
 * Invariants: ctx serves every vhost from thread; version counts notify()
 * calls, and each websocket session remembers the version it last sent.
 */
struct ctl_httpd {
	struct lws_context *ctx;
	pthread_t thread;
	bool running;
	atomic_int stop;
	atomic_ullong version;
	struct ctl_httpd_handlers h;
	enum ctl_status_auth_mode auth_mode;
	struct ctl_status_auth *auth; /* NULL when auth_mode is CTL_STATUS_AUTH_NONE */
	/* the service thread's own: requests waiting for their token's review, websocket clients connected */
	struct lws *waiting[WAITING_MAX];
	size_t waiting_count;
	int ws_clients;
};

/* One HTTP transaction: its path while it waits for a review, then its response, written in chunks as the
 * socket takes it. */
struct http_session {
	struct dynbuf body;
	size_t sent;
	bool has_body;
	bool waiting;
	char path[PATH_MAX_LEN];
};

struct ws_session {
	unsigned long long sent_version;
	uint64_t sent_hash; /* of the last snapshot sent: an unchanged one is not sent again */
	bool sent_once;
	bool counted; /* in ws_clients */
	bool behind;  /* its socket still held an earlier snapshot: the choke timeout runs */
};

bool ctl_httpd_parse_addr(const char *addr, char *host, size_t host_len, int *port)
{
	const char *colon = strrchr(addr, ':');
	char *end = NULL;
	long p;

	if (strcmp(addr, "0") == 0) {
		*port = 0;
		snprintf(host, host_len, "%s", "");
		return true;
	}
	if (!colon || (size_t)(colon - addr) >= host_len)
		return false;
	p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || p < 1 || p > 65535)
		return false;
	snprintf(host, host_len, "%.*s", (int)(colon - addr), addr);
	*port = (int)p;
	return true;
}

static struct ctl_httpd *server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

static const struct lws_protocols protocols[];

/* Fills the response for path; returns the HTTP status and sets *type. */
static int route(struct ctl_httpd *d, bool metrics_vhost, const char *path, struct dynbuf *body, const char **type)
{
	*type = "text/plain; charset=utf-8";
	if (strcmp(path, "/healthz") == 0)
		return d->h.healthy(d->h.ctx, body) ? 200 : 500;
	if (strcmp(path, "/readyz") == 0)
		return d->h.ready(d->h.ctx, body) ? 200 : 503;
	if (metrics_vhost && strcmp(path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4; charset=utf-8";
		return d->h.metrics(d->h.ctx, body) ? 200 : 500;
	}
	if (metrics_vhost && strcmp(path, "/status.json") == 0) {
		*type = "application/json";
		return d->h.status(d->h.ctx, body) ? 200 : 500;
	}
	if (metrics_vhost && strcmp(path, "/status.js") == 0) {
		*type = "text/javascript; charset=utf-8";
		return dynbuf_addstr(body, ctl_status_page_js) == DYNBUF_OK ? 200 : 500;
	}
	if (metrics_vhost && strcmp(path, "/status.css") == 0) {
		*type = "text/css; charset=utf-8";
		return dynbuf_addstr(body, ctl_status_page_css) == DYNBUF_OK ? 200 : 500;
	}
	if (metrics_vhost && strcmp(path, "/") == 0) {
		*type = "text/html; charset=utf-8";
		return dynbuf_addstr(body, ctl_status_page_html) == DYNBUF_OK ? 200 : 500;
	}
	return dynbuf_addstr(body, "not found\n") == DYNBUF_OK ? 404 : 500;
}

/* Whether the peer of wsi is this host (kubectl port-forward arrives from there too). */
static bool peer_is_loopback(struct lws *wsi)
{
	char ip[64] = "";

	if (!lws_get_peer_simple(wsi, ip, sizeof(ip)))
		return false;
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

/* The bearer token of the request into buf ("" for none or one too long). */
static const char *bearer_token(struct lws *wsi, char *buf, size_t len)
{
	int n = lws_hdr_copy(wsi, buf, (int)len, WSI_TOKEN_HTTP_AUTHORIZATION);

	if (n <= 7 || strncasecmp(buf, "Bearer ", 7) != 0)
		return "";
	return buf + 7;
}

/* May this request have path? Health paths, the health address and (by mode) this host need no token. */
static enum ctl_auth_verdict authorize(struct ctl_httpd *d, struct lws *wsi, const char *path)
{
	const char *vhost = lws_get_vhost_name(lws_get_vhost(wsi));
	char header[CTL_AUTH_TOKEN_MAX + 16];
	enum ctl_auth_verdict v;

	if (!vhost || strcmp(vhost, "metrics") != 0 || strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 || !d->auth ||
	    (d->auth_mode == CTL_STATUS_AUTH_AUTO && peer_is_loopback(wsi)))
		return CTL_AUTH_ALLOWED;
	v = ctl_status_auth_check(d->auth, bearer_token(wsi, header, sizeof(header)),
				  strcmp(path, "/metrics") == 0 ? CTL_ACCESS_METRICS : CTL_ACCESS_BUILDS);
	OPENSSL_cleanse(header, sizeof(header));
	return v;
}

static void stop_waiting(struct ctl_httpd *d, struct lws *wsi)
{
	for (size_t i = 0; i < d->waiting_count; i++) {
		if (d->waiting[i] == wsi) {
			d->waiting[i] = d->waiting[--d->waiting_count];
			return;
		}
	}
}

/* Writes the response headers for the verdict (the routed answer when allowed) and schedules the body. */
static int respond(struct lws *wsi, struct http_session *s, enum ctl_auth_verdict verdict)
{
	struct ctl_httpd *d = server_of(wsi);
	unsigned char head[LWS_PRE + 1024], *start = &head[LWS_PRE], *p = start, *end = &head[sizeof(head) - 1];
	const char *type = "text/plain; charset=utf-8", *vhost = lws_get_vhost_name(lws_get_vhost(wsi));
	int status = ctl_auth_http_status(verdict);

	if (s->has_body)
		dynbuf_free(&s->body);
	dynbuf_init(&s->body, CTL_HTTP_BODY_MAX);
	s->has_body = true;
	s->sent = 0;
	if (status == 200)
		status = route(d, vhost && strcmp(vhost, "metrics") == 0, s->path, &s->body, &type);
	else if (dynbuf_addstr(&s->body, status == 401   ? "a bearer token is needed\n"
					 : status == 403 ? "forbidden\n"
							 : "try again\n") != DYNBUF_OK)
		return 1;
	if (lws_add_http_common_headers(wsi, (unsigned int)status, type, dynbuf_len(&s->body), &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p, end) ||
	    (status == 401 &&
	     lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE, (const unsigned char *)"Bearer", 6, &p, end)) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	if (dynbuf_len(&s->body) == 0)
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	lws_callback_on_writable(wsi);
	return 0;
}

/* A new request: answered now, or parked until its token's review comes back. */
static int begin_request(struct lws *wsi, struct http_session *s, const char *path)
{
	struct ctl_httpd *d = server_of(wsi);
	enum ctl_auth_verdict v;

	snprintf(s->path, sizeof(s->path), "%s", strlen(path) < sizeof(s->path) ? path : "/not-ours");
	v = authorize(d, wsi, s->path);
	if (v != CTL_AUTH_PENDING)
		return respond(wsi, s, v);
	if (d->waiting_count == WAITING_MAX)
		return respond(wsi, s, CTL_AUTH_UNAVAILABLE);
	d->waiting[d->waiting_count++] = wsi;
	s->waiting = true;
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, REVIEW_WAIT_S);
	return 0;
}

/* The next chunk of the body, or, for a parked request, its answer once the review is in. */
static int on_writeable(struct lws *wsi, struct http_session *s)
{
	unsigned char chunk[LWS_PRE + CHUNK];
	size_t left, n;
	bool final;

	if (s->waiting) {
		enum ctl_auth_verdict v = authorize(server_of(wsi), wsi, s->path);
		if (v == CTL_AUTH_PENDING)
			return 0;
		stop_waiting(server_of(wsi), wsi);
		s->waiting = false;
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		return respond(wsi, s, v);
	}
	if (!s->has_body)
		return 0;
	left = dynbuf_len(&s->body) - s->sent;
	n = left < CHUNK ? left : CHUNK;
	final = n == left;
	memcpy(chunk + LWS_PRE, dynbuf_str(&s->body) + s->sent, n);
	if (lws_write(wsi, chunk + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return 1;
	s->sent += n;
	if (!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_session *s = user;
	struct ctl_httpd *d;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return begin_request(wsi, s, (const char *)in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(wsi, s);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s && s->waiting) {
			stop_waiting(server_of(wsi), wsi);
			s->waiting = false;
		}
		if (s && s->has_body) {
			dynbuf_free(&s->body);
			s->has_body = false;
		}
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		d = server_of(wsi);
		for (size_t i = 0; i < d->waiting_count; i++)
			lws_callback_on_writable(d->waiting[i]); /* a review may have come back */
		lws_callback_on_writable_all_protocol(lws_get_context(wsi), &protocols[1]);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The status page's websocket: a JSON snapshot of the builds on connect and after every change. */
/* Whether the client has not yet taken everything sent to it: bytes wait in lws or in the socket's queue. */
static bool client_backlogged(struct lws *wsi)
{
	int queued = 0;

	if (lws_partial_buffered(wsi))
		return true;
	return ioctl(lws_get_socket_fd(wsi), SIOCOUTQ, &queued) == 0 && queued > 0;
}

/*
 * Holds back a client that is behind: nothing more is written to it until it has taken what it has, it is
 * looked at again every WS_RECHECK_US, and if it stays behind for WS_CHOKE_S it is closed. A client that
 * catches up gets the newest snapshot, not every one it missed.
 */
static void hold_back(struct lws *wsi, struct ws_session *s)
{
	if (!s->behind) {
		s->behind = true;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, WS_CHOKE_S);
	}
	lws_set_timer_usecs(wsi, WS_RECHECK_US);
}

/* Sends the websocket client the builds' snapshot when it changed since the last one it took. -1 closes it. */
static int send_snapshot(struct lws *wsi, struct ws_session *s)
{
	struct ctl_httpd *d = server_of(wsi);
	unsigned long long version = atomic_load(&d->version);
	struct dynbuf snap;
	unsigned char *frame;
	uint64_t hash;
	int rc = 0;

	if (client_backlogged(wsi)) {
		hold_back(wsi, s);
		return 0;
	}
	if (s->behind) {
		s->behind = false;
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	}
	if (s->sent_once && s->sent_version == version)
		return 0;
	dynbuf_init(&snap, CTL_HTTP_BODY_MAX);
	if (!d->h.status(d->h.ctx, &snap)) { /* out of room: no half a snapshot; the next change tries again */
		dynbuf_free(&snap);
		return 0;
	}
	hash = strmap_hash(dynbuf_str(&snap));
	frame = s->sent_once && hash == s->sent_hash ? NULL : malloc(LWS_PRE + dynbuf_len(&snap) + 1);
	if (frame) {
		memcpy(frame + LWS_PRE, dynbuf_str(&snap), dynbuf_len(&snap));
		rc = lws_write(wsi, frame + LWS_PRE, dynbuf_len(&snap), LWS_WRITE_TEXT) < (int)dynbuf_len(&snap) ? -1 : 0;
		free(frame);
		s->sent_hash = hash;
		s->sent_once = true;
	}
	if (s->sent_once && hash == s->sent_hash)
		s->sent_version = version;
	dynbuf_free(&snap);
	return rc;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct ws_session *s = user;
	struct ctl_httpd *d;
	(void)in;
	(void)len;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* a bounded number of clients, each allowed to read the builds (a review under way: refused this time) */
		d = server_of(wsi);
		return d->ws_clients >= CTL_WS_CLIENTS_MAX || authorize(d, wsi, "/ws") != CTL_AUTH_ALLOWED;
	case LWS_CALLBACK_ESTABLISHED:
		s->sent_once = false;
		s->behind = false;
		s->counted = true;
		server_of(wsi)->ws_clients++;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLOSED:
		if (s->counted)
			server_of(wsi)->ws_clients--;
		s->counted = false;
		break;
	case LWS_CALLBACK_TIMER: /* a client that was behind: has it caught up? */
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return send_snapshot(wsi, s);
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"http", http_callback, sizeof(struct http_session), 0, 0, NULL, 0},
	{WS_PROTOCOL, ws_callback, sizeof(struct ws_session), 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *serve(void *arg)
{
	struct ctl_httpd *d = arg;

	while (!atomic_load(&d->stop))
		if (lws_service(d->ctx, 0) < 0)
			break;
	return NULL;
}

static bool add_vhost(struct ctl_httpd *d, const char *name, const char *addr, char *errbuf, size_t errlen)
{
	struct lws_context_creation_info info;
	char host[256];
	int port;

	if (!ctl_httpd_parse_addr(addr, host, sizeof(host), &port)) {
		ctl_fail(errbuf, errlen, CTL_E_STARTUP, "--%s-addr %s: want HOST:PORT, :PORT or 0", name, addr);
		return false;
	}
	if (port == 0)
		return true;
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = host[0] ? host : NULL;
	info.protocols = protocols;
	info.vhost_name = name;
	info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
	if (!lws_create_vhost(d->ctx, &info)) {
		ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot listen on %s for %s (in use, or not an address of this host)", addr, name);
		return false;
	}
	return true;
}

/* Called from the reviewer's thread: wakes the service thread to answer the requests that waited. */
static void wake_service(void *ctx)
{
	struct ctl_httpd *d = ctx;

	lws_cancel_service(d->ctx);
}

enum ctl_err ctl_httpd_start(const char *metrics_addr, const char *health_addr, const struct ctl_httpd_handlers *handlers,
			     const struct ctl_httpd_auth *auth, struct ctl_httpd **out, char *errbuf, size_t errlen)
{
	struct lws_context_creation_info info;
	struct ctl_httpd *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory");
	d->h = *handlers;
	d->auth_mode = auth ? auth->mode : CTL_STATUS_AUTH_NONE;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.user = d;
	d->ctx = lws_create_context(&info);
	if (!d->ctx) {
		free(d);
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot create the HTTP server");
	}
	if (!add_vhost(d, "metrics", metrics_addr, errbuf, errlen) ||
	    (strcmp(health_addr, metrics_addr) != 0 && !add_vhost(d, "health", health_addr, errbuf, errlen))) {
		lws_context_destroy(d->ctx);
		free(d);
		return CTL_E_STARTUP;
	}
	if (auth && auth->mode != CTL_STATUS_AUTH_NONE && !(d->auth = ctl_status_auth_new(auth->client, wake_service, d))) {
		lws_context_destroy(d->ctx);
		free(d);
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the status port's token reviewer");
	}
	if (pthread_create(&d->thread, NULL, serve, d) != 0) {
		ctl_status_auth_free(d->auth);
		lws_context_destroy(d->ctx);
		free(d);
		return ctl_fail(errbuf, errlen, CTL_E_STARTUP, "cannot start the HTTP server thread");
	}
	d->running = true;
	*out = d;
	return CTL_OK;
}

void ctl_httpd_notify(struct ctl_httpd *d)
{
	if (!d)
		return;
	atomic_fetch_add(&d->version, 1);
	lws_cancel_service(d->ctx);
}

void ctl_httpd_stop(struct ctl_httpd *d)
{
	if (!d)
		return;
	if (d->running) {
		atomic_store(&d->stop, 1);
		lws_cancel_service(d->ctx);
		pthread_join(d->thread, NULL);
	}
	ctl_status_auth_free(d->auth); /* no wake can come after this */
	lws_context_destroy(d->ctx);
	free(d);
}
