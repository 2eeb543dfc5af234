/* Docker credential helpers (`docker-credential-<name> get` for a registry host, bounded in time and output), and a
 * host's credentials from a docker config folder: the file's own or its helper's. */
#include "registry/credhelper.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/dynbuf.h"
#include "util/fileio.h"
#include "util/jsonget.h"
#include "util/subprocess.h"
#include "util/banned.h"

#define HELPER_PREFIX "docker-credential-"

enum reg_err reg_credhelper_parse(const char *helper, const char *json, size_t len, struct reg_credentials *out, char *errbuf,
				  size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const char *user = json_str_at(root, "Username", NULL), *secret = json_str_at(root, "Secret", NULL);
	enum reg_err err = REG_OK;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root) || !user || !secret || !secret[0])
		err = reg_fail(errbuf, errlen, REG_E_INVALID, "the credential helper %s%s answered without a Username and Secret",
			       HELPER_PREFIX, helper);
	else if (strcmp(user, "<token>") == 0
			 ? !reg_credentials_copy_field(out->identity_token, secret)
			 : !reg_credentials_copy_field(out->username, user) || !reg_credentials_copy_field(out->password, secret))
		err = reg_fail(errbuf, errlen, REG_E_TOO_LONG, "the credential helper %s%s answered with a field over %d bytes",
			       HELPER_PREFIX, helper, REG_CRED_FIELD_MAX - 1);
	if (secret) /* the parse tree's copy of the secret is wiped before it is freed */
		OPENSSL_cleanse((void *)secret, strlen(secret));
	cJSON_Delete(root);
	if (err != REG_OK)
		reg_credentials_clear(out);
	return err;
}

/* The helper's own words on a failure: the protocol puts them on stdout; stderr when that is empty. One line. */
static void failure_words(const struct subprocess_result *res, char *buf, size_t len)
{
	const char *text = dynbuf_len(&res->out) ? dynbuf_str(&res->out) : res->err_text;
	size_t n = 0;

	for (; *text && n + 1 < len && n < 200; text++) {
		buf[n] = *text;
		if ((unsigned char)*text < 0x20)
			buf[n] = ' ';
		n++;
	}
	buf[n] = '\0';
}

enum reg_err reg_credhelper_get(const char *helper, const char *host, int timeout_ms, struct reg_credentials *out, char *errbuf,
				size_t errlen)
{
	char program[sizeof(HELPER_PREFIX) + REG_HELPER_NAME_MAX], input[600], words[256];
	char *argv[] = {program, "get", NULL};
	struct subprocess_spec spec = {argv, NULL, input, 0, timeout_ms, REG_HELPER_OUTPUT_MAX};
	struct subprocess_result res;
	enum reg_err err;
	int rc, n;

	memset(out, 0, sizeof(*out));
	if (!reg_credentials_helper_name_valid(helper))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "\"%.64s\" is not a credential helper name", helper ? helper : "");
	n = snprintf(input, sizeof(input), "%s\n", host);
	if (n < 0 || (size_t)n >= sizeof(input))
		return reg_fail(errbuf, errlen, REG_E_TOO_LONG, "registry host is too long for a credential helper");
	spec.input_len = (size_t)n;
	snprintf(program, sizeof(program), HELPER_PREFIX "%s", helper);
	rc = subprocess_run(&spec, &res);
	if (rc != 0)
		return reg_fail(errbuf, errlen, REG_E_AUTH, "cannot run the credential helper %s for %s: %s (is it in PATH?)", program,
				host, strerror(rc));
	words[0] = '\0';
	if (!res.exited || res.exit_code != 0)
		failure_words(&res, words, sizeof(words)); /* a failing helper's answer is its message, not a secret */
	if (res.output_too_long)
		err = reg_fail(errbuf, errlen, REG_E_TOO_LONG, "the credential helper %s answered more than %zu bytes", program,
			       REG_HELPER_OUTPUT_MAX);
	else if (res.timed_out)
		err = reg_fail(errbuf, errlen, REG_E_AUTH, "the credential helper %s did not answer for %s within %d ms", program, host,
			       timeout_ms);
	else if (res.exited && res.exit_code == 127) /* not found, told by the child where the spawn could not tell it */
		err = reg_fail(errbuf, errlen, REG_E_AUTH, "cannot run the credential helper %s for %s: exit status 127 (is it in PATH?)",
			       program, host);
	else if (res.exited && res.exit_code != 0 && strstr(words, "credentials not found"))
		err = reg_fail(errbuf, errlen, REG_E_NOT_FOUND, "the credential helper %s has no credentials for %s", program, host);
	else if (!res.exited || res.exit_code != 0)
		err = reg_fail(errbuf, errlen, REG_E_AUTH, "the credential helper %s failed for %s (%s %d): %s", program, host,
			       res.exited ? "exit status" : "signal", res.exited ? res.exit_code : res.signal, words);
	else
		err = reg_credhelper_parse(helper, dynbuf_str(&res.out), dynbuf_len(&res.out), out, errbuf, errlen);
	OPENSSL_cleanse(words, sizeof(words));
	subprocess_result_free(&res);
	return err;
}

enum reg_err reg_credentials_load(const char *dir, const char *host, struct reg_credentials *out, char *errbuf, size_t errlen)
{
	char path[4096];
	struct dynbuf buf;
	enum reg_err err = REG_OK;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", dir) >= sizeof(path))
		return reg_fail(errbuf, errlen, REG_E_INVALID, "docker config folder path is too long");
	dynbuf_init(&buf, REG_CONFIG_MAX);
	rc = file_read_all(path, &buf);
	if (rc == EFBIG)
		err = reg_fail(errbuf, errlen, REG_E_TOO_LONG, "%s is larger than %zu bytes", path, REG_CONFIG_MAX);
	else if (rc)
		err = reg_fail(errbuf, errlen, REG_E_IO, "cannot read %s: %s", path, strerror(rc));
	else
		err = reg_credentials_parse(dynbuf_str(&buf), dynbuf_len(&buf), host, out, errbuf, errlen);
	if (err == REG_OK && out->helper[0]) {
		char helper[REG_HELPER_NAME_MAX];
		snprintf(helper, sizeof(helper), "%s", out->helper);
		err = reg_credhelper_get(helper, host, REG_HELPER_TIMEOUT_MS, out, errbuf, errlen);
	}
	if (buf.data)
		OPENSSL_cleanse(buf.data, buf.len);
	dynbuf_free(&buf);
	return err;
}
