/* Runs a helper program with a bounded time and bounded output: credential plugins and credential helpers. */
#ifndef MAC_UTIL_SUBPROCESS_H
#define MAC_UTIL_SUBPROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/dynbuf.h"

#define SUBPROCESS_STDERR_MAX 2048 /* the start of stderr kept for messages; the rest is read and dropped */

/* How a run ended. out holds stdout (owned; subprocess_result_free() wipes and frees it). */
struct subprocess_result {
	bool timed_out;       /* killed at the deadline */
	bool output_too_long; /* killed when stdout passed its cap */
	bool exited;          /* exit_code is valid (otherwise signal is) */
	int exit_code;
	int signal;
	struct dynbuf out;
	char err_text[SUBPROCESS_STDERR_MAX + 1]; /* the start of stderr, line breaks turned into spaces */
};

/* What to run: argv[0] is looked up in PATH; env NULL means ours; input (may be NULL) is written to stdin. */
struct subprocess_spec {
	char *const *argv;
	char *const *env;
	const char *input;
	size_t input_len;
	int timeout_ms;
	size_t output_max;
};

/*
 * Runs spec and waits for it, reading stdout (at most output_max bytes) and
 * the start of stderr; past timeout_ms or output_max the child is killed
 * (SIGKILL) and reaped. Returns 0 and fills res (free with
 * subprocess_result_free() in every case), or the errno of a failed start
 * (ENOENT when the program is not in PATH).
 */
int subprocess_run(const struct subprocess_spec *spec, struct subprocess_result *res);

/* Wipes and frees what res holds. */
void subprocess_result_free(struct subprocess_result *res);

#endif
