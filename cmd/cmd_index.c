/* multiarch-controller index: validates its inputs and merges per-arch images into one OCI image index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "registry/reference.h"

#define INDEX_MAX_SOURCES 64
#define INDEX_MAX_ANNOTATIONS 64

static const char index_help[] =
	"usage: multiarch-controller index --image REF --source REF@sha256:HEX [--source ...] [flags]\n"
	"\n"
	"Merges per-arch images, given by digest, into one OCI image index pushed to\n"
	"REF's tag, and prints the index digest (sha256:...) as the last line.\n"
	"\n"
	"flags:\n"
	"  --image REF                  where the index is pushed (a tag, no digest)\n"
	"  --source REF@sha256:HEX      a per-arch image or index, by digest (repeatable, at most 64)\n"
	"  --docker-config DIR          folder holding config.json with registry credentials\n"
	"  --ca-file FILE               trust this CA bundle for registry TLS\n"
	"  --insecure-registry HOST[:PORT]  talk plain HTTP to this registry (repeatable)\n"
	"  --digest-file FILE           also write the index digest to FILE\n"
	"  --annotation KEY=VALUE       add an annotation to the index (repeatable)\n"
	"  --help                       show this help\n";

/* Parses ref and checks it has the parts its flag needs. Prints one line on error. */
static bool check_ref(const char *flag, const char *value, bool want_digest)
{
	struct reg_ref ref;
	char err[REG_ERRBUF_SIZE];
	bool ok = true;

	if (reg_ref_parse(value, &ref, err, sizeof(err)) != REG_OK) {
		cli_error("index", "%s %s: %s", flag, value, err);
		return false;
	}
	if (want_digest && !ref.digest[0]) {
		cli_error("index", "%s %s: a source must name its image by digest (REF@sha256:HEX)", flag, value);
		ok = false;
	} else if (!want_digest && ref.digest[0]) {
		cli_error("index", "%s %s: the target must be a tag, not a digest", flag, value);
		ok = false;
	}
	reg_ref_free(&ref);
	return ok;
}

int cmd_index(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"image", required_argument, NULL, 'i'},
		{"source", required_argument, NULL, 's'},
		{"docker-config", required_argument, NULL, 'd'},
		{"ca-file", required_argument, NULL, 'c'},
		{"insecure-registry", required_argument, NULL, 'k'},
		{"digest-file", required_argument, NULL, 'o'},
		{"annotation", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *image = NULL;
	int sources = 0, annotations = 0, c;

	optind = 1;
	while ((c = cli_getopt("index", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'i':
			if (!check_ref("--image", optarg, false))
				return CLI_EXIT_USAGE;
			image = optarg;
			break;
		case 's':
			if (++sources > INDEX_MAX_SOURCES) {
				cli_error("index", "too many --source flags (at most %d)", INDEX_MAX_SOURCES);
				return CLI_EXIT_USAGE;
			}
			if (!check_ref("--source", optarg, true))
				return CLI_EXIT_USAGE;
			break;
		case 'a':
			if (++annotations > INDEX_MAX_ANNOTATIONS) {
				cli_error("index", "too many --annotation flags (at most %d)", INDEX_MAX_ANNOTATIONS);
				return CLI_EXIT_USAGE;
			}
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				cli_error("index", "--annotation %s: want KEY=VALUE", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'd':
		case 'c':
		case 'k':
		case 'o':
			break;
		case 'h':
			fputs(index_help, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (!cli_no_positional("index", argc, argv))
		return CLI_EXIT_USAGE;
	if (!image) {
		cli_error("index", "--image is required (see 'multiarch-controller index --help')");
		return CLI_EXIT_USAGE;
	}
	if (sources == 0) {
		cli_error("index", "at least one --source is required (see 'multiarch-controller index --help')");
		return CLI_EXIT_USAGE;
	}
	cli_error("index", "pushing an index is not available in this version yet; nothing was pushed");
	return CLI_EXIT_FAILURE;
}
