/* Copying an image between repositories: a manifest and its blobs placed in the target repository. */
#ifndef MAC_REGISTRY_COPY_H
#define MAC_REGISTRY_COPY_H

#include <stddef.h>
#include <stdio.h>

#include "registry/client.h"
#include "registry/index.h"
#include "registry/manifest.h"
#include "registry/reference.h"

/* One copy's parties, all borrowed: the client, the source repository (and its text, for messages), the target,
 * and the counts it adds to (copied_manifests, mounted_blobs, copied_blobs). */
struct reg_copy {
	struct reg_client *client;
	const struct reg_ref *from;
	const char *from_text;
	const struct reg_ref *to;
	struct reg_index_result *counts;
};

/*
 * Places manifest m (its bytes, under digest) in the target repository: each blob present there already, mounted
 * from the source repository when both are on one host, or downloaded (no more than its declared size reaches the
 * disk, then checked against its digest) and uploaded; then the manifest itself, which the registry must store under
 * the same digest. REG_OK or the first failure, worded with the blob or manifest and the registry's answer.
 */
enum reg_err reg_copy_manifest(const struct reg_copy *cp, const char *digest, const struct reg_manifest *m, const char *bytes, size_t len,
			       char *errbuf, size_t errlen);

#endif
