/* The running controller's shared state, read by its rooms: the log, the cached builds one by one, the lease. */
#include <stdarg.h>
#include <stdio.h>

#include "controller/controllerstate.h"

void ctl_log(struct ctl_controller *c, enum ctl_log_level level, const char *context, const char *fmt, ...)
{
	char message[2048];
	va_list ap;

	if (!c->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	c->opts.log(c->opts.log_ctx, level, message, context ? context : "");
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
