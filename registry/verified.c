/* Content-addressed GETs: a manifest or blob read by digest and checked against it, alone or in batches sent at once. */
#include "registry/verified.h"

#include <stdio.h>
#include <string.h>

#include "registry/manifest.h"
#include "util/banned.h"

/* The GET of /v2/REPO/KIND/DIGEST with scope pull, written into req with its path and scope buffers. */
static void verified_request(struct reg_request *req, char *path, char *scope, const char *host, const char *repo, const char *kind,
			     const char *digest, size_t body_max)
{
	snprintf(path, REG_FETCH_PATH_LEN, "/v2/%s/%s/%s", repo, kind, digest);
	snprintf(scope, REG_FETCH_SCOPE_LEN, "repository:%s:pull", repo);
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->host = host;
	req->path = path;
	req->accept = strcmp(kind, "manifests") == 0 ? REG_MT_ACCEPT_ALL : NULL;
	req->scope = scope;
	req->body_max = body_max;
}

/*
 * Checks the outcome (err, resp) of a verified_request(): answered 200 with
 * content that hashes to digest. Hands the bytes to the caller (*bytes,
 * *len) and frees resp in every case. what names the object in messages;
 * detail is the client's message for err.
 */
static enum reg_err take_verified(enum reg_err err, const char *detail, struct reg_response *resp, const struct reg_request *req,
				  const char *repo, const char *kind, const char *digest, const char *what, char **bytes, size_t *len,
				  char *content_type, size_t ct_len, char *errbuf, size_t errlen)
{
	if (err == REG_E_TOO_LONG)
		err = reg_fail(errbuf, errlen, REG_E_TOO_LONG, "%s is larger than %zu bytes", what, req->body_max);
	else if (err)
		err = reg_fail(errbuf, errlen, err, "%s", detail);
	else if (resp->status == 404)
		err = reg_fail(errbuf, errlen, REG_E_NOT_FOUND, "%s: the registry has no %s %s in %s/%s", what,
			       strcmp(kind, "manifests") == 0 ? "manifest" : "blob", digest, req->host, repo);
	else if (resp->status == 403)
		err = reg_fail(errbuf, errlen, REG_E_AUTH, "%s: the registry denies reading %s/%s", what, req->host, repo);
	else if (resp->status != 200)
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "%s: the registry answered HTTP %ld", what, resp->status);
	else if (!reg_digest_matches(digest, resp->body.data ? resp->body.data : "", resp->body.len)) {
		char got[REG_DIGEST_STR_MAX];
		reg_sha256(resp->body.data ? resp->body.data : "", resp->body.len, got);
		err = reg_fail(errbuf, errlen, REG_E_DIGEST, "%s: the registry sent content whose digest is %s, not %s", what, got, digest);
	}
	if (!err) {
		if (content_type)
			snprintf(content_type, ct_len, "%s", resp->content_type);
		*bytes = dynbuf_take(&resp->body, len);
		if (!*bytes)
			err = reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory reading %s", what);
	}
	reg_response_free(resp);
	return err;
}

enum reg_err reg_get_verified(struct reg_client *c, const char *host, const char *repo, const char *kind, const char *digest,
			      size_t body_max, const char *what, char **bytes, size_t *len, char *content_type, size_t ct_len, char *errbuf,
			      size_t errlen)
{
	char path[REG_FETCH_PATH_LEN], scope[REG_FETCH_SCOPE_LEN], detail[REG_ERRBUF_SIZE] = "";
	struct reg_request req;
	struct reg_response resp;
	enum reg_err err;

	verified_request(&req, path, scope, host, repo, kind, digest, body_max);
	err = reg_client_do(c, &req, &resp, detail, sizeof(detail));
	return take_verified(err, detail, &resp, &req, repo, kind, digest, what, bytes, len, content_type, ct_len, errbuf, errlen);
}

struct reg_fetch_slot *reg_fetch_add(struct reg_fetch_batch *fb, const char *host, const char *repo, const char *kind, const char *digest,
				     size_t body_max, char **bytes, size_t *len)
{
	struct reg_fetch_slot *slot = &fb->slots[fb->count];

	verified_request(&fb->reqs[fb->count], fb->paths[fb->count], fb->scopes[fb->count], host, repo, kind, digest, body_max);
	slot->repo = repo;
	slot->kind = kind;
	slot->digest = digest;
	slot->bytes = bytes;
	slot->len = len;
	slot->content_type[0] = '\0';
	fb->count++;
	return slot;
}

enum reg_err reg_fetch_all(struct reg_client *c, struct reg_fetch_batch *fb, char *errbuf, size_t errlen)
{
	enum reg_err err = REG_OK;

	reg_client_get_batch(c, fb->reqs, fb->count, fb->resps, fb->errs, fb->errbufs);
	for (size_t k = 0; k < fb->count; k++) {
		struct reg_fetch_slot *slot = &fb->slots[k];
		if (err) {
			reg_response_free(&fb->resps[k]);
			continue;
		}
		err = take_verified(fb->errs[k], fb->errbufs[k], &fb->resps[k], &fb->reqs[k], slot->repo, slot->kind, slot->digest,
				    slot->what, slot->bytes, slot->len, slot->content_type, sizeof(slot->content_type), errbuf, errlen);
	}
	fb->count = 0;
	return err;
}
