/* The Kubernetes API client: pooled curl handles sharing one connection cache, every auth kind, timeouts,
 * rate limiting, bounded retries, and typed errors from API Status bodies. Thread-safe. */
#ifndef MAC_KUBE_CLIENT_H
#define MAC_KUBE_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube/config.h"
#include "kube/error.h"
#include "util/dynbuf.h"

#define KUBE_BODY_MAX ((size_t)64 * 1024 * 1024) /* largest answer kept (a page of a LIST) */
#define KUBE_PATH_MAX 2048

struct kube_client_options {
	double qps;              /* client-side limit; 0 (default) for none */
	int burst;               /* bucket size when qps > 0 */
	unsigned max_retries;    /* for 429, 5xx on reads, refused connections; default 3 */
	long connect_timeout_ms; /* default 10 s */
	long request_timeout_s;  /* for every request but watches; default 60 s */
	const char *user_agent;  /* default "multiarch-controller" */
	size_t body_max;         /* the largest answer kept; 0: KUBE_BODY_MAX */
	unsigned list_pages_max; /* the most pages of one LIST; 0: KUBE_LIST_PAGES_MAX */
	/* called after every request (retries included) with its method and HTTP status (0: no answer); may be NULL */
	void (*on_response)(void *ctx, const char *method, long status);
	void *on_response_ctx;
};

void kube_client_options_init(struct kube_client_options *o);

struct kube_client;

/* Creates a client for cfg, which must outlive it. */
enum kube_err kube_client_new(const struct kube_config *cfg, const struct kube_client_options *opts, struct kube_client **out, char *errbuf,
			      size_t errlen);

/* Frees the client. No request may be running. Accepts NULL. */
void kube_client_free(struct kube_client *c);

struct kube_response {
	long status;
	struct dynbuf body;
	struct kube_status st; /* filled when status is not 2xx */
};

void kube_response_free(struct kube_response *r);

/*
 * Sends one request: method, an escaped path with query (see kube_path()),
 * an optional body. Returns KUBE_OK for 2xx, the error matching the status
 * otherwise (resp->st says why), or a transport error. resp is always to be
 * freed with kube_response_free().
 */
enum kube_err kube_request(struct kube_client *c, const char *method, const char *path, const char *content_type, const char *body,
			   size_t body_len, struct kube_response *resp, char *errbuf, size_t errlen);

/* What a started request came to (see kube_request_start()): err and errbuf as kube_request() gives them, resp
 * borrowed for the call. */
typedef void (*kube_request_done_fn)(void *ctx, enum kube_err err, const struct kube_response *resp, const char *errbuf);

/*
 * Starts one attempt of a request and returns without waiting for it (the client-side rate limit, and a
 * credential plugin when its credential is due, are still waited for here). done(ctx, ...) runs once, on the
 * client's transfer loop thread, when it ended; it must not block for long. No retries: the caller decides.
 * Returns KUBE_OK when started; otherwise done will not run. body is copied.
 */
enum kube_err kube_request_start(struct kube_client *c, const char *method, const char *path, const char *content_type, const char *body,
				 size_t body_len, kube_request_done_fn done, void *ctx, char *errbuf, size_t errlen);

/* Content types of the write verbs. */
#define KUBE_CT_JSON "application/json"
#define KUBE_CT_MERGE_PATCH "application/merge-patch+json"
#define KUBE_CT_APPLY_PATCH "application/apply-patch+yaml"

/*
 * Writes "/api/v1/..." (group "" or NULL) or "/apis/GROUP/VERSION/..." with
 * "namespaces/NS/" when ns is set, then resource, name and subresource when
 * set, each path segment percent-escaped. Returns false when it does not fit.
 */
bool kube_path(char *buf, size_t len, const char *group, const char *version, const char *ns, const char *resource, const char *name,
	       const char *subresource);

/* Appends "?key=value" or "&key=value", value percent-escaped. Returns false when it does not fit. */
bool kube_query(char *buf, size_t len, const char *key, const char *value);

/* The DeleteOptions body of kube_delete() (propagation, uid and resource_version as there); the caller's to free;
 * NULL when out of memory. */
char *kube_delete_options(const char *propagation, const char *uid, const char *resource_version);

/*
 * Deletes path. propagation is "Background", "Foreground", "Orphan" or NULL;
 * uid and resource_version (may be NULL) become preconditions.
 */
enum kube_err kube_delete(struct kube_client *c, const char *path, const char *propagation, const char *uid, const char *resource_version,
			  struct kube_response *resp, char *errbuf, size_t errlen);

/*
 * Server-side apply: PATCH with the apply content type, fieldManager and
 * force as given. body is the object as JSON (or YAML).
 */
enum kube_err kube_apply(struct kube_client *c, const char *path, const char *field_manager, bool force, const char *body,
			 struct kube_response *resp, char *errbuf, size_t errlen);

#define KUBE_LIST_PAGES_MAX 20000 /* pages of one list: 10 million objects at 500 a page */

/* Called for every item of a LIST; the item is borrowed. Return false to stop early. */
typedef bool (*kube_item_fn)(void *ctx, const cJSON *item);

/* The most pages one kube_list() walks: the options' list_pages_max, else KUBE_LIST_PAGES_MAX. */
unsigned kube_client_list_pages_max(const struct kube_client *c);

/*
 * LISTs a collection path (which may carry a query, e.g. a labelSelector) in
 * pages of limit items (500 when 0), following continue tokens, calling fn for
 * every item. rv (when not NULL, rv_len bytes) receives the list's
 * resourceVersion, from which a watch can start. pages (when not NULL)
 * counts the pages fetched. A continue token that expired (410) restarts the
 * list from the beginning once. A page larger than the client's body_max is
 * asked for again with half as many items (down to one); a list of more than
 * list_pages_max pages, or whose continue token repeats, is refused
 * with KUBE_E_TOO_LONG: a server cannot keep the caller in one list forever.
 */
enum kube_err kube_list(struct kube_client *c, const char *path, unsigned limit, kube_item_fn fn, void *ctx, char *rv, size_t rv_len,
			unsigned *pages, char *errbuf, size_t errlen);

/* How many HTTP requests the client sent, retries and exec refreshes included. */
unsigned long kube_client_request_count(struct kube_client *c);

/* How the requests used the client's one transfer loop (kube/mux.h): transfers, connections opened, in flight. */
struct kube_mux_stats;
void kube_client_mux_stats(struct kube_client *c, struct kube_mux_stats *out);

/* Exposed for the watch: a configured curl handle for url, borrowed until kube_client_release(); NULL when out of memory. */
void *kube_client_acquire(struct kube_client *c, const char *path, char *errbuf, size_t errlen);
void kube_client_release(struct kube_client *c, void *handle);
/* The CURL easy handle of an acquired handle (a CURL *). */
void *kube_handle_curl(void *handle);
/* Drops cached exec credentials (after a 401), so the next request runs the plugin again. */
void kube_client_invalidate_credentials(struct kube_client *c);

#endif
