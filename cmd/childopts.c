/* The flags run and render share: the builder configuration file, the index image, plain-HTTP registries. */
#include "cmd/childopts.h"

#include <string.h>

#include "cmd/cli.h"
#include "util/banned.h"

bool childopts_flag(struct childopts *co, const char *cmd, const char *flag, const char *value)
{
	if (strcmp(flag, "config") == 0) {
		co->config_path = value;
	} else if (strcmp(flag, "index-image") == 0) {
		co->index_image = value;
	} else if (co->insecure_count == CHILDOPTS_INSECURE_MAX) {
		cli_error(cmd, "too many --insecure-registry flags (at most %d)", CHILDOPTS_INSECURE_MAX);
		return false;
	} else {
		co->insecure[co->insecure_count++] = value;
	}
	return true;
}

bool childopts_apply(struct childopts *co, const char *cmd, struct ctl_child_options *out)
{
	char err[CTL_ERRBUF_SIZE];

	ctl_child_options_init(out);
	if (co->config_path) {
		if (ctl_builder_config_load(co->config_path, &co->config, err, sizeof(err)) != CTL_OK) {
			cli_error(cmd, "--config %s: %s", co->config_path, err);
			ctl_builder_config_free(&co->config);
			return false;
		}
		co->config_loaded = true;
		out->config = &co->config;
		if (co->config.buildkit_image)
			out->buildkit_image = co->config.buildkit_image;
		if (co->config.buildah_image)
			out->buildah_image = co->config.buildah_image;
		if (co->config.kaniko_image)
			out->kaniko_image = co->config.kaniko_image;
		if (co->config.index_image)
			out->index_image = co->config.index_image;
	}
	if (co->index_image)
		out->index_image = co->index_image;
	out->insecure_registries = co->insecure_count ? co->insecure : NULL;
	return true;
}

void childopts_free(struct childopts *co)
{
	if (co->config_loaded)
		ctl_builder_config_free(&co->config);
	co->config_loaded = false;
}
