/* A MultiArchBuild's spec as the reconciler reads it: normalised platforms, policy with durations in seconds,
 * builder and push secret; checks what the schema cannot (and the API server may not have). */
#ifndef MAC_CONTROLLER_BUILDSPEC_H
#define MAC_CONTROLLER_BUILDSPEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/error.h"
#include "registry/platform.h"

#define CTL_PLATFORMS_MAX 8
#define CTL_IMAGE_MAX 513
#define CTL_REQUEST_MAX 65 /* the requested-at annotation's value, at most 64 characters */
#define CTL_ROUND_MAX 24   /* "g<generation>" or "g<generation>r<8 hex>" */

struct ctl_platform {
	char text[REG_PLATFORM_STR_MAX];  /* as written in spec.platforms */
	struct reg_platform platform;     /* normalised */
	char label[REG_PLATFORM_STR_MAX]; /* "linux-arm64": for labels and names */
	bool optional;
};

/* The builder backends, spec.builder.type. */
enum ctl_backend {
	CTL_BACKEND_BUILDKIT = 0, /* the default */
	CTL_BACKEND_BUILDAH,
	CTL_BACKEND_KANIKO,
};
#define CTL_BACKEND_COUNT 3

/* The backend text names ("buildkit", "buildah", "kaniko") in *out; false when it names none. */
bool ctl_backend_parse(const char *text, enum ctl_backend *out);

/* The API spelling of backend; "" outside the enum. Static storage. */
const char *ctl_backend_name(enum ctl_backend backend);

/* What is kept of finished rounds: spec.retention over defaults.retention. A member is -1 where neither sets it. */
struct ctl_retention {
	int history;   /* entries of status.history (0 to 50; default 10) */
	int succeeded; /* earlier succeeded rounds whose pods and Jobs stay (0 to 20; default 1) */
	int failed;    /* earlier failed or stopped rounds whose pods and Jobs stay (0 to 20; default 1) */
	long ttl_s;    /* the finished round's own pods and Job go this long after it finished (default: they stay) */
};
#define CTL_HISTORY_MAX 50

struct ctl_build_spec {
	long generation;
	char requested_at[CTL_REQUEST_MAX]; /* the multiarch.dev/requested-at annotation; "" when absent */
	char request_tag[9];                /* 8 hex of requested_at ("" when absent): the children's request label */
	char round[CTL_ROUND_MAX];          /* the round in children's names: the generation and the request tag */
	char image[CTL_IMAGE_MAX];
	char repository[CTL_IMAGE_MAX]; /* image's "domain/repository", where per-platform images go by digest */
	struct ctl_platform platforms[CTL_PLATFORMS_MAX];
	size_t platform_count;
	int retries;      /* extra attempts per platform */
	long timeout_s;   /* per attempt */
	long node_wait_s; /* how long a pod may wait for a node of its architecture; -1: the configuration's default */
	bool fail_missing_nodes;
	enum ctl_backend backend; /* spec.builder.type */
	char builder_image[CTL_IMAGE_MAX];
	char push_secret[254];     /* "" for anonymous pushes */
	char service_account[254]; /* spec.serviceAccountName: "" for the configuration's default, or none */
	struct ctl_retention retention;
};

/*
 * Reads the spec of a MultiArchBuild object (borrowed). Applies the schema's
 * defaults when the server did not (an old CRD), normalises platforms, and
 * refuses with CTL_E_INVALID and a message for status what the controller
 * cannot act on: a missing image, no platform, an unknown or duplicate
 * platform (arm64 written two ways), a bad duration, a requested-at
 * annotation over 64 characters.
 */
enum ctl_err ctl_build_spec_read(const cJSON *mab, struct ctl_build_spec *out, char *errbuf, size_t errlen);

/* Reads a retention object (borrowed; NULL: nothing set) found at where ("spec.retention") into out; CTL_E_INVALID
 * with a message naming the key for an unknown key or a value out of range. */
enum ctl_err ctl_retention_parse(const cJSON *obj, const char *where, struct ctl_retention *out, char *errbuf, size_t errlen);

/* spec's retention with defaults (may be NULL) under it and the built-in defaults under both. */
struct ctl_retention ctl_retention_resolve(const struct ctl_retention *spec, const struct ctl_retention *defaults);

/* Whether child (a pod or Job, borrowed) was made for spec's round: its generation and request labels. */
bool ctl_child_in_round(const cJSON *child, const struct ctl_build_spec *spec);

/* Parses a duration such as "45m", "1h30m", "90s", "1.5h" or "500ms" into whole seconds; false when malformed. */
bool ctl_parse_duration(const char *s, long *seconds);

#endif
