/* multiarch-controller fetch: downloads a build's HTTP archive source, checks its sha256, and unpacks it. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/download.h"
#include "util/banned.h"

extern char **environ;

#define ARCHIVE_NAME ".multiarch-source-archive"
#define FETCH_MAX_BYTES_DEFAULT (2048L * 1024 * 1024)

static const char fetch_help[] = "usage: multiarch-controller fetch --url URL --dest DIR [--sha256 HEX] [flags]\n"
				 "\n"
				 "Downloads a tar archive (plain, gzip, bzip2 or xz), checks its sha256 while\n"
				 "it streams, and unpacks it into DIR. A build pod's source init container runs\n"
				 "it for spec.source.http; nothing is unpacked unless the digest matches.\n"
				 "\n"
				 "flags:\n"
				 "  --url URL          the archive, http:// or https://\n"
				 "  --sha256 HEX       the archive's expected sha256 (64 lowercase hex digits)\n"
				 "  --dest DIR         where the archive is unpacked (must exist)\n"
				 "  --ca-dir DIR       also trust every *.crt and *.pem file in DIR\n"
				 "  --max-bytes N      refuse archives larger than N bytes (default 2 GiB)\n"
				 "  --timeout SECONDS  bound on the whole download (default 600)\n"
				 "  --help             show this help\n";

/* Runs tar to unpack archive into dest. Returns true when tar exited 0. */
static bool unpack(const char *archive, const char *dest)
{
	char *const argv[] = {"tar", "-x", "-f", (char *)archive, "-C", (char *)dest, "--no-same-owner", "--no-same-permissions", NULL};
	pid_t pid;
	int status, rc;

	rc = posix_spawnp(&pid, "tar", NULL, NULL, argv, environ);
	if (rc != 0) {
		cli_error("fetch", "cannot run tar: %s", strerror(rc));
		return false;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			cli_error("fetch", "cannot wait for tar: %s", strerror(errno));
			return false;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_error("fetch", "tar could not unpack the archive into %s", dest);
		return false;
	}
	return true;
}

/* Parses the flags into req and the other outputs; returns false after printing one line. */
static bool parse_flags(int argc, char **argv, struct download_request *req, const char **dest, const char **ca_dir, bool *help)
{
	static const struct option longopts[] = {
		{"url", required_argument, NULL, 'u'},
		{"sha256", required_argument, NULL, 's'},
		{"dest", required_argument, NULL, 'd'},
		{"ca-dir", required_argument, NULL, 'c'},
		{"max-bytes", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long value;
	int c;

	optind = 1;
	while ((c = cli_getopt("fetch", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'u':
			req->url = optarg;
			break;
		case 's':
			req->sha256 = optarg;
			break;
		case 'd':
			*dest = optarg;
			break;
		case 'c':
			*ca_dir = optarg;
			break;
		case 'm':
			if (!cli_parse_int("fetch", "--max-bytes", optarg, 1, FETCH_MAX_BYTES_DEFAULT * 8, &value))
				return false;
			req->max_bytes = (size_t)value;
			break;
		case 't':
			if (!cli_parse_int("fetch", "--timeout", optarg, 1, 86400, &value))
				return false;
			req->timeout_s = value;
			break;
		case 'h':
			*help = true;
			return true;
		default:
			return false;
		}
	}
	if (!cli_no_positional("fetch", argc, argv))
		return false;
	if (!req->url || !*dest) {
		cli_error("fetch", "--url and --dest are required (see 'multiarch-controller fetch --help')");
		return false;
	}
	return true;
}

int cmd_fetch(int argc, char **argv)
{
	struct download_request req = {.max_bytes = (size_t)FETCH_MAX_BYTES_DEFAULT, .timeout_s = 600};
	const char *dest = NULL, *ca_dir = NULL;
	char err[512], got[65], archive[4096];
	struct dynbuf ca;
	bool help = false;
	enum download_err rc;
	int io;

	if (!parse_flags(argc, argv, &req, &dest, &ca_dir, &help))
		return CLI_EXIT_USAGE;
	if (help) {
		fputs(fetch_help, stdout);
		return CLI_EXIT_OK;
	}
	if ((size_t)snprintf(archive, sizeof(archive), "%s/" ARCHIVE_NAME, dest) >= sizeof(archive)) {
		cli_error("fetch", "--dest %s: the path is too long", dest);
		return CLI_EXIT_USAGE;
	}
	dynbuf_init(&ca, (size_t)4 * 1024 * 1024);
	if (ca_dir && (io = download_read_ca_dir(ca_dir, &ca)) != 0) {
		cli_error("fetch", "--ca-dir %s: %s", ca_dir, strerror(io));
		dynbuf_free(&ca);
		return CLI_EXIT_FAILURE;
	}
	req.output = archive;
	req.ca_pem = ca.data;
	req.ca_pem_len = ca.len;
	rc = download_file(&req, got, err, sizeof(err));
	dynbuf_free(&ca);
	if (rc != DOWNLOAD_OK) {
		cli_error("fetch", "%s", err);
		return rc == DOWNLOAD_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	fprintf(stderr, "fetch: %s: sha256 %s%s\n", req.url, got, req.sha256 ? " (as expected)" : " (not checked: no --sha256)");
	if (!unpack(archive, dest)) {
		unlink(archive);
		return CLI_EXIT_FAILURE;
	}
	unlink(archive);
	return CLI_EXIT_OK;
}
