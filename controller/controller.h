/* The running controller: informers for builds, their pods and Jobs, and nodes; a work queue fed by their
 * handlers; workers that reconcile one key at a time; leader election gating every write. */
#ifndef MAC_CONTROLLER_CONTROLLER_H
#define MAC_CONTROLLER_CONTROLLER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "controller/controlleroptions.h"
#include "controller/error.h"
#include "kube/client.h"

struct ctl_controller;

/* A controller over client (which must outlive it); nothing runs until ctl_controller_run(). NULL when out of memory. */
struct ctl_controller *ctl_controller_new(struct kube_client *client, const struct ctl_controller_options *opts);

/*
 * Runs until *stop is set (then drains: the keys being reconciled finish,
 * the lease is released) or the lease is lost. Returns CTL_OK after a
 * requested stop, CTL_E_LEADERSHIP when the lease was lost, CTL_E_STARTUP
 * when the caches could not be filled; errbuf says more.
 */
enum ctl_err ctl_controller_run(struct ctl_controller *c, const atomic_int *stop, char *errbuf, size_t errlen);

void ctl_controller_free(struct ctl_controller *c);

#endif
