/* Kubernetes Events (events.k8s.io/v1) about an object, as kubectl describe shows them. */
#include "kube/events.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/timefmt.h"
#include "util/banned.h"

#define EVENT_NOTE_MAX 1024

enum kube_err kube_event_record(struct kube_client *c, const struct kube_object_ref *regarding, const struct timespec *when,
				const char *type, const char *reason, const char *action, const char *note, const char *controller,
				const char *instance, char *errbuf, size_t errlen)
{
	char path[KUBE_PATH_MAX], name[320], now[RFC3339_MAX], cut[EVENT_NOTE_MAX + 1];
	struct kube_response resp;
	struct timespec ts;
	cJSON *o, *meta, *ref;
	char *body;
	enum kube_err err;

	if (when)
		ts = *when;
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	/* unique and sortable, like client-go's name.hex(nanoseconds) */
	snprintf(name, sizeof(name), "%.200s.%llx", regarding->name,
		 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec);
	snprintf(cut, sizeof(cut), "%s", note);
	rfc3339_micro_format(&ts, now, sizeof(now));
	o = cJSON_CreateObject();
	if (!o)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	cJSON_AddStringToObject(o, "apiVersion", "events.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", "Event");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", regarding->ns);
	cJSON_AddStringToObject(o, "eventTime", now);
	cJSON_AddStringToObject(o, "reportingController", controller);
	cJSON_AddStringToObject(o, "reportingInstance", instance);
	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "note", cut);
	ref = cJSON_AddObjectToObject(o, "regarding");
	cJSON_AddStringToObject(ref, "apiVersion", regarding->api_version);
	cJSON_AddStringToObject(ref, "kind", regarding->kind);
	cJSON_AddStringToObject(ref, "namespace", regarding->ns);
	cJSON_AddStringToObject(ref, "name", regarding->name);
	if (regarding->uid)
		cJSON_AddStringToObject(ref, "uid", regarding->uid);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!body)
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	if (!kube_path(path, sizeof(path), "events.k8s.io", "v1", regarding->ns, "events", NULL, NULL)) {
		free(body);
		return kube_fail(errbuf, errlen, KUBE_E_INVALID, "event path is too long");
	}
	err = kube_request(c, "POST", path, KUBE_CT_JSON, body, strlen(body), &resp, errbuf, errlen);
	free(body);
	kube_response_free(&resp);
	return err;
}
