/* The children of a MultiArchBuild as the API server receives them: one build pod per platform attempt, pinned
 * to its architecture, and the index Job that merges the per-platform digests. */
#ifndef MAC_CONTROLLER_CHILDREN_H
#define MAC_CONTROLLER_CHILDREN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/builderconfig.h"
#include "controller/buildspec.h"
#include "controller/childsettings.h"
#include "controller/error.h"

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

/* The name of the ConfigMap with a round's builder files ("<build>-<round>-builder"); false when it does not fit. */
bool ctl_builder_config_map_name(char *buf, size_t len, const char *build, const char *round);

/*
 * The ConfigMap the build pods and the index Job of a generation mount when
 * the cluster configuration has files for them (ctl_builder_config_has_files()):
 * ca.crt, buildkitd.toml, registries.conf. NULL when out of memory.
 */
cJSON *ctl_builder_config_map(const cJSON *build, const struct ctl_build_spec *spec, const struct ctl_child_options *opts);

#endif
