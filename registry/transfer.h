/* One registry transfer's answer as curl hands it over: headers, body within its bound, retryable errors. */
#ifndef MAC_REGISTRY_TRANSFER_H
#define MAC_REGISTRY_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "registry/challenge.h"
#include "registry/request.h"

/*
 * Per-attempt state filled by the callbacks below. The caller owns it and
 * resp; download, when set, is where a successful body goes (at most
 * download_max bytes), otherwise the body goes to resp->body (at most
 * body_max bytes). too_big says a bound stopped the transfer.
 */
struct reg_transfer {
	struct reg_response *resp;
	size_t body_max;
	FILE *download;
	long long download_max;
	long long downloaded;
	bool too_big;
	char challenge[REG_CHALLENGE_MAX + 1];
	long retry_after_s; /* Retry-After in seconds, -1 when absent or an HTTP date */
	long status;        /* of the response being received, from its status line */
};

/* CURLOPT_HEADERFUNCTION with userp a struct reg_transfer: a status line starts a new response (of a redirect chain)
 * and clears what the previous one set; Content-Type, Docker-Content-Digest, Location, the first WWW-Authenticate and
 * Retry-After are kept, each truncated to its field. Never fails: returns size * nmemb. */
size_t reg_transfer_header(char *line, size_t size, size_t nmemb, void *userp);

/* CURLOPT_WRITEFUNCTION with userp a struct reg_transfer: returns less than size * nmemb (which stops the transfer)
 * when a bound is passed (too_big set), the download file cannot be written or memory runs out. */
size_t reg_transfer_body(char *data, size_t size, size_t nmemb, void *userp);

/* Whether a transfer that ended with rc may succeed when tried again (connection, timeout and HTTP/2 errors). */
bool reg_transfer_retryable(CURLcode rc);

#endif
