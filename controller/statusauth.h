/* Who may read the status port: bearer tokens checked with TokenReview and SubjectAccessReview on the API server,
 * as Kubernetes components do for their metrics, on a thread of its own, with the verdicts cached for a minute. */
#ifndef MAC_CONTROLLER_STATUSAUTH_H
#define MAC_CONTROLLER_STATUSAUTH_H

#include <stdbool.h>

#include "kube/client.h"

#define CTL_AUTH_TOKEN_MAX 8192 /* the longest bearer token looked at */

/* What a caller asks for: /metrics (get on the non-resource URL), or the builds (list multiarchbuilds). */
enum ctl_access {
	CTL_ACCESS_METRICS,
	CTL_ACCESS_BUILDS,
};

enum ctl_auth_verdict {
	CTL_AUTH_ALLOWED,
	CTL_AUTH_FORBIDDEN,       /* authenticated, not allowed: 403 */
	CTL_AUTH_UNAUTHENTICATED, /* no token, or the API server does not know it: 401 */
	CTL_AUTH_PENDING,         /* queued for review: ask again after the wake callback */
	CTL_AUTH_UNAVAILABLE,     /* the review failed or its queue is full: 503 */
};

struct ctl_status_auth;

/*
 * Starts the reviewer for client (borrowed, must outlive it). wake(ctx) is
 * called from the reviewer's thread whenever a verdict becomes known. NULL
 * when out of memory or no thread.
 */
struct ctl_status_auth *ctl_status_auth_new(struct kube_client *client, void (*wake)(void *ctx), void *ctx);

/* Stops the reviewer and wipes what it holds. Accepts NULL. */
void ctl_status_auth_free(struct ctl_status_auth *a);

/*
 * The verdict for token (the bearer token, NULL or "" for none) asking for
 * access. A token whose review is older than a minute (or was never made)
 * is queued and CTL_AUTH_PENDING returned. Only a hash of the token is kept
 * once reviewed. Thread-safe; never blocks on the network.
 */
enum ctl_auth_verdict ctl_status_auth_check(struct ctl_status_auth *a, const char *token, enum ctl_access access);

/* The HTTP status a verdict answers with (200 for allowed). */
int ctl_auth_http_status(enum ctl_auth_verdict v);

#endif
