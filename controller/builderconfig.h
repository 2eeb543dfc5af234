/* The cluster-wide builder configuration (one YAML file, e.g. a mounted ConfigMap): default images, proxy, a CA
 * bundle, registry mirrors and plain-HTTP registries, default resources and tolerations, user namespaces, the policy. */
#ifndef MAC_CONTROLLER_BUILDERCONFIG_H
#define MAC_CONTROLLER_BUILDERCONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/error.h"
#include "controller/buildspec.h"
#include "controller/policy.h"

#define CTL_CONFIG_FILE_MAX ((size_t)1024 * 1024)
#define CTL_CA_BUNDLE_MAX ((size_t)512 * 1024)

#define CTL_NODE_WAIT_DEFAULT_S 900 /* defaults.nodeWaitTimeout when the configuration sets none: 15m */

/*
 * A loaded configuration. Every pointer is NULL when the file does not set
 * it, and points into doc (or ca_bundle) otherwise; doc and ca_bundle are
 * owned and freed by ctl_builder_config_free().
 */
struct ctl_builder_config {
	cJSON *doc;
	const char *buildkit_image, *buildah_image, *kaniko_image, *index_image;
	const char *http_proxy, *https_proxy, *no_proxy;
	char *ca_bundle;                /* PEM text, from caBundle or caBundleFile */
	const cJSON *mirrors;           /* registries.mirrors: {"docker.io": ["mirror.example"], ...} */
	const cJSON *insecure;          /* registries.insecure: ["registry.local:5000", ...] */
	const char *staging_suffix;     /* registries.stagingSuffix: where buildah and kaniko push (spec's repository + it) */
	const cJSON *resources;         /* defaults.resources: {requests: {...}, limits: {...}} */
	const cJSON *tolerations;       /* defaults.tolerations: [...] */
	long node_wait_s;               /* defaults.nodeWaitTimeout: how long a build pod may wait for a node */
	const char *service_account;    /* defaults.serviceAccountName: build pods' and index Jobs' account */
	const cJSON *host_aliases;      /* defaults.hostAliases: [{ip, hostnames}], in every build pod and index Job */
	const cJSON *dns_config;        /* defaults.dnsConfig: {nameservers, searches, options} */
	struct ctl_retention retention; /* defaults.retention; members -1 where unset */
	bool user_namespaces;           /* build pods get hostUsers: false */
	struct ctl_policy policy;       /* what builds may ask for (controller/policy.h) */
};

/*
 * Reads and checks path. Unknown keys, wrong types, a CA bundle that is not
 * PEM, and proxy URLs with credentials are refused with CTL_E_INVALID and
 * a message naming the key. Free with ctl_builder_config_free() either way.
 */
enum ctl_err ctl_builder_config_load(const char *path, struct ctl_builder_config *out, char *errbuf, size_t errlen);

/* As ctl_builder_config_load(), from text already in memory (len bytes). */
enum ctl_err ctl_builder_config_parse(const char *text, size_t len, const char *dir, struct ctl_builder_config *out, char *errbuf,
				      size_t errlen);

void ctl_builder_config_free(struct ctl_builder_config *c);

/* True when the configuration needs files in the build pods (a CA bundle, mirrors, plain-HTTP registries). */
bool ctl_builder_config_has_files(const struct ctl_builder_config *c);

#endif
