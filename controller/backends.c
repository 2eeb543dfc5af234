/* The builder container of each backend (BuildKit, Buildah, Kaniko): its command and arguments, its security
 * contexts (the least each runs with, see docs/builders.md), and the table that picks them by spec.builder.type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/childparts.h"
#include "registry/platform.h"
#include "util/jsonget.h"
#include "util/banned.h"

/* The container's command: script run by /bin/sh with name as its $0 (the container's arguments are its "$@"). */
static void shell_command(struct json_builder *d, cJSON *command, const char *script, const char *name)
{
	jb_push_str(d, command, "/bin/sh");
	jb_push_str(d, command, "-c");
	jb_push_str(d, command, script);
	jb_push_str(d, command, name);
}

/* The shell step that turns a builder's digest output into the termination message ("$1" is the file). */
static const char buildkit_script[] =
	GIT_TRUST_STEP "buildctl-daemonless.sh \"$@\" && grep -o '\"containerimage.digest\": *\"sha256:[0-9a-f]*\"' " METADATA_FILE
		       " | grep -o 'sha256:[0-9a-f]*' > " TERMINATION_LOG;

/* The entitlements a build asked for (the policy allowed them): buildctl asks with --allow, the daemon grants
 * them with --allow-insecure-entitlement; the daemon's flags also name the registry configuration. */
static void buildkit_entitlements(struct json_builder *d, cJSON *c, cJSON *args, const cJSON *entitlements, bool registry_files)
{
	char flags[512];
	size_t used;
	const cJSON *e;

	used = (size_t)snprintf(flags, sizeof(flags), "%s",
				registry_files ? "--oci-worker-no-process-sandbox --config=" BUILDER_CONFIG_DIR "/buildkitd.toml"
					       : "--oci-worker-no-process-sandbox");
	cJSON_ArrayForEach(e, entitlements) {
		if (!cJSON_IsString(e) || used >= sizeof(flags))
			continue;
		jb_push_fmt(d, args, "--allow=%s", e->valuestring);
		used += (size_t)snprintf(flags + used, sizeof(flags) - used, " --allow-insecure-entitlement=%s", e->valuestring);
	}
	child_add_env(d, c, "BUILDKITD_FLAGS", flags);
}

static void buildkit_container(struct json_builder *d, cJSON *c, const struct child_build_inputs *in)
{
	const cJSON *build = in->build;
	const struct ctl_build_spec *spec = in->spec;
	const struct ctl_platform *p = in->platform;
	const cJSON *s = json_at(build, "spec", NULL);
	const char *dockerfile = json_nonempty_str_at(s, "dockerfile", NULL), *target = json_nonempty_str_at(s, "target", NULL);
	const cJSON *cache = json_at(s, "cache", NULL);
	cJSON *command = jb_need(d, cJSON_AddArrayToObject(c, "command")), *args = jb_need(d, cJSON_AddArrayToObject(c, "args"));
	char platform[REG_PLATFORM_STR_MAX], cache_repo[CTL_IMAGE_MAX + 16];
	char *context = child_source_context(d, build);

	if (!context)
		return;
	reg_platform_format(&p->platform, platform, sizeof(platform));
	shell_command(d, command, buildkit_script, "buildctl-daemonless.sh");
	jb_push_str(d, args, "build");
	jb_push_str(d, args, "--frontend=dockerfile.v0");
	jb_push_fmt(d, args, "--opt=platform=%s", platform);
	jb_push_fmt(d, args, "--opt=filename=%s", dockerfile ? dockerfile : "Dockerfile");
	if (target)
		jb_push_fmt(d, args, "--opt=target=%s", target);
	child_add_build_args(d, args, build, p, "--opt=build-arg:");
	if (child_local_context(context)) {
		jb_push_fmt(d, args, "--local=context=%s", context);
		jb_push_fmt(d, args, "--local=dockerfile=%s", context);
	} else {
		jb_push_fmt(d, args, "--opt=context=%s", context);
		jb_push_fmt(d, args, "--opt=dockerfile=%s", context);
	}
	if (!cJSON_IsFalse(json_at(cache, "enabled", NULL))) {
		if (!ctl_cache_repository(build, spec, cache_repo, sizeof(cache_repo)))
			d->ok = false;
		jb_push_fmt(d, args, "--import-cache=type=registry,ref=%s:buildcache-%s", cache_repo, p->label);
		jb_push_fmt(d, args, "--export-cache=type=registry,ref=%s:buildcache-%s,mode=max", cache_repo, p->label);
	}
	if (in->git_secret)
		jb_push_str(d, args, "--secret=id=GIT_AUTH_TOKEN,src=" GIT_SECRET_DIR "/password");
	child_build_secret_flags(d, args, build);
	if (cJSON_IsTrue(json_at(json_at(s, "attestations", NULL), "provenance", NULL)))
		jb_push_str(d, args, "--opt=attest:provenance=mode=max");
	if (cJSON_IsTrue(json_at(json_at(s, "attestations", NULL), "sbom", NULL)))
		jb_push_str(d, args, "--opt=attest:sbom=");
	jb_push_fmt(d, args, "--output=type=image,name=%s,push-by-digest=true,push=true", spec->repository);
	jb_push_str(d, args, "--metadata-file=" METADATA_FILE);
	buildkit_entitlements(d, c, args, json_at(json_at(s, "builder", NULL), "entitlements", NULL), in->registry_files);
	free(context);
}

/* The tag buildah and kaniko push platform's image to: "<staging repository>:<os>-<arch>[-<variant>]-<round>". */
static bool staging_destination(const struct child_build_inputs *in, char *buf, size_t len)
{
	char staging[CTL_IMAGE_MAX + 80];
	int n;

	if (!ctl_push_repository(in->spec, in->config, staging, sizeof(staging)))
		return false;
	n = snprintf(buf, len, "%s:%s-%s", staging, in->platform->label, in->spec->round);
	return n >= 0 && (size_t)n < len;
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

static void buildah_container(struct json_builder *d, cJSON *c, const struct child_build_inputs *in)
{
	const cJSON *build = in->build;
	const struct ctl_build_spec *spec = in->spec;
	const struct ctl_platform *p = in->platform;
	const cJSON *s = json_at(build, "spec", NULL);
	const char *dockerfile = json_nonempty_str_at(s, "dockerfile", NULL), *target = json_nonempty_str_at(s, "target", NULL);
	cJSON *command = jb_need(d, cJSON_AddArrayToObject(c, "command")), *args = jb_need(d, cJSON_AddArrayToObject(c, "args"));
	char platform[REG_PLATFORM_STR_MAX], repo[CTL_IMAGE_MAX + REG_PLATFORM_STR_MAX + 96];
	char *context = child_source_context(d, build);

	if (!context)
		return;
	reg_platform_format(&p->platform, platform, sizeof(platform));
	shell_command(d, command, buildah_script, "buildah");
	jb_push_fmt(d, args, "--platform=%s", platform);
	jb_push_fmt(d, args, "--file=%s", dockerfile ? dockerfile : "Dockerfile");
	if (target)
		jb_push_fmt(d, args, "--target=%s", target);
	child_add_build_args(d, args, build, p, "--build-arg=");
	child_build_secret_flags(d, args, build);
	jb_push_str(d, args, "--storage-driver=vfs");
	jb_push_str(d, args, "--isolation=chroot");
	if (!cJSON_IsFalse(json_at(json_at(s, "cache", NULL), "enabled", NULL))) {
		/* buildah's cache tags are content keys of the platform's own layers: the platforms share one repository */
		if (!ctl_cache_repository(build, spec, repo, sizeof(repo)))
			d->ok = false;
		jb_push_str(d, args, "--layers");
		jb_push_fmt(d, args, "--cache-from=%s", repo);
		jb_push_fmt(d, args, "--cache-to=%s", repo);
	}
	if (in->trusted)
		jb_push_str(d, args, "--cert-dir=" CERTS_DIR);
	if (child_local_context(context)) {
		jb_push_str(d, args, context);
	} else {
		const cJSON *git = json_at(json_at(s, "source", NULL), "git", NULL);
		const char *rev = json_nonempty_str_at(git, "revision", NULL), *sub = json_nonempty_str_at(git, "subPath", NULL);
		child_add_env(d, c, "SOURCE_GIT_URL", json_nonempty_str_at(git, "url", NULL));
		child_add_env(d, c, "SOURCE_GIT_REVISION", rev ? rev : "HEAD");
		jb_push_fmt(d, args, GIT_CHECKOUT_DIR "%s%s", sub && strcmp(sub, ".") != 0 && sub[0] != '/' ? "/" : "",
			    sub && strcmp(sub, ".") != 0 ? sub : "");
	}
	free(context);
	/* buildah pushes only to a name: a tag of the staging repository per platform and round, so nothing is overwritten
	 * and the application's repository gets no tag but the index's */
	if (!staging_destination(in, repo, sizeof(repo)))
		d->ok = false;
	child_add_env(d, c, "PUSH_REPOSITORY", repo);
	child_add_env(d, c, "PUSH_FLAGS", in->trusted ? "--cert-dir=" CERTS_DIR : "");
	if (in->registry_files)
		child_add_env(d, c, "CONTAINERS_REGISTRIES_CONF", BUILDER_CONFIG_DIR "/registries.conf");
}

/* kaniko takes git://host/path#refs/... or #<commit>, a bare name through --git=branch= (which kaniko looks up as a
 * branch, then as a tag), and the sub-path apart; it fetches over https unless told the repository speaks http. */
static void kaniko_git_context(struct json_builder *d, cJSON *c, cJSON *args, const cJSON *git)
{
	const char *url = json_nonempty_str_at(git, "url", NULL), *rev = json_nonempty_str_at(git, "revision", NULL),
		   *sub = json_nonempty_str_at(git, "subPath", NULL);
	const char *where = strstr(url, "://") ? strstr(url, "://") + 3 : url;
	bool commit = rev && strlen(rev) == 40 && strspn(rev, "0123456789abcdef") == 40;
	bool ref = rev && strncmp(rev, "refs/", 5) == 0;

	if (commit || ref)
		jb_push_fmt(d, args, "--context=git://%s#%s", where, rev);
	else
		jb_push_fmt(d, args, "--context=git://%s", where);
	if (rev && !commit && !ref && strcmp(rev, "HEAD") != 0)
		jb_push_fmt(d, args, "--git=branch=%s", rev);
	if (sub && strcmp(sub, ".") != 0)
		jb_push_fmt(d, args, "--context-sub-path=%s", sub);
	if (strncmp(url, "http://", 7) == 0)
		child_add_env(d, c, "GIT_PULL_METHOD", "http");
}

static void kaniko_container(struct json_builder *d, cJSON *c, const struct child_build_inputs *in)
{
	const cJSON *build = in->build;
	const struct ctl_build_spec *spec = in->spec;
	const struct ctl_platform *p = in->platform;
	const cJSON *mirror_list, *m, *host;
	const cJSON *s = json_at(build, "spec", NULL);
	const char *dockerfile = json_nonempty_str_at(s, "dockerfile", NULL), *target = json_nonempty_str_at(s, "target", NULL);
	cJSON *args = jb_need(d, cJSON_AddArrayToObject(c, "args"));
	char platform[REG_PLATFORM_STR_MAX], repo[CTL_IMAGE_MAX + REG_PLATFORM_STR_MAX + 96];
	char *context = child_source_context(d, build);

	if (!context)
		return;
	reg_platform_format(&p->platform, platform, sizeof(platform));
	if (child_local_context(context))
		jb_push_fmt(d, args, "--context=dir://%s", context);
	else
		kaniko_git_context(d, c, args, json_at(json_at(s, "source", NULL), "git", NULL));
	free(context);
	jb_push_fmt(d, args, "--dockerfile=%s", dockerfile ? dockerfile : "Dockerfile");
	jb_push_fmt(d, args, "--custom-platform=%s", platform);
	if (target)
		jb_push_fmt(d, args, "--target=%s", target);
	child_add_build_args(d, args, build, p, "--build-arg=");
	if (!staging_destination(in, repo, sizeof(repo)))
		d->ok = false;
	jb_push_fmt(d, args, "--destination=%s", repo);
	jb_push_str(d, args, "--digest-file=" TERMINATION_LOG);
	if (!cJSON_IsFalse(json_at(json_at(s, "cache", NULL), "enabled", NULL))) {
		/* kaniko's cache tags are content keys of the platform's own layers: the platforms share one repository */
		if (!ctl_cache_repository(build, spec, repo, sizeof(repo)))
			d->ok = false;
		jb_push_str(d, args, "--cache=true");
		jb_push_fmt(d, args, "--cache-repo=%s", repo);
	}
	const cJSON *mirrors = in->config ? in->config->mirrors : NULL, *insecure = in->config ? in->config->insecure : NULL;
	cJSON_ArrayForEach(mirror_list, mirrors) {
		if (strcmp(mirror_list->string, "docker.io") != 0)
			continue; /* kaniko mirrors Docker Hub only */
		cJSON_ArrayForEach(m, mirror_list) {
			jb_push_fmt(d, args, "--registry-mirror=%s", m->valuestring);
		}
	}
	cJSON_ArrayForEach(host, insecure) {
		jb_push_fmt(d, args, "--insecure-registry=%s", host->valuestring);
	}
	if (in->git_secret) {
		child_add_env_from_secret(d, c, "GIT_USERNAME", in->git_secret, "username");
		child_add_env_from_secret(d, c, "GIT_PASSWORD", in->git_secret, "password");
	}
}

/* Rootless BuildKit makes its own user namespace: it needs seccomp and AppArmor out of the way. */
static void buildkit_security(struct json_builder *d, cJSON *pod_sc, cJSON *sc)
{
	jb_need(d, cJSON_AddNumberToObject(pod_sc, "runAsUser", 1000));
	jb_need(d, cJSON_AddNumberToObject(pod_sc, "runAsGroup", 1000));
	jb_need(d, cJSON_AddNumberToObject(pod_sc, "fsGroup", 1000));
	jb_need(d, cJSON_AddTrueToObject(pod_sc, "runAsNonRoot"));
	jb_put_str(d, jb_object_in(d, sc, "seccompProfile"), "type", "Unconfined");
	jb_put_str(d, jb_object_in(d, sc, "appArmorProfile"), "type", "Unconfined");
}

/* Root in the container, chroot isolation, vfs storage: the capabilities buildah's own image documents. */
static void buildah_security(struct json_builder *d, cJSON *pod_sc, cJSON *sc)
{
	cJSON *add;

	jb_need(d, cJSON_AddNumberToObject(pod_sc, "runAsUser", 0));
	jb_put_str(d, jb_object_in(d, sc, "seccompProfile"), "type", "Unconfined");
	jb_put_str(d, jb_object_in(d, sc, "appArmorProfile"), "type", "Unconfined");
	add = jb_array_in(d, jb_object_in(d, sc, "capabilities"), "add");
	jb_push_str(d, add, "SETUID");
	jb_push_str(d, add, "SETGID");
}

/* Kaniko unpacks the base image over its own root: root without extra capabilities. */
static void kaniko_security(struct json_builder *d, cJSON *pod_sc, cJSON *sc)
{
	jb_need(d, cJSON_AddNumberToObject(pod_sc, "runAsUser", 0));
	jb_put_str(d, jb_object_in(d, pod_sc, "seccompProfile"), "type", "RuntimeDefault");
	jb_need(d, cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation"));
}

static const char *buildkit_image(const struct ctl_child_options *opts)
{
	return opts->buildkit_image;
}

static const char *buildah_image(const struct ctl_child_options *opts)
{
	return opts->buildah_image;
}

static const char *kaniko_image(const struct ctl_child_options *opts)
{
	return opts->kaniko_image;
}

static const struct child_backend backends[] = {
	[CTL_BACKEND_BUILDKIT] = {buildkit_image, buildkit_container, buildkit_security},
	[CTL_BACKEND_BUILDAH] = {buildah_image, buildah_container, buildah_security},
	[CTL_BACKEND_KANIKO] = {kaniko_image, kaniko_container, kaniko_security},
};

const struct child_backend *child_backend_of(enum ctl_backend backend)
{
	return (size_t)backend < sizeof(backends) / sizeof(backends[0]) ? &backends[backend] : &backends[CTL_BACKEND_BUILDKIT];
}
