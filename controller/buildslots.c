/* The bound on builds in flight as the work queue sees it: a build let start is served before builds that wait to,
 * and a slot given back goes to the oldest waiting build, which is queued. */
#include <stdlib.h>

#include "controller/controllerstate.h"
#include "util/banned.h"

bool ctl_slot_try(struct ctl_controller *c, const char *key)
{
	if (!ctl_admission_try(c->admission, key))
		return false;
	ctl_queue_prefer(c->queue, key, true);
	return true;
}

void ctl_slot_hold(struct ctl_controller *c, const char *key)
{
	if (!ctl_admission_holds(c->admission, key) && ctl_admission_hold(c->admission, key))
		ctl_queue_prefer(c->queue, key, true);
}

void ctl_slot_release(struct ctl_controller *c, const char *key)
{
	char *next = ctl_admission_release(c->admission, key);

	ctl_queue_prefer(c->queue, key, false);
	if (next) {
		ctl_queue_prefer(c->queue, next, true);
		ctl_queue_add(c->queue, next);
		free(next);
	}
}
