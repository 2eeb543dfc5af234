/* The bound on builds in flight: a build takes a slot before its first pods are made and gives it back once it has
 * finished or is gone; builds that find every slot taken wait their turn, oldest first. Thread-safe. */
#ifndef MAC_CONTROLLER_ADMISSION_H
#define MAC_CONTROLLER_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

struct ctl_admission;

/* A bound of max builds in flight; 0 for none (every build starts at once). NULL when out of memory. */
struct ctl_admission *ctl_admission_new(size_t max);

/* Frees a; no thread may be using it. Accepts NULL. */
void ctl_admission_free(struct ctl_admission *a);

/*
 * Whether key may start: true when it holds a slot (it did already, or one was free); otherwise it waits, once,
 * behind the keys that waited before it, and ctl_admission_release() of another key hands it a slot. Out of memory,
 * false (it is tried again on its next reconcile).
 */
bool ctl_admission_try(struct ctl_admission *a, const char *key);

/* Counts key in flight whatever the bound: a build found under way (after a restart, or started by an earlier
 * leader). False when out of memory. */
bool ctl_admission_hold(struct ctl_admission *a, const char *key);

/* Whether key holds a slot. */
bool ctl_admission_holds(struct ctl_admission *a, const char *key);

/*
 * Takes key out (it finished, or its build is gone): its slot, or its place in the line. Returns the key that the
 * freed slot went to, oldest waiting first, which the caller queues for a reconcile and frees; NULL when none.
 */
char *ctl_admission_release(struct ctl_admission *a, const char *key);

/* The bound (0: none), the keys holding a slot and the keys waiting for one. */
void ctl_admission_counts(struct ctl_admission *a, size_t *max, size_t *in_flight, size_t *waiting);

#endif
