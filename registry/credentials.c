/* Registry credentials from a docker config.json: auths entries (auth, username/password, identitytoken) and helpers. */
#include "registry/credentials.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dynbuf.h"
#include "util/fileio.h"
#include "util/jsonget.h"
#include "util/banned.h"

/* Reduces a config key ("https://host/v1/", "http://host") to its host part, into buf. */
static void key_host(const char *key, char *buf, size_t len)
{
	const char *start = strstr(key, "://");
	size_t n;

	start = start ? start + 3 : key;
	n = strcspn(start, "/");
	snprintf(buf, len, "%.*s", (int)n, start);
}

static bool host_matches(const char *key, const char *host)
{
	char kh[512];

	key_host(key, kh, sizeof(kh));
	if (strcmp(kh, host) == 0)
		return true;
	if (strcmp(host, "docker.io") == 0)
		return strcmp(kh, "index.docker.io") == 0 || strcmp(kh, "registry-1.docker.io") == 0;
	return false;
}

bool reg_credentials_copy_field(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= REG_CRED_FIELD_MAX)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* Decodes base64 "user:password" into out. */
static bool decode_auth(const char *b64, struct reg_credentials *out)
{
	unsigned char *raw;
	size_t n;
	char *colon;
	bool ok = false;

	if (strlen(b64) > (size_t)4 * REG_CRED_FIELD_MAX || !base64_decode(b64, strlen(b64), &raw, &n))
		return false;
	colon = memchr(raw, ':', n);
	if (colon && strlen((char *)raw) == n) {
		*colon = '\0';
		ok = reg_credentials_copy_field(out->username, (char *)raw) && reg_credentials_copy_field(out->password, colon + 1);
	}
	OPENSSL_cleanse(raw, n);
	free(raw);
	return ok;
}

bool reg_credentials_helper_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= REG_HELPER_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Names the helper that holds the credentials (from the config's member field); REG_E_INVALID for a bad name. */
static enum reg_err use_helper(const char *name, const char *field, struct reg_credentials *out, char *errbuf, size_t errlen)
{
	if (!reg_credentials_helper_name_valid(name))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "docker config: %s names \"%.64s\", which is not a credential helper name",
				field, name ? name : "");
	snprintf(out->helper, sizeof(out->helper), "%s", name);
	return REG_OK;
}

/* The credentials of auths entry (for host) into out: REG_OK when it holds some, REG_E_NOT_FOUND when it holds none
 * (the next source is asked), another error for a malformed one. */
static enum reg_err read_auths_entry(const cJSON *entry, const char *host, struct reg_credentials *out, char *errbuf, size_t errlen)
{
	const char *auth = json_str_at(entry, "auth", NULL), *user = json_str_at(entry, "username", NULL);
	const char *pass = json_str_at(entry, "password", NULL), *token = json_str_at(entry, "identitytoken", NULL);

	if (!cJSON_IsObject(entry))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "docker config: the auths entry for %s is not an object", host);
	if (auth && auth[0]) {
		if (!decode_auth(auth, out)) {
			reg_credentials_clear(out);
			return reg_fail(errbuf, errlen, REG_E_INVALID,
					"docker config: the \"auth\" value for %s is not base64 of user:password", host);
		}
	} else if (user && pass) {
		if (!reg_credentials_copy_field(out->username, user) || !reg_credentials_copy_field(out->password, pass)) {
			reg_credentials_clear(out);
			return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "docker config: the username or password for %s is too long", host);
		}
	}
	if (token && token[0] && !reg_credentials_copy_field(out->identity_token, token)) {
		reg_credentials_clear(out);
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "docker config: the identitytoken for %s is too long", host);
	}
	return out->username[0] || out->identity_token[0] ? REG_OK : REG_E_NOT_FOUND;
}

enum reg_err reg_credentials_parse(const char *json, size_t len, const char *host, struct reg_credentials *out, char *errbuf, size_t errlen)
{
	cJSON *root;
	const cJSON *auths, *entry, *helpers;
	const char *store;
	enum reg_err err = REG_E_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	if (len > REG_CONFIG_MAX)
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "docker config is larger than %zu bytes", REG_CONFIG_MAX);
	root = cJSON_ParseWithLength(json, len);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reg_fail(errbuf, errlen, REG_E_INVALID, "docker config is not a JSON object");
	}

	helpers = cJSON_GetObjectItemCaseSensitive(root, "credHelpers");
	if (cJSON_IsObject(helpers)) {
		cJSON_ArrayForEach(entry, helpers) {
			if (entry->string && host_matches(entry->string, host)) {
				err = use_helper(cJSON_IsString(entry) ? entry->valuestring : NULL, "credHelpers", out, errbuf, errlen);
				goto out;
			}
		}
	}

	auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
	if (auths && !cJSON_IsObject(auths)) {
		err = reg_fail(errbuf, errlen, REG_E_INVALID, "docker config: \"auths\" is not an object");
		goto out;
	}
	cJSON_ArrayForEach(entry, auths) {
		if (!entry->string || !host_matches(entry->string, host))
			continue;
		err = read_auths_entry(entry, host, out, errbuf, errlen);
		if (err != REG_E_NOT_FOUND)
			goto out;
	}

	store = json_str_at(root, "credsStore", NULL);
	if (store && store[0])
		err = use_helper(store, "credsStore", out, errbuf, errlen);
	else
		err = reg_fail(errbuf, errlen, REG_E_NOT_FOUND, "docker config has no credentials for %s", host);
out:
	cJSON_Delete(root);
	return err;
}

void reg_credentials_clear(struct reg_credentials *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}
