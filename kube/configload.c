/* Where the configuration comes from: a kubeconfig named or found, or the pod's service account. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/config.h"
#include "util/dynbuf.h"
#include "util/fileio.h"
#include "util/banned.h"

#define PEM_FILE_MAX ((size_t)4 * 1024 * 1024)

enum kube_err kube_config_in_cluster(const char *sa_dir, struct kube_config *out, char *errbuf, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[4096], server[512];
	struct dynbuf buf;
	enum kube_err err = KUBE_OK;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!host || !host[0] || !port || !port[0])
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "not running in a cluster: KUBERNETES_SERVICE_HOST and _PORT are not set");
	snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	dynbuf_init(&buf, PEM_FILE_MAX);
	rc = file_read_all(path, &buf);
	if (rc) {
		dynbuf_free(&buf);
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "in-cluster: cannot read %s: %s", path, strerror(rc));
	}
	out->ca_pem = dynbuf_take(&buf, &out->ca_len);
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	out->token_file = strdup(path);
	out->server = strdup(server);
	out->source = strdup("in-cluster service account");
	snprintf(path, sizeof(path), "%s/namespace", sa_dir);
	dynbuf_init(&buf, 256);
	if (file_read_all(path, &buf) == 0 && dynbuf_len(&buf) > 0) {
		char *ns = dynbuf_take(&buf, NULL);
		if (ns)
			ns[strcspn(ns, "\r\n ")] = '\0';
		out->namespace = ns;
	} else {
		dynbuf_free(&buf);
		out->namespace = strdup("default");
	}
	if (!out->ca_pem || !out->token_file || !out->server || !out->source || !out->namespace)
		err = kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	else if (access(out->token_file, R_OK) != 0)
		err = kube_fail(errbuf, errlen, KUBE_E_CONFIG, "in-cluster: cannot read the service account token %s: %s", out->token_file,
				strerror(errno));
	if (err)
		kube_config_free(out);
	return err;
}

enum kube_err kube_config_load(const char *explicit_path, const char *context, struct kube_config *out, char *errbuf, size_t errlen)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	char path[4096];

	if (explicit_path && explicit_path[0])
		return kube_config_from_kubeconfig(explicit_path, context, out, errbuf, errlen);
	if (env && env[0])
		return kube_config_from_kubeconfig(env, context, out, errbuf, errlen);
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return kube_config_in_cluster(KUBE_DEFAULT_SA_DIR, out, errbuf, errlen);
	if (home && home[0]) {
		snprintf(path, sizeof(path), "%s/.kube/config", home);
		if (access(path, F_OK) == 0)
			return kube_config_from_kubeconfig(path, context, out, errbuf, errlen);
	}
	memset(out, 0, sizeof(*out));
	return kube_fail(errbuf, errlen, KUBE_E_CONFIG,
			 "no cluster configuration: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a cluster");
}
