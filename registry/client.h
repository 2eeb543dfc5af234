/* The registry HTTP client: reused connections, batches of GETs at once, TLS with private CAs, plain HTTP for named hosts,
 * Basic and Bearer-token authentication from WWW-Authenticate challenges, and bounded retries. */
#ifndef MAC_REGISTRY_CLIENT_H
#define MAC_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "registry/error.h"
#include "registry/request.h"

#define REG_MANIFEST_MAX ((size_t)4 * 1024 * 1024) /* largest manifest or index accepted */

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

/*
 * Sends req, authenticating when challenged and retrying connection errors,
 * 5xx and 429 (honouring Retry-After) with jittered backoff. Returns REG_OK
 * once the registry answered anything else (the caller reads resp->status),
 * REG_E_AUTH when a challenge could not be met or credentials were refused,
 * REG_E_NETWORK or REG_E_HTTP when retries ran out, REG_E_TOO_LONG when the
 * body passed body_max. resp must be freed with reg_response_free() in every case.
 */
enum reg_err reg_client_do(struct reg_client *c, const struct reg_request *req, struct reg_response *resp, char *errbuf, size_t errlen);

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
