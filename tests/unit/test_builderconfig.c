/* Unit tests for controller/builderconfig and util/yamljson: a full configuration, each refusal with its message,
 * the generated registry files, and YAML scalars by the core schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/builderconfig.h"
#include "controller/children.h"
#include "util/yamljson.h"
#include "util/banned.h"

static const char full[] = "images: {buildkit: r/bk:1, index: r/mc:2}\n"
			   "proxy: {httpProxy: 'http://proxy:3128', noProxy: .corp}\n"
			   "caBundle: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n"
			   "registries:\n  mirrors: {docker.io: [mirror.corp, mirror2.corp]}\n  insecure: ['reg.local:5000']\n"
			   "defaults: {resources: {requests: {cpu: 1}}, tolerations: [{key: k, operator: Exists}], nodeWaitTimeout: 30m,\n"
			   "  serviceAccountName: pusher, hostAliases: [{ip: '10.1.2.3', hostnames: [registry.corp, git.corp]}],\n"
			   "  dnsConfig: {nameservers: ['fd00::53'], searches: [corp.example], options: [{name: ndots, value: '2'}]}}\n"
			   "userNamespaces: true\n";

static void test_full_config(void **state)
{
	struct ctl_builder_config c;
	char err[256];
	(void)state;

	assert_int_equal(ctl_builder_config_parse(full, strlen(full), NULL, &c, err, sizeof(err)), CTL_OK);
	assert_string_equal(c.buildkit_image, "r/bk:1");
	assert_null(c.buildah_image);
	assert_string_equal(c.index_image, "r/mc:2");
	assert_string_equal(c.http_proxy, "http://proxy:3128");
	assert_string_equal(c.no_proxy, ".corp");
	assert_non_null(strstr(c.ca_bundle, "BEGIN CERTIFICATE"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c.mirrors, "docker.io")), 2);
	assert_true(c.user_namespaces);
	assert_int_equal(c.node_wait_s, 1800);
	assert_string_equal(c.service_account, "pusher");
	assert_int_equal(cJSON_GetArraySize(c.host_aliases), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c.dns_config, "options")), 1);
	assert_true(ctl_builder_config_has_files(&c));
	ctl_builder_config_free(&c);
	assert_int_equal(ctl_builder_config_parse("images: {}\n", 11, NULL, &c, err, sizeof(err)), CTL_OK);
	assert_int_equal(c.node_wait_s, CTL_NODE_WAIT_DEFAULT_S);
	ctl_builder_config_free(&c);
}

static void expect_refused(const char *text, const char *message)
{
	struct ctl_builder_config c;
	char err[256] = "";

	assert_int_equal(ctl_builder_config_parse(text, strlen(text), NULL, &c, err, sizeof(err)), CTL_E_INVALID);
	if (!strstr(err, message))
		fail_msg("want \"%s\" in \"%s\"", message, err);
	ctl_builder_config_free(&c);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("imagez: {}\n", "imagez: unknown key");
	expect_refused("defaults: {nodeWaitTimeout: 2s}\n", "defaults.nodeWaitTimeout must be a duration from 10s to 24h");
	expect_refused("defaults: {nodeWaitTimeout: [1]}\n", "defaults.nodeWaitTimeout must be a duration");
	expect_refused("images: {buildkitt: x}\n", "images.buildkitt: unknown key");
	expect_refused("proxy: {httpProxy: 'http://u:p@proxy:3128'}\n", "carries credentials");
	expect_refused("proxy: {httpsProxy: 'proxy:3128'}\n", "must be an http:// or https:// URL");
	expect_refused("caBundle: not a certificate\n", "no PEM certificate");
	expect_refused("caBundle: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n  -----BEGIN EC PRIVATE "
		       "KEY-----\n  MHcC\n"
		       "  -----END EC PRIVATE KEY-----\n",
		       "holds a private key");
	expect_refused("caBundle: x\ncaBundleFile: /y\n", "not both");
	expect_refused("caBundleFile: /nonexistent/ca.crt\n", "cannot read");
	expect_refused("registries: {insecure: 'reg:5000'}\n", "registries.insecure must be a list");
	expect_refused("registries: {insecure: ['http://reg:5000']}\n", "host[:port] names only");
	expect_refused("userNamespaces: yes please\n", "true or false");
	expect_refused("- a list\n", "must be a mapping");
	expect_refused("a: [unclosed\n", "line");
	expect_refused("images:\n - buildkit: x\n", "images must be a mapping"); /* found by fuzz_builderconfig */
	expect_refused("defaults: {hostAliases: [{ip: 10.0.0.300, hostnames: [r.corp]}]}\n",
		       "defaults.hostAliases[0] must be {ip: an IPv4 or IPv6 address");
	expect_refused("defaults: {hostAliases: [{ip: 10.0.0.3, hostnames: []}]}\n", "hostnames: [1 to 16 DNS names]");
	expect_refused("defaults: {hostAliases: [{ip: 10.0.0.3, hostnames: ['a b']}]}\n", "defaults.hostAliases[0]");
	expect_refused("defaults: {hostAliases: [{ip: 10.0.0.3, hostnames: [r], extra: 1}]}\n", "defaults.hostAliases[0]");
	expect_refused("defaults: {dnsConfig: {nameservers: [1.1.1.1, 8.8.8.8, 9.9.9.9, 1.0.0.1]}}\n",
		       "defaults.dnsConfig.nameservers: only nameservers (at most 3 addresses)");
	expect_refused("defaults: {dnsConfig: {policy: None}}\n", "defaults.dnsConfig.policy: only nameservers");
	expect_refused("defaults: {dnsConfig: {options: [{value: '1'}]}}\n", "defaults.dnsConfig.options");
	expect_refused("policy: {dnsOverrides: sure}\n", "policy.dnsOverrides must be true or false");
	expect_refused("registries: {stagingSuffix: '-Staging'}\n", "registries.stagingSuffix must be 1 to 64 of a-z");
	expect_refused("registries: {stagingSuffix: 'a//b'}\n", "registries.stagingSuffix");
	expect_refused("defaults: {retention: {succeeded: 21}}\n", "defaults.retention.succeeded must be a whole number from 0 to 20");
}

/* A document nested past the converter's depth cap is refused by line, not followed down the stack. */
static void test_deep_nesting(void **state)
{
	char text[4 * (YAMLJSON_DEPTH_MAX + 8) + 8];
	size_t len = 0;

	(void)state;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "proxy: ");
	for (int i = 0; i < YAMLJSON_DEPTH_MAX + 4; i++)
		text[len++] = '[';
	for (int i = 0; i < YAMLJSON_DEPTH_MAX + 4; i++)
		text[len++] = ']';
	text[len++] = '\n';
	text[len] = '\0';
	expect_refused(text, "nested deeper than");
}

static void test_registry_files(void **state)
{
	struct ctl_builder_config c;
	struct ctl_child_options opts;
	struct ctl_build_spec spec = {0};
	cJSON *build = cJSON_Parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"apps\",\"uid\":\"u\"}}"), *cm;
	const char *toml, *conf;
	char err[256];
	(void)state;

	assert_int_equal(ctl_builder_config_parse(full, strlen(full), NULL, &c, err, sizeof(err)), CTL_OK);
	ctl_child_options_init(&opts);
	opts.config = &c;
	spec.generation = 3;
	snprintf(spec.round, sizeof(spec.round), "g3");
	cm = ctl_builder_config_map(build, &spec, &opts);
	assert_non_null(cm);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "metadata"), "name")->valuestring, "web-g3-builder");
	toml = cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "data"), "buildkitd.toml")->valuestring;
	conf = cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "data"), "registries.conf")->valuestring;
	assert_non_null(strstr(toml, "[registry.\"docker.io\"]\n  mirrors = [\"mirror.corp\", \"mirror2.corp\"]\n"));
	assert_non_null(strstr(toml, "[registry.\"reg.local:5000\"]\n  http = true\n"));
	assert_non_null(strstr(conf, "[[registry.mirror]]\nlocation = \"mirror2.corp\"\n"));
	assert_non_null(strstr(conf, "location = \"reg.local:5000\"\ninsecure = true\n"));
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "data"), "ca.crt"));
	cJSON_Delete(cm);
	cJSON_Delete(build);
	ctl_builder_config_free(&c);
}

static void test_yaml_scalars(void **state)
{
	char err[128];
	cJSON *j = yaml_to_json("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: 0x1F\ng: 1:30\nh: [x, {y: z}]\nb2: &anchor v\nb3: *anchor\n", 80,
				err, sizeof(err));
	(void)state;

	assert_non_null(j);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "a")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "b")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "c")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "d")));
	assert_true(cJSON_GetObjectItem(j, "e")->valuedouble == 1.5);
	assert_string_equal(cJSON_GetObjectItem(j, "f")->valuestring, "0x1F");
	assert_string_equal(cJSON_GetObjectItem(j, "g")->valuestring, "1:30");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "h"), 1), "y")->valuestring, "z");
	cJSON_Delete(j);
	assert_null(yaml_to_json("", 0, err, sizeof(err)));
	assert_string_equal(err, "the document is empty");
}

/* kubectl (YAML 1.1) sends yes/no/on/off as booleans; quoted, they stay strings. */
static void test_yaml_11_booleans(void **state)
{
	static const char doc[] = "a: no\nb: off\nc: yes\nd: On\ne: 'no'\nf: N\ng: nope\n";
	char err[128];
	cJSON *j = yaml_to_json(doc, sizeof(doc) - 1, err, sizeof(err));
	(void)state;

	assert_non_null(j);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "a")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "b")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "c")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "d")));
	assert_string_equal(cJSON_GetObjectItem(j, "e")->valuestring, "no");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "f")));
	assert_string_equal(cJSON_GetObjectItem(j, "g")->valuestring, "nope");
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),    cmocka_unit_test(test_refusals),     cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_registry_files), cmocka_unit_test(test_yaml_scalars), cmocka_unit_test(test_yaml_11_booleans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
