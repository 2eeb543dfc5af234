/* RFC 3339 timestamps as the Kubernetes API writes them (Time and MicroTime). */
#ifndef MAC_UTIL_TIMEFMT_H
#define MAC_UTIL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define RFC3339_MAX 40

/* Parses "2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm)" into seconds since the epoch (fractions dropped). */
bool rfc3339_parse(const char *s, time_t *out);

/* The time s names, or fallback when s is NULL or not such a time. */
time_t rfc3339_parse_or(const char *s, time_t fallback);

/* Writes t as "2006-01-02T15:04:05Z" (UTC) into buf (at least RFC3339_MAX bytes). */
void rfc3339_format(time_t t, char *buf, size_t len);

/* Writes ts with microseconds, "2006-01-02T15:04:05.000000Z" (UTC), into buf. */
void rfc3339_micro_format(const struct timespec *ts, char *buf, size_t len);

/* Writes the current time as rfc3339_micro_format() does. */
void rfc3339_micro_now(char *buf, size_t len);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for intervals and deadlines, never for dates. */
double monotonic_seconds(void);

#endif
