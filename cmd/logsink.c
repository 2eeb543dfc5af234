/* The controller's log lines on stderr: a constant message and key=value fields, as text or one JSON object. */
#include "cmd/logsink.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "util/dynbuf.h"
#include "util/timefmt.h"
#include "util/banned.h"

#define LINE_MAX_BYTES ((size_t)16 * 1024)

static const char *level_name(enum ctl_log_level level)
{
	switch (level) {
	case CTL_LOG_DEBUG:
		return "debug";
	case CTL_LOG_INFO:
		return "info";
	case CTL_LOG_WARN:
		return "warn";
	default:
		return "error";
	}
}

/* Whether a text value must be quoted to read back as one value. */
static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (; *v; v++)
		if (*v == ' ' || *v == '"' || *v == '=' || *v == '\\' || (unsigned char)*v < 0x20)
			return true;
	return false;
}

/* Appends v to line, quoted and escaped when it needs it. False when the line is full. */
static bool add_value(struct dynbuf *line, const char *v)
{
	bool ok;

	if (!needs_quotes(v))
		return dynbuf_addstr(line, v) == DYNBUF_OK;
	ok = dynbuf_addstr(line, "\"") == DYNBUF_OK;
	for (; ok && *v; v++) {
		if (*v == '"' || *v == '\\')
			ok = dynbuf_addf(line, "\\%c", *v) == DYNBUF_OK;
		else if (*v == '\n')
			ok = dynbuf_addstr(line, "\\n") == DYNBUF_OK;
		else if ((unsigned char)*v < 0x20)
			ok = dynbuf_addf(line, "\\x%02x", (unsigned)(unsigned char)*v) == DYNBUF_OK;
		else
			ok = dynbuf_add(line, v, 1) == DYNBUF_OK;
	}
	return ok && dynbuf_addstr(line, "\"") == DYNBUF_OK;
}

/* Writes the text line; one that passes LINE_MAX_BYTES is cut there and ends with "...". */
static void write_text(const char *now, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count)
{
	struct dynbuf line;
	bool ok;

	dynbuf_init(&line, LINE_MAX_BYTES);
	ok = dynbuf_addf(&line, "%s %-5s %s", now, level_name(level), message) == DYNBUF_OK;
	for (size_t i = 0; ok && i < count; i++) {
		if (!fields[i].key || !fields[i].value)
			continue;
		ok = dynbuf_addf(&line, " %s=", fields[i].key) == DYNBUF_OK && add_value(&line, fields[i].value);
	}
	fprintf(stderr, "%s%s\n", dynbuf_str(&line), ok ? "" : "...");
	dynbuf_free(&line);
}

static void write_json(const char *now, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "time", now);
	cJSON_AddStringToObject(o, "level", level_name(level));
	cJSON_AddStringToObject(o, "msg", message);
	for (size_t i = 0; i < count; i++)
		if (fields[i].key && fields[i].value && !cJSON_GetObjectItemCaseSensitive(o, fields[i].key))
			cJSON_AddStringToObject(o, fields[i].key, fields[i].value);
	text = cJSON_PrintUnformatted(o);
	if (text)
		fprintf(stderr, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
}

void log_sink_write(void *ctx, enum ctl_log_level level, const char *message, const struct ctl_log_field *fields, size_t count)
{
	struct log_sink *sink = ctx;
	char now[RFC3339_MAX];

	if (level < sink->min)
		return;
	rfc3339_micro_now(now, sizeof(now));
	pthread_mutex_lock(&sink->lock);
	if (sink->json)
		write_json(now, level, message, fields, count);
	else
		write_text(now, level, message, fields, count);
	fflush(stderr);
	pthread_mutex_unlock(&sink->lock);
}
