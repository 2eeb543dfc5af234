/* multiarch-controller doctor: checks that the controller could run against a cluster. */
#include <stdio.h>

#include "cmd/cli.h"
#include "cmd/commands.h"

static const char doctor_help[] = "usage: multiarch-controller doctor [flags]\n"
				  "\n"
				  "Connects to a cluster and reports the server version, who we are\n"
				  "authenticated as, whether the MultiArchBuild CRD is installed, nodes per\n"
				  "architecture and missing permissions. Exits 0 when the controller could run.\n"
				  "\n"
				  "flags:\n"
				  "  --kubeconfig FILE   kubeconfig to use\n"
				  "  --context NAME      kubeconfig context to use\n"
				  "  --help              show this help\n";

int cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"kubeconfig", required_argument, NULL, 'k'},
		{"context", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = cli_getopt("doctor", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'k':
		case 'c':
			break;
		case 'h':
			fputs(doctor_help, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (!cli_no_positional("doctor", argc, argv))
		return CLI_EXIT_USAGE;
	cli_error("doctor", "cluster checks are not available in this version yet");
	return CLI_EXIT_FAILURE;
}
