/* Status conditions (metav1.Condition) as kstatus reads them: set one, keeping lastTransitionTime while its
 * status holds, and tell whether anything changed so unchanged status is never written. */
#ifndef MAC_CONTROLLER_CONDITIONS_H
#define MAC_CONTROLLER_CONDITIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/*
 * Sets the condition type in the array conditions (a cJSON array, changed in
 * place; the caller owns it): status "True", "False" or "Unknown", a
 * CamelCase reason, a message, the generation it describes. lastTransitionTime
 * becomes now only when the status changes (or the condition is new). Returns
 * true when anything changed; false (nothing touched) when all fields were
 * already so. Returns false also when out of memory.
 */
bool ctl_condition_set(cJSON *conditions, const char *type, const char *status, const char *reason, const char *message, long generation,
		       const char *now);

/* The status of condition type ("True", "False", "Unknown"), or NULL when absent. */
const char *ctl_condition_status(const cJSON *conditions, const char *type);

#endif
