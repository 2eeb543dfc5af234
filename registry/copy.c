/* Copying an image between repositories: a manifest placed in the target repository under its own digest, after its
 * blobs, each found there already, mounted from the source repository (same registry) or downloaded, checked against
 * its digest and size, and uploaded. */
#include "registry/copy.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include "util/banned.h"

#define SCOPE_LEN 1200
#define PATH_LEN 1024

/* One request through c (a body, or an upload of upload_len bytes from upload); the caller reads and frees resp. */
static enum reg_err copy_send(struct reg_client *c, const char *method, const char *host, const char *path, const char *scope,
			      const char *content_type, const void *body, size_t body_len, FILE *upload, size_t upload_len,
			      struct reg_response *resp, char *errbuf, size_t errlen)
{
	struct reg_request req = {0};

	req.method = method;
	req.host = host;
	req.path = path;
	req.scope = scope;
	req.content_type = content_type;
	req.body = body;
	req.body_len = body_len;
	req.upload = upload;
	req.upload_len = upload_len;
	return reg_client_do(c, &req, resp, errbuf, errlen);
}

/* Streams the blob digest of the source repository into a temporary file, checked against its digest. */
static enum reg_err download_blob(const struct reg_copy *cp, const struct reg_descriptor *d, FILE **out, char *errbuf, size_t errlen)
{
	char path[PATH_LEN], scope[SCOPE_LEN], buf[65536];
	struct reg_request req = {0};
	struct reg_response resp;
	EVP_MD_CTX *md;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;
	char got[REG_DIGEST_STR_MAX];
	size_t n, pos;
	long long total = 0;
	enum reg_err err;
	FILE *f = tmpfile();

	*out = NULL;
	if (!f)
		return reg_fail(errbuf, errlen, REG_E_IO, "cannot create a temporary file to copy blob %s", d->digest);
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", cp->from->repository, d->digest);
	snprintf(scope, sizeof(scope), "repository:%s:pull", cp->from->repository);
	req.method = "GET";
	req.host = cp->from->api_host;
	req.path = path;
	req.scope = scope;
	req.download = f;
	req.download_max = d->size; /* not a byte more than the manifest declares reaches the disk */
	err = reg_client_do(cp->client, &req, &resp, errbuf, errlen);
	if (!err && resp.status != 200)
		err = reg_fail(errbuf, errlen, resp.status == 404 ? REG_E_NOT_FOUND : REG_E_HTTP,
			       "blob %s of %s: the registry answered HTTP %ld", d->digest, cp->from_text, resp.status);
	reg_response_free(&resp);
	if (err) {
		fclose(f);
		return err;
	}
	/* check the content before uploading it anywhere */
	md = EVP_MD_CTX_new();
	if (!md || fflush(f) != 0) {
		EVP_MD_CTX_free(md);
		fclose(f);
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "cannot hash blob %s", d->digest);
	}
	rewind(f);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(md, buf, n);
		total += (long long)n;
	}
	EVP_DigestFinal_ex(md, hash, &hash_len);
	EVP_MD_CTX_free(md);
	pos = (size_t)snprintf(got, sizeof(got), "sha256:");
	for (unsigned int i = 0; i < hash_len; i++, pos += 2)
		snprintf(got + pos, sizeof(got) - pos, "%02x", hash[i]);
	if (strcmp(got, d->digest) != 0 || total != d->size) {
		fclose(f);
		return reg_fail(errbuf, errlen, REG_E_DIGEST, "blob %s of %s: the registry sent %lld bytes hashing to %s", d->digest,
				cp->from_text, total, got);
	}
	*out = f;
	return REG_OK;
}

/* Puts blob d of source s into the target repository: present already, mounted, or copied. */
static enum reg_err place_blob(const struct reg_copy *cp, const struct reg_descriptor *d, char *errbuf, size_t errlen)
{
	char path[PATH_LEN], scope[SCOPE_LEN], location[2048 + REG_DIGEST_STR_MAX + 16];
	const char *target_repo = cp->to->repository, *host = cp->to->api_host;
	bool same_host = strcmp(cp->from->api_host, host) == 0;
	struct reg_response resp;
	FILE *f = NULL;
	enum reg_err err;

	snprintf(scope, sizeof(scope), "repository:%s:pull,push", target_repo);
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", target_repo, d->digest);
	err = copy_send(cp->client, "HEAD", host, path, scope, NULL, NULL, 0, NULL, 0, &resp, errbuf, errlen);
	if (!err && resp.status == 200) {
		reg_response_free(&resp);
		return REG_OK;
	}
	reg_response_free(&resp);
	if (err)
		return err;

	if (same_host) {
		snprintf(scope, sizeof(scope), "repository:%s:pull,push repository:%s:pull", target_repo, cp->from->repository);
		snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/?mount=%s&from=%s", target_repo, d->digest, cp->from->repository);
	} else {
		snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", target_repo);
	}
	err = copy_send(cp->client, "POST", host, path, scope, NULL, NULL, 0, NULL, 0, &resp, errbuf, errlen);
	if (!err && resp.status == 201) {
		reg_response_free(&resp);
		cp->counts->mounted_blobs++;
		return REG_OK;
	}
	if (!err && resp.status != 202)
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "cannot start uploading blob %s to %s/%s: HTTP %ld", d->digest, host,
			       target_repo, resp.status);
	if (!err && !resp.location[0])
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "the registry started an upload of %s without a Location", d->digest);
	if (!err)
		snprintf(location, sizeof(location), "%s%sdigest=%s", resp.location, strchr(resp.location, '?') ? "&" : "?", d->digest);
	reg_response_free(&resp);
	if (err)
		return err;

	/* the registry answered 202: it will not mount, so copy the bytes */
	err = download_blob(cp, d, &f, errbuf, errlen);
	if (err)
		return err;
	snprintf(scope, sizeof(scope), "repository:%s:pull,push", target_repo);
	err = copy_send(cp->client, "PUT", host, location, scope, "application/octet-stream", NULL, 0, f, (size_t)d->size, &resp, errbuf,
			errlen);
	fclose(f);
	if (!err && resp.status != 201)
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "uploading blob %s to %s/%s: HTTP %ld", d->digest, host, target_repo,
			       resp.status);
	reg_response_free(&resp);
	if (!err)
		cp->counts->copied_blobs++;
	return err;
}

enum reg_err reg_copy_manifest(const struct reg_copy *cp, const char *digest, const struct reg_manifest *m, const char *bytes, size_t len,
			       char *errbuf, size_t errlen)
{
	char path[PATH_LEN], scope[SCOPE_LEN];
	struct reg_response resp;
	enum reg_err err;

	for (size_t i = 0; i < m->blob_count; i++) {
		err = place_blob(cp, &m->blobs[i], errbuf, errlen);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", cp->to->repository, digest);
	snprintf(scope, sizeof(scope), "repository:%s:pull,push", cp->to->repository);
	err = copy_send(cp->client, "PUT", cp->to->api_host, path, scope, m->media_type, bytes, len, NULL, 0, &resp, errbuf, errlen);
	if (!err && resp.status != 201 && resp.status != 200)
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "copying manifest %s to %s/%s: HTTP %ld %.200s", digest, cp->to->api_host,
			       cp->to->repository, resp.status, dynbuf_str(&resp.body));
	else if (!err && resp.docker_digest[0] && strcmp(resp.docker_digest, digest) != 0)
		err = reg_fail(errbuf, errlen, REG_E_DIGEST, "the registry stored manifest %s as %s", digest, resp.docker_digest);
	reg_response_free(&resp);
	if (!err)
		cp->counts->copied_manifests++;
	return err;
}
