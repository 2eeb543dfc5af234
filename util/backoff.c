/* Exponential backoff with jitter, and the small random generator it draws from. */
#include "util/backoff.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "util/banned.h"

uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t rng_seed(void)
{
	struct timespec ts;
	uint64_t seed;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	return seed ? seed : 1;
}

unsigned backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t *rng)
{
	uint64_t delay = base_ms;
	unsigned half;

	for (unsigned i = 0; i < attempt && delay < cap_ms; i++)
		delay *= 2;
	if (delay > cap_ms)
		delay = cap_ms;
	half = (unsigned)(delay / 2);
	return half + (unsigned)(rng_next(rng) % ((uint64_t)(delay - half) + 1));
}

void sleep_ms(unsigned ms)
{
	struct timespec req = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L}, rem;

	while (nanosleep(&req, &rem) == -1 && errno == EINTR)
		req = rem;
}
