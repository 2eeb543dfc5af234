/* Leader election over a coordination.k8s.io Lease: acquire, renew in the background, know at every write
 * whether the lease is still ours, and give it up on shutdown. */
#include "controller/leader.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/backoff.h"
#include "util/banned.h"

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ctl_leader_init(struct ctl_leader *l)
{
	memset(l, 0, sizeof(*l));
	l->lease_duration_s = 15;
	l->renew_deadline_s = 10;
	l->retry_period_s = 2;
}

/* One try; true when the lease is ours afterwards. */
static bool try_once(struct ctl_leader *l, long long started_ms)
{
	struct kube_lease_record rec;
	bool held = false;

	if (kube_lease_try(l->client, l->ns, l->name, l->identity, l->lease_duration_s, &held, &rec, &l->seen, l->error,
			   sizeof(l->error)) != KUBE_OK)
		return false;
	if (held)
		atomic_store(&l->renewed_ms, started_ms);
	return held;
}

/* Sleeps ms in short steps, returning early (true) when flag is set. */
static bool sleep_unless(long long ms, const atomic_int *flag)
{
	for (long long slept = 0; slept < ms; slept += 100) {
		if (flag && atomic_load(flag))
			return true;
		sleep_ms(100);
	}
	return flag && atomic_load(flag);
}

bool ctl_leader_acquire(struct ctl_leader *l, const atomic_int *stop)
{
	atomic_store(&l->lost, false);
	atomic_store(&l->renewed_ms, 0);
	for (;;) {
		if (stop && atomic_load(stop))
			return false;
		if (try_once(l, monotonic_ms()))
			return true;
		if (sleep_unless(l->retry_period_s * 1000, stop))
			return false;
	}
}

static void *renew(void *arg)
{
	struct ctl_leader *l = arg;

	while (!atomic_load(&l->stop)) {
		long long started = monotonic_ms();
		if (!try_once(l, started) && started - atomic_load(&l->renewed_ms) >= l->renew_deadline_s * 1000) {
			atomic_store(&l->lost, true);
			return NULL;
		}
		if (atomic_load(&l->lost))
			return NULL;
		sleep_unless(l->retry_period_s * 1000, &l->stop);
	}
	return NULL;
}

bool ctl_leader_keep(struct ctl_leader *l)
{
	atomic_store(&l->stop, 0);
	if (pthread_create(&l->thread, NULL, renew, l) != 0)
		return false;
	l->renewing = true;
	return true;
}

bool ctl_leader_valid(struct ctl_leader *l)
{
	long long renewed = atomic_load(&l->renewed_ms);

	return !atomic_load(&l->lost) && renewed > 0 && monotonic_ms() - renewed < l->renew_deadline_s * 1000;
}

void ctl_leader_release(struct ctl_leader *l)
{
	char err[KUBE_ERRBUF_SIZE];
	bool was_valid;

	if (l->renewing) {
		atomic_store(&l->stop, 1);
		pthread_join(l->thread, NULL);
		l->renewing = false;
	}
	was_valid = ctl_leader_valid(l);
	atomic_store(&l->renewed_ms, 0);
	if (was_valid)
		kube_lease_release(l->client, l->ns, l->name, l->identity, err, sizeof(err));
}
