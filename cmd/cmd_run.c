/* multiarch-controller run: runs the controller against a cluster. */
#include <stdio.h>

#include "cmd/cli.h"
#include "cmd/commands.h"

static const char run_help[] = "usage: multiarch-controller run [flags]\n"
			       "\n"
			       "Runs the controller: watches MultiArchBuilds and drives each to a verified\n"
			       "multi-arch image. Without --kubeconfig it uses $KUBECONFIG, then the\n"
			       "in-cluster service account.\n"
			       "\n"
			       "flags:\n"
			       "  --kubeconfig FILE   kubeconfig to use\n"
			       "  --context NAME      kubeconfig context to use\n"
			       "  --workers N         reconcile workers (1-64, default 2)\n"
			       "  --help              show this help\n";

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"kubeconfig", required_argument, NULL, 'k'},
		{"context", required_argument, NULL, 'c'},
		{"workers", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long workers = 2;
	int c;

	optind = 1;
	while ((c = cli_getopt("run", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'k':
		case 'c':
			break;
		case 'w':
			if (!cli_parse_int("run", "--workers", optarg, 1, 64, &workers))
				return CLI_EXIT_USAGE;
			break;
		case 'h':
			fputs(run_help, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (!cli_no_positional("run", argc, argv))
		return CLI_EXIT_USAGE;
	cli_error("run", "the controller is not available in this version yet");
	return CLI_EXIT_FAILURE;
}
