/* Index assembly: merges per-arch images (by digest) into one OCI image index, pushes it to a tag,
 * and reads it back, copying nothing but descriptors unless a source lives in another repository.
 * The sources' manifests, then their configs, are read in batches sent at once. */
#include "registry/index.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/copy.h"
#include "registry/reference.h"
#include "registry/verified.h"
#include "util/banned.h"

#define SCOPE_LEN 1200
#define PATH_LEN 1024
#define LINE_LEN 512

/* A manifest fetched from a source repository, to be placed in the target repository when they differ. */
struct fetched {
	char *bytes;
	size_t len;
	char digest[REG_DIGEST_STR_MAX];
	struct reg_manifest manifest;
};

/* One source: its reference, the platform asked for it, and what was fetched for it. */
struct source {
	struct reg_ref ref;
	const char *text;
	bool has_want;
	struct reg_platform want;
	bool cross_repo;
	struct fetched top; /* the source manifest itself */
	char *config;       /* an image source's config blob */
	size_t config_len;
	struct fetched *children; /* an index's child manifests, fetched only when copying */
	size_t child_count;
};

/* One entry of the index being built. */
struct entry {
	char *json;
	bool has_platform;
	struct reg_platform platform;
	size_t source;
};

struct build {
	struct reg_client *c;
	struct reg_ref target;
	struct source sources[REG_INDEX_SOURCES_MAX];
	size_t source_count;
	struct entry entries[REG_INDEX_SOURCES_MAX * 4];
	size_t entry_count;
	reg_progress_fn progress;
	void *ctx;
	struct reg_index_result *result;
};

static void say(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct build *b, const char *fmt, ...)
{
	char line[LINE_LEN];
	va_list ap;

	if (!b->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	b->progress(b->ctx, line);
}

static void fetched_free(struct fetched *f)
{
	free(f->bytes);
	reg_manifest_free(&f->manifest);
	memset(f, 0, sizeof(*f));
}

static void build_free(struct build *b)
{
	reg_ref_free(&b->target);
	for (size_t i = 0; i < b->source_count; i++) {
		struct source *s = &b->sources[i];
		reg_ref_free(&s->ref);
		fetched_free(&s->top);
		free(s->config);
		for (size_t j = 0; j < s->child_count; j++)
			fetched_free(&s->children[j]);
		free(s->children);
	}
	for (size_t i = 0; i < b->entry_count; i++)
		free(b->entries[i].json);
}

/* Parses the manifest f->bytes, served as content_type under digest, into f. */
static enum reg_err parse_fetched(struct fetched *f, const char *digest, const char *content_type, const char *what, char *errbuf,
				  size_t errlen)
{
	char detail[REG_ERRBUF_SIZE];
	enum reg_err err;

	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	err = reg_manifest_parse(f->bytes, f->len, content_type, &f->manifest, detail, sizeof(detail));
	if (err)
		return reg_fail(errbuf, errlen, err, "%s: %s", what, detail);
	return REG_OK;
}

/* Fetches and parses the manifest digest of repo into f. */
static enum reg_err fetch_manifest(struct reg_client *c, const struct reg_ref *ref, const char *digest, const char *what, struct fetched *f,
				   char *errbuf, size_t errlen)
{
	char content_type[256];
	enum reg_err err;

	err = reg_get_verified(c, ref->api_host, ref->repository, "manifests", digest, REG_MANIFEST_MAX, what, &f->bytes, &f->len,
			       content_type, sizeof(content_type), errbuf, errlen);
	if (err)
		return err;
	return parse_fetched(f, digest, content_type, what, errbuf, errlen);
}

/*
 * Reads every source's manifest into its top, and every image source's
 * config into its config, each kind in one batch. The first source in
 * order that fails names the error.
 */
static enum reg_err read_manifests_and_configs(struct build *b, char *errbuf, size_t errlen)
{
	struct reg_fetch_batch *fb = calloc(1, sizeof(*fb));
	enum reg_err err;

	if (!fb)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory");
	for (size_t i = 0; i < b->source_count; i++) {
		struct source *s = &b->sources[i];
		struct reg_fetch_slot *slot = reg_fetch_add(fb, s->ref.api_host, s->ref.repository, "manifests", s->ref.digest,
							    REG_MANIFEST_MAX, &s->top.bytes, &s->top.len);
		snprintf(slot->what, sizeof(slot->what), "source %s", s->text);
	}
	err = reg_fetch_all(b->c, fb, errbuf, errlen);
	/* the slots still describe the manifests, one per source in order */
	for (size_t i = 0; !err && i < b->source_count; i++)
		err = parse_fetched(&b->sources[i].top, b->sources[i].ref.digest, fb->slots[i].content_type, fb->slots[i].what, errbuf,
				    errlen);
	for (size_t i = 0; !err && i < b->source_count; i++) {
		struct source *s = &b->sources[i];
		struct reg_fetch_slot *slot;
		if (s->top.manifest.kind != REG_KIND_IMAGE)
			continue;
		slot = reg_fetch_add(fb, s->ref.api_host, s->ref.repository, "blobs", s->top.manifest.blobs[0].digest, REG_CONFIG_BLOB_MAX,
				     &s->config, &s->config_len);
		snprintf(slot->what, sizeof(slot->what), "source %s: config blob", s->text);
	}
	if (!err)
		err = reg_fetch_all(b->c, fb, errbuf, errlen);
	free(fb);
	return err;
}

static enum reg_err add_entry(struct build *b, char *json, bool has_platform, const struct reg_platform *p, size_t source, char *errbuf,
			      size_t errlen)
{
	struct entry *e;

	if (!json)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory building the index");
	if (b->entry_count == sizeof(b->entries) / sizeof(b->entries[0])) {
		free(json);
		return reg_fail(errbuf, errlen, REG_E_INVALID, "the index would have more than %zu entries",
				sizeof(b->entries) / sizeof(b->entries[0]));
	}
	e = &b->entries[b->entry_count++];
	e->json = json;
	e->has_platform = has_platform;
	if (p)
		e->platform = *p;
	e->source = source;
	return REG_OK;
}

/* The descriptor of an image manifest source, with the platform read from its config (already fetched). */
static enum reg_err image_entry(struct build *b, size_t i, char *errbuf, size_t errlen)
{
	struct source *s = &b->sources[i];
	char os_version[256], os_features[1024], detail[REG_ERRBUF_SIZE];
	struct reg_platform p;
	cJSON *desc = NULL, *platform;
	enum reg_err err;

	err = reg_config_platform(s->config, s->config_len, &p, os_version, sizeof(os_version), os_features, sizeof(os_features), detail,
				  sizeof(detail));
	if (err)
		return reg_fail(errbuf, errlen, err, "source %s: %s", s->text, detail);

	desc = cJSON_CreateObject();
	platform = cJSON_CreateObject();
	if (!desc || !platform) {
		cJSON_Delete(desc);
		cJSON_Delete(platform);
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory building the index");
	}
	cJSON_AddStringToObject(desc, "mediaType", s->top.manifest.media_type);
	cJSON_AddStringToObject(desc, "digest", s->top.digest);
	cJSON_AddNumberToObject(desc, "size", (double)s->top.len);
	cJSON_AddStringToObject(platform, "architecture", p.arch);
	cJSON_AddStringToObject(platform, "os", p.os);
	if (os_version[0])
		cJSON_AddStringToObject(platform, "os.version", os_version);
	if (os_features[0])
		cJSON_AddItemToObject(platform, "os.features", cJSON_Parse(os_features));
	if (p.variant[0])
		cJSON_AddStringToObject(platform, "variant", p.variant);
	cJSON_AddItemToObject(desc, "platform", platform);
	err = add_entry(b, cJSON_PrintUnformatted(desc), true, &p, i, errbuf, errlen);
	cJSON_Delete(desc);
	return err;
}

/* Turns one source, its manifest (and config) read, into index entries; for a copy, fetches an index's children. */
static enum reg_err read_source(struct build *b, size_t i, char *errbuf, size_t errlen)
{
	struct source *s = &b->sources[i];
	char what[LINE_LEN], pbuf[REG_PLATFORM_STR_MAX], wbuf[REG_PLATFORM_STR_MAX];
	size_t first = b->entry_count, platforms = 0;
	enum reg_err err;

	if (s->top.manifest.kind == REG_KIND_IMAGE) {
		err = image_entry(b, i, errbuf, errlen);
		if (err)
			return err;
	} else {
		struct reg_manifest *m = &s->top.manifest;
		if (s->cross_repo) {
			s->children = calloc(m->entry_count ? m->entry_count : 1, sizeof(*s->children));
			if (!s->children)
				return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory reading %s", what);
		}
		for (size_t j = 0; j < m->entry_count; j++) {
			const struct reg_index_entry *e = &m->entries[j];
			char *json;
			/* an entry that declares itself an index would make a platform point at another index */
			if (strcmp(e->desc.media_type, REG_MT_OCI_INDEX) == 0 || strcmp(e->desc.media_type, REG_MT_DOCKER_LIST) == 0)
				return reg_fail(errbuf, errlen, REG_E_UNSUPPORTED,
						"source %s: entry %s is itself an index; nested indexes are not supported", s->text,
						e->desc.digest);
			json = strdup(e->json);
			err = add_entry(b, json, e->has_platform, e->has_platform ? &e->platform : NULL, i, errbuf, errlen);
			if (err)
				return err;
			if (s->cross_repo) {
				snprintf(what, sizeof(what), "source %s: child %s", s->text, e->desc.digest);
				err = fetch_manifest(b->c, &s->ref, e->desc.digest, what, &s->children[j], errbuf, errlen);
				if (err)
					return err;
				s->child_count = j + 1;
				if (s->children[j].manifest.kind != REG_KIND_IMAGE)
					return reg_fail(errbuf, errlen, REG_E_UNSUPPORTED,
							"%s is itself an index; nested indexes are not supported", what);
			}
		}
	}

	for (size_t j = first; j < b->entry_count; j++) {
		struct entry *e = &b->entries[j];
		if (!e->has_platform)
			continue;
		platforms++;
		reg_platform_format(&e->platform, pbuf, sizeof(pbuf));
		if (s->has_want && !reg_platform_equal(&e->platform, &s->want)) {
			reg_platform_format(&s->want, wbuf, sizeof(wbuf));
			return reg_fail(errbuf, errlen, REG_E_CONFLICT, "source %s is %s, not %s as asked", s->text, pbuf, wbuf);
		}
		say(b, "%s <- %s", pbuf, s->text);
	}
	if (platforms == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "source %s has no platform image (only attestations)", s->text);
	return REG_OK;
}

static enum reg_err check_duplicates(struct build *b, char *errbuf, size_t errlen)
{
	char pbuf[REG_PLATFORM_STR_MAX];

	for (size_t i = 0; i < b->entry_count; i++)
		for (size_t j = i + 1; j < b->entry_count; j++) {
			const struct entry *x = &b->entries[i], *y = &b->entries[j];
			if (!x->has_platform || !y->has_platform || !reg_platform_equal(&x->platform, &y->platform))
				continue;
			reg_platform_format(&x->platform, pbuf, sizeof(pbuf));
			if (x->source == y->source)
				return reg_fail(errbuf, errlen, REG_E_CONFLICT, "source %s holds %s twice", b->sources[x->source].text,
						pbuf);
			return reg_fail(errbuf, errlen, REG_E_CONFLICT, "two sources are %s: %s and %s; give one source per platform", pbuf,
					b->sources[x->source].text, b->sources[y->source].text);
		}
	return REG_OK;
}

char *reg_index_document(char *const *entries_json, size_t entry_count, const char *const *annotation_keys,
			 const char *const *annotation_values, size_t annotation_count)
{
	cJSON *doc = cJSON_CreateObject(), *manifests = cJSON_CreateArray(), *annotations = NULL;
	char *text = NULL;

	if (!doc || !manifests)
		goto out;
	cJSON_AddNumberToObject(doc, "schemaVersion", 2);
	cJSON_AddStringToObject(doc, "mediaType", REG_MT_OCI_INDEX);
	for (size_t i = 0; i < entry_count; i++) {
		cJSON *e = cJSON_Parse(entries_json[i]);
		if (!e)
			goto out;
		cJSON_AddItemToArray(manifests, e);
	}
	cJSON_AddItemToObject(doc, "manifests", manifests);
	manifests = NULL;
	if (annotation_count) {
		annotations = cJSON_CreateObject();
		if (!annotations)
			goto out;
		for (size_t i = 0; i < annotation_count; i++)
			cJSON_AddStringToObject(annotations, annotation_keys[i], annotation_values[i]);
		cJSON_AddItemToObject(doc, "annotations", annotations);
	}
	text = cJSON_PrintUnformatted(doc);
out:
	cJSON_Delete(manifests);
	cJSON_Delete(doc);
	return text;
}

/* PUTs the index to the tag, then reads it back by tag and compares it byte for byte. */
static enum reg_err push_and_verify(struct build *b, const char *doc, size_t len, char *errbuf, size_t errlen)
{
	char path[PATH_LEN], scope[SCOPE_LEN];
	struct reg_request put = {
		.method = "PUT", .path = path, .scope = scope, .content_type = REG_MT_OCI_INDEX, .body = doc, .body_len = len};
	struct reg_request req = {0};
	struct reg_response resp;
	enum reg_err err;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", b->target.repository, b->target.tag);
	snprintf(scope, sizeof(scope), "repository:%s:pull,push", b->target.repository);
	put.host = b->target.api_host;
	err = reg_client_do(b->c, &put, &resp, errbuf, errlen);
	if (!err && resp.status != 201 && resp.status != 200)
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "pushing the index to %s/%s:%s: HTTP %ld %.300s", b->target.domain,
			       b->target.repository, b->target.tag, resp.status, dynbuf_str(&resp.body));
	else if (!err && resp.docker_digest[0] && strcmp(resp.docker_digest, b->result->digest) != 0)
		err = reg_fail(errbuf, errlen, REG_E_DIGEST, "the registry stored the index as %s, not %s", resp.docker_digest,
			       b->result->digest);
	reg_response_free(&resp);
	if (err)
		return err;
	b->result->pushed = true;

	req.method = "GET";
	req.host = b->target.api_host;
	req.path = path;
	req.accept = REG_MT_OCI_INDEX;
	req.scope = scope;
	req.body_max = REG_MANIFEST_MAX;
	err = reg_client_do(b->c, &req, &resp, errbuf, errlen);
	if (!err && resp.status != 200)
		err = reg_fail(errbuf, errlen, REG_E_HTTP, "reading the index back from %s/%s:%s: HTTP %ld", b->target.domain,
			       b->target.repository, b->target.tag, resp.status);
	else if (!err && (resp.body.len != len || memcmp(resp.body.data, doc, len) != 0))
		err = reg_fail(errbuf, errlen, REG_E_DIGEST, "the index read back from %s/%s:%s differs from the one pushed",
			       b->target.domain, b->target.repository, b->target.tag);
	else if (!err && resp.docker_digest[0] && strcmp(resp.docker_digest, b->result->digest) != 0)
		err = reg_fail(errbuf, errlen, REG_E_DIGEST, "the tag %s now names %s, not the index pushed (%s)", b->target.tag,
			       resp.docker_digest, b->result->digest);
	reg_response_free(&resp);
	return err;
}

/* Parses the request's target (a tag, no digest) and sources (by digest, with their platforms) into b. */
static enum reg_err parse_request(struct build *b, const struct reg_index_request *req, char *errbuf, size_t errlen)
{
	char detail[REG_ERRBUF_SIZE];
	enum reg_err err = reg_ref_parse(req->target, &b->target, detail, sizeof(detail));

	if (err)
		return reg_fail(errbuf, errlen, err, "target %s: %s", req->target, detail);
	if (b->target.digest[0] || !b->target.tag[0])
		return reg_fail(errbuf, errlen, REG_E_INVALID, "target %s must name a tag and no digest", req->target);
	for (size_t i = 0; i < req->source_count; i++) {
		struct source *s = &b->sources[i];
		s->text = req->sources[i].ref;
		b->source_count = i + 1;
		err = reg_ref_parse(s->text, &s->ref, detail, sizeof(detail));
		if (err)
			return reg_fail(errbuf, errlen, err, "source %s: %s", s->text, detail);
		if (!s->ref.digest[0])
			return reg_fail(errbuf, errlen, REG_E_INVALID, "source %s must name its image by digest (REF@sha256:HEX)", s->text);
		if (req->sources[i].platform) {
			s->has_want = true;
			err = reg_platform_parse(req->sources[i].platform, &s->want, detail, sizeof(detail));
			if (err)
				return reg_fail(errbuf, errlen, err, "source %s: %s", s->text, detail);
		}
		s->cross_repo = strcmp(s->ref.api_host, b->target.api_host) != 0 || strcmp(s->ref.repository, b->target.repository) != 0;
	}
	return REG_OK;
}

/* Copies every source that lives in another repository (its children first) into the target repository: an index
 * may name only what its repository holds. */
static enum reg_err copy_foreign_sources(struct build *b, char *errbuf, size_t errlen)
{
	enum reg_err err;

	for (size_t i = 0; i < b->source_count; i++) {
		struct source *s = &b->sources[i];
		struct reg_copy copy = {.client = b->c, .from = &s->ref, .from_text = s->text, .to = &b->target, .counts = b->result};
		if (!s->cross_repo)
			continue;
		for (size_t j = 0; j < s->child_count; j++) {
			err = reg_copy_manifest(&copy, s->children[j].digest, &s->children[j].manifest, s->children[j].bytes,
						s->children[j].len, errbuf, errlen);
			if (err)
				return err;
		}
		err = reg_copy_manifest(&copy, s->top.digest, &s->top.manifest, s->top.bytes, s->top.len, errbuf, errlen);
		if (err)
			return err;
		say(b, "copied %s into %s/%s", s->text, b->target.domain, b->target.repository);
	}
	return REG_OK;
}

/* Builds the index document of b's entries with the request's annotations, counts its entries, and pushes it. */
static enum reg_err push_index(struct build *b, const struct reg_index_request *req, char *errbuf, size_t errlen)
{
	char *entry_json[sizeof(((struct build *)0)->entries) / sizeof(struct entry)], *doc;
	struct reg_index_result *result = b->result;
	enum reg_err err;

	for (size_t i = 0; i < b->entry_count; i++) {
		entry_json[i] = b->entries[i].json;
		if (b->entries[i].has_platform)
			result->platform_count++;
		else
			result->attestation_count++;
	}
	doc = reg_index_document(entry_json, b->entry_count, req->annotation_keys, req->annotation_values, req->annotation_count);
	if (!doc)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory building the index");
	result->size = strlen(doc);
	reg_sha256(doc, result->size, result->digest);
	err = push_and_verify(b, doc, result->size, errbuf, errlen);
	if (!err)
		say(b, "pushed %s/%s:%s (%zu platforms, %zu attestations), read back and verified", b->target.domain, b->target.repository,
		    b->target.tag, result->platform_count, result->attestation_count);
	free(doc);
	return err;
}

enum reg_err reg_index_push(struct reg_client *c, const struct reg_index_request *req, struct reg_index_result *result,
			    reg_progress_fn progress, void *ctx, char *errbuf, size_t errlen)
{
	struct build *b;
	enum reg_err err;

	memset(result, 0, sizeof(*result));
	if (req->source_count == 0 || req->source_count > REG_INDEX_SOURCES_MAX)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "an index needs 1 to %d sources", REG_INDEX_SOURCES_MAX);
	b = calloc(1, sizeof(*b));
	if (!b)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory");
	b->c = c;
	b->progress = progress;
	b->ctx = ctx;
	b->result = result;
	err = parse_request(b, req, errbuf, errlen);
	if (!err)
		err = read_manifests_and_configs(b, errbuf, errlen);
	for (size_t i = 0; !err && i < b->source_count; i++)
		err = read_source(b, i, errbuf, errlen);
	if (!err)
		err = check_duplicates(b, errbuf, errlen);
	if (!err)
		err = copy_foreign_sources(b, errbuf, errlen);
	if (!err)
		err = push_index(b, req, errbuf, errlen);
	build_free(b);
	free(b);
	return err;
}
