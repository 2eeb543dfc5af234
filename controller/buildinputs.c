/* What a build reads and where it pushes, mounted into its pods: the push secret, proxy settings, private CAs,
 * registry files, Git and build secrets, build arguments, and the source as a workspace or a Git context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/childparts.h"
#include "util/dynbuf.h"
#include "util/jsonget.h"
#include "util/banned.h"

/* The push secret's volume and mount, as a docker config directory (config.json). */
void child_add_docker_config(struct json_builder *d, cJSON *pod_spec, cJSON *container, const char *secret)
{
	cJSON *src;

	if (!secret || !secret[0])
		return;
	src = jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "docker-config"), "secret"));
	jb_put_str(d, src, "secretName", secret);
	child_add_item(d, jb_array_in(d, src, "items"), ".dockerconfigjson", "config.json");
	child_add_mount(d, container, "docker-config", DOCKER_CONFIG_DIR);
	child_add_env(d, container, "DOCKER_CONFIG", DOCKER_CONFIG_DIR);
}

/* HTTP(S)_PROXY and NO_PROXY (both cases): the build's own settings over the cluster's; NO_PROXY lists are joined. */
void child_add_proxy(struct json_builder *d, cJSON *container, const cJSON *build, const struct ctl_builder_config *config)
{
	const cJSON *proxy = json_at(json_at(build, "spec", NULL), "proxy", NULL);
	const char *http = json_nonempty_str_at(proxy, "httpProxy", NULL), *https = json_nonempty_str_at(proxy, "httpsProxy", NULL);
	const char *no = json_nonempty_str_at(proxy, "noProxy", NULL), *cluster_no = config ? config->no_proxy : NULL;
	char joined[4200];

	if (!http && config)
		http = config->http_proxy;
	if (!https && config)
		https = config->https_proxy;
	snprintf(joined, sizeof(joined), "%s%s%s", cluster_no ? cluster_no : "", cluster_no && no ? "," : "", no ? no : "");
	if (http) {
		child_add_env(d, container, "HTTP_PROXY", http);
		child_add_env(d, container, "http_proxy", http);
	}
	if (https) {
		child_add_env(d, container, "HTTPS_PROXY", https);
		child_add_env(d, container, "https_proxy", https);
	}
	if (joined[0]) {
		child_add_env(d, container, "NO_PROXY", joined);
		child_add_env(d, container, "no_proxy", joined);
	}
}

/* Private CAs (the cluster's, from the generated ConfigMap, and the build's caBundleRef) in CERTS_DIR, trusted
 * through SSL_CERT_DIR on top of the system's. Returns how many bundles there are. */
int child_add_trust(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build, const char *config_map,
		    const struct ctl_builder_config *config)
{
	const cJSON *ref = json_at(json_at(build, "spec", NULL), "caBundleRef", NULL);
	const char *user_cm = json_nonempty_str_at(ref, "name", NULL), *user_key = json_nonempty_str_at(ref, "key", NULL);
	cJSON *sources, *cm;
	int count = 0;

	if (!(config && config->ca_bundle) && !user_cm)
		return 0;
	sources = jb_array_in(d, jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "trust"), "projected")), "sources");
	if (config && config->ca_bundle) {
		cm = jb_need(d, cJSON_AddObjectToObject(jb_append(d, sources, cJSON_CreateObject()), "configMap"));
		jb_put_str(d, cm, "name", config_map);
		child_add_item(d, jb_array_in(d, cm, "items"), "ca.crt", "cluster-ca.crt");
		count++;
	}
	if (user_cm) {
		cm = jb_need(d, cJSON_AddObjectToObject(jb_append(d, sources, cJSON_CreateObject()), "configMap"));
		jb_put_str(d, cm, "name", user_cm);
		child_add_item(d, jb_array_in(d, cm, "items"), user_key ? user_key : "ca.crt", "build-ca.crt");
		count++;
	}
	child_add_mount(d, container, "trust", CERTS_DIR);
	child_add_env(d, container, "SSL_CERT_DIR", "/etc/ssl/certs:" CERTS_DIR);
	return count;
}

/* The generated registry files (buildkitd.toml, registries.conf) of the cluster configuration. */
void child_add_registry_files(struct json_builder *d, cJSON *pod_spec, cJSON *container, const char *config_map,
			      const struct ctl_builder_config *config)
{
	if (!config || (cJSON_GetArraySize(config->mirrors) == 0 && cJSON_GetArraySize(config->insecure) == 0))
		return;
	jb_put_str(d, jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "builder-config"), "configMap")), "name",
		   config_map);
	child_add_mount(d, container, "builder-config", BUILDER_CONFIG_DIR);
}

/* A private Git repository's credentials, a kubernetes.io/basic-auth Secret, mounted (never in the spec's text). */
const char *child_add_git_secret(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build)
{
	const char *secret =
		json_nonempty_str_at(json_at(json_at(json_at(build, "spec", NULL), "source", NULL), "git", NULL), "secretRef", "name");

	if (!secret)
		return NULL;
	jb_put_str(d, jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "git-auth"), "secret")), "secretName", secret);
	child_add_mount(d, container, "git-auth", GIT_SECRET_DIR);
	return secret;
}

/* spec.buildSecrets, each Secret key mounted as a file named by its id. Returns how many. */
int child_add_build_secrets(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build)
{
	const cJSON *list = json_at(json_at(build, "spec", NULL), "buildSecrets", NULL), *bs;
	cJSON *sources;
	int count = 0;

	if (cJSON_GetArraySize(list) == 0)
		return 0;
	sources =
		jb_array_in(d, jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "build-secrets"), "projected")), "sources");
	cJSON_ArrayForEach(bs, list) {
		const char *id = json_nonempty_str_at(bs, "id", NULL),
			   *name = json_nonempty_str_at(json_at(bs, "secretRef", NULL), "name", NULL);
		const char *key = json_nonempty_str_at(json_at(bs, "secretRef", NULL), "key", NULL);
		cJSON *secret;
		if (!id || !name)
			continue;
		secret = jb_need(d, cJSON_AddObjectToObject(jb_append(d, sources, cJSON_CreateObject()), "secret"));
		jb_put_str(d, secret, "name", name);
		child_add_item(d, jb_array_in(d, secret, "items"), key ? key : id, id);
		count++;
	}
	child_add_mount(d, container, "build-secrets", BUILD_SECRETS_DIR);
	return count;
}

/* Appends a --secret flag per spec.buildSecrets entry. */
void child_build_secret_flags(struct json_builder *d, cJSON *args, const cJSON *build)
{
	const cJSON *bs;

	cJSON_ArrayForEach(bs, json_at(json_at(build, "spec", NULL), "buildSecrets", NULL)) {
		const char *id = json_nonempty_str_at(bs, "id", NULL);
		if (id)
			jb_push_fmt(d, args, "--secret=id=%s,src=" BUILD_SECRETS_DIR "/%s", id, id);
	}
}

/* Appends "<prefix>KEY=VALUE" build arguments (global, then the platform's, which win). */
void child_add_build_args(struct json_builder *d, cJSON *args, const cJSON *build, const struct ctl_platform *platform, const char *prefix)
{
	const cJSON *lists[2] = {json_at(json_at(build, "spec", NULL), "buildArgs", NULL),
				 json_at(child_per_platform(build, platform), "buildArgs", NULL)};
	const cJSON *a;

	for (size_t i = 0; i < 2; i++) {
		cJSON_ArrayForEach(a, lists[i]) {
			const char *name = json_nonempty_str_at(a, "name", NULL),
				   *value = cJSON_IsString(json_at(a, "value", NULL)) ? json_at(a, "value", NULL)->valuestring : "";
			if (name)
				jb_push_fmt(d, args, "%s%s=%s", prefix, name, value);
		}
	}
}

/* The build context as the builders take it: a Git URL with "#revision[:subdir]", or a folder of the workspace (a
 * ConfigMap source, or an HTTP archive the source init container fetched, verified and unpacked there, with its
 * subPath). Returns an allocated string (the caller frees it), or NULL with d->ok cleared. */
char *child_source_context(struct json_builder *d, const cJSON *build)
{
	const cJSON *source = json_at(json_at(build, "spec", NULL), "source", NULL);
	const char *git = json_nonempty_str_at(source, "git", "url");
	const char *sub = json_nonempty_str_at(json_at(source, git ? "git" : "http", NULL), "subPath", NULL);
	bool has_sub = sub && strcmp(sub, ".") != 0 && strcmp(sub, "./") != 0;
	struct dynbuf b;
	enum dynbuf_err e;
	char *out;

	dynbuf_init(&b, JSON_BUILD_TEXT_MAX);
	if (git) {
		const char *rev = json_nonempty_str_at(json_at(source, "git", NULL), "revision", NULL);
		e = dynbuf_addf(&b, "%s#%s%s%s", git, rev ? rev : "HEAD", has_sub ? ":" : "", has_sub ? sub : "");
	} else {
		e = dynbuf_addf(&b, "%s%s%s", WORKSPACE_DIR, has_sub && sub[0] != '/' ? "/" : "", has_sub ? sub : "");
	}
	out = e == DYNBUF_OK ? dynbuf_take(&b, NULL) : NULL;
	dynbuf_free(&b);
	if (!out)
		d->ok = false;
	return out;
}

/* True when the context is a folder of the workspace (not a Git URL). */
bool child_local_context(const char *context)
{
	return strncmp(context, WORKSPACE_DIR, strlen(WORKSPACE_DIR)) == 0;
}

/* The init container that downloads an HTTP archive source, checks its sha256 when given, and unpacks it into
 * the workspace; it runs the controller's own image (`multiarch-controller fetch`) with the build's proxy and
 * trusted CAs and nothing else of the builder's (no secret is mounted in it). */
static void add_fetch_container(struct json_builder *d, cJSON *pod_spec, const cJSON *build, const char *image,
				const struct ctl_builder_config *config)
{
	const cJSON *http = json_at(json_at(json_at(build, "spec", NULL), "source", NULL), "http", NULL);
	cJSON *c = jb_append(d, jb_array_in(d, pod_spec, "initContainers"), cJSON_CreateObject());
	const char *sha = json_nonempty_str_at(http, "sha256", NULL);
	cJSON *args, *sc;

	jb_put_str(d, c, "name", "source");
	jb_put_str(d, c, "image", image);
	jb_put_str(d, c, "terminationMessagePolicy", "FallbackToLogsOnError");
	args = jb_need(d, cJSON_AddArrayToObject(c, "args"));
	jb_push_str(d, args, "fetch");
	jb_push_fmt(d, args, "--url=%s", json_nonempty_str_at(http, "url", NULL));
	if (sha)
		jb_push_fmt(d, args, "--sha256=%s", sha);
	jb_push_str(d, args, "--dest=" WORKSPACE_DIR);
	if (child_has_volume(pod_spec, "trust")) {
		jb_push_str(d, args, "--ca-dir=" CERTS_DIR);
		child_add_mount(d, c, "trust", CERTS_DIR);
	}
	sc = jb_need(d, cJSON_AddObjectToObject(c, "securityContext"));
	jb_need(d, cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
	jb_push_str(d, jb_need(d, cJSON_AddArrayToObject(jb_need(d, cJSON_AddObjectToObject(sc, "capabilities")), "drop")), "ALL");
	child_add_proxy(d, c, build, config);
	child_add_mount_mode(d, c, "workspace", WORKSPACE_DIR, false);
}

/* The workspace: a ConfigMap source mounted read-only, or an emptyDir the source init container fills from an HTTP
 * archive. Called once the pod has its trust volume. */
void child_add_workspace(struct json_builder *d, cJSON *pod_spec, cJSON *container, const cJSON *build, const char *fetch_image,
			 const struct ctl_builder_config *config)
{
	const cJSON *source = json_at(json_at(build, "spec", NULL), "source", NULL);
	const char *cm = json_nonempty_str_at(source, "configMap", "name");

	if (cm) {
		jb_put_str(d, jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "workspace"), "configMap")), "name", cm);
		child_add_mount(d, container, "workspace", WORKSPACE_DIR);
	} else if (json_nonempty_str_at(source, "http", "url")) {
		jb_need(d, cJSON_AddObjectToObject(child_add_volume(d, pod_spec, "workspace"), "emptyDir"));
		add_fetch_container(d, pod_spec, build, fetch_image, config);
		child_add_mount(d, container, "workspace", WORKSPACE_DIR);
	}
}

bool ctl_push_repository(const struct ctl_build_spec *spec, const struct ctl_builder_config *config, char *buf, size_t len)
{
	const char *suffix = config && config->staging_suffix ? config->staging_suffix : CTL_STAGING_SUFFIX_DEFAULT;
	int n = spec->backend == CTL_BACKEND_BUILDKIT ? snprintf(buf, len, "%s", spec->repository)
						      : snprintf(buf, len, "%s%s", spec->repository, suffix);

	return n >= 0 && (size_t)n < len;
}

bool ctl_cache_repository(const cJSON *build, const struct ctl_build_spec *spec, char *buf, size_t len)
{
	const char *named = json_nonempty_str_at(json_at(json_at(build, "spec", NULL), "cache", NULL), "repository", NULL);
	int n = named ? snprintf(buf, len, "%s", named) : snprintf(buf, len, "%s" CTL_CACHE_SUFFIX, spec->repository);

	return n >= 0 && (size_t)n < len;
}
