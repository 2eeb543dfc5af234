/* A MultiArchBuild's spec as the reconciler reads it: normalised platforms, policy with durations in seconds,
 * builder and push secret; checks what the schema cannot (and the API server may not have). */
#include "controller/buildspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "controller/labels.h"
#include "controller/podnetwork.h"
#include "registry/reference.h"
#include "util/strmap.h"
#include "util/jsonnum.h"
#include "util/jsonget.h"
#include "util/banned.h"

bool ctl_parse_duration(const char *s, long *seconds)
{
	double total = 0;
	const char *p = s;

	if (!*p)
		return false;
	while (*p) {
		char *end = NULL;
		double v, unit;
		/* digits with at most a decimal point, as Go's durations: no sign, exponent, hex, "nan" or "inf" */
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
		v = strtod(p, &end);
		for (const char *q = p; q < end; q++)
			if (!((*q >= '0' && *q <= '9') || *q == '.'))
				return false;
		if (end == p || !isfinite(v) || v < 0)
			return false;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 0.001;
			p += 2;
		} else if (*p == 's') {
			unit = 1;
			p++;
		} else if (*p == 'm') {
			unit = 60;
			p++;
		} else if (*p == 'h') {
			unit = 3600;
			p++;
		} else {
			return false;
		}
		total += v * unit;
		if (total > 1e9)
			return false;
	}
	*seconds = (long)total;
	return true;
}

static bool copy(char *dst, size_t len, const char *src)
{
	return (size_t)snprintf(dst, len, "%s", src ? src : "") < len;
}

/* Reads the requested-at annotation of meta (borrowed) and names the round: one per generation and request. */
static enum ctl_err read_round(const cJSON *meta, struct ctl_build_spec *out, char *errbuf, size_t errlen)
{
	const cJSON *requested =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), CTL_ANNOTATION_REQUESTED_AT);

	if (cJSON_IsString(requested) && requested->valuestring[0]) {
		if (!copy(out->requested_at, sizeof(out->requested_at), requested->valuestring)) {
			out->requested_at[0] = '\0';
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "the annotation %s is longer than %d characters",
					CTL_ANNOTATION_REQUESTED_AT, CTL_REQUEST_MAX - 1);
		}
		snprintf(out->request_tag, sizeof(out->request_tag), "%08x", (unsigned)(strmap_hash(out->requested_at) & 0xffffffffu));
	}
	snprintf(out->round, sizeof(out->round), "g%ld%s%s", out->generation, out->request_tag[0] ? "r" : "", out->request_tag);
	return CTL_OK;
}

bool ctl_child_in_round(const cJSON *child, const struct ctl_build_spec *spec)
{
	const char *tag = ctl_label(child, CTL_LABEL_REQUEST);

	return ctl_label_number(child, CTL_LABEL_GENERATION) == spec->generation && strcmp(tag ? tag : "", spec->request_tag) == 0;
}

enum ctl_err ctl_retention_parse(const cJSON *obj, const char *where, struct ctl_retention *out, char *errbuf, size_t errlen)
{
	static const char *const counts[] = {"history", "succeeded", "failed"};
	static const int maxima[] = {CTL_HISTORY_MAX, 20, 20};
	int *fields[] = {&out->history, &out->succeeded, &out->failed};
	const char *ttl = json_str_at(obj, "ttlAfterFinished", NULL);
	const cJSON *member;

	*out = (struct ctl_retention){-1, -1, -1, -1};
	if (obj && !cJSON_IsObject(obj))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s must be a mapping", where);
	cJSON_ArrayForEach(member, obj) {
		bool known = strcmp(member->string, "ttlAfterFinished") == 0;
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
			if (strcmp(member->string, counts[i]) != 0)
				continue;
			known = true;
			*fields[i] = (int)json_whole_number_or(member, 0, maxima[i], -1);
			if (*fields[i] < 0)
				return ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s.%s must be a whole number from 0 to %d", where,
						counts[i], maxima[i]);
		}
		if (!known)
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s.%.64s: unknown key", where, member->string);
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, "ttlAfterFinished") &&
	    (!ttl || !ctl_parse_duration(ttl, &out->ttl_s) || out->ttl_s < 60 || out->ttl_s > 720L * 3600))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s.ttlAfterFinished must be a duration from 1m to 720h", where);
	return CTL_OK;
}

struct ctl_retention ctl_retention_resolve(const struct ctl_retention *spec, const struct ctl_retention *defaults)
{
	static const struct ctl_retention builtin = {10, 1, 1, -1};
	const struct ctl_retention *layers[] = {spec, defaults, &builtin};
	struct ctl_retention out = {-1, -1, -1, -1};

	for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
		if (!layers[i])
			continue;
		out.history = out.history >= 0 ? out.history : layers[i]->history;
		out.succeeded = out.succeeded >= 0 ? out.succeeded : layers[i]->succeeded;
		out.failed = out.failed >= 0 ? out.failed : layers[i]->failed;
		out.ttl_s = out.ttl_s >= 0 ? out.ttl_s : layers[i]->ttl_s;
	}
	return out;
}

/* Reads spec.policy (borrowed; may be absent) into out, whose platforms are read already. */
static enum ctl_err read_policy(const cJSON *policy, struct ctl_build_spec *out, char *errbuf, size_t errlen)
{
	const cJSON *optional = cJSON_GetObjectItemCaseSensitive(policy, "optionalPlatforms");
	const cJSON *retries = cJSON_GetObjectItemCaseSensitive(policy, "retries");
	const char *timeout = json_str_at(policy, "timeout", NULL), *missing = json_str_at(policy, "missingNodes", NULL);
	const char *node_wait = json_str_at(policy, "nodeWaitTimeout", NULL);
	const cJSON *o;

	cJSON_ArrayForEach(o, optional) {
		bool known = false;
		for (size_t i = 0; cJSON_IsString(o) && i < out->platform_count; i++)
			if (strcmp(out->platforms[i].text, o->valuestring) == 0)
				known = out->platforms[i].optional = true;
		if (!known)
			return ctl_fail(errbuf, errlen, CTL_E_INVALID,
					"spec.policy.optionalPlatforms names a platform not in spec.platforms");
	}
	out->retries = (int)json_whole_number_or(retries, 0, 10, cJSON_IsNumber(retries) ? -1 : 2);
	if (out->retries < 0)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.policy.retries must be from 0 to 10");
	out->timeout_s = 3600;
	if (timeout && (!ctl_parse_duration(timeout, &out->timeout_s) || out->timeout_s < 60 || out->timeout_s > 86400))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.policy.timeout \"%.20s\" must be a duration from 1m to 24h", timeout);
	out->node_wait_s = -1;
	if (node_wait && (!ctl_parse_duration(node_wait, &out->node_wait_s) || out->node_wait_s < 10 || out->node_wait_s > 86400))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.policy.nodeWaitTimeout \"%.20s\" must be a duration from 10s to 24h",
				node_wait);
	out->fail_missing_nodes = missing && strcmp(missing, "Fail") == 0;
	return CTL_OK;
}

/* Reads spec.platforms (borrowed) into out: at least one, at most CTL_PLATFORMS_MAX, each a platform, no two the
 * same. CTL_E_INVALID with the reason in errbuf otherwise. */
static enum ctl_err read_platforms(const cJSON *platforms, struct ctl_build_spec *out, char *errbuf, size_t errlen)
{
	char err[REG_ERRBUF_SIZE];
	const cJSON *p;

	if (!cJSON_IsArray(platforms) || cJSON_GetArraySize(platforms) == 0)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.platforms lists no platform");
	if (cJSON_GetArraySize(platforms) > CTL_PLATFORMS_MAX)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.platforms lists more than %d platforms", CTL_PLATFORMS_MAX);
	cJSON_ArrayForEach(p, platforms) {
		struct ctl_platform *cp = &out->platforms[out->platform_count];
		if (!cJSON_IsString(p) || !copy(cp->text, sizeof(cp->text), p->valuestring))
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.platforms holds something that is not a platform");
		if (reg_platform_parse(p->valuestring, &cp->platform, err, sizeof(err)) != REG_OK)
			return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.platforms: %s", err);
		for (size_t i = 0; i < out->platform_count; i++)
			if (reg_platform_equal(&out->platforms[i].platform, &cp->platform))
				return ctl_fail(errbuf, errlen, CTL_E_INVALID,
						"spec.platforms names %s and %s, which are the same platform", out->platforms[i].text,
						cp->text);
		reg_platform_label(&cp->platform, cp->label, sizeof(cp->label));
		out->platform_count++;
	}
	return CTL_OK;
}

enum ctl_err ctl_build_spec_read(const cJSON *mab, struct ctl_build_spec *out, char *errbuf, size_t errlen)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(mab, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(mab, "spec");
	const cJSON *platforms = cJSON_GetObjectItemCaseSensitive(spec, "platforms");
	const cJSON *policy = cJSON_GetObjectItemCaseSensitive(spec, "policy");
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generation");
	const char *type;
	char err[REG_ERRBUF_SIZE];
	struct reg_ref ref;
	bool has_digest;
	int n;

	memset(out, 0, sizeof(*out));
	out->generation = json_whole_number_or(gen, 0, JSON_WHOLE_MAX, 0);
	if (read_round(meta, out, errbuf, errlen) != CTL_OK)
		return CTL_E_INVALID;
	if (!cJSON_IsObject(spec))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "the resource has no spec");
	if (!json_str_at(spec, "image", NULL) || !copy(out->image, sizeof(out->image), json_str_at(spec, "image", NULL)) || !out->image[0])
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.image is missing or longer than %d characters", CTL_IMAGE_MAX - 1);
	if (reg_ref_parse(out->image, &ref, err, sizeof(err)) != REG_OK)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.image: %s", err);
	n = snprintf(out->repository, sizeof(out->repository), "%s/%s", ref.domain, ref.repository);
	has_digest = ref.digest[0] != '\0';
	reg_ref_free(&ref);
	if (n < 0 || (size_t)n >= sizeof(out->repository))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.image is too long");
	if (has_digest)
		return ctl_fail(errbuf, errlen, CTL_E_INVALID,
				"spec.image must name a tag, not a digest: the index gets its digest when pushed");
	if (read_platforms(platforms, out, errbuf, errlen) != CTL_OK)
		return CTL_E_INVALID;
	if (read_policy(policy, out, errbuf, errlen) != CTL_OK)
		return CTL_E_INVALID;
	if (ctl_retention_parse(cJSON_GetObjectItemCaseSensitive(spec, "retention"), "spec.retention", &out->retention, errbuf, errlen) !=
	    CTL_OK)
		return CTL_E_INVALID;
	if (!ctl_pod_network_check(cJSON_GetObjectItemCaseSensitive(spec, "hostAliases"),
				   cJSON_GetObjectItemCaseSensitive(spec, "dnsConfig"), "spec", errbuf, errlen))
		return CTL_E_INVALID;
	type = json_str_at(spec, "builder", "type");
	if (!ctl_backend_parse(type ? type : "buildkit", &out->backend))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID, "spec.builder.type \"%.16s\" is not buildkit, buildah or kaniko", type);
	if (!copy(out->builder_image, sizeof(out->builder_image), json_str_at(spec, "builder", "image")) ||
	    !copy(out->push_secret, sizeof(out->push_secret), json_str_at(spec, "pushSecretRef", "name")) ||
	    !copy(out->service_account, sizeof(out->service_account), json_str_at(spec, "serviceAccountName", NULL)))
		return ctl_fail(errbuf, errlen, CTL_E_INVALID,
				"spec.builder.image, spec.pushSecretRef.name or spec.serviceAccountName is too long");
	return CTL_OK;
}

static const char *const backend_names[] = {
	[CTL_BACKEND_BUILDKIT] = "buildkit",
	[CTL_BACKEND_BUILDAH] = "buildah",
	[CTL_BACKEND_KANIKO] = "kaniko",
};

bool ctl_backend_parse(const char *text, enum ctl_backend *out)
{
	for (size_t i = 0; text && i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
		if (strcmp(text, backend_names[i]) == 0) {
			*out = (enum ctl_backend)i;
			return true;
		}
	}
	return false;
}

const char *ctl_backend_name(enum ctl_backend backend)
{
	return (size_t)backend < sizeof(backend_names) / sizeof(backend_names[0]) ? backend_names[backend] : "";
}
