/* OCI and Docker manifests and indexes: media types, descriptors, digests, and image config platforms. */
#include "registry/manifest.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reference.h"
#include "util/jsonget.h"
#include "util/banned.h"

static void hex_digest(const char *algorithm, const EVP_MD *md, const void *data, size_t len, char *out, size_t out_len)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t pos;

	EVP_Digest(data, len, hash, &n, md, NULL);
	pos = (size_t)snprintf(out, out_len, "%s:", algorithm);
	for (unsigned int i = 0; i < n && pos + 2 < out_len; i++, pos += 2)
		snprintf(out + pos, out_len - pos, "%02x", hash[i]);
}

void reg_sha256(const void *data, size_t len, char *out)
{
	hex_digest("sha256", EVP_sha256(), data, len, out, REG_DIGEST_STR_MAX);
}

bool reg_digest_matches(const char *digest, const void *data, size_t len)
{
	char got[REG_DIGEST_STR_MAX];

	if (strncmp(digest, "sha256:", 7) == 0)
		hex_digest("sha256", EVP_sha256(), data, len, got, sizeof(got));
	else if (strncmp(digest, "sha512:", 7) == 0)
		hex_digest("sha512", EVP_sha512(), data, len, got, sizeof(got));
	else
		return false;
	return strcmp(got, digest) == 0;
}

/* Reads a descriptor object: mediaType, digest and size are all required and checked. */
static enum reg_err read_descriptor(const cJSON *obj, const char *what, size_t index, struct reg_descriptor *d, char *errbuf, size_t errlen)
{
	const char *mt = json_str_at(obj, "mediaType", NULL), *digest = json_str_at(obj, "digest", NULL);
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(obj, "size");

	if (!cJSON_IsObject(obj))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "%s %zu is not an object", what, index);
	if (!mt || !mt[0] || strlen(mt) >= sizeof(d->media_type))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "%s %zu has no valid mediaType", what, index);
	if (!digest || !reg_digest_valid(digest))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "%s %zu has no valid sha256 digest", what, index);
	if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 1e15 ||
	    size->valuedouble != (double)(long long)size->valuedouble)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "%s %zu has no valid size", what, index);
	snprintf(d->media_type, sizeof(d->media_type), "%s", mt);
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->size = (long long)size->valuedouble;
	return REG_OK;
}

static bool is_index_type(const char *mt)
{
	return strcmp(mt, REG_MT_OCI_INDEX) == 0 || strcmp(mt, REG_MT_DOCKER_LIST) == 0;
}

static bool is_image_type(const char *mt)
{
	return strcmp(mt, REG_MT_OCI_MANIFEST) == 0 || strcmp(mt, REG_MT_DOCKER_MANIFEST) == 0;
}

/* The media type part of a Content-Type value ("type; charset=..." -> "type"). */
static void bare_media_type(const char *content_type, char *buf, size_t len)
{
	size_t n = content_type ? strcspn(content_type, "; ") : 0;

	snprintf(buf, len, "%.*s", (int)n, content_type ? content_type : "");
}

static enum reg_err read_entries(const cJSON *manifests, struct reg_manifest *out, char *errbuf, size_t errlen)
{
	size_t n = (size_t)cJSON_GetArraySize(manifests), i = 0;
	const cJSON *e;
	enum reg_err err;

	if (n > REG_INDEX_ENTRIES_MAX)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "index has %zu entries, more than %d", n, REG_INDEX_ENTRIES_MAX);
	out->entries = calloc(n ? n : 1, sizeof(*out->entries));
	if (!out->entries)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory reading an index");
	cJSON_ArrayForEach(e, manifests) {
		struct reg_index_entry *entry = &out->entries[i];
		const cJSON *platform = cJSON_GetObjectItemCaseSensitive(e, "platform");
		const cJSON *annotations = cJSON_GetObjectItemCaseSensitive(e, "annotations");
		const char *ref_type = annotations ? json_str_at(annotations, "vnd.docker.reference.type", NULL) : NULL;

		err = read_descriptor(e, "index entry", i, &entry->desc, errbuf, errlen);
		if (err)
			return err;
		out->entry_count = ++i;
		entry->json = cJSON_PrintUnformatted(e);
		if (!entry->json)
			return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory reading an index");
		if (ref_type && strcmp(ref_type, "attestation-manifest") == 0)
			entry->attestation = true;
		if (cJSON_IsObject(platform)) {
			const char *os = json_str_at(platform, "os", NULL), *arch = json_str_at(platform, "architecture", NULL);
			const char *variant = json_str_at(platform, "variant", NULL);
			if (os && arch && strcmp(os, "unknown") == 0 && strcmp(arch, "unknown") == 0)
				entry->attestation = true;
			else if (!entry->attestation &&
				 reg_platform_from_fields(os, arch, variant, &entry->platform, errbuf, errlen) == REG_OK)
				entry->has_platform = true;
			else if (!entry->attestation)
				return reg_fail(errbuf, errlen, REG_E_UNSUPPORTED, "index entry %zu has an unsupported platform %s/%s",
						i - 1, os ? os : "?", arch ? arch : "?");
		} else if (!entry->attestation) {
			return reg_fail(errbuf, errlen, REG_E_INVALID, "index entry %zu (%s) has no platform", i - 1, entry->desc.digest);
		}
	}
	return REG_OK;
}

/* Reads an image manifest's config and layers (root's) into out's blobs, the config first. */
static enum reg_err read_image(const cJSON *root, struct reg_manifest *out, char *errbuf, size_t errlen)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config"), *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
	const cJSON *layer;
	enum reg_err err;
	size_t i = 0;

	out->kind = REG_KIND_IMAGE;
	if (!cJSON_IsObject(config) || !cJSON_IsArray(layers))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "image manifest needs a config object and a layers array");
	if ((size_t)cJSON_GetArraySize(layers) + 1 > REG_MANIFEST_BLOBS_MAX)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "image manifest has more than %d layers", REG_MANIFEST_BLOBS_MAX - 1);
	out->blobs = calloc((size_t)cJSON_GetArraySize(layers) + 1, sizeof(*out->blobs));
	if (!out->blobs)
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory reading a manifest");
	if ((err = read_descriptor(config, "config", 0, &out->blobs[0], errbuf, errlen)))
		return err;
	out->blob_count = 1;
	cJSON_ArrayForEach(layer, layers) {
		if ((err = read_descriptor(layer, "layer", i++, &out->blobs[out->blob_count], errbuf, errlen)))
			return err;
		out->blob_count++;
	}
	return REG_OK;
}

/* The manifest's media type into out: its own, else the Content-Type's, else what its shape says (an index has
 * manifests, an image a config). Only index and image types are taken. */
static enum reg_err read_media_type(const cJSON *root, const char *content_type, struct reg_manifest *out, char *errbuf, size_t errlen)
{
	const char *mt = json_str_at(root, "mediaType", NULL);
	char header_mt[REG_MEDIA_TYPE_MAX];

	bare_media_type(content_type, header_mt, sizeof(header_mt));
	if (!mt || !mt[0])
		mt = (is_index_type(header_mt) || is_image_type(header_mt))               ? header_mt
		     : cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "manifests")) ? REG_MT_OCI_INDEX
		     : cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "config"))   ? REG_MT_OCI_MANIFEST
											  : "";
	if (strlen(mt) >= sizeof(out->media_type) || (!is_index_type(mt) && !is_image_type(mt)))
		return reg_fail(errbuf, errlen, REG_E_UNSUPPORTED, "unsupported manifest media type \"%.100s\"", mt);
	snprintf(out->media_type, sizeof(out->media_type), "%s", mt);
	return REG_OK;
}

enum reg_err reg_manifest_parse(const char *data, size_t len, const char *content_type, struct reg_manifest *out, char *errbuf,
				size_t errlen)
{
	cJSON *root;
	const cJSON *schema, *manifests;
	enum reg_err err;

	memset(out, 0, sizeof(*out));
	root = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reg_fail(errbuf, errlen, REG_E_INVALID, "manifest is not a JSON object");
	}
	schema = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
	manifests = cJSON_GetObjectItemCaseSensitive(root, "manifests");
	if (cJSON_IsNumber(schema) && schema->valueint == 1)
		err = reg_fail(errbuf, errlen, REG_E_UNSUPPORTED,
			       "Docker schema 1 manifests are not supported; push the image again as OCI or schema 2");
	else if (!cJSON_IsNumber(schema) || schema->valueint != 2)
		err = reg_fail(errbuf, errlen, REG_E_INVALID, "manifest has no schemaVersion 2");
	else if ((err = read_media_type(root, content_type, out, errbuf, errlen)) == REG_OK && is_index_type(out->media_type)) {
		out->kind = REG_KIND_INDEX;
		err = cJSON_IsArray(manifests) ? read_entries(manifests, out, errbuf, errlen)
					       : reg_fail(errbuf, errlen, REG_E_INVALID, "index has no manifests array");
	} else if (err == REG_OK) {
		err = read_image(root, out, errbuf, errlen);
	}
	cJSON_Delete(root);
	if (err)
		reg_manifest_free(out);
	return err;
}

void reg_manifest_free(struct reg_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->entry_count; i++)
		free(m->entries[i].json);
	free(m->entries);
	free(m->blobs);
	memset(m, 0, sizeof(*m));
}

enum reg_err reg_config_platform(const char *data, size_t len, struct reg_platform *platform, char *os_version, size_t os_version_len,
				 char *os_features, size_t os_features_len, char *errbuf, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(data, len);
	const cJSON *features;
	const char *version;
	enum reg_err err;

	os_version[0] = '\0';
	os_features[0] = '\0';
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reg_fail(errbuf, errlen, REG_E_INVALID, "image config is not a JSON object");
	}
	err = reg_platform_from_fields(json_str_at(root, "os", NULL), json_str_at(root, "architecture", NULL),
				       json_str_at(root, "variant", NULL), platform, errbuf, errlen);
	version = json_str_at(root, "os.version", NULL);
	if (!err && version && strlen(version) < os_version_len)
		snprintf(os_version, os_version_len, "%s", version);
	features = cJSON_GetObjectItemCaseSensitive(root, "os.features");
	if (!err && cJSON_IsArray(features) && cJSON_GetArraySize(features) > 0) {
		char *text = cJSON_PrintUnformatted(features);
		if (text && strlen(text) < os_features_len)
			snprintf(os_features, os_features_len, "%s", text);
		free(text);
	}
	cJSON_Delete(root);
	return err;
}
