/* Downloading one file over HTTP(S) with a size cap, a total time bound and a sha256 check while it streams. */
#ifndef MAC_UTIL_DOWNLOAD_H
#define MAC_UTIL_DOWNLOAD_H

#include <stddef.h>

#include "util/dynbuf.h"

enum download_err {
	DOWNLOAD_OK = 0,
	DOWNLOAD_INVALID,  /* a bad argument: URL scheme, digest text */
	DOWNLOAD_IO,       /* the output file could not be written */
	DOWNLOAD_NETWORK,  /* the transfer failed (connection, TLS, timeout, an HTTP error status) */
	DOWNLOAD_TOO_BIG,  /* the body passed max_bytes */
	DOWNLOAD_MISMATCH, /* the body's sha256 is not the expected one */
	DOWNLOAD_NOMEM,
};

struct download_request {
	const char *url;    /* http:// or https://; redirects are followed only to http(s), at most 5 */
	const char *sha256; /* 64 lowercase hex digits the body must hash to, or NULL for none */
	const char *output; /* the file written (created or truncated, mode 0600) */
	size_t max_bytes;   /* the body's cap */
	long timeout_s;     /* the whole transfer's bound */
	const char *ca_pem; /* extra PEM roots trusted besides the system's, or NULL; borrowed */
	size_t ca_pem_len;
};

/*
 * Downloads req->url into req->output. The sha256 is computed as the body
 * arrives; on any error (a mismatch included) the output file is removed and
 * errbuf says what failed. When got_sha256 is not NULL it receives the
 * body's digest in hex (65 bytes) on success.
 */
enum download_err download_file(const struct download_request *req, char *got_sha256, char *errbuf, size_t errlen);

/* Appends every regular file of dir whose name ends in ".crt" or ".pem" to out (PEM text). Returns 0 or an errno. */
int download_read_ca_dir(const char *dir, struct dynbuf *out);

#endif
