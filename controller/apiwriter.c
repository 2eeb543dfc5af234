/* The controller's writes to the API server: creates, deletes and status patches from a reconcile, each checked
 * for leadership first, their answers classified for the reconciler and written through to the caches; and the
 * Events, logged at once and queued for the event sink's writers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/controllerstate.h"
#include "controller/labels.h"
#include "kube/events.h"

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

static enum ctl_write api_create(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	char *body;
	enum kube_err e;
	enum ctl_write res;

	if (!writable(c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!object_path(path, sizeof(path), kind, object, false) || !kube_query(path, sizeof(path), "fieldManager", CTL_MANAGER) ||
	    !(body = cJSON_PrintUnformatted(object))) {
		snprintf(err, errlen, "cannot encode the %s", kind);
		return CTL_WRITE_FAILED;
	}
	e = kube_request(c->client, "POST", path, KUBE_CT_JSON, body, strlen(body), &resp, detail, sizeof(detail));
	free(body);
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_OK && strcmp(kind, "ConfigMap") != 0)
		write_through(c, strcmp(kind, "Pod") == 0 ? INF_PODS : INF_JOBS, &resp);
	kube_response_free(&resp);
	return res;
}

static enum ctl_write api_remove(void *ctx, const char *kind, const cJSON *object, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(object, "metadata"), "uid");
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	enum kube_err e;
	enum ctl_write res;

	if (!writable(c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!object_path(path, sizeof(path), kind, object, true)) {
		snprintf(err, errlen, "cannot name the %s", kind);
		return CTL_WRITE_FAILED;
	}
	e = kube_delete(c->client, path, "Background", cJSON_IsString(uid) ? uid->valuestring : NULL, NULL, &resp, detail, sizeof(detail));
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_CONFLICT) /* the uid precondition failed: that object is gone already */
		res = CTL_WRITE_GONE;
	if (res == CTL_WRITE_OK)
		write_through(c, strcmp(kind, "Pod") == 0 ? INF_PODS : INF_JOBS, &resp);
	kube_response_free(&resp);
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

static enum ctl_write api_status(void *ctx, const cJSON *build, const cJSON *status, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	struct kube_response resp;
	char path[KUBE_PATH_MAX], detail[KUBE_ERRBUF_SIZE];
	cJSON *patch;
	char *body;
	enum kube_err e;
	enum ctl_write res;

	if (!writable(c, err, errlen))
		return CTL_WRITE_FAILED;
	if (!cJSON_IsString(ns) || !cJSON_IsString(name) ||
	    !kube_path(path, sizeof(path), CTL_API_GROUP, CTL_API_VERSION, ns->valuestring, CTL_RESOURCE, name->valuestring, "status") ||
	    !kube_query(path, sizeof(path), "fieldManager", CTL_MANAGER) || !(patch = status_patch(build, status))) {
		snprintf(err, errlen, "cannot encode the status");
		return CTL_WRITE_FAILED;
	}
	body = cJSON_PrintUnformatted(patch);
	cJSON_Delete(patch);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		return CTL_WRITE_FAILED;
	}
	e = kube_request(c->client, "PATCH", path, KUBE_CT_MERGE_PATCH, body, strlen(body), &resp, detail, sizeof(detail));
	free(body);
	res = classify(e, &resp, err, errlen, detail);
	if (res == CTL_WRITE_OK) {
		write_through(c, INF_BUILDS, &resp);
		if (c->opts.metrics)
			ctl_metrics_status_written(c->opts.metrics, build, status);
		ctl_httpd_notify(c->httpd);
	}
	kube_response_free(&resp);
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

/* Logs the Event at once and queues it, with the time it happened, for the event writers: the worker does not wait. */
static void api_event(void *ctx, const cJSON *build, bool warning, const char *reason, const char *note)
{
	struct ctl_controller *c = ctx;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(meta, "uid");
	struct ctl_event ev = {{0, 0}, NULL, NULL, cJSON_IsString(uid) ? uid->valuestring : "", warning, reason, note};
	struct ctl_log_field fields[] = {{"namespace", NULL}, {"build", NULL}, {"reason", reason}, {"note", note}};

	if (!cJSON_IsString(ns) || !cJSON_IsString(name))
		return;
	clock_gettime(CLOCK_REALTIME, &ev.when);
	ev.ns = fields[0].value = ns->valuestring;
	ev.name = fields[1].value = name->valuestring;
	ctl_log(c, warning ? CTL_LOG_WARN : CTL_LOG_INFO, warning ? "warning event" : "event", fields, CTL_FIELDS(fields));
	ctl_httpd_notify(c->httpd);
	if (!ctl_event_sink_post(c->events, &ev))
		ctl_log(c, CTL_LOG_DEBUG, "event dropped: the queue of events to write is full", fields, 3);
}

/* Reads a child (a ConfigMap: the one kind the caches do not hold) with a GET. */
static enum ctl_write api_read(void *ctx, const char *kind, const char *ns, const char *name, cJSON **out, char *err, size_t errlen)
{
	struct ctl_controller *c = ctx;
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

void ctl_api_writer(struct ctl_controller *c, struct ctl_writer *w)
{
	w->create = api_create;
	w->remove = api_remove;
	w->write_status = api_status;
	w->event = api_event;
	w->read = api_read;
	w->ctx = c;
}
