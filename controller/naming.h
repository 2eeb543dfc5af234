/* Deterministic names for a build's children: the same (build, round, platform, attempt) always gives the same
 * name, so a controller restarted between two calls finds what it created instead of creating it twice. */
#ifndef MAC_CONTROLLER_NAMING_H
#define MAC_CONTROLLER_NAMING_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_NAME_MAX 63 /* a DNS label: usable as a pod, Job and label value */

/*
 * Writes "<build>-<round>-<suffix>" into buf (at least CTL_NAME_MAX+1
 * bytes), lowercase, '.' turned into '-'; round is the build spec's round
 * ("g3", or "g3r1f2e3d4c" for a requested rebuild). When that passes 63 characters,
 * the build part is shortened and "-<8 hex>" of the full name is appended,
 * so distinct inputs keep distinct names. Returns false when buf is too small.
 */
bool ctl_child_name(char *buf, size_t len, const char *build, const char *round, const char *suffix);

/* The name of platform label's build pod for an attempt: suffix "<label>-a<attempt>" (e.g. "linux-arm64-a2"). */
bool ctl_pod_name(char *buf, size_t len, const char *build, const char *round, const char *platform_label, int attempt);

#endif
