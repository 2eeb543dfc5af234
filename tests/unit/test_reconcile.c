/* Unit tests for controller/reconcile: each step from a new build to Ready through a recording writer, retries,
 * timeouts, missing nodes, a changed spec, batched writes, and no write when nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/reconcile.h"
#include "util/strmap.h"
#include "util/timefmt.h"
#include "util/banned.h"

#define NOW 1790000000 /* 2026-09-21T14:13:20Z */
#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIGEST_I "sha256:1111111111111111111111111111111111111111111111111111111111111111"

/* What the writer was asked to do, and what it answers. */
struct recorder {
	cJSON *created; /* array of created objects */
	cJSON *deleted; /* array of deleted names */
	cJSON *status;  /* the last status written, or NULL */
	unsigned status_writes;
	char events[2048];
	char last_note[1400]; /* the note of the last Event */
	enum ctl_write create_answer;
	enum ctl_write status_answer;      /* OK, or PENDING: sent and not answered yet */
	bool config_map_pending;           /* the builder ConfigMap's create is sent and not answered yet */
	const char *config_map_owner;      /* non-NULL: the builder ConfigMap exists, controlled by this uid */
	const char *config_map_owner_kind; /* and of this kind named hello (NULL: a Deployment) */
};

/* Reads the existing builder ConfigMap: controlled by config_map_owner. */
static enum ctl_write rec_read(void *ctx, const char *kind, const char *ns, const char *name, cJSON **out, char *err, size_t errlen)
{
	struct recorder *r = ctx;
	char text[512];
	(void)ns;
	(void)err;
	(void)errlen;

	*out = NULL;
	if (strcmp(kind, "ConfigMap") != 0 || !r->config_map_owner)
		return CTL_WRITE_GONE;
	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",\"ownerReferences\":[{\"kind\":\"%s\",\"name\":\"hello\",\"uid\":\"%s\","
		 "\"controller\":true}]}}",
		 name, r->config_map_owner_kind ? r->config_map_owner_kind : "Deployment", r->config_map_owner);
	*out = cJSON_Parse(text);
	return CTL_WRITE_OK;
}

static enum ctl_write rec_create(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct recorder *r = ctx;
	if (strcmp(kind, "ConfigMap") == 0 && r->config_map_owner)
		return CTL_WRITE_EXISTS;
	if (strcmp(kind, "ConfigMap") == 0 && r->config_map_pending)
		return CTL_WRITE_PENDING;

	snprintf(err, errlen, "refused for the test");
	if (r->create_answer == CTL_WRITE_OK || r->create_answer == CTL_WRITE_PENDING)
		cJSON_AddItemToArray(r->created, cJSON_Duplicate(object, true));
	return r->create_answer;
}

static enum ctl_write rec_remove(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct recorder *r = ctx;
	(void)kind;
	(void)err;
	(void)errlen;

	cJSON_AddItemToArray(r->deleted,
			     cJSON_CreateString(cJSON_GetObjectItem(cJSON_GetObjectItem(object, "metadata"), "name")->valuestring));
	return CTL_WRITE_OK;
}

static enum ctl_write rec_status(void *ctx, const cJSON *build, const cJSON *status, char *err, size_t errlen)
{
	struct recorder *r = ctx;
	(void)build;
	(void)err;
	(void)errlen;

	cJSON_Delete(r->status);
	r->status = cJSON_Duplicate(status, true);
	r->status_writes++;
	return r->status_answer;
}

static void rec_event(void *ctx, const cJSON *build, bool warning, const char *reason, const char *note)
{
	struct recorder *r = ctx;
	size_t n = strlen(r->events);
	(void)build;

	snprintf(r->events + n, sizeof(r->events) - n, "%s%s ", warning ? "!" : "", reason);
	snprintf(r->last_note, sizeof(r->last_note), "%s", note);
}

static void recorder_reset(struct recorder *r)
{
	cJSON_Delete(r->created);
	cJSON_Delete(r->deleted);
	cJSON_Delete(r->status);
	memset(r, 0, sizeof(*r));
	r->created = cJSON_CreateArray();
	r->deleted = cJSON_CreateArray();
}

#define WORLD_CONFIG "policy: {privilegedNamespaces: [apps], serviceAccountNames: [pusher]}\n"

/* The world one test sets up: a build, children, nodes per architecture. */
struct world {
	cJSON *build;
	cJSON *children[16];
	size_t child_count;
	size_t nodes_amd64, nodes_arm64;
	time_t now;
	struct recorder rec;
	struct ctl_outcome out;
	struct ctl_reconcile_options opts;
	struct ctl_builder_config config;                               /* a policy that lets namespace apps run buildkit */
	enum { START_ASKS_NOBODY, START_ALLOWED, START_REFUSED } start; /* what the view's may_start answers */
	unsigned start_asks;
};

static bool fake_may_start(void *ctx)
{
	struct world *w = ctx;

	w->start_asks++;
	return w->start == START_ALLOWED;
}

static bool fake_nodes(void *ctx, const cJSON *selector, const cJSON *tolerations)
{
	struct world *w = ctx;
	const char *arch = cJSON_GetObjectItem(selector, "kubernetes.io/arch")->valuestring;
	(void)tolerations;

	return strcmp(arch, "amd64") == 0 ? w->nodes_amd64 > 0 : strcmp(arch, "arm64") == 0 && w->nodes_arm64 > 0;
}

static void world_init(struct world *w, const char *spec_extra, long generation)
{
	char text[2048];

	memset(w, 0, sizeof(*w));
	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"hello\",\"namespace\":\"apps\",\"uid\":\"u-1\",\"generation\":%ld,\"resourceVersion\":\"10\"},"
		 "\"spec\":{\"image\":\"reg.example/team/hello:1.0\",\"platforms\":[\"linux/amd64\",\"linux/arm64\"],"
		 "\"source\":{\"git\":{\"url\":\"https://git.example/hello.git\"}}%s}}",
		 generation, spec_extra ? spec_extra : "");
	w->build = cJSON_Parse(text);
	assert_non_null(w->build);
	w->nodes_amd64 = w->nodes_arm64 = 2;
	w->now = NOW;
	ctl_reconcile_options_init(&w->opts);
	w->opts.status_batch_s = 0;
	assert_int_equal(ctl_builder_config_parse(WORLD_CONFIG, sizeof(WORLD_CONFIG) - 1, NULL, &w->config, text, sizeof(text)), CTL_OK);
	w->opts.children.config = &w->config;
	recorder_reset(&w->rec);
}

static void world_free(struct world *w)
{
	ctl_builder_config_free(&w->config);
	cJSON_Delete(w->build);
	for (size_t i = 0; i < w->child_count; i++)
		cJSON_Delete(w->children[i]);
	recorder_reset(&w->rec);
	cJSON_Delete(w->rec.created);
	cJSON_Delete(w->rec.deleted);
}

/* Adds a child (taking json), as the informer would hold it. */
static void add_child(struct world *w, cJSON *json)
{
	assert_non_null(json);
	w->children[w->child_count++] = json;
}

/* A build pod as the API server holds it: labels from the controller's manifest, a phase, and a result. */
static void add_pod(struct world *w, long gen, const char *platform, int attempt, const char *phase, const char *message, time_t created)
{
	char text[2048], when[RFC3339_MAX], with_newline[256];
	cJSON *pod, *term;

	rfc3339_format(created, when, sizeof(when));
	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"hello-g%ld-%s-a%d\",\"namespace\":\"apps\",\"uid\":\"p-%s-%d\",\"creationTimestamp\":\"%s\","
		 "\"ownerReferences\":[{\"kind\":\"MultiArchBuild\",\"name\":\"hello\",\"uid\":\"u-1\",\"controller\":true}],"
		 "\"labels\":{\"multiarch.dev/build\":\"hello\",\"multiarch.dev/role\":\"build\",\"multiarch.dev/generation\":\"%ld\","
		 "\"multiarch.dev/platform\":\"%s\",\"multiarch.dev/attempt\":\"%d\"}},\"spec\":{\"nodeName\":\"node-%s\"},"
		 "\"status\":{\"phase\":\"%s\",\"containerStatuses\":[{\"name\":\"builder\",\"state\":{}}]}}",
		 gen, platform, attempt, platform, attempt, when, gen, platform, attempt, platform, phase);
	pod = cJSON_Parse(text);
	if (message) {
		cJSON *state = cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"), "containerStatuses"), 0), "state");
		term = cJSON_AddObjectToObject(state, "terminated");
		cJSON_AddNumberToObject(term, "exitCode", strcmp(phase, "Succeeded") == 0 ? 0 : 1);
		cJSON_AddStringToObject(term, "reason", strcmp(phase, "Succeeded") == 0 ? "Completed" : "Error");
		snprintf(with_newline, sizeof(with_newline), "%s\n", message);
		cJSON_AddStringToObject(term, "message", with_newline);
		cJSON_AddStringToObject(term, "finishedAt", when);
	}
	add_child(w, pod);
}

static void add_index(struct world *w, long gen, const char *job_status, const char *pod_phase, const char *digest)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"hello-g%ld-index\",\"namespace\":\"apps\",\"uid\":\"j-1\","
		 "\"ownerReferences\":[{\"kind\":\"MultiArchBuild\",\"name\":\"hello\",\"uid\":\"u-1\",\"controller\":true}],\"labels\":{"
		 "\"multiarch.dev/build\":\"hello\","
		 "\"multiarch.dev/role\":\"index\",\"multiarch.dev/generation\":\"%ld\"}},\"status\":%s}",
		 gen, gen, job_status);
	add_child(w, cJSON_Parse(text));
	if (!pod_phase)
		return;
	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"hello-g%ld-index-x1\",\"namespace\":\"apps\",\"uid\":\"ip-1\","
		 "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"hello-g%ld-index\",\"uid\":\"j-1\",\"controller\":true}],\"labels\":{"
		 "\"multiarch.dev/build\":\"hello\","
		 "\"multiarch.dev/role\":\"index\",\"multiarch.dev/"
		 "generation\":\"%ld\"}},\"status\":{\"phase\":\"%s\",\"containerStatuses\":"
		 "[{\"name\":\"index\",\"state\":{\"terminated\":{\"exitCode\":0,\"message\":\"%s\",\"finishedAt\":\"2026-09-21T14:13:"
		 "20Z\"}}}]}}",
		 gen, gen, gen, pod_phase, digest);
	add_child(w, cJSON_Parse(text));
}

/* Reconciles with the world's children split into pods and Jobs. */
static void run(struct world *w)
{
	const struct ctl_writer writer = {rec_create, rec_remove, rec_status, rec_event, rec_read, &w->rec};
	const cJSON *pods[16], *jobs[16];
	struct ctl_view view = {0};

	for (size_t i = 0; i < w->child_count; i++) {
		const cJSON *status = cJSON_GetObjectItem(w->children[i], "status");
		if (cJSON_GetObjectItem(status, "phase"))
			pods[view.pod_count++] = w->children[i];
		else
			jobs[view.job_count++] = w->children[i];
	}
	view.build = w->build;
	view.pods = pods;
	view.jobs = jobs;
	view.any_node_fits = fake_nodes;
	view.nodes_ctx = w;
	if (w->start != START_ASKS_NOBODY) {
		view.may_start = fake_may_start;
		view.start_ctx = w;
		view.in_flight_max = 3;
	}
	view.now = w->now;
	ctl_reconcile(&w->opts, &view, &writer, &w->out);
}

/* Makes the written status the build's own, as the informer would show it next. */
static void accept_status(struct world *w)
{
	assert_non_null(w->rec.status);
	cJSON_DeleteItemFromObject(w->build, "status");
	cJSON_AddItemToObject(w->build, "status", cJSON_Duplicate(w->rec.status, true));
	recorder_reset(&w->rec);
}

static const char *status_str(const struct world *w, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(w->rec.status, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *platform_str(const cJSON *status, const char *platform, const char *key)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(status, "platforms")) {
		if (strcmp(cJSON_GetObjectItem(e, "platform")->valuestring, platform) == 0) {
			const cJSON *v = cJSON_GetObjectItem(e, key);
			return cJSON_IsString(v) ? v->valuestring : "";
		}
	}
	return "(none)";
}

static const char *condition(const cJSON *status, const char *type, const char *key)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(status, "conditions"))
		if (strcmp(cJSON_GetObjectItem(c, "type")->valuestring, type) == 0)
			return cJSON_GetObjectItem(c, key)->valuestring;
	return "(none)";
}

static const char *created_name(const struct world *w, int i)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(w->rec.created, i), "metadata"), "name")->valuestring;
}

/* A new build whose two platforms were pushed at NOW + 60 and + 61, reconciled at NOW + 62 (the index Job made). */
static void both_pushed(struct world *w)
{
	world_init(w, NULL, 1);
	run(w);
	accept_status(w);
	add_pod(w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 60);
	add_pod(w, 1, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW + 61);
	w->now = NOW + 62;
	run(w);
}

static void test_new_build_to_ready(void **state)
{
	struct world w;
	const cJSON *pod, *job, *args, *a;
	char joined[2048] = "";
	(void)state;

	world_init(&w, NULL, 1);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(created_name(&w, 0), "hello-g1-linux-amd64-a1");
	assert_string_equal(created_name(&w, 1), "hello-g1-linux-arm64-a1");
	pod = cJSON_GetArrayItem(w.rec.created, 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "nodeSelector"), "kubernetes.io/arch")
				    ->valuestring,
			    "arm64");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "ownerReferences"), 0), "controller")));
	assert_int_equal(w.rec.status_writes, 1);
	assert_string_equal(status_str(&w, "phase"), "Building");
	assert_int_equal(cJSON_GetObjectItem(w.rec.status, "observedGeneration")->valueint, 1);
	assert_string_equal(condition(w.rec.status, "Reconciling", "status"), "True");
	assert_string_equal(condition(w.rec.status, "Ready", "status"), "False");
	assert_string_equal(condition(w.rec.status, "Stalled", "status"), "False");
	assert_string_equal(w.rec.events, ""); /* a start is no Event: the outcome is */
	accept_status(&w);

	/* the pods exist and run: nothing to do, nothing written */
	add_pod(&w, 1, "linux-amd64", 1, "Running", NULL, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Pending", NULL, NOW);
	w.now += 30;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_int_equal(w.rec.status_writes, 0);
	assert_true(w.out.requeue_after_s > 3500); /* the timeout, 1h from creation */

	/* both pushed: the index Job with both digests, Merging */
	world_free(&w);
	both_pushed(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 1);
	assert_string_equal(created_name(&w, 0), "hello-g1-index");
	job = cJSON_GetArrayItem(w.rec.created, 0);
	args = cJSON_GetObjectItem(
		cJSON_GetArrayItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(job, "spec"), "template"), "spec"),
					    "containers"),
			0),
		"args");
	cJSON_ArrayForEach(a, args) {
		strncat(joined, a->valuestring, sizeof(joined) - strlen(joined) - 2);
		strncat(joined, " ", sizeof(joined) - strlen(joined) - 1);
	}
	assert_non_null(strstr(joined, "index --image=reg.example/team/hello:1.0 --source=reg.example/team/hello@" DIGEST_A
				       " --platform=linux/amd64 --source=reg.example/team/hello@" DIGEST_B " --platform=linux/arm64 "));
	assert_non_null(strstr(joined, "--digest-file=/dev/termination-log"));
	assert_string_equal(status_str(&w, "phase"), "Merging");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "digest"), DIGEST_B);
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "node"), "node-linux-arm64");
	assert_string_equal(w.rec.events, "");
	accept_status(&w);

	/* the index pod ended with the index digest: Ready */
	add_index(&w, 1, "{\"succeeded\":1}", "Succeeded", DIGEST_I);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(status_str(&w, "phase"), "Succeeded");
	assert_string_equal(status_str(&w, "image"), "reg.example/team/hello@" DIGEST_I);
	assert_string_equal(status_str(&w, "shortDigest"), "111111111111");
	assert_string_equal(status_str(&w, "platformSummary"), "2/2");
	assert_string_equal(condition(w.rec.status, "Ready", "status"), "True");
	assert_string_equal(condition(w.rec.status, "Reconciling", "status"), "False");
	assert_string_equal(condition(w.rec.status, "Degraded", "status"), "False");
	assert_string_equal(condition(w.rec.status, "Degraded", "reason"), "CompleteIndex");
	assert_string_equal(w.rec.events, "Succeeded ");
	/* the one Event of the outcome names where every platform was built */
	assert_non_null(
		strstr(w.rec.last_note,
		       "holds 2 platforms: linux/amd64 on node-linux-amd64 (1 attempt); linux/arm64 on node-linux-arm64 (1 attempt)"));
	accept_status(&w);

	/* done: later looks write nothing */
	w.now += 3600;
	run(&w);
	assert_int_equal(w.rec.status_writes, 0);
	assert_int_equal(cJSON_GetArraySize(w.rec.created) + cJSON_GetArraySize(w.rec.deleted), 0);
	world_free(&w);
}

/* An optional platform that failed leaves an index without it: Ready, and Degraded says what it lacks. */
static void test_partial_index(void **state)
{
	struct world w;
	(void)state;

	world_init(&w, ",\"policy\":{\"retries\":0,\"optionalPlatforms\":[\"linux/arm64\"]}", 1);
	run(&w);
	assert_string_equal(condition(w.rec.status, "Degraded", "status"), "False");
	assert_string_equal(condition(w.rec.status, "Degraded", "message"), "no index is pushed for this generation yet");
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Failed", "boom", NOW);
	run(&w);
	assert_string_equal(status_str(&w, "phase"), "Merging");
	accept_status(&w);
	add_index(&w, 1, "{\"succeeded\":1}", "Succeeded", DIGEST_I);
	run(&w);
	assert_string_equal(status_str(&w, "phase"), "Succeeded");
	assert_string_equal(status_str(&w, "platformSummary"), "1/2");
	assert_string_equal(condition(w.rec.status, "Ready", "status"), "True");
	assert_string_equal(condition(w.rec.status, "Stalled", "status"), "False");
	assert_string_equal(condition(w.rec.status, "Degraded", "status"), "True");
	assert_string_equal(condition(w.rec.status, "Degraded", "reason"), "PartialIndex");
	assert_string_equal(condition(w.rec.status, "Degraded", "message"), "the index lacks linux/arm64: optional, failed");
	world_free(&w);
}

/* A finished index Job whose pod was garbage-collected before the digest was read runs again, never twice. */
static void test_index_pod_collected(void **state)
{
	struct world w;
	(void)state;

	both_pushed(&w);
	accept_status(&w);
	/* complete at NOW + 70, the pod already gone */
	add_index(&w, 1,
		  "{\"succeeded\":1,\"completionTime\":\"2026-09-21T14:14:30Z\",\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}"
		  "]}",
		  NULL, NULL);
	w.now = NOW + 72;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0); /* the pod may still be on its way to the cache */
	assert_true(w.out.requeue_after_s > 0 && w.out.requeue_after_s <= 10);
	w.now = NOW + 90;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 1);
	assert_string_equal(cJSON_GetArrayItem(w.rec.deleted, 0)->valuestring, "hello-g1-index");
	assert_string_equal(status_str(&w, "phase"), "Merging");
	assert_non_null(strstr(status_str(&w, "message"), "its pod is gone"));
	world_free(&w);

	/* a Job still running, or one whose pod is cached, is left alone */
	world_init(&w, NULL, 1);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 60);
	add_pod(&w, 1, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW + 61);
	add_index(&w, 1, "{\"completionTime\":\"2026-09-21T14:14:30Z\",\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}",
		  "Running", "");
	w.now = NOW + 3600;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0);
	world_free(&w);
}

static void test_retry_then_exhausted(void **state)
{
	struct world w;
	(void)state;

	world_init(&w, ",\"policy\":{\"retries\":1}", 1);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 5);
	add_pod(&w, 1, "linux-arm64", 1, "Failed", "compile error", NOW + 5);
	w.now = NOW + 6;
	run(&w);
	/* backing off: nothing created yet, the failure and the retry time recorded */
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "phase"), "Waiting");
	assert_non_null(strstr(platform_str(w.rec.status, "linux/arm64", "message"), "compile error"));
	assert_true(w.out.requeue_after_s > 0 && w.out.requeue_after_s <= 10);
	assert_string_equal(w.rec.events, "!Retrying ");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "reason"), "Retrying");
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "reason"), ""); /* none for a success */
	accept_status(&w);
	/* the same look again: the same status, no write */
	run(&w);
	assert_int_equal(w.rec.status_writes, 0);
	/* after the backoff: attempt 2 of arm64 only */
	w.now = NOW + 20;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 1);
	assert_string_equal(created_name(&w, 0), "hello-g1-linux-arm64-a2");
	accept_status(&w);
	add_pod(&w, 1, "linux-arm64", 2, "Failed", "compile error", NOW + 30);
	w.now = NOW + 31;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0); /* no index from a partial set */
	assert_string_equal(status_str(&w, "phase"), "Failed");
	assert_string_equal(condition(w.rec.status, "Stalled", "status"), "True");
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "RetriesExhausted");
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "digest"), DIGEST_A); /* kept */
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "reason"), "RetriesExhausted");
	world_free(&w);
}

/* The last pod added has no node and the scheduler's word that none fits (placed: false), or is bound now. */
static void place_last_pod(struct world *w, bool placed)
{
	cJSON *pod = w->children[w->child_count - 1], *spec = cJSON_GetObjectItem(pod, "spec");
	cJSON *status = cJSON_GetObjectItem(pod, "status");

	cJSON_DeleteItemFromObject(spec, "nodeName");
	cJSON_DeleteItemFromObject(status, "conditions");
	cJSON_ReplaceItemInObject(status, "phase", cJSON_CreateString(placed ? "Running" : "Pending"));
	if (placed)
		cJSON_AddStringToObject(spec, "nodeName", "node-linux-arm64");
	else
		cJSON_AddItemToObject(
			status, "conditions",
			cJSON_Parse("[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\","
				    "\"message\":\"0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.\"}]"));
}

static void test_missing_nodes(void **state)
{
	struct world w;
	cJSON *entry;
	(void)state;

	world_init(&w, NULL, 1);
	w.nodes_arm64 = 0;
	run(&w);
	/* policy Wait: the arm64 pod is made all the same, pinned, for a cluster autoscaler to see */
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(created_name(&w, 1), "hello-g1-linux-arm64-a1");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "phase"), "Waiting");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "reason"), "NoMatchingNodes");
	assert_string_equal(condition(w.rec.status, "NodesAvailable", "status"), "False");
	assert_string_equal(condition(w.rec.status, "NodesAvailable", "reason"), "NoMatchingNodes");
	assert_string_equal(condition(w.rec.status, "Stalled", "status"), "False");
	assert_string_equal(w.out.waiting_arches, " arm64 "); /* what a new node of that architecture wakes */
	assert_true(w.out.requeue_after_s > 0 && w.out.requeue_after_s <= CTL_NODE_WAIT_DEFAULT_S);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Running", NULL, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Pending", NULL, NOW);
	place_last_pod(&w, false);
	w.now = NOW + 60;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "phase"), "Waiting");
	assert_non_null(
		strstr(platform_str(w.rec.status, "linux/arm64", "message"),
		       "has taken pod hello-g1-linux-arm64-a1; it waits for one until 2026-09-21T14:28:20Z (policy.nodeWaitTimeout 900s)"));
	assert_non_null(strstr(platform_str(w.rec.status, "linux/arm64", "message"), "didn't match Pod's node affinity"));
	accept_status(&w);
	w.now = NOW + 120; /* a later look while nothing changed writes nothing: the message holds no clock */
	run(&w);
	assert_int_equal(w.rec.status_writes, 0);
	w.nodes_arm64 = 1; /* a node came (an autoscaler's) and the scheduler bound the pod to it */
	place_last_pod(&w, true);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "phase"), "Building");
	assert_string_equal(condition(w.rec.status, "NodesAvailable", "status"), "True");
	assert_string_equal(w.out.waiting_arches, "");
	world_free(&w);

	/* no node within policy.nodeWaitTimeout: the platform fails, not retried, and its pod goes */
	world_init(&w, ",\"policy\":{\"nodeWaitTimeout\":\"2m\"}", 1);
	w.nodes_arm64 = 0;
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Pending", NULL, NOW);
	place_last_pod(&w, false);
	w.now = NOW + 121;
	run(&w);
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "phase"), "Failed");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "reason"), "NoMatchingNodes");
	assert_non_null(strstr(platform_str(w.rec.status, "linux/arm64", "message"), "within 120s (policy.nodeWaitTimeout)"));
	assert_string_equal(status_str(&w, "phase"), "Failed");
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "NoMatchingNodes");
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 1);
	world_free(&w);

	/* the configuration's default applies when the build sets none */
	world_init(&w, NULL, 1);
	w.config.node_wait_s = 30;
	w.nodes_arm64 = 0;
	run(&w);
	assert_true(w.out.requeue_after_s > 0 && w.out.requeue_after_s <= 30);
	world_free(&w);

	world_init(&w, ",\"policy\":{\"missingNodes\":\"Fail\"}", 1);
	w.nodes_arm64 = 0;
	run(&w);
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "phase"), "Failed");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "reason"), "NoMatchingNodes");
	accept_status(&w);
	/* the reason is read back from its own field, whatever the message says */
	cJSON_ArrayForEach(entry, cJSON_GetObjectItem(cJSON_GetObjectItem(w.build, "status"), "platforms"))
		if (strcmp(cJSON_GetObjectItem(entry, "platform")->valuestring, "linux/arm64") == 0)
			cJSON_ReplaceItemInObject(entry, "message", cJSON_CreateString("the API server refused nothing: edited"));
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW);
	run(&w);
	assert_string_equal(status_str(&w, "phase"), "Failed");
	assert_string_equal(condition(w.rec.status, "Ready", "reason"), "NoMatchingNodes");
	world_free(&w);
}

static void test_timeout_and_new_generation(void **state)
{
	struct world w;
	(void)state;

	world_init(&w, ",\"policy\":{\"timeout\":\"10m\"}", 1);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Running", NULL, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Running", NULL, NOW);
	w.now = NOW + 601;
	run(&w);
	/* both timed out: the failures written, then the pods deleted */
	assert_int_equal(w.rec.status_writes, 1);
	assert_non_null(strstr(platform_str(w.rec.status, "linux/arm64", "message"), "timed out after 600s"));
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 2);
	/* the same with the status write in flight: the deletes are still asked for after it (the writer holds them
	 * until it is written), though the run writes nothing else */
	recorder_reset(&w.rec);
	w.rec.status_answer = CTL_WRITE_PENDING;
	run(&w);
	assert_int_equal(w.rec.status_writes, 1);
	assert_true(w.out.status_pending);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 2);
	world_free(&w);

	/* generation 2: the running generation-1 pod is stopped, the finished one kept; new pods start */
	world_init(&w, NULL, 2);
	add_pod(&w, 1, "linux-amd64", 1, "Running", NULL, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 1);
	assert_string_equal(cJSON_GetArrayItem(w.rec.deleted, 0)->valuestring, "hello-g1-linux-amd64-a1");
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(created_name(&w, 0), "hello-g2-linux-amd64-a1");
	world_free(&w);
}

/* Sets the build's multiarch.dev/requested-at annotation to value. */
static void request_rebuild(struct world *w, const char *value)
{
	cJSON *meta = cJSON_GetObjectItem(w->build, "metadata");

	cJSON_DeleteItemFromObject(meta, "annotations");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "annotations"), "multiarch.dev/requested-at", value);
}

/* The pod spec of created object i (a pod, or a Job's template). */
static const cJSON *created_pod_spec(const struct world *w, int i)
{
	const cJSON *o = cJSON_GetArrayItem(w->rec.created, i), *spec = cJSON_GetObjectItem(o, "spec");

	return cJSON_GetObjectItem(spec, "template") ? cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "template"), "spec") : spec;
}

/* No account named: no token. spec.serviceAccountName: that account, its token mounted, in build pods and the index Job. */
static void test_identity(void **state)
{
	struct world w;
	const cJSON *pod_spec;
	(void)state;

	world_init(&w, NULL, 1);
	run(&w);
	pod_spec = created_pod_spec(&w, 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(pod_spec, "automountServiceAccountToken")));
	assert_null(cJSON_GetObjectItem(pod_spec, "serviceAccountName"));
	world_free(&w);

	world_init(&w, ",\"serviceAccountName\":\"pusher\"", 1);
	run(&w);
	for (int i = 0; i < 2; i++) {
		pod_spec = created_pod_spec(&w, i);
		assert_string_equal(cJSON_GetObjectItem(pod_spec, "serviceAccountName")->valuestring, "pusher");
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pod_spec, "automountServiceAccountToken")));
	}
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 60);
	add_pod(&w, 1, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW + 61);
	w.now = NOW + 62;
	run(&w);
	assert_string_equal(created_name(&w, 0), "hello-g1-index");
	pod_spec = created_pod_spec(&w, 0);
	assert_string_equal(cJSON_GetObjectItem(pod_spec, "serviceAccountName")->valuestring, "pusher");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pod_spec, "automountServiceAccountToken")));
	world_free(&w);

	/* an account outside the policy: refused, nothing made */
	world_init(&w, ",\"serviceAccountName\":\"cluster-admin-ish\"", 1);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "PolicyViolation");
	world_free(&w);
}

/* The configuration's hostAliases come first, the build's after; the build's dnsConfig replaces the default. */
static void test_pod_network(void **state)
{
	static const char config[] = "policy: {privilegedNamespaces: [apps], dnsOverrides: true}\n"
				     "defaults:\n  hostAliases: [{ip: 10.0.0.5, hostnames: [registry.corp]}]\n"
				     "  dnsConfig: {searches: [corp.example], options: [{name: ndots, value: '2'}]}\n";
	struct world w;
	char err[256];
	const cJSON *pod_spec, *aliases;
	(void)state;

	world_init(&w, ",\"hostAliases\":[{\"ip\":\"fd00::7\",\"hostnames\":[\"git.corp\"]}]", 1);
	ctl_builder_config_free(&w.config);
	assert_int_equal(ctl_builder_config_parse(config, sizeof(config) - 1, NULL, &w.config, err, sizeof(err)), CTL_OK);
	run(&w);
	pod_spec = created_pod_spec(&w, 0);
	aliases = cJSON_GetObjectItem(pod_spec, "hostAliases");
	assert_int_equal(cJSON_GetArraySize(aliases), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(aliases, 0), "ip")->valuestring, "10.0.0.5");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(aliases, 1), "ip")->valuestring, "fd00::7");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod_spec, "dnsConfig"), "searches"), 0)->valuestring,
			    "corp.example");
	world_free(&w);

	/* the index Job gets them too; a build's dnsConfig replaces the default */
	world_init(&w, ",\"dnsConfig\":{\"nameservers\":[\"10.9.9.9\"]}", 1);
	ctl_builder_config_free(&w.config);
	assert_int_equal(ctl_builder_config_parse(config, sizeof(config) - 1, NULL, &w.config, err, sizeof(err)), CTL_OK);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 60);
	add_pod(&w, 1, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW + 61);
	w.now = NOW + 62;
	run(&w);
	pod_spec = created_pod_spec(&w, 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pod_spec, "hostAliases")), 1);
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod_spec, "dnsConfig"), "nameservers"), 0)->valuestring,
		"10.9.9.9");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(pod_spec, "dnsConfig"), "searches"));
	world_free(&w);

	/* without policy.dnsOverrides a build's own is refused; a malformed one is an invalid spec */
	world_init(&w, ",\"hostAliases\":[{\"ip\":\"10.0.0.6\",\"hostnames\":[\"registry.corp\"]}]", 1);
	run(&w);
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "PolicyViolation");
	assert_non_null(strstr(condition(w.rec.status, "Stalled", "message"), "spec.hostAliases is outside the operator's policy"));
	world_free(&w);
	world_init(&w, ",\"hostAliases\":[{\"ip\":\"not-an-ip\",\"hostnames\":[\"registry.corp\"]}]", 1);
	run(&w);
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "InvalidSpec");
	assert_non_null(strstr(condition(w.rec.status, "Stalled", "message"), "spec.hostAliases[0] must be {ip: an IPv4 or IPv6 address"));
	world_free(&w);
}

/* Sets the build's generation to gen, keeping its status (a spec change as the informer shows it next). */
static void next_generation(struct world *w, long gen)
{
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(w->build, "metadata"), "generation", cJSON_CreateNumber((double)gen));
}

/* Each finished round adds an entry to status.history (bounded by retention.history); earlier rounds' finished pods
 * stay for the newest retention.succeeded succeeded and retention.failed other rounds; ttlAfterFinished removes the
 * finished round's own. */
static void test_history_and_retention(void **state)
{
	struct world w;
	const cJSON *history, *entry;
	(void)state;

	both_pushed(&w);
	accept_status(&w);
	add_index(&w, 1, "{\"succeeded\":1,\"completionTime\":\"2026-09-21T14:14:30Z\"}", "Succeeded", DIGEST_I);
	run(&w);
	history = cJSON_GetObjectItem(w.rec.status, "history");
	assert_int_equal(cJSON_GetArraySize(history), 1);
	entry = cJSON_GetArrayItem(history, 0);
	assert_int_equal(cJSON_GetObjectItem(entry, "generation")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(entry, "round")->valuestring, "g1");
	assert_string_equal(cJSON_GetObjectItem(entry, "phase")->valuestring, "Succeeded");
	assert_string_equal(cJSON_GetObjectItem(entry, "digest")->valuestring, DIGEST_I);
	assert_string_equal(cJSON_GetObjectItem(entry, "revision")->valuestring, "HEAD");
	accept_status(&w);
	run(&w); /* finished: nothing written, the entry is not added twice */
	assert_int_equal(w.rec.status_writes, 0);

	/* generation 2 starts: the entry is carried, generation 1's pods stay (the one succeeded round kept) */
	next_generation(&w, 2);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(w.rec.status, "history")), 1);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0);
	accept_status(&w);
	/* generation 2 fails; generation 3 starts: 1 succeeded (g1) and 1 failed (g2) round kept */
	add_pod(&w, 2, "linux-amd64", 1, "Failed", "boom", NOW + 100);
	add_pod(&w, 2, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW + 100);
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(w.build, "status"), "history"),
			     cJSON_Parse("{\"generation\":2,\"round\":\"g2\",\"phase\":\"Failed\"}"));
	next_generation(&w, 3);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0);
	accept_status(&w);
	/* generation 4: g1, the one succeeded round, stays; of the failed or stopped g2 and g3 only the newer, g3 */
	add_pod(&w, 3, "linux-amd64", 1, "Failed", "boom", NOW + 200);
	next_generation(&w, 4);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 2); /* g2's two pods */
	assert_non_null(strstr(cJSON_GetArrayItem(w.rec.deleted, 0)->valuestring, "hello-g2-"));
	world_free(&w);

	/* at most retention.history entries, the oldest dropped; ttlAfterFinished deletes the round's own pods and Job */
	world_init(&w, ",\"retention\":{\"history\":2,\"ttlAfterFinished\":\"5m\"}", 1);
	run(&w);
	accept_status(&w);
	cJSON_AddItemToObject(cJSON_GetObjectItem(w.build, "status"), "history",
			      cJSON_Parse("[7,{\"round\":\"g-1\",\"phase\":\"Failed\"},{\"round\":\"g0\",\"phase\":\"Failed\"}]"));
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 60);
	add_pod(&w, 1, "linux-arm64", 1, "Succeeded", DIGEST_B, NOW + 61);
	add_index(&w, 1, "{\"succeeded\":1,\"completionTime\":\"2026-09-21T14:14:30Z\"}", "Succeeded", DIGEST_I);
	w.now = NOW + 62;
	run(&w);
	history = cJSON_GetObjectItem(w.rec.status, "history");
	assert_int_equal(cJSON_GetArraySize(history), 2); /* the oldest and the entry that is no object dropped */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(history, 0), "round")->valuestring, "g0");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(history, 1), "round")->valuestring, "g1");
	accept_status(&w);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0);
	assert_true(w.out.requeue_after_s > 230 && w.out.requeue_after_s <= 240); /* 5m after the index pod finished, NOW */
	w.now = NOW + 301;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 4); /* two build pods, the index Job and its pod */
	world_free(&w);
}

/* A running generation-1 pod of platform for the round of request tag. */
static void add_round_pod(struct world *w, const char *tag, const char *platform)
{
	char name[64];
	cJSON *meta;

	add_pod(w, 1, platform, 1, "Running", NULL, NOW);
	meta = cJSON_GetObjectItem(w->children[w->child_count - 1], "metadata");
	snprintf(name, sizeof(name), "hello-g1r%s-%s-a1", tag, platform);
	cJSON_ReplaceItemInObject(meta, "name", cJSON_CreateString(name));
	cJSON_AddStringToObject(cJSON_GetObjectItem(meta, "labels"), "multiarch.dev/request", tag);
}

/* A new requested-at builds the same generation again under new names; the handled value is in the status, and
 * the same value again builds nothing. A request while a round runs stops that round's pods. */
static void test_requested_at_rebuilds(void **state)
{
	struct world w;
	char tag[9], round_pod[64];
	const cJSON *labels;
	(void)state;

	both_pushed(&w);
	accept_status(&w);
	add_index(&w, 1, "{\"succeeded\":1,\"completionTime\":\"2026-09-21T14:14:30Z\"}", "Succeeded", DIGEST_I);
	run(&w);
	assert_string_equal(status_str(&w, "phase"), "Succeeded");
	accept_status(&w);

	request_rebuild(&w, "2026-12-02T10:00:00Z");
	snprintf(tag, sizeof(tag), "%08x", (unsigned)(strmap_hash("2026-12-02T10:00:00Z") & 0xffffffffu));
	snprintf(round_pod, sizeof(round_pod), "hello-g1r%s-linux-amd64-a1", tag);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(created_name(&w, 0), round_pod);
	labels = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(w.rec.created, 0), "metadata"), "labels");
	assert_string_equal(cJSON_GetObjectItem(labels, "multiarch.dev/request")->valuestring, tag);
	assert_string_equal(cJSON_GetObjectItem(labels, "multiarch.dev/generation")->valuestring, "1");
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0); /* the finished round keeps its pods */
	assert_string_equal(status_str(&w, "phase"), "Building");
	assert_string_equal(status_str(&w, "lastHandledRequestedAt"), "2026-12-02T10:00:00Z");
	assert_string_equal(status_str(&w, "digest"), "");
	assert_non_null(strstr(w.rec.events, "Restarted"));
	assert_non_null(strstr(w.rec.last_note, "is \"2026-12-02T10:00:00Z\": the same spec is built again"));
	accept_status(&w);

	/* the same value once more, with the round's pods running: nothing new, nothing written */
	add_round_pod(&w, tag, "linux-amd64");
	add_round_pod(&w, tag, "linux-arm64");
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_int_equal(w.rec.status_writes, 0);

	/* a second request while that round runs: its pods are stopped, a third round starts */
	request_rebuild(&w, "again");
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 2);
	assert_string_equal(cJSON_GetArrayItem(w.rec.deleted, 0)->valuestring, round_pod);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(status_str(&w, "lastHandledRequestedAt"), "again");
	world_free(&w);

	/* a value over 64 characters is refused as an invalid spec, and nothing is made */
	world_init(&w, NULL, 1);
	request_rebuild(&w, "0123456789012345678901234567890123456789012345678901234567890123456789");
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "InvalidSpec");
	assert_non_null(strstr(condition(w.rec.status, "Stalled", "message"), "multiarch.dev/requested-at is longer than 64"));
	world_free(&w);
}

/* The last child's first container (or first init container) status, to set a state a kubelet reports. */
static cJSON *last_status_list(struct world *w, const char *list)
{
	cJSON *status = cJSON_GetObjectItem(w->children[w->child_count - 1], "status");

	if (!cJSON_GetObjectItem(status, list))
		cJSON_AddItemToObject(status, list, cJSON_Parse("[{\"name\":\"source\",\"state\":{}}]"));
	return cJSON_GetArrayItem(cJSON_GetObjectItem(status, list), 0);
}

/* A long build log in the termination message: the platform's message keeps its end, where the error is. */
static void test_failure_keeps_the_log_tail(void **state)
{
	struct world w;
	cJSON *cs;
	char log[2100];
	const char *message, *error = "error: network.host is not allowed";
	(void)state;

	memset(log, 'L', 2000);
	snprintf(log + 2000, sizeof(log) - 2000, "%s", "error: network.host is not allowed");
	world_init(&w, ",\"policy\":{\"retries\":0}", 1);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-arm64", 1, "Failed", NULL, NOW);
	cs = last_status_list(&w, "initContainerStatuses");
	cJSON_ReplaceItemInObject(cs, "state", cJSON_CreateObject());
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(cJSON_GetObjectItem(cs, "state"), "terminated"), "exitCode", 1);
	cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(cs, "state"), "terminated"), "message", log);
	w.now = NOW + 3;
	run(&w);
	message = platform_str(w.rec.status, "linux/arm64", "message");
	assert_non_null(strstr(message, "(exit code 1): ...LLL"));
	assert_true(strlen(message) > strlen(error) && strcmp(message + strlen(message) - strlen(error), error) == 0);
	world_free(&w);
}

/* A pod the kubelet cannot start (an image it cannot pull) fails its attempt with the kubelet's reason at once,
 * instead of waiting for policy.timeout; a failed source init container names itself. */
static void test_kubelet_failures(void **state)
{
	struct world w;
	cJSON *cs;
	(void)state;

	world_init(&w, ",\"policy\":{\"retries\":0}", 1);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Pending", NULL, NOW);
	cs = last_status_list(&w, "containerStatuses");
	cJSON_ReplaceItemInObject(
		cs, "state",
		cJSON_Parse(
			"{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":\"Back-off pulling image \\\"mac.local/none:1\\\"\"}}"));
	add_pod(&w, 1, "linux-arm64", 1, "Failed", NULL, NOW);
	cs = last_status_list(&w, "initContainerStatuses");
	cJSON_ReplaceItemInObject(cs, "state",
				  cJSON_Parse("{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\",\"message\":\"sha256 mismatch\"}}"));
	w.now = NOW + 3;
	run(&w);
	assert_non_null(strstr(platform_str(w.rec.status, "linux/amd64", "message"),
			       "ImagePullBackOff (container builder): Back-off pulling image"));
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "phase"), "Failed");
	assert_non_null(strstr(platform_str(w.rec.status, "linux/arm64", "message"), "): source: Error (exit code 1): sha256 mismatch"));
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 1); /* the stuck pod is stopped */
	world_free(&w);
}

/* A pod the kubelet evicted fails its attempt with the eviction's reason and message, not the killed container's
 * exit code. */
static void test_evicted_pod(void **state)
{
	struct world w;
	cJSON *status;
	(void)state;

	world_init(&w, ",\"policy\":{\"retries\":0}", 1);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Failed", "killed", NOW);
	status = cJSON_GetObjectItem(w.children[w.child_count - 1], "status");
	cJSON_AddStringToObject(status, "reason", "Evicted");
	cJSON_AddStringToObject(status, "message", "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ");
	w.now = NOW + 3;
	run(&w);
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "phase"), "Failed");
	assert_non_null(strstr(platform_str(w.rec.status, "linux/amd64", "message"),
			       "the pod failed: Evicted: Pod ephemeral local storage usage exceeds the total limit of containers 1Mi."));
	assert_null(strstr(platform_str(w.rec.status, "linux/amd64", "message"), "exit code"));
	world_free(&w);
}

static void test_batched_success_and_bad_digest(void **state)
{
	struct world w;
	(void)state;

	world_init(&w, NULL, 1);
	w.opts.status_batch_s = 5;
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", DIGEST_A, NOW + 10);
	add_pod(&w, 1, "linux-arm64", 1, "Running", NULL, NOW);
	w.now = NOW + 11;
	run(&w);
	assert_int_equal(w.rec.status_writes, 0); /* held for company */
	assert_true(w.out.results_held);          /* so a deleted pod's result is kept until written */
	assert_true(w.out.requeue_after_s > 0 && w.out.requeue_after_s <= 5);
	w.now = NOW + 16;
	run(&w);
	assert_int_equal(w.rec.status_writes, 1); /* written once the window passed */
	assert_false(w.out.results_held);
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "phase"), "Succeeded");
	world_free(&w);

	world_init(&w, ",\"policy\":{\"retries\":0}", 1);
	run(&w);
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Succeeded", "not-a-digest", NOW);
	run(&w);
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "phase"), "Failed");
	assert_non_null(strstr(platform_str(w.rec.status, "linux/amd64", "message"), "not a sha256 digest"));
	world_free(&w);
}

static void test_refused_and_invalid(void **state)
{
	struct world w;
	(void)state;

	world_init(&w, NULL, 1);
	w.rec.create_answer = CTL_WRITE_REFUSED;
	run(&w);
	assert_string_equal(status_str(&w, "phase"), "Failed");
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "PodRefused");
	assert_non_null(strstr(platform_str(w.rec.status, "linux/arm64", "message"), "refused for the test"));
	world_free(&w);

	world_init(&w, NULL, 1);
	w.rec.create_answer = CTL_WRITE_FAILED;
	run(&w);
	assert_true(w.out.retry);
	assert_int_equal(w.rec.status_writes, 1); /* Pending, without a pod name it does not have */
	world_free(&w);

	world_init(&w, ",\"platforms\":[\"linux/arm64\",\"linux/aarch64\"]", 1);
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(w.build, "spec"), "platforms");
	cJSON_AddItemToObject(cJSON_GetObjectItem(w.build, "spec"), "platforms", cJSON_Parse("[\"linux/arm64\",\"linux/aarch64\"]"));
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "InvalidSpec");
	assert_non_null(strstr(status_str(&w, "message"), "same platform"));
	world_free(&w);
}

/* Conditions the server sent in a shape the schema would refuse are replaced, never carried into the next write. */
static void test_malformed_old_conditions(void **state)
{
	static const char *const shapes[] = {
		"{\"observedGeneration\":1,\"phase\":\"Building\",\"conditions\":{\"Ready\":\"True\"}}",
		"{\"observedGeneration\":1,\"phase\":\"Building\",\"conditions\":[7,\"Ready\",{\"type\":3},"
		"{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"Custom\",\"status\":\"True\",\"lastTransitionTime\":\"2026-09-21T14:"
		"00:00Z\"}]}",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct world w;
		const cJSON *c;
		int count = 0;

		world_init(&w, NULL, 1);
		cJSON_AddItemToObject(w.build, "status", cJSON_Parse(shapes[i]));
		run(&w);
		assert_non_null(w.rec.status);
		assert_true(cJSON_IsArray(cJSON_GetObjectItem(w.rec.status, "conditions")));
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(w.rec.status, "conditions")) {
			assert_true(cJSON_IsObject(c));
			assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "type")));
			assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "lastTransitionTime")));
			count++;
		}
		assert_int_equal(count,
				 i == 0 ? 5 : 6); /* Ready, Reconciling, Stalled, Degraded, NodesAvailable (+ the well-formed Custom) */
		assert_string_equal(condition(w.rec.status, "Ready", "status"), "False");
		world_free(&w);
	}
}

/* Children the build does not control are neither counted nor touched: a user's pod with the controller's labels,
 * and the children of an earlier build of the same name (another uid). */
static void test_only_own_children(void **state)
{
	static const char *const strangers[] = {
		/* a user's pod with every label of attempt 1, no owner */
		"{\"metadata\":{\"name\":\"foreign\",\"namespace\":\"apps\",\"uid\":\"f-1\",\"labels\":{\"multiarch.dev/build\":\"hello\","
		"\"multiarch.dev/role\":\"build\",\"multiarch.dev/generation\":\"1\",\"multiarch.dev/platform\":\"linux-amd64\","
		"\"multiarch.dev/attempt\":\"1\"}},\"status\":{\"phase\":\"Pending\"}}",
		/* the earlier build's pod of the same name, running */
		"{\"metadata\":{\"name\":\"hello-g1-linux-arm64-a1\",\"namespace\":\"apps\",\"uid\":\"old-p\",\"ownerReferences\":[{"
		"\"uid\":\"u-0\","
		"\"controller\":true}],\"labels\":{\"multiarch.dev/build\":\"hello\",\"multiarch.dev/role\":\"build\",\"multiarch.dev/"
		"generation\":\"7\","
		"\"multiarch.dev/platform\":\"linux-arm64\",\"multiarch.dev/attempt\":\"1\"}},\"status\":{\"phase\":\"Running\"}}",
	};
	struct world w;
	(void)state;

	world_init(&w, NULL, 1);
	for (size_t i = 0; i < sizeof(strangers) / sizeof(strangers[0]); i++)
		add_child(&w, cJSON_Parse(strangers[i]));
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2); /* both platforms' pods: the strangers stand for neither */
	assert_int_equal(cJSON_GetArraySize(w.rec.deleted), 0); /* another generation's label, but not ours to cancel */
	assert_string_equal(created_name(&w, 0), "hello-g1-linux-amd64-a1");
	assert_string_equal(created_name(&w, 1), "hello-g1-linux-arm64-a1");
	world_free(&w);
}

/* A build outside the operator's policy gets no child: Failed, Stalled with PolicyViolation naming the field; in a
 * namespace the policy does not open to buildkit, the default backend is refused the same way. */
static void test_policy_violation(void **state)
{
	struct world w;
	(void)state;

	world_init(&w, ",\"builder\":{\"image\":\"evil.example/miner:1\"}", 1);
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(cJSON_GetObjectItem(w.rec.status, "phase")->valuestring, "Failed");
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "PolicyViolation");
	assert_string_equal(condition(w.rec.status, "Ready", "status"), "False");
	assert_non_null(strstr(condition(w.rec.status, "Stalled", "message"), "spec.builder.image evil.example/miner:1"));
	accept_status(&w);
	w.now += 600; /* a resync later: refused the same way, nothing written (the completion time kept) */
	run(&w);
	assert_int_equal(w.rec.status_writes, 0);
	world_free(&w);

	/* refused in namespace elsewhere, then the operator's policy lets that namespace build: it builds */
	world_init(&w, NULL, 1);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(w.build, "metadata"), "namespace", cJSON_CreateString("elsewhere"));
	run(&w);
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "PolicyViolation");
	accept_status(&w);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(w.build, "metadata"), "namespace", cJSON_CreateString("apps"));
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(status_str(&w, "phase"), "Building");
	world_free(&w);

	world_init(&w, NULL, 1);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(w.build, "metadata"), "namespace", cJSON_CreateString("elsewhere"));
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_non_null(strstr(condition(w.rec.status, "Stalled", "message"), "not allow in namespace elsewhere"));
	world_free(&w);
}

/* A builder ConfigMap of the generation's name that another owner created first is never mounted: the platforms
 * fail with ChildNotOwned and no pod is created; one an earlier, deleted build of this name left is waited for; one
 * this build controls (an earlier reconcile's) is used. */
static void test_config_map_taken(void **state)
{
	static const char config_text[] = WORLD_CONFIG "caBundle: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n";
	struct ctl_builder_config config;
	struct world w;
	char err[256];
	(void)state;

	assert_int_equal(ctl_builder_config_parse(config_text, sizeof(config_text) - 1, NULL, &config, err, sizeof(err)), CTL_OK);
	world_init(&w, NULL, 1);
	w.opts.children.config = &config;
	w.rec.config_map_owner = "someone-else";
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "phase"), "Failed");
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "reason"), "ChildNotOwned");
	assert_non_null(
		strstr(platform_str(w.rec.status, "linux/amd64", "message"),
		       "ConfigMap hello-g1-builder already exists and this build does not control it (its controller: Deployment)"));
	assert_string_equal(condition(w.rec.status, "Stalled", "reason"), "ChildNotOwned");
	world_free(&w);

	/* an earlier build of this name, deleted, whose ConfigMap the garbage collector has not deleted yet: wait */
	world_init(&w, NULL, 1);
	w.opts.children.config = &config;
	w.rec.config_map_owner = "u-0";
	w.rec.config_map_owner_kind = "MultiArchBuild";
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_true(w.out.retry);
	assert_non_null(strstr(w.out.error, "an earlier MultiArchBuild hello's, which was deleted; waiting for the garbage collector"));
	assert_null(w.rec.status ? strstr(platform_str(w.rec.status, "linux/amd64", "phase"), "Failed") : NULL);
	world_free(&w);

	world_init(&w, NULL, 1);
	w.opts.children.config = &config;
	w.rec.config_map_owner = "u-1"; /* this build's */
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2); /* both build pods */
	world_free(&w);
	ctl_builder_config_free(&config);
}

/* Writes sent without waiting: the run goes on as if each were done, writes no status before their answers, and the
 * run after the answers (the pods in the cache) writes it; a status write in flight still gets its Events made
 * (the writer holds them); what mounts a ConfigMap whose create is in flight waits for the next run. */
static void test_writes_in_flight(void **state)
{
	static const char config_text[] = WORLD_CONFIG "caBundle: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n";
	struct ctl_builder_config config;
	struct world w;
	char err[256];
	(void)state;

	world_init(&w, NULL, 1);
	w.rec.create_answer = CTL_WRITE_PENDING;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2); /* both pods sent at once */
	assert_true(w.out.writes_pending);
	assert_false(w.out.retry);
	assert_int_equal(w.out.creates, 0);       /* counted when answered */
	assert_int_equal(w.rec.status_writes, 0); /* no status before the answers */
	assert_string_equal(w.rec.events, "");
	/* answered: the pods are in the cache; the next run writes the status they make, and sends nothing else */
	add_pod(&w, 1, "linux-amd64", 1, "Pending", NULL, NOW);
	add_pod(&w, 1, "linux-arm64", 1, "Pending", NULL, NOW);
	recorder_reset(&w.rec);
	w.rec.status_answer = CTL_WRITE_PENDING;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_int_equal(w.rec.status_writes, 1);
	assert_string_equal(status_str(&w, "phase"), "Building");
	assert_true(w.out.writes_pending); /* the status write itself is in flight */
	assert_false(w.out.status_written);
	world_free(&w);

	assert_int_equal(ctl_builder_config_parse(config_text, sizeof(config_text) - 1, NULL, &config, err, sizeof(err)), CTL_OK);
	world_init(&w, NULL, 1);
	w.opts.children.config = &config;
	w.rec.config_map_pending = true;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0); /* no pod mounts a ConfigMap not yet made */
	assert_true(w.out.writes_pending);
	assert_false(w.out.retry);
	assert_int_equal(w.rec.status_writes, 0);
	w.rec.config_map_pending = false; /* answered (the memo says OK): the next run makes the pods */
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 3); /* the ConfigMap, as answered, and the two pods */
	assert_int_equal(w.rec.status_writes, 1);
	world_free(&w);
	ctl_builder_config_free(&config);
}

/* Under the bound on builds in flight: a build that may not start makes no pod and says Queued, once; let start, it
 * makes both pods; under way, it is not asked again. */
static void test_queued_until_let_start(void **state)
{
	const char *message;
	struct world w;
	(void)state;

	world_init(&w, NULL, 1);
	w.start = START_REFUSED;
	run(&w);
	assert_int_equal(w.start_asks, 1); /* once for both platforms */
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_false(w.out.retry);
	assert_int_equal(w.rec.status_writes, 1);
	assert_string_equal(status_str(&w, "phase"), "Pending");
	assert_string_equal(platform_str(w.rec.status, "linux/arm64", "reason"), "Queued");
	assert_string_equal(condition(w.rec.status, "Ready", "reason"), "Queued");
	message = condition(w.rec.status, "Ready", "message");
	assert_non_null(strstr(message, "at most 3 builds at once"));
	assert_non_null(strstr(message, "--max-builds-in-flight"));
	accept_status(&w);
	w.now += 30; /* still queued: nothing new to write */
	run(&w);
	assert_int_equal(w.rec.status_writes, 0);
	w.start = START_ALLOWED;
	run(&w);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 2);
	assert_string_equal(platform_str(w.rec.status, "linux/amd64", "phase"), "Building");
	assert_string_equal(condition(w.rec.status, "Ready", "reason"), "Building");
	accept_status(&w);
	add_pod(&w, 1, "linux-amd64", 1, "Running", NULL, w.now);
	add_pod(&w, 1, "linux-arm64", 1, "Running", NULL, w.now);
	w.start = START_REFUSED; /* a build under way goes on whatever the bound says */
	w.start_asks = 0;
	run(&w);
	assert_int_equal(w.start_asks, 0);
	assert_int_equal(cJSON_GetArraySize(w.rec.created), 0);
	assert_int_equal(w.out.phase, CTL_PHASE_BUILDING);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_build_to_ready),
		cmocka_unit_test(test_index_pod_collected),
		cmocka_unit_test(test_partial_index),
		cmocka_unit_test(test_retry_then_exhausted),
		cmocka_unit_test(test_missing_nodes),
		cmocka_unit_test(test_timeout_and_new_generation),
		cmocka_unit_test(test_requested_at_rebuilds),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_pod_network),
		cmocka_unit_test(test_history_and_retention),
		cmocka_unit_test(test_kubelet_failures),
		cmocka_unit_test(test_evicted_pod),
		cmocka_unit_test(test_config_map_taken),
		cmocka_unit_test(test_policy_violation),
		cmocka_unit_test(test_failure_keeps_the_log_tail),
		cmocka_unit_test(test_batched_success_and_bad_digest),
		cmocka_unit_test(test_refused_and_invalid),
		cmocka_unit_test(test_writes_in_flight),
		cmocka_unit_test(test_queued_until_let_start),
		cmocka_unit_test(test_malformed_old_conditions),
		cmocka_unit_test(test_only_own_children),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
