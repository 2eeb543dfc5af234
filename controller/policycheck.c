/* Whether a MultiArchBuild stays inside the operator's policy: its builder, identity, names and placement. */
#include "controller/policycheck.h"

#include <fnmatch.h>
#include <string.h>

#include "controller/buildspec.h"
#include "controller/children.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/banned.h"

#define POLICY_FIELD_MAX 160 /* a field path named in a refusal */

/* Whether text matches one of the shell patterns of list ("*" spans '/' too). */
static bool matches_any(const cJSON *list, const char *text)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, list) {
		if (cJSON_IsString(item) && fnmatch(item->valuestring, text, 0) == 0)
			return true;
	}
	return false;
}

/* The policy in force: the configuration's, or the defaults (all NULL). */
static const struct ctl_policy *policy_of(const struct ctl_child_options *opts)
{
	static const struct ctl_policy defaults;

	return opts->config ? &opts->config->policy : &defaults;
}

/* spec.builder.image: one of the images the operator configured, or a pattern of policy.builderImages. */
static bool image_allowed(const struct ctl_child_options *opts, const char *image)
{
	const struct ctl_builder_config *c = opts->config;
	const char *configured[] = {opts->buildkit_image,         opts->buildah_image,         opts->kaniko_image,
				    c ? c->buildkit_image : NULL, c ? c->buildah_image : NULL, c ? c->kaniko_image : NULL};

	for (size_t i = 0; i < sizeof(configured) / sizeof(configured[0]); i++)
		if (configured[i] && strcmp(configured[i], image) == 0)
			return true;
	return matches_any(policy_of(opts)->builder_images, image);
}

/* A toleration field, with the API's defaults: operator Equal, the rest empty. */
static const char *toleration_field(const cJSON *t, const char *field)
{
	const char *v = json_str_at(t, field, NULL);

	if (!v)
		v = strcmp(field, "operator") == 0 ? "Equal" : "";
	return v;
}

/* Whether toleration t equals one of the patterns in every field a pattern sets. */
static bool toleration_matches(const cJSON *patterns, const cJSON *t, bool every_field)
{
	static const char *const fields[] = {"key", "operator", "value", "effect"};
	const cJSON *p;

	cJSON_ArrayForEach(p, patterns) {
		bool all = true;
		for (size_t i = 0; all && i < sizeof(fields) / sizeof(fields[0]); i++)
			if (every_field || json_str_at(p, fields[i], NULL))
				all = strcmp(toleration_field(p, fields[i]), toleration_field(t, fields[i])) == 0;
		if (all)
			return true;
	}
	return false;
}

/* Checks the tolerations of list (at field); false with the message in why. */
static bool tolerations_allowed(const struct ctl_child_options *opts, const cJSON *list, const char *field, char *why, size_t len)
{
	const cJSON *t;
	int i = 0;

	cJSON_ArrayForEach(t, list) {
		if (!(opts->config && toleration_matches(opts->config->tolerations, t, true)) &&
		    !toleration_matches(policy_of(opts)->tolerations, t, false)) {
			text_format(why, len,
				    "%s[%d] (key \"%s\", operator %s) is outside the operator's policy: tolerations reach tainted "
				    "nodes; ask for it in policy.tolerations of the builder configuration",
				    field, i, toleration_field(t, "key"), toleration_field(t, "operator"));
			return false;
		}
		i++;
	}
	return true;
}

/* Whether a node label key (or a matchFields key) may be used to place build pods. */
static bool label_key_allowed(const struct ctl_policy *p, const char *key)
{
	if (p->node_label_keys)
		return matches_any(p->node_label_keys, key);
	return strncmp(key, "node-role.kubernetes.io/", 24) != 0 && strcmp(key, "kubernetes.io/hostname") != 0 &&
	       strcmp(key, "metadata.name") != 0;
}

static bool refuse_key(const char *field, const char *key, char *why, size_t len)
{
	text_format(why, len,
		    "%s uses the node label key \"%s\", which the operator's policy does not allow (policy.nodeLabelKeys of "
		    "the builder configuration)",
		    field, key);
	return false;
}

/* The keys of a nodeSelector mapping. */
static bool selector_allowed(const struct ctl_policy *p, const cJSON *selector, const char *field, char *why, size_t len)
{
	const cJSON *member;

	cJSON_ArrayForEach(member, selector) {
		if (!label_key_allowed(p, member->string))
			return refuse_key(field, member->string, why, len);
	}
	return true;
}

/* The keys of a node selector term's matchExpressions and matchFields. */
static bool term_allowed(const struct ctl_policy *p, const cJSON *term, const char *field, char *why, size_t len)
{
	static const char *const lists[] = {"matchExpressions", "matchFields"};
	const cJSON *e;

	for (size_t i = 0; i < 2; i++) {
		cJSON_ArrayForEach(e, json_at(term, lists[i], NULL)) {
			const char *key = json_str_at(e, "key", NULL);
			if (key && !label_key_allowed(p, key))
				return refuse_key(field, key, why, len);
		}
	}
	return true;
}

/* spec.placement.affinity.nodeAffinity: the required terms and the preferred ones. */
static bool node_affinity_allowed(const struct ctl_policy *p, const cJSON *affinity, char *why, size_t len)
{
	const cJSON *node = json_at(affinity, "nodeAffinity", NULL), *term;
	const char *field = "spec.placement.affinity.nodeAffinity";

	cJSON_ArrayForEach(term,
			   json_at(json_at(node, "requiredDuringSchedulingIgnoredDuringExecution", NULL), "nodeSelectorTerms", NULL)) {
		if (!term_allowed(p, term, field, why, len))
			return false;
	}
	cJSON_ArrayForEach(term, json_at(node, "preferredDuringSchedulingIgnoredDuringExecution", NULL)) {
		if (!term_allowed(p, json_at(term, "preference", NULL), field, why, len))
			return false;
	}
	return true;
}

/* Placement: tolerations, node selectors and node affinity, global and per platform. */
static bool placement_allowed(const struct ctl_child_options *opts, const cJSON *spec, char *why, size_t len)
{
	const struct ctl_policy *p = policy_of(opts);
	const cJSON *placement = json_at(spec, "placement", NULL), *pp;
	char field[POLICY_FIELD_MAX];
	int i = 0;

	if (!tolerations_allowed(opts, json_at(placement, "tolerations", NULL), "spec.placement.tolerations", why, len) ||
	    !selector_allowed(p, json_at(placement, "nodeSelector", NULL), "spec.placement.nodeSelector", why, len) ||
	    !node_affinity_allowed(p, json_at(placement, "affinity", NULL), why, len))
		return false;
	cJSON_ArrayForEach(pp, json_at(spec, "perPlatform", NULL)) {
		text_format(field, sizeof(field), "spec.perPlatform[%d].tolerations", i);
		if (!tolerations_allowed(opts, json_at(pp, "tolerations", NULL), field, why, len))
			return false;
		text_format(field, sizeof(field), "spec.perPlatform[%d].nodeSelector", i++);
		if (!selector_allowed(p, json_at(pp, "nodeSelector", NULL), field, why, len))
			return false;
	}
	return true;
}

/* The builder: its image, whether its pods need the privileged level here, and the entitlements it asks for. */
static bool builder_allowed(const struct ctl_child_options *opts, const cJSON *build, const struct ctl_build_spec *spec, char *why,
			    size_t len)
{
	const struct ctl_policy *p = policy_of(opts);
	const char *ns = json_str_at(build, "metadata", "namespace");
	const cJSON *e;
	int i = 0;

	if (spec->builder_image[0] && !image_allowed(opts, spec->builder_image)) {
		text_format(why, len,
			    "spec.builder.image %s is outside the operator's policy: only the configured builder images and "
			    "policy.builderImages of the builder configuration may run",
			    spec->builder_image);
		return false;
	}
	if (ctl_policy_backend_privileged(spec->backend) && !matches_any(p->privileged_namespaces, ns ? ns : "")) {
		text_format(why, len,
			    "spec.builder.type %s runs privileged-level pods (unconfined seccomp), which the operator's policy does "
			    "not allow in namespace %s (policy.privilegedNamespaces); use kaniko or ask the operator",
			    ctl_backend_name(spec->backend), ns ? ns : "");
		return false;
	}
	cJSON_ArrayForEach(e, json_at(json_at(build, "spec", "builder"), "entitlements", NULL)) {
		if (!cJSON_IsString(e) || !matches_any(p->entitlements, e->valuestring)) {
			text_format(why, len,
				    "spec.builder.entitlements[%d] %s is outside the operator's policy (policy.entitlements of the "
				    "builder configuration)",
				    i, cJSON_IsString(e) ? e->valuestring : "");
			return false;
		}
		i++;
	}
	return true;
}

/* spec.serviceAccountName: the configured default, or a pattern of policy.serviceAccountNames. Its token goes into
 * pods that run the build's own Dockerfile, so naming an account is as much as holding its token. */
static bool identity_allowed(const struct ctl_child_options *opts, const struct ctl_build_spec *spec, char *why, size_t len)
{
	const char *fallback = opts->config ? opts->config->service_account : NULL;

	if (!spec->service_account[0] || (fallback && strcmp(fallback, spec->service_account) == 0) ||
	    matches_any(policy_of(opts)->service_accounts, spec->service_account))
		return true;
	text_format(why, len,
		    "spec.serviceAccountName %s is outside the operator's policy: its token would be mounted into pods that run "
		    "the build's Dockerfile (policy.serviceAccountNames of the builder configuration)",
		    spec->service_account);
	return false;
}

/* spec.hostAliases and spec.dnsConfig: a name pointed elsewhere would send the push credentials there. */
static bool names_allowed(const struct ctl_child_options *opts, const cJSON *spec, char *why, size_t len)
{
	const char *field = json_at(spec, "hostAliases", NULL) ? "hostAliases" : json_at(spec, "dnsConfig", NULL) ? "dnsConfig" : NULL;

	if (!field || policy_of(opts)->dns_overrides)
		return true;
	text_format(why, len,
		    "spec.%s is outside the operator's policy: a build's own name resolution could send its push credentials "
		    "elsewhere (policy.dnsOverrides of the builder configuration; defaults.hostAliases and defaults.dnsConfig "
		    "apply to every build)",
		    field);
	return false;
}

bool ctl_policy_allows(const struct ctl_child_options *opts, const cJSON *build, const struct ctl_build_spec *spec, char *why,
		       size_t why_len)
{
	why[0] = '\0';
	return builder_allowed(opts, build, spec, why, why_len) && identity_allowed(opts, spec, why, why_len) &&
	       names_allowed(opts, json_at(build, "spec", NULL), why, why_len) &&
	       placement_allowed(opts, json_at(build, "spec", NULL), why, why_len);
}
