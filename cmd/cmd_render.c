/* multiarch-controller render: prints what the controller would create for a MultiArchBuild, without a cluster. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd/childopts.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "controller/buildspec.h"
#include "controller/children.h"
#include "controller/naming.h"
#include "util/dynbuf.h"
#include "util/fileio.h"
#include "util/yamljson.h"
#include "util/banned.h"

#define RENDER_INPUT_MAX ((size_t)1024 * 1024)
#define PLACEHOLDER_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static const char render_help[] = "usage: multiarch-controller render -f FILE [flags]\n"
				  "\n"
				  "Prints, as one JSON List, the objects the controller would create for the\n"
				  "MultiArchBuild in FILE (YAML or JSON): the builder ConfigMap when the\n"
				  "configuration needs one, the first attempt's build pod of every platform, and\n"
				  "the index Job (with placeholder digests). Nothing is sent anywhere; pipe the\n"
				  "output to 'kubectl apply --dry-run=server -f -' to have a cluster check it.\n"
				  "\n"
				  "flags:\n"
				  "  -f, --file FILE                    the MultiArchBuild (- for standard input)\n"
				  "  --namespace NS                     when the file names none (default \"default\")\n"
				  "  --config FILE                      the cluster-wide builder configuration (docs/builders.md)\n"
				  "  --index-image IMAGE                image of the index Job\n"
				  "  --insecure-registry HOST[:PORT]    the index Job talks plain HTTP to it (repeatable)\n"
				  "  --help                             show this help\n";

/* Fills what the API server would have set on a new object. */
static void complete_metadata(cJSON *build, const char *ns)
{
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(build, "metadata");

	if (!meta)
		meta = cJSON_AddObjectToObject(build, "metadata");
	if (!cJSON_GetObjectItemCaseSensitive(meta, "namespace"))
		cJSON_AddStringToObject(meta, "namespace", ns);
	if (!cJSON_GetObjectItemCaseSensitive(meta, "uid"))
		cJSON_AddStringToObject(meta, "uid", "00000000-0000-0000-0000-000000000000");
	if (!cJSON_GetObjectItemCaseSensitive(meta, "generation"))
		cJSON_AddNumberToObject(meta, "generation", 1);
}

static bool add_item(cJSON *items, cJSON *item)
{
	if (!item || !cJSON_AddItemToArray(items, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static int render(cJSON *build, const struct ctl_child_options *opts)
{
	struct ctl_build_spec spec;
	const char *sources[CTL_PLATFORMS_MAX], *platforms[CTL_PLATFORMS_MAX];
	char refs[CTL_PLATFORMS_MAX][CTL_IMAGE_MAX + 160], job_name[CTL_NAME_MAX + 1], err[CTL_ERRBUF_SIZE], pushed_to[CTL_IMAGE_MAX + 80];
	cJSON *list = cJSON_CreateObject(), *items, *obj;
	char *text;
	bool ok;

	if (ctl_build_spec_read(build, &spec, err, sizeof(err)) != CTL_OK) {
		cli_error("render", "%s", err);
		cJSON_Delete(list);
		return CLI_EXIT_USAGE;
	}
	ok = list && cJSON_AddStringToObject(list, "apiVersion", "v1") && cJSON_AddStringToObject(list, "kind", "List");
	items = ok ? cJSON_AddArrayToObject(list, "items") : NULL;
	ok = ok && items;
	if (ok && ctl_builder_config_has_files(opts->config))
		ok = add_item(items, ctl_builder_config_map(build, &spec, opts));
	for (size_t i = 0; ok && i < spec.platform_count; i++) {
		if (ctl_build_pod(build, &spec, i, 1, opts, &obj, err, sizeof(err)) != CTL_OK) {
			cli_error("render", "%s", err);
			cJSON_Delete(list);
			return CLI_EXIT_USAGE;
		}
		ok = add_item(items, obj);
		if (!ctl_push_repository(&spec, opts->config, pushed_to, sizeof(pushed_to)))
			snprintf(pushed_to, sizeof(pushed_to), "%s", spec.repository);
		snprintf(refs[i], sizeof(refs[i]), "%s@%s", pushed_to, PLACEHOLDER_DIGEST);
		sources[i] = refs[i];
		platforms[i] = spec.platforms[i].text;
	}
	ok = ok &&
	     ctl_child_name(job_name, sizeof(job_name),
			    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(build, "metadata"), "name")->valuestring,
			    spec.round, "index");
	if (ok && ctl_index_job(build, &spec, job_name, sources, platforms, spec.platform_count, opts, &obj, err, sizeof(err)) == CTL_OK)
		ok = add_item(items, obj);
	text = ok ? cJSON_Print(list) : NULL;
	cJSON_Delete(list);
	if (!text) {
		cli_error("render", "out of memory");
		return CLI_EXIT_FAILURE;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return CLI_EXIT_OK;
}

/* The build in file ("-": standard input), parsed from YAML or JSON; NULL, with a message, when it cannot be read or
 * is no object with metadata.name. The caller's. */
static cJSON *read_build(const char *file)
{
	struct dynbuf buf;
	char err[512];
	cJSON *build;

	dynbuf_init(&buf, RENDER_INPUT_MAX);
	if (file_read_all(strcmp(file, "-") == 0 ? "/dev/stdin" : file, &buf) != 0) {
		cli_error("render", "cannot read %s (or it is over %zu bytes)", file, RENDER_INPUT_MAX);
		dynbuf_free(&buf);
		return NULL;
	}
	build = yaml_to_json(dynbuf_str(&buf), dynbuf_len(&buf), err, sizeof(err));
	dynbuf_free(&buf);
	if (!build || !cJSON_IsObject(build) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(build, "metadata"), "name"))) {
		cli_error("render", "%s: %s", file, build ? "not a MultiArchBuild with metadata.name" : err);
		cJSON_Delete(build);
		return NULL;
	}
	return build;
}

enum { OPT_NAMESPACE = 256, OPT_CONFIG, OPT_INDEX_IMAGE, OPT_INSECURE };

static const struct option render_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"namespace", required_argument, NULL, OPT_NAMESPACE},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"index-image", required_argument, NULL, OPT_INDEX_IMAGE},
	{"insecure-registry", required_argument, NULL, OPT_INSECURE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_render(int argc, char **argv)
{
	const char *file = NULL, *ns = "default";
	struct childopts co = {0};
	struct ctl_child_options opts;
	cJSON *build;
	int c, rc;

	optind = 1;
	while ((c = cli_getopt("render", argc, argv, "hf:", render_options)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case OPT_NAMESPACE:
			ns = optarg;
			break;
		case OPT_CONFIG:
		case OPT_INDEX_IMAGE:
		case OPT_INSECURE:
			if (!childopts_flag(&co, "render",
					    c == OPT_CONFIG        ? "config"
					    : c == OPT_INDEX_IMAGE ? "index-image"
								   : "insecure-registry",
					    optarg))
				goto usage;
			break;
		case 'h':
			fputs(render_help, stdout);
			childopts_free(&co);
			return CLI_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (!cli_no_positional("render", argc, argv))
		goto usage;
	build = file ? read_build(file) : NULL;
	if (!file)
		cli_error("render", "-f FILE is required (see 'multiarch-controller render --help')");
	if (!build || !childopts_apply(&co, "render", &opts)) {
		cJSON_Delete(build);
		goto usage;
	}
	complete_metadata(build, ns);
	rc = render(build, &opts);
	cJSON_Delete(build);
	childopts_free(&co);
	return rc;
usage:
	childopts_free(&co);
	return CLI_EXIT_USAGE;
}
