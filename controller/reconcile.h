/* One reconcile of one MultiArchBuild: read the build, its children and the nodes from the caches, move the
 * world one step toward the spec through a writer, and write status only when it changed. */
#ifndef MAC_CONTROLLER_RECONCILE_H
#define MAC_CONTROLLER_RECONCILE_H

#include "controller/reconciletypes.h"

void ctl_reconcile_options_init(struct ctl_reconcile_options *o);

/*
 * Reconciles view->build once. Never fails as such: what went wrong is in
 * out (error, retry), and what the user must fix is in the build's status.
 */
void ctl_reconcile(const struct ctl_reconcile_options *opts, const struct ctl_view *view, const struct ctl_writer *writer,
		   struct ctl_outcome *out);

#endif
