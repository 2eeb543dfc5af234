/* Kubernetes Events (events.k8s.io/v1) about an object, as kubectl describe shows them. */
#ifndef MAC_KUBE_EVENTS_H
#define MAC_KUBE_EVENTS_H

#include <time.h>

#include "kube/client.h"
#include "kube/error.h"

/* The object an event is about. */
struct kube_object_ref {
	const char *api_version;
	const char *kind;
	const char *ns;
	const char *name;
	const char *uid;
};

/*
 * Records an event that happened at when (CLOCK_REALTIME; NULL: now): type
 * "Normal" or "Warning", a CamelCase reason, a human-readable note (cut at
 * 1 KiB), the action taken, and who reports it (controller name and
 * instance, e.g. the pod name).
 */
enum kube_err kube_event_record(struct kube_client *c, const struct kube_object_ref *regarding, const struct timespec *when,
				const char *type, const char *reason, const char *action, const char *note, const char *controller,
				const char *instance, char *errbuf, size_t errlen);

#endif
