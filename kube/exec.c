/* Exec credential plugins: runs the kubeconfig's command and reads its ExecCredential. */
#include "kube/exec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/dynbuf.h"
#include "util/timefmt.h"

extern char **environ;

#define EXEC_STDERR_MAX 2048

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

enum kube_err kube_exec_parse(const char *json, size_t len, const char *api_version, struct kube_exec_credential *out, char *errbuf,
			      size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *av, *kind, *status, *token, *cert, *key, *exp;
	enum kube_err err = KUBE_OK;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root)) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin did not print an ExecCredential JSON object");
		goto out;
	}
	av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ExecCredential") != 0) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin printed something other than an ExecCredential");
		goto out;
	}
	if (!cJSON_IsString(av) || strcmp(av->valuestring, api_version) != 0) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin answered apiVersion %s, not %s as asked",
				cJSON_IsString(av) ? av->valuestring : "(none)", api_version);
		goto out;
	}
	if (!cJSON_IsObject(status)) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin's ExecCredential has no status");
		goto out;
	}
	token = cJSON_GetObjectItemCaseSensitive(status, "token");
	cert = cJSON_GetObjectItemCaseSensitive(status, "clientCertificateData");
	key = cJSON_GetObjectItemCaseSensitive(status, "clientKeyData");
	exp = cJSON_GetObjectItemCaseSensitive(status, "expirationTimestamp");
	if (cJSON_IsString(token) && token->valuestring[0])
		out->token = strdup(token->valuestring);
	if (cJSON_IsString(cert) && cert->valuestring[0])
		out->cert_pem = strdup(cert->valuestring);
	if (cJSON_IsString(key) && key->valuestring[0])
		out->key_pem = strdup(key->valuestring);
	if (!out->token && !(out->cert_pem && out->key_pem)) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC,
				"the credential plugin returned neither a token nor a client certificate and key");
		goto out;
	}
	if (cJSON_IsString(exp) && exp->valuestring[0] && !rfc3339_parse(exp->valuestring, &out->expires)) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin's expirationTimestamp \"%.40s\" is not RFC 3339",
				exp->valuestring);
		goto out;
	}
out:
	if (root) {
		/* wipe the token in the parse tree before it is freed */
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(st, "token");
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(st, "clientKeyData");
		if (cJSON_IsString(t))
			OPENSSL_cleanse(t->valuestring, strlen(t->valuestring));
		if (cJSON_IsString(k))
			OPENSSL_cleanse(k->valuestring, strlen(k->valuestring));
	}
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

/* A pipe whose ends are closed on exec (the child gets only the dup2()ed copies). */
static bool cloexec_pipe(int fds[2])
{
	if (pipe(fds) != 0)
		return false;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return true;
}

enum kube_err kube_exec_run(const struct kube_exec_config *cfg, struct kube_exec_credential *out, char *errbuf, size_t errlen)
{
	int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, status = 0, rc;
	char *argv[KUBE_EXEC_ARGS_MAX + 2], **env = NULL, chunk[4096];
	posix_spawn_file_actions_t actions;
	struct dynbuf stdout_buf, stderr_buf;
	struct pollfd fds[2];
	struct timespec start, now;
	pid_t pid = -1;
	enum kube_err err = KUBE_OK;
	bool open_out = true, open_err = true, killed = false;

	memset(out, 0, sizeof(*out));
	dynbuf_init(&stdout_buf, KUBE_EXEC_OUTPUT_MAX);
	dynbuf_init(&stderr_buf, EXEC_STDERR_MAX);
	argv[0] = cfg->command;
	for (size_t i = 0; i < cfg->argc; i++)
		argv[i + 1] = cfg->args[i];
	argv[cfg->argc + 1] = NULL;
	env = child_environment(cfg);
	if (!env || !cloexec_pipe(out_pipe) || !cloexec_pipe(err_pipe)) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "cannot prepare to run the credential plugin %s", cfg->command);
		goto out;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, cfg->command, &actions, NULL, argv, env);
	posix_spawn_file_actions_destroy(&actions);
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	if (rc != 0) {
		pid = -1;
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "cannot run the credential plugin %s: %s%s%s", cfg->command, strerror(rc),
				cfg->install_hint ? "; " : "", cfg->install_hint ? cfg->install_hint : "");
		goto out;
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (open_out || open_err) {
		int nfds = 0, waited;
		fds[0] = (struct pollfd){.fd = open_out ? out_pipe[0] : -1, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = open_err ? err_pipe[0] : -1, .events = POLLIN};
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (int)(now.tv_sec - start.tv_sec);
		if (waited >= KUBE_EXEC_TIMEOUT_S) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		nfds = poll(fds, 2, (KUBE_EXEC_TIMEOUT_S - waited) * 1000);
		if (nfds < 0 && errno == EINTR)
			continue;
		if (nfds < 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				if (i == 0)
					open_out = false;
				else
					open_err = false;
				continue;
			}
			if (i == 0 && dynbuf_add(&stdout_buf, chunk, (size_t)n) != DYNBUF_OK) {
				kill(pid, SIGKILL);
				err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin %s printed more than %zu bytes",
						cfg->command, KUBE_EXEC_OUTPUT_MAX);
				open_out = open_err = false;
			} else if (i == 1) {
				/* keep the start of stderr for the message; drop the rest */
				size_t room = EXEC_STDERR_MAX - dynbuf_len(&stderr_buf);
				if (dynbuf_add(&stderr_buf, chunk, (size_t)n < room ? (size_t)n : room) != DYNBUF_OK)
					dynbuf_reset(&stderr_buf); /* out of memory: the message goes without the plugin's words */
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (err)
		goto out;
	if (killed) {
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin %s did not finish within %d s", cfg->command,
				KUBE_EXEC_TIMEOUT_S);
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		/* "command not found", from a wrapper script or when the spawn could not report the exec error itself */
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "cannot run the credential plugin %s: exit status 127 (not found?)%s%s",
				cfg->command, cfg->install_hint ? "; " : "", cfg->install_hint ? cfg->install_hint : "");
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *msg = stderr_buf.data;
		for (size_t i = 0; msg && i < stderr_buf.len; i++)
			if (msg[i] == '\n' || msg[i] == '\r')
				msg[i] = ' ';
		err = kube_fail(errbuf, errlen, KUBE_E_EXEC, "the credential plugin %s failed (%s %d): %.300s", cfg->command,
				WIFEXITED(status) ? "exit status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				dynbuf_str(&stderr_buf));
		goto out;
	}
	err = kube_exec_parse(dynbuf_str(&stdout_buf), dynbuf_len(&stdout_buf), cfg->api_version, out, errbuf, errlen);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	if (stdout_buf.data)
		OPENSSL_cleanse(stdout_buf.data, stdout_buf.len);
	dynbuf_free(&stdout_buf);
	dynbuf_free(&stderr_buf);
	free_environment(env);
	return err;
}
