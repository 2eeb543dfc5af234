/* The children of a MultiArchBuild as the API server receives them: one build pod per platform attempt, pinned
 * to its architecture, and the index Job that merges the per-platform digests. */
#ifndef MAC_CONTROLLER_CHILDREN_H
#define MAC_CONTROLLER_CHILDREN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/builderconfig.h"
#include "controller/buildspec.h"
#include "controller/error.h"

/* Images and settings the children get from the controller's configuration. */
struct ctl_child_options {
	const char *buildkit_image; /* default builder images, when spec.builder.image is empty */
	const char *buildah_image;
	const char *kaniko_image;
	const char *index_image;                 /* runs `multiarch-controller index` in the index Job */
	long index_backoff_limit;                /* retries of the index Job's pod */
	const char *const *insecure_registries;  /* hosts spoken to over plain HTTP; NULL-terminated, may be NULL */
	const struct ctl_builder_config *config; /* cluster-wide builder configuration; NULL for none */
};

/* Fills o with the built-in defaults. */
void ctl_child_options_init(struct ctl_child_options *o);

/*
 * The build pod of spec->platforms[platform] for attempt (1-based), owned by
 * build (borrowed; its metadata gives name, namespace and uid). Returns a new
 * object, or CTL_E_INVALID / CTL_E_NOMEM with a message in errbuf.
 */
enum ctl_err ctl_build_pod(const cJSON *build, const struct ctl_build_spec *spec, size_t platform, int attempt,
			   const struct ctl_child_options *opts, cJSON **out, char *errbuf, size_t errlen);

/*
 * The index Job named job_name that merges sources (count references
 * "repo@sha256:...", each with its platform text in platforms) into spec->image.
 */
enum ctl_err ctl_index_job(const cJSON *build, const struct ctl_build_spec *spec, const char *job_name, const char *const *sources,
			   const char *const *platforms, size_t count, const struct ctl_child_options *opts, cJSON **out, char *errbuf,
			   size_t errlen);

/* The nodeSelector a platform's pods get: the user's, the platform's own overrides, then kubernetes.io/os and arch. */
cJSON *ctl_platform_node_selector(const cJSON *build, const struct ctl_platform *platform);

/* The tolerations a platform's pods get: the cluster's defaults (config may be NULL), the user's, then the platform's own. */
cJSON *ctl_platform_tolerations(const cJSON *build, const struct ctl_platform *platform, const struct ctl_builder_config *config);

#define CTL_STAGING_SUFFIX_DEFAULT "-staging" /* registries.stagingSuffix when the configuration sets none */
#define CTL_CACHE_SUFFIX "-cache"             /* the build cache's repository: spec.cache.repository, else this */

/* Where platform p's image is pushed, into buf: spec's repository for BuildKit (by digest, no tag), the staging
 * repository (spec's repository and registries.stagingSuffix) for buildah and kaniko, which push only to a tag.
 * false when it does not fit. */
bool ctl_push_repository(const struct ctl_build_spec *spec, const struct ctl_builder_config *config, char *buf, size_t len);

/* The build cache's repository of build (borrowed), into buf: spec.cache.repository, else spec's repository and
 * CTL_CACHE_SUFFIX. false when it does not fit. */
bool ctl_cache_repository(const cJSON *build, const struct ctl_build_spec *spec, char *buf, size_t len);

/* The name of the ConfigMap with a round's builder files ("<build>-<round>-builder"); false when it does not fit. */
bool ctl_builder_config_map_name(char *buf, size_t len, const char *build, const char *round);

/*
 * The ConfigMap the build pods and the index Job of a generation mount when
 * the cluster configuration has files for them (ctl_builder_config_has_files()):
 * ca.crt, buildkitd.toml, registries.conf. NULL when out of memory.
 */
cJSON *ctl_builder_config_map(const cJSON *build, const struct ctl_build_spec *spec, const struct ctl_child_options *opts);

#endif
