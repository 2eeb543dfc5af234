/* Image references (registry/repository:tag@digest): parsing by the distribution grammar, normalisation, formatting. */
#include "registry/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum reg_err reg_ref_parse(const char *s, struct reg_ref *out, char *errbuf, size_t errlen)
{
	size_t total, name_len, path_len, tag_len = 0, digest_len = 0, domain_len = 0;
	const char *at, *name_end, *slash, *last_slash, *colon, *path, *tag = NULL, *digest = NULL;
	const char *domain = NULL;
	bool hub, official;
	enum reg_err err;
	size_t i;

	memset(out, 0, sizeof(*out));
	total = strnlen(s, REG_REF_MAX + 1);
	if (total == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "empty image reference");
	if (total > REG_REF_MAX)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "image reference is longer than %d characters", REG_REF_MAX);
	for (i = 0; i < total; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "image reference has a space or control character at offset %zu", i);

	at = memchr(s, '@', total);
	name_end = at ? at : s + total;
	if (at) {
		digest = at + 1;
		digest_len = total - (size_t)(digest - s);
		if (memchr(digest, '@', digest_len))
			return reg_fail(errbuf, errlen, REG_E_INVALID, "image reference has more than one '@'");
		err = check_digest(digest, digest_len, errbuf, errlen);
		if (err)
			return err;
	}

	/* a tag is the text after the last ':' that follows the last '/' */
	last_slash = NULL;
	for (const char *p = s; p < name_end; p++)
		if (*p == '/')
			last_slash = p;
	colon = memchr(last_slash ? last_slash : s, ':', (size_t)(name_end - (last_slash ? last_slash : s)));
	if (colon) {
		/* the last ':' in that part */
		for (const char *p = colon; p < name_end; p++)
			if (*p == ':')
				colon = p;
		tag = colon + 1;
		tag_len = (size_t)(name_end - tag);
		err = check_tag(tag, tag_len, errbuf, errlen);
		if (err)
			return err;
		name_end = colon;
	}
	name_len = (size_t)(name_end - s);
	if (name_len == 0)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "image reference has no repository name");
	if (name_len > REG_NAME_MAX)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "repository name is %zu characters, at most %d are allowed", name_len,
				REG_NAME_MAX);

	slash = memchr(s, '/', name_len);
	path = s;
	if (slash && looks_like_domain(s, (size_t)(slash - s))) {
		domain = s;
		domain_len = (size_t)(slash - s);
		err = check_domain(domain, domain_len, errbuf, errlen);
		if (err)
			return err;
		path = slash + 1;
	}
	path_len = (size_t)(name_end - path);
	err = check_path(path, path_len, errbuf, errlen);
	if (err)
		return err;

	hub = !domain || (domain_len == strlen(DOCKER_HUB_DOMAIN) && memcmp(domain, DOCKER_HUB_DOMAIN, domain_len) == 0) ||
	      (domain_len == strlen(DOCKER_HUB_LEGACY_DOMAIN) && memcmp(domain, DOCKER_HUB_LEGACY_DOMAIN, domain_len) == 0);
	official = hub && !memchr(path, '/', path_len);

	out->domain = hub ? strdup(DOCKER_HUB_DOMAIN) : dup_n(domain, domain_len);
	out->api_host = hub ? strdup(DOCKER_HUB_API_HOST) : dup_n(domain, domain_len);
	if (official) {
		out->repository = malloc(path_len + sizeof("library/"));
		if (out->repository) {
			memcpy(out->repository, "library/", 8);
			memcpy(out->repository + 8, path, path_len);
			out->repository[8 + path_len] = '\0';
		}
	} else {
		out->repository = dup_n(path, path_len);
	}
	out->tag = tag ? dup_n(tag, tag_len) : strdup("");
	out->digest = digest ? dup_n(digest, digest_len) : strdup("");
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

bool reg_ref_format(const struct reg_ref *ref, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s%s%s%s", ref->domain, ref->repository, ref->tag[0] ? ":" : "", ref->tag,
			 ref->digest[0] ? "@" : "", ref->digest);

	return n >= 0 && (size_t)n < len;
}
