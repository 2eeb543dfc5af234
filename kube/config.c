/* Where the API server is and who we are, from kubeconfig files (merged, with every auth kind); the release of a
 * configuration. */
#include "kube/config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "kube/kubeconfigfile.h"
#include "util/banned.h"

/* Whether n is absent or an empty scalar (a list key written without a value). */
static bool absent_or_empty(yaml_node_t *n)
{
	return !n || (n->type == YAML_SCALAR_NODE && !kc_scalar(n)[0]);
}

/* The exec plugin's args (where names them in messages): a list of strings, at most KUBE_EXEC_ARGS_MAX. */
static enum kube_err read_exec_args(struct kc_file *f, yaml_node_t *args, const char *where, struct kube_exec_config *exec, char *errbuf,
				    size_t errlen)
{
	if (absent_or_empty(args))
		return KUBE_OK;
	if (args->type != YAML_SEQUENCE_NODE)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.args must be a list", f->path, where);
	for (yaml_node_item_t *it = args->data.sequence.items.start; it < args->data.sequence.items.top; it++) {
		const char *a = kc_scalar(yaml_document_get_node(&f->doc, *it));
		if (!a)
			return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.args must be strings", f->path, where);
		if (exec->argc == KUBE_EXEC_ARGS_MAX)
			return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s has more than %d args", f->path, where,
					 KUBE_EXEC_ARGS_MAX);
		exec->args[exec->argc] = strdup(a);
		if (!exec->args[exec->argc++])
			return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	}
	return KUBE_OK;
}

/* The exec plugin's env: a list of name and value, at most KUBE_EXEC_ENV_MAX. */
static enum kube_err read_exec_env(struct kc_file *f, yaml_node_t *env, const char *where, struct kube_exec_config *exec, char *errbuf,
				   size_t errlen)
{
	if (absent_or_empty(env))
		return KUBE_OK;
	if (env->type != YAML_SEQUENCE_NODE)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.env must be a list", f->path, where);
	for (yaml_node_item_t *it = env->data.sequence.items.start; it < env->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(&f->doc, *it);
		const char *name = kc_scalar(kc_map_get(&f->doc, e, "name")), *value = kc_scalar(kc_map_get(&f->doc, e, "value"));
		if (!name || !name[0] || !value)
			return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.env entries need a name and a value", f->path,
					 where);
		if (exec->envc == KUBE_EXEC_ENV_MAX)
			return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s has more than %d env entries", f->path, where,
					 KUBE_EXEC_ENV_MAX);
		exec->env_names[exec->envc] = strdup(name);
		exec->env_values[exec->envc] = strdup(value);
		if (!exec->env_names[exec->envc] || !exec->env_values[exec->envc])
			return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
		exec->envc++;
	}
	return KUBE_OK;
}

static enum kube_err read_exec(struct kc_file *f, yaml_node_t *exec, const char *user, struct kube_config *out, char *errbuf, size_t errlen)
{
	char where[300];
	enum kube_err err;

	snprintf(where, sizeof(where), "users[%s].user.exec", user);
	if (exec->type != YAML_MAPPING_NODE)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s must be a mapping", f->path, where);
	out->has_exec = true;
	err = kc_get_string(f, exec, "apiVersion", where, &out->exec.api_version, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, exec, "command", where, &out->exec.command, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, exec, "installHint", where, &out->exec.install_hint, errbuf, errlen);
	if (err)
		return err;
	if (!out->exec.api_version || (strcmp(out->exec.api_version, "client.authentication.k8s.io/v1") != 0 &&
				       strcmp(out->exec.api_version, "client.authentication.k8s.io/v1beta1") != 0))
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG,
				 "kubeconfig %s: %s.apiVersion \"%s\" is not supported (use client.authentication.k8s.io/v1 or v1beta1)",
				 f->path, where, out->exec.api_version ? out->exec.api_version : "");
	if (!out->exec.command)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s has no command", f->path, where);
	if (strchr(out->exec.command, '/') && out->exec.command[0] != '/') {
		/* a relative command with a folder is relative to the kubeconfig, as kubectl does */
		char *abs = kc_resolve(f, out->exec.command);
		if (!abs)
			return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
		free(out->exec.command);
		out->exec.command = abs;
	}
	err = read_exec_args(f, kc_map_get(&f->doc, exec, "args"), where, &out->exec, errbuf, errlen);
	return err ? err : read_exec_env(f, kc_map_get(&f->doc, exec, "env"), where, &out->exec, errbuf, errlen);
}

static enum kube_err read_cluster(struct kc_file *f, yaml_node_t *cluster, const char *name, struct kube_config *out, char *errbuf,
				  size_t errlen)
{
	char where[300], *insecure = NULL;
	enum kube_err err;
	size_t n;

	snprintf(where, sizeof(where), "clusters[%s].cluster", name);
	if (cluster->type != YAML_MAPPING_NODE)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s must be a mapping", f->path, where);
	err = kc_get_string(f, cluster, "server", where, &out->server, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, cluster, "tls-server-name", where, &out->tls_server_name, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, cluster, "proxy-url", where, &out->proxy_url, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, cluster, "insecure-skip-tls-verify", where, &insecure, errbuf, errlen);
	if (!err)
		err = kc_get_pem(f, cluster, "certificate-authority-data", "certificate-authority", where, &out->ca_pem, &out->ca_len,
				 errbuf, errlen);
	if (err) {
		free(insecure);
		return err;
	}
	out->insecure = insecure && strcmp(insecure, "true") == 0;
	free(insecure);
	if (!out->server)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s has no server", f->path, where);
	if (strncmp(out->server, "https://", 8) != 0 && strncmp(out->server, "http://", 7) != 0)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.server \"%s\" is not an http(s) URL", f->path, where,
				 out->server);
	n = strlen(out->server);
	while (n > 8 && out->server[n - 1] == '/')
		out->server[--n] = '\0';
	return KUBE_OK;
}

static enum kube_err read_user(struct kc_file *f, yaml_node_t *user, const char *name, struct kube_config *out, char *errbuf, size_t errlen)
{
	char where[300], *token_file = NULL;
	yaml_node_t *exec;
	enum kube_err err;

	snprintf(where, sizeof(where), "users[%s].user", name);
	if (user->type != YAML_MAPPING_NODE)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s must be a mapping", f->path, where);
	if (kc_map_get(&f->doc, user, "auth-provider"))
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG,
				 "kubeconfig %s: %s.auth-provider is not supported; use an exec plugin (gke-gcloud-auth-plugin, kubelogin, "
				 "aws eks get-token)",
				 f->path, where);
	err = kc_get_string(f, user, "token", where, &out->token, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, user, "tokenFile", where, &token_file, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, user, "username", where, &out->username, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, user, "password", where, &out->password, errbuf, errlen);
	if (!err)
		err = kc_get_pem(f, user, "client-certificate-data", "client-certificate", where, &out->cert_pem, &out->cert_len, errbuf,
				 errlen);
	if (!err)
		err = kc_get_pem(f, user, "client-key-data", "client-key", where, &out->key_pem, &out->key_len, errbuf, errlen);
	if (!err && token_file) {
		out->token_file = kc_resolve(f, token_file);
		if (!out->token_file)
			err = kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	}
	free(token_file);
	if (err)
		return err;
	if (!out->cert_pem != !out->key_pem)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s has a client %s but no client %s", f->path, where,
				 out->cert_pem ? "certificate" : "key", out->cert_pem ? "key" : "certificate");
	if (!out->username != !out->password)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s needs both username and password", f->path, where);
	exec = kc_map_get(&f->doc, user, "exec");
	if (exec)
		return read_exec(f, exec, name, out, errbuf, errlen);
	return KUBE_OK;
}

/* Loads every file of paths (':'-separated; in a list, missing files are skipped) into set. */
static enum kube_err load_files(struct kc_set *set, const char *paths, char *errbuf, size_t errlen)
{
	char *list = strdup(paths), *save = NULL, *tok;
	bool single = !strchr(paths, ':');
	enum kube_err err = KUBE_OK;

	if (!list)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	for (tok = strtok_r(list, ":", &save); tok && !err; tok = strtok_r(NULL, ":", &save))
		err = kc_load_file(set, tok, !single, errbuf, errlen);
	free(list);
	if (!err && set->count == 0)
		err = kube_fail(errbuf, errlen, KUBE_E_CONFIG, "none of the kubeconfig files %s exists", paths);
	return err;
}

/* The context to use (context when given, else the first file's current-context), its map and the file that defines
 * it. NULL, with a message, when there is none. */
static yaml_node_t *choose_context(struct kc_set *set, const char *paths, const char *context, const char **current, struct kc_file **file,
				   char *errbuf, size_t errlen)
{
	yaml_node_t *ctx;

	*current = NULL;
	for (size_t i = 0; i < set->count && !*current; i++) {
		const char *c = kc_scalar(kc_map_get(&set->files[i].doc, kc_root_map(&set->files[i]), "current-context"));
		if (c && c[0])
			*current = c;
	}
	if (context && context[0])
		*current = context;
	if (!*current) {
		kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: no current-context is set and no --context was given", paths);
		return NULL;
	}
	ctx = kc_find_first(set, "contexts", "context", *current, file);
	if (!ctx)
		kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: context \"%s\" is not defined", paths, *current);
	return ctx;
}

/* Reads the cluster and the user that context current (ctx, in ctx_file) names into out. */
static enum kube_err read_context(struct kc_set *set, const char *paths, const char *current, struct kc_file *ctx_file, yaml_node_t *ctx,
				  struct kube_config *out, char *errbuf, size_t errlen)
{
	const char *cluster_name = kc_scalar(kc_map_get(&ctx_file->doc, ctx, "cluster")),
		   *user_name = kc_scalar(kc_map_get(&ctx_file->doc, ctx, "user"));
	struct kc_file *cluster_file = NULL, *user_file = NULL;
	yaml_node_t *cluster, *user;
	enum kube_err err;

	if (!cluster_name || !cluster_name[0])
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: contexts[%s].context has no cluster", ctx_file->path,
				 current);
	cluster = kc_find_first(set, "clusters", "cluster", cluster_name, &cluster_file);
	if (!cluster)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: cluster \"%s\" (of context \"%s\") is not defined", paths,
				 cluster_name, current);
	err = read_cluster(cluster_file, cluster, cluster_name, out, errbuf, errlen);
	if (err || !user_name || !user_name[0])
		return err;
	user = kc_find_first(set, "users", "user", user_name, &user_file);
	if (!user)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: user \"%s\" (of context \"%s\") is not defined", paths,
				 user_name, current);
	return read_user(user_file, user, user_name, out, errbuf, errlen);
}

enum kube_err kube_config_from_kubeconfig(const char *paths, const char *context, struct kube_config *out, char *errbuf, size_t errlen)
{
	struct kc_set set = {0};
	struct kc_file *ctx_file = NULL;
	const char *current = NULL, *ns;
	char source[512];
	yaml_node_t *ctx = NULL;
	enum kube_err err;

	memset(out, 0, sizeof(*out));
	err = load_files(&set, paths, errbuf, errlen);
	if (!err && !(ctx = choose_context(&set, paths, context, &current, &ctx_file, errbuf, errlen)))
		err = KUBE_E_CONFIG;
	if (!err)
		err = read_context(&set, paths, current, ctx_file, ctx, out, errbuf, errlen);
	if (!err) {
		ns = kc_scalar(kc_map_get(&ctx_file->doc, ctx, "namespace"));
		out->namespace = strdup(ns && ns[0] ? ns : "default");
		snprintf(source, sizeof(source), "kubeconfig %s, context %s", ctx_file->path, current);
		out->source = strdup(source);
		if (!out->namespace || !out->source)
			err = kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	}
	kc_set_free(&set);
	if (err)
		kube_config_free(out);
	return err;
}

static void free_secret(char *s, size_t len)
{
	if (s) {
		OPENSSL_cleanse(s, len ? len : strlen(s));
		free(s);
	}
}

void kube_config_free(struct kube_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_pem);
	free(c->tls_server_name);
	free(c->proxy_url);
	free_secret(c->token, 0);
	free(c->token_file);
	free(c->cert_pem);
	free_secret(c->key_pem, c->key_len);
	free(c->username);
	free_secret(c->password, 0);
	free(c->exec.api_version);
	free(c->exec.command);
	free(c->exec.install_hint);
	for (size_t i = 0; i < c->exec.argc; i++)
		free(c->exec.args[i]);
	for (size_t i = 0; i < c->exec.envc; i++) {
		free(c->exec.env_names[i]);
		free(c->exec.env_values[i]);
	}
	free(c->namespace);
	free(c->source);
	memset(c, 0, sizeof(*c));
}
