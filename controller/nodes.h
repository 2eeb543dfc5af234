/* Node preflight: whether a Ready, schedulable node exists that a build pod with a given nodeSelector and tolerations could run on. */
#ifndef MAC_CONTROLLER_NODES_H
#define MAC_CONTROLLER_NODES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/store.h"

/*
 * True when node (as ctl_slim_node() keeps it) is Ready, not cordoned, has
 * every label of selector (an object of strings; NULL for none), and every
 * NoSchedule or NoExecute taint it carries is tolerated by tolerations (an
 * array of core/v1 Tolerations; NULL for none).
 */
bool ctl_node_fits(const cJSON *node, const cJSON *selector, const cJSON *tolerations);

/* Whether some node of the store fits (see ctl_node_fits()): the nodes are looked at until one does, so that a
 * reconcile on a cluster of thousands of nodes reads a few of them, not every one. */
bool ctl_nodes_any_fit(struct ctl_store *nodes, const cJSON *selector, const cJSON *tolerations);

/* True when node is Ready and not cordoned: the node state whose changes can unblock a waiting build. */
bool ctl_node_usable(const cJSON *node);

#endif
