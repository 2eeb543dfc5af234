/* kubectl mab status NAME: the build's phase and index, and a table of its platforms. */
#include <stdio.h>
#include <string.h>

#include "plugin/mab.h"
#include "util/jsonget.h"
#include "util/banned.h"

/* The text of member key of obj, or "-". */
static const char *text_or_dash(const cJSON *obj, const char *key)
{
	const char *v = json_nonempty_str_at(obj, key, NULL);

	return v ? v : "-";
}

/* The first 12 hex digits of a digest, or "-". */
static void short_digest(const char *digest, char *buf, size_t len)
{
	const char *hex = digest ? strchr(digest, ':') : NULL;

	snprintf(buf, len, "%.12s", hex ? hex + 1 : "-");
}

/* A message on one line, cut to width. */
static void one_line(const char *text, char *buf, size_t len, size_t width)
{
	size_t n = 0;

	for (; text && *text && n + 1 < len && n < width; text++) {
		buf[n] = *text;
		if (*text == '\n' || *text == '\r' || *text == '\t')
			buf[n] = ' ';
		n++;
	}
	if (text && *text && n >= 3 && n == width)
		memcpy(buf + n - 3, "...", 3);
	buf[n] = '\0';
}

int mab_status(struct mab_context *ctx)
{
	const cJSON *st, *p;
	char digest[16], message[128];
	cJSON *build;

	if (ctx->argc != 1 || ctx->argv[0][0] == '-') {
		fprintf(stderr, "kubectl-mab status: which build? kubectl mab status NAME\n");
		return MAB_EXIT_USAGE;
	}
	if (!mab_connect(ctx, false) || !mab_get(ctx, ctx->argv[0], &build))
		return MAB_EXIT_FAILED;
	st = json_at(build, "status", NULL);
	printf("Name:       %s/%s\n", ctx->namespace, ctx->argv[0]);
	printf("Phase:      %s (%s platforms)\n", text_or_dash(st, "phase"), text_or_dash(st, "platformSummary"));
	printf("Image:      %s\n", text_or_dash(st, "image"));
	one_line(json_str_at(st, "message", NULL), message, sizeof(message), 120);
	printf("Message:    %s\n\n", message[0] ? message : "-");
	printf("%-18s %-10s %-8s %-20s %-12s %s\n", "PLATFORM", "PHASE", "ATTEMPTS", "NODE", "DIGEST", "MESSAGE");
	cJSON_ArrayForEach(p, json_at(st, "platforms", NULL)) {
		const cJSON *attempts = json_at(p, "attempts", NULL);
		short_digest(json_str_at(p, "digest", NULL), digest, sizeof(digest));
		one_line(json_str_at(p, "message", NULL), message, sizeof(message), 60);
		printf("%-18s %-10s %-8d %-20s %-12s %s\n", text_or_dash(p, "platform"), text_or_dash(p, "phase"),
		       cJSON_IsNumber(attempts) ? attempts->valueint : 0, text_or_dash(p, "node"), digest, message[0] ? message : "-");
	}
	cJSON_Delete(build);
	return MAB_EXIT_OK;
}
