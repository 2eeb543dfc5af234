/* kubectl-mab, the kubectl plugin for MultiArchBuilds: the kubeconfig flags, then wait, logs, rebuild, status or
 * completion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "plugin/mab.h"
#include "util/banned.h"

static const char usage[] = "kubectl mab: wait for, follow, re-run and show MultiArchBuilds.\n"
			    "\n"
			    "Usage: kubectl mab [--kubeconfig=PATH] [--context=NAME] [-n NAMESPACE] COMMAND ...\n"
			    "\n"
			    "Commands:\n"
			    "  wait NAME [--timeout=30m] [--output=digest]\n"
			    "                    wait until the build is Ready (exit 0, prints its image by digest), Stalled or\n"
			    "                    failed (exit 1) or the timeout passes (exit 124)\n"
			    "  logs NAME [-f] [--platform=PLATFORM]\n"
			    "                    the builder log of every platform's pod, each line prefixed with [PLATFORM];\n"
			    "                    -f follows them, from attempt to attempt, until the build ends\n"
			    "  rebuild NAME      build the same spec again (sets the annotation multiarch.dev/requested-at)\n"
			    "  status NAME       the phase, the index and a table of the platforms\n"
			    "  completion bash|zsh\n"
			    "                    a shell completion script (kubectl's own plugin completion uses kubectl_complete-mab)\n"
			    "\n"
			    "Flags:\n"
			    "  --kubeconfig=PATH  the kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
			    "  --context=NAME     a context of the kubeconfig\n"
			    "  -n, --namespace=NS the build's namespace (default: the context's)\n"
			    "  -h, --help         this help\n";

/* The global flags' values. */
struct global_flags {
	const char *kubeconfig, *context, *namespace;
};

/* Reads flag at argv[*i] ("--name=v" or "--name v", also short) into *value; false when it is not that flag. */
static bool flag_value(int argc, char **argv, int *i, const char *lng, const char *shrt, const char **value)
{
	size_t n = strlen(lng);

	if (strncmp(argv[*i], lng, n) == 0 && argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return true;
	}
	if ((strcmp(argv[*i], lng) == 0 || (shrt && strcmp(argv[*i], shrt) == 0)) && *i + 1 < argc) {
		*value = argv[++*i];
		return true;
	}
	return false;
}

/* Takes the global flags out of argv wherever they stand (kubectl users write `-n NS` before or after the command),
 * moving the other words down, so that the command is argv[1]; *argc counts what is left. False without a command,
 * or when the first word left is a flag. */
static bool parse_globals(int *argc, char **argv, struct global_flags *g)
{
	int kept = 1;

	memset(g, 0, sizeof(*g));
	for (int i = 1; i < *argc; i++) {
		if (flag_value(*argc, argv, &i, "--kubeconfig", NULL, &g->kubeconfig) ||
		    flag_value(*argc, argv, &i, "--context", NULL, &g->context) ||
		    flag_value(*argc, argv, &i, "--namespace", "-n", &g->namespace))
			continue;
		argv[kept++] = argv[i];
	}
	*argc = kept;
	return kept > 1 && argv[1][0] != '-';
}

/* Whether the subcommand's arguments ask for help. */
static bool asks_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

bool mab_connect(struct mab_context *ctx, bool quiet)
{
	struct kube_client_options opts;
	char err[1024];

	ctx->loaded = kube_config_load(ctx->kubeconfig, ctx->context, &ctx->cfg, err, sizeof(err)) == KUBE_OK;
	if (!ctx->loaded) {
		if (!quiet)
			fprintf(stderr, "kubectl-mab: %s\n", err);
		return false;
	}
	kube_client_options_init(&opts);
	opts.user_agent = "kubectl-mab";
	if (kube_client_new(&ctx->cfg, &opts, &ctx->client, err, sizeof(err)) != KUBE_OK) {
		if (!quiet)
			fprintf(stderr, "kubectl-mab: %s\n", err);
		return false;
	}
	ctx->namespace = ctx->namespace_flag ? ctx->namespace_flag : ctx->cfg.namespace;
	return true;
}

void mab_disconnect(struct mab_context *ctx)
{
	kube_client_free(ctx->client);
	ctx->client = NULL;
	if (ctx->loaded)
		kube_config_free(&ctx->cfg);
	ctx->loaded = false;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct mab_context *);
	} commands[] = {{"wait", mab_wait},
			{"logs", mab_logs},
			{"rebuild", mab_rebuild},
			{"status", mab_status},
			{"completion", mab_completion},
			{"__complete", mab_complete}};
	struct global_flags g;
	int code = MAB_EXIT_USAGE;
	bool known = false;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		fputs(usage, stdout);
		return MAB_EXIT_OK;
	}
	if (!parse_globals(&argc, argv, &g)) {
		fputs(usage, stderr);
		return MAB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "__complete") != 0 && asks_help(argc - 2, argv + 2)) {
		fputs(usage, stdout);
		return MAB_EXIT_OK;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !known; i++) {
		struct mab_context ctx;
		known = strcmp(argv[1], commands[i].name) == 0;
		if (!known)
			continue;
		memset(&ctx, 0, sizeof(ctx));
		ctx.argc = argc - 2;
		ctx.argv = argv + 2;
		ctx.kubeconfig = g.kubeconfig;
		ctx.context = g.context;
		ctx.namespace_flag = g.namespace;
		code = commands[i].fn(&ctx);
		mab_disconnect(&ctx);
	}
	if (!known)
		fprintf(stderr, "kubectl-mab: %s: unknown command (kubectl mab --help)\n", argv[1]);
	curl_global_cleanup();
	return code;
}
