/* The running controller's shared state, read by its rooms: the log, the cached builds one by one, the lease. */
#include <stdio.h>
#include <string.h>

#include "controller/controllerstate.h"
#include "util/banned.h"

void ctl_log(struct ctl_controller *c, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count)
{
	if (c->opts.log)
		c->opts.log(c->opts.log_ctx, level, message, fields, count);
}

void ctl_key_split(const char *key, char *ns, size_t ns_len, char *name, size_t name_len)
{
	const char *slash = strchr(key, '/');

	snprintf(ns, ns_len, "%.*s", slash ? (int)(slash - key) : 0, key);
	snprintf(name, name_len, "%s", slash ? slash + 1 : key);
}

void ctl_each_build(struct ctl_controller *c, void (*fn)(void *ctx, const struct ctl_obj *o, const cJSON *build), void *ctx)
{
	struct ctl_obj **all;
	size_t n = ctl_store_list(c->informers[INF_BUILDS].store, &all);

	for (size_t i = 0; i < n; i++) {
		cJSON *build = ctl_obj_parse(all[i]);
		if (build)
			fn(ctx, all[i], build);
		cJSON_Delete(build);
	}
	ctl_obj_release_all(all, n);
}

bool ctl_is_leader(struct ctl_controller *c)
{
	return !c->opts.leader_elect || ctl_leader_valid(&c->leader);
}
