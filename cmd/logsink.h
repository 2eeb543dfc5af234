/* The controller's log lines on stderr: a constant message and key=value fields, as text or one JSON object. */
#ifndef MAC_CMD_LOGSINK_H
#define MAC_CMD_LOGSINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/controller.h"

struct log_sink {
	bool json;
	enum ctl_log_level min; /* lines below it are not written */
	pthread_mutex_t lock;   /* one line at a time */
};

/*
 * Writes one line (a ctl_log_fn; ctx is a struct log_sink): text
 * "TIME LEVEL MESSAGE key=value ..." with a value quoted (Go's %q escapes)
 * when it holds a space, a quote, '=' or a control character, or is empty;
 * JSON {"time","level","msg", then each field}. A field without a key or
 * value is left out.
 */
void log_sink_write(void *ctx, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count);

#endif
