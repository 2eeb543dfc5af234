/* Platforms (os/arch[/variant]): parsing, normalisation to one canonical form, and the names derived from them. */
#ifndef MAC_REGISTRY_PLATFORM_H
#define MAC_REGISTRY_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/error.h"

#define REG_PLATFORM_FIELD_MAX 32 /* bytes per field, NUL included */
#define REG_PLATFORM_STR_MAX 100  /* "os/arch/variant", NUL included */

/*
 * A normalised platform. Fields are lowercase, NUL-terminated; variant is ""
 * when the architecture has none. Normalisation follows the OCI image spec's
 * platform values: x86_64 -> amd64, aarch64 -> arm64, i386/i686 -> 386,
 * arm64/v8 -> arm64 (v8 is arm64's only variant, so it is dropped), arm with
 * no variant -> arm/v7, amd64/v1 -> amd64.
 */
struct reg_platform {
	char os[REG_PLATFORM_FIELD_MAX];
	char arch[REG_PLATFORM_FIELD_MAX];
	char variant[REG_PLATFORM_FIELD_MAX];
};

/*
 * Parses "os/arch[/variant]" and normalises it. Only the operating systems
 * linux and windows, and the architectures amd64, arm64, arm, ppc64le,
 * s390x, riscv64 and 386 are accepted. On error, a one-line reason naming
 * the accepted values is written to errbuf and REG_E_INVALID is returned.
 */
enum reg_err reg_platform_parse(const char *s, struct reg_platform *out, char *errbuf, size_t errlen);

/*
 * Normalises separately given fields (as found in an image config or index
 * entry; variant may be NULL or ""). Same rules and errors as reg_platform_parse().
 */
enum reg_err reg_platform_from_fields(const char *os, const char *arch, const char *variant, struct reg_platform *out, char *errbuf,
				      size_t errlen);

/* True when a and b are the same normalised platform. */
bool reg_platform_equal(const struct reg_platform *a, const struct reg_platform *b);

/* Writes "os/arch[/variant]" into buf (at least REG_PLATFORM_STR_MAX bytes). */
void reg_platform_format(const struct reg_platform *p, char *buf, size_t len);

/*
 * Writes the label-safe form "os-arch[-variant]" (e.g. "linux-arm64",
 * "linux-arm-v7") into buf (at least REG_PLATFORM_STR_MAX bytes).
 */
void reg_platform_label(const struct reg_platform *p, char *buf, size_t len);

#endif
