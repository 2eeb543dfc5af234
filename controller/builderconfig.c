/* The cluster-wide builder configuration (one YAML file, e.g. a mounted ConfigMap): default images, proxy, a CA
 * bundle, registry mirrors and plain-HTTP registries, default resources and tolerations, user namespaces, the policy. */
#include "controller/builderconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/buildspec.h"
#include "controller/podnetwork.h"
#include "util/dynbuf.h"
#include "util/fileio.h"
#include "util/yamljson.h"
#include "util/banned.h"

/* The keys a section may hold: anything else is a typo the user should hear about. */
static bool only_keys(const cJSON *obj, const char *const *allowed, const char *where, char *errbuf, size_t errlen)
{
	const cJSON *member;

	if (obj && !cJSON_IsObject(obj) && !cJSON_IsNull(obj)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s must be a mapping", *where ? where : "the configuration");
		return false;
	}
	cJSON_ArrayForEach(member, obj) {
		const char *const *k = allowed;
		while (*k && strcmp(*k, member->string) != 0)
			k++;
		if (!*k) {
			ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s%s%s: unknown key (see docs/builders.md)", where, *where ? "." : "",
				 member->string);
			return false;
		}
	}
	return true;
}

/* Reads a string member; false (with a message) when it is there but not a string. */
static bool get_string(const cJSON *obj, const char *key, const char *where, const char **out, char *errbuf, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return true;
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s.%s must be a non-empty string", where, key);
		return false;
	}
	*out = v->valuestring;
	return true;
}

static bool proxy_ok(const char *url, const char *key, char *errbuf, size_t errlen)
{
	const char *scheme_end = url ? strstr(url, "://") : NULL;
	const char *host = scheme_end ? scheme_end + 3 : url;
	const char *slash;

	if (!url)
		return true;
	slash = strchr(host, '/');
	if (memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host))) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID,
			 "proxy.%s carries credentials: they would be visible in every build pod's spec; use a proxy that needs none", key);
		return false;
	}
	if (!scheme_end || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "proxy.%s must be an http:// or https:// URL", key);
		return false;
	}
	return true;
}

static bool string_list(const cJSON *v, const char *where, char *errbuf, size_t errlen)
{
	const cJSON *item;

	if (!cJSON_IsArray(v)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s must be a list of strings", where);
		return false;
	}
	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsString(item) || !item->valuestring[0] || strpbrk(item->valuestring, " \t\"'\\/")) {
			ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s must hold host[:port] names only", where);
			return false;
		}
	}
	return true;
}

/* images and proxy: strings, the proxies without credentials. */
static bool parse_images_and_proxy(struct ctl_builder_config *out, char *errbuf, size_t errlen)
{
	static const char *const images[] = {"buildkit", "buildah", "kaniko", "index", NULL};
	static const char *const proxy[] = {"httpProxy", "httpsProxy", "noProxy", NULL};
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(out->doc, "images");

	if (!only_keys(sec, images, "images", errbuf, errlen) ||
	    !get_string(sec, "buildkit", "images", &out->buildkit_image, errbuf, errlen) ||
	    !get_string(sec, "buildah", "images", &out->buildah_image, errbuf, errlen) ||
	    !get_string(sec, "kaniko", "images", &out->kaniko_image, errbuf, errlen) ||
	    !get_string(sec, "index", "images", &out->index_image, errbuf, errlen))
		return false;
	sec = cJSON_GetObjectItemCaseSensitive(out->doc, "proxy");
	return only_keys(sec, proxy, "proxy", errbuf, errlen) && get_string(sec, "httpProxy", "proxy", &out->http_proxy, errbuf, errlen) &&
	       get_string(sec, "httpsProxy", "proxy", &out->https_proxy, errbuf, errlen) &&
	       get_string(sec, "noProxy", "proxy", &out->no_proxy, errbuf, errlen) &&
	       proxy_ok(out->http_proxy, "httpProxy", errbuf, errlen) && proxy_ok(out->https_proxy, "httpsProxy", errbuf, errlen);
}

/* defaults.nodeWaitTimeout (value; NULL: CTL_NODE_WAIT_DEFAULT_S), a duration from 10s to 24h. */
static bool parse_node_wait(const cJSON *value, struct ctl_builder_config *out, char *errbuf, size_t errlen)
{
	out->node_wait_s = CTL_NODE_WAIT_DEFAULT_S;
	if (!value)
		return true;
	if (!cJSON_IsString(value) || !ctl_parse_duration(value->valuestring, &out->node_wait_s) || out->node_wait_s < 10 ||
	    out->node_wait_s > 86400) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "defaults.nodeWaitTimeout must be a duration from 10s to 24h, such as 15m");
		return false;
	}
	return true;
}

/* defaults: resources, tolerations, nodeWaitTimeout, serviceAccountName, hostAliases, dnsConfig. */
static bool parse_defaults(struct ctl_builder_config *out, char *errbuf, size_t errlen)
{
	static const char *const defaults[] = {"resources",   "tolerations", "nodeWaitTimeout", "serviceAccountName",
					       "hostAliases", "dnsConfig",   "retention",       NULL};
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(out->doc, "defaults");

	if (!only_keys(sec, defaults, "defaults", errbuf, errlen))
		return false;
	out->resources = cJSON_GetObjectItemCaseSensitive(sec, "resources");
	out->tolerations = cJSON_GetObjectItemCaseSensitive(sec, "tolerations");
	if ((out->resources && !cJSON_IsObject(out->resources)) || (out->tolerations && !cJSON_IsArray(out->tolerations))) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "defaults.resources must be a mapping and defaults.tolerations a list");
		return false;
	}
	out->host_aliases = cJSON_GetObjectItemCaseSensitive(sec, "hostAliases");
	out->dns_config = cJSON_GetObjectItemCaseSensitive(sec, "dnsConfig");
	return parse_node_wait(cJSON_GetObjectItemCaseSensitive(sec, "nodeWaitTimeout"), out, errbuf, errlen) &&
	       get_string(sec, "serviceAccountName", "defaults", &out->service_account, errbuf, errlen) &&
	       ctl_pod_network_check(out->host_aliases, out->dns_config, "defaults", errbuf, errlen) &&
	       ctl_retention_parse(cJSON_GetObjectItemCaseSensitive(sec, "retention"), "defaults.retention", &out->retention, errbuf,
				   errlen) == CTL_OK;
}

/* Whether suffix makes a repository name of any repository it follows: lowercase path characters, 1 to 64. */
static bool repository_suffix(const char *suffix)
{
	size_t n = strlen(suffix);

	if (n == 0 || n > 64 || strcmp(suffix, ".") == 0 || suffix[n - 1] == '/' || strstr(suffix, "//"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = suffix[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/'))
			return false;
	}
	return true;
}

/* registries, defaults and userNamespaces. */
static bool parse_registries_and_defaults(struct ctl_builder_config *out, char *errbuf, size_t errlen)
{
	static const char *const registries[] = {"mirrors", "insecure", "stagingSuffix", NULL};
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(out->doc, "registries"), *mirror;

	if (!only_keys(sec, registries, "registries", errbuf, errlen))
		return false;
	out->mirrors = cJSON_GetObjectItemCaseSensitive(sec, "mirrors");
	if (out->mirrors && !cJSON_IsObject(out->mirrors)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "registries.mirrors must map a registry to a list of mirrors");
		return false;
	}
	cJSON_ArrayForEach(mirror, out->mirrors) {
		if (!string_list(mirror, "registries.mirrors entries", errbuf, errlen))
			return false;
	}
	out->insecure = cJSON_GetObjectItemCaseSensitive(sec, "insecure");
	if (!get_string(sec, "stagingSuffix", "registries", &out->staging_suffix, errbuf, errlen))
		return false;
	if (out->staging_suffix && !repository_suffix(out->staging_suffix)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID,
			 "registries.stagingSuffix must be 1 to 64 of a-z, 0-9, '.', '_', '-' and '/', not empty or '.' alone");
		return false;
	}
	if ((out->insecure && !string_list(out->insecure, "registries.insecure", errbuf, errlen)) || !parse_defaults(out, errbuf, errlen))
		return false;
	sec = cJSON_GetObjectItemCaseSensitive(out->doc, "userNamespaces");
	if (sec && !cJSON_IsBool(sec)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "userNamespaces must be true or false");
		return false;
	}
	out->user_namespaces = cJSON_IsTrue(sec);
	return true;
}

/* caBundle or caBundleFile (relative to dir): PEM certificates and nothing secret. */
static enum ctl_err parse_ca_bundle(struct ctl_builder_config *out, const char *dir, char *errbuf, size_t errlen)
{
	const char *ca_inline = NULL, *ca_file = NULL;

	if (!get_string(out->doc, "caBundle", "config", &ca_inline, errbuf, errlen) ||
	    !get_string(out->doc, "caBundleFile", "config", &ca_file, errbuf, errlen))
		return CTL_E_INVALID;
	if (ca_inline && ca_file)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "set caBundle or caBundleFile, not both");
	if (ca_file) {
		struct dynbuf buf;
		char path[4096];
		int rc;
		snprintf(path, sizeof(path), "%s%s%s", ca_file[0] == '/' || !dir ? "" : dir, ca_file[0] == '/' || !dir ? "" : "/", ca_file);
		dynbuf_init(&buf, CTL_CA_BUNDLE_MAX);
		rc = file_read_all(path, &buf);
		if (rc != 0) {
			dynbuf_free(&buf);
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "caBundleFile %s: cannot read it (or it is over %zu bytes)", path,
					CTL_CA_BUNDLE_MAX);
		}
		out->ca_bundle = dynbuf_take(&buf, NULL);
	} else if (ca_inline) {
		if (strlen(ca_inline) > CTL_CA_BUNDLE_MAX)
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "caBundle is over %zu bytes", CTL_CA_BUNDLE_MAX);
		out->ca_bundle = strdup(ca_inline);
		if (!out->ca_bundle)
			return ctl_fail(errbuf, errlen, CTL_E_NOMEM, "out of memory");
	}
	if (out->ca_bundle && !strstr(out->ca_bundle, "-----BEGIN CERTIFICATE-----"))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "the CA bundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
	/* the bundle is copied into every build namespace: a key in it would be handed to every build */
	if (out->ca_bundle && strstr(out->ca_bundle, "PRIVATE KEY-----"))
		return ctl_fail(
			errbuf, errlen, CTL_E_INVALID,
			"the CA bundle holds a private key; only certificates belong in it (it is copied into every build namespace)");
	return CTL_OK;
}

enum ctl_err ctl_builder_config_parse(const char *text, size_t len, const char *dir, struct ctl_builder_config *out, char *errbuf,
				      size_t errlen)
{
	static const char *const top[] = {"images",         "proxy",  "caBundle", "caBundleFile", "registries", "defaults",
					  "userNamespaces", "policy", NULL};
	char err[512];

	memset(out, 0, sizeof(*out));
	out->doc = yaml_to_json(text, len, err, sizeof(err));
	if (!out->doc)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s", err);
	if (!cJSON_IsObject(out->doc))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "the configuration must be a mapping");
	if (!only_keys(out->doc, top, "", errbuf, errlen) || !parse_images_and_proxy(out, errbuf, errlen) ||
	    !parse_registries_and_defaults(out, errbuf, errlen))
		return CTL_E_INVALID;
	if (ctl_policy_parse(cJSON_GetObjectItemCaseSensitive(out->doc, "policy"), &out->policy, errbuf, errlen) != CTL_OK)
		return CTL_E_INVALID;
	return parse_ca_bundle(out, dir, errbuf, errlen);
}

enum ctl_err ctl_builder_config_load(const char *path, struct ctl_builder_config *out, char *errbuf, size_t errlen)
{
	struct dynbuf buf;
	char dir[4096];
	const char *slash = strrchr(path, '/');
	enum ctl_err err;

	memset(out, 0, sizeof(*out));
	dynbuf_init(&buf, CTL_CONFIG_FILE_MAX);
	if (file_read_all(path, &buf) != 0) {
		dynbuf_free(&buf);
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "cannot read %s (or it is over %zu bytes)", path, CTL_CONFIG_FILE_MAX);
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	err = ctl_builder_config_parse(dynbuf_str(&buf), dynbuf_len(&buf), dir, out, errbuf, errlen);
	dynbuf_free(&buf);
	return err;
}

void ctl_builder_config_free(struct ctl_builder_config *c)
{
	if (!c)
		return;
	cJSON_Delete(c->doc);
	free(c->ca_bundle);
	memset(c, 0, sizeof(*c));
}

bool ctl_builder_config_has_files(const struct ctl_builder_config *c)
{
	return c && (c->ca_bundle || cJSON_GetArraySize(c->mirrors) > 0 || cJSON_GetArraySize(c->insecure) > 0);
}
