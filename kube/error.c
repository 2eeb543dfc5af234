/* The kube library's one error enum, the API Status it was decoded from, and detail buffers. */
#include "kube/error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/errbuf.h"
#include "util/banned.h"

const char *kube_strerror(enum kube_err err)
{
	switch (err) {
	case KUBE_OK:
		return "success";
	case KUBE_E_INVALID:
		return "invalid input";
	case KUBE_E_CONFIG:
		return "unusable configuration";
	case KUBE_E_NOMEM:
		return "out of memory";
	case KUBE_E_IO:
		return "local i/o error";
	case KUBE_E_TOO_LONG:
		return "answer too large";
	case KUBE_E_NETWORK:
		return "API server unreachable";
	case KUBE_E_EXEC:
		return "credential plugin failed";
	case KUBE_E_UNAUTHORIZED:
		return "unauthorized";
	case KUBE_E_FORBIDDEN:
		return "forbidden";
	case KUBE_E_NOT_FOUND:
		return "not found";
	case KUBE_E_CONFLICT:
		return "conflict";
	case KUBE_E_GONE:
		return "resource version too old";
	case KUBE_E_UNPROCESSABLE:
		return "invalid object";
	case KUBE_E_TOO_MANY:
		return "too many requests";
	case KUBE_E_SERVER:
		return "server error";
	case KUBE_E_HTTP:
		return "unexpected answer";
	case KUBE_E_STOPPED:
		return "stopped";
	}
	return "unknown error";
}

enum kube_err kube_fail(char *errbuf, size_t errlen, enum kube_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(errbuf, errlen, fmt, ap);
	va_end(ap);
	return err;
}

enum kube_err kube_err_from_http(long code)
{
	if (code >= 200 && code < 300)
		return KUBE_OK;
	switch (code) {
	case 401:
		return KUBE_E_UNAUTHORIZED;
	case 403:
		return KUBE_E_FORBIDDEN;
	case 404:
		return KUBE_E_NOT_FOUND;
	case 409:
		return KUBE_E_CONFLICT;
	case 410:
		return KUBE_E_GONE;
	case 422:
		return KUBE_E_UNPROCESSABLE;
	case 429:
		return KUBE_E_TOO_MANY;
	default:
		return code >= 500 && code < 600 ? KUBE_E_SERVER : KUBE_E_HTTP;
	}
}

void kube_status_parse(const char *body, size_t len, long http_code, struct kube_status *st)
{
	cJSON *root;
	const cJSON *kind, *reason, *message, *code, *details, *retry;

	memset(st, 0, sizeof(*st));
	st->code = http_code;
	st->retry_after_s = -1;
	root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "Status") != 0) {
		/* not a Status: keep the start of the body as the message, without control characters */
		size_t n = 0;
		for (size_t i = 0; body && i < len && n + 1 < sizeof(st->message); i++) {
			char ch = body[i];
			if (ch < ' ' || ch == 0x7f)
				ch = ' ';
			st->message[n++] = ch;
		}
		st->message[n] = '\0';
		cJSON_Delete(root);
		return;
	}
	reason = cJSON_GetObjectItemCaseSensitive(root, "reason");
	message = cJSON_GetObjectItemCaseSensitive(root, "message");
	code = cJSON_GetObjectItemCaseSensitive(root, "code");
	details = cJSON_GetObjectItemCaseSensitive(root, "details");
	retry = cJSON_GetObjectItemCaseSensitive(details, "retryAfterSeconds");
	if (cJSON_IsString(reason))
		snprintf(st->reason, sizeof(st->reason), "%s", reason->valuestring);
	if (cJSON_IsString(message))
		snprintf(st->message, sizeof(st->message), "%s", message->valuestring);
	if (cJSON_IsNumber(code) && code->valuedouble >= 100 && code->valuedouble < 600 && http_code == 0)
		st->code = (long)code->valuedouble;
	if (cJSON_IsNumber(retry) && retry->valuedouble >= 0 && retry->valuedouble < 3600)
		st->retry_after_s = (long)retry->valuedouble;
	cJSON_Delete(root);
}
