/* Where the API server is and who we are: kubeconfig files (merged, with every auth kind) and in-cluster config. */
#ifndef MAC_KUBE_CONFIG_H
#define MAC_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "kube/error.h"

#define KUBE_EXEC_ARGS_MAX 32
#define KUBE_EXEC_ENV_MAX 32
#define KUBE_DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* An exec credential plugin (client.authentication.k8s.io/v1 or v1beta1), as EKS, GKE and AKS use. */
struct kube_exec_config {
	char *api_version;
	char *command;
	char *args[KUBE_EXEC_ARGS_MAX];
	size_t argc;
	char *env_names[KUBE_EXEC_ENV_MAX];
	char *env_values[KUBE_EXEC_ENV_MAX];
	size_t envc;
	char *install_hint; /* shown when the command cannot run; may be NULL */
};

/*
 * A resolved configuration. Every string is owned (NULL when unset); PEM
 * data is loaded (from a file or a -data field), paths are absolute.
 * Secrets (token, key_pem, password) are wiped by kube_config_free().
 */
struct kube_config {
	char *server; /* https://host:port, no trailing slash */
	char *ca_pem; /* CA bundle, PEM */
	size_t ca_len;
	bool insecure; /* insecure-skip-tls-verify */
	char *tls_server_name;
	char *proxy_url;
	char *token;      /* a static bearer token */
	char *token_file; /* or a file holding it, re-read when it changes */
	char *cert_pem;   /* client certificate, PEM */
	size_t cert_len;
	char *key_pem; /* client key, PEM */
	size_t key_len;
	char *username;
	char *password;
	bool has_exec;
	struct kube_exec_config exec;
	char *namespace; /* the context's namespace, or the pod's; "default" when none */
	char *source;    /* where this came from, for messages: "kubeconfig F, context C" or "in-cluster" */
};

/*
 * Loads kubeconfig files. paths is one file or several joined by ':' (as in
 * KUBECONFIG): for every name, the first file that defines it wins, missing
 * files in a list are skipped, and current-context comes from the first file
 * that sets it. context overrides current-context when not NULL. Relative
 * paths are resolved against the folder of the file that names them.
 * On error, out is freed and errbuf names the file and the field.
 */
enum kube_err kube_config_from_kubeconfig(const char *paths, const char *context, struct kube_config *out, char *errbuf, size_t errlen);

/*
 * The in-cluster configuration: KUBERNETES_SERVICE_HOST and _PORT, and the
 * service account's token (re-read when it rotates), CA and namespace from
 * sa_dir (KUBE_DEFAULT_SA_DIR in a pod).
 */
enum kube_err kube_config_in_cluster(const char *sa_dir, struct kube_config *out, char *errbuf, size_t errlen);

/*
 * The configuration a command uses: explicit_path when not NULL, else
 * $KUBECONFIG, else in-cluster when KUBERNETES_SERVICE_HOST is set, else
 * ~/.kube/config.
 */
enum kube_err kube_config_load(const char *explicit_path, const char *context, struct kube_config *out, char *errbuf, size_t errlen);

/* Frees and wipes what c owns, and zeroes it. Accepts NULL. */
void kube_config_free(struct kube_config *c);

#endif
