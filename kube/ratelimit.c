/* Client-side rate limiting: a token bucket with QPS and burst, off when QPS is 0. */
#include "kube/ratelimit.h"

#include <time.h>

#include "util/backoff.h"
#include "util/banned.h"

void kube_ratelimit_init(struct kube_ratelimit *rl, double qps, int burst)
{
	rl->qps = qps;
	rl->burst = burst < 1 ? 1 : burst;
	rl->tokens = rl->burst;
	rl->last = -1;
	pthread_mutex_init(&rl->lock, NULL);
}

void kube_ratelimit_destroy(struct kube_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

double kube_ratelimit_reserve(struct kube_ratelimit *rl, double now)
{
	double wait = 0;

	if (rl->qps <= 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	if (rl->last >= 0 && now > rl->last) {
		rl->tokens += (now - rl->last) * rl->qps;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
	}
	if (rl->last < 0 || now > rl->last)
		rl->last = now;
	rl->tokens -= 1;
	if (rl->tokens < 0)
		wait = -rl->tokens / rl->qps;
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

void kube_ratelimit_wait(struct kube_ratelimit *rl)
{
	struct timespec ts;
	double wait;

	if (rl->qps <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	wait = kube_ratelimit_reserve(rl, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	if (wait > 0)
		sleep_ms((unsigned)(wait * 1000 + 0.5));
}
