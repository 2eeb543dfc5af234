/* Unit tests for kube/config and kube/exec: every auth kind, merged files, relative paths, in-cluster, and clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/config.h"
#include "kube/exec.h"
#include "util/banned.h"

#define DIR "tests/fixtures/kubeconfig/"

static void load_ok(const char *paths, const char *context, struct kube_config *c)
{
	char err[KUBE_ERRBUF_SIZE] = "";

	if (kube_config_from_kubeconfig(paths, context, c, err, sizeof(err)) != KUBE_OK)
		fail_msg("%s: unexpected error: %s", paths, err);
}

static void expect_error(const char *paths, const char *context, const char *fragment1, const char *fragment2)
{
	struct kube_config c;
	char err[KUBE_ERRBUF_SIZE] = "";

	assert_int_equal(kube_config_from_kubeconfig(paths, context, &c, err, sizeof(err)), KUBE_E_CONFIG);
	if (!strstr(err, fragment1) || (fragment2 && !strstr(err, fragment2)))
		fail_msg("%s: error \"%s\" does not mention \"%s\" and \"%s\"", paths, err, fragment1, fragment2 ? fragment2 : "");
	assert_null(c.server);
}

static void test_token_ca_data_and_cluster_options(void **state)
{
	struct kube_config c;
	(void)state;

	load_ok(DIR "token.yaml", NULL, &c);
	assert_string_equal(c.server, "https://k8s.example.com:6443"); /* trailing slash dropped */
	assert_string_equal(c.token, "abc.def.ghi");
	assert_non_null(strstr(c.ca_pem, "BEGIN CERTIFICATE"));
	assert_string_equal(c.tls_server_name, "api.internal");
	assert_string_equal(c.proxy_url, "http://proxy.corp:3128");
	assert_string_equal(c.namespace, "team-a");
	assert_non_null(strstr(c.source, "token.yaml, context prod"));
	assert_false(c.insecure);
	kube_config_free(&c);
	kube_config_free(NULL);
}

static void test_files_are_relative_to_the_kubeconfig(void **state)
{
	struct kube_config c;
	char *abs = realpath(DIR "files.yaml", NULL);
	(void)state;

	assert_non_null(abs);
	load_ok(abs, NULL, &c);
	assert_non_null(strstr(c.cert_pem, "Y2xpZW50"));
	assert_non_null(strstr(c.key_pem, "PRIVATE KEY"));
	assert_non_null(strstr(c.ca_pem, "Y2EtY2VydA"));
	assert_string_equal(c.namespace, "default");
	kube_config_free(&c);
	load_ok(abs, "robot", &c);
	assert_non_null(strstr(c.token_file, "tests/fixtures/kubeconfig/certs/token"));
	assert_true(c.token_file[0] == '/');
	assert_null(c.cert_pem);
	kube_config_free(&c);
	free(abs);
}

static void test_cert_data_basic_and_insecure(void **state)
{
	struct kube_config c;
	(void)state;

	load_ok(DIR "certdata.yaml", NULL, &c);
	assert_true(c.insecure);
	assert_non_null(strstr(c.cert_pem, "Y2xpZW50"));
	assert_int_equal(c.cert_len, strlen(c.cert_pem));
	kube_config_free(&c);
	load_ok(DIR "basic.yaml", NULL, &c);
	assert_string_equal(c.username, "alice");
	assert_string_equal(c.password, "s3cret");
	assert_string_equal(c.server, "http://127.0.0.1:8080");
	kube_config_free(&c);
}

static void test_exec_plugins(void **state)
{
	struct kube_config c;
	(void)state;

	load_ok(DIR "exec-eks.yaml", NULL, &c);
	assert_true(c.has_exec);
	assert_string_equal(c.exec.api_version, "client.authentication.k8s.io/v1beta1");
	assert_string_equal(c.exec.command, "aws");
	assert_int_equal(c.exec.argc, 6);
	assert_string_equal(c.exec.args[5], "prod");
	assert_int_equal(c.exec.envc, 1);
	assert_string_equal(c.exec.env_names[0], "AWS_PROFILE");
	assert_string_equal(c.exec.install_hint, "install the AWS CLI");
	kube_config_free(&c);
	load_ok(DIR "exec-gke.yaml", NULL, &c);
	assert_string_equal(c.exec.command, "tests/fixtures/kubeconfig/bin/gke-gcloud-auth-plugin");
	kube_config_free(&c);
}

static void test_merged_files_first_wins(void **state)
{
	struct kube_config c;
	(void)state;

	load_ok(DIR "merged-a.yaml:" DIR "does-not-exist.yaml:" DIR "merged-b.yaml", NULL, &c);
	assert_string_equal(c.server, "https://first.example.com");
	assert_string_equal(c.token, "from-b");
	assert_string_equal(c.namespace, "dev");
	kube_config_free(&c);
	load_ok(DIR "merged-b.yaml:" DIR "merged-a.yaml", NULL, &c);
	assert_string_equal(c.server, "https://second.example.com");
	assert_string_equal(c.namespace, "default");
	kube_config_free(&c);
	load_ok(DIR "merged-b.yaml:" DIR "merged-a.yaml", "dev", &c);
	assert_string_equal(c.namespace, "dev");
	kube_config_free(&c);
}

static void test_errors_name_the_file_and_field(void **state)
{
	(void)state;
	expect_error(DIR "broken.yaml", NULL, "broken.yaml: invalid YAML at line", NULL);
	expect_error(DIR "bad-base64.yaml", NULL, "bad-base64.yaml", "certificate-authority-data is not valid base64");
	expect_error(DIR "no-server.yaml", NULL, "no-server.yaml", "clusters[c].cluster has no server");
	expect_error(DIR "missing-ca-file.yaml", NULL, "certificate-authority: cannot read", "certs/missing.crt");
	expect_error(DIR "cert-without-key.yaml", NULL, "users[u].user has a client certificate but no client key", NULL);
	expect_error(DIR "auth-provider.yaml", NULL, "auth-provider is not supported", "exec plugin");
	expect_error(DIR "exec-v1alpha1.yaml", NULL, "v1alpha1\" is not supported", "v1beta1");
	expect_error(DIR "no-current.yaml", NULL, "no current-context", NULL);
	expect_error(DIR "token.yaml", "staging", "context \"staging\" is not defined", NULL);
	expect_error(DIR "wrong-types.yaml", NULL, "clusters[c].cluster.server must be a string", NULL);
	expect_error(DIR "not-a-map.yaml", NULL, "not-a-map.yaml: the top level is not a mapping", NULL);
	expect_error(DIR "nothing-here.yaml", NULL, "cannot read kubeconfig", "nothing-here.yaml");
	expect_error(DIR "nothing-a.yaml:" DIR "nothing-b.yaml", NULL, "none of the kubeconfig files", NULL);
}

static void test_in_cluster(void **state)
{
	struct kube_config c;
	char err[KUBE_ERRBUF_SIZE];
	(void)state;

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_config_in_cluster(DIR "sa", &c, err, sizeof(err)), KUBE_E_CONFIG);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_config_in_cluster(DIR "sa", &c, err, sizeof(err)), KUBE_OK);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.namespace, "builds");
	assert_non_null(strstr(c.token_file, "sa/token"));
	assert_non_null(c.ca_pem);
	kube_config_free(&c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(kube_config_in_cluster(DIR "sa", &c, err, sizeof(err)), KUBE_OK);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	kube_config_free(&c);
	assert_int_equal(kube_config_in_cluster(DIR "no-such-sa", &c, err, sizeof(err)), KUBE_E_CONFIG);
	assert_non_null(strstr(err, "no-such-sa/ca.crt"));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void test_load_order(void **state)
{
	struct kube_config c;
	char err[KUBE_ERRBUF_SIZE];
	(void)state;

	setenv("KUBECONFIG", DIR "basic.yaml", 1);
	assert_int_equal(kube_config_load(DIR "token.yaml", NULL, &c, err, sizeof(err)), KUBE_OK);
	assert_string_equal(c.token, "abc.def.ghi"); /* the flag wins */
	kube_config_free(&c);
	assert_int_equal(kube_config_load(NULL, NULL, &c, err, sizeof(err)), KUBE_OK);
	assert_string_equal(c.username, "alice"); /* then KUBECONFIG */
	kube_config_free(&c);
	unsetenv("KUBECONFIG");
	setenv("HOME", "/nonexistent-home", 1);
	assert_int_equal(kube_config_load(NULL, NULL, &c, err, sizeof(err)), KUBE_E_CONFIG);
	assert_non_null(strstr(err, "pass --kubeconfig"));
}

static void test_exec_parse_and_run(void **state)
{
	struct kube_exec_credential cred;
	struct kube_exec_config cfg = {0};
	char err[KUBE_ERRBUF_SIZE];
	const char *v1 =
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{"
		"\"clientCertificateData\":\"CERT\",\"clientKeyData\":\"KEY\",\"expirationTimestamp\":\"2030-01-01T00:00:00+01:00\"}}";
	(void)state;

	assert_int_equal(kube_exec_parse(v1, strlen(v1), "client.authentication.k8s.io/v1", &cred, err, sizeof(err)), KUBE_OK);
	assert_string_equal(cred.cert_pem, "CERT");
	assert_int_equal(cred.expires, 1893452400);
	kube_exec_credential_free(&cred);
	assert_int_equal(kube_exec_parse(v1, strlen(v1), "client.authentication.k8s.io/v1beta1", &cred, err, sizeof(err)), KUBE_E_EXEC);
	assert_non_null(strstr(err, "not client.authentication.k8s.io/v1beta1"));
	assert_int_equal(kube_exec_parse("{}", 2, "x", &cred, err, sizeof(err)), KUBE_E_EXEC);
	assert_int_equal(kube_exec_parse("[", 1, "x", &cred, err, sizeof(err)), KUBE_E_EXEC);

	cfg.api_version = "client.authentication.k8s.io/v1";
	cfg.command = DIR "exec-plugin.sh";
	cfg.args[0] = "first-arg";
	cfg.argc = 1;
	cfg.env_names[0] = "PLUGIN_SUFFIX";
	cfg.env_values[0] = "from-env";
	cfg.envc = 1;
	assert_int_equal(kube_exec_run(&cfg, &cred, err, sizeof(err)), KUBE_OK);
	assert_string_equal(cred.token, "tok-first-arg-from-env");
	assert_true(cred.expires > 4000000000);
	kube_exec_credential_free(&cred);

	cfg.command = DIR "exec-failing.sh";
	assert_int_equal(kube_exec_run(&cfg, &cred, err, sizeof(err)), KUBE_E_EXEC);
	assert_non_null(strstr(err, "exit status 3"));
	assert_non_null(strstr(err, "login required"));
	cfg.command = "/nonexistent/plugin";
	cfg.install_hint = "install it from the wiki";
	assert_int_equal(kube_exec_run(&cfg, &cred, err, sizeof(err)), KUBE_E_EXEC);
	assert_non_null(strstr(err, "install it from the wiki"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_ca_data_and_cluster_options),
		cmocka_unit_test(test_files_are_relative_to_the_kubeconfig),
		cmocka_unit_test(test_cert_data_basic_and_insecure),
		cmocka_unit_test(test_exec_plugins),
		cmocka_unit_test(test_merged_files_first_wins),
		cmocka_unit_test(test_errors_name_the_file_and_field),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_load_order),
		cmocka_unit_test(test_exec_parse_and_run),
	};
	return cmocka_run_group_tests_name("kubeconfig", tests, NULL, NULL);
}
