/* Content-addressed GETs: a manifest or blob read by digest and checked against it (answered 200, content hashing to
 * the digest), alone or in batches sent at once over the client's connections. */
#ifndef MAC_REGISTRY_VERIFIED_H
#define MAC_REGISTRY_VERIFIED_H

#include <stddef.h>

#include "registry/client.h"
#include "registry/index.h"

#define REG_FETCH_PATH_LEN 1024
#define REG_FETCH_SCOPE_LEN 1200

/* Where one verified GET of a batch puts what it read. */
struct reg_fetch_slot {
	const char *repo;   /* borrowed */
	const char *kind;   /* "manifests" or "blobs" */
	const char *digest; /* what the content must hash to */
	char what[512];     /* names the object in messages; the caller's to fill */
	char **bytes;       /* receives the content (the caller's to free) */
	size_t *len;
	char content_type[256];
};

/* One batch of verified GETs, at most REG_INDEX_SOURCES_MAX. */
struct reg_fetch_batch {
	struct reg_request reqs[REG_INDEX_SOURCES_MAX];
	struct reg_response resps[REG_INDEX_SOURCES_MAX];
	enum reg_err errs[REG_INDEX_SOURCES_MAX];
	char errbufs[REG_INDEX_SOURCES_MAX][REG_ERRBUF_SIZE];
	char paths[REG_INDEX_SOURCES_MAX][REG_FETCH_PATH_LEN];
	char scopes[REG_INDEX_SOURCES_MAX][REG_FETCH_SCOPE_LEN];
	struct reg_fetch_slot slots[REG_INDEX_SOURCES_MAX];
	size_t count;
};

/*
 * GETs /v2/REPO/KIND/DIGEST from host (at most body_max bytes) and checks it: the content into *bytes and *len
 * (the caller's), its Content-Type into content_type when not NULL. what names the object in messages.
 */
enum reg_err reg_get_verified(struct reg_client *c, const char *host, const char *repo, const char *kind, const char *digest,
			      size_t body_max, const char *what, char **bytes, size_t *len, char *content_type, size_t ct_len, char *errbuf,
			      size_t errlen);

/* Adds the GET of repo's KIND digest on host, its content to go to *bytes, to the batch (which has room). */
struct reg_fetch_slot *reg_fetch_add(struct reg_fetch_batch *fb, const char *host, const char *repo, const char *kind, const char *digest,
				     size_t body_max, char **bytes, size_t *len);

/* Sends the batch and checks every answer in order; the first that fails names the error. Empties the batch (the
 * slots keep what they describe). */
enum reg_err reg_fetch_all(struct reg_client *c, struct reg_fetch_batch *fb, char *errbuf, size_t errlen);

#endif
