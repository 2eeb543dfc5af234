/* Whether a MultiArchBuild stays inside the operator's policy (policy.h), as the controller's options configure it. */
#ifndef MAC_CONTROLLER_POLICYCHECK_H
#define MAC_CONTROLLER_POLICYCHECK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/policy.h"

struct ctl_build_spec;
struct ctl_child_options;

/*
 * Whether build (borrowed, with its spec read into spec) stays inside the
 * policy of opts->config (the defaults when NULL). When it does not, false
 * with a message naming the first field outside it in why.
 */
bool ctl_policy_allows(const struct ctl_child_options *opts, const cJSON *build, const struct ctl_build_spec *spec, char *why,
		       size_t why_len);

#endif
