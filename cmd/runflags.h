/* multiarch-controller run's flags: its help, and what they set. */
#ifndef MAC_CMD_RUNFLAGS_H
#define MAC_CMD_RUNFLAGS_H

#include "cmd/childopts.h"
#include "cmd/logsink.h"
#include "controller/controller.h"

/* What run's flags set. */
struct run_flags {
	const char *kubeconfig, *context;
	struct childopts co;
	struct ctl_controller_options opts;
	struct log_sink lg;
	char identity[256];
};

/* Reads run's flags into f (set to its defaults first). -1 to go on; otherwise the exit code (--help, a usage
 * error, said on standard error). */
int read_run_flags(struct run_flags *f, int argc, char **argv);

#endif
