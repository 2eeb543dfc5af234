/* One event loop over curl's multi interface: the transfers of many threads share a handful of HTTP/2 connections
 * (many streams on each), with a bound on how many are in flight; each ends with its callback. Thread-safe. */
#ifndef MAC_KUBE_MUX_H
#define MAC_KUBE_MUX_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube/error.h"

struct kube_mux_options {
	unsigned max_in_flight;   /* transfers handed to curl at once; more wait in order; 0: 64 */
	unsigned max_connections; /* connections to one host (an HTTP/2 one carries many streams); 0: 4 */
};

/* How the loop has been used, for metrics and tests. */
struct kube_mux_stats {
	unsigned long long transfers;   /* ended */
	unsigned long long connections; /* opened (a transfer that reused one opened none) */
	unsigned in_flight;             /* now in curl's hands */
	unsigned waiting;               /* now waiting for room under max_in_flight */
	unsigned in_flight_peak;
};

struct kube_mux;

/* Called once per submitted transfer, on the loop's thread and with no lock held, when it ended: rc is curl's
 * result, CURLE_ABORTED_BY_CALLBACK when the loop was freed before it ended. It must not block for long. */
typedef void (*kube_mux_done_fn)(void *ctx, CURLcode rc);

/* Starts the loop's thread. */
enum kube_err kube_mux_new(const struct kube_mux_options *opts, struct kube_mux **out, char *errbuf, size_t errlen);

/*
 * Ends the loop: every transfer in flight or waiting ends with CURLE_ABORTED_BY_CALLBACK (its callback runs
 * before this returns), then the thread is joined. No thread may submit meanwhile. Accepts NULL.
 */
void kube_mux_free(struct kube_mux *m);

/*
 * Hands h, configured for one transfer, to the loop; never waits. (CURLOPT_PIPEWAIT on h makes it wait for a
 * connection being set up that may multiplex, rather than open another: right for HTTPS, where ALPN tells at once.) h stays the caller's: it must not be touched
 * or freed until done(ctx, rc) ran. False (done not called) once the loop is being freed or out of memory.
 */
bool kube_mux_submit(struct kube_mux *m, CURL *h, kube_mux_done_fn done, void *ctx);

/* Runs h on the loop and waits for it to end: curl_easy_perform() for a caller that shares connections. */
CURLcode kube_mux_perform(struct kube_mux *m, CURL *h);

void kube_mux_get_stats(struct kube_mux *m, struct kube_mux_stats *out);

#endif
