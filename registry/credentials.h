/* Registry credentials from a docker config.json: auths entries (auth, username/password, identitytoken) and helpers. */
#ifndef MAC_REGISTRY_CREDENTIALS_H
#define MAC_REGISTRY_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/error.h"

#define REG_CONFIG_MAX ((size_t)1024 * 1024) /* largest config.json read */
#define REG_CRED_FIELD_MAX 4096              /* longest username, password or token */

#define REG_HELPER_NAME_MAX 65 /* a credential helper's name after "docker-credential-", NUL included */

/* Credentials for one registry host. Fields are "" when absent. Never print them. */
struct reg_credentials {
	char username[REG_CRED_FIELD_MAX];
	char password[REG_CRED_FIELD_MAX];
	char identity_token[REG_CRED_FIELD_MAX]; /* an OAuth2 refresh token, used with bearer-token realms */
	char helper[REG_HELPER_NAME_MAX];        /* parse only: the credential helper that holds them, "" for none */
};

/*
 * Finds the credentials for host (as in an image reference: "docker.io",
 * "registry.example.com:5000") in the text of a config.json. Keys of
 * "auths" match with or without a scheme and path ("https://host/v1/");
 * "docker.io" also matches Docker Hub's "https://index.docker.io/v1/".
 * Returns REG_OK and fills out: the credentials, or only out->helper when a
 * credential helper holds them (credHelpers for host first, then an auths
 * entry with credentials, then credsStore); REG_E_NOT_FOUND when the file has
 * nothing for host (anonymous access), or REG_E_INVALID for malformed JSON, a
 * malformed "auth" value or a helper name that is not one. Secrets never
 * reach errbuf.
 */
enum reg_err reg_credentials_parse(const char *json, size_t len, const char *host, struct reg_credentials *out, char *errbuf,
				   size_t errlen);

/* Whether name may follow "docker-credential-": 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool reg_credentials_helper_name_valid(const char *name);

/* Copies src into a field of struct reg_credentials (REG_CRED_FIELD_MAX bytes); false when it does not fit. */
bool reg_credentials_copy_field(char *dst, const char *src);

/* Overwrites the secrets in c with zeros. */
void reg_credentials_clear(struct reg_credentials *c);

#endif
