/* Leader-election leases (coordination.k8s.io/v1): the decision rule and the API calls that take, renew and release one. */
#include "kube/lease.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonnum.h"
#include "util/timefmt.h"
#include "util/banned.h"

double kube_lease_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kube_lease_observe(struct kube_lease_observation *seen, const struct kube_lease_record *rec, double now)
{
	if (seen->resource_version[0] && strcmp(seen->resource_version, rec->resource_version) == 0)
		return;
	snprintf(seen->resource_version, sizeof(seen->resource_version), "%s", rec->resource_version);
	seen->seen_at = now;
}

enum kube_lease_action kube_lease_decide(const struct kube_lease_record *rec, const char *identity,
					 const struct kube_lease_observation *seen, double now)
{
	bool seen_as_is = seen->resource_version[0] && strcmp(seen->resource_version, rec->resource_version) == 0;

	if (!rec->exists)
		return KUBE_LEASE_CREATE;
	if (strcmp(rec->holder, identity) == 0)
		return KUBE_LEASE_RENEW;
	if (!rec->holder[0] || rec->renew_time == 0 || (seen_as_is && now - seen->seen_at > (double)rec->duration_s))
		return KUBE_LEASE_TAKE;
	return KUBE_LEASE_WAIT;
}

static void read_record(const cJSON *lease, struct kube_lease_record *rec)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(lease, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
	const cJSON *v;
	time_t when;

	memset(rec, 0, sizeof(*rec));
	rec->exists = true;
	v = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	if (cJSON_IsString(v))
		snprintf(rec->resource_version, sizeof(rec->resource_version), "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
	if (cJSON_IsString(v))
		snprintf(rec->holder, sizeof(rec->holder), "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
	json_whole_number(v, 0, INT32_MAX, &rec->duration_s);
	v = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
	json_whole_number(v, 0, INT32_MAX, &rec->transitions);
	v = cJSON_GetObjectItemCaseSensitive(spec, "renewTime");
	if (cJSON_IsString(v))
		rfc3339_parse(v->valuestring, &rec->renew_time);
	v = cJSON_GetObjectItemCaseSensitive(spec, "acquireTime");
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof(rec->acquire_time) && rfc3339_parse(v->valuestring, &when))
		snprintf(rec->acquire_time, sizeof(rec->acquire_time), "%s", v->valuestring);
}

/* The Lease object for a write: holder, times as MicroTime, and the resourceVersion to update. */
static char *lease_json(const char *ns, const char *name, const char *holder, long duration_s, const char *acquire, long transitions,
			const char *rv)
{
	cJSON *o = cJSON_CreateObject(), *meta, *spec;
	char now[RFC3339_MAX], *text;

	if (!o)
		return NULL;
	rfc3339_micro_now(now, sizeof(now));
	cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", "Lease");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", ns);
	if (rv)
		cJSON_AddStringToObject(meta, "resourceVersion", rv);
	spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)duration_s);
	cJSON_AddStringToObject(spec, "acquireTime", acquire ? acquire : now);
	cJSON_AddStringToObject(spec, "renewTime", now);
	cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

enum kube_err kube_lease_try(struct kube_client *c, const char *ns, const char *name, const char *identity, long duration_s, bool *held,
			     struct kube_lease_record *rec, struct kube_lease_observation *seen, char *errbuf, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	struct kube_response resp;
	enum kube_lease_action action;
	enum kube_err err;
	cJSON *obj;
	char *body;
	double now;

	*held = false;
	memset(rec, 0, sizeof(*rec));
	if (!kube_path(path, sizeof(path), "coordination.k8s.io", "v1", ns, "leases", name, NULL))
		return kube_fail(errbuf, errlen, KUBE_E_INVALID, "lease path is too long");
	err = kube_request(c, "GET", path, NULL, NULL, 0, &resp, errbuf, errlen);
	if (err == KUBE_OK) {
		obj = cJSON_ParseWithLength(dynbuf_str(&resp.body), dynbuf_len(&resp.body));
		read_record(obj, rec);
		cJSON_Delete(obj);
	} else if (err != KUBE_E_NOT_FOUND) {
		kube_response_free(&resp);
		return err;
	}
	kube_response_free(&resp);

	now = kube_lease_now();
	kube_lease_observe(seen, rec, now);
	action = kube_lease_decide(rec, identity, seen, now);
	if (action == KUBE_LEASE_WAIT)
		return KUBE_OK;
	body = lease_json(ns, name, identity, duration_s, action == KUBE_LEASE_RENEW && rec->acquire_time[0] ? rec->acquire_time : NULL,
			  rec->transitions + (action == KUBE_LEASE_TAKE ? 1 : 0),
			  action == KUBE_LEASE_CREATE ? NULL : rec->resource_version);
	if (!body)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	if (action == KUBE_LEASE_CREATE) {
		char collection[KUBE_PATH_MAX];
		kube_path(collection, sizeof(collection), "coordination.k8s.io", "v1", ns, "leases", NULL, NULL);
		err = kube_request(c, "POST", collection, KUBE_CT_JSON, body, strlen(body), &resp, errbuf, errlen);
	} else {
		err = kube_request(c, "PUT", path, KUBE_CT_JSON, body, strlen(body), &resp, errbuf, errlen);
	}
	free(body);
	if (err == KUBE_OK) {
		obj = cJSON_ParseWithLength(dynbuf_str(&resp.body), dynbuf_len(&resp.body));
		read_record(obj, rec);
		cJSON_Delete(obj);
		*held = strcmp(rec->holder, identity) == 0;
	}
	kube_response_free(&resp);
	return err;
}

enum kube_err kube_lease_release(struct kube_client *c, const char *ns, const char *name, const char *identity, char *errbuf, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	struct kube_response resp;
	struct kube_lease_record rec;
	enum kube_err err;
	cJSON *obj;
	char *body;

	if (!kube_path(path, sizeof(path), "coordination.k8s.io", "v1", ns, "leases", name, NULL))
		return kube_fail(errbuf, errlen, KUBE_E_INVALID, "lease path is too long");
	err = kube_request(c, "GET", path, NULL, NULL, 0, &resp, errbuf, errlen);
	if (err) {
		kube_response_free(&resp);
		return err == KUBE_E_NOT_FOUND ? KUBE_OK : err;
	}
	obj = cJSON_ParseWithLength(dynbuf_str(&resp.body), dynbuf_len(&resp.body));
	read_record(obj, &rec);
	cJSON_Delete(obj);
	kube_response_free(&resp);
	if (strcmp(rec.holder, identity) != 0)
		return KUBE_OK;
	/* an empty holder with a 1 s duration: the next candidate takes it at once */
	body = lease_json(ns, name, "", 1, NULL, rec.transitions, rec.resource_version);
	if (!body)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	err = kube_request(c, "PUT", path, KUBE_CT_JSON, body, strlen(body), &resp, errbuf, errlen);
	free(body);
	kube_response_free(&resp);
	return err;
}
