/* Unit tests for controller/policy: the defaults deny, each allowance lets in only what it names, and every
 * refusal names its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/builderconfig.h"
#include "controller/buildspec.h"
#include "controller/children.h"
#include "controller/policycheck.h"
#include "util/yamljson.h"
#include "util/banned.h"

#define OPEN_PRIVILEGED "policy: {privilegedNamespaces: ['team-*']}\n"

/* Checks the build (YAML, in namespace team-a unless it says otherwise) against the configuration (YAML, or
 * NULL for none); want is NULL for allowed, else a part of the refusal. */
static void expect(const char *config_yaml, const char *build_yaml, const char *want)
{
	struct ctl_builder_config config;
	struct ctl_child_options opts;
	struct ctl_build_spec spec;
	char err[512], why[512];
	cJSON *build = yaml_to_json(build_yaml, strlen(build_yaml), err, sizeof(err));
	bool allowed;

	assert_non_null(build);
	ctl_child_options_init(&opts);
	memset(&config, 0, sizeof(config));
	if (config_yaml) {
		assert_int_equal(ctl_builder_config_parse(config_yaml, strlen(config_yaml), NULL, &config, err, sizeof(err)), CTL_OK);
		opts.config = &config;
	}
	assert_int_equal(ctl_build_spec_read(build, &spec, err, sizeof(err)), CTL_OK);
	allowed = ctl_policy_allows(&opts, build, &spec, why, sizeof(why));
	if (!want && !allowed)
		fail_msg("refused: %s", why);
	if (want && allowed)
		fail_msg("allowed, want a refusal with \"%s\"", want);
	if (want && !strstr(why, want))
		fail_msg("want \"%s\" in \"%s\"", want, why);
	cJSON_Delete(build);
	ctl_builder_config_free(&config);
}

#define BUILD(ns, spec)                                                                                                                    \
	"metadata: {name: b, namespace: " ns ", generation: 1}\nspec: {image: r.example/app:1, platforms: [linux/amd64], " spec "}\n"

static void test_defaults_deny(void **state)
{
	(void)state;
	/* no configuration at all: buildkit and buildah are privileged-level pods, refused everywhere */
	expect(NULL, BUILD("team-a", "source: {git: {url: 'https://g/x'}}"), "privileged-level pods");
	expect(NULL, BUILD("team-a", "builder: {type: buildah}"), "policy.privilegedNamespaces");
	/* kaniko runs under baseline: allowed */
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}"), NULL);
	expect(NULL, BUILD("team-a", "builder: {type: kaniko, image: evil.example/root:1}"), "spec.builder.image evil.example/root:1");
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, placement: {tolerations: [{operator: Exists}]}"),
	       "spec.placement.tolerations[0]");
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, placement: {nodeSelector: {node-role.kubernetes.io/control-plane: ''}}"),
	       "node-role.kubernetes.io/control-plane");
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, placement: {nodeSelector: {kubernetes.io/hostname: n1}}"),
	       "spec.placement.nodeSelector uses the node label key \"kubernetes.io/hostname\"");
	expect(NULL,
	       BUILD("team-a",
		     "builder: {type: kaniko}, placement: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
		     "{nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [cp]}]}]}}}}"),
	       "spec.placement.affinity.nodeAffinity uses the node label key \"metadata.name\"");
	/* an ordinary label is fine by default */
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, placement: {nodeSelector: {pool: builders}}"), NULL);
}

static void test_privileged_namespaces(void **state)
{
	(void)state;
	expect(OPEN_PRIVILEGED, BUILD("team-a", "builder: {type: buildkit}"), NULL);
	expect(OPEN_PRIVILEGED, BUILD("default", "builder: {type: buildkit}"), "not allow in namespace default");
}

static void test_images(void **state)
{
	(void)state;
	/* the configured image of any type may be named; others only by policy.builderImages */
	expect("images: {kaniko: r.example/kaniko:1}\n", BUILD("team-a", "builder: {type: kaniko, image: r.example/kaniko:1}"), NULL);
	expect("policy: {builderImages: ['r.example/tools/*']}\n", BUILD("team-a", "builder: {type: kaniko, image: r.example/tools/k:2}"),
	       NULL);
	expect("policy: {builderImages: ['r.example/tools/*']}\n", BUILD("team-a", "builder: {type: kaniko, image: r.example/other:2}"),
	       "outside the operator's policy");
}

static void test_tolerations(void **state)
{
	static const char config[] = "defaults: {tolerations: [{key: real, operator: Exists, effect: NoSchedule}]}\n"
				     "policy: {tolerations: [{key: dedicated, value: arm64}]}\n";
	(void)state;
	expect(config,
	       BUILD("team-a", "builder: {type: kaniko}, placement: {tolerations: [{key: dedicated, value: arm64, effect: NoSchedule}]}"),
	       NULL);
	expect(config, BUILD("team-a", "builder: {type: kaniko}, placement: {tolerations: [{key: dedicated, value: gpu}]}"),
	       "(key \"dedicated\", operator Equal)");
	/* the operator's own default toleration, written again by the user, is no extension */
	expect(config,
	       BUILD("team-a", "builder: {type: kaniko}, placement: {tolerations: [{key: real, operator: Exists, effect: NoSchedule}]}"),
	       NULL);
	expect(config,
	       BUILD("team-a",
		     "builder: {type: kaniko}, perPlatform: [{platform: linux/amd64, tolerations: [{key: x, operator: Exists}]}]"),
	       "spec.perPlatform[0].tolerations[0]");
}

static void test_label_keys(void **state)
{
	static const char config[] = "policy: {nodeLabelKeys: ['pool', 'topology.kubernetes.io/*']}\n";
	(void)state;
	expect(config, BUILD("team-a", "builder: {type: kaniko}, placement: {nodeSelector: {topology.kubernetes.io/zone: a}}"), NULL);
	expect(config, BUILD("team-a", "builder: {type: kaniko}, placement: {nodeSelector: {team: x}}"), "\"team\"");
	expect(config, BUILD("team-a", "builder: {type: kaniko}, perPlatform: [{platform: linux/amd64, nodeSelector: {other: y}}]"),
	       "spec.perPlatform[0].nodeSelector");
	expect(config,
	       BUILD("team-a",
		     "builder: {type: kaniko}, placement: {affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
		     "[{weight: 1, preference: {matchExpressions: [{key: zone, operator: Exists}]}}]}}}"),
	       "\"zone\"");
}

static void test_entitlements(void **state)
{
	(void)state;
	expect(OPEN_PRIVILEGED, BUILD("team-a", "builder: {type: buildkit, entitlements: [security.insecure]}"),
	       "spec.builder.entitlements[0] security.insecure");
	expect("policy: {privilegedNamespaces: ['*'], entitlements: [network.host]}\n",
	       BUILD("team-a", "builder: {type: buildkit, entitlements: [network.host]}"), NULL);
}

/* A ServiceAccount's token goes into the build's pods: only the default or a listed name may be asked for. */
static void test_service_accounts(void **state)
{
	(void)state;
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, serviceAccountName: pusher"),
	       "spec.serviceAccountName pusher is outside the operator's policy");
	expect("defaults: {serviceAccountName: pusher}\n", BUILD("team-a", "builder: {type: kaniko}, serviceAccountName: pusher"), NULL);
	expect("policy: {serviceAccountNames: ['registry-*']}\n",
	       BUILD("team-a", "builder: {type: kaniko}, serviceAccountName: registry-ecr"), NULL);
	expect("policy: {serviceAccountNames: ['registry-*']}\n", BUILD("team-a", "builder: {type: kaniko}, serviceAccountName: admin"),
	       "policy.serviceAccountNames");
}

/* A build's own name resolution only where policy.dnsOverrides says so. */
static void test_dns_overrides(void **state)
{
	(void)state;
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, hostAliases: [{ip: 10.0.0.1, hostnames: [r.corp]}]"),
	       "spec.hostAliases is outside the operator's policy");
	expect(NULL, BUILD("team-a", "builder: {type: kaniko}, dnsConfig: {nameservers: [10.0.0.53]}"), "spec.dnsConfig is outside");
	expect("policy: {dnsOverrides: true}\n",
	       BUILD("team-a",
		     "builder: {type: kaniko}, hostAliases: [{ip: 10.0.0.1, hostnames: [r.corp]}], dnsConfig: {searches: [corp]}"),
	       NULL);
}

static void refused_config(const char *text, const char *want)
{
	struct ctl_builder_config c;
	char err[256] = "";

	assert_int_equal(ctl_builder_config_parse(text, strlen(text), NULL, &c, err, sizeof(err)), CTL_E_INVALID);
	if (!strstr(err, want))
		fail_msg("want \"%s\" in \"%s\"", want, err);
	ctl_builder_config_free(&c);
}

static void test_policy_refusals(void **state)
{
	(void)state;
	refused_config("policy: {builderImage: []}\n", "policy.builderImage: unknown key");
	refused_config("policy: {entitlements: [device]}\n", "device is not a BuildKit entitlement");
	refused_config("policy: {tolerations: [{key: k, tolerationSecond: 1}]}\n", "tolerationSecond is not a toleration field");
	refused_config("policy: {privilegedNamespaces: team-a}\n", "must be a list of strings");
	refused_config("policy: [a]\n", "policy must be a mapping");
	refused_config("policy: {serviceAccountNames: pusher}\n", "must be a list of strings");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_deny),   cmocka_unit_test(test_privileged_namespaces),
		cmocka_unit_test(test_images),          cmocka_unit_test(test_tolerations),
		cmocka_unit_test(test_label_keys),      cmocka_unit_test(test_entitlements),
		cmocka_unit_test(test_policy_refusals), cmocka_unit_test(test_service_accounts),
		cmocka_unit_test(test_dns_overrides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
