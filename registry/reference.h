/* Image references (registry/repository:tag@digest): parsing by the distribution grammar, normalisation, formatting. */
#ifndef MAC_REGISTRY_REFERENCE_H
#define MAC_REGISTRY_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/error.h"

/* Limits from the distribution reference grammar. */
#define REG_NAME_MAX 255 /* domain + "/" + repository */
#define REG_TAG_MAX 128
#define REG_REF_MAX 512 /* a whole reference, name + tag + digest */

/*
 * A parsed, normalised image reference. Every field is an owned string,
 * NUL-terminated; tag and digest are "" when absent.
 *  - domain: as written, or "docker.io" when the reference names none;
 *    "index.docker.io" is normalised to "docker.io";
 *  - api_host: where the registry API answers ("registry-1.docker.io" for
 *    Docker Hub, otherwise the domain);
 *  - repository: lowercase path, "library/" prefixed for Docker Hub
 *    official images;
 *  - digest: "algorithm:hex" as written.
 */
struct reg_ref {
	char *domain;
	char *api_host;
	char *repository;
	char *tag;
	char *digest;
};

/*
 * Parses s by the distribution reference grammar, then normalises it as
 * described at struct reg_ref. On error, out is left zeroed, a one-line
 * reason is written to errbuf, and REG_E_INVALID, REG_E_TOO_LONG or
 * REG_E_NOMEM is returned. Free the result with reg_ref_free().
 */
enum reg_err reg_ref_parse(const char *s, struct reg_ref *out, char *errbuf, size_t errlen);

/* Frees the fields of ref and zeroes it. Accepts NULL. */
void reg_ref_free(struct reg_ref *ref);

/*
 * Writes "domain/repository[:tag][@digest]" into buf (len bytes).
 * Returns false when it does not fit (buf then holds a truncated string).
 */
bool reg_ref_format(const struct reg_ref *ref, char *buf, size_t len);

/*
 * True when s is a digest the registry client accepts: "sha256:" and 64
 * lowercase hex digits, or "sha512:" and 128.
 */
bool reg_digest_valid(const char *s);

#endif
