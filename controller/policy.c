/* The operator's policy, deny by default: its section of the builder configuration read, and which backends run in
 * privileged-level pods; policycheck.c holds builds to it. */
#include "controller/policy.h"

#include <string.h>

#include "controller/buildspec.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/banned.h"

static const char *const known_entitlements[] = {"security.insecure", "network.host", NULL};

/* A list of non-empty strings (or absent); false with a message naming where otherwise. */
static bool pattern_list(const cJSON *v, const char *where, char *errbuf, size_t errlen)
{
	const cJSON *item;

	if (!v || cJSON_IsNull(v))
		return true;
	if (!cJSON_IsArray(v)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "policy.%s must be a list of strings", where);
		return false;
	}
	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsString(item) || !item->valuestring[0]) {
			ctl_fail(errbuf, errlen, CTL_E_INVALID, "policy.%s must be a list of non-empty strings", where);
			return false;
		}
	}
	return true;
}

/* The toleration patterns: mappings of key, operator, value and effect strings. */
static bool toleration_patterns(const cJSON *v, char *errbuf, size_t errlen)
{
	static const char *const fields[] = {"key", "operator", "value", "effect", NULL};
	const cJSON *item, *member;

	if (!v || cJSON_IsNull(v))
		return true;
	if (!cJSON_IsArray(v)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "policy.tolerations must be a list of tolerations");
		return false;
	}
	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsObject(item)) {
			ctl_fail(errbuf, errlen, CTL_E_INVALID,
				 "policy.tolerations entries must be mappings (key, operator, value, effect)");
			return false;
		}
		cJSON_ArrayForEach(member, item) {
			const char *const *f = fields;
			while (*f && strcmp(*f, member->string) != 0)
				f++;
			if (!*f || !cJSON_IsString(member)) {
				ctl_fail(errbuf, errlen, CTL_E_INVALID,
					 "policy.tolerations: %s is not a toleration field with a string value", member->string);
				return false;
			}
		}
	}
	return true;
}

static bool in_list(const char *const *list, const char *text)
{
	for (; *list; list++)
		if (strcmp(*list, text) == 0)
			return true;
	return false;
}

enum ctl_err ctl_policy_parse(const cJSON *section, struct ctl_policy *out, char *errbuf, size_t errlen)
{
	static const char *const keys[] = {"builderImages", "tolerations",         "nodeLabelKeys", "privilegedNamespaces",
					   "entitlements",  "serviceAccountNames", "dnsOverrides",  NULL};
	const cJSON *member;

	memset(out, 0, sizeof(*out));
	if (!section || cJSON_IsNull(section))
		return CTL_OK;
	if (!cJSON_IsObject(section))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "policy must be a mapping");
	cJSON_ArrayForEach(member, section) {
		if (!in_list(keys, member->string))
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "policy.%s: unknown key (see docs/security.md)", member->string);
	}
	out->builder_images = json_at(section, "builderImages", NULL);
	out->tolerations = json_at(section, "tolerations", NULL);
	out->node_label_keys = json_at(section, "nodeLabelKeys", NULL);
	out->privileged_namespaces = json_at(section, "privilegedNamespaces", NULL);
	out->entitlements = json_at(section, "entitlements", NULL);
	out->service_accounts = json_at(section, "serviceAccountNames", NULL);
	if (json_at(section, "dnsOverrides", NULL) && !cJSON_IsBool(json_at(section, "dnsOverrides", NULL)))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "policy.dnsOverrides must be true or false");
	out->dns_overrides = cJSON_IsTrue(json_at(section, "dnsOverrides", NULL));
	if (!pattern_list(out->builder_images, "builderImages", errbuf, errlen) || !toleration_patterns(out->tolerations, errbuf, errlen) ||
	    !pattern_list(out->node_label_keys, "nodeLabelKeys", errbuf, errlen) ||
	    !pattern_list(out->privileged_namespaces, "privilegedNamespaces", errbuf, errlen) ||
	    !pattern_list(out->entitlements, "entitlements", errbuf, errlen) ||
	    !pattern_list(out->service_accounts, "serviceAccountNames", errbuf, errlen))
		return CTL_E_INVALID;
	cJSON_ArrayForEach(member, out->entitlements) {
		if (!in_list(known_entitlements, member->valuestring))
			return ctl_fail(errbuf, errlen, CTL_E_INVALID,
					"policy.entitlements: %s is not a BuildKit entitlement (security.insecure, network.host)",
					member->valuestring);
	}
	return CTL_OK;
}

bool ctl_policy_backend_privileged(int backend)
{
	return backend == CTL_BACKEND_BUILDKIT || backend == CTL_BACKEND_BUILDAH;
}
