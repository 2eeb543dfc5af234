/* The registry HTTP client: reused connections, batches of GETs at once, TLS with private CAs, plain HTTP for named hosts,
 * Basic and Bearer-token authentication from WWW-Authenticate challenges, and bounded retries. */
#ifndef MAC_REGISTRY_CLIENT_H
#define MAC_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "registry/error.h"
#include "util/dynbuf.h"

#define REG_MANIFEST_MAX ((size_t)4 * 1024 * 1024) /* largest manifest or index accepted */
#define REG_INSECURE_MAX 16                        /* --insecure-registry entries */
#define REG_CA_FILES_MAX 4                         /* --ca-file entries */

struct reg_client_options {
	const char *docker_config_dir;          /* folder with config.json; NULL for anonymous access */
	const char *ca_files[REG_CA_FILES_MAX]; /* extra PEM CA bundles trusted besides the system's */
	size_t ca_file_count;
	const char *system_ca_dir;                    /* OpenSSL-hashed directory of the system's CAs; NULL: /etc/ssl/certs */
	const char *insecure_hosts[REG_INSECURE_MAX]; /* hosts (host[:port]) spoken to in plain HTTP */
	size_t insecure_count;
	long connect_timeout_ms;    /* 0: 10 s */
	long low_speed_time_s;      /* abort a transfer slower than low_speed_bps for this long; 0: 30 s */
	long low_speed_bps;         /* the slowest a transfer may be, in bytes a second; 0: 1 KiB/s */
	long transfer_timeout_s;    /* the longest one transfer (one attempt) may take in all; 0: 10 minutes */
	unsigned max_retries;       /* retries after connection errors, 5xx and 429; 0 means none */
	unsigned backoff_base_ms;   /* first retry delay; 0: 250 ms */
	unsigned backoff_cap_ms;    /* longest retry delay; 0: 8 s */
	unsigned retry_after_cap_s; /* longest Retry-After honoured; 0: 30 s */
};

/* Sensible defaults: 4 retries, the timeouts above. */
void reg_client_options_init(struct reg_client_options *o);

struct reg_client;

/*
 * Creates a client. Borrowed strings in opts must outlive it. On error,
 * *out is NULL and errbuf says why.
 */
enum reg_err reg_client_new(const struct reg_client_options *opts, struct reg_client **out, char *errbuf, size_t errlen);

/* Frees the client, wiping cached credentials and tokens. Accepts NULL. */
void reg_client_free(struct reg_client *c);

struct reg_request {
	const char *method;       /* GET, HEAD, PUT, POST, PATCH, DELETE */
	const char *host;         /* API host[:port] */
	const char *path;         /* "/v2/..." with escaped query; or an absolute URL (a Location): on another host, it gets
				     no Authorization, and a TLS registry's is never plain HTTP */
	const char *accept;       /* Accept header, or NULL */
	const char *content_type; /* Content-Type of the body, or NULL */
	const void *body;         /* request body in memory, or NULL */
	size_t body_len;
	FILE *upload; /* or a request body streamed from a file (rewound for retries) */
	size_t upload_len;
	FILE *download;         /* when set, a 2xx response body is written here (truncated for retries) */
	long long download_max; /* with download: the most bytes written there (the size the manifest declares) */
	const char *scope;      /* token scopes, space separated: "repository:team/app:pull,push" */
	size_t body_max;        /* largest response body kept in memory; 0: 64 KiB */
};

struct reg_response {
	long status;
	char content_type[256];
	char docker_digest[160];
	char location[2048];
	struct dynbuf body; /* the response body (not for 2xx with download set) */
	unsigned retries;   /* retries this request needed */
};

/*
 * Sends req, authenticating when challenged and retrying connection errors,
 * 5xx and 429 (honouring Retry-After) with jittered backoff. Returns REG_OK
 * once the registry answered anything else (the caller reads resp->status),
 * REG_E_AUTH when a challenge could not be met or credentials were refused,
 * REG_E_NETWORK or REG_E_HTTP when retries ran out, REG_E_TOO_LONG when the
 * body passed body_max. resp must be freed with reg_response_free() in every case.
 */
enum reg_err reg_client_do(struct reg_client *c, const struct reg_request *req, struct reg_response *resp, char *errbuf, size_t errlen);

#define REG_BATCH_MAX 16 /* requests one batch sends at once */

/*
 * Sends n GET requests at once (parallel connections, or streams of one
 * HTTP/2 connection) and fills resps[i], errs[i] and errbufs[i] as
 * reg_client_do() would for reqs[i]: the outcome is the same, only sooner.
 * A host never heard from first gets one request alone, so the others carry
 * the authorization its answer calls for; an answer that asks for
 * authentication, a retry (429, 5xx, a broken connection) or that is too
 * large is sent again through reg_client_do(); other methods go that way
 * from the start. Larger batches go REG_BATCH_MAX at a time. Every resps[i]
 * must be freed with reg_response_free().
 */
void reg_client_get_batch(struct reg_client *c, const struct reg_request *reqs, size_t n, struct reg_response *resps, enum reg_err *errs,
			  char (*errbufs)[REG_ERRBUF_SIZE]);

/* Frees the body of resp. Accepts NULL. */
void reg_response_free(struct reg_response *resp);

/* Number of HTTP requests sent so far, auth and retries included. */
unsigned long reg_client_request_count(const struct reg_client *c);

#endif
