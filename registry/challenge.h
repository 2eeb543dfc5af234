/* WWW-Authenticate challenges of registries (RFC 7235 with the distribution token-auth parameters). */
#ifndef MAC_REGISTRY_CHALLENGE_H
#define MAC_REGISTRY_CHALLENGE_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/error.h"

#define REG_CHALLENGE_MAX 4096       /* longest header value accepted */
#define REG_CHALLENGE_PARAM_MAX 1024 /* longest parameter value kept */

enum reg_auth_scheme {
	REG_AUTH_NONE = 0,
	REG_AUTH_BASIC,
	REG_AUTH_BEARER,
};

/* The first Basic or Bearer challenge of a header; parameters are "" when absent. */
struct reg_challenge {
	enum reg_auth_scheme scheme;
	char realm[REG_CHALLENGE_PARAM_MAX];
	char service[REG_CHALLENGE_PARAM_MAX];
	char scope[REG_CHALLENGE_PARAM_MAX];
	char error[REG_CHALLENGE_PARAM_MAX]; /* e.g. "insufficient_scope" */
};

/*
 * Parses a WWW-Authenticate header value. Scheme names are case-insensitive;
 * parameter values may be tokens or quoted strings with backslash escapes.
 * Unknown schemes are skipped. Returns REG_E_INVALID (with a reason in
 * errbuf) for malformed input, a Bearer challenge without a realm, an
 * unsupported scheme only, or a value or parameter over the limits above.
 */
enum reg_err reg_challenge_parse(const char *header, struct reg_challenge *out, char *errbuf, size_t errlen);

/*
 * Whether credentials of registry host (with its port; tls says whether it is
 * spoken to over TLS) may go to the token server at realm: never in clear for
 * a TLS registry, and to another host only over TLS. Otherwise false, with
 * the reason in why (why_len bytes). Hosts are compared without their ports: a
 * token server on another port of the registry's own host is that host.
 */
bool reg_realm_may_get_credentials(const char *host, bool tls, const char *realm, char *why, size_t why_len);

/* Whether a token from a token server is one a header can carry: base64 and base64url characters, '.', '~', '-' and
 * trailing '=' (RFC 7235 token68), nothing else (no space, no CR or LF). */
bool reg_token_valid(const char *token);

#endif
