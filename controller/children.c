/* The children of a MultiArchBuild as the API server receives them: one build pod per platform attempt, pinned
 * to its architecture, and the index Job that merges the per-platform digests. */
#include "controller/children.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/labels.h"
#include "controller/naming.h"
#include "util/dynbuf.h"
#include "util/jsonget.h"

#define DOCKER_CONFIG_DIR "/var/run/multiarch/docker"
#define WORKSPACE_DIR "/workspace"
#define METADATA_FILE "/tmp/build-metadata.json"
#define TERMINATION_LOG "/dev/termination-log"
#define BUILDER_CONFIG_DIR "/etc/multiarch/builder"
#define CERTS_DIR "/etc/multiarch/certs"
#define GIT_SECRET_DIR "/var/run/multiarch/git"
#define BUILD_SECRETS_DIR "/var/run/multiarch/build-secrets"
#define CHILD_ARG_MAX 65536 /* longest single container argument written */

void ctl_child_options_init(struct ctl_child_options *o)
{
	memset(o, 0, sizeof(*o));
	o->buildkit_image = "docker.io/moby/buildkit:v0.34.2-rootless";
	o->buildah_image = "quay.io/buildah/stable:v1.37.3";
	o->kaniko_image = "gcr.io/kaniko-project/executor:v1.23.2";
	o->index_image = "ghcr.io/multiarch-dev/multiarch-controller:" MAC_VERSION;
	o->index_backoff_limit = 2;
}

/* Construction helpers: every cJSON call may fail only by running out of memory; a failure clears ok. */
struct doc {
	bool ok;
};

static cJSON *need(struct doc *d, cJSON *v)
{
	if (!v)
		d->ok = false;
	return v;
}

static void put_str(struct doc *d, cJSON *obj, const char *key, const char *value)
{
	need(d, cJSON_AddStringToObject(obj, key, value));
}

static void push_str(struct doc *d, cJSON *array, const char *value)
{
	cJSON *s = cJSON_CreateString(value);

	if (!s || !cJSON_AddItemToArray(array, s)) {
		cJSON_Delete(s);
		d->ok = false;
	}
}

static void push_fmt(struct doc *d, cJSON *array, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends a formatted argument of any length the schema allows (a build argument's value alone may be 4,096
 * bytes), up to CHILD_ARG_MAX bytes. */
static void push_fmt(struct doc *d, cJSON *array, const char *fmt, ...)
{
	char *buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= CHILD_ARG_MAX || !(buf = malloc((size_t)n + 1))) {
		d->ok = false;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	push_str(d, array, buf);
	free(buf);
}

static void put_copy(struct doc *d, cJSON *obj, const char *key, const cJSON *value)
{
	cJSON *copy;

	if (!value)
		return;
	copy = cJSON_Duplicate(value, true);
	if (!copy || !cJSON_AddItemToObject(obj, key, copy)) {
		cJSON_Delete(copy);
		d->ok = false;
	}
}

/* Appends item to array (taking it); a failure clears ok. Returns item, or NULL. */
static cJSON *append(struct doc *d, cJSON *array, cJSON *item)
{
	if (!item || !array || !cJSON_AddItemToArray(array, item)) {
		cJSON_Delete(item);
		d->ok = false;
		return NULL;
	}
	return item;
}

/* Adds item (taking it) to obj under key; a failure clears ok. */
static void attach(struct doc *d, cJSON *obj, const char *key, cJSON *item)
{
	if (item && (!obj || !cJSON_AddItemToObject(obj, key, item))) {
		cJSON_Delete(item);
		d->ok = false;
	}
}

/* The array member key of obj, created when missing. */
static cJSON *array_in(struct doc *d, cJSON *obj, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);

	return a ? a : need(d, cJSON_AddArrayToObject(obj, key));
}

static void add_env(struct doc *d, cJSON *container, const char *name, const char *value)
{
	cJSON *e = append(d, array_in(d, container, "env"), cJSON_CreateObject());

	put_str(d, e, "name", name);
	put_str(d, e, "value", value);
}

/* An environment variable taken from a Secret by the kubelet: the value never appears in the pod spec. */
static void add_env_from_secret(struct doc *d, cJSON *container, const char *name, const char *secret, const char *key)
{
	cJSON *e = append(d, array_in(d, container, "env"), cJSON_CreateObject());
	cJSON *ref = need(d, cJSON_AddObjectToObject(need(d, cJSON_AddObjectToObject(e, "valueFrom")), "secretKeyRef"));

	put_str(d, e, "name", name);
	put_str(d, ref, "name", secret);
	put_str(d, ref, "key", key);
}

static void add_mount_mode(struct doc *d, cJSON *container, const char *volume, const char *path, bool read_only)
{
	cJSON *m = append(d, array_in(d, container, "volumeMounts"), cJSON_CreateObject());

	put_str(d, m, "name", volume);
	put_str(d, m, "mountPath", path);
	if (read_only)
		need(d, cJSON_AddTrueToObject(m, "readOnly"));
}

static void add_mount(struct doc *d, cJSON *container, const char *volume, const char *path)
{
	add_mount_mode(d, container, volume, path, true);
}

/* A volume named name; returns it for the caller to add its source. */
static cJSON *add_volume(struct doc *d, cJSON *pod_spec, const char *name)
{
	cJSON *v = append(d, array_in(d, pod_spec, "volumes"), cJSON_CreateObject());

	put_str(d, v, "name", name);
	return v;
}

/* An item {key, path} of a volume source. */
static void add_item(struct doc *d, cJSON *items, const char *key, const char *path)
{
	cJSON *i = append(d, items, cJSON_CreateObject());

	put_str(d, i, "key", key);
	put_str(d, i, "path", path);
}

/* The spec.perPlatform entry for platform, or NULL. */
static const cJSON *per_platform(const cJSON *build, const struct ctl_platform *platform)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, json_at(json_at(build, "spec", NULL), "perPlatform", NULL)) {
		const char *name = json_nonempty_str_at(entry, "platform", NULL);
		struct reg_platform p;
		char err[128];
		if (name && reg_platform_parse(name, &p, err, sizeof(err)) == REG_OK && reg_platform_equal(&p, &platform->platform))
			return entry;
	}
	return NULL;
}

static void merge_strings(struct doc *d, cJSON *into, const cJSON *from)
{
	const cJSON *kv;

	cJSON_ArrayForEach(kv, from) {
		if (!cJSON_IsString(kv))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(into, kv->string);
		put_str(d, into, kv->string, kv->valuestring);
	}
}

cJSON *ctl_platform_node_selector(const cJSON *build, const struct ctl_platform *platform)
{
	struct doc d = {true};
	cJSON *sel = cJSON_CreateObject();

	merge_strings(&d, sel, json_at(json_at(build, "spec", NULL), "placement", "nodeSelector"));
	merge_strings(&d, sel, json_at(per_platform(build, platform), "nodeSelector", NULL));
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/os");
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/arch");
	put_str(&d, sel, "kubernetes.io/os", platform->platform.os);
	put_str(&d, sel, "kubernetes.io/arch", platform->platform.arch);
	if (!d.ok || !sel) {
		cJSON_Delete(sel);
		return NULL;
	}
	return sel;
}

cJSON *ctl_platform_tolerations(const cJSON *build, const struct ctl_platform *platform, const struct ctl_builder_config *config)
{
	struct doc d = {true};
	cJSON *list = cJSON_CreateArray();
	const cJSON *sources[3] = {config ? config->tolerations : NULL, json_at(json_at(build, "spec", NULL), "placement", "tolerations"),
				   json_at(per_platform(build, platform), "tolerations", NULL)};
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

/* metadata of a child: name, namespace, labels, and the controller ownerReference to build. */
static cJSON *child_metadata(struct doc *d, const cJSON *build, const char *name, const char *role, long generation)
{
	const cJSON *meta = json_at(build, "metadata", NULL);
	cJSON *m = need(d, cJSON_CreateObject()), *labels, *owner;
	char gen[24];

	snprintf(gen, sizeof(gen), "%ld", generation);
	put_str(d, m, "name", name);
	put_str(d, m, "namespace", json_nonempty_str_at(meta, "namespace", NULL) ? json_nonempty_str_at(meta, "namespace", NULL) : "default");
	labels = need(d, cJSON_AddObjectToObject(m, "labels"));
	put_str(d, labels, CTL_LABEL_MANAGED_BY, CTL_MANAGER);
	put_str(d, labels, CTL_LABEL_BUILD, json_nonempty_str_at(meta, "name", NULL) ? json_nonempty_str_at(meta, "name", NULL) : "");
	put_str(d, labels, CTL_LABEL_ROLE, role);
	put_str(d, labels, CTL_LABEL_GENERATION, gen);
	owner = append(d, array_in(d, m, "ownerReferences"), cJSON_CreateObject());
	put_str(d, owner, "apiVersion", CTL_API_GROUP "/" CTL_API_VERSION);
	put_str(d, owner, "kind", CTL_KIND);
	put_str(d, owner, "name", json_nonempty_str_at(meta, "name", NULL) ? json_nonempty_str_at(meta, "name", NULL) : "");
	put_str(d, owner, "uid", json_nonempty_str_at(meta, "uid", NULL) ? json_nonempty_str_at(meta, "uid", NULL) : "");
	need(d, cJSON_AddTrueToObject(owner, "controller"));
	need(d, cJSON_AddTrueToObject(owner, "blockOwnerDeletion"));
	return m;
}

/* The push secret's volume and mount, as a docker config directory (config.json). */
static void add_docker_config(struct doc *d, cJSON *pod_spec, cJSON *container, const char *secret)
{
	cJSON *src;

	if (!secret || !secret[0])
		return;
	src = need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "docker-config"), "secret"));
	put_str(d, src, "secretName", secret);
	add_item(d, array_in(d, src, "items"), ".dockerconfigjson", "config.json");
	add_mount(d, container, "docker-config", DOCKER_CONFIG_DIR);
	add_env(d, container, "DOCKER_CONFIG", DOCKER_CONFIG_DIR);
}

/* HTTP(S)_PROXY and NO_PROXY (both cases): the build's own settings over the cluster's; NO_PROXY lists are joined. */
static void add_proxy(struct doc *d, cJSON *container, const cJSON *build, const struct ctl_builder_config *config)
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
		add_env(d, container, "HTTP_PROXY", http);
		add_env(d, container, "http_proxy", http);
	}
	if (https) {
		add_env(d, container, "HTTPS_PROXY", https);
		add_env(d, container, "https_proxy", https);
	}
	if (joined[0]) {
		add_env(d, container, "NO_PROXY", joined);
		add_env(d, container, "no_proxy", joined);
	}
}

/* Private CAs (the cluster's, from the generated ConfigMap, and the build's caBundleRef) in CERTS_DIR, trusted
 * through SSL_CERT_DIR on top of the system's. Returns how many bundles there are. */
static int add_trust(struct doc *d, cJSON *pod_spec, cJSON *container, const cJSON *build, const char *config_map,
		     const struct ctl_builder_config *config)
{
	const cJSON *ref = json_at(json_at(build, "spec", NULL), "caBundleRef", NULL);
	const char *user_cm = json_nonempty_str_at(ref, "name", NULL), *user_key = json_nonempty_str_at(ref, "key", NULL);
	cJSON *sources, *cm;
	int count = 0;

	if (!(config && config->ca_bundle) && !user_cm)
		return 0;
	sources = array_in(d, need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "trust"), "projected")), "sources");
	if (config && config->ca_bundle) {
		cm = need(d, cJSON_AddObjectToObject(append(d, sources, cJSON_CreateObject()), "configMap"));
		put_str(d, cm, "name", config_map);
		add_item(d, array_in(d, cm, "items"), "ca.crt", "cluster-ca.crt");
		count++;
	}
	if (user_cm) {
		cm = need(d, cJSON_AddObjectToObject(append(d, sources, cJSON_CreateObject()), "configMap"));
		put_str(d, cm, "name", user_cm);
		add_item(d, array_in(d, cm, "items"), user_key ? user_key : "ca.crt", "build-ca.crt");
		count++;
	}
	add_mount(d, container, "trust", CERTS_DIR);
	add_env(d, container, "SSL_CERT_DIR", "/etc/ssl/certs:" CERTS_DIR);
	return count;
}

/* The generated registry files (buildkitd.toml, registries.conf) of the cluster configuration. */
static void add_registry_files(struct doc *d, cJSON *pod_spec, cJSON *container, const char *config_map,
			       const struct ctl_builder_config *config)
{
	if (!config || (cJSON_GetArraySize(config->mirrors) == 0 && cJSON_GetArraySize(config->insecure) == 0))
		return;
	put_str(d, need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "builder-config"), "configMap")), "name", config_map);
	add_mount(d, container, "builder-config", BUILDER_CONFIG_DIR);
}

/* A private Git repository's credentials, a kubernetes.io/basic-auth Secret, mounted (never in the spec's text). */
static const char *add_git_secret(struct doc *d, cJSON *pod_spec, cJSON *container, const cJSON *build)
{
	const char *secret = json_nonempty_str_at(json_at(json_at(json_at(build, "spec", NULL), "source", NULL), "git", NULL), "secretRef", "name");

	if (!secret)
		return NULL;
	put_str(d, need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "git-auth"), "secret")), "secretName", secret);
	add_mount(d, container, "git-auth", GIT_SECRET_DIR);
	return secret;
}

/* spec.buildSecrets, each Secret key mounted as a file named by its id. Returns how many. */
static int add_build_secrets(struct doc *d, cJSON *pod_spec, cJSON *container, const cJSON *build)
{
	const cJSON *list = json_at(json_at(build, "spec", NULL), "buildSecrets", NULL), *bs;
	cJSON *sources;
	int count = 0;

	if (cJSON_GetArraySize(list) == 0)
		return 0;
	sources = array_in(d, need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "build-secrets"), "projected")), "sources");
	cJSON_ArrayForEach(bs, list) {
		const char *id = json_nonempty_str_at(bs, "id", NULL), *name = json_nonempty_str_at(json_at(bs, "secretRef", NULL), "name", NULL);
		const char *key = json_nonempty_str_at(json_at(bs, "secretRef", NULL), "key", NULL);
		cJSON *secret;
		if (!id || !name)
			continue;
		secret = need(d, cJSON_AddObjectToObject(append(d, sources, cJSON_CreateObject()), "secret"));
		put_str(d, secret, "name", name);
		add_item(d, array_in(d, secret, "items"), key ? key : id, id);
		count++;
	}
	add_mount(d, container, "build-secrets", BUILD_SECRETS_DIR);
	return count;
}

/* Appends a --secret flag per spec.buildSecrets entry. */
static void build_secret_flags(struct doc *d, cJSON *args, const cJSON *build)
{
	const cJSON *bs;

	cJSON_ArrayForEach(bs, json_at(json_at(build, "spec", NULL), "buildSecrets", NULL)) {
		const char *id = json_nonempty_str_at(bs, "id", NULL);
		if (id)
			push_fmt(d, args, "--secret=id=%s,src=" BUILD_SECRETS_DIR "/%s", id, id);
	}
}

/* The container's securityContext: the least each backend runs with (see docs/builders.md). */
static void security_context(struct doc *d, cJSON *pod_spec, cJSON *container, const char *backend, const struct ctl_builder_config *config)
{
	cJSON *pod_sc = need(d, cJSON_AddObjectToObject(pod_spec, "securityContext"));
	cJSON *sc = need(d, cJSON_AddObjectToObject(container, "securityContext"));

	if (strcmp(backend, "buildkit") == 0) {
		/* rootless BuildKit makes its own user namespace: it needs seccomp and AppArmor out of the way */
		need(d, cJSON_AddNumberToObject(pod_sc, "runAsUser", 1000));
		need(d, cJSON_AddNumberToObject(pod_sc, "runAsGroup", 1000));
		need(d, cJSON_AddNumberToObject(pod_sc, "fsGroup", 1000));
		need(d, cJSON_AddTrueToObject(pod_sc, "runAsNonRoot"));
		put_str(d, need(d, cJSON_AddObjectToObject(sc, "seccompProfile")), "type", "Unconfined");
		put_str(d, need(d, cJSON_AddObjectToObject(sc, "appArmorProfile")), "type", "Unconfined");
	} else if (strcmp(backend, "buildah") == 0) {
		/* root in the container, chroot isolation, vfs storage: the capabilities buildah's own image documents */
		need(d, cJSON_AddNumberToObject(pod_sc, "runAsUser", 0));
		put_str(d, need(d, cJSON_AddObjectToObject(sc, "seccompProfile")), "type", "Unconfined");
		put_str(d, need(d, cJSON_AddObjectToObject(sc, "appArmorProfile")), "type", "Unconfined");
		cJSON *add = array_in(d, need(d, cJSON_AddObjectToObject(sc, "capabilities")), "add");
		push_str(d, add, "SETUID");
		push_str(d, add, "SETGID");
	} else {
		/* kaniko unpacks the base image over its own root: root without extra capabilities */
		need(d, cJSON_AddNumberToObject(pod_sc, "runAsUser", 0));
		put_str(d, need(d, cJSON_AddObjectToObject(pod_sc, "seccompProfile")), "type", "RuntimeDefault");
		need(d, cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
	}
	if (config && config->user_namespaces)
		need(d, cJSON_AddFalseToObject(pod_spec, "hostUsers"));
}

/* Appends "<prefix>KEY=VALUE" build arguments (global, then the platform's, which win). */
static void add_build_args(struct doc *d, cJSON *args, const cJSON *build, const struct ctl_platform *platform, const char *prefix)
{
	const cJSON *lists[2] = {json_at(json_at(build, "spec", NULL), "buildArgs", NULL), json_at(per_platform(build, platform), "buildArgs", NULL)};
	const cJSON *a;

	for (size_t i = 0; i < 2; i++) {
		cJSON_ArrayForEach(a, lists[i]) {
			const char *name = json_nonempty_str_at(a, "name", NULL), *value = cJSON_IsString(json_at(a, "value", NULL)) ? json_at(a, "value", NULL)->valuestring : "";
			if (name)
				push_fmt(d, args, "%s%s=%s", prefix, name, value);
		}
	}
}

/* The build context as the builders take it: a Git URL with "#revision[:subdir]", or a folder of the workspace (a
 * ConfigMap source, or an HTTP archive the source init container fetched, verified and unpacked there, with its
 * subPath). Returns an allocated string (the caller frees it), or NULL with d->ok cleared. */
static char *source_context(struct doc *d, const cJSON *build)
{
	const cJSON *source = json_at(json_at(build, "spec", NULL), "source", NULL);
	const char *git = json_nonempty_str_at(source, "git", "url");
	const char *sub = json_nonempty_str_at(json_at(source, git ? "git" : "http", NULL), "subPath", NULL);
	bool has_sub = sub && strcmp(sub, ".") != 0 && strcmp(sub, "./") != 0;
	struct dynbuf b;
	enum dynbuf_err e;
	char *out;

	dynbuf_init(&b, CHILD_ARG_MAX);
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
static bool local_context(const char *context)
{
	return strncmp(context, WORKSPACE_DIR, strlen(WORKSPACE_DIR)) == 0;
}

/* True when pod_spec has a volume named name. */
static bool has_volume(const cJSON *pod_spec, const char *name)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, json_at(pod_spec, "volumes", NULL)) {
		const char *n = json_nonempty_str_at(v, "name", NULL);
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* The init container that downloads an HTTP archive source, checks its sha256 when given, and unpacks it into
 * the workspace; it runs the controller's own image (`multiarch-controller fetch`) with the build's proxy and
 * trusted CAs and nothing else of the builder's (no secret is mounted in it). */
static void add_fetch_container(struct doc *d, cJSON *pod_spec, const cJSON *build, const char *image,
				const struct ctl_builder_config *config)
{
	const cJSON *http = json_at(json_at(json_at(build, "spec", NULL), "source", NULL), "http", NULL);
	cJSON *c = append(d, array_in(d, pod_spec, "initContainers"), cJSON_CreateObject());
	const char *sha = json_nonempty_str_at(http, "sha256", NULL);
	cJSON *args, *sc;

	put_str(d, c, "name", "source");
	put_str(d, c, "image", image);
	put_str(d, c, "terminationMessagePolicy", "FallbackToLogsOnError");
	args = need(d, cJSON_AddArrayToObject(c, "args"));
	push_str(d, args, "fetch");
	push_fmt(d, args, "--url=%s", json_nonempty_str_at(http, "url", NULL));
	if (sha)
		push_fmt(d, args, "--sha256=%s", sha);
	push_str(d, args, "--dest=" WORKSPACE_DIR);
	if (has_volume(pod_spec, "trust")) {
		push_str(d, args, "--ca-dir=" CERTS_DIR);
		add_mount(d, c, "trust", CERTS_DIR);
	}
	sc = need(d, cJSON_AddObjectToObject(c, "securityContext"));
	need(d, cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
	push_str(d, need(d, cJSON_AddArrayToObject(need(d, cJSON_AddObjectToObject(sc, "capabilities")), "drop")), "ALL");
	add_proxy(d, c, build, config);
	add_mount_mode(d, c, "workspace", WORKSPACE_DIR, false);
}

/* The workspace: a ConfigMap source mounted read-only, or an emptyDir the source init container fills from an HTTP
 * archive. Called once the pod has its trust volume. */
static void add_workspace(struct doc *d, cJSON *pod_spec, cJSON *container, const cJSON *build, const char *fetch_image,
			  const struct ctl_builder_config *config)
{
	const cJSON *source = json_at(json_at(build, "spec", NULL), "source", NULL);
	const char *cm = json_nonempty_str_at(source, "configMap", "name");

	if (cm) {
		put_str(d, need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "workspace"), "configMap")), "name", cm);
		add_mount(d, container, "workspace", WORKSPACE_DIR);
	} else if (json_nonempty_str_at(source, "http", "url")) {
		need(d, cJSON_AddObjectToObject(add_volume(d, pod_spec, "workspace"), "emptyDir"));
		add_fetch_container(d, pod_spec, build, fetch_image, config);
		add_mount(d, container, "workspace", WORKSPACE_DIR);
	}
}

/* Git (libcurl) trusts only hashed CA folders or one bundle file, so the mounted private CAs are joined with the
 * system's bundle into one file that git is pointed at; Go programs (buildkitd, kaniko) read SSL_CERT_DIR as is. */
#define GIT_TRUST_STEP                                                                                                   \
	"if [ -d " CERTS_DIR " ]; then cat $(ls /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt "     \
	"2>/dev/null) " CERTS_DIR "/*.crt >/tmp/ca-bundle.crt && export GIT_SSL_CAINFO=/tmp/ca-bundle.crt; fi; "

/* The shell step that turns a builder's digest output into the termination message ("$1" is the file). */
static const char buildkit_script[] =
	GIT_TRUST_STEP "buildctl-daemonless.sh \"$@\" && grep -o '\"containerimage.digest\": *\"sha256:[0-9a-f]*\"' " METADATA_FILE
	" | grep -o 'sha256:[0-9a-f]*' > " TERMINATION_LOG;

static void buildkit_container(struct doc *d, cJSON *c, const cJSON *build, const struct ctl_build_spec *spec, const struct ctl_platform *p,
			       const char *git_secret, bool registry_files)
{
	const cJSON *s = json_at(build, "spec", NULL);
	const char *dockerfile = json_nonempty_str_at(s, "dockerfile", NULL), *target = json_nonempty_str_at(s, "target", NULL);
	const cJSON *cache = json_at(s, "cache", NULL);
	const char *cache_repo = json_nonempty_str_at(cache, "repository", NULL);
	cJSON *command = need(d, cJSON_AddArrayToObject(c, "command")), *args = need(d, cJSON_AddArrayToObject(c, "args"));
	char platform[REG_PLATFORM_STR_MAX];
	char *context = source_context(d, build);

	if (!context)
		return;
	reg_platform_format(&p->platform, platform, sizeof(platform));
	push_str(d, command, "/bin/sh");
	push_str(d, command, "-c");
	push_str(d, command, buildkit_script);
	push_str(d, command, "buildctl-daemonless.sh");
	push_str(d, args, "build");
	push_str(d, args, "--frontend=dockerfile.v0");
	push_fmt(d, args, "--opt=platform=%s", platform);
	push_fmt(d, args, "--opt=filename=%s", dockerfile ? dockerfile : "Dockerfile");
	if (target)
		push_fmt(d, args, "--opt=target=%s", target);
	add_build_args(d, args, build, p, "--opt=build-arg:");
	if (local_context(context)) {
		push_fmt(d, args, "--local=context=%s", context);
		push_fmt(d, args, "--local=dockerfile=%s", context);
	} else {
		push_fmt(d, args, "--opt=context=%s", context);
		push_fmt(d, args, "--opt=dockerfile=%s", context);
	}
	if (!cJSON_IsFalse(json_at(cache, "enabled", NULL))) {
		push_fmt(d, args, "--import-cache=type=registry,ref=%s:buildcache-%s", cache_repo ? cache_repo : spec->repository, p->label);
		push_fmt(d, args, "--export-cache=type=registry,ref=%s:buildcache-%s,mode=max", cache_repo ? cache_repo : spec->repository,
			 p->label);
	}
	if (git_secret)
		push_str(d, args, "--secret=id=GIT_AUTH_TOKEN,src=" GIT_SECRET_DIR "/password");
	build_secret_flags(d, args, build);
	if (cJSON_IsTrue(json_at(json_at(s, "attestations", NULL), "provenance", NULL)))
		push_str(d, args, "--opt=attest:provenance=mode=max");
	if (cJSON_IsTrue(json_at(json_at(s, "attestations", NULL), "sbom", NULL)))
		push_str(d, args, "--opt=attest:sbom=");
	push_fmt(d, args, "--output=type=image,name=%s,push-by-digest=true,push=true", spec->repository);
	push_str(d, args, "--metadata-file=" METADATA_FILE);
	add_env(d, c, "BUILDKITD_FLAGS",
		registry_files ? "--oci-worker-no-process-sandbox --config=" BUILDER_CONFIG_DIR "/buildkitd.toml" : "--oci-worker-no-process-sandbox");
	free(context);
}

#define GIT_CHECKOUT_DIR "/tmp/source"

/* Git credentials reach git through an askpass helper reading the mounted Secret, never the command line. */
static const char buildah_script[] =
	"set -e; if [ -d " GIT_SECRET_DIR " ]; then printf '#!/bin/sh\\ncase \"$1\" in Username*) cat " GIT_SECRET_DIR
	"/username;; *) cat " GIT_SECRET_DIR "/password;; esac\\n' >/tmp/askpass; chmod 700 /tmp/askpass; "
	"export GIT_ASKPASS=/tmp/askpass GIT_TERMINAL_PROMPT=0; fi; " GIT_TRUST_STEP
	/* a Git source is cloned here, not by buildah (Buildah 1.28 cannot check out a tag of the repository it cloned) */
	"if [ -n \"${SOURCE_GIT_URL:-}\" ]; then git clone --quiet \"$SOURCE_GIT_URL\" " GIT_CHECKOUT_DIR "; "
	"if [ \"$SOURCE_GIT_REVISION\" != HEAD ]; then git -C " GIT_CHECKOUT_DIR " checkout --quiet \"$SOURCE_GIT_REVISION\"; fi; fi; "
	"buildah build --iidfile /tmp/image-id \"$@\"; "
	"buildah push $PUSH_FLAGS --digestfile " TERMINATION_LOG " \"$(cat /tmp/image-id)\" \"docker://$PUSH_REPOSITORY\"";

static void buildah_container(struct doc *d, cJSON *c, const cJSON *build, const struct ctl_build_spec *spec, const struct ctl_platform *p,
			      bool registry_files, bool trusted)
{
	const cJSON *s = json_at(build, "spec", NULL);
	const char *dockerfile = json_nonempty_str_at(s, "dockerfile", NULL), *target = json_nonempty_str_at(s, "target", NULL);
	cJSON *command = need(d, cJSON_AddArrayToObject(c, "command")), *args = need(d, cJSON_AddArrayToObject(c, "args"));
	char platform[REG_PLATFORM_STR_MAX], repo[CTL_IMAGE_MAX + REG_PLATFORM_STR_MAX + 32];
	char *context = source_context(d, build);

	if (!context)
		return;
	reg_platform_format(&p->platform, platform, sizeof(platform));
	push_str(d, command, "/bin/sh");
	push_str(d, command, "-c");
	push_str(d, command, buildah_script);
	push_str(d, command, "buildah");
	push_fmt(d, args, "--platform=%s", platform);
	push_fmt(d, args, "--file=%s", dockerfile ? dockerfile : "Dockerfile");
	if (target)
		push_fmt(d, args, "--target=%s", target);
	add_build_args(d, args, build, p, "--build-arg=");
	build_secret_flags(d, args, build);
	push_str(d, args, "--storage-driver=vfs");
	push_str(d, args, "--isolation=chroot");
	if (!cJSON_IsFalse(json_at(json_at(s, "cache", NULL), "enabled", NULL))) {
		const char *cache_repo = json_nonempty_str_at(json_at(s, "cache", NULL), "repository", NULL);
		push_str(d, args, "--layers");
		push_fmt(d, args, "--cache-from=%s-buildcache-%s", cache_repo ? cache_repo : spec->repository, p->label);
		push_fmt(d, args, "--cache-to=%s-buildcache-%s", cache_repo ? cache_repo : spec->repository, p->label);
	}
	if (trusted)
		push_str(d, args, "--cert-dir=" CERTS_DIR);
	if (local_context(context)) {
		push_str(d, args, context);
	} else {
		const cJSON *git = json_at(json_at(s, "source", NULL), "git", NULL);
		const char *rev = json_nonempty_str_at(git, "revision", NULL), *sub = json_nonempty_str_at(git, "subPath", NULL);
		add_env(d, c, "SOURCE_GIT_URL", json_nonempty_str_at(git, "url", NULL));
		add_env(d, c, "SOURCE_GIT_REVISION", rev ? rev : "HEAD");
		push_fmt(d, args, GIT_CHECKOUT_DIR "%s%s", sub && strcmp(sub, ".") != 0 && sub[0] != '/' ? "/" : "",
			 sub && strcmp(sub, ".") != 0 ? sub : "");
	}
	free(context);
	/* buildah pushes to a name: one per platform and generation, so nothing is overwritten */
	if ((size_t)snprintf(repo, sizeof(repo), "%s:build-%s-g%ld", spec->repository, p->label, spec->generation) >= sizeof(repo))
		d->ok = false;
	add_env(d, c, "PUSH_REPOSITORY", repo);
	add_env(d, c, "PUSH_FLAGS", trusted ? "--cert-dir=" CERTS_DIR : "");
	if (registry_files)
		add_env(d, c, "CONTAINERS_REGISTRIES_CONF", BUILDER_CONFIG_DIR "/registries.conf");
}

/* kaniko takes git://host/path#refs/... or #<commit>, a bare name through --git=branch= (which kaniko looks up as a
 * branch, then as a tag), and the sub-path apart; it fetches over https unless told the repository speaks http. */
static void kaniko_git_context(struct doc *d, cJSON *c, cJSON *args, const cJSON *git)
{
	const char *url = json_nonempty_str_at(git, "url", NULL), *rev = json_nonempty_str_at(git, "revision", NULL), *sub = json_nonempty_str_at(git, "subPath", NULL);
	const char *where = strstr(url, "://") ? strstr(url, "://") + 3 : url;
	bool commit = rev && strlen(rev) == 40 && strspn(rev, "0123456789abcdef") == 40;
	bool ref = rev && strncmp(rev, "refs/", 5) == 0;

	if (commit || ref)
		push_fmt(d, args, "--context=git://%s#%s", where, rev);
	else
		push_fmt(d, args, "--context=git://%s", where);
	if (rev && !commit && !ref && strcmp(rev, "HEAD") != 0)
		push_fmt(d, args, "--git=branch=%s", rev);
	if (sub && strcmp(sub, ".") != 0)
		push_fmt(d, args, "--context-sub-path=%s", sub);
	if (strncmp(url, "http://", 7) == 0)
		add_env(d, c, "GIT_PULL_METHOD", "http");
}

static void kaniko_container(struct doc *d, cJSON *c, const cJSON *build, const struct ctl_build_spec *spec, const struct ctl_platform *p,
			     const char *git_secret, const struct ctl_builder_config *config)
{
	const cJSON *mirror_list, *m, *host;
	const cJSON *s = json_at(build, "spec", NULL);
	const char *dockerfile = json_nonempty_str_at(s, "dockerfile", NULL), *target = json_nonempty_str_at(s, "target", NULL);
	cJSON *args = need(d, cJSON_AddArrayToObject(c, "args"));
	char platform[REG_PLATFORM_STR_MAX];
	char *context = source_context(d, build);

	if (!context)
		return;
	reg_platform_format(&p->platform, platform, sizeof(platform));
	if (local_context(context))
		push_fmt(d, args, "--context=dir://%s", context);
	else
		kaniko_git_context(d, c, args, json_at(json_at(s, "source", NULL), "git", NULL));
	free(context);
	push_fmt(d, args, "--dockerfile=%s", dockerfile ? dockerfile : "Dockerfile");
	push_fmt(d, args, "--custom-platform=%s", platform);
	if (target)
		push_fmt(d, args, "--target=%s", target);
	add_build_args(d, args, build, p, "--build-arg=");
	push_fmt(d, args, "--destination=%s:build-%s-g%ld", spec->repository, p->label, spec->generation);
	push_str(d, args, "--digest-file=" TERMINATION_LOG);
	if (!cJSON_IsFalse(json_at(json_at(s, "cache", NULL), "enabled", NULL))) {
		const char *cache_repo = json_nonempty_str_at(json_at(s, "cache", NULL), "repository", NULL);
		push_str(d, args, "--cache=true");
		push_fmt(d, args, "--cache-repo=%s-buildcache-%s", cache_repo ? cache_repo : spec->repository, p->label);
	}
	const cJSON *mirrors = config ? config->mirrors : NULL, *insecure = config ? config->insecure : NULL;

	cJSON_ArrayForEach(mirror_list, mirrors) {
		if (strcmp(mirror_list->string, "docker.io") != 0)
			continue; /* kaniko mirrors Docker Hub only */
		cJSON_ArrayForEach(m, mirror_list) {
			push_fmt(d, args, "--registry-mirror=%s", m->valuestring);
		}
	}
	cJSON_ArrayForEach(host, insecure) {
		push_fmt(d, args, "--insecure-registry=%s", host->valuestring);
	}
	if (git_secret) {
		add_env_from_secret(d, c, "GIT_USERNAME", git_secret, "username");
		add_env_from_secret(d, c, "GIT_PASSWORD", git_secret, "password");
	}
}

enum ctl_err ctl_build_pod(const cJSON *build, const struct ctl_build_spec *spec, size_t platform, int attempt,
			   const struct ctl_child_options *opts, cJSON **out, char *errbuf, size_t errlen)
{
	const struct ctl_platform *p = &spec->platforms[platform];
	const cJSON *s = json_at(build, "spec", NULL);
	const char *build_name = json_nonempty_str_at(json_at(build, "metadata", NULL), "name", NULL);
	struct doc d = {true};
	char name[CTL_NAME_MAX + 1], attempt_text[16], text[REG_PLATFORM_STR_MAX];
	cJSON *pod = NULL, *meta, *labels, *annotations, *pod_spec, *c, *resources;
	const char *image = spec->builder_image[0] ? spec->builder_image : NULL, *git_secret;
	const struct ctl_builder_config *config = opts->config;
	const cJSON *user_resources;
	char config_map[CTL_NAME_MAX + 1];
	bool registry_files, trusted;

	*out = NULL;
	if (!build_name || !ctl_pod_name(name, sizeof(name), build_name, spec->generation, p->label, attempt))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "cannot name the build pod of %s", p->text);
	pod = need(&d, cJSON_CreateObject());
	put_str(&d, pod, "apiVersion", "v1");
	put_str(&d, pod, "kind", "Pod");
	meta = child_metadata(&d, build, name, CTL_ROLE_BUILD, spec->generation);
	attach(&d, pod, "metadata", meta);
	labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	put_str(&d, labels, CTL_LABEL_PLATFORM, p->label);
	snprintf(attempt_text, sizeof(attempt_text), "%d", attempt);
	put_str(&d, labels, CTL_LABEL_ATTEMPT, attempt_text);
	annotations = need(&d, cJSON_AddObjectToObject(meta, "annotations"));
	reg_platform_format(&p->platform, text, sizeof(text));
	put_str(&d, annotations, CTL_ANNOTATION_PLATFORM, text);
	put_str(&d, annotations, CTL_ANNOTATION_REPOSITORY, spec->repository);

	pod_spec = need(&d, cJSON_AddObjectToObject(pod, "spec"));
	put_str(&d, pod_spec, "restartPolicy", "Never");
	need(&d, cJSON_AddFalseToObject(pod_spec, "automountServiceAccountToken"));
	need(&d, cJSON_AddFalseToObject(pod_spec, "enableServiceLinks"));
	need(&d, cJSON_AddNumberToObject(pod_spec, "activeDeadlineSeconds", (double)spec->timeout_s));
	c = ctl_platform_node_selector(build, p);
	if (!c || !cJSON_AddItemToObject(pod_spec, "nodeSelector", c)) {
		cJSON_Delete(c);
		d.ok = false;
	}
	c = ctl_platform_tolerations(build, p, opts->config);
	if (c && cJSON_GetArraySize(c) == 0) {
		cJSON_Delete(c);
	} else if (!c || !cJSON_AddItemToObject(pod_spec, "tolerations", c)) {
		cJSON_Delete(c);
		d.ok = false;
	}
	put_copy(&d, pod_spec, "affinity", json_at(json_at(s, "placement", NULL), "affinity", NULL));

	c = append(&d, array_in(&d, pod_spec, "containers"), cJSON_CreateObject());
	put_str(&d, c, "name", "builder");
	put_str(&d, c, "terminationMessagePolicy", "FallbackToLogsOnError");
	ctl_builder_config_map_name(config_map, sizeof(config_map), build_name, spec->generation);
	git_secret = add_git_secret(&d, pod_spec, c, build);
	registry_files = config && (cJSON_GetArraySize(config->mirrors) > 0 || cJSON_GetArraySize(config->insecure) > 0);
	trusted = add_trust(&d, pod_spec, c, build, config_map, config) > 0;
	add_registry_files(&d, pod_spec, c, config_map, config);
	add_build_secrets(&d, pod_spec, c, build);
	if (strcmp(spec->builder_type, "buildah") == 0) {
		put_str(&d, c, "image", image ? image : opts->buildah_image);
		buildah_container(&d, c, build, spec, p, registry_files, trusted);
	} else if (strcmp(spec->builder_type, "kaniko") == 0) {
		put_str(&d, c, "image", image ? image : opts->kaniko_image);
		kaniko_container(&d, c, build, spec, p, git_secret, config);
	} else {
		put_str(&d, c, "image", image ? image : opts->buildkit_image);
		buildkit_container(&d, c, build, spec, p, git_secret, registry_files);
	}
	add_proxy(&d, c, build, config);
	security_context(&d, pod_spec, c, spec->builder_type, config);
	resources = need(&d, cJSON_AddObjectToObject(c, "resources"));
	user_resources = json_at(s, "resources", NULL);
	if (!user_resources && config)
		user_resources = config->resources;
	put_copy(&d, resources, "requests", json_at(user_resources, "requests", NULL));
	put_copy(&d, resources, "limits", json_at(user_resources, "limits", NULL));
	add_workspace(&d, pod_spec, c, build, opts->index_image, config);
	add_docker_config(&d, pod_spec, c, spec->push_secret);
	if (!d.ok) {
		cJSON_Delete(pod);
		return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory writing the build pod of %s", p->text);
	}
	*out = pod;
	return CTL_OK;
}

/* Where the index Job's pod may run: the build's nodeSelector without its architecture (the index is the same work
 * on any), Linux, and the cluster's and the build's tolerations (so a build pool's taint does not strand it). */
static void index_placement(struct doc *d, cJSON *pod_spec, const cJSON *build, const struct ctl_builder_config *config)
{
	const cJSON *sources[2] = {config ? config->tolerations : NULL, json_at(json_at(build, "spec", NULL), "placement", "tolerations")};
	cJSON *sel = need(d, cJSON_AddObjectToObject(pod_spec, "nodeSelector")), *list = NULL;
	const cJSON *t;

	merge_strings(d, sel, json_at(json_at(build, "spec", NULL), "placement", "nodeSelector"));
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/arch");
	cJSON_DeleteItemFromObjectCaseSensitive(sel, "kubernetes.io/os");
	put_str(d, sel, "kubernetes.io/os", "linux");
	for (size_t i = 0; i < 2; i++) {
		cJSON_ArrayForEach(t, sources[i]) {
			if (!list)
				list = need(d, cJSON_AddArrayToObject(pod_spec, "tolerations"));
			append(d, list, cJSON_Duplicate(t, true));
		}
	}
}

enum ctl_err ctl_index_job(const cJSON *build, const struct ctl_build_spec *spec, const char *job_name, const char *const *sources,
			   const char *const *platforms, size_t count, const struct ctl_child_options *opts, cJSON **out, char *errbuf,
			   size_t errlen)
{
	struct doc d = {true};
	cJSON *job = need(&d, cJSON_CreateObject()), *meta, *job_spec, *tmpl, *tmeta, *pod_spec, *c, *args, *sc;
	const cJSON *kv, *insecure;
	char config_map[CTL_NAME_MAX + 1];

	*out = NULL;
	put_str(&d, job, "apiVersion", "batch/v1");
	put_str(&d, job, "kind", "Job");
	meta = child_metadata(&d, build, job_name, CTL_ROLE_INDEX, spec->generation);
	attach(&d, job, "metadata", meta);
	job_spec = need(&d, cJSON_AddObjectToObject(job, "spec"));
	need(&d, cJSON_AddNumberToObject(job_spec, "backoffLimit", (double)opts->index_backoff_limit));
	need(&d, cJSON_AddNumberToObject(job_spec, "activeDeadlineSeconds", 1800));
	tmpl = need(&d, cJSON_AddObjectToObject(job_spec, "template"));
	tmeta = need(&d, cJSON_AddObjectToObject(tmpl, "metadata"));
	put_copy(&d, tmeta, "labels", cJSON_GetObjectItemCaseSensitive(meta, "labels"));
	pod_spec = need(&d, cJSON_AddObjectToObject(tmpl, "spec"));
	put_str(&d, pod_spec, "restartPolicy", "Never");
	need(&d, cJSON_AddFalseToObject(pod_spec, "automountServiceAccountToken"));
	need(&d, cJSON_AddFalseToObject(pod_spec, "enableServiceLinks"));
	index_placement(&d, pod_spec, build, opts->config);
	sc = need(&d, cJSON_AddObjectToObject(pod_spec, "securityContext"));
	need(&d, cJSON_AddTrueToObject(sc, "runAsNonRoot"));
	need(&d, cJSON_AddNumberToObject(sc, "runAsUser", 65532));
	put_str(&d, need(&d, cJSON_AddObjectToObject(sc, "seccompProfile")), "type", "RuntimeDefault");
	c = append(&d, array_in(&d, pod_spec, "containers"), cJSON_CreateObject());
	put_str(&d, c, "name", "index");
	put_str(&d, c, "image", opts->index_image);
	put_str(&d, c, "terminationMessagePolicy", "FallbackToLogsOnError");
	sc = need(&d, cJSON_AddObjectToObject(c, "securityContext"));
	need(&d, cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
	need(&d, cJSON_AddTrueToObject(sc, "readOnlyRootFilesystem"));
	push_str(&d, need(&d, cJSON_AddArrayToObject(need(&d, cJSON_AddObjectToObject(sc, "capabilities")), "drop")), "ALL");
	args = need(&d, cJSON_AddArrayToObject(c, "args"));
	push_str(&d, args, "index");
	push_fmt(&d, args, "--image=%s", spec->image);
	for (size_t i = 0; i < count; i++) {
		push_fmt(&d, args, "--source=%s", sources[i]);
		push_fmt(&d, args, "--platform=%s", platforms[i]);
	}
	cJSON_ArrayForEach(kv, json_at(json_at(build, "spec", NULL), "indexAnnotations", NULL)) {
		if (cJSON_IsString(kv))
			push_fmt(&d, args, "--annotation=%s=%s", kv->string, kv->valuestring);
	}
	for (const char *const *host = opts->insecure_registries; host && *host; host++)
		push_fmt(&d, args, "--insecure-registry=%s", *host);
	insecure = opts->config ? opts->config->insecure : NULL;
	cJSON_ArrayForEach(kv, insecure) {
		push_fmt(&d, args, "--insecure-registry=%s", kv->valuestring);
	}
	if (opts->config && opts->config->ca_bundle)
		push_str(&d, args, "--ca-file=" CERTS_DIR "/cluster-ca.crt");
	if (json_nonempty_str_at(json_at(json_at(build, "spec", NULL), "caBundleRef", NULL), "name", NULL))
		push_str(&d, args, "--ca-file=" CERTS_DIR "/build-ca.crt");
	if (spec->push_secret[0])
		push_str(&d, args, "--docker-config=" DOCKER_CONFIG_DIR);
	push_str(&d, args, "--digest-file=" TERMINATION_LOG);
	put_str(&d, need(&d, cJSON_AddObjectToObject(need(&d, cJSON_AddObjectToObject(c, "resources")), "requests")), "cpu", "50m");
	add_docker_config(&d, pod_spec, c, spec->push_secret);
	ctl_builder_config_map_name(config_map, sizeof(config_map), json_nonempty_str_at(json_at(build, "metadata", NULL), "name", NULL), spec->generation);
	add_trust(&d, pod_spec, c, build, config_map, opts->config);
	add_proxy(&d, c, build, opts->config);
	if (!d.ok) {
		cJSON_Delete(job);
		return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory writing the index Job");
	}
	*out = job;
	return CTL_OK;
}

bool ctl_builder_config_map_name(char *buf, size_t len, const char *build, long generation)
{
	return build && ctl_child_name(buf, len, build, generation, "builder");
}

/* Appends TOML text; a failure (too long) clears ok. */
static void toml(struct doc *d, struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void toml(struct doc *d, struct dynbuf *b, const char *fmt, ...)
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
	struct doc d = {true};
	struct dynbuf buildkitd, registries;
	const cJSON *list, *m, *host;
	char name[CTL_NAME_MAX + 1];
	cJSON *cm, *meta, *data;

	if (!config || !ctl_builder_config_map_name(name, sizeof(name), json_nonempty_str_at(json_at(build, "metadata", NULL), "name", NULL), spec->generation))
		return NULL;
	dynbuf_init(&buildkitd, (size_t)256 * 1024);
	dynbuf_init(&registries, (size_t)256 * 1024);
	toml(&d, &registries, "# generated by multiarch-controller from its builder configuration\nunqualified-search-registries = [\"docker.io\"]\n");
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
	cm = need(&d, cJSON_CreateObject());
	put_str(&d, cm, "apiVersion", "v1");
	put_str(&d, cm, "kind", "ConfigMap");
	meta = child_metadata(&d, build, name, "config", spec->generation);
	attach(&d, cm, "metadata", meta);
	data = need(&d, cJSON_AddObjectToObject(cm, "data"));
	put_str(&d, data, "buildkitd.toml", dynbuf_str(&buildkitd));
	put_str(&d, data, "registries.conf", dynbuf_str(&registries));
	if (config->ca_bundle)
		put_str(&d, data, "ca.crt", config->ca_bundle);
	dynbuf_free(&buildkitd);
	dynbuf_free(&registries);
	if (!d.ok) {
		cJSON_Delete(cm);
		return NULL;
	}
	return cm;
}
