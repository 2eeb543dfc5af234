/* Leader election over a coordination.k8s.io Lease: acquire, renew in the background, know at every write
 * whether the lease is still ours, and give it up on shutdown. */
#ifndef MAC_CONTROLLER_LEADER_H
#define MAC_CONTROLLER_LEADER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "kube/client.h"
#include "kube/lease.h"

struct ctl_leader {
	/* set before ctl_leader_acquire() */
	struct kube_client *client;
	char ns[64];
	char name[64];
	char identity[KUBE_IDENTITY_MAX];
	long lease_duration_s; /* 15 */
	long renew_deadline_s; /* 10: a leader that could not renew for this long stops writing */
	long retry_period_s;   /* 2: between attempts, and between renewals */

	/* owned state */
	atomic_llong renewed_ms;            /* monotonic time of the last successful renewal; 0 when not leader */
	struct kube_lease_observation seen; /* the lease as this replica last saw it, on its own clock */
	atomic_bool lost;
	atomic_int stop;
	pthread_t thread;
	bool renewing;
	char error[KUBE_ERRBUF_SIZE];
};

/* Fills the defaults (15 s, 10 s, 2 s). */
void ctl_leader_init(struct ctl_leader *l);

/* Tries every retry period until the lease is ours (true) or *stop is set (false). */
bool ctl_leader_acquire(struct ctl_leader *l, const atomic_int *stop);

/* Starts renewing in a thread; l->lost is set once a renewal deadline passes without success. Returns false when no thread. */
bool ctl_leader_keep(struct ctl_leader *l);

/* Whether writes are allowed now: the lease was renewed within the renew deadline and not lost. */
bool ctl_leader_valid(struct ctl_leader *l);

/* Stops renewing and, unless lost, releases the lease so another replica takes over at once. */
void ctl_leader_release(struct ctl_leader *l);

#endif
