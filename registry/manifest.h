/* OCI and Docker manifests and indexes: media types, descriptors, digests, and image config platforms. */
#ifndef MAC_REGISTRY_MANIFEST_H
#define MAC_REGISTRY_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/error.h"
#include "registry/platform.h"

#define REG_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define REG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define REG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REG_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
/* what a manifest GET accepts: any of the four */
#define REG_MT_ACCEPT_ALL REG_MT_OCI_INDEX ", " REG_MT_DOCKER_LIST ", " REG_MT_OCI_MANIFEST ", " REG_MT_DOCKER_MANIFEST

#define REG_DIGEST_STR_MAX 136 /* "sha512:" + 128 hex + NUL, rounded */
#define REG_MEDIA_TYPE_MAX 256
#define REG_MANIFEST_BLOBS_MAX 1024 /* config + layers of one image manifest */
#define REG_INDEX_ENTRIES_MAX 256   /* entries of one index */
#define REG_CONFIG_BLOB_MAX ((size_t)8 * 1024 * 1024)

struct reg_descriptor {
	char media_type[REG_MEDIA_TYPE_MAX];
	char digest[REG_DIGEST_STR_MAX];
	long long size;
};

enum reg_manifest_kind {
	REG_KIND_IMAGE, /* an OCI image manifest or a Docker v2 schema 2 manifest */
	REG_KIND_INDEX, /* an OCI image index or a Docker manifest list */
};

/* One entry of an index, with the fields the index assembly reads. */
struct reg_index_entry {
	struct reg_descriptor desc;
	bool has_platform;            /* a platform with a known os and architecture */
	struct reg_platform platform; /* normalised; valid when has_platform */
	bool attestation;             /* vnd.docker.reference.type = attestation-manifest, or unknown/unknown */
	char *json;                   /* the entry exactly as the index wrote it (owned) */
};

/*
 * A parsed manifest or index. blobs lists the config then the layers of an
 * image manifest; entries the manifests of an index. Owned arrays.
 */
struct reg_manifest {
	enum reg_manifest_kind kind;
	char media_type[REG_MEDIA_TYPE_MAX];
	struct reg_descriptor *blobs;
	size_t blob_count;
	struct reg_index_entry *entries;
	size_t entry_count;
};

/*
 * Parses manifest bytes. The media type comes from the document's mediaType,
 * else from content_type (may be NULL), else from its shape. Schema 1
 * manifests and unknown media types get REG_E_UNSUPPORTED; malformed JSON,
 * descriptors without a valid digest, size or media type, and more than the
 * limits above get REG_E_INVALID. Free with reg_manifest_free().
 */
enum reg_err reg_manifest_parse(const char *data, size_t len, const char *content_type, struct reg_manifest *out, char *errbuf,
				size_t errlen);

/* Frees what out owns and zeroes it. Accepts NULL. */
void reg_manifest_free(struct reg_manifest *m);

/*
 * Reads the platform of an image config blob: os, architecture, variant,
 * os.version (into os_version, "" when absent) and os.features (as a JSON
 * array text into os_features, "" when absent). REG_E_INVALID when the
 * config is not JSON or names no known platform.
 */
enum reg_err reg_config_platform(const char *data, size_t len, struct reg_platform *platform, char *os_version, size_t os_version_len,
				 char *os_features, size_t os_features_len, char *errbuf, size_t errlen);

/* Writes "sha256:<hex>" of data into out (at least REG_DIGEST_STR_MAX bytes). */
void reg_sha256(const void *data, size_t len, char *out);

/* True when data hashes to digest (sha256 or sha512). */
bool reg_digest_matches(const char *digest, const void *data, size_t len);

#endif
