/* What a registry request and its answer are, and the registry client's options: the types the client's rooms
 * (client.c, auth.c, connection.c, transfer.c) and its callers share. */
#ifndef MAC_REGISTRY_REQUEST_H
#define MAC_REGISTRY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/dynbuf.h"

#define REG_INSECURE_MAX 16 /* --insecure-registry entries */
#define REG_CA_FILES_MAX 4  /* --ca-file entries */

struct reg_client_options {
	const char *docker_config_dir;          /* folder with config.json; NULL for anonymous access */
	const char *ca_files[REG_CA_FILES_MAX]; /* extra PEM CA bundles trusted besides the system's */
	size_t ca_file_count;
	const char *system_ca_dir;                    /* OpenSSL-hashed directory of the system's CAs; NULL: /etc/ssl/certs */
	const char *insecure_hosts[REG_INSECURE_MAX]; /* hosts (host[:port]) spoken to in plain HTTP */
	size_t insecure_count;
	long connect_timeout_ms;    /* 0: 10 s */
	long low_speed_time_s;      /* abort a transfer slower than low_speed_bps for this long; 0: 30 s */
	long low_speed_bps;         /* the slowest a transfer may be, in bytes a second; 0: 1 KiB/s */
	long transfer_timeout_s;    /* the longest one transfer (one attempt) may take in all; 0: 10 minutes */
	unsigned max_retries;       /* retries after connection errors, 5xx and 429; 0 means none */
	unsigned backoff_base_ms;   /* first retry delay; 0: 250 ms */
	unsigned backoff_cap_ms;    /* longest retry delay; 0: 8 s */
	unsigned retry_after_cap_s; /* longest Retry-After honoured; 0: 30 s */
};

struct reg_request {
	const char *method;       /* GET, HEAD, PUT, POST, PATCH, DELETE */
	const char *host;         /* API host[:port] */
	const char *path;         /* "/v2/..." with escaped query; or an absolute URL (a Location): on another host, it gets
				     no Authorization, and a TLS registry's is never plain HTTP */
	const char *accept;       /* Accept header, or NULL */
	const char *content_type; /* Content-Type of the body, or NULL */
	const void *body;         /* request body in memory, or NULL */
	size_t body_len;
	FILE *upload; /* or a request body streamed from a file (rewound for retries) */
	size_t upload_len;
	FILE *download;         /* when set, a 2xx response body is written here (truncated for retries) */
	long long download_max; /* with download: the most bytes written there (the size the manifest declares) */
	const char *scope;      /* token scopes, space separated: "repository:team/app:pull,push" */
	size_t body_max;        /* largest response body kept in memory; 0: 64 KiB */
};

struct reg_response {
	long status;
	char content_type[256];
	char docker_digest[160];
	char location[2048];
	struct dynbuf body; /* the response body (not for 2xx with download set) */
	unsigned retries;   /* retries this request needed */
};

#define REG_BATCH_MAX 16 /* requests one batch sends at once */

#endif
