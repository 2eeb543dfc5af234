/* Downloading one file over HTTP(S) with a size cap, a total time bound and a sha256 check while it streams. */
#include "util/download.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/errbuf.h"
#include "util/fileio.h"
#include "util/banned.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CA_PEM_MAX ((size_t)4 * 1024 * 1024)

/* The transfer's state: the output, the running hash and the count against the cap. */
struct sink {
	FILE *out;
	EVP_MD_CTX *md;
	size_t written;
	size_t max;
	bool too_big;
	bool io_error;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > s->max - s->written) {
		s->too_big = true;
		return 0;
	}
	if (fwrite(data, 1, len, s->out) != len) {
		s->io_error = true;
		return 0;
	}
	EVP_DigestUpdate(s->md, data, len);
	s->written += len;
	return len;
}

static bool valid_sha256(const char *hex)
{
	return strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64;
}

/* Sets the handle's options: the URL, the protocols, bounds, and trust. */
static void set_options(CURL *h, const struct download_request *req, struct sink *sink, struct curl_blob *roots, char *curl_err)
{
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, req->timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (roots)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, roots);
}

/* Hex of the finished digest into out (65 bytes). */
static void finish_hex(EVP_MD_CTX *md, char *out)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_DigestFinal_ex(md, hash, &len);
	for (size_t i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", hash[i]);
	out[64] = '\0';
}

/* The roots: the system bundle, then the extra PEM text. Returns false when out of memory or too large. */
static bool load_roots(const struct download_request *req, struct dynbuf *roots)
{
	if (!req->ca_pem || !req->ca_pem_len)
		return true;
	if (access(SYSTEM_CA_BUNDLE, R_OK) == 0 && (file_read_all(SYSTEM_CA_BUNDLE, roots) != 0 || dynbuf_addstr(roots, "\n") != DYNBUF_OK))
		return false;
	return dynbuf_add(roots, req->ca_pem, req->ca_pem_len) == DYNBUF_OK;
}

/* Opens req->output for the body (created or truncated, 0600) into sink->out. */
static enum download_err open_output(const struct download_request *req, struct sink *sink, char *errbuf, size_t errlen)
{
	int fd = open(req->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || !(sink->out = fdopen(fd, "wb"))) {
		errbuf_set(errbuf, errlen, "cannot open %s: %s", req->output, strerror(errno));
		if (fd >= 0)
			close(fd);
		return DOWNLOAD_IO;
	}
	return DOWNLOAD_OK;
}

/* What the finished transfer amounts to: the cap, a write error, a transfer error, or a digest to compare. */
static enum download_err judge(const struct download_request *req, struct sink *sink, CURLcode cc, const char *curl_err, char *got_sha256,
			       char *errbuf, size_t errlen)
{
	char hex[65];

	if (sink->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		errbuf_set(errbuf, errlen, "%s: the body passed the %zu-byte cap", req->url, req->max_bytes);
		return DOWNLOAD_TOO_BIG;
	}
	if (sink->io_error) {
		errbuf_set(errbuf, errlen, "cannot write %s", req->output);
		return DOWNLOAD_IO;
	}
	if (cc != CURLE_OK) {
		errbuf_set(errbuf, errlen, "cannot download %s: %s", req->url, curl_err[0] ? curl_err : curl_easy_strerror(cc));
		return DOWNLOAD_NETWORK;
	}
	finish_hex(sink->md, hex);
	if (req->sha256 && strcmp(hex, req->sha256) != 0) {
		errbuf_set(errbuf, errlen, "%s: sha256 %s, expected %s", req->url, hex, req->sha256);
		return DOWNLOAD_MISMATCH;
	}
	if (got_sha256)
		memcpy(got_sha256, hex, sizeof(hex));
	return DOWNLOAD_OK;
}

enum download_err download_file(const struct download_request *req, char *got_sha256, char *errbuf, size_t errlen)
{
	struct sink sink = {.max = req->max_bytes};
	char curl_err[CURL_ERROR_SIZE] = "";
	struct dynbuf roots;
	struct curl_blob blob;
	enum download_err rc;
	CURL *h = NULL;
	CURLcode cc;

	if (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0) {
		errbuf_set(errbuf, errlen, "%s: only http:// and https:// URLs are fetched", req->url);
		return DOWNLOAD_INVALID;
	}
	if (req->sha256 && !valid_sha256(req->sha256)) {
		errbuf_set(errbuf, errlen, "the sha256 must be 64 lowercase hex digits");
		return DOWNLOAD_INVALID;
	}
	dynbuf_init(&roots, CA_PEM_MAX);
	if (!load_roots(req, &roots)) {
		errbuf_set(errbuf, errlen, "cannot load the trusted CAs");
		dynbuf_free(&roots);
		return DOWNLOAD_NOMEM;
	}
	if ((rc = open_output(req, &sink, errbuf, errlen)) != DOWNLOAD_OK) {
		dynbuf_free(&roots);
		return rc;
	}
	sink.md = EVP_MD_CTX_new();
	h = curl_easy_init();
	if (!sink.md || !h || EVP_DigestInit_ex(sink.md, EVP_sha256(), NULL) != 1) {
		errbuf_set(errbuf, errlen, "out of memory");
		rc = DOWNLOAD_NOMEM;
	} else {
		blob = (struct curl_blob){.data = roots.data, .len = roots.len, .flags = CURL_BLOB_NOCOPY};
		set_options(h, req, &sink, roots.len ? &blob : NULL, curl_err);
		cc = curl_easy_perform(h);
		if (fclose(sink.out) != 0)
			sink.io_error = true;
		sink.out = NULL;
		rc = judge(req, &sink, cc, curl_err, got_sha256, errbuf, errlen);
	}
	if (sink.out)
		fclose(sink.out);
	if (rc != DOWNLOAD_OK)
		unlink(req->output);
	curl_easy_cleanup(h);
	EVP_MD_CTX_free(sink.md);
	dynbuf_free(&roots);
	return rc;
}

static bool pem_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".crt") == 0) || (n > 4 && strcmp(name + n - 4, ".pem") == 0);
}

int download_read_ca_dir(const char *dir, struct dynbuf *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	int rc = 0;

	if (!d)
		return errno;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !pem_name(e->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		rc = file_read_all(path, out);
		if (rc == 0 && dynbuf_addstr(out, "\n") != DYNBUF_OK)
			rc = EFBIG;
	}
	closedir(d);
	return rc;
}
