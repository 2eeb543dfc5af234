/* multiarch-controller doctor: checks that the controller could run against a cluster. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "kube/client.h"
#include "kube/config.h"
#include "util/banned.h"

static const char doctor_help[] = "usage: multiarch-controller doctor [flags]\n"
				  "\n"
				  "Connects to a cluster and reports the server version, who we are\n"
				  "authenticated as, whether the MultiArchBuild CRD is installed, nodes per\n"
				  "architecture and missing permissions. Exits 0 when the controller could run.\n"
				  "\n"
				  "flags:\n"
				  "  --kubeconfig FILE   kubeconfig to use (default $KUBECONFIG, in-cluster, ~/.kube/config)\n"
				  "  --context NAME      kubeconfig context to use\n"
				  "  --namespace NS      the controller's own namespace, for its lease (default: the context's)\n"
				  "  --help              show this help\n";

/* A permission the controller needs. ns NULL: in every namespace (cluster-wide). */
struct permission {
	const char *group;
	const char *resource;
	const char *subresource;
	const char *verb;
	bool own_namespace;
};

static const struct permission needed[] = {
	{"multiarch.dev", "multiarchbuilds", NULL, "get", false},
	{"multiarch.dev", "multiarchbuilds", NULL, "list", false},
	{"multiarch.dev", "multiarchbuilds", NULL, "watch", false},
	{"multiarch.dev", "multiarchbuilds", "status", "patch", false},
	{"multiarch.dev", "multiarchbuilds", "finalizers", "update", false},
	{"", "pods", NULL, "get", false},
	{"", "pods", NULL, "list", false},
	{"", "pods", NULL, "watch", false},
	{"", "pods", NULL, "create", false},
	{"", "pods", NULL, "delete", false},
	{"batch", "jobs", NULL, "get", false},
	{"batch", "jobs", NULL, "list", false},
	{"batch", "jobs", NULL, "watch", false},
	{"batch", "jobs", NULL, "create", false},
	{"batch", "jobs", NULL, "delete", false},
	{"", "configmaps", NULL, "get", false},
	{"", "configmaps", NULL, "create", false},
	{"", "nodes", NULL, "get", false},
	{"", "nodes", NULL, "list", false},
	{"", "nodes", NULL, "watch", false},
	{"events.k8s.io", "events", NULL, "create", false},
	{"coordination.k8s.io", "leases", NULL, "get", true},
	{"coordination.k8s.io", "leases", NULL, "create", true},
	{"coordination.k8s.io", "leases", NULL, "update", true},
	{"authentication.k8s.io", "tokenreviews", NULL, "create", false}, /* who reads the status port (--metrics-auth) */
	{"authorization.k8s.io", "subjectaccessreviews", NULL, "create", false},
};

static cJSON *parse_body(const struct kube_response *r)
{
	return cJSON_ParseWithLength(dynbuf_str(&r->body), dynbuf_len(&r->body));
}

static const char *json_str(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* POSTs a SelfSubjectAccessReview. Returns 1 allowed, 0 denied, -1 when the review itself failed. */
static int can_i(struct kube_client *c, const struct permission *p, const char *ns, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject(), *spec, *attrs, *answer;
	struct kube_response resp;
	char *body;
	int allowed = -1;

	if (!o)
		return -1;
	cJSON_AddStringToObject(o, "apiVersion", "authorization.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", "SelfSubjectAccessReview");
	spec = cJSON_AddObjectToObject(o, "spec");
	attrs = cJSON_AddObjectToObject(spec, "resourceAttributes");
	cJSON_AddStringToObject(attrs, "group", p->group);
	cJSON_AddStringToObject(attrs, "resource", p->resource);
	cJSON_AddStringToObject(attrs, "verb", p->verb);
	if (p->subresource)
		cJSON_AddStringToObject(attrs, "subresource", p->subresource);
	if (ns)
		cJSON_AddStringToObject(attrs, "namespace", ns);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!body)
		return -1;
	if (kube_request(c, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", KUBE_CT_JSON, body, strlen(body), &resp, err,
			 errlen) == KUBE_OK) {
		const cJSON *st;
		answer = parse_body(&resp);
		st = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(answer, "status"), "allowed");
		allowed = cJSON_IsTrue(st) ? 1 : 0;
		cJSON_Delete(answer);
	}
	kube_response_free(&resp);
	free(body);
	return allowed;
}

struct node_counts {
	char arch[16][32];
	unsigned ready[16];
	unsigned total[16];
	size_t n;
};

static bool count_node(void *ctx, const cJSON *node)
{
	struct node_counts *nc = ctx;
	const char *arch = json_str(node, "metadata", "labels", "kubernetes.io/arch");
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "status"), "conditions"), *cond;
	const cJSON *unsched = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "spec"), "unschedulable");
	bool ready = false;
	size_t i;

	cJSON_ArrayForEach(cond, conds) {
		const char *t = json_str(cond, "type", NULL, NULL), *s = json_str(cond, "status", NULL, NULL);
		if (t && s && strcmp(t, "Ready") == 0 && strcmp(s, "True") == 0)
			ready = true;
	}
	if (!arch)
		arch = "(no kubernetes.io/arch label)";
	for (i = 0; i < nc->n && strcmp(nc->arch[i], arch) != 0; i++)
		;
	if (i == nc->n) {
		if (nc->n == 16)
			return true;
		snprintf(nc->arch[nc->n++], sizeof(nc->arch[0]), "%s", arch);
	}
	nc->total[i]++;
	if (ready && !cJSON_IsTrue(unsched))
		nc->ready[i]++;
	return true;
}

/* Prints the server and its version. False when it cannot be reached. */
static bool check_server(struct kube_client *client, const struct kube_config *cfg)
{
	struct kube_response resp;
	char err[KUBE_ERRBUF_SIZE];
	cJSON *doc;

	if (kube_request(client, "GET", "/version", NULL, NULL, 0, &resp, err, sizeof(err)) != KUBE_OK) {
		printf("server:       %s: not reachable: %s\n", cfg->server, err);
		kube_response_free(&resp);
		return false;
	}
	doc = parse_body(&resp);
	printf("server:       %s (Kubernetes %s)\n", cfg->server,
	       json_str(doc, "gitVersion", NULL, NULL) ? json_str(doc, "gitVersion", NULL, NULL) : "?");
	cJSON_Delete(doc);
	kube_response_free(&resp);
	return true;
}

/* Prints who the credentials authenticate as (a SelfSubjectReview). False when they do not. */
static bool check_identity(struct kube_client *client)
{
	static const char review[] = "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}";
	struct kube_response resp;
	char err[KUBE_ERRBUF_SIZE];
	const cJSON *g;
	const char *user;
	cJSON *doc;
	bool ok = kube_request(client, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", KUBE_CT_JSON, review, strlen(review),
			       &resp, err, sizeof(err)) == KUBE_OK;

	if (!ok) {
		printf("identity:     not authenticated: %s\n", err);
		kube_response_free(&resp);
		return false;
	}
	doc = parse_body(&resp);
	user = json_str(doc, "status", "userInfo", "username");
	printf("identity:     %s (groups:", user ? user : "?");
	cJSON_ArrayForEach(g,
			   cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "status"), "userInfo"), "groups"))
		if (cJSON_IsString(g))
			printf(" %s", g->valuestring);
	printf(")\n");
	cJSON_Delete(doc);
	kube_response_free(&resp);
	return true;
}

/* Prints whether the CRD is served (through discovery, which every authenticated user may read) and the nodes per
 * architecture. False without the CRD. */
static bool check_crd_and_nodes(struct kube_client *client)
{
	struct kube_response resp;
	struct node_counts nodes;
	char err[KUBE_ERRBUF_SIZE];
	bool ok = kube_request(client, "GET", "/apis/multiarch.dev/v1alpha1", NULL, NULL, 0, &resp, err, sizeof(err)) == KUBE_OK &&
		  strstr(dynbuf_str(&resp.body), "\"multiarchbuilds\"");

	if (ok)
		printf("crd:          multiarchbuilds.multiarch.dev/v1alpha1 is served\n");
	else
		printf("crd:          multiarchbuilds.multiarch.dev/v1alpha1 is NOT installed (kubectl apply -f crds/)\n");
	kube_response_free(&resp);
	memset(&nodes, 0, sizeof(nodes));
	if (kube_list(client, "/api/v1/nodes", 500, count_node, &nodes, NULL, 0, NULL, err, sizeof(err)) == KUBE_OK) {
		printf("nodes:       ");
		if (nodes.n == 0)
			printf(" none (builds will wait for nodes)");
		for (size_t i = 0; i < nodes.n; i++)
			printf(" %s: %u ready of %u%s", nodes.arch[i], nodes.ready[i], nodes.total[i], i + 1 < nodes.n ? "," : "");
		printf("\n");
	} else {
		printf("nodes:        cannot list: %s\n", err);
	}
	return ok;
}

/* Prints each permission the controller needs and lacks (in namespace ns for its own), and whether it could read
 * Secrets, which it never needs. False when one is missing. */
static bool check_permissions(struct kube_client *client, const char *ns)
{
	static const struct permission secrets = {"", "secrets", NULL, "get", false};
	char err[KUBE_ERRBUF_SIZE];
	unsigned missing = 0, checked = 0;

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		const struct permission *p = &needed[i];
		int allowed = can_i(client, p, p->own_namespace ? ns : NULL, err, sizeof(err));
		checked++;
		if (allowed == 1)
			continue;
		missing++;
		printf("missing:      %s %s%s%s%s%s in %s%s%s\n", p->verb, p->resource, p->subresource ? "/" : "",
		       p->subresource ? p->subresource : "", p->group[0] ? "." : "", p->group,
		       p->own_namespace ? "namespace " : "all namespaces", p->own_namespace ? ns : "",
		       allowed < 0 ? " (review failed)" : "");
	}
	if (missing == 0)
		printf("permissions:  all %u needed permissions granted\n", checked);
	else
		printf("permissions:  %u of %u needed permissions missing\n", missing, checked);
	if (can_i(client, &secrets, NULL, err, sizeof(err)) == 1)
		printf("note:         this identity can read Secrets; the controller never needs to\n");
	return missing == 0;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"kubeconfig", required_argument, NULL, 'k'},
		{"context", required_argument, NULL, 'c'},
		{"namespace", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *kubeconfig = NULL, *context = NULL, *ns = NULL;
	struct kube_config cfg;
	struct kube_client *client = NULL;
	char err[KUBE_ERRBUF_SIZE];
	bool ok;
	int c;

	optind = 1;
	while ((c = cli_getopt("doctor", argc, argv, "h", longopts)) != -1) {
		if (c == 'h') {
			fputs(doctor_help, stdout);
			return CLI_EXIT_OK;
		}
		if (c != 'k' && c != 'c' && c != 'n')
			return CLI_EXIT_USAGE;
		*(c == 'k' ? &kubeconfig : c == 'c' ? &context : &ns) = optarg;
	}
	if (!cli_no_positional("doctor", argc, argv))
		return CLI_EXIT_USAGE;
	if (kube_config_load(kubeconfig, context, &cfg, err, sizeof(err)) != KUBE_OK) {
		cli_error("doctor", "%s", err);
		return CLI_EXIT_FAILURE;
	}
	printf("config:       %s\n", cfg.source);
	if (kube_client_new(&cfg, NULL, &client, err, sizeof(err)) != KUBE_OK) {
		cli_error("doctor", "%s", err);
		kube_config_free(&cfg);
		return CLI_EXIT_FAILURE;
	}
	ok = check_server(client, &cfg) && check_identity(client);
	if (ok) {
		ok = check_crd_and_nodes(client);
		ok = check_permissions(client, ns ? ns : cfg.namespace) && ok;
	}
	printf("result:       %s\n", ok ? "ok: the controller can run here" : "the controller cannot run here yet (see above)");
	kube_client_free(client);
	kube_config_free(&cfg);
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
