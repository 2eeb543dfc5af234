/* What every child of a build is made with: the images and settings of the controller's configuration, and the
 * repositories its images are pushed to; below children.h, so that the parts of the children read them. */
#ifndef MAC_CONTROLLER_CHILDSETTINGS_H
#define MAC_CONTROLLER_CHILDSETTINGS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/builderconfig.h"
#include "controller/buildspec.h"

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

#define CTL_STAGING_SUFFIX_DEFAULT "-staging" /* registries.stagingSuffix when the configuration sets none */
#define CTL_CACHE_SUFFIX "-cache"             /* the build cache's repository: spec.cache.repository, else this */

/* Where platform p's image is pushed, into buf: spec's repository for BuildKit (by digest, no tag), the staging
 * repository (spec's repository and registries.stagingSuffix) for buildah and kaniko, which push only to a tag.
 * false when it does not fit. */
bool ctl_push_repository(const struct ctl_build_spec *spec, const struct ctl_builder_config *config, char *buf, size_t len);

/* The build cache's repository of build (borrowed), into buf: spec.cache.repository, else spec's repository and
 * CTL_CACHE_SUFFIX. false when it does not fit. */
bool ctl_cache_repository(const cJSON *build, const struct ctl_build_spec *spec, char *buf, size_t len);

#endif
