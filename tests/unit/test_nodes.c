/* Unit tests for controller/nodes: which node a build pod fits (Ready, cordon, labels, taints and tolerations), and
 * the store-wide question asked of the informer's nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/nodes.h"
#include "util/banned.h"

/* A node as the informer keeps it (ctl_slim_node()): arch label, Ready, cordon and taints (a JSON array or ""). */
static cJSON *node(const char *name, const char *arch, const char *ready, bool cordoned, const char *taints)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"1\",\"labels\":{\"kubernetes.io/arch\":\"%s\","
		 "\"kubernetes.io/os\":\"linux\",\"pool\":\"builders\"}},\"spec\":{%s%s%s%s},\"status\":{\"ready\":\"%s\"}}",
		 name, arch, cordoned ? "\"unschedulable\":true" : "", cordoned && taints[0] ? "," : "", taints[0] ? "\"taints\":" : "",
		 taints, ready);
	return cJSON_Parse(text);
}

static bool fits(const cJSON *n, const char *selector, const char *tolerations)
{
	cJSON *s = cJSON_Parse(selector), *t = cJSON_Parse(tolerations);
	bool result = ctl_node_fits(n, s, t);

	cJSON_Delete(s);
	cJSON_Delete(t);
	return result;
}

static void test_labels_ready_and_cordon(void **state)
{
	cJSON *ready = node("a", "arm64", "True", false, ""), *not_ready = node("b", "arm64", "False", false, "");
	cJSON *unknown = node("c", "arm64", "Unknown", false, ""), *cordoned = node("d", "arm64", "True", true, "");
	(void)state;

	assert_true(fits(ready, "{\"kubernetes.io/arch\":\"arm64\"}", "[]"));
	assert_true(fits(ready, "{\"kubernetes.io/arch\":\"arm64\",\"pool\":\"builders\"}", "[]"));
	assert_false(fits(ready, "{\"kubernetes.io/arch\":\"amd64\"}", "[]"));
	assert_false(fits(ready, "{\"kubernetes.io/arch\":\"arm64\",\"pool\":\"gpu\"}", "[]"));
	assert_false(fits(ready, "{\"kubernetes.io/arch\":\"arm64\",\"zone\":\"a\"}", "[]"));
	assert_false(fits(ready, "{\"kubernetes.io/arch\":1}", "[]"));
	assert_false(fits(not_ready, "{\"kubernetes.io/arch\":\"arm64\"}", "[]"));
	assert_false(fits(unknown, "{\"kubernetes.io/arch\":\"arm64\"}", "[]"));
	assert_false(fits(cordoned, "{\"kubernetes.io/arch\":\"arm64\"}", "[]"));
	assert_true(ctl_node_usable(ready));
	assert_false(ctl_node_usable(cordoned));
	assert_false(ctl_node_usable(not_ready));
	cJSON_Delete(ready);
	cJSON_Delete(not_ready);
	cJSON_Delete(unknown);
	cJSON_Delete(cordoned);
}

static void test_taints_and_tolerations(void **state)
{
	const char *arm = "{\"kubernetes.io/arch\":\"arm64\"}";
	cJSON *tainted = node("t", "arm64", "True", false, "[{\"key\":\"pool\",\"value\":\"spot\",\"effect\":\"NoSchedule\"}]");
	cJSON *evicting = node("e", "arm64", "True", false, "[{\"key\":\"gone\",\"effect\":\"NoExecute\"}]");
	cJSON *preferred = node("p", "arm64", "True", false, "[{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}]");
	(void)state;

	assert_false(fits(tainted, arm, "[]"));
	assert_true(fits(tainted, arm, "[{\"key\":\"pool\",\"operator\":\"Equal\",\"value\":\"spot\",\"effect\":\"NoSchedule\"}]"));
	assert_true(fits(tainted, arm, "[{\"key\":\"pool\",\"value\":\"spot\"}]")); /* Equal and every effect by default */
	assert_false(fits(tainted, arm, "[{\"key\":\"pool\",\"value\":\"on-demand\"}]"));
	assert_false(fits(tainted, arm, "[{\"key\":\"pool\",\"value\":\"spot\",\"effect\":\"NoExecute\"}]"));
	assert_true(fits(tainted, arm, "[{\"key\":\"pool\",\"operator\":\"Exists\"}]"));
	assert_false(fits(tainted, arm, "[{\"key\":\"other\",\"operator\":\"Exists\"}]"));
	assert_true(fits(tainted, arm, "[{\"operator\":\"Exists\"}]")); /* an empty key with Exists tolerates everything */
	assert_false(fits(evicting, arm, "[{\"key\":\"pool\",\"operator\":\"Exists\"}]"));
	assert_true(fits(evicting, arm, "[{\"key\":\"gone\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]"));
	assert_true(fits(preferred, arm, "[]")); /* PreferNoSchedule keeps no pod away */
	cJSON_Delete(tainted);
	cJSON_Delete(evicting);
	cJSON_Delete(preferred);
}

/* The store-wide question: true as soon as one node fits, false when none does, whatever the others are. */
static void test_any_fit_in_a_store(void **state)
{
	struct ctl_store *nodes = ctl_store_new(CTL_STORE_TREES, NULL);
	cJSON *arm = cJSON_Parse("{\"kubernetes.io/arch\":\"arm64\"}"), *amd = cJSON_Parse("{\"kubernetes.io/arch\":\"amd64\"}");
	cJSON *riscv = cJSON_Parse("{\"kubernetes.io/arch\":\"riscv64\"}"), *none = cJSON_Parse("[]");
	char name[32];
	(void)state;

	assert_false(ctl_nodes_any_fit(nodes, amd, none)); /* no node at all */
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "amd-%d", i);
		ctl_obj_release(ctl_store_put(nodes, node(name, "amd64", i == 499 ? "True" : "False", false, "")));
		snprintf(name, sizeof(name), "arm-%d", i);
		ctl_obj_release(ctl_store_put(nodes, node(name, "arm64", "True", i != 250, "")));
	}
	assert_int_equal(ctl_store_len(nodes), 1000);
	assert_true(ctl_nodes_any_fit(nodes, amd, none)); /* only amd-499 is Ready */
	assert_true(ctl_nodes_any_fit(nodes, arm, none)); /* only arm-250 is not cordoned */
	assert_false(ctl_nodes_any_fit(nodes, riscv, none));
	ctl_obj_release(ctl_store_delete(nodes, "amd-499"));
	assert_false(ctl_nodes_any_fit(nodes, amd, none));
	cJSON_Delete(arm);
	cJSON_Delete(amd);
	cJSON_Delete(riscv);
	cJSON_Delete(none);
	ctl_store_free(nodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_ready_and_cordon),
		cmocka_unit_test(test_taints_and_tolerations),
		cmocka_unit_test(test_any_fit_in_a_store),
	};
	return cmocka_run_group_tests_name("nodes", tests, NULL, NULL);
}
