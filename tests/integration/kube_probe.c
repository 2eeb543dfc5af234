/* kube-probe: drives the kube/ library against a real API server for the integration tests; prints facts as key=value lines. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/informer.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/lease.h"
#include "kube/mux.h"
#include "kube/watch.h"
#include "util/banned.h"

static atomic_int stop_flag;

static void on_alarm(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static void fact(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fact(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%s=", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static const char *err_name(enum kube_err e)
{
	static const char *names[] = {"OK",      "INVALID",       "CONFIG",       "NOMEM",     "IO",        "TOO_LONG",
				      "NETWORK", "EXEC",          "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT",
				      "GONE",    "UNPROCESSABLE", "TOO_MANY",     "SERVER",    "HTTP",      "STOPPED"};
	return (size_t)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

static char *configmap(const char *ns, const char *name, const char *value)
{
	char *s = malloc(512);

	if (s)
		snprintf(s, 512,
			 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{"
			 "\"probe\":\"yes\"}},\"data\":{\"v\":\"%s\"}}",
			 name, ns, value);
	return s;
}

static bool count_item(void *ctx, const cJSON *item)
{
	(void)item;
	(*(unsigned *)ctx)++;
	return true;
}

/* list PATH: one LIST of PATH in pages of 500 (fewer when a page is over KUBE_PROBE_BODY_MAX bytes) */
static int run_list(struct kube_client *c, const char *path)
{
	char err[KUBE_ERRBUF_SIZE] = "", rv[64] = "";
	unsigned items = 0, pages = 0;
	enum kube_err e = kube_list(c, path, 500, count_item, &items, rv, sizeof(rv), &pages, err, sizeof(err));

	fact("list", "%s items=%u pages=%u", err_name(e), items, pages);
	fact("list_error", "%s", err);
	return e == KUBE_OK ? 0 : 1;
}

/* configmaps NS N: creation, paginated list, patch, apply, errors, delete with preconditions */
static int run_configmaps(struct kube_client *c, const char *ns, unsigned n)
{
	char path[KUBE_PATH_MAX], one[KUBE_PATH_MAX], err[KUBE_ERRBUF_SIZE], name[64], rv[64];
	struct kube_response r;
	enum kube_err e;
	unsigned created = 0, items = 0, pages = 0;
	char *body;
	cJSON *obj;
	const char *uid;

	kube_path(path, sizeof(path), "", "v1", ns, "configmaps", NULL, NULL);
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "cm-%04u", i);
		body = configmap(ns, name, "0");
		e = kube_request(c, "POST", path, KUBE_CT_JSON, body, strlen(body), &r, err, sizeof(err));
		free(body);
		kube_response_free(&r);
		if (e == KUBE_OK)
			created++;
		else
			fprintf(stderr, "create %s: %s\n", name, err);
	}
	fact("created", "%u", created);
	snprintf(one, sizeof(one), "%s", path);
	kube_query(one, sizeof(one), "labelSelector", "probe=yes");
	e = kube_list(c, one, 500, count_item, &items, rv, sizeof(rv), &pages, err, sizeof(err));
	fact("list", "%s items=%u pages=%u rv_set=%s", err_name(e), items, pages, rv[0] ? "yes" : "no");

	/* create again: 409 AlreadyExists */
	body = configmap(ns, "cm-0000", "0");
	e = kube_request(c, "POST", path, KUBE_CT_JSON, body, strlen(body), &r, err, sizeof(err));
	fact("create_existing", "%s code=%ld reason=%s", err_name(e), r.st.code, r.st.reason);
	free(body);
	kube_response_free(&r);

	/* an invalid object: 422 */
	body = configmap(ns, "Not_A_Valid_Name", "0");
	e = kube_request(c, "POST", path, KUBE_CT_JSON, body, strlen(body), &r, err, sizeof(err));
	fact("create_invalid", "%s code=%ld reason=%s", err_name(e), r.st.code, r.st.reason);
	free(body);
	kube_response_free(&r);

	/* merge patch */
	kube_path(one, sizeof(one), "", "v1", ns, "configmaps", "cm-0001", NULL);
	e = kube_request(c, "PATCH", one, KUBE_CT_MERGE_PATCH, "{\"data\":{\"v\":\"patched\"}}", 24, &r, err, sizeof(err));
	obj = cJSON_ParseWithLength(dynbuf_str(&r.body), dynbuf_len(&r.body));
	fact("merge_patch", "%s v=%s", err_name(e),
	     cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "data"), "v")
		     ? cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "data"), "v")->valuestring
		     : "");
	cJSON_Delete(obj);
	kube_response_free(&r);

	/* server-side apply, twice (the second is a no-op) */
	kube_path(one, sizeof(one), "", "v1", ns, "configmaps", "applied", NULL);
	body = configmap(ns, "applied", "by-apply");
	e = kube_apply(c, one, "kube-probe", true, body, &r, err, sizeof(err));
	obj = cJSON_ParseWithLength(dynbuf_str(&r.body), dynbuf_len(&r.body));
	snprintf(rv, sizeof(rv), "%s",
		 cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "resourceVersion")
			 ? cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "resourceVersion")->valuestring
			 : "");
	cJSON_Delete(obj);
	kube_response_free(&r);
	{
		enum kube_err e2 = kube_apply(c, one, "kube-probe", true, body, &r, err, sizeof(err));
		obj = cJSON_ParseWithLength(dynbuf_str(&r.body), dynbuf_len(&r.body));
		fact("apply", "%s %s unchanged_rv=%s", err_name(e), err_name(e2),
		     strcmp(rv, cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "resourceVersion")->valuestring) == 0 ? "yes"
																: "no");
		cJSON_Delete(obj);
		kube_response_free(&r);
	}
	free(body);

	/* delete with a wrong uid precondition (409), then with the right one */
	kube_path(one, sizeof(one), "", "v1", ns, "configmaps", "cm-0002", NULL);
	e = kube_delete(c, one, "Background", "00000000-0000-0000-0000-000000000000", NULL, &r, err, sizeof(err));
	fact("delete_wrong_uid", "%s code=%ld", err_name(e), r.st.code);
	kube_response_free(&r);
	(void)kube_request(c, "GET", one, NULL, NULL, 0, &r, err, sizeof(err));
	obj = cJSON_ParseWithLength(dynbuf_str(&r.body), dynbuf_len(&r.body));
	uid = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "uid")
		      ? cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "uid")->valuestring
		      : "";
	kube_response_free(&r);
	e = kube_delete(c, one, "Background", uid, NULL, &r, err, sizeof(err));
	fact("delete_right_uid", "%s", err_name(e));
	cJSON_Delete(obj);
	kube_response_free(&r);
	e = kube_request(c, "GET", one, NULL, NULL, 0, &r, err, sizeof(err));
	fact("get_deleted", "%s code=%ld reason=%s", err_name(e), r.st.code, r.st.reason);
	kube_response_free(&r);

	/* a name that needs escaping never reaches the server as a path */
	kube_path(one, sizeof(one), "", "v1", ns, "configmaps", "../../secrets/x", NULL);
	e = kube_request(c, "GET", one, NULL, NULL, 0, &r, err, sizeof(err));
	fact("escaped_name", "%s path=%s", err_name(e), one);
	kube_response_free(&r);
	fact("requests", "%lu", kube_client_request_count(c));
	return 0;
}

/* status NS NAME: writes a MultiArchBuild's status through the status subresource */
static int run_status(struct kube_client *c, const char *ns, const char *name)
{
	char path[KUBE_PATH_MAX], err[KUBE_ERRBUF_SIZE];
	struct kube_response r;
	enum kube_err e;
	static const char patch[] = "{\"status\":{\"phase\":\"Building\",\"observedGeneration\":1}}";

	kube_path(path, sizeof(path), "multiarch.dev", "v1alpha1", ns, "multiarchbuilds", name, "status");
	e = kube_request(c, "PATCH", path, KUBE_CT_MERGE_PATCH, patch, strlen(patch), &r, err, sizeof(err));
	fact("status_patch", "%s", err_name(e));
	kube_response_free(&r);
	return e == KUBE_OK ? 0 : 1;
}

struct watch_counts {
	unsigned adds, mods, dels, replaces;
	char names[4096][32];
	unsigned name_count;
};

static void seen(struct watch_counts *w, const cJSON *obj)
{
	const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name");
	if (!cJSON_IsString(n))
		return;
	for (unsigned i = 0; i < w->name_count; i++)
		if (strcmp(w->names[i], n->valuestring) == 0)
			return;
	if (w->name_count < 4096)
		snprintf(w->names[w->name_count++], 32, "%s", n->valuestring);
}

static void on_replace_begin(void *ctx)
{
	struct watch_counts *w = ctx;
	w->replaces++;
	printf("event=LIST\n");
	fflush(stdout);
}

static void on_object(void *ctx, enum kube_event_type type, const cJSON *obj)
{
	struct watch_counts *w = ctx;
	const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name");
	static const char *types[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

	if (type == KUBE_EV_ADDED)
		w->adds++;
	else if (type == KUBE_EV_MODIFIED)
		w->mods++;
	else if (type == KUBE_EV_DELETED)
		w->dels++;
	seen(w, obj);
	printf("event=%s %s\n", types[type], cJSON_IsString(n) ? n->valuestring : "?");
	fflush(stdout);
}

/* reflect NS SECONDS [START_RV]: runs a reflector on NS's configmaps until SECONDS pass */
static int run_reflect(struct kube_client *c, const char *ns, unsigned seconds, const char *start_rv)
{
	static struct watch_counts w;
	static const struct kube_reflector_handlers handlers = {on_replace_begin, on_object, NULL, NULL};
	struct kube_reflector r;
	char path[KUBE_PATH_MAX], err[KUBE_ERRBUF_SIZE];

	memset(&r, 0, sizeof(r));
	kube_path(path, sizeof(path), "", "v1", ns, "configmaps", NULL, NULL);
	r.client = c;
	r.path = path;
	r.handlers = &handlers;
	r.ctx = &w;
	r.stop = &stop_flag;
	r.watch_min_s = 20;
	if (start_rv)
		snprintf(r.rv, sizeof(r.rv), "%s", start_rv);
	signal(SIGALRM, on_alarm);
	alarm(seconds);
	kube_reflector_run(&r, err, sizeof(err));
	fact("reflector", "lists=%u watches=%u gone=%u failures=%u distinct=%u adds=%u mods=%u dels=%u", atomic_load(&r.lists),
	     atomic_load(&r.watches), atomic_load(&r.gone), atomic_load(&r.failures), w.name_count, w.adds, w.mods, w.dels);
	return 0;
}

/* lease NS NAME IDENTITY try|release */
static int run_lease(struct kube_client *c, const char *ns, const char *name, const char *identity, const char *what)
{
	struct kube_lease_record rec;
	struct kube_lease_observation seen = {{0}, 0};
	char err[KUBE_ERRBUF_SIZE];
	bool held = false;
	enum kube_err e;

	if (strcmp(what, "release") == 0) {
		e = kube_lease_release(c, ns, name, identity, err, sizeof(err));
		fact("release", "%s", err_name(e));
		return 0;
	}
	e = kube_lease_try(c, ns, name, identity, 15, &held, &rec, &seen, err, sizeof(err));
	fact("lease", "%s held=%s holder=%s transitions=%ld", err_name(e), held ? "yes" : "no", rec.holder, rec.transitions);
	return 0;
}

/* event NS CONFIGMAP: records an event about a configmap */
static int run_event(struct kube_client *c, const char *ns, const char *name)
{
	struct kube_object_ref ref = {"v1", "ConfigMap", ns, name, NULL};
	char err[KUBE_ERRBUF_SIZE];
	enum kube_err e = kube_event_record(c, &ref, NULL, "Normal", "ProbeTested", "Probe", "the kube client recorded this event",
					    "kube-probe", "probe-1", err, sizeof(err));
	fact("event", "%s", err_name(e));
	if (e)
		fprintf(stderr, "%s\n", err);
	return 0;
}

struct change_counts {
	atomic_int changes;
	atomic_int deletions;
};

static void on_change(void *ctx, const struct ctl_obj *obj, bool deleted)
{
	struct change_counts *cc = ctx;

	atomic_fetch_add(deleted ? &cc->deletions : &cc->changes, 1);
	printf("change=%s %s\n", deleted ? "deleted" : "updated", obj->key);
	fflush(stdout);
}

/* informer NS SECONDS: runs an informer on NS's configmaps; prints sync, changes, and the store at the end */
static int run_informer(struct kube_client *c, const char *ns, unsigned seconds)
{
	static struct ctl_informer inf;
	static struct change_counts cc;
	struct ctl_obj *o;
	cJSON *tree = NULL;
	bool synced;

	memset(&inf, 0, sizeof(inf));
	inf.client = c;
	inf.form = CTL_STORE_TEXT;
	{
		char path[KUBE_PATH_MAX];
		kube_path(path, sizeof(path), "", "v1", ns, "configmaps", NULL, NULL);
		if (!ctl_informer_add_source(&inf, path, ns))
			return 1;
	}
	inf.on_change = on_change;
	inf.ctx = &cc;
	inf.watch_min_s = 20;
	if (!ctl_informer_start(&inf))
		return 1;
	synced = ctl_informer_wait_synced(&inf, 30, NULL);
	fact("synced", "%s store=%zu", synced ? "yes" : "no", ctl_store_len(inf.store));
	sleep(seconds);
	o = ctl_store_get(inf.store, "probe-informer/changed");
	if (o)
		tree = ctl_obj_parse(o);
	fact("store", "len=%zu changed_v=%s", ctl_store_len(inf.store),
	     tree ? cJSON_GetObjectItem(cJSON_GetObjectItem(tree, "data"), "v")->valuestring : "(none)");
	fact("managed_fields_trimmed", "%s",
	     tree && !cJSON_GetObjectItem(cJSON_GetObjectItem(tree, "metadata"), "managedFields") ? "yes" : "no");
	cJSON_Delete(tree);
	ctl_obj_release(o);
	ctl_informer_stop(&inf);
	fact("informer", "changes=%d deletions=%d", atomic_load(&cc.changes), atomic_load(&cc.deletions));
	return 0;
}

/* One thread of run_parallel: creates its share of ConfigMaps one after another. */
struct parallel_share {
	struct kube_client *c;
	const char *ns;
	unsigned thread, count;
	atomic_uint *created;
};

static void *create_share(void *arg)
{
	struct parallel_share *p = arg;
	char path[KUBE_PATH_MAX], err[KUBE_ERRBUF_SIZE], name[64];
	struct kube_response r;

	kube_path(path, sizeof(path), "", "v1", p->ns, "configmaps", NULL, NULL);
	for (unsigned i = 0; i < p->count; i++) {
		char *body;
		snprintf(name, sizeof(name), "par-%02u-%03u", p->thread, i);
		body = configmap(p->ns, name, "0");
		if (body && kube_request(p->c, "POST", path, KUBE_CT_JSON, body, strlen(body), &r, err, sizeof(err)) == KUBE_OK)
			atomic_fetch_add(p->created, 1);
		else
			fprintf(stderr, "create %s: %s\n", name, err);
		free(body);
		kube_response_free(&r);
	}
	return NULL;
}

/* parallel NS THREADS N: THREADS threads create N ConfigMaps each at once; how many connections carried them */
static int run_parallel(struct kube_client *c, const char *ns, unsigned threads, unsigned n)
{
	struct parallel_share shares[64];
	pthread_t ids[64];
	atomic_uint created = 0;
	struct kube_mux_stats st;
	unsigned started = 0;

	for (unsigned t = 0; t < threads && t < 64; t++) {
		shares[t] = (struct parallel_share){c, ns, t, n, &created};
		if (pthread_create(&ids[t], NULL, create_share, &shares[t]) != 0)
			break;
		started++;
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(ids[t], NULL);
	kube_client_mux_stats(c, &st);
	fact("parallel", "created=%u transfers=%llu connections=%llu peak=%u", atomic_load(&created), st.transfers, st.connections,
	     st.in_flight_peak);
	return atomic_load(&created) == threads * n ? 0 : 1;
}

/* get-every PATH COUNT SECONDS: GETs path COUNT times, SECONDS apart (to watch credentials rotate) */
static int run_get_every(struct kube_client *c, const char *path, unsigned count, unsigned seconds)
{
	char err[KUBE_ERRBUF_SIZE], key[32];
	struct kube_response r;

	for (unsigned i = 0; i < count; i++) {
		enum kube_err e = kube_request(c, "GET", path, NULL, NULL, 0, &r, err, sizeof(err));
		snprintf(key, sizeof(key), "get%u", i + 1);
		fact(key, "%s", err_name(e));
		kube_response_free(&r);
		if (i + 1 < count)
			sleep(seconds);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kube_config cfg;
	struct kube_client *c;
	struct kube_client_options opts;
	char err[KUBE_ERRBUF_SIZE];
	int rc = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: kube-probe configmaps NS N | status NS NAME | reflect NS SECONDS [RV] | lease NS NAME ID "
				"try|release | event NS NAME | get-every PATH COUNT SECONDS | informer NS SECONDS | list PATH | parallel "
				"NS THREADS N\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (kube_config_load(NULL, NULL, &cfg, err, sizeof(err)) != KUBE_OK) {
		fprintf(stderr, "kube-probe: %s\n", err);
		return 1;
	}
	kube_client_options_init(&opts);
	{
		const char *body_max = getenv("KUBE_PROBE_BODY_MAX"), *pages_max = getenv("KUBE_PROBE_LIST_PAGES_MAX");
		if (body_max)
			opts.body_max = (size_t)strtoul(body_max, NULL, 10);
		if (pages_max)
			opts.list_pages_max = (unsigned)strtoul(pages_max, NULL, 10);
	}
	if (kube_client_new(&cfg, &opts, &c, err, sizeof(err)) != KUBE_OK) {
		fprintf(stderr, "kube-probe: %s\n", err);
		kube_config_free(&cfg);
		return 1;
	}
	if (strcmp(argv[1], "configmaps") == 0 && argc == 4)
		rc = run_configmaps(c, argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	else if (strcmp(argv[1], "status") == 0 && argc == 4)
		rc = run_status(c, argv[2], argv[3]);
	else if (strcmp(argv[1], "reflect") == 0 && (argc == 4 || argc == 5))
		rc = run_reflect(c, argv[2], (unsigned)strtoul(argv[3], NULL, 10), argc == 5 ? argv[4] : NULL);
	else if (strcmp(argv[1], "lease") == 0 && argc == 6)
		rc = run_lease(c, argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(argv[1], "informer") == 0 && argc == 4)
		rc = run_informer(c, argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	else if (strcmp(argv[1], "get-every") == 0 && argc == 5)
		rc = run_get_every(c, argv[2], (unsigned)strtoul(argv[3], NULL, 10), (unsigned)strtoul(argv[4], NULL, 10));
	else if (strcmp(argv[1], "list") == 0 && argc == 3)
		rc = run_list(c, argv[2]);
	else if (strcmp(argv[1], "parallel") == 0 && argc == 5)
		rc = run_parallel(c, argv[2], (unsigned)strtoul(argv[3], NULL, 10), (unsigned)strtoul(argv[4], NULL, 10));
	else if (strcmp(argv[1], "event") == 0 && argc == 4)
		rc = run_event(c, argv[2], argv[3]);
	else
		fprintf(stderr, "kube-probe: unknown or incomplete command\n");
	kube_client_free(c);
	kube_config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
