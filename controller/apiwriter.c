/* The controller's writes to the API server: creates, deletes and status patches from a reconcile, each checked
 * for leadership first and sent without waiting; their answers classified, written through to the caches and filed
 * for the key's next run (inflight.h); and the Events, logged and queued for the event sink's writers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/controllerstate.h"
#include "controller/labels.h"
#include "kube/events.h"
#include "util/jsonget.h"
#include "util/strmap.h"
#include "util/text.h"
#include "util/banned.h"

static bool writable(struct ctl_controller *c, char *err, size_t errlen)
{
	if (ctl_is_leader(c))
		return true;
	snprintf(err, errlen, "not the leader (lease %s/%s not held)", c->opts.lease_namespace, c->opts.lease_name);
	return false;
}

static enum ctl_write classify(enum kube_err e, const struct kube_response *resp, char *err, size_t errlen, const char *detail)
{
	snprintf(err, errlen, "%s", resp->st.message[0] ? resp->st.message : detail);
	switch (e) {
	case KUBE_OK:
		return CTL_WRITE_OK;
	case KUBE_E_CONFLICT:
		return strcmp(resp->st.reason, "AlreadyExists") == 0 ? CTL_WRITE_EXISTS : CTL_WRITE_CONFLICT;
	case KUBE_E_NOT_FOUND:
		return CTL_WRITE_GONE;
	case KUBE_E_UNPROCESSABLE:
		return CTL_WRITE_REFUSED;
	case KUBE_E_HTTP:
		return resp->status == 400 ? CTL_WRITE_REFUSED : CTL_WRITE_FAILED;
	default:
		return CTL_WRITE_FAILED;
	}
}

/* Puts an API answer (a pod, a Job, a build) into its store unless the store already holds a newer version. */
static void write_through(struct ctl_controller *c, int which, const struct kube_response *resp)
{
	cJSON *obj = cJSON_ParseWithLength(dynbuf_str(&resp->body), dynbuf_len(&resp->body));
	cJSON *slim;
	struct ctl_obj *o;

	if (!obj || !cJSON_GetObjectItemCaseSensitive(obj, "metadata")) {
		cJSON_Delete(obj);
		return;
	}
	slim = c->informers[which].slim ? c->informers[which].slim(obj) : cJSON_Duplicate(obj, true);
	cJSON_Delete(obj);
	if (slim && (o = ctl_store_put_newer(c->informers[which].store, slim)))
		ctl_obj_release(o);
}

static bool object_path(char *path, size_t len, const char *kind, const cJSON *object, bool named)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(object, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	bool job = strcmp(kind, "Job") == 0;
	const char *resource = job ? "jobs" : strcmp(kind, "ConfigMap") == 0 ? "configmaps" : "pods";

	if (!cJSON_IsString(ns) || !cJSON_IsString(name))
		return false;
	return kube_path(path, len, job ? "batch" : "", "v1", ns->valuestring, resource, named ? name->valuestring : NULL, NULL);
}

/* A write sent and not yet answered: what its answer is filed under, and where it goes. The loop's until answered. */
struct sent_write {
	struct ctl_controller *c;
	char key[CTL_KEY_MAX];
	char what[CTL_WRITE_WHAT_MAX];
	enum ctl_write_kind kind;
	int informer; /* the cache its answer is written through to; -1 for none */
	cJSON *build; /* a status write's build and new status, for the metrics; NULL otherwise */
	cJSON *status;
};

static void sent_write_free(struct sent_write *w)
{
	cJSON_Delete(w->build);
	cJSON_Delete(w->status);
	free(w);
}

/* The answer to a sent write, on the transfer loop's thread: classified, written through, filed; the key runs again
 * when it was the last of its run. */
static void write_answered(void *ctx, enum kube_err e, const struct kube_response *resp, const char *detail)
{
	struct sent_write *w = ctx;
	struct ctl_controller *c = w->c;
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res = classify(e, resp, err, sizeof(err), detail);

	if (w->kind == CTL_WRITE_KIND_DELETE && res == CTL_WRITE_CONFLICT) /* the uid precondition failed: that one is gone */
		res = CTL_WRITE_GONE;
	if (res == CTL_WRITE_OK && w->informer >= 0)
		write_through(c, w->informer, resp);
	if (res == CTL_WRITE_OK && w->kind == CTL_WRITE_KIND_STATUS) {
		if (c->opts.metrics && w->build && w->status)
			ctl_metrics_status_written(c->opts.metrics, w->build, w->status);
		ctl_httpd_notify(c->httpd);
	}
	if (ctl_inflight_answered(c->inflight, w->key, w->what, res, err, w->kind))
		ctl_queue_resume(c->queue, w->key);
	sent_write_free(w);
}

/*
 * Sends a write of run's key without waiting, unless an earlier run of the key's session has its answer (then that
 * answer, as the write would have come to). CTL_WRITE_PENDING once sent; CTL_WRITE_FAILED (err says why) when it
 * could not be. w is the caller's until handed over here (freed on every path).
 */
static enum ctl_write send_write(struct ctl_write_run *run, struct sent_write *w, const char *method, const char *path,
				 const char *content_type, const char *body, char *err, size_t errlen)
{
	struct ctl_controller *c = run->c;
	char detail[KUBE_ERRBUF_SIZE];
	bool status = w->kind == CTL_WRITE_KIND_STATUS; /* w is the loop's once sent: not read after */
	enum ctl_write res;

	if (ctl_inflight_lookup(c->inflight, run->key, w->what, &res, err, errlen)) {
		sent_write_free(w);
		return res;
	}
	w->c = c;
	text_copy(w->key, sizeof(w->key), run->key);
	if (!ctl_inflight_sent(c->inflight, run->key, status)) {
		sent_write_free(w);
		snprintf(err, errlen, "out of memory");
		return CTL_WRITE_FAILED;
	}
	if (kube_request_start(c->client, method, path, content_type, body, strlen(body), write_answered, w, detail, sizeof(detail)) !=
	    KUBE_OK) {
		snprintf(err, errlen, "%s", detail);
		ctl_inflight_answered(c->inflight, run->key, w->what, CTL_WRITE_FAILED, detail, w->kind); /* undoes the count */
		sent_write_free(w);
		return CTL_WRITE_FAILED;
	}
	run->sent++;
	run->status_sent = run->status_sent || status;
	return CTL_WRITE_PENDING;
}

/* A new record for a write of kind, filed under "METHOD path" and the extra text; NULL when out of memory. */
static struct sent_write *new_write(enum ctl_write_kind kind, int informer, const char *method, const char *path, const char *extra)
{
	struct sent_write *w = calloc(1, sizeof(*w));

	if (w) {
		w->kind = kind;
		w->informer = informer;
		text_format(w->what, sizeof(w->what), "%s %s %s", method, path, extra);
	}
	return w;
}

static enum ctl_write api_create(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_write_run *run = ctx;
	char path[KUBE_PATH_MAX];
	struct sent_write *w = NULL;
	char *body = NULL;
	enum ctl_write res;

	if (!writable(run->c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!object_path(path, sizeof(path), kind, object, false) || !kube_query(path, sizeof(path), "fieldManager", CTL_MANAGER) ||
	    !(body = cJSON_PrintUnformatted(object)) ||
	    !(w = new_write(CTL_WRITE_KIND_CREATE,
			    strcmp(kind, "Pod") == 0   ? INF_PODS
			    : strcmp(kind, "Job") == 0 ? INF_JOBS
						       : -1,
			    "POST", path, json_str_at(object, "metadata", "name")))) {
		free(body);
		snprintf(err, errlen, "cannot encode the %s", kind);
		return CTL_WRITE_FAILED;
	}
	res = send_write(run, w, "POST", path, KUBE_CT_JSON, body, err, errlen);
	free(body);
	return res;
}

/* Holds the delete of object (kind) until the run's status write, in flight, is answered: the next run sends it. */
static enum ctl_write hold_delete(struct ctl_write_run *run, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_held_delete *d;

	if (run->held.delete_count == CTL_HELD_DELETES_MAX) {
		snprintf(err, errlen, "more than %d deletes wait for one status write", CTL_HELD_DELETES_MAX);
		return CTL_WRITE_FAILED;
	}
	d = &run->held.deletes[run->held.delete_count];
	text_copy(d->kind, sizeof(d->kind), kind);
	if (!(d->object = cJSON_PrintUnformatted(object))) {
		snprintf(err, errlen, "out of memory");
		return CTL_WRITE_FAILED;
	}
	run->held.delete_count++;
	return CTL_WRITE_PENDING;
}

static enum ctl_write api_remove(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_write_run *run = ctx;
	const char *uid = json_str_at(object, "metadata", "uid");
	char path[KUBE_PATH_MAX];
	struct sent_write *w = NULL;
	char *options = NULL;
	enum ctl_write res;

	if (!writable(run->c, err, errlen))
		return CTL_WRITE_FAILED;
	if (run->status_sent) /* a delete after the status write waits for it: the status records why */
		return hold_delete(run, kind, object, err, errlen);
	if (!object_path(path, sizeof(path), kind, object, true) || !(options = kube_delete_options("Background", uid, NULL)) ||
	    !(w = new_write(CTL_WRITE_KIND_DELETE, strcmp(kind, "Pod") == 0 ? INF_PODS : INF_JOBS, "DELETE", path, uid ? uid : ""))) {
		free(options);
		snprintf(err, errlen, "cannot name the %s", kind);
		return CTL_WRITE_FAILED;
	}
	res = send_write(run, w, "DELETE", path, KUBE_CT_JSON, options, err, errlen);
	free(options);
	return res;
}

/* The merge patch that makes status exactly new_status: members of the old status that are gone become null. */
static cJSON *status_patch(const cJSON *build, const cJSON *new_status)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(build, "status"), *member;
	cJSON *patch = cJSON_CreateObject(), *m, *st = cJSON_Duplicate(new_status, true);

	if (!patch || !st || !(m = cJSON_AddObjectToObject(patch, "metadata")) || !cJSON_IsString(rv) ||
	    !cJSON_AddStringToObject(m, "resourceVersion", rv->valuestring))
		goto fail;
	cJSON_ArrayForEach(member, old) {
		if (!cJSON_GetObjectItemCaseSensitive(st, member->string) && !cJSON_AddNullToObject(st, member->string))
			goto fail;
	}
	if (!cJSON_AddItemToObject(patch, "status", st))
		goto fail;
	return patch;
fail:
	cJSON_Delete(st);
	cJSON_Delete(patch);
	return NULL;
}

/* The record of a status write, filed under its path and the hash of the status it writes (a different status is
 * another write), with the build and status copied for the metrics. NULL when out of memory. */
static struct sent_write *status_write(const struct ctl_controller *c, const char *path, const cJSON *build, const cJSON *status)
{
	char *text = cJSON_PrintUnformatted(status), hash[32];
	struct sent_write *w = NULL;

	if (text) {
		snprintf(hash, sizeof(hash), "#%016llx", (unsigned long long)strmap_hash(text));
		w = new_write(CTL_WRITE_KIND_STATUS, INF_BUILDS, "PATCH", path, hash);
	}
	free(text);
	if (w && c->opts.metrics && (!(w->build = cJSON_Duplicate(build, true)) || !(w->status = cJSON_Duplicate(status, true)))) {
		sent_write_free(w);
		w = NULL;
	}
	return w;
}

static enum ctl_write api_status(void *ctx, const cJSON *build, const cJSON *status, char *err, size_t errlen)
{
	struct ctl_write_run *run = ctx;
	const char *ns = json_str_at(build, "metadata", "namespace"), *name = json_str_at(build, "metadata", "name");
	char path[KUBE_PATH_MAX];
	struct sent_write *w = NULL;
	cJSON *patch = NULL;
	char *body = NULL;
	enum ctl_write res;

	if (!writable(run->c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!ns || !name || !kube_path(path, sizeof(path), CTL_API_GROUP, CTL_API_VERSION, ns, CTL_RESOURCE, name, "status") ||
	    !kube_query(path, sizeof(path), "fieldManager", CTL_MANAGER) || !(patch = status_patch(build, status)) ||
	    !(body = cJSON_PrintUnformatted(patch)) || !(w = status_write(run->c, path, build, status))) {
		cJSON_Delete(patch);
		free(body);
		snprintf(err, errlen, "cannot encode the status");
		return CTL_WRITE_FAILED;
	}
	cJSON_Delete(patch);
	res = send_write(run, w, "PATCH", path, KUBE_CT_MERGE_PATCH, body, err, errlen);
	free(body);
	return res;
}

bool ctl_api_write_event(void *ctx, const struct ctl_event *ev, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	const struct kube_object_ref ref = {CTL_API_GROUP "/" CTL_API_VERSION, CTL_KIND, ev->ns, ev->name, ev->uid};

	return writable(c, err, errlen) &&
	       kube_event_record(c->client, &ref, &ev->when, ev->warning ? "Warning" : "Normal", ev->reason, "Reconcile", ev->note,
				 CTL_API_GROUP "/" CTL_MANAGER, c->opts.identity, err, errlen) == KUBE_OK;
}

void ctl_api_event_failed(void *ctx, const struct ctl_event *ev, const char *err)
{
	struct ctl_controller *c = ctx;
	const struct ctl_log_field fields[] = {{"namespace", ev->ns}, {"build", ev->name}, {"reason", ev->reason}, {"error", err}};

	ctl_log(c, CTL_LOG_WARN, "cannot record event", fields, CTL_FIELDS(fields));
}

/* Logs an Event of the build ns/name (uid) and queues it, with the time it is posted, for the event writers. */
static void post_event(struct ctl_controller *c, const char *ns, const char *name, const char *uid, bool warning, const char *reason,
		       const char *note)
{
	struct ctl_event ev = {{0, 0}, ns, name, uid ? uid : "", warning, reason, note};
	const struct ctl_log_field fields[] = {{"namespace", ns}, {"build", name}, {"reason", reason}, {"note", note}};

	clock_gettime(CLOCK_REALTIME, &ev.when);
	ctl_log(c, warning ? CTL_LOG_WARN : CTL_LOG_INFO, warning ? "warning event" : "event", fields, CTL_FIELDS(fields));
	ctl_httpd_notify(c->httpd);
	if (!ctl_event_sink_post(c->events, &ev))
		ctl_log(c, CTL_LOG_DEBUG, "event dropped: the queue of events to write is full", fields, 3);
}

void ctl_api_post_held(void *ctx, const char *key, const char *uid, const struct ctl_held_event *ev)
{
	char ns[CTL_KEY_MAX], name[CTL_KEY_MAX];

	ctl_key_split(key, ns, sizeof(ns), name, sizeof(name));
	post_event(ctx, ns, name, uid, ev->warning, ev->reason, ev->note);
}

/* An Event of the run's build: posted at once, or, when the run's status write is in flight, held with the run until
 * that write is answered (an Event tells of a status the API server has). The worker never waits. */
static void api_event(void *ctx, const cJSON *build, bool warning, const char *reason, const char *note)
{
	struct ctl_write_run *run = ctx;
	const char *ns = json_str_at(build, "metadata", "namespace"), *name = json_str_at(build, "metadata", "name");
	struct ctl_held_event *held;

	if (!ns || !name)
		return;
	if (!run->status_sent) {
		post_event(run->c, ns, name, json_str_at(build, "metadata", "uid"), warning, reason, note);
		return;
	}
	if (run->held.event_count == CTL_HELD_EVENTS_MAX)
		return;
	held = &run->held.events[run->held.event_count++];
	held->warning = warning;
	text_copy(held->reason, sizeof(held->reason), reason);
	text_copy(held->note, sizeof(held->note), note);
}

/* Reads a child (a ConfigMap: the one kind the caches do not hold) with a GET, waiting for it: a rare read, made only
 * when a create found the name taken. */
static enum ctl_write api_read(void *ctx, const char *kind, const char *ns, const char *name, cJSON **out, char *err, size_t errlen)
{
	struct ctl_controller *c = ((struct ctl_write_run *)ctx)->c;
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	enum kube_err e;
	enum ctl_write res;

	*out = NULL;
	if (strcmp(kind, "ConfigMap") != 0 || !kube_path(path, sizeof(path), "", "v1", ns, "configmaps", name, NULL)) {
		snprintf(err, errlen, "cannot name the %s", kind);
		return CTL_WRITE_FAILED;
	}
	e = kube_request(c->client, "GET", path, NULL, NULL, 0, &resp, detail, sizeof(detail));
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_OK && !(*out = cJSON_ParseWithLength(dynbuf_str(&resp.body), dynbuf_len(&resp.body)))) {
		snprintf(err, errlen, "the %s read is not JSON", kind);
		res = CTL_WRITE_FAILED;
	}
	kube_response_free(&resp);
	return res;
}

void ctl_api_writer(struct ctl_write_run *run, struct ctl_writer *w)
{
	w->create = api_create;
	w->remove = api_remove;
	w->write_status = api_status;
	w->event = api_event;
	w->read = api_read;
	w->ctx = run;
}
