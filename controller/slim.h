/* What the informers keep of each kind: only the fields the reconciler reads, so a cached pod or node costs
 * a few hundred bytes instead of several KiB. */
#ifndef MAC_CONTROLLER_SLIM_H
#define MAC_CONTROLLER_SLIM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Each returns a new object (the caller's) holding the kept fields of object (borrowed), or NULL when out of memory. */
cJSON *ctl_slim_pod(const cJSON *object);
cJSON *ctl_slim_job(const cJSON *object);
cJSON *ctl_slim_node(const cJSON *object);
cJSON *ctl_slim_build(const cJSON *object);

/* The group of a child (pod or Job): "namespace/<multiarch.dev/build label>"; false when it has no such label. */
bool ctl_child_group(const cJSON *json, char *buf, size_t len);

#endif
