/* multiarch-controller version: the program's version and the versions of the libraries it runs with. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <yaml.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/banned.h"

#ifndef MAC_VERSION
#define MAC_VERSION "0.0.0-unknown"
#endif
#ifndef MAC_COMMIT
#define MAC_COMMIT "unknown"
#endif

static const char version_help[] = "usage: multiarch-controller version [--short]\n"
				   "\n"
				   "Prints the version of multiarch-controller and of the libraries it runs with.\n"
				   "\n"
				   "flags:\n"
				   "  --short   print the version number only\n"
				   "  --help    show this help\n";

int cmd_version(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"short", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int shortonly = 0, c;

	optind = 1;
	while ((c = cli_getopt("version", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 's':
			shortonly = 1;
			break;
		case 'h':
			fputs(version_help, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (!cli_no_positional("version", argc, argv))
		return CLI_EXIT_USAGE;
	if (shortonly) {
		puts(MAC_VERSION);
		return CLI_EXIT_OK;
	}
	printf("multiarch-controller %s (commit %s)\n", MAC_VERSION, MAC_COMMIT);
	printf("libcurl %s, libyaml %s, cJSON %s, libwebsockets %s, %s\n", curl_version_info(CURLVERSION_NOW)->version,
	       yaml_get_version_string(), cJSON_Version(), lws_get_library_version(), OpenSSL_version(OPENSSL_VERSION));
	return CLI_EXIT_OK;
}
