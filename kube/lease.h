/* Leader-election leases (coordination.k8s.io/v1): the decision rule and the API calls that take, renew and release one. */
#ifndef MAC_KUBE_LEASE_H
#define MAC_KUBE_LEASE_H

#include <stdbool.h>
#include <time.h>

#include "kube/client.h"
#include "kube/error.h"

#define KUBE_IDENTITY_MAX 256

/* What a Lease object says. holder is "" when nobody holds it. */
struct kube_lease_record {
	char holder[KUBE_IDENTITY_MAX];
	long duration_s;
	time_t renew_time;     /* 0 when unset */
	char acquire_time[48]; /* as the server wrote it (a MicroTime), kept on renewal; "" when unset */
	long transitions;
	char resource_version[64];
	bool exists;
};

enum kube_lease_action {
	KUBE_LEASE_CREATE, /* no Lease: create it, holding it */
	KUBE_LEASE_RENEW,  /* we hold it: renew */
	KUBE_LEASE_TAKE,   /* free or expired: take it over */
	KUBE_LEASE_WAIT,   /* another holder's lease is still valid */
};

/*
 * What a candidate has seen of a lease, on its own monotonic clock (as
 * client-go's observedTime): the version of the record and when it first saw
 * it. Clocks of other machines never enter: a holder's renewTime is theirs.
 * Zero it before the first try.
 */
struct kube_lease_observation {
	char resource_version[64]; /* "" before the first look */
	double seen_at;            /* monotonic seconds when this version was first seen */
};

/* Records rec in seen at monotonic time now: a new version restarts the clock. */
void kube_lease_observe(struct kube_lease_observation *seen, const struct kube_lease_record *rec, double now);

/*
 * The decision rule, without I/O: what identity should do at monotonic time
 * now given the record and what it has seen of it. Another holder's lease is
 * expired once it has not changed for duration_s since this candidate first
 * saw it as it is.
 */
enum kube_lease_action kube_lease_decide(const struct kube_lease_record *rec, const char *identity,
					 const struct kube_lease_observation *seen, double now);

/* Seconds on the monotonic clock (the clock of kube_lease_observe() and kube_lease_decide()). */
double kube_lease_now(void);

/*
 * One attempt to acquire or renew namespace/name for identity: GET, decide,
 * then create or update with the read resourceVersion (a concurrent writer
 * makes it fail with KUBE_E_CONFLICT). Sets *held to whether identity holds
 * the lease afterwards; rec receives the record as last seen, and seen (kept
 * by the caller across tries) what this candidate has observed of it.
 */
enum kube_err kube_lease_try(struct kube_client *c, const char *ns, const char *name, const char *identity, long duration_s, bool *held,
			     struct kube_lease_record *rec, struct kube_lease_observation *seen, char *errbuf, size_t errlen);

/* Gives the lease up if identity holds it (holder cleared, so another replica takes over at once). */
enum kube_err kube_lease_release(struct kube_client *c, const char *ns, const char *name, const char *identity, char *errbuf,
				 size_t errlen);

#endif
