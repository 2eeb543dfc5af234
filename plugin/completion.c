/* kubectl mab completion bash|zsh, and __complete: the candidates for the word being typed (subcommands, flags,
 * build names), in the form kubectl's plugin completion (kubectl_complete-mab) and the scripts read. */
#include <stdio.h>
#include <string.h>

#include "plugin/mab.h"
#include "util/jsonget.h"
#include "util/banned.h"

#define NAMES_LIMIT "500"
#define NO_FILE_COMPLETION ":4" /* the directive ending the candidates: no file names */

static const char *const subcommands[] = {"wait", "logs", "rebuild", "status", "completion", NULL};
static const char *const flags_wait[] = {"--timeout=", "--output=digest", NULL};
static const char *const flags_logs[] = {"-f", "--follow", "--platform=", NULL};
static const char *const shells[] = {"bash", "zsh", NULL};
static const char *const no_flags[] = {NULL};

static void print_matching(const char *const *words, const char *prefix)
{
	for (; *words; words++)
		if (strncmp(*words, prefix, strlen(prefix)) == 0)
			printf("%s\n", *words);
}

/* The names of the builds in namespace starting with prefix. */
static void print_builds(const struct mab_context *ctx, const char *namespace, const char *prefix)
{
	char path[KUBE_PATH_MAX], err[256];
	struct kube_response resp;
	const cJSON *item;
	cJSON *list = NULL;

	if (!ctx->client) /* no cluster to ask */
		return;
	if (mab_path(path, sizeof(path), namespace, NULL) && kube_query(path, sizeof(path), "limit", NAMES_LIMIT) &&
	    kube_request(ctx->client, "GET", path, NULL, NULL, 0, &resp, err, sizeof(err)) == KUBE_OK)
		list = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
	kube_response_free(&resp);
	cJSON_ArrayForEach(item, json_at(list, "items", NULL)) {
		const char *name = json_str_at(item, "metadata", "name");
		if (name && strncmp(name, prefix, strlen(prefix)) == 0)
			printf("%s\n", name);
	}
	cJSON_Delete(list);
}

int mab_complete(struct mab_context *ctx)
{
	const char *sub = NULL, *namespace, *current = ctx->argc ? ctx->argv[ctx->argc - 1] : "";
	int words = 0;

	mab_connect(ctx, true); /* without a cluster there are no build names to offer, the rest still is */
	namespace = ctx->namespace ? ctx->namespace : "default";

	for (int i = 0; i + 1 < ctx->argc; i++) {
		const char *w = ctx->argv[i];
		if ((strcmp(w, "-n") == 0 || strcmp(w, "--namespace") == 0) && i + 2 < ctx->argc)
		namespace = ctx->argv[++i];
		else if (strncmp(w, "--namespace=", 12) == 0) namespace = w + 12;
		else if (w[0] != '-' && !sub) sub = w;
		else if (w[0] != '-') words++;
	}
	if (!sub)
		print_matching(subcommands, current);
	else if (strcmp(sub, "completion") == 0 && words == 0)
		print_matching(shells, current);
	else if (current[0] == '-')
		print_matching(strcmp(sub, "wait") == 0 ? flags_wait : strcmp(sub, "logs") == 0 ? flags_logs : no_flags, current);
	else if (words == 0 && strcmp(sub, "completion") != 0)
		print_builds(ctx, namespace, current);
	printf("%s\n", NO_FILE_COMPLETION);
	return MAB_EXIT_OK;
}

static const char bash_script[] = "# kubectl mab completion for bash: source <(kubectl-mab completion bash)\n"
				  "_kubectl_mab() {\n"
				  "\tlocal IFS=$'\\n'\n"
				  "\tCOMPREPLY=($(kubectl-mab __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" 2>/dev/null | grep -v '^:'))\n"
				  "}\n"
				  "complete -o nospace -F _kubectl_mab kubectl-mab\n";

static const char zsh_script[] =
	"#compdef kubectl-mab\n"
	"# kubectl mab completion for zsh: source <(kubectl-mab completion zsh)\n"
	"_kubectl_mab() {\n"
	"\tlocal -a candidates\n"
	"\tcandidates=(${(f)\"$(kubectl-mab __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null | grep -v '^:')\"})\n"
	"\tcompadd -S '' -a candidates\n"
	"}\n"
	"compdef _kubectl_mab kubectl-mab\n";

int mab_completion(struct mab_context *ctx)
{
	if (ctx->argc == 1 && strcmp(ctx->argv[0], "bash") == 0)
		fputs(bash_script, stdout);
	else if (ctx->argc == 1 && strcmp(ctx->argv[0], "zsh") == 0)
		fputs(zsh_script, stdout);
	else {
		fprintf(stderr, "kubectl-mab completion: bash or zsh\n");
		return MAB_EXIT_USAGE;
	}
	return MAB_EXIT_OK;
}
