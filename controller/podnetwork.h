/* Name resolution of build pods and index Jobs: hostAliases and dnsConfig from the builder configuration and, where
 * the operator's policy allows, the build; checked, then carried into every pod spec. */
#ifndef MAC_CONTROLLER_PODNETWORK_H
#define MAC_CONTROLLER_PODNETWORK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/jsonbuild.h"

#define CTL_HOST_ALIASES_MAX 32    /* entries of hostAliases */
#define CTL_ALIAS_HOSTNAMES_MAX 16 /* hostnames of one entry */

/*
 * Checks a hostAliases list and a dnsConfig object (either may be NULL) in
 * the shape of a pod spec's: entries {ip, hostnames}, the ip an IPv4 or IPv6
 * address, hostnames DNS names; dnsConfig with nameservers (at most 3
 * addresses), searches (at most 32) and options ({name, value}) only. where
 * names the place for messages ("defaults"). False with a message naming
 * the field.
 */
bool ctl_pod_network_check(const cJSON *host_aliases, const cJSON *dns_config, const char *where, char *errbuf, size_t errlen);

/*
 * Sets hostAliases and dnsConfig of pod_spec: the configuration's
 * host_aliases followed by the build's spec.hostAliases, and the build's
 * spec.dnsConfig, else the configuration's dns_config. Everything is
 * borrowed; the configuration's may be NULL.
 */
void ctl_pod_network_apply(struct json_builder *d, cJSON *pod_spec, const cJSON *build, const cJSON *host_aliases, const cJSON *dns_config);

#endif
