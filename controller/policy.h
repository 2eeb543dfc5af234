/* The operator's policy, deny by default: which builder images, tolerations, node label keys, privileged-level
 * backends and BuildKit entitlements a MultiArchBuild may ask for. */
#ifndef MAC_CONTROLLER_POLICY_H
#define MAC_CONTROLLER_POLICY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/error.h"

/*
 * The policy section of the builder configuration. Every member is NULL
 * when the section does not set it, and then means the default: nothing
 * beyond the operator's own settings (node_label_keys: any key but those
 * that single out nodes: node-role.kubernetes.io/... and kubernetes.io/hostname).
 * The lists are borrowed from the configuration's document.
 */
struct ctl_policy {
	const cJSON *builder_images;        /* image patterns spec.builder.image may name, besides the configured images */
	const cJSON *tolerations;           /* toleration patterns a build may add, besides defaults.tolerations */
	const cJSON *node_label_keys;       /* label key patterns nodeSelector and node affinity may use */
	const cJSON *privileged_namespaces; /* namespace patterns where buildkit and buildah (privileged-level pods) run */
	const cJSON *entitlements;          /* BuildKit entitlements spec.builder.entitlements may ask for */
	const cJSON *service_accounts;      /* name patterns spec.serviceAccountName may name, besides the default */
	bool dns_overrides;                 /* whether a build may set spec.hostAliases and spec.dnsConfig */
};

/* Reads the policy section (borrowed; NULL for none) into out. Unknown keys and wrong types are refused with
 * CTL_E_INVALID and a message naming the key. */
enum ctl_err ctl_policy_parse(const cJSON *section, struct ctl_policy *out, char *errbuf, size_t errlen);

/* Whether backend runs in pods that only the Pod Security level "privileged" admits (buildkit, buildah). */
bool ctl_policy_backend_privileged(int backend);

#endif
