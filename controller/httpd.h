/* The controller's HTTP server on libwebsockets: /healthz and /readyz on the health address; /metrics, the live
 * status page and its websocket on the metrics address. One service thread; handlers fill buffers. */
#ifndef MAC_CONTROLLER_HTTPD_H
#define MAC_CONTROLLER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "controller/error.h"
#include "kube/client.h"
#include "util/dynbuf.h"

#define CTL_HTTP_BODY_MAX ((size_t)8 * 1024 * 1024)

/* What the server asks the controller for; called from the server's thread. Each writes a body into out. */
struct ctl_httpd_handlers {
	bool (*healthy)(void *ctx, struct dynbuf *out); /* false: 500 */
	bool (*ready)(void *ctx, struct dynbuf *out);   /* false: 503 */
	bool (*metrics)(void *ctx, struct dynbuf *out); /* Prometheus text format; false (out of room): 500 */
	bool (*status)(void *ctx, struct dynbuf *out);  /* the builds as JSON, for the status page; false (out of room): 500 */
	void *ctx;
};

struct ctl_httpd;

/*
 * Parses "HOST:PORT", ":PORT" (every address) or "0" (off) into host (may
 * come back "") and *port (0 when off). False when malformed.
 */
bool ctl_httpd_parse_addr(const char *addr, char *host, size_t host_len, int *port);

#define CTL_WS_CLIENTS_MAX 32 /* status page websocket clients at once; more are refused */

/* Who may read the metrics address (/metrics, the status page and its websocket); the health paths are open. */
enum ctl_status_auth_mode {
	CTL_STATUS_AUTH_AUTO = 0,   /* callers on this host (and kubectl port-forward) freely; others with a token */
	CTL_STATUS_AUTH_KUBERNETES, /* every caller with a bearer token: TokenReview and SubjectAccessReview */
	CTL_STATUS_AUTH_NONE,       /* anyone who can connect */
};

struct ctl_httpd_auth {
	enum ctl_status_auth_mode mode;
	struct kube_client *client; /* reviews the tokens (borrowed); unused with CTL_STATUS_AUTH_NONE */
};

/*
 * Starts listening on metrics_addr and health_addr (either may be "0"; the
 * same address serves both) and serving from a thread of its own; auth (NULL:
 * none) says who may read the metrics address: /metrics needs get on the
 * non-resource URL /metrics, everything else there list on multiarchbuilds.
 * Returns CTL_E_STARTUP with a message when an address is malformed or
 * cannot be bound.
 */
enum ctl_err ctl_httpd_start(const char *metrics_addr, const char *health_addr, const struct ctl_httpd_handlers *handlers,
			     const struct ctl_httpd_auth *auth, struct ctl_httpd **out, char *errbuf, size_t errlen);

/* Tells the status page's websocket clients that builds changed (thread-safe, cheap: they are sent at most once per wakeup). */
void ctl_httpd_notify(struct ctl_httpd *d);

/* Stops serving and frees the server. Accepts NULL. */
void ctl_httpd_stop(struct ctl_httpd *d);

#endif
