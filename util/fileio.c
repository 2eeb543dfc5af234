/* Reading whole small files into capped buffers, and base64 decoding. */
#include "util/fileio.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/banned.h"

int file_read_all(const char *path, struct dynbuf *out)
{
	char chunk[8192];
	size_t n;
	int err = 0;
	struct stat st;
	FILE *f = fopen(path, "rb");

	if (!f)
		return errno ? errno : EIO;
	/* fopen succeeds on a directory, whose read then fails with a misleading EIO */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return EISDIR;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		enum dynbuf_err e = dynbuf_add(out, chunk, n);
		if (e) {
			err = e == DYNBUF_TOO_BIG ? EFBIG : ENOMEM;
			break;
		}
	}
	if (!err && ferror(f))
		err = EIO;
	OPENSSL_cleanse(chunk, sizeof(chunk));
	fclose(f);
	return err;
}

bool base64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
	char *clean;
	size_t n = 0, pad = 0;
	int got;

	*out = NULL;
	*out_len = 0;
	if (len > (size_t)64 * 1024 * 1024)
		return false;
	clean = malloc(len + 1);
	if (!clean)
		return false;
	for (size_t i = 0; i < len; i++)
		if (in[i] != ' ' && in[i] != '\n' && in[i] != '\r' && in[i] != '\t')
			clean[n++] = in[i];
	if (n == 0 || n % 4 != 0) {
		free(clean);
		return false;
	}
	*out = malloc(n / 4 * 3 + 1);
	if (!*out) {
		free(clean);
		return false;
	}
	got = EVP_DecodeBlock(*out, (const unsigned char *)clean, (int)n);
	if (clean[n - 1] == '=')
		pad++;
	if (clean[n - 2] == '=')
		pad++;
	OPENSSL_cleanse(clean, n);
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(*out);
		*out = NULL;
		return false;
	}
	*out_len = (size_t)got - pad;
	(*out)[*out_len] = '\0';
	return true;
}
