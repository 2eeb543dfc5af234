/* Command-line helpers shared by the subcommands: option parsing with one-line errors, and exit codes. */
#include "cmd/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/banned.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "multiarch-controller%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	const char *bad = argv[optind - 1];
	if (strncmp(bad, "--", 2) == 0) {
		const struct option *match = NULL;
		size_t n = strcspn(bad + 2, "=");
		for (const struct option *o = longopts; o->name; o++)
			if (strlen(o->name) == n && strncmp(o->name, bad + 2, n) == 0)
				match = o;
		if (match && match->has_arg == required_argument)
			cli_error(cmd, "flag '--%s' needs a value (see 'multiarch-controller %s --help')", match->name, cmd);
		else if (match)
			cli_error(cmd, "flag '--%s' takes no value (see 'multiarch-controller %s --help')", match->name, cmd);
		else
			cli_error(cmd, "unknown flag '%.*s' (see 'multiarch-controller %s --help')", (int)(n + 2), bad, cmd);
	} else if (optopt && strchr(shortopts, optopt) && strchr(shortopts, optopt)[1] == ':') {
		cli_error(cmd, "flag '-%c' needs a value (see 'multiarch-controller %s --help')", optopt, cmd);
	} else {
		cli_error(cmd, "unknown flag '-%c' (see 'multiarch-controller %s --help')", optopt ? optopt : '?', cmd);
	}
	return '?';
}

bool cli_parse_int(const char *cmd, const char *flag, const char *value, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max) {
		cli_error(cmd, "flag '%s' wants a whole number from %ld to %ld, not '%s'", flag, min, max, value);
		return false;
	}
	*out = v;
	return true;
}

bool cli_no_positional(const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		cli_error(cmd, "unexpected argument '%s' (see 'multiarch-controller %s --help')", argv[optind], cmd);
		return false;
	}
	return true;
}
