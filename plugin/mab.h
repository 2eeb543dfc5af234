/* kubectl mab: the user's command for MultiArchBuilds (wait, logs, rebuild, status), shared by its files. */
#ifndef MAC_PLUGIN_MAB_H
#define MAC_PLUGIN_MAB_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "kube/client.h"
#include "kube/config.h"

/* Exit codes, as kubectl wait and timeout(1) use them. */
enum mab_exit {
	MAB_EXIT_OK = 0,     /* Ready (wait), done (the others) */
	MAB_EXIT_FAILED = 1, /* Stalled or failed, not found, refused */
	MAB_EXIT_USAGE = 2,  /* bad flags or arguments */
	MAB_EXIT_TIMEOUT = 124,
};

/* What every subcommand gets: its own arguments after the subcommand's name, and, once mab_connect() succeeded,
 * the client and the namespace. */
struct mab_context {
	int argc;
	char **argv;
	const char *kubeconfig, *context, *namespace_flag; /* the global flags (NULL when not given) */
	struct kube_client *client;
	const char *namespace;
	struct kube_config cfg;
	bool loaded;
};

/* Loads the kubeconfig and makes the client (after the subcommand read its arguments); prints why and returns false
 * when it cannot (quiet: prints nothing). */
bool mab_connect(struct mab_context *ctx, bool quiet);

/* Frees what mab_connect() made. */
void mab_disconnect(struct mab_context *ctx);

/* The MultiArchBuild name in namespace (caller cJSON_Delete()s *out). Prints why to stderr and returns false. */
bool mab_get(const struct mab_context *ctx, const char *name, cJSON **out);

/* The API path of the build (name NULL: the collection) into buf. */
bool mab_path(char *buf, size_t len, const char *namespace, const char *name);

/* A build's state for this round: Ready, Stalled (failed), or still going. */
enum mab_state {
	MAB_GOING = 0,
	MAB_READY,
	MAB_STALLED,
};

/* Whether status describes the build's current spec and request, and what it says. */
enum mab_state mab_state_of(const cJSON *build);

int mab_wait(struct mab_context *ctx);
int mab_logs(struct mab_context *ctx);
int mab_rebuild(struct mab_context *ctx);
int mab_status(struct mab_context *ctx);
/* completion bash|zsh prints a script; __complete WORDS... prints candidates (kubectl's plugin completion). */
int mab_completion(struct mab_context *ctx);
int mab_complete(struct mab_context *ctx);

#endif
