/* The parts the children of a build are made of, shared by children.c, podparts.c, buildinputs.c and backends.c
 * and by nothing else: where things are mounted, the pod pieces, the build's inputs, and the backend table. Every
 * function builds through a struct json_builder, whose ok a failure clears. */
#ifndef MAC_CONTROLLER_CHILDPARTS_H
#define MAC_CONTROLLER_CHILDPARTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "controller/builderconfig.h"
#include "controller/buildspec.h"
#include "controller/childsettings.h"
#include "util/jsonbuild.h"

#define DOCKER_CONFIG_DIR "/var/run/multiarch/docker"
#define WORKSPACE_DIR "/workspace"
#define METADATA_FILE "/tmp/build-metadata.json"
#define TERMINATION_LOG "/dev/termination-log"
#define BUILDER_CONFIG_DIR "/etc/multiarch/builder"
#define CERTS_DIR "/etc/multiarch/certs"
#define GIT_SECRET_DIR "/var/run/multiarch/git"
#define BUILD_SECRETS_DIR "/var/run/multiarch/build-secrets"

/* Git (libcurl) trusts only hashed CA folders or one bundle file, so the mounted private CAs are joined with the
 * system's bundle into one file that git is pointed at; Go programs (buildkitd, kaniko) read SSL_CERT_DIR as is. */
#define GIT_TRUST_STEP                                                                                                                     \
	"if [ -d " CERTS_DIR " ]; then cat $(ls /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt "                      \
	"2>/dev/null) " CERTS_DIR "/*.crt >/tmp/ca-bundle.crt && export GIT_SSL_CAINFO=/tmp/ca-bundle.crt; fi; "

/* podparts.c: pieces of any pod */

/* An environment variable NAME=value of container. */
void child_add_env(struct json_builder *d, cJSON *container, const char *name, const char *value);

/* An environment variable the kubelet takes from key of Secret secret: the value never appears in the pod spec. */
void child_add_env_from_secret(struct json_builder *d, cJSON *container, const char *name, const char *secret, const char *key);

/* A mount of volume at path in container, read-only when read_only. */
void child_add_mount_mode(struct json_builder *d, cJSON *container, const char *volume, const char *path, bool read_only);

/* A read-only mount of volume at path in container. */
void child_add_mount(struct json_builder *d, cJSON *container, const char *volume, const char *path);

/* A volume named name in pod_spec; returns it for the caller to add its source (NULL when out of memory). */
cJSON *child_add_volume(struct json_builder *d, cJSON *pod_spec, const char *name);

/* An item {key, path} of a volume source's items. */
void child_add_item(struct json_builder *d, cJSON *items, const char *key, const char *path);

/* The spec.perPlatform entry of build (borrowed) for platform, or NULL. */
const cJSON *child_per_platform(const cJSON *build, const struct ctl_platform *platform);

/* Copies the string members of from into into, replacing those of the same name. */
void child_merge_strings(struct json_builder *d, cJSON *into, const cJSON *from);

/* The metadata of a child: name, namespace, labels, and the controller ownerReference to build. Caller owns it. */
cJSON *child_metadata(struct json_builder *d, const cJSON *build, const char *name, const char *role, const struct ctl_build_spec *spec);

/* The pod's identity: serviceAccountName (the build's, else the configuration's default) with its token mounted;
 * with neither, the namespace's default account and no token. */
void child_identity(struct json_builder *d, cJSON *pod_spec, const struct ctl_build_spec *spec, const struct ctl_builder_config *config);

/* Whether pod_spec has a volume named name. */
bool child_has_volume(const cJSON *pod_spec, const char *name);

/* buildinputs.c: what a build reads and where it pushes, mounted into its pods */

/* The push secret as a docker config directory (config.json) in container; nothing when secret is empty. */
void child_add_docker_config(struct json_builder *d, cJSON *pod_spec, cJSON *container, const char *secret);

/* HTTP(S)_PROXY and NO_PROXY (both cases): the build's own settings over the cluster's (config may be NULL). */
void child_add_proxy(struct json_builder *d, cJSON *container, const cJSON *build, const struct ctl_builder_config *config);

/* The private CAs (the cluster's, from ConfigMap config_map, and the build's caBundleRef) in CERTS_DIR, trusted
 * through SSL_CERT_DIR on top of the system's. Returns how many bundles there are. */
int child_add_trust(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build, const char *config_map,
		    const struct ctl_builder_config *config);

/* The generated registry files (buildkitd.toml, registries.conf) of ConfigMap config_map, when config has any. */
void child_add_registry_files(struct json_builder *d, cJSON *pod_spec, cJSON *container, const char *config_map,
			      const struct ctl_builder_config *config);

/* The Git source's basic-auth Secret mounted in GIT_SECRET_DIR; returns its name (borrowed from build) or NULL. */
const char *child_add_git_secret(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build);

/* spec.buildSecrets, each Secret key mounted in BUILD_SECRETS_DIR as a file named by its id. Returns how many. */
int child_add_build_secrets(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build);

/* Appends a --secret=id=ID,src=FILE flag per spec.buildSecrets entry to args. */
void child_build_secret_flags(struct json_builder *d, cJSON *args, const cJSON *build);

/* Appends "<prefix>KEY=VALUE" build arguments to args: the build's, then the platform's, which win. */
void child_add_build_args(struct json_builder *d, cJSON *args, const cJSON *build, const struct ctl_platform *platform, const char *prefix);

/* The build context as the builders take it: a Git URL with "#revision[:subdir]", or a folder of the workspace.
 * Returns an allocated string (the caller frees it), or NULL with d->ok cleared. */
char *child_source_context(struct json_builder *d, const cJSON *build);

/* Whether a context of child_source_context() is a folder of the workspace (not a Git URL). */
bool child_local_context(const char *context);

/* The workspace: a ConfigMap source mounted read-only, or an emptyDir that a source init container running
 * fetch_image fills from an HTTP archive. Called once the pod has its trust volume. */
void child_add_workspace(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build, const char *fetch_image,
			 const struct ctl_builder_config *config);

/* backends.c: the builder container of each backend */

/* What a backend's builder container is made from. Everything is borrowed. */
struct child_build_inputs {
	const cJSON *build;
	const struct ctl_build_spec *spec;
	const struct ctl_platform *platform;
	const struct ctl_builder_config *config; /* may be NULL */
	const char *git_secret;                  /* the Git source's Secret, or NULL */
	bool registry_files;                     /* the builder ConfigMap holds registry files */
	bool trusted;                            /* private CAs are mounted in CERTS_DIR */
};

/* One backend: its default image, its container's command and arguments, and its security contexts. */
struct child_backend {
	const char *(*default_image)(const struct ctl_child_options *opts);
	void (*container)(struct json_builder *d, cJSON *container, const struct child_build_inputs *in);
	void (*security)(struct json_builder *d, cJSON *pod_security, cJSON *container_security);
};

/* The table entry of backend (the BuildKit one for a value outside the enum). Static storage. */
const struct child_backend *child_backend_of(enum ctl_backend backend);

#endif
