/* Client-side rate limiting: a token bucket with QPS and burst, off when QPS is 0. */
#ifndef MAC_KUBE_RATELIMIT_H
#define MAC_KUBE_RATELIMIT_H

#include <pthread.h>

/*
 * Invariants: 0 <= tokens <= burst; last is the time (seconds, monotonic)
 * tokens was computed at. qps <= 0 disables the limiter.
 */
struct kube_ratelimit {
	double qps;
	double burst;
	double tokens;
	double last;
	pthread_mutex_t lock;
};

/* Prepares a full bucket. qps <= 0 means no limit; burst < 1 is taken as 1. */
void kube_ratelimit_init(struct kube_ratelimit *rl, double qps, int burst);

void kube_ratelimit_destroy(struct kube_ratelimit *rl);

/*
 * Takes one token at time now (seconds) and returns how long the caller must
 * wait before sending (0 when a token was available). The token is reserved
 * either way, so concurrent callers queue up fairly.
 */
double kube_ratelimit_reserve(struct kube_ratelimit *rl, double now);

/* Reserves a token and sleeps as long as needed. */
void kube_ratelimit_wait(struct kube_ratelimit *rl);

#endif
