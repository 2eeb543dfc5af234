/* Exec credential plugins: runs the kubeconfig's command and reads its ExecCredential. */
#ifndef MAC_KUBE_EXEC_H
#define MAC_KUBE_EXEC_H

#include <stddef.h>
#include <time.h>

#include "kube/config.h"
#include "kube/error.h"

#define KUBE_EXEC_OUTPUT_MAX ((size_t)1024 * 1024)
#define KUBE_EXEC_TIMEOUT_S 60

/* What a plugin returned. Owned strings, NULL when absent; expires is 0 when the credential does not expire. */
struct kube_exec_credential {
	char *token;
	char *cert_pem;
	char *key_pem;
	time_t expires;
};

/*
 * Runs cfg's command with its args and env, plus KUBERNETES_EXEC_INFO
 * (non-interactive), waits at most KUBE_EXEC_TIMEOUT_S, and parses the
 * ExecCredential on its stdout (same apiVersion as asked). On error,
 * KUBE_E_EXEC with the plugin's exit status and the start of its stderr (or
 * the install hint when it cannot be started).
 */
enum kube_err kube_exec_run(const struct kube_exec_config *cfg, struct kube_exec_credential *out, char *errbuf, size_t errlen);

/* Parses an ExecCredential document (exposed for tests). */
enum kube_err kube_exec_parse(const char *json, size_t len, const char *api_version, struct kube_exec_credential *out, char *errbuf,
			      size_t errlen);

/* Frees and wipes what c owns. Accepts NULL. */
void kube_exec_credential_free(struct kube_exec_credential *c);

#endif
