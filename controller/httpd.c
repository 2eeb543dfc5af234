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

#include "controller/statuspage.h"
#include "util/strmap.h"

#define WS_PROTOCOL "multiarch-status"
#define CHUNK 16384

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
};

/* One HTTP transaction's response, written in chunks as the socket takes it. */
struct http_session {
	struct dynbuf body;
	size_t sent;
	bool has_body;
};

struct ws_session {
	unsigned long long sent_version;
	uint64_t sent_hash; /* of the last snapshot sent: an unchanged one is not sent again */
	bool sent_once;
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

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_session *s = user;
	struct ctl_httpd *d;
	unsigned char head[LWS_PRE + 1024], *start = &head[LWS_PRE], *p = start, *end = &head[sizeof(head) - 1];
	const char *type, *vhost;
	int status;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		d = server_of(wsi);
		if (s->has_body)
			dynbuf_free(&s->body);
		dynbuf_init(&s->body, CTL_HTTP_BODY_MAX);
		s->has_body = true;
		s->sent = 0;
		vhost = lws_get_vhost_name(lws_get_vhost(wsi));
		status = route(d, vhost && strcmp(vhost, "metrics") == 0, (const char *)in, &s->body, &type);
		if (lws_add_http_common_headers(wsi, (unsigned int)status, type, dynbuf_len(&s->body), &p, end) ||
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return 1;
		if (dynbuf_len(&s->body) == 0)
			return lws_http_transaction_completed(wsi) ? -1 : 0;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		unsigned char chunk[LWS_PRE + CHUNK];
		size_t left, n;
		bool final;
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
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s && s->has_body) {
			dynbuf_free(&s->body);
			s->has_body = false;
		}
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		lws_callback_on_writable_all_protocol(lws_get_context(wsi), &protocols[1]);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The status page's websocket: a JSON snapshot of the builds on connect and after every change. */
static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct ws_session *s = user;
	struct ctl_httpd *d;
	struct dynbuf snap;
	unsigned char *frame;
	unsigned long long version;
	uint64_t hash;
	(void)in;
	(void)len;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		s->sent_once = false;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		d = server_of(wsi);
		version = atomic_load(&d->version);
		if (s->sent_once && s->sent_version == version)
			break;
		dynbuf_init(&snap, CTL_HTTP_BODY_MAX);
		if (!d->h.status(d->h.ctx, &snap)) { /* out of room: no half a snapshot; the next change tries again */
			dynbuf_free(&snap);
			break;
		}
		hash = strmap_hash(dynbuf_str(&snap));
		if (s->sent_once && hash == s->sent_hash) {
			s->sent_version = version;
			dynbuf_free(&snap);
			break;
		}
		frame = malloc(LWS_PRE + dynbuf_len(&snap) + 1);
		if (frame) {
			memcpy(frame + LWS_PRE, dynbuf_str(&snap), dynbuf_len(&snap));
			if (lws_write(wsi, frame + LWS_PRE, dynbuf_len(&snap), LWS_WRITE_TEXT) < (int)dynbuf_len(&snap)) {
				free(frame);
				dynbuf_free(&snap);
				return -1;
			}
			free(frame);
			s->sent_version = version;
			s->sent_hash = hash;
			s->sent_once = true;
		}
		dynbuf_free(&snap);
		break;
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

enum ctl_err ctl_httpd_start(const char *metrics_addr, const char *health_addr, const struct ctl_httpd_handlers *handlers,
			     struct ctl_httpd **out, char *errbuf, size_t errlen)
{
	struct lws_context_creation_info info;
	struct ctl_httpd *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory");
	d->h = *handlers;
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
	if (pthread_create(&d->thread, NULL, serve, d) != 0) {
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
	lws_context_destroy(d->ctx);
	free(d);
}
