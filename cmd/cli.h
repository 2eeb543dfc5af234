/* Command-line helpers shared by the subcommands: option parsing with one-line errors, and exit codes. */
#ifndef MAC_CMD_CLI_H
#define MAC_CMD_CLI_H

#include <getopt.h>
#include <stdbool.h>

/* Exit codes: the only place the program picks them. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* the work failed */
	CLI_EXIT_USAGE = 2,   /* a bad flag or input: nothing was done */
};

/* A subcommand: its name, one-line summary, and entry point (argv[0] is the subcommand name). */
struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Prints "multiarch-controller CMD: MESSAGE" on stderr as one line. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Runs getopt_long over argv with opterr off. Returns the option, -1 at the
 * end, or '?' after printing one line naming the bad or incomplete flag
 * (the caller then exits with CLI_EXIT_USAGE).
 */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Parses a decimal integer in [min, max] into *out; prints one line and returns false otherwise. */
bool cli_parse_int(const char *cmd, const char *flag, const char *value, long min, long max, long *out);

/* Complains about leftover positional arguments. Returns true when there are none. */
bool cli_no_positional(const char *cmd, int argc, char **argv);

#endif
