/* Image references (registry/repository:tag@digest): parsing by the distribution grammar, normalisation, formatting. */
#include "registry/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/banned.h"

#define DOCKER_HUB_DOMAIN "docker.io"
#define DOCKER_HUB_LEGACY_DOMAIN "index.docker.io"
#define DOCKER_HUB_API_HOST "registry-1.docker.io"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Copies n bytes of s into a new NUL-terminated string; NULL when out of memory. */
static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

bool reg_digest_valid(const char *s)
{
	size_t want, i;

	if (strncmp(s, "sha256:", 7) == 0) {
		s += 7;
		want = 64;
	} else if (strncmp(s, "sha512:", 7) == 0) {
		s += 7;
		want = 128;
	} else {
		return false;
	}
	for (i = 0; i < want; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return s[want] == '\0';
}

/* digest := algorithm ":" encoded, algorithm components [a-z0-9]+ joined by [+._-], encoded [A-Fa-f0-9]{32,}. */
static enum reg_err check_digest(const char *d, size_t n, char *errbuf, size_t errlen)
{
	size_t i = 0, alg_end;
	const char *colon = memchr(d, ':', n);

	if (!colon)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "digest \"%.*s\" has no algorithm (expected sha256:<64 hex>)", (int)n, d);
	alg_end = (size_t)(colon - d);
	while (i < alg_end) {
		size_t start = i;
		while (i < alg_end && is_lower_alnum(d[i]))
			i++;
		if (i == start)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "digest algorithm \"%.*s\" is malformed", (int)alg_end, d);
		if (i < alg_end) {
			if (!strchr("+._-", d[i]) || i + 1 == alg_end)
				return reg_fail(errbuf, errlen, REG_E_INVALID, "digest algorithm \"%.*s\" is malformed", (int)alg_end, d);
			i++;
		}
	}
	if (alg_end == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "digest \"%.*s\" has no algorithm (expected sha256:<64 hex>)", (int)n, d);
	for (i = alg_end + 1; i < n; i++)
		if (!is_hex(d[i]))
			return reg_fail(errbuf, errlen, REG_E_INVALID, "digest \"%.*s\" has a non-hex character", (int)n, d);
	if (n - alg_end - 1 < 32)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "digest \"%.*s\" is too short", (int)n, d);
	{
		char tmp[8 + 128 + 1];
		if (n >= sizeof(tmp) || (memcmp(d, "sha256:", 7) != 0 && memcmp(d, "sha512:", 7) != 0))
			return reg_fail(errbuf, errlen, REG_E_INVALID, "digest algorithm \"%.*s\" is not supported (use sha256)",
					(int)alg_end, d);
		memcpy(tmp, d, n);
		tmp[n] = '\0';
		if (!reg_digest_valid(tmp))
			return reg_fail(errbuf, errlen, REG_E_INVALID, "digest \"%s\" must be %.6s followed by %d lowercase hex digits",
					tmp, tmp, tmp[3] == '2' ? 64 : 128);
	}
	return REG_OK;
}

/* tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static enum reg_err check_tag(const char *t, size_t n, char *errbuf, size_t errlen)
{
	size_t i;

	if (n == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "empty tag after ':'");
	if (n > REG_TAG_MAX)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "tag is %zu characters, at most %d are allowed", n, REG_TAG_MAX);
	if (!(is_alnum(t[0]) || t[0] == '_'))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "tag \"%.*s\" must start with a letter, digit or '_'", (int)n, t);
	for (i = 1; i < n; i++)
		if (!(is_alnum(t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return reg_fail(errbuf, errlen, REG_E_INVALID, "tag \"%.*s\" has an invalid character '%c'", (int)n, t, t[i]);
	return REG_OK;
}

/* domain := host [":" port]; host := domain-name | "[" ipv6 "]" */
static enum reg_err check_domain(const char *d, size_t n, char *errbuf, size_t errlen)
{
	size_t i = 0, host_end = n;
	const char *colon;

	if (n > 0 && d[0] == '[') {
		const char *close = memchr(d, ']', n);
		if (!close || close == d + 1)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" has a malformed IPv6 address", (int)n, d);
		for (i = 1; d + i < close; i++)
			if (!(is_hex(d[i]) || d[i] == ':' || d[i] == '.'))
				return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" has a malformed IPv6 address", (int)n, d);
		host_end = (size_t)(close - d) + 1;
		if (host_end < n && d[host_end] != ':')
			return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" is malformed", (int)n, d);
	} else {
		colon = memchr(d, ':', n);
		if (colon)
			host_end = (size_t)(colon - d);
		while (i < host_end) {
			size_t start = i;
			while (i < host_end && (is_alnum(d[i]) || d[i] == '-'))
				i++;
			if (i == start || d[start] == '-' || d[i - 1] == '-')
				return reg_fail(errbuf, errlen, REG_E_INVALID, "registry host \"%.*s\" is malformed", (int)host_end, d);
			if (i < host_end) {
				if (d[i] != '.' || i + 1 == host_end)
					return reg_fail(errbuf, errlen, REG_E_INVALID, "registry host \"%.*s\" is malformed", (int)host_end,
							d);
				i++;
			}
		}
		if (host_end == 0)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" has an empty host", (int)n, d);
	}
	if (host_end < n) {
		unsigned long port = 0;
		size_t digits = n - host_end - 1;
		if (digits == 0 || digits > 5)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" has a malformed port", (int)n, d);
		for (i = host_end + 1; i < n; i++) {
			if (d[i] < '0' || d[i] > '9')
				return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" has a malformed port", (int)n, d);
			port = port * 10 + (unsigned long)(d[i] - '0');
		}
		if (port == 0 || port > 65535)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "registry \"%.*s\" has a port out of range", (int)n, d);
	}
	return REG_OK;
}

/* path := component ("/" component)*; component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static enum reg_err check_path(const char *p, size_t n, char *errbuf, size_t errlen)
{
	size_t i = 0;

	if (n == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "empty repository name");
	for (i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			return reg_fail(errbuf, errlen, REG_E_INVALID, "repository \"%.*s\" must be lowercase", (int)n, p);
	i = 0;
	while (i < n) {
		/* one path component */
		for (;;) {
			size_t start = i;
			while (i < n && is_lower_alnum(p[i]))
				i++;
			if (i == start)
				return reg_fail(errbuf, errlen, REG_E_INVALID,
						"repository \"%.*s\" is malformed: each '/'-separated part must start and end with a "
						"letter or digit, joined by '.', '_', '__' or '-'",
						(int)n, p);
			if (i == n || p[i] == '/')
				break;
			if (p[i] == '.') {
				i++;
			} else if (p[i] == '_') {
				i++;
				if (i < n && p[i] == '_')
					i++;
			} else if (p[i] == '-') {
				while (i < n && p[i] == '-')
					i++;
			} else {
				return reg_fail(errbuf, errlen, REG_E_INVALID, "repository \"%.*s\" has an invalid character '%c'", (int)n,
						p, p[i]);
			}
		}
		if (i < n) {
			i++; /* the '/' */
			if (i == n)
				return reg_fail(errbuf, errlen, REG_E_INVALID, "repository \"%.*s\" ends with '/'", (int)n, p);
		}
	}
	return REG_OK;
}

/* True when the first '/'-separated component names a registry rather than a path. */
static bool looks_like_domain(const char *c, size_t n)
{
	size_t i;

	if (n == 9 && memcmp(c, "localhost", 9) == 0)
		return true;
	for (i = 0; i < n; i++)
		if (c[i] == '.' || c[i] == ':' || (c[i] >= 'A' && c[i] <= 'Z'))
			return true;
	return false;
}

void reg_ref_free(struct reg_ref *ref)
{
	if (!ref)
		return;
	free(ref->domain);
	free(ref->api_host);
	free(ref->repository);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

/* The pieces of a reference, pointing into its text. */
struct ref_parts {
	const char *domain, *path, *tag, *digest; /* NULL when absent (path never) */
	size_t domain_len, path_len, tag_len, digest_len;
};

/* Checks s (total characters) is not empty, not too long, and holds no space or control character. */
static enum reg_err check_text(const char *s, size_t total, char *errbuf, size_t errlen)
{
	if (total == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "empty image reference");
	if (total > REG_REF_MAX)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "image reference is longer than %d characters", REG_REF_MAX);
	for (size_t i = 0; i < total; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "image reference has a space or control character at offset %zu", i);
	return REG_OK;
}

/* Takes the digest (after '@') and the tag (after the last ':' that follows the last '/') off s, checking each;
 * *name_len receives the length of what is left, the name. */
static enum reg_err split_tag_and_digest(const char *s, size_t total, struct ref_parts *parts, size_t *name_len, char *errbuf,
					 size_t errlen)
{
	const char *at = memchr(s, '@', total), *name_end = at ? at : s + total, *last_slash = NULL, *colon;
	enum reg_err err;

	if (at) {
		parts->digest = at + 1;
		parts->digest_len = total - (size_t)(parts->digest - s);
		if (memchr(parts->digest, '@', parts->digest_len))
			return reg_fail(errbuf, errlen, REG_E_INVALID, "image reference has more than one '@'");
		if ((err = check_digest(parts->digest, parts->digest_len, errbuf, errlen)))
			return err;
	}
	for (const char *p = s; p < name_end; p++)
		if (*p == '/')
			last_slash = p;
	colon = memchr(last_slash ? last_slash : s, ':', (size_t)(name_end - (last_slash ? last_slash : s)));
	if (colon) {
		for (const char *p = colon; p < name_end; p++) /* the last ':' in that part */
			if (*p == ':')
				colon = p;
		parts->tag = colon + 1;
		parts->tag_len = (size_t)(name_end - parts->tag);
		if ((err = check_tag(parts->tag, parts->tag_len, errbuf, errlen)))
			return err;
		name_end = colon;
	}
	*name_len = (size_t)(name_end - s);
	if (*name_len == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "image reference has no repository name");
	if (*name_len > REG_NAME_MAX)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "repository name is %zu characters, at most %d are allowed", *name_len,
				REG_NAME_MAX);
	return REG_OK;
}

/* Splits the name (name_len characters of s) into a domain, when its first part looks like one, and the path. */
static enum reg_err split_name(const char *s, size_t name_len, struct ref_parts *parts, char *errbuf, size_t errlen)
{
	const char *slash = memchr(s, '/', name_len);
	enum reg_err err;

	parts->path = s;
	if (slash && looks_like_domain(s, (size_t)(slash - s))) {
		parts->domain = s;
		parts->domain_len = (size_t)(slash - s);
		if ((err = check_domain(parts->domain, parts->domain_len, errbuf, errlen)))
			return err;
		parts->path = slash + 1;
	}
	parts->path_len = (size_t)(s + name_len - parts->path);
	return check_path(parts->path, parts->path_len, errbuf, errlen);
}

/* Fills out from parts, normalised as Docker does: no domain is Docker Hub, a one-part Hub path is library/'s. */
static enum reg_err fill_ref(const struct ref_parts *parts, struct reg_ref *out, char *errbuf, size_t errlen)
{
	bool hub = !parts->domain ||
		   (parts->domain_len == strlen(DOCKER_HUB_DOMAIN) && memcmp(parts->domain, DOCKER_HUB_DOMAIN, parts->domain_len) == 0) ||
		   (parts->domain_len == strlen(DOCKER_HUB_LEGACY_DOMAIN) &&
		    memcmp(parts->domain, DOCKER_HUB_LEGACY_DOMAIN, parts->domain_len) == 0);
	bool official = hub && !memchr(parts->path, '/', parts->path_len);
	size_t name_len;

	out->domain = hub ? strdup(DOCKER_HUB_DOMAIN) : dup_n(parts->domain, parts->domain_len);
	out->api_host = hub ? strdup(DOCKER_HUB_API_HOST) : dup_n(parts->domain, parts->domain_len);
	if (official && (out->repository = malloc(parts->path_len + sizeof("library/")))) {
		memcpy(out->repository, "library/", 8);
		memcpy(out->repository + 8, parts->path, parts->path_len);
		out->repository[8 + parts->path_len] = '\0';
	} else if (!official) {
		out->repository = dup_n(parts->path, parts->path_len);
	}
	out->tag = parts->tag ? dup_n(parts->tag, parts->tag_len) : strdup("");
	out->digest = parts->digest ? dup_n(parts->digest, parts->digest_len) : strdup("");
	if (!out->domain || !out->api_host || !out->repository || !out->tag || !out->digest) {
		reg_ref_free(out);
		return reg_fail(errbuf, errlen, REG_E_NOMEM, "out of memory parsing an image reference");
	}
	/* the limit holds for the normalised name too ("docker.io/library/" included) */
	name_len = strlen(out->domain) + 1 + strlen(out->repository);
	if (name_len > REG_NAME_MAX) {
		reg_ref_free(out);
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "repository name is %zu characters once normalised, at most %d are allowed",
				name_len, REG_NAME_MAX);
	}
	return REG_OK;
}

enum reg_err reg_ref_parse(const char *s, struct reg_ref *out, char *errbuf, size_t errlen)
{
	size_t total = strnlen(s, REG_REF_MAX + 1), name_len = 0;
	struct ref_parts parts;
	enum reg_err err;

	memset(out, 0, sizeof(*out));
	memset(&parts, 0, sizeof(parts));
	if ((err = check_text(s, total, errbuf, errlen)) || (err = split_tag_and_digest(s, total, &parts, &name_len, errbuf, errlen)) ||
	    (err = split_name(s, name_len, &parts, errbuf, errlen)))
		return err;
	return fill_ref(&parts, out, errbuf, errlen);
}

bool reg_ref_format(const struct reg_ref *ref, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s%s%s%s", ref->domain, ref->repository, ref->tag[0] ? ":" : "", ref->tag,
			 ref->digest[0] ? "@" : "", ref->digest);

	return n >= 0 && (size_t)n < len;
}
