/* Watches: newline-delimited JSON events read through kube/stream.c, bookmarks, resume by resourceVersion,
 * and the list-then-watch reflector that relists on 410 Gone and backs off on connection errors. */
#include "kube/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/stream.h"
#include "util/backoff.h"
#include "util/banned.h"

enum kube_err kube_event_parse(const char *line, size_t len, enum kube_event_type *type, cJSON **root, const cJSON **object)
{
	static const struct {
		const char *name;
		enum kube_event_type type;
	} types[] = {{"ADDED", KUBE_EV_ADDED},
		     {"MODIFIED", KUBE_EV_MODIFIED},
		     {"DELETED", KUBE_EV_DELETED},
		     {"BOOKMARK", KUBE_EV_BOOKMARK},
		     {"ERROR", KUBE_EV_ERROR}};
	const cJSON *t, *o;

	*root = cJSON_ParseWithLength(line, len);
	*object = NULL;
	t = cJSON_GetObjectItemCaseSensitive(*root, "type");
	o = cJSON_GetObjectItemCaseSensitive(*root, "object");
	if (!cJSON_IsString(t) || !cJSON_IsObject(o)) {
		cJSON_Delete(*root);
		*root = NULL;
		return KUBE_E_INVALID;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(t->valuestring, types[i].name) == 0) {
			*type = types[i].type;
			*object = o;
			return KUBE_OK;
		}
	}
	cJSON_Delete(*root);
	*root = NULL;
	return KUBE_E_INVALID;
}

/* State of one running watch, shared with the line callback. */
struct watch_run {
	kube_event_fn fn;
	void *ctx;
	char *last_rv;
	size_t rv_len;
	enum kube_err err; /* why the stream was cut by us */
	char detail[256];
};

static const char *object_rv(const cJSON *obj)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");

	return cJSON_IsString(rv) ? rv->valuestring : NULL;
}

static bool on_line(void *ctx, const char *line, size_t len)
{
	struct watch_run *w = ctx;
	enum kube_event_type type;
	const cJSON *obj;
	const char *rv;
	cJSON *root;
	bool go = true;

	if (kube_event_parse(line, len, &type, &root, &obj) != KUBE_OK) {
		w->err = KUBE_E_INVALID;
		snprintf(w->detail, sizeof(w->detail), "the watch sent an event that is not {type, object}: %.80s", line);
		return false;
	}
	if (type == KUBE_EV_ERROR) {
		struct kube_status st;
		char *text = cJSON_PrintUnformatted(obj);
		kube_status_parse(text, text ? strlen(text) : 0, 0, &st);
		free(text);
		w->err = st.code == 410 ? KUBE_E_GONE : kube_err_from_http(st.code ? st.code : 500);
		snprintf(w->detail, sizeof(w->detail), "the watch ended with an error event: %ld %s %.150s", st.code, st.reason,
			 st.message);
		cJSON_Delete(root);
		return false;
	}
	rv = object_rv(obj);
	if (rv && strlen(rv) < w->rv_len)
		snprintf(w->last_rv, w->rv_len, "%s", rv);
	if (w->fn)
		go = w->fn(w->ctx, type, obj);
	cJSON_Delete(root);
	if (!go) {
		w->err = KUBE_E_STOPPED;
		snprintf(w->detail, sizeof(w->detail), "stopped by the caller");
	}
	return go;
}

enum kube_err kube_watch(struct kube_client *c, const struct kube_watch_options *o, kube_event_fn fn, void *ctx, char *last_rv,
			 size_t rv_len, char *errbuf, size_t errlen)
{
	char path[KUBE_PATH_MAX + 256], timeout[32], label[KUBE_PATH_MAX + 16];
	long timeout_s = o->timeout_s > 0 ? o->timeout_s : 300;
	/* the server ends the watch at timeoutSeconds; the longer bound only catches a dead connection */
	struct kube_stream_options so = {path, timeout_s + 60, KUBE_EVENT_MAX, o->stop, label};
	struct watch_run w = {fn, ctx, last_rv, rv_len, KUBE_OK, ""};
	enum kube_err err;

	snprintf(timeout, sizeof(timeout), "%ld", timeout_s);
	snprintf(path, sizeof(path), "%s", o->path);
	snprintf(label, sizeof(label), "watch %s", o->path);
	if (!kube_query(path, sizeof(path), "watch", "true") || !kube_query(path, sizeof(path), "allowWatchBookmarks", "true") ||
	    !kube_query(path, sizeof(path), "timeoutSeconds", timeout) ||
	    (o->resource_version && o->resource_version[0] && !kube_query(path, sizeof(path), "resourceVersion", o->resource_version)))
		return kube_fail(errbuf, errlen, KUBE_E_INVALID, "watch path is too long");
	err = kube_stream_lines(c, &so, on_line, &w, errbuf, errlen);
	if (w.err)
		return kube_fail(errbuf, errlen, w.err, "watch %s: %s", o->path, w.detail);
	if (err == KUBE_E_TOO_LONG)
		return kube_fail(errbuf, errlen, err, "watch %s: a watch event is larger than %zu bytes", o->path, KUBE_EVENT_MAX);
	return err;
}

static bool list_item(void *ctx, const cJSON *item)
{
	struct kube_reflector *r = ctx;

	r->handlers->object(r->ctx, KUBE_EV_ADDED, item);
	return !(r->stop && atomic_load(r->stop));
}

static bool watch_event(void *ctx, enum kube_event_type type, const cJSON *obj)
{
	struct kube_reflector *r = ctx;

	if (type != KUBE_EV_BOOKMARK)
		r->handlers->object(r->ctx, type, obj);
	return !(r->stop && atomic_load(r->stop));
}

/* Sleeps up to ms in small steps so a stop request is honoured quickly. */
static void sleep_unless_stopped(struct kube_reflector *r, unsigned ms)
{
	while (ms && !(r->stop && atomic_load(r->stop))) {
		unsigned step = ms > 100 ? 100 : ms;
		sleep_ms(step);
		ms -= step;
	}
}

enum kube_err kube_reflector_run(struct kube_reflector *r, char *errbuf, size_t errlen)
{
	unsigned failures_in_row = 0;
	long min_s = r->watch_min_s > 0 ? r->watch_min_s : 300;

	if (!r->rng)
		r->rng = rng_seed();
	while (!(r->stop && atomic_load(r->stop))) {
		enum kube_err err;

		if (!r->rv[0]) {
			char rv[KUBE_RV_MAX] = "";
			if (r->handlers->replace_begin)
				r->handlers->replace_begin(r->ctx);
			r->lists++;
			err = kube_list(r->client, r->path, r->list_limit, list_item, r, rv, sizeof(rv), NULL, errbuf, errlen);
			if (err == KUBE_OK && !(r->stop && atomic_load(r->stop))) {
				if (r->handlers->replace_end)
					r->handlers->replace_end(r->ctx);
				snprintf(r->rv, sizeof(r->rv), "%s", rv);
				failures_in_row = 0;
			}
		} else {
			struct kube_watch_options o = {
				.path = r->path,
				.resource_version = r->rv,
				.timeout_s = min_s + (long)(rng_next(&r->rng) % (uint64_t)(min_s + 1)),
				.stop = r->stop,
			};
			r->watches++;
			err = kube_watch(r->client, &o, watch_event, r, r->rv, sizeof(r->rv), errbuf, errlen);
			if (err == KUBE_OK)
				failures_in_row = 0; /* the server ended it on time: watch again from where it stopped */
			if (err == KUBE_E_GONE) {
				r->gone++;
				r->rv[0] = '\0'; /* too old: relist */
				continue;
			}
		}
		if (err == KUBE_E_STOPPED || (r->stop && atomic_load(r->stop)))
			break;
		if (err != KUBE_OK) {
			r->failures++;
			if (r->handlers->failed)
				r->handlers->failed(r->ctx, errbuf);
			sleep_unless_stopped(r, backoff_delay_ms(failures_in_row < 10 ? failures_in_row : 10, 800, 30000, &r->rng));
			failures_in_row++;
		}
	}
	return kube_fail(errbuf, errlen, KUBE_E_STOPPED, "stopped");
}
