/* Index assembly: merges per-arch images (by digest) into one OCI image index, pushes it to a tag,
 * and reads it back, copying nothing but descriptors unless a source lives in another repository. */
#ifndef MAC_REGISTRY_INDEX_H
#define MAC_REGISTRY_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/client.h"
#include "registry/error.h"
#include "registry/manifest.h"

#define REG_INDEX_SOURCES_MAX 64
#define REG_INDEX_ANNOTATIONS_MAX 64

struct reg_index_source {
	const char *ref;      /* REPO@sha256:HEX */
	const char *platform; /* the platform the source must be, or NULL */
};

struct reg_index_request {
	const char *target; /* REPO:TAG */
	struct reg_index_source sources[REG_INDEX_SOURCES_MAX];
	size_t source_count;
	const char *annotation_keys[REG_INDEX_ANNOTATIONS_MAX];
	const char *annotation_values[REG_INDEX_ANNOTATIONS_MAX];
	size_t annotation_count;
};

struct reg_index_result {
	char digest[REG_DIGEST_STR_MAX]; /* of the pushed index */
	size_t size;                     /* of the pushed index, bytes */
	size_t platform_count;           /* entries with a platform */
	size_t attestation_count;        /* attestation entries kept */
	size_t copied_manifests;         /* manifests copied from other repositories */
	size_t mounted_blobs;            /* blobs mounted from other repositories */
	size_t copied_blobs;             /* blobs downloaded and uploaded again */
	bool pushed;                     /* the PUT to the tag was accepted (even if the read-back then failed) */
};

/* Called with one line of progress ("linux/arm64 <- REF"); may be NULL. */
typedef void (*reg_progress_fn)(void *ctx, const char *line);

/*
 * Builds and pushes the index for req, then reads it back by tag and checks
 * it byte for byte. Nothing is pushed to the tag unless every source was
 * fetched, matched its digest and its asked platform, and no platform came
 * twice. Running it again with the same request gives the same digest.
 * Errors: REG_E_INVALID (a reference), REG_E_NOT_FOUND (a missing manifest
 * or blob), REG_E_DIGEST (content that does not match its digest, or a
 * read-back that differs), REG_E_CONFLICT (same platform twice, a platform
 * that is not what was asked), REG_E_UNSUPPORTED, and the client's errors.
 */
enum reg_err reg_index_push(struct reg_client *c, const struct reg_index_request *req, struct reg_index_result *result,
			    reg_progress_fn progress, void *ctx, char *errbuf, size_t errlen);

/*
 * Builds the index document for already-fetched parts (exposed for tests):
 * entries_json are the manifest descriptors as JSON objects, in order;
 * annotations may be empty. Returns the document (caller frees) or NULL
 * when out of memory.
 */
char *reg_index_document(char *const *entries_json, size_t entry_count, const char *const *annotation_keys,
			 const char *const *annotation_values, size_t annotation_count);

#endif
