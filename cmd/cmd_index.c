/* multiarch-controller index: merges per-arch images, by digest, into one verified OCI image index. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "controller/buildspec.h"
#include "registry/client.h"
#include "registry/index.h"
#include "registry/reference.h"

static const char index_help[] = "usage: multiarch-controller index --image REF --source REF@sha256:HEX [--source ...] [flags]\n"
				 "\n"
				 "Merges per-arch images, given by digest, into one OCI image index pushed to\n"
				 "REF's tag, and prints the index digest (sha256:...) as the last line.\n"
				 "\n"
				 "flags:\n"
				 "  --image REF                  where the index is pushed (a tag, no digest)\n"
				 "  --source REF@sha256:HEX      a per-arch image or index, by digest (repeatable, at most 64)\n"
				 "  --platform OS/ARCH[/VARIANT] the platform the preceding --source must be (optional)\n"
				 "  --docker-config DIR          folder holding config.json with registry credentials\n"
				 "  --ca-file FILE               trust this CA bundle for registry TLS (repeatable)\n"
				 "  --insecure-registry HOST[:PORT]  talk plain HTTP to this registry (repeatable)\n"
				 "  --digest-file FILE           also write the index digest to FILE\n"
				 "  --annotation KEY=VALUE       add an annotation to the index (repeatable)\n"
				 "  --retries N                  retries per request on connection errors, 5xx and 429 (default 4)\n"
				 "  --transfer-timeout DURATION  the longest one transfer may take in all (default 10m)\n"
				 "  --min-speed BYTES            stop a transfer slower than BYTES a second for 30 s (default 1024)\n"
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
	} else if (!want_digest && !ref.tag[0]) {
		cli_error("index", "%s %s: the target needs a tag (e.g. :1.0)", flag, value);
		ok = false;
	}
	reg_ref_free(&ref);
	return ok;
}

static void print_progress(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "index: %s\n", line);
}

/* Writes digest and a newline to path. */
static bool write_digest_file(const char *path, const char *digest)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f) {
		cli_error("index", "cannot open --digest-file %s: %s", path, strerror(errno));
		return false;
	}
	ok = fprintf(f, "%s\n", digest) > 0;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		cli_error("index", "cannot write --digest-file %s", path);
	return ok;
}

int cmd_index(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"image", required_argument, NULL, 'i'},
		{"source", required_argument, NULL, 's'},
		{"platform", required_argument, NULL, 'p'},
		{"docker-config", required_argument, NULL, 'd'},
		{"ca-file", required_argument, NULL, 'c'},
		{"insecure-registry", required_argument, NULL, 'k'},
		{"digest-file", required_argument, NULL, 'o'},
		{"annotation", required_argument, NULL, 'a'},
		{"retries", required_argument, NULL, 'r'},
		{"transfer-timeout", required_argument, NULL, 't'},
		{"min-speed", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct reg_index_request req;
	struct reg_index_result result;
	struct reg_client_options opts;
	struct reg_client *client = NULL;
	const char *digest_file = NULL;
	char err[REG_ERRBUF_SIZE];
	long retries = 4;
	enum reg_err rc;
	int c;

	memset(&req, 0, sizeof(req));
	reg_client_options_init(&opts);
	/* OpenSSL's own variable for where the system's CAs are */
	opts.system_ca_dir = getenv("SSL_CERT_DIR");
	optind = 1;
	while ((c = cli_getopt("index", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'i':
			if (!check_ref("--image", optarg, false))
				return CLI_EXIT_USAGE;
			req.target = optarg;
			break;
		case 's':
			if (req.source_count == REG_INDEX_SOURCES_MAX) {
				cli_error("index", "too many --source flags (at most %d)", REG_INDEX_SOURCES_MAX);
				return CLI_EXIT_USAGE;
			}
			if (!check_ref("--source", optarg, true))
				return CLI_EXIT_USAGE;
			req.sources[req.source_count++].ref = optarg;
			break;
		case 'p': {
			struct reg_platform p;
			if (req.source_count == 0 || req.sources[req.source_count - 1].platform) {
				cli_error("index", "--platform %s must follow the --source it applies to", optarg);
				return CLI_EXIT_USAGE;
			}
			if (reg_platform_parse(optarg, &p, err, sizeof(err)) != REG_OK) {
				cli_error("index", "--platform %s: %s", optarg, err);
				return CLI_EXIT_USAGE;
			}
			req.sources[req.source_count - 1].platform = optarg;
			break;
		}
		case 'a': {
			char *eq = optarg ? strchr(optarg, '=') : NULL;
			if (req.annotation_count == REG_INDEX_ANNOTATIONS_MAX) {
				cli_error("index", "too many --annotation flags (at most %d)", REG_INDEX_ANNOTATIONS_MAX);
				return CLI_EXIT_USAGE;
			}
			if (!eq || eq == optarg) {
				cli_error("index", "--annotation %s: want KEY=VALUE", optarg);
				return CLI_EXIT_USAGE;
			}
			*eq = '\0';
			req.annotation_keys[req.annotation_count] = optarg;
			req.annotation_values[req.annotation_count++] = eq + 1;
			break;
		}
		case 'd':
			opts.docker_config_dir = optarg;
			break;
		case 'c':
			if (opts.ca_file_count == REG_CA_FILES_MAX) {
				cli_error("index", "too many --ca-file flags (at most %d)", REG_CA_FILES_MAX);
				return CLI_EXIT_USAGE;
			}
			opts.ca_files[opts.ca_file_count++] = optarg;
			break;
		case 'k':
			if (opts.insecure_count == REG_INSECURE_MAX) {
				cli_error("index", "too many --insecure-registry flags (at most %d)", REG_INSECURE_MAX);
				return CLI_EXIT_USAGE;
			}
			opts.insecure_hosts[opts.insecure_count++] = optarg;
			break;
		case 'o':
			digest_file = optarg;
			break;
		case 'r':
			if (!cli_parse_int("index", "--retries", optarg, 0, 20, &retries))
				return CLI_EXIT_USAGE;
			break;
		case 't':
			if (!ctl_parse_duration(optarg, &opts.transfer_timeout_s) || opts.transfer_timeout_s < 1) {
				cli_error("index", "--transfer-timeout %s: want a duration of at least 1s, such as 90s or 10m", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'm':
			if (!cli_parse_int("index", "--min-speed", optarg, 1, 1L << 30, &opts.low_speed_bps))
				return CLI_EXIT_USAGE;
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
	if (!req.target) {
		cli_error("index", "--image is required (see 'multiarch-controller index --help')");
		return CLI_EXIT_USAGE;
	}
	if (req.source_count == 0) {
		cli_error("index", "at least one --source is required (see 'multiarch-controller index --help')");
		return CLI_EXIT_USAGE;
	}
	opts.max_retries = (unsigned)retries;

	if (reg_client_new(&opts, &client, err, sizeof(err)) != REG_OK) {
		cli_error("index", "%s", err);
		return CLI_EXIT_FAILURE;
	}
	rc = reg_index_push(client, &req, &result, print_progress, NULL, err, sizeof(err));
	if (result.copied_manifests)
		fprintf(stderr, "index: %zu manifests copied from other repositories (%zu blobs mounted, %zu blobs copied)\n",
			result.copied_manifests, result.mounted_blobs, result.copied_blobs);
	fprintf(stderr, "index: %lu registry requests\n", reg_client_request_count(client));
	reg_client_free(client);
	if (rc != REG_OK) {
		cli_error("index", "%s; %s", err,
			  result.pushed ? "the index was pushed but could not be verified" : "the tag was not changed");
		return CLI_EXIT_FAILURE;
	}
	if (digest_file && !write_digest_file(digest_file, result.digest))
		return CLI_EXIT_FAILURE;
	printf("%s\n", result.digest);
	return CLI_EXIT_OK;
}
