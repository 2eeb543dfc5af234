/* The seam inside kube/ between the client's handles and credentials (client.c) and its requests (request.c). */
#ifndef MAC_KUBE_CLIENTPOOL_H
#define MAC_KUBE_CLIENTPOOL_H

#include <curl/curl.h>

#include "kube/client.h"

struct kube_mux;

const struct kube_client_options *kube_client_options_of(const struct kube_client *c);
const struct kube_config *kube_client_config_of(const struct kube_client *c);

/* The client's transfer loop, which every request but the streams runs on. */
struct kube_mux *kube_client_mux(struct kube_client *c);

/* Waits for the client-side rate limit (no wait without one). */
void kube_client_rate_wait(struct kube_client *c);

/* The wait before retry number attempt + 1, with jitter from the client's generator. */
unsigned kube_client_backoff_ms(struct kube_client *c, unsigned attempt);

/* The headers a handle from kube_client_acquire() was configured with (credentials, Accept); borrowed. */
struct curl_slist *kube_handle_headers(void *handle);

#endif
