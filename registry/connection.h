/* The registry client's inside: its state, shared by client.c (requests), auth.c (authentication) and connection.c
 * (how a transfer runs); not for other rooms. */
#ifndef MAC_REGISTRY_CONNECTION_H
#define MAC_REGISTRY_CONNECTION_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "registry/challenge.h"
#include "registry/request.h"
#include "registry/credentials.h"

#define REG_HOSTS_MAX 16
#define REG_TOKENS_MAX 32
#define REG_TOKEN_MAX 8192
#define REG_SCOPE_MAX 2048
#define REG_AUTH_HEADER_MAX ((size_t)2 * REG_CRED_FIELD_MAX * 4 / 3 + 64) /* "Basic " + base64 of user:password */

/* What we learnt about one registry host: how it authenticates and our credentials for it. */
struct reg_host_auth {
	char host[256];
	bool credentials_loaded;
	bool have_credentials;
	bool answered; /* a request to this host got an answer: how it authenticates is known */
	struct reg_credentials credentials;
	enum reg_auth_scheme scheme; /* REG_AUTH_NONE until a challenge was seen */
	char realm[REG_CHALLENGE_PARAM_MAX];
	char service[REG_CHALLENGE_PARAM_MAX];
};

struct reg_cached_token {
	char host[256];
	char scope[REG_SCOPE_MAX];
	char token[REG_TOKEN_MAX];
	struct timespec expires; /* CLOCK_MONOTONIC */
};

/*
 * Invariants: curl is the handle of one-by-one requests and batch_handles
 * those of batches, all performed through multi, whose pool keeps the
 * connections open between requests and is empty of handles between calls;
 * hosts[0..host_count) and tokens[0..token_count) hold secrets and are wiped
 * on free; ca_blob is empty or opts.ca_files, preceded by the system bundle
 * when system_ca_dir is NULL.
 */
struct reg_client {
	struct reg_client_options opts;
	CURL *curl;
	struct dynbuf ca_blob;
	const char *system_ca_dir; /* where the system roots come from when hashed (not a bundle parsed on every handshake), or NULL */
	struct reg_host_auth hosts[REG_HOSTS_MAX];
	size_t host_count;
	struct reg_cached_token tokens[REG_TOKENS_MAX];
	size_t token_count;
	uint64_t rng;
	unsigned long requests;
	CURLM *multi;                       /* every transfer runs in it; created on first use */
	CURL *batch_handles[REG_BATCH_MAX]; /* created on first use, reused by later batches */
};

/* Where a request goes, against the registry it is for. */
enum reg_url_target {
	REG_URL_SAME_HOST,  /* a path on the registry, or an absolute URL on its host */
	REG_URL_OTHER_HOST, /* an absolute URL elsewhere (a Location): no credential follows it */
	REG_URL_DOWNGRADE,  /* plain HTTP from a TLS registry: never followed */
};

/* connection.c: whether host is spoken to in plain HTTP. */
bool reg_client_insecure(const struct reg_client *c, const char *host);

/* connection.c: sets the CAs handle h trusts. */
void reg_client_set_trust(const struct reg_client *c, CURL *h);

/* connection.c: performs the n set-up handles at once through the client's multi handle; codes[i] gets each result. */
void reg_client_perform(struct reg_client *c, CURL *const *handles, size_t n, CURLcode *codes);

/* auth.c: the auth record of host, created on first use; NULL when the table is full or the name too long. */
struct reg_host_auth *reg_auth_host(struct reg_client *c, const char *host);

/* auth.c: loads the credentials for h from the docker config once; only a helper-held credential's failure is an
 * error (none found means anonymous access). */
enum reg_err reg_auth_load_credentials(struct reg_client *c, struct reg_host_auth *h, char *errbuf, size_t errlen);

/* auth.c: the Authorization value for h and scope into buf ("" for none); buf holds a secret: wipe it after use. */
void reg_auth_header(struct reg_client *c, struct reg_host_auth *h, const char *scope, char *buf, size_t len);

/* auth.c: where req goes; authority gets the host[:port] it is sent to. */
enum reg_url_target reg_auth_target(const struct reg_client *c, const struct reg_request *req, char *authority, size_t len);

/* auth.c: learns from the 401 answer of req how h authenticates (challenge is its WWW-Authenticate), and fetches a
 * token when it asks for one. */
enum reg_err reg_auth_answer_challenge(struct reg_client *c, struct reg_host_auth *h, const struct reg_request *req, const char *challenge,
				       char *errbuf, size_t errlen);

#endif
