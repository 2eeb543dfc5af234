/* Exec credential plugins: runs the kubeconfig's command and reads its ExecCredential. */
#include "kube/exec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dynbuf.h"
#include "util/subprocess.h"
#include "util/timefmt.h"
#include "util/banned.h"

extern char **environ;

void kube_exec_credential_free(struct kube_exec_credential *c)
{
	if (!c)
		return;
	if (c->token) {
		OPENSSL_cleanse(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->cert_pem);
	if (c->key_pem) {
		OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
		free(c->key_pem);
	}
	memset(c, 0, sizeof(*c));
}

/* Reads an ExecCredential's status (borrowed) into out: a token, or a client certificate and key, and when it expires.
 * out's strings are the caller's to free with kube_exec_credential_free(), also on failure. */
static enum kube_err read_status(const cJSON *status, struct kube_exec_credential *out, char *errbuf, size_t errlen)
{
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(status, "token");
	const cJSON *cert = cJSON_GetObjectItemCaseSensitive(status, "clientCertificateData");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(status, "clientKeyData");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(status, "expirationTimestamp");

	if (cJSON_IsString(token) && token->valuestring[0])
		out->token = strdup(token->valuestring);
	if (cJSON_IsString(cert) && cert->valuestring[0])
		out->cert_pem = strdup(cert->valuestring);
	if (cJSON_IsString(key) && key->valuestring[0])
		out->key_pem = strdup(key->valuestring);
	if (!out->token && !(out->cert_pem && out->key_pem))
		return kube_fail(errbuf, errlen, KUBE_E_EXEC,
				 "the credential plugin returned neither a token nor a client certificate and key");
	if (cJSON_IsString(exp) && exp->valuestring[0] && !rfc3339_parse(exp->valuestring, &out->expires))
		return kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin's expirationTimestamp \"%.40s\" is not RFC 3339",
				 exp->valuestring);
	return KUBE_OK;
}

/* Wipes the token and the key in the parse tree root (may be NULL) before it is freed. */
static void wipe_secrets(const cJSON *root)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(status, "token");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(status, "clientKeyData");

	if (cJSON_IsString(token))
		OPENSSL_cleanse(token->valuestring, strlen(token->valuestring));
	if (cJSON_IsString(key))
		OPENSSL_cleanse(key->valuestring, strlen(key->valuestring));
}

enum kube_err kube_exec_parse(const char *json, size_t len, const char *api_version, struct kube_exec_credential *out, char *errbuf,
			      size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *av, *kind, *status;
	enum kube_err err = KUBE_OK;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root)) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin did not print an ExecCredential JSON object");
		goto out;
	}
	av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ExecCredential") != 0)
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin printed something other than an ExecCredential");
	else if (!cJSON_IsString(av) || strcmp(av->valuestring, api_version) != 0)
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin answered apiVersion %s, not %s as asked",
				cJSON_IsString(av) ? av->valuestring : "(none)", api_version);
	else if (!cJSON_IsObject(status))
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin's ExecCredential has no status");
	else
		err = read_status(status, out, errbuf, errlen);
out:
	wipe_secrets(root);
	cJSON_Delete(root);
	if (err)
		kube_exec_credential_free(out);
	return err;
}

/* Builds the child's environment: ours, the plugin's env entries, and KUBERNETES_EXEC_INFO. NULL when out of memory. */
static char **child_environment(const struct kube_exec_config *cfg)
{
	size_t n = 0, i = 0;
	char **env, info[256];

	while (environ[n])
		n++;
	env = calloc(n + cfg->envc + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t j = 0; j < n; j++)
		if (strncmp(environ[j], "KUBERNETES_EXEC_INFO=", 21) != 0)
			env[i++] = strdup(environ[j]);
	for (size_t j = 0; j < cfg->envc; j++) {
		size_t len = strlen(cfg->env_names[j]) + strlen(cfg->env_values[j]) + 2;
		env[i] = malloc(len);
		if (env[i])
			snprintf(env[i], len, "%s=%s", cfg->env_names[j], cfg->env_values[j]);
		i++;
	}
	snprintf(info, sizeof(info),
		 "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}",
		 cfg->api_version);
	env[i++] = strdup(info);
	for (size_t j = 0; j < i; j++)
		if (!env[j]) {
			for (size_t k = 0; k < i; k++)
				free(env[k]);
			free(env);
			return NULL;
		}
	return env;
}

static void free_environment(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

enum kube_err kube_exec_run(const struct kube_exec_config *cfg, struct kube_exec_credential *out, char *errbuf, size_t errlen)
{
	char *argv[KUBE_EXEC_ARGS_MAX + 2], **env;
	struct subprocess_spec spec = {argv, NULL, NULL, 0, KUBE_EXEC_TIMEOUT_S * 1000, KUBE_EXEC_OUTPUT_MAX};
	struct subprocess_result res;
	const char *hint_sep = cfg->install_hint ? "; " : "", *hint = cfg->install_hint ? cfg->install_hint : "";
	enum kube_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	argv[0] = cfg->command;
	for (size_t i = 0; i < cfg->argc; i++)
		argv[i + 1] = cfg->args[i];
	argv[cfg->argc + 1] = NULL;
	if (!(env = child_environment(cfg)))
		return kube_fail(errbuf, errlen, KUBE_E_EXEC, "cannot prepare to run the credential plugin %s", cfg->command);
	spec.env = env;
	rc = subprocess_run(&spec, &res);
	free_environment(env);
	if (rc != 0)
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "cannot run the credential plugin %s: %s%s%s", cfg->command, strerror(rc),
				hint_sep, hint);
	else if (res.output_too_long)
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin %s printed more than %zu bytes", cfg->command,
				KUBE_EXEC_OUTPUT_MAX);
	else if (res.timed_out)
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin %s did not finish within %d s", cfg->command,
				KUBE_EXEC_TIMEOUT_S);
	else if (res.exited && res.exit_code == 127)
		/* "command not found", from a wrapper script or when the spawn could not report the exec error itself */
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "cannot run the credential plugin %s: exit status 127 (not found?)%s%s",
				cfg->command, hint_sep, hint);
	else if (!res.exited || res.exit_code != 0)
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin %s failed (%s %d): %.300s", cfg->command,
				res.exited ? "exit status" : "signal", res.exited ? res.exit_code : res.signal, res.err_text);
	else
		err = kube_exec_parse(dynbuf_str(&res.out), dynbuf_len(&res.out), cfg->api_version, out, errbuf, errlen);
	if (rc == 0)
		subprocess_result_free(&res);
	return err;
}
