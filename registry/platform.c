/* Platforms (os/arch[/variant]): parsing, normalisation to one canonical form, and the names derived from them. */
#include "registry/platform.h"

#include <stdio.h>
#include <string.h>
#include "util/banned.h"

struct arch_alias {
	const char *name;
	const char *arch;
};

static const struct arch_alias arch_aliases[] = {
	{"amd64", "amd64"},     {"x86_64", "amd64"}, {"x86-64", "amd64"}, {"arm64", "arm64"},     {"aarch64", "arm64"},
	{"arm", "arm"},         {"armhf", "arm"},    {"armel", "arm"},    {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
	{"riscv64", "riscv64"}, {"386", "386"},      {"i386", "386"},     {"i686", "386"},
};

static const char *const known_os[] = {"linux", "windows"};

#define ACCEPTED_ARCHES "amd64, arm64, arm, ppc64le, s390x, riscv64, 386"

/* Copies s into a field, lowercased. Returns false when it does not fit or is empty. */
static bool copy_field(char dst[REG_PLATFORM_FIELD_MAX], const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= REG_PLATFORM_FIELD_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
		dst[i] = c;
	}
	dst[n] = '\0';
	return true;
}

static enum reg_err normalise(struct reg_platform *p, const char *input, char *errbuf, size_t errlen)
{
	size_t i;
	bool os_ok = false;
	const char *arch = NULL;

	for (i = 0; i < sizeof(known_os) / sizeof(known_os[0]); i++)
		if (strcmp(p->os, known_os[i]) == 0)
			os_ok = true;
	if (!os_ok)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "platform \"%s\": unknown os \"%s\" (use linux or windows)", input, p->os);
	for (i = 0; i < sizeof(arch_aliases) / sizeof(arch_aliases[0]); i++)
		if (strcmp(p->arch, arch_aliases[i].name) == 0)
			arch = arch_aliases[i].arch;
	if (!arch)
		return reg_fail(errbuf, errlen, REG_E_INVALID,
				"platform \"%s\": unknown architecture \"%s\" (use one of " ACCEPTED_ARCHES ")", input, p->arch);
	/* "aarch64" and friends carry an implied variant only for arm */
	if (strcmp(p->arch, "armel") == 0 && !p->variant[0])
		snprintf(p->variant, sizeof(p->variant), "v6");
	snprintf(p->arch, sizeof(p->arch), "%s", arch);

	if (strcmp(p->arch, "arm64") == 0) {
		if (strcmp(p->variant, "v8") == 0)
			p->variant[0] = '\0';
		else if (p->variant[0] && strcmp(p->variant, "v9") != 0)
			return reg_fail(errbuf, errlen, REG_E_INVALID,
					"platform \"%s\": arm64 has no variant \"%s\" (use arm64 or arm64/v8)", input, p->variant);
	} else if (strcmp(p->arch, "arm") == 0) {
		if (!p->variant[0])
			snprintf(p->variant, sizeof(p->variant), "v7");
		else if (strcmp(p->variant, "v5") != 0 && strcmp(p->variant, "v6") != 0 && strcmp(p->variant, "v7") != 0 &&
			 strcmp(p->variant, "v8") != 0)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "platform \"%s\": arm has no variant \"%s\" (use v5, v6 or v7)",
					input, p->variant);
	} else if (strcmp(p->arch, "amd64") == 0) {
		if (strcmp(p->variant, "v1") == 0)
			p->variant[0] = '\0';
		else if (p->variant[0] && strcmp(p->variant, "v2") != 0 && strcmp(p->variant, "v3") != 0 && strcmp(p->variant, "v4") != 0)
			return reg_fail(errbuf, errlen, REG_E_INVALID,
					"platform \"%s\": amd64 has no variant \"%s\" (use v2, v3 or v4, or none)", input, p->variant);
	} else if (p->variant[0]) {
		return reg_fail(errbuf, errlen, REG_E_INVALID, "platform \"%s\": architecture %s takes no variant", input, p->arch);
	}
	return REG_OK;
}

enum reg_err reg_platform_parse(const char *s, struct reg_platform *out, char *errbuf, size_t errlen)
{
	const char *slash1, *slash2;
	size_t n = strnlen(s, REG_PLATFORM_STR_MAX);

	memset(out, 0, sizeof(*out));
	if (n >= REG_PLATFORM_STR_MAX)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "platform is longer than %d characters", REG_PLATFORM_STR_MAX - 1);
	slash1 = strchr(s, '/');
	if (!slash1)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "platform \"%s\" must be os/arch[/variant], e.g. linux/arm64", s);
	slash2 = strchr(slash1 + 1, '/');
	if (slash2 && strchr(slash2 + 1, '/'))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "platform \"%s\" has too many parts: use os/arch[/variant]", s);
	if (!copy_field(out->os, s, (size_t)(slash1 - s)) ||
	    !copy_field(out->arch, slash1 + 1, (size_t)((slash2 ? slash2 : s + n) - slash1 - 1)) ||
	    (slash2 && !copy_field(out->variant, slash2 + 1, (size_t)(s + n - slash2 - 1)))) {
		memset(out, 0, sizeof(*out));
		return reg_fail(errbuf, errlen, REG_E_INVALID,
				"platform \"%s\" must be os/arch[/variant] with non-empty parts of letters and digits", s);
	}
	if (normalise(out, s, errbuf, errlen) != REG_OK) {
		memset(out, 0, sizeof(*out));
		return REG_E_INVALID;
	}
	return REG_OK;
}

enum reg_err reg_platform_from_fields(const char *os, const char *arch, const char *variant, struct reg_platform *out, char *errbuf,
				      size_t errlen)
{
	char input[REG_PLATFORM_STR_MAX];

	memset(out, 0, sizeof(*out));
	snprintf(input, sizeof(input), "%.31s/%.31s%s%.31s", os ? os : "", arch ? arch : "", variant && variant[0] ? "/" : "",
		 variant ? variant : "");
	if (!os || !arch || !copy_field(out->os, os, strlen(os)) || !copy_field(out->arch, arch, strlen(arch)) ||
	    (variant && variant[0] && !copy_field(out->variant, variant, strlen(variant)))) {
		memset(out, 0, sizeof(*out));
		return reg_fail(errbuf, errlen, REG_E_INVALID, "platform \"%s\" has an empty or malformed os, architecture or variant",
				input);
	}
	if (normalise(out, input, errbuf, errlen) != REG_OK) {
		memset(out, 0, sizeof(*out));
		return REG_E_INVALID;
	}
	return REG_OK;
}

bool reg_platform_equal(const struct reg_platform *a, const struct reg_platform *b)
{
	return strcmp(a->os, b->os) == 0 && strcmp(a->arch, b->arch) == 0 && strcmp(a->variant, b->variant) == 0;
}

void reg_platform_format(const struct reg_platform *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

void reg_platform_label(const struct reg_platform *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s%s%s", p->os, p->arch, p->variant[0] ? "-" : "", p->variant);
}
