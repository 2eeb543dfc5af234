/* Unit tests for controller/slim: what a cached pod, Job, node and build keep of the API server's objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/slim.h"
#include "util/banned.h"

/* A finished build pod as the API server returns it, with what the kubelet, the scheduler and admission add. */
static const char pod_json[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"hello-g1-linux-arm64-a1\",\"namespace\":\"apps\",\"uid\":\"p-1\","
	"\"resourceVersion\":\"812\",\"creationTimestamp\":\"2026-11-30T10:00:00Z\",\"labels\":{\"multiarch.dev/build\":\"hello\","
	"\"multiarch.dev/role\":\"build\",\"multiarch.dev/generation\":\"1\",\"multiarch.dev/platform\":\"linux-arm64\",\"multiarch.dev/"
	"attempt\":\"1\","
	"\"app.kubernetes.io/managed-by\":\"multiarch-controller\",\"team\":\"web\"},\"annotations\":{\"multiarch.dev/repository\":\"r/"
	"app\"},"
	"\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"other\",\"uid\":\"c-9\"},"
	"{\"apiVersion\":\"multiarch.dev/"
	"v1alpha1\",\"kind\":\"MultiArchBuild\",\"name\":\"hello\",\"uid\":\"u-1\",\"controller\":true,\"blockOwnerDeletion\":true}],"
	"\"managedFields\":[{\"manager\":\"kube-scheduler\"}]},"
	"\"spec\":{\"nodeName\":\"node-arm-1\",\"containers\":[{\"name\":\"builder\",\"image\":\"buildkit\",\"args\":[\"build\"]}],"
	"\"nodeSelector\":{\"kubernetes.io/arch\":\"arm64\"}},"
	"\"status\":{\"phase\":\"Succeeded\",\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.1.0.1\",\"startTime\":\"2026-11-30T10:00:01Z\","
	"\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
	"\"containerStatuses\":[{\"name\":\"builder\",\"image\":\"buildkit\",\"imageID\":\"x\",\"restartCount\":0,"
	"\"state\":{\"terminated\":{\"exitCode\":0,\"message\":\"sha256:abc\\n\"}}},{\"name\":\"second\",\"state\":{}}],"
	"\"initContainerStatuses\":[{\"name\":\"source\",\"imageID\":\"y\",\"state\":{\"terminated\":{\"exitCode\":0}}}]}}";

static char *slim_text(cJSON *(*slim)(const cJSON *), const char *json)
{
	cJSON *in = cJSON_Parse(json), *out;
	char *text;

	assert_non_null(in);
	out = slim(in);
	assert_non_null(out);
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(in);
	cJSON_Delete(out);
	return text;
}

/* A pod keeps the controller's own labels, only its controller reference (uid), its node, phase and the first container's and first init container's state. */
static void test_pod(void **state)
{
	char *text = slim_text(ctl_slim_pod, pod_json);
	(void)state;

	assert_string_equal(
		text,
		"{\"metadata\":{\"name\":\"hello-g1-linux-arm64-a1\",\"namespace\":\"apps\",\"uid\":\"p-1\",\"resourceVersion\":\"812\","
		"\"creationTimestamp\":\"2026-11-30T10:00:00Z\",\"labels\":{\"multiarch.dev/build\":\"hello\",\"multiarch.dev/"
		"role\":\"build\","
		"\"multiarch.dev/generation\":\"1\",\"multiarch.dev/platform\":\"linux-arm64\",\"multiarch.dev/attempt\":\"1\"},"
		"\"ownerReferences\":[{\"uid\":\"u-1\",\"controller\":true}]},\"spec\":{\"nodeName\":\"node-arm-1\"},"
		"\"status\":{\"phase\":\"Succeeded\",\"startTime\":\"2026-11-30T10:00:01Z\",\"containerStatuses\":[{\"name\":\"builder\","
		"\"state\":{\"terminated\":{\"exitCode\":0,\"message\":\"sha256:abc\\n\"}}}],"
		"\"initContainerStatuses\":[{\"name\":\"source\",\"state\":{\"terminated\":{\"exitCode\":0}}}],"
		"\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}");
	cJSON_free(text);
}

/* An object without a controller reference or labels of the controller's keeps neither. */
static void test_no_owner_no_labels(void **state)
{
	char *text = slim_text(ctl_slim_job, "{\"metadata\":{\"name\":\"j\",\"namespace\":\"a\",\"labels\":{\"x\":\"y\"},"
					     "\"ownerReferences\":[{\"uid\":\"o\",\"controller\":false}]},\"status\":{\"active\":1}}");
	(void)state;

	assert_string_equal(text, "{\"metadata\":{\"name\":\"j\",\"namespace\":\"a\"},\"status\":{\"active\":1}}");
	cJSON_free(text);
}

/* A node keeps its labels, taints, cordon and Ready, not its other conditions and heartbeats. */
static void test_node(void **state)
{
	char *text = slim_text(
		ctl_slim_node,
		"{\"metadata\":{\"name\":\"n1\",\"uid\":\"n\",\"resourceVersion\":\"3\",\"labels\":{\"kubernetes.io/arch\":\"arm64\"}},"
		"\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}],\"podCIDR\":\"x\"},"
		"\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\","
		"\"lastHeartbeatTime\":\"t\"}],\"capacity\":{\"cpu\":\"4\"}}}");
	(void)state;

	assert_string_equal(
		text,
		"{\"metadata\":{\"name\":\"n1\",\"uid\":\"n\",\"resourceVersion\":\"3\",\"labels\":{\"kubernetes.io/arch\":\"arm64\"}},"
		"\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]},\"status\":{\"ready\":\"True\"}"
		"}");
	cJSON_free(text);
}

/* A build keeps its spec and status whole. */
static void test_build(void **state)
{
	char *text = slim_text(ctl_slim_build,
			       "{\"apiVersion\":\"multiarch.dev/v1alpha1\",\"kind\":\"MultiArchBuild\",\"metadata\":{\"name\":\"b\","
			       "\"namespace\":\"a\",\"uid\":\"u\",\"generation\":2,\"labels\":{\"app\":\"web\"}},"
			       "\"spec\":{\"image\":\"r/b:1\"},\"status\":{\"phase\":\"Building\"}}");
	(void)state;

	assert_string_equal(
		text, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"a\",\"uid\":\"u\",\"generation\":2},\"spec\":{\"image\":\"r/b:1\"},"
		      "\"status\":{\"phase\":\"Building\"}}");
	cJSON_free(text);
	/* of the annotations only the rebuild request stays */
	text = slim_text(ctl_slim_build,
			 "{\"metadata\":{\"name\":\"b\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
			 "\"{}\",\"multiarch.dev/requested-at\":\"now\"}},\"spec\":{}}");
	assert_string_equal(text, "{\"metadata\":{\"name\":\"b\",\"annotations\":{\"multiarch.dev/requested-at\":\"now\"}},\"spec\":{}}");
	cJSON_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_no_owner_no_labels),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_build),
	};
	return cmocka_run_group_tests_name("slim", tests, NULL, NULL);
}
