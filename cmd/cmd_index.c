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
#include "util/banned.h"

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

static const struct option index_options[] = {
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

/* What index's flags set. */
struct index_flags {
	struct reg_index_request req;
	struct reg_client_options opts;
	const char *digest_file;
	long retries;
};

/* --source, --platform (for the --source before it) and --annotation KEY=VALUE; false, with a message, for a bad
 * or one too many. */
static bool request_flag(struct reg_index_request *req, int c, char *value)
{
	struct reg_platform p;
	char err[REG_ERRBUF_SIZE], *eq;

	if (c == 's') {
		if (req->source_count == REG_INDEX_SOURCES_MAX) {
			cli_error("index", "too many --source flags (at most %d)", REG_INDEX_SOURCES_MAX);
			return false;
		}
		if (!check_ref("--source", value, true))
			return false;
		req->sources[req->source_count++].ref = value;
		return true;
	}
	if (c == 'p') {
		if (req->source_count == 0 || req->sources[req->source_count - 1].platform) {
			cli_error("index", "--platform %s must follow the --source it applies to", value);
			return false;
		}
		if (reg_platform_parse(value, &p, err, sizeof(err)) != REG_OK) {
			cli_error("index", "--platform %s: %s", value, err);
			return false;
		}
		req->sources[req->source_count - 1].platform = value;
		return true;
	}
	eq = strchr(value, '=');
	if (req->annotation_count == REG_INDEX_ANNOTATIONS_MAX) {
		cli_error("index", "too many --annotation flags (at most %d)", REG_INDEX_ANNOTATIONS_MAX);
		return false;
	}
	if (!eq || eq == value) {
		cli_error("index", "--annotation %s: want KEY=VALUE", value);
		return false;
	}
	*eq = '\0';
	req->annotation_keys[req->annotation_count] = value;
	req->annotation_values[req->annotation_count++] = eq + 1;
	return true;
}

/* Appends value to list (count of at most max), for the repeatable flag; false, with a message, past max. */
static bool add_repeated(const char *flag, const char **list, size_t *count, size_t max, const char *value)
{
	if (*count == max) {
		cli_error("index", "too many %s flags (at most %zu)", flag, max);
		return false;
	}
	list[(*count)++] = value;
	return true;
}

/* One flag of the registry client's (c as cli_getopt gave it); false, with a message, for a bad value. */
static bool client_flag(struct index_flags *f, int c, const char *value)
{
	struct reg_client_options *o = &f->opts;

	switch (c) {
	case 'd':
		o->docker_config_dir = value;
		return true;
	case 'c':
		return add_repeated("--ca-file", o->ca_files, &o->ca_file_count, REG_CA_FILES_MAX, value);
	case 'k':
		return add_repeated("--insecure-registry", o->insecure_hosts, &o->insecure_count, REG_INSECURE_MAX, value);
	case 'r':
		return cli_parse_int("index", "--retries", value, 0, 20, &f->retries);
	case 't':
		if (!ctl_parse_duration(value, &o->transfer_timeout_s) || o->transfer_timeout_s < 1) {
			cli_error("index", "--transfer-timeout %s: want a duration of at least 1s, such as 90s or 10m", value);
			return false;
		}
		return true;
	case 'm':
		return cli_parse_int("index", "--min-speed", value, 1, 1L << 30, &o->low_speed_bps);
	default:
		return false; /* cli_getopt said what was wrong */
	}
}

/* Reads index's flags into f. -1 to go on; otherwise the exit code (--help, a usage error). */
static int read_index_flags(struct index_flags *f, int argc, char **argv)
{
	int c;

	optind = 1;
	while ((c = cli_getopt("index", argc, argv, "h", index_options)) != -1) {
		bool ok;
		if (c == 'h') {
			fputs(index_help, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'i') {
			ok = check_ref("--image", optarg, false);
			f->req.target = optarg;
		} else if (c == 'o') {
			ok = true;
			f->digest_file = optarg;
		} else {
			ok = c == 's' || c == 'p' || c == 'a' ? request_flag(&f->req, c, optarg) : client_flag(f, c, optarg);
		}
		if (!ok)
			return CLI_EXIT_USAGE;
	}
	if (!cli_no_positional("index", argc, argv))
		return CLI_EXIT_USAGE;
	if (!f->req.target) {
		cli_error("index", "--image is required (see 'multiarch-controller index --help')");
		return CLI_EXIT_USAGE;
	}
	if (f->req.source_count == 0) {
		cli_error("index", "at least one --source is required (see 'multiarch-controller index --help')");
		return CLI_EXIT_USAGE;
	}
	f->opts.max_retries = (unsigned)f->retries;
	return -1;
}

int cmd_index(int argc, char **argv)
{
	struct index_flags f;
	struct reg_index_result result;
	struct reg_client *client = NULL;
	char err[REG_ERRBUF_SIZE];
	enum reg_err rc;
	int exit_code;

	memset(&f, 0, sizeof(f));
	f.retries = 4;
	reg_client_options_init(&f.opts);
	/* OpenSSL's own variable for where the system's CAs are */
	f.opts.system_ca_dir = getenv("SSL_CERT_DIR");
	if ((exit_code = read_index_flags(&f, argc, argv)) >= 0)
		return exit_code;
	if (reg_client_new(&f.opts, &client, err, sizeof(err)) != REG_OK) {
		cli_error("index", "%s", err);
		return CLI_EXIT_FAILURE;
	}
	rc = reg_index_push(client, &f.req, &result, print_progress, NULL, err, sizeof(err));
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
	if (f.digest_file && !write_digest_file(f.digest_file, result.digest))
		return CLI_EXIT_FAILURE;
	printf("%s\n", result.digest);
	return CLI_EXIT_OK;
}
