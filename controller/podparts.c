/* Pieces of any pod the controller writes: environment, mounts, volumes and their items, per-platform overrides,
 * and a child's metadata with its controller ownerReference. */
#include <stdio.h>
#include <string.h>

#include "controller/childparts.h"
#include "controller/labels.h"
#include "registry/platform.h"
#include "util/jsonget.h"
#include "util/banned.h"

void child_add_env(struct json_builder *d, cJSON *container, const char *name, const char *value)
{
	cJSON *e = jb_append(d, jb_array_in(d, container, "env"), cJSON_CreateObject());

	jb_put_str(d, e, "name", name);
	jb_put_str(d, e, "value", value);
}

/* An environment variable taken from a Secret by the kubelet: the value never appears in the pod spec. */
void child_add_env_from_secret(struct json_builder *d, cJSON *container, const char *name, const char *secret, const char *key)
{
	cJSON *e = jb_append(d, jb_array_in(d, container, "env"), cJSON_CreateObject());
	cJSON *ref = jb_need(d, cJSON_AddObjectToObject(jb_need(d, cJSON_AddObjectToObject(e, "valueFrom")), "secretKeyRef"));

	jb_put_str(d, e, "name", name);
	jb_put_str(d, ref, "name", secret);
	jb_put_str(d, ref, "key", key);
}

void child_add_mount_mode(struct json_builder *d, cJSON *container, const char *volume, const char *path, bool read_only)
{
	cJSON *m = jb_append(d, jb_array_in(d, container, "volumeMounts"), cJSON_CreateObject());

	jb_put_str(d, m, "name", volume);
	jb_put_str(d, m, "mountPath", path);
	if (read_only)
		jb_need(d, cJSON_AddTrueToObject(m, "readOnly"));
}

void child_add_mount(struct json_builder *d, cJSON *container, const char *volume, const char *path)
{
	child_add_mount_mode(d, container, volume, path, true);
}

/* A volume named name; returns it for the caller to add its source. */
cJSON *child_add_volume(struct json_builder *d, cJSON *pod_spec, const char *name)
{
	cJSON *v = jb_append(d, jb_array_in(d, pod_spec, "volumes"), cJSON_CreateObject());

	jb_put_str(d, v, "name", name);
	return v;
}

/* An item {key, path} of a volume source. */
void child_add_item(struct json_builder *d, cJSON *items, const char *key, const char *path)
{
	cJSON *i = jb_append(d, items, cJSON_CreateObject());

	jb_put_str(d, i, "key", key);
	jb_put_str(d, i, "path", path);
}

/* The spec.perPlatform entry for platform, or NULL. */
const cJSON *child_per_platform(const cJSON *build, const struct ctl_platform *platform)
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

void child_merge_strings(struct json_builder *d, cJSON *into, const cJSON *from)
{
	const cJSON *kv;

	cJSON_ArrayForEach(kv, from) {
		if (!cJSON_IsString(kv))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(into, kv->string);
		jb_put_str(d, into, kv->string, kv->valuestring);
	}
}

/* metadata of a child: name, namespace, labels, and the controller ownerReference to build. */
cJSON *child_metadata(struct json_builder *d, const cJSON *build, const char *name, const char *role, const struct ctl_build_spec *spec)
{
	const cJSON *meta = json_at(build, "metadata", NULL);
	cJSON *m = jb_need(d, cJSON_CreateObject()), *labels, *owner;
	char gen[24];

	snprintf(gen, sizeof(gen), "%ld", spec->generation);
	jb_put_str(d, m, "name", name);
	jb_put_str(d, m, "namespace",
		   json_nonempty_str_at(meta, "namespace", NULL) ? json_nonempty_str_at(meta, "namespace", NULL) : "default");
	labels = jb_need(d, cJSON_AddObjectToObject(m, "labels"));
	jb_put_str(d, labels, CTL_LABEL_MANAGED_BY, CTL_MANAGER);
	jb_put_str(d, labels, CTL_LABEL_BUILD, json_nonempty_str_at(meta, "name", NULL) ? json_nonempty_str_at(meta, "name", NULL) : "");
	jb_put_str(d, labels, CTL_LABEL_ROLE, role);
	jb_put_str(d, labels, CTL_LABEL_GENERATION, gen);
	if (spec->request_tag[0])
		jb_put_str(d, labels, CTL_LABEL_REQUEST, spec->request_tag);
	owner = jb_append(d, jb_array_in(d, m, "ownerReferences"), cJSON_CreateObject());
	jb_put_str(d, owner, "apiVersion", CTL_API_GROUP "/" CTL_API_VERSION);
	jb_put_str(d, owner, "kind", CTL_KIND);
	jb_put_str(d, owner, "name", json_nonempty_str_at(meta, "name", NULL) ? json_nonempty_str_at(meta, "name", NULL) : "");
	jb_put_str(d, owner, "uid", json_nonempty_str_at(meta, "uid", NULL) ? json_nonempty_str_at(meta, "uid", NULL) : "");
	jb_need(d, cJSON_AddTrueToObject(owner, "controller"));
	jb_need(d, cJSON_AddTrueToObject(owner, "blockOwnerDeletion"));
	return m;
}

void child_identity(struct json_builder *d, cJSON *pod_spec, const struct ctl_build_spec *spec, const struct ctl_builder_config *config)
{
	const char *account = spec->service_account[0] ? spec->service_account : config ? config->service_account : NULL;

	if (account && account[0]) {
		jb_put_str(d, pod_spec, "serviceAccountName", account);
		jb_need(d, cJSON_AddTrueToObject(pod_spec, "automountServiceAccountToken"));
	} else {
		jb_need(d, cJSON_AddFalseToObject(pod_spec, "automountServiceAccountToken"));
	}
}

/* True when pod_spec has a volume named name. */
bool child_has_volume(const cJSON *pod_spec, const char *name)
{
	return json_find(json_at(pod_spec, "volumes", NULL), "name", name) != NULL;
}
