/* The flags run and render share: the builder configuration file, the index image, plain-HTTP registries. */
#ifndef MAC_CMD_CHILDOPTS_H
#define MAC_CMD_CHILDOPTS_H

#include <stdbool.h>

#include "controller/builderconfig.h"
#include "controller/children.h"

#define CHILDOPTS_INSECURE_MAX 16

struct childopts {
	const char *config_path;
	const char *index_image;
	const char *insecure[CHILDOPTS_INSECURE_MAX + 1]; /* NULL-terminated */
	unsigned insecure_count;
	struct ctl_builder_config config;
	bool config_loaded;
};

/* Takes one of --config, --index-image, --insecure-registry. Returns false (after one line on stderr) on a bad value. */
bool childopts_flag(struct childopts *co, const char *cmd, const char *flag, const char *value);

/*
 * Loads the configuration file (when given) and fills out: the built-in
 * defaults, then the file's images, then the flags. Returns false after one
 * line on stderr when the file is unusable. co must outlive out.
 */
bool childopts_apply(struct childopts *co, const char *cmd, struct ctl_child_options *out);

void childopts_free(struct childopts *co);

#endif
