/* Exponential backoff with jitter, and the small random generator it draws from. */
#ifndef MAC_UTIL_BACKOFF_H
#define MAC_UTIL_BACKOFF_H

#include <stdint.h>

/* Next value of a xorshift64* generator; *state must not be 0 (a 0 state is reseeded with a constant). */
uint64_t rng_next(uint64_t *state);

/* A seed from the clock and the process id, never 0. */
uint64_t rng_seed(void);

/*
 * Delay before retry number attempt (0 for the first retry): base_ms * 2^attempt,
 * capped at cap_ms, then drawn uniformly from [delay/2, delay] so that clients
 * that failed together do not retry together. Never more than cap_ms.
 */
unsigned backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t *rng);

/* Sleeps ms milliseconds, resuming after signals. */
void sleep_ms(unsigned ms);

#endif
