/* The registry client's connections: which hosts are spoken to in plain HTTP, the CAs a handle trusts, and the one
 * multi handle through which every transfer runs, so that all of them share one pool of open connections. */
#include "registry/connection.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <string.h>
#include "util/banned.h"

bool reg_client_insecure(const struct reg_client *c, const char *host)
{
	for (size_t i = 0; i < c->opts.insecure_count; i++)
		if (strcmp(c->opts.insecure_hosts[i], host) == 0)
			return true;
	return false;
}

/*
 * The CAs handle h trusts: the private ones from memory, the system's from
 * their hashed directory when there is one (parsing the whole system bundle
 * costs about 20 ms a TLS handshake), else from curl's default bundle.
 */
void reg_client_set_trust(const struct reg_client *c, CURL *h)
{
	if (c->ca_blob.len) {
		struct curl_blob blob = {.data = c->ca_blob.data, .len = c->ca_blob.len, .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->system_ca_dir) {
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
	}
	if (c->system_ca_dir)
		curl_easy_setopt(h, CURLOPT_CAPATH, c->system_ca_dir);
}

/* The multi handle, created on first use; false when memory runs out. */
static bool have_multi(struct reg_client *c)
{
	if (!c->multi) {
		c->multi = curl_multi_init();
		if (!c->multi)
			return false;
		/* HTTP/2 streams share one connection; HTTP/1.1 opens at most this many */
		curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
		curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)REG_BATCH_MAX);
	}
	return true;
}

/*
 * Performs the n set-up handles at once through the client's multi handle,
 * so every request, one by one or in a batch, shares one pool of open
 * connections. codes[i] gets each transfer's result; a handle the multi
 * handle could not run gets CURLE_FAILED_INIT. At most REG_BATCH_MAX.
 */
void reg_client_perform(struct reg_client *c, CURL *const *handles, size_t n, CURLcode *codes)
{
	bool running[REG_BATCH_MAX] = {0};
	size_t left = 0;
	int still_running, queued;
	CURLMsg *msg;

	if (n > REG_BATCH_MAX)
		n = REG_BATCH_MAX;
	for (size_t i = 0; i < n; i++) {
		codes[i] = CURLE_FAILED_INIT;
		if (have_multi(c) && curl_multi_add_handle(c->multi, handles[i]) == CURLM_OK) {
			running[i] = true;
			left++;
		}
	}
	while (left) {
		if (curl_multi_perform(c->multi, &still_running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(c->multi, &queued))) {
			for (size_t i = 0; msg->msg == CURLMSG_DONE && i < n; i++) {
				if (!running[i] || msg->easy_handle != handles[i])
					continue;
				codes[i] = msg->data.result;
				curl_multi_remove_handle(c->multi, handles[i]);
				running[i] = false;
				left--;
			}
		}
		if (left && curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	for (size_t i = 0; i < n; i++)
		if (running[i])
			curl_multi_remove_handle(c->multi, handles[i]);
}
