/* WWW-Authenticate challenges of registries (RFC 7235 with the distribution token-auth parameters). */
#include "registry/challenge.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "util/errbuf.h"
#include "util/banned.h"

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a token or quoted-string value at *p into dst (cap bytes). Advances *p. Returns false when malformed or too long. */
static bool read_value(const char **p, char *dst, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		s++;
		while (*s && *s != '"') {
			if (*s == '\\' && s[1])
				s++;
			if (n + 1 >= cap)
				return false;
			dst[n++] = *s++;
		}
		if (*s != '"')
			return false;
		s++;
	} else {
		while (is_tchar(*s) || *s == '/' || *s == ':' || *s == '=' || *s == '@' || *s == '?' || *s == '[' || *s == ']') {
			if (n + 1 >= cap)
				return false;
			dst[n++] = *s++;
		}
		if (n == 0)
			return false;
	}
	dst[n] = '\0';
	*p = s;
	return true;
}

/* Where a parameter of the chosen challenge goes in out (realm, service, scope, error); NULL for one not kept. */
static char *param_field(struct reg_challenge *out, const char *param, size_t len)
{
	if (len == 5 && strncasecmp(param, "realm", 5) == 0)
		return out->realm;
	if (len == 7 && strncasecmp(param, "service", 7) == 0)
		return out->service;
	if (len == 5 && strncasecmp(param, "scope", 5) == 0)
		return out->scope;
	if (len == 5 && strncasecmp(param, "error", 5) == 0)
		return out->error;
	return NULL;
}

/* Reads the auth-params (name=value, separated by commas) at *p up to the next scheme name or the end, keeping them
 * in out when keep (the chosen challenge's), dropping them otherwise. */
static enum reg_err read_params(const char **p, bool keep, struct reg_challenge *out, char *errbuf, size_t errlen)
{
	char dropped[REG_CHALLENGE_PARAM_MAX] = "";

	for (;;) {
		const char *param, *save;
		size_t param_len;
		char *dst;

		*p = skip_ws(*p);
		while (**p == ',')
			*p = skip_ws(*p + 1);
		save = param = *p;
		while (is_tchar(**p))
			(*p)++;
		param_len = (size_t)(*p - param);
		*p = skip_ws(*p);
		if (param_len == 0 || **p != '=') {
			*p = save; /* a new challenge (or the end) starts here */
			return REG_OK;
		}
		*p = skip_ws(*p + 1);
		dst = keep ? param_field(out, param, param_len) : NULL;
		if (!read_value(p, dst ? dst : dropped, REG_CHALLENGE_PARAM_MAX))
			return reg_fail(errbuf, errlen, REG_E_INVALID,
					"malformed or oversized value of \"%.*s\" in WWW-Authenticate header",
					(int)(param_len > 64 ? 64 : param_len), param);
	}
}

enum reg_err reg_challenge_parse(const char *header, struct reg_challenge *out, char *errbuf, size_t errlen)
{
	const char *p = header;
	bool chosen = false;
	enum reg_err err;

	memset(out, 0, sizeof(*out));
	if (strnlen(header, REG_CHALLENGE_MAX + 1) > REG_CHALLENGE_MAX)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "WWW-Authenticate header is longer than %d bytes", REG_CHALLENGE_MAX);
	while (*(p = skip_ws(p))) {
		const char *name = p;
		size_t name_len;
		enum reg_auth_scheme scheme = REG_AUTH_NONE;

		while (is_tchar(*p))
			p++;
		name_len = (size_t)(p - name);
		if (name_len == 0)
			return reg_fail(errbuf, errlen, REG_E_INVALID, "malformed WWW-Authenticate header at offset %zu",
					(size_t)(name - header));
		if (name_len == 5 && strncasecmp(name, "basic", 5) == 0)
			scheme = REG_AUTH_BASIC;
		else if (name_len == 6 && strncasecmp(name, "bearer", 6) == 0)
			scheme = REG_AUTH_BEARER;
		if (scheme != REG_AUTH_NONE && !chosen)
			out->scheme = scheme;
		/* the parameters of a challenge not chosen are read and dropped */
		if ((err = read_params(&p, scheme != REG_AUTH_NONE && !chosen, out, errbuf, errlen)))
			return err;
		chosen = chosen || scheme != REG_AUTH_NONE;
	}
	if (!chosen)
		return reg_fail(errbuf, errlen, REG_E_INVALID, "WWW-Authenticate offers neither Basic nor Bearer authentication");
	if (out->scheme == REG_AUTH_BEARER && !out->realm[0])
		return reg_fail(errbuf, errlen, REG_E_INVALID, "WWW-Authenticate Bearer challenge has no realm");
	return REG_OK;
}

/* The host[:port] of an http(s) URL into buf; false when url is not one or it does not fit. */
static bool url_authority(const char *url, char *buf, size_t len)
{
	const char *start = strstr(url, "://");
	size_t n;

	if (!start)
		return false;
	start += 3;
	n = strcspn(start, "/?#");
	if (n == 0 || n >= len)
		return false;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return true;
}

/* The length of the host part of host[:port] (an IPv6 literal keeps its brackets). */
static size_t host_length(const char *authority)
{
	const char *end = authority[0] == '[' ? strchr(authority, ']') : NULL;

	return end ? (size_t)(end - authority) + 1 : strcspn(authority, ":");
}

/* Whether two host[:port] name the same host, whatever their ports. */
static bool same_host(const char *a, const char *b)
{
	size_t n = host_length(a);

	return n == host_length(b) && strncasecmp(a, b, n) == 0;
}

bool reg_realm_may_get_credentials(const char *host, bool tls, const char *realm, char *why, size_t why_len)
{
	char authority[REG_CHALLENGE_PARAM_MAX];
	bool realm_tls = strncmp(realm, "https://", 8) == 0;

	if (!url_authority(realm, authority, sizeof(authority))) {
		errbuf_set(why, why_len, "the token realm is not an http(s) URL");
		return false;
	}
	if (tls && !realm_tls) {
		errbuf_set(why, why_len, "its token realm %s is plain HTTP: the credentials of a TLS registry are never sent in clear",
			   authority);
		return false;
	}
	if (!realm_tls && !same_host(authority, host)) {
		errbuf_set(why, why_len,
			   "its token realm is another host, %s, over plain HTTP: credentials go to another host only over TLS", authority);
		return false;
	}
	return true;
}

bool reg_token_valid(const char *token)
{
	size_t n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

	if (n == 0)
		return false;
	while (token[n] == '=')
		n++;
	return token[n] == '\0';
}
