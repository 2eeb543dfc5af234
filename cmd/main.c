/* multiarch-controller: entry point, dispatching to the subcommands. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/banned.h"

static const struct cli_command commands[] = {
	{"run", "run the controller against a cluster", cmd_run},
	{"index", "merge per-arch images into one verified OCI image index", cmd_index},
	{"doctor", "check that the controller could run against a cluster", cmd_doctor},
	{"render", "print the pods, Job and ConfigMap the controller would create for a MultiArchBuild", cmd_render},
	{"fetch", "download, verify and unpack a build's HTTP archive source (the build pod's init container)", cmd_fetch},
	{"version", "print the version and the libraries in use", cmd_version},
};

static void usage(FILE *out)
{
	fputs("usage: multiarch-controller <command> [flags]\n"
	      "\n"
	      "Builds multi-architecture container images on Kubernetes: one build pod per\n"
	      "platform on native nodes, merged into one OCI image index.\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Run 'multiarch-controller <command> --help' for a command's flags.\n",
	      out);
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0)
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			int rc;
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
				cli_error(NULL, "cannot initialise libcurl");
				return CLI_EXIT_FAILURE;
			}
			rc = commands[i].run(argc - 1, argv + 1);
			curl_global_cleanup();
			return rc;
		}
	}
	if (name[0] == '-')
		cli_error(NULL, "unknown flag '%s' (see 'multiarch-controller --help')", name);
	else
		cli_error(NULL, "unknown command '%s' (see 'multiarch-controller --help')", name);
	return CLI_EXIT_USAGE;
}
