/* The children of a MultiArchBuild as the API server receives them: one build pod per platform attempt, pinned
 * to its architecture, the index Job that merges the per-platform digests, and the generation's builder ConfigMap.
 * The pieces they are made of are in podparts.c, buildinputs.c and backends.c. */
#include "controller/children.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/childparts.h"
#include "controller/labels.h"
#include "controller/naming.h"
#include "controller/podnetwork.h"
#include "registry/platform.h"
#include "util/dynbuf.h"
#include "util/jsonget.h"
#include "util/banned.h"

void ctl_child_options_init(struct ctl_child_options *o)
{
	memset(o, 0, sizeof(*o));
	o->buildkit_image = "docker.io/moby/buildkit:v0.34.2-rootless";
	o->buildah_image = "quay.io/buildah/stable:v1.37.3";
	o->kaniko_image = "gcr.io/kaniko-project/executor:v1.23.2";
	o->index_image = "ghcr.io/multiarch-dev/multiarch-controller:" MAC_VERSION;
	o->index_backoff_limit = 2;
}

cJSON *ctl_platform_node_selector(const cJSON *build, const struct ctl_platform *platform)
{
	struct json_builder d = {true};
	cJSON *sel = cJSON_CreateObject();

	child_merge_strings(&d, sel, json_at(json_at(build, "spec", NULL), "placement", "nodeSelector"));
	child_merge_strings(&d, sel, json_at(child_per_platform(build, platform), "nodeSelector", NULL));
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/os");
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/arch");
	jb_put_str(&d, sel, "kubernetes.io/os", platform->platform.os);
	jb_put_str(&d, sel, "kubernetes.io/arch", platform->platform.arch);
	if (!d.ok || !sel) {
		cJSON_Delete(sel);
		return NULL;
	}
	return sel;
}

cJSON *ctl_platform_tolerations(const cJSON *build, const struct ctl_platform *platform, const struct ctl_builder_config *config)
{
	struct json_builder d = {true};
	cJSON *list = cJSON_CreateArray();
	const cJSON *sources[3] = {config ? config->tolerations : NULL, json_at(json_at(build, "spec", NULL), "placement", "tolerations"),
				   json_at(child_per_platform(build, platform), "tolerations", NULL)};
	const cJSON *t;

	for (size_t i = 0; i < 3; i++) {
		cJSON_ArrayForEach(t, sources[i]) {
			cJSON *copy = cJSON_Duplicate(t, true);
			if (!copy || !cJSON_AddItemToArray(list, copy)) {
				cJSON_Delete(copy);
				d.ok = false;
			}
		}
	}
	if (!d.ok || !list) {
		cJSON_Delete(list);
		return NULL;
	}
	return list;
}

/* The build pod's metadata: the child metadata, the platform and attempt labels, the platform and repository
 * annotations. Caller owns it. */
static cJSON *build_pod_metadata(struct json_builder *d, const cJSON *build, const struct ctl_build_spec *spec,
				 const struct ctl_platform *p, const char *name, int attempt, const struct ctl_builder_config *config)
{
	cJSON *meta = child_metadata(d, build, name, CTL_ROLE_BUILD, spec), *annotations;
	char attempt_text[16], text[CTL_IMAGE_MAX + 80];

	jb_put_str(d, cJSON_GetObjectItemCaseSensitive(meta, "labels"), CTL_LABEL_PLATFORM, p->label);
	snprintf(attempt_text, sizeof(attempt_text), "%d", attempt);
	jb_put_str(d, cJSON_GetObjectItemCaseSensitive(meta, "labels"), CTL_LABEL_ATTEMPT, attempt_text);
	annotations = jb_object_in(d, meta, "annotations");
	reg_platform_format(&p->platform, text, sizeof(text));
	jb_put_str(d, annotations, CTL_ANNOTATION_PLATFORM, text);
	if (!ctl_push_repository(spec, config, text, sizeof(text)))
		d->ok = false;
	jb_put_str(d, annotations, CTL_ANNOTATION_REPOSITORY, text);
	return meta;
}

/* The pod-wide settings of a build pod: never restarted, a token only for a named account, bounded by policy.timeout, pinned to its
 * platform's nodes with the tolerations and affinity it may use. */
static void build_pod_placement(struct json_builder *d, cJSON *pod_spec, const cJSON *build, const struct ctl_build_spec *spec,
				const struct ctl_platform *p, const struct ctl_builder_config *config)
{
	cJSON *tolerations = ctl_platform_tolerations(build, p, config);

	jb_put_str(d, pod_spec, "restartPolicy", "Never");
	child_identity(d, pod_spec, spec, config);
	ctl_pod_network_apply(d, pod_spec, build, config ? config->host_aliases : NULL, config ? config->dns_config : NULL);
	jb_need(d, cJSON_AddFalseToObject(pod_spec, "enableServiceLinks"));
	jb_need(d, cJSON_AddNumberToObject(pod_spec, "activeDeadlineSeconds", (double)spec->timeout_s));
	jb_attach(d, pod_spec, "nodeSelector", jb_need(d, ctl_platform_node_selector(build, p)));
	if (tolerations && cJSON_GetArraySize(tolerations) == 0)
		cJSON_Delete(tolerations);
	else
		jb_attach(d, pod_spec, "tolerations", jb_need(d, tolerations));
	jb_put_copy(d, pod_spec, "affinity", json_at(json_at(json_at(build, "spec", NULL), "placement", NULL), "affinity", NULL));
}

/* The builder container's resources: the build's own, else the cluster's defaults. */
static void builder_resources(struct json_builder *d, cJSON *container, const cJSON *build, const struct ctl_builder_config *config)
{
	cJSON *resources = jb_object_in(d, container, "resources");
	const cJSON *wanted = json_at(json_at(build, "spec", NULL), "resources", NULL);

	if (!wanted && config)
		wanted = config->resources;
	jb_put_copy(d, resources, "requests", json_at(wanted, "requests", NULL));
	jb_put_copy(d, resources, "limits", json_at(wanted, "limits", NULL));
}

/* The builder container of pod_spec, with everything it mounts, for the spec's backend. */
static void builder_container(struct json_builder *d, cJSON *pod_spec, const cJSON *build, const struct ctl_build_spec *spec,
			      const struct ctl_platform *p, const struct ctl_child_options *opts)
{
	const struct child_backend *backend = child_backend_of(spec->backend);
	const struct ctl_builder_config *config = opts->config;
	struct child_build_inputs in = {build, spec, p, config, NULL, false, false};
	cJSON *c = jb_append(d, jb_array_in(d, pod_spec, "containers"), cJSON_CreateObject());
	char config_map[CTL_NAME_MAX + 1];

	jb_put_str(d, c, "name", "builder");
	jb_put_str(d, c, "terminationMessagePolicy", "FallbackToLogsOnError");
	ctl_builder_config_map_name(config_map, sizeof(config_map), json_nonempty_str_at(build, "metadata", "name"), spec->round);
	in.git_secret = child_add_git_secret(d, pod_spec, c, build);
	in.registry_files = config && (cJSON_GetArraySize(config->mirrors) > 0 || cJSON_GetArraySize(config->insecure) > 0);
	in.trusted = child_add_trust(d, pod_spec, c, build, config_map, config) > 0;
	child_add_registry_files(d, pod_spec, c, config_map, config);
	child_add_build_secrets(d, pod_spec, c, build);
	jb_put_str(d, c, "image", spec->builder_image[0] ? spec->builder_image : backend->default_image(opts));
	backend->container(d, c, &in);
	child_add_proxy(d, c, build, config);
	backend->security(d, jb_object_in(d, pod_spec, "securityContext"), jb_object_in(d, c, "securityContext"));
	if (config && config->user_namespaces)
		jb_need(d, cJSON_AddFalseToObject(pod_spec, "hostUsers"));
	builder_resources(d, c, build, config);
	child_add_workspace(d, pod_spec, c, build, opts->index_image, config);
	child_add_docker_config(d, pod_spec, c, spec->push_secret);
}

enum ctl_err ctl_build_pod(const cJSON *build, const struct ctl_build_spec *spec, size_t platform, int attempt,
			   const struct ctl_child_options *opts, cJSON **out, char *errbuf, size_t errlen)
{
	const struct ctl_platform *p = &spec->platforms[platform];
	const char *build_name = json_nonempty_str_at(build, "metadata", "name");
	struct json_builder d = {true};
	char name[CTL_NAME_MAX + 1];
	cJSON *pod;

	*out = NULL;
	if (!build_name || !ctl_pod_name(name, sizeof(name), build_name, spec->round, p->label, attempt))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "cannot name the build pod of %s", p->text);
	pod = jb_need(&d, cJSON_CreateObject());
	jb_put_str(&d, pod, "apiVersion", "v1");
	jb_put_str(&d, pod, "kind", "Pod");
	jb_attach(&d, pod, "metadata", build_pod_metadata(&d, build, spec, p, name, attempt, opts->config));
	build_pod_placement(&d, jb_object_in(&d, pod, "spec"), build, spec, p, opts->config);
	builder_container(&d, cJSON_GetObjectItemCaseSensitive(pod, "spec"), build, spec, p, opts);
	if (!d.ok) {
		cJSON_Delete(pod);
		return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory writing the build pod of %s", p->text);
	}
	*out = pod;
	return CTL_OK;
}

/* Where the index Job's pod may run: the build's nodeSelector without its architecture (the index is the same work
 * on any), Linux, and the cluster's and the build's tolerations (so a build pool's taint does not strand it). */
static void index_placement(struct json_builder *d, cJSON *pod_spec, const cJSON *build, const struct ctl_builder_config *config)
{
	const cJSON *sources[2] = {config ? config->tolerations : NULL, json_at(json_at(build, "spec", NULL), "placement", "tolerations")};
	cJSON *sel = jb_need(d, cJSON_AddObjectToObject(pod_spec, "nodeSelector")), *list = NULL;
	const cJSON *t;

	child_merge_strings(d, sel, json_at(json_at(build, "spec", NULL), "placement", "nodeSelector"));
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/arch");
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/os");
	jb_put_str(d, sel, "kubernetes.io/os", "linux");
	for (size_t i = 0; i < 2; i++) {
		cJSON_ArrayForEach(t, sources[i]) {
			if (!list)
				list = jb_need(d, cJSON_AddArrayToObject(pod_spec, "tolerations"));
			jb_append(d, list, cJSON_Duplicate(t, true));
		}
	}
}

/* The arguments of `multiarch-controller index` for the sources and their platforms. */
static void index_args(struct json_builder *d, cJSON *args, const cJSON *build, const struct ctl_build_spec *spec,
		       const char *const *sources, const char *const *platforms, size_t count, const struct ctl_child_options *opts)
{
	const cJSON *kv, *insecure = opts->config ? opts->config->insecure : NULL;

	jb_push_str(d, args, "index");
	jb_push_fmt(d, args, "--image=%s", spec->image);
	for (size_t i = 0; i < count; i++) {
		jb_push_fmt(d, args, "--source=%s", sources[i]);
		jb_push_fmt(d, args, "--platform=%s", platforms[i]);
	}
	cJSON_ArrayForEach(kv, json_at(json_at(build, "spec", NULL), "indexAnnotations", NULL)) {
		if (cJSON_IsString(kv))
			jb_push_fmt(d, args, "--annotation=%s=%s", kv->string, kv->valuestring);
	}
	for (const char *const *host = opts->insecure_registries; host && *host; host++)
		jb_push_fmt(d, args, "--insecure-registry=%s", *host);
	cJSON_ArrayForEach(kv, insecure) {
		jb_push_fmt(d, args, "--insecure-registry=%s", kv->valuestring);
	}
	if (opts->config && opts->config->ca_bundle)
		jb_push_str(d, args, "--ca-file=" CERTS_DIR "/cluster-ca.crt");
	if (json_nonempty_str_at(json_at(json_at(build, "spec", NULL), "caBundleRef", NULL), "name", NULL))
		jb_push_str(d, args, "--ca-file=" CERTS_DIR "/build-ca.crt");
	if (spec->push_secret[0])
		jb_push_str(d, args, "--docker-config=" DOCKER_CONFIG_DIR);
	jb_push_str(d, args, "--digest-file=" TERMINATION_LOG);
}

/* The index container runs as Pod Security "restricted" asks: no privilege, a read-only root, no capability. */
static void index_security(struct json_builder *d, cJSON *container)
{
	cJSON *sc = jb_object_in(d, container, "securityContext");

	jb_need(d, cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
	jb_need(d, cJSON_AddTrueToObject(sc, "readOnlyRootFilesystem"));
	jb_push_str(d, jb_array_in(d, jb_object_in(d, sc, "capabilities"), "drop"), "ALL");
}

/* The index container's bounds: a memory limit (manifests are held in memory, blobs never are), and /tmp, where
 * blobs copied between registries are staged, on an emptyDir of bounded size (the root is read-only). */
static void index_resources_and_scratch(struct json_builder *d, cJSON *pod_spec, cJSON *container)
{
	cJSON *resources = jb_object_in(d, container, "resources"), *requests = jb_object_in(d, resources, "requests"), *volume, *mount;

	jb_put_str(d, requests, "cpu", "50m");
	jb_put_str(d, requests, "memory", "64Mi");
	jb_put_str(d, jb_object_in(d, resources, "limits"), "memory", "256Mi");
	volume = jb_append(d, jb_array_in(d, pod_spec, "volumes"), cJSON_CreateObject());
	jb_put_str(d, volume, "name", "scratch");
	jb_put_str(d, jb_object_in(d, volume, "emptyDir"), "sizeLimit", "8Gi");
	mount = jb_append(d, jb_array_in(d, container, "volumeMounts"), cJSON_CreateObject());
	jb_put_str(d, mount, "name", "scratch");
	jb_put_str(d, mount, "mountPath", "/tmp");
}

/* The Job's pod template spec: never restarted, a token only for a named account, placed anywhere the build may run, non-root with
 * RuntimeDefault seccomp as Pod Security "restricted" asks. */
static cJSON *index_pod_spec(struct json_builder *d, cJSON *job_spec, const cJSON *meta, const cJSON *build,
			     const struct ctl_build_spec *spec, const struct ctl_child_options *opts)
{
	cJSON *tmpl = jb_object_in(d, job_spec, "template"), *pod_spec, *sc;

	jb_put_copy(d, jb_object_in(d, tmpl, "metadata"), "labels", cJSON_GetObjectItemCaseSensitive(meta, "labels"));
	pod_spec = jb_object_in(d, tmpl, "spec");
	jb_put_str(d, pod_spec, "restartPolicy", "Never");
	child_identity(d, pod_spec, spec, opts->config);
	ctl_pod_network_apply(d, pod_spec, build, opts->config ? opts->config->host_aliases : NULL,
			      opts->config ? opts->config->dns_config : NULL);
	jb_need(d, cJSON_AddFalseToObject(pod_spec, "enableServiceLinks"));
	index_placement(d, pod_spec, build, opts->config);
	sc = jb_object_in(d, pod_spec, "securityContext");
	jb_need(d, cJSON_AddTrueToObject(sc, "runAsNonRoot"));
	jb_need(d, cJSON_AddNumberToObject(sc, "runAsUser", 65532));
	jb_put_str(d, jb_object_in(d, sc, "seccompProfile"), "type", "RuntimeDefault");
	return pod_spec;
}

enum ctl_err ctl_index_job(const cJSON *build, const struct ctl_build_spec *spec, const char *job_name, const char *const *sources,
			   const char *const *platforms, size_t count, const struct ctl_child_options *opts, cJSON **out, char *errbuf,
			   size_t errlen)
{
	struct json_builder d = {true};
	cJSON *job = jb_need(&d, cJSON_CreateObject()), *meta, *job_spec, *pod_spec, *c;
	char config_map[CTL_NAME_MAX + 1];

	*out = NULL;
	jb_put_str(&d, job, "apiVersion", "batch/v1");
	jb_put_str(&d, job, "kind", "Job");
	meta = child_metadata(&d, build, job_name, CTL_ROLE_INDEX, spec);
	jb_attach(&d, job, "metadata", meta);
	job_spec = jb_object_in(&d, job, "spec");
	jb_need(&d, cJSON_AddNumberToObject(job_spec, "backoffLimit", (double)opts->index_backoff_limit));
	jb_need(&d, cJSON_AddNumberToObject(job_spec, "activeDeadlineSeconds", 1800));
	pod_spec = index_pod_spec(&d, job_spec, meta, build, spec, opts);
	c = jb_append(&d, jb_array_in(&d, pod_spec, "containers"), cJSON_CreateObject());
	jb_put_str(&d, c, "name", "index");
	jb_put_str(&d, c, "image", opts->index_image);
	jb_put_str(&d, c, "terminationMessagePolicy", "FallbackToLogsOnError");
	index_security(&d, c);
	index_args(&d, jb_need(&d, cJSON_AddArrayToObject(c, "args")), build, spec, sources, platforms, count, opts);
	index_resources_and_scratch(&d, pod_spec, c);
	child_add_docker_config(&d, pod_spec, c, spec->push_secret);
	ctl_builder_config_map_name(config_map, sizeof(config_map), json_nonempty_str_at(build, "metadata", "name"), spec->round);
	child_add_trust(&d, pod_spec, c, build, config_map, opts->config);
	child_add_proxy(&d, c, build, opts->config);
	if (!d.ok) {
		cJSON_Delete(job);
		return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory writing the index Job");
	}
	*out = job;
	return CTL_OK;
}

bool ctl_builder_config_map_name(char *buf, size_t len, const char *build, const char *round)
{
	return build && ctl_child_name(buf, len, build, round, "builder");
}

/* Appends TOML text; a failure (too long) clears ok. */
static void toml(struct json_builder *d, struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void toml(struct json_builder *d, struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (dynbuf_vaddf(b, fmt, ap) != DYNBUF_OK)
		d->ok = false;
	va_end(ap);
}

cJSON *ctl_builder_config_map(const cJSON *build, const struct ctl_build_spec *spec, const struct ctl_child_options *opts)
{
	const struct ctl_builder_config *config = opts->config;
	struct json_builder d = {true};
	struct dynbuf buildkitd, registries;
	const cJSON *list, *m, *host;
	char name[CTL_NAME_MAX + 1];
	cJSON *cm, *meta, *data;

	if (!config || !ctl_builder_config_map_name(name, sizeof(name),
						    json_nonempty_str_at(json_at(build, "metadata", NULL), "name", NULL), spec->round))
		return NULL;
	dynbuf_init(&buildkitd, (size_t)256 * 1024);
	dynbuf_init(&registries, (size_t)256 * 1024);
	toml(&d, &registries,
	     "# generated by multiarch-controller from its builder configuration\nunqualified-search-registries = [\"docker.io\"]\n");
	toml(&d, &buildkitd, "# generated by multiarch-controller from its builder configuration\n");
	cJSON_ArrayForEach(list, config->mirrors) {
		toml(&d, &buildkitd, "[registry.\"%s\"]\n  mirrors = [", list->string);
		toml(&d, &registries, "\n[[registry]]\nlocation = \"%s\"\n", list->string);
		cJSON_ArrayForEach(m, list) {
			toml(&d, &buildkitd, "%s\"%s\"", m == list->child ? "" : ", ", m->valuestring);
			toml(&d, &registries, "[[registry.mirror]]\nlocation = \"%s\"\n", m->valuestring);
		}
		toml(&d, &buildkitd, "]\n");
	}
	cJSON_ArrayForEach(host, config->insecure) {
		toml(&d, &buildkitd, "[registry.\"%s\"]\n  http = true\n  insecure = true\n", host->valuestring);
		toml(&d, &registries, "\n[[registry]]\nlocation = \"%s\"\ninsecure = true\n", host->valuestring);
	}
	cm = jb_need(&d, cJSON_CreateObject());
	jb_put_str(&d, cm, "apiVersion", "v1");
	jb_put_str(&d, cm, "kind", "ConfigMap");
	meta = child_metadata(&d, build, name, "config", spec);
	jb_attach(&d, cm, "metadata", meta);
	data = jb_need(&d, cJSON_AddObjectToObject(cm, "data"));
	jb_put_str(&d, data, "buildkitd.toml", dynbuf_str(&buildkitd));
	jb_put_str(&d, data, "registries.conf", dynbuf_str(&registries));
	if (config->ca_bundle)
		jb_put_str(&d, data, "ca.crt", config->ca_bundle);
	dynbuf_free(&buildkitd);
	dynbuf_free(&registries);
	if (!d.ok) {
		cJSON_Delete(cm);
		return NULL;
	}
	return cm;
}
