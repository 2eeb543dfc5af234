/* An informer: one reflector thread per collection it watches (a kind in each of a list of namespaces, or in all),
 * keeping one store current and reporting every change to a handler, which only enqueues keys. */
#include "controller/informer.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/backoff.h"
#include "util/banned.h"

static void notify_gone(void *ctx, struct ctl_obj *o)
{
	struct ctl_informer *inf = ctx;

	if (inf->on_change)
		inf->on_change(inf->ctx, o, true);
}

/* A list of one source replaces only its own namespace's objects: the other sources' stay. */
static void on_replace_begin(void *ctx)
{
	struct ctl_informer_source *src = ctx;

	(void)ctl_store_replace_begin(src->inf->store, src->scope); /* false: this list drops nothing */
}

static void on_replace_end(void *ctx)
{
	struct ctl_informer_source *src = ctx;

	ctl_store_replace_end(src->inf->store, src->scope, notify_gone, src->inf);
	atomic_store(&src->synced, true);
}

static void on_object(void *ctx, enum kube_event_type type, const cJSON *object)
{
	struct ctl_informer *inf = ((struct ctl_informer_source *)ctx)->inf;
	struct ctl_obj *o;
	char key[CTL_KEY_MAX];
	bool changed;

	if (type == KUBE_EV_DELETED) {
		if (ctl_obj_key(object, key, sizeof(key)) && (o = ctl_store_delete(inf->store, key))) {
			if (inf->on_change)
				inf->on_change(inf->ctx, o, true);
			ctl_obj_release(o);
		}
		return;
	}
	/* the same resourceVersion is the same object (the echo of a write already in the store): nothing to tell */
	o = ctl_store_put_if_changed(inf->store, inf->slim ? inf->slim(object) : cJSON_Duplicate(object, true), &changed);
	if (o) {
		if (inf->on_change && changed)
			inf->on_change(inf->ctx, o, false);
		ctl_obj_release(o);
	}
}

static void on_failed(void *ctx, const char *error)
{
	struct ctl_informer *inf = ((struct ctl_informer_source *)ctx)->inf;

	pthread_mutex_lock(&inf->error_lock);
	snprintf(inf->error, sizeof(inf->error), "%s", error);
	pthread_mutex_unlock(&inf->error_lock);
}

static const struct kube_reflector_handlers handlers = {on_replace_begin, on_object, on_replace_end, on_failed};

static void *run(void *arg)
{
	struct ctl_informer_source *src = arg;
	char error[KUBE_ERRBUF_SIZE];

	kube_reflector_run(&src->reflector, error, sizeof(error));
	return NULL;
}

bool ctl_informer_add_source(struct ctl_informer *inf, const char *path, const char *scope)
{
	struct ctl_informer_source *src;

	if (inf->source_count == CTL_INFORMER_SOURCES_MAX || strlen(path) >= sizeof(src->path) ||
	    strlen(scope ? scope : "") >= sizeof(src->scope))
		return false;
	src = &inf->sources[inf->source_count++];
	snprintf(src->path, sizeof(src->path), "%s", path);
	snprintf(src->scope, sizeof(src->scope), "%s", scope ? scope : "");
	return true;
}

const char *ctl_informer_path(const struct ctl_informer *inf)
{
	return inf->source_count ? inf->sources[0].path : "";
}

struct ctl_informer_counts ctl_informer_counts(const struct ctl_informer *inf)
{
	struct ctl_informer_counts n = {0};

	for (size_t i = 0; i < inf->source_count; i++) {
		n.lists += atomic_load(&inf->sources[i].reflector.lists);
		n.watches += atomic_load(&inf->sources[i].reflector.watches);
		n.gone += atomic_load(&inf->sources[i].reflector.gone);
	}
	return n;
}

void ctl_informer_error(struct ctl_informer *inf, char *buf, size_t len)
{
	pthread_mutex_lock(&inf->error_lock);
	snprintf(buf, len, "%s", inf->error);
	pthread_mutex_unlock(&inf->error_lock);
}

/* Starts source i's thread; false when it cannot be made. */
static bool start_source(struct ctl_informer *inf, size_t i)
{
	struct ctl_informer_source *src = &inf->sources[i];

	src->inf = inf;
	atomic_store(&src->synced, false);
	memset(&src->reflector, 0, sizeof(src->reflector));
	src->reflector.client = inf->client;
	src->reflector.path = src->path;
	src->reflector.handlers = &handlers;
	src->reflector.ctx = src;
	src->reflector.stop = &inf->stop;
	src->reflector.watch_min_s = inf->watch_min_s;
	src->running = pthread_create(&src->thread, NULL, run, src) == 0;
	return src->running;
}

bool ctl_informer_start(struct ctl_informer *inf)
{
	inf->store = ctl_store_new(inf->form, inf->group_of);
	if (!inf->store)
		return false;
	if (!inf->error_lock_ready) {
		if (pthread_mutex_init(&inf->error_lock, NULL) != 0) {
			ctl_store_free(inf->store);
			inf->store = NULL;
			return false;
		}
		inf->error_lock_ready = true;
	}
	inf->error[0] = '\0';
	atomic_store(&inf->stop, 0);
	for (size_t i = 0; i < inf->source_count; i++) {
		if (!start_source(inf, i)) {
			ctl_informer_stop(inf);
			return false;
		}
	}
	return inf->source_count > 0;
}

/* Whether every source has synced. */
static bool all_synced(struct ctl_informer *inf)
{
	for (size_t i = 0; i < inf->source_count; i++)
		if (!atomic_load(&inf->sources[i].synced))
			return false;
	return true;
}

bool ctl_informer_wait_synced(struct ctl_informer *inf, double timeout_s, const atomic_int *stop)
{
	for (long step = 0; (double)step * 0.05 < timeout_s; step++) {
		if (all_synced(inf))
			return true;
		if (stop && atomic_load(stop))
			return false;
		sleep_ms(50);
	}
	return all_synced(inf);
}

void ctl_informer_stop(struct ctl_informer *inf)
{
	atomic_store(&inf->stop, 1);
	for (size_t i = 0; i < inf->source_count; i++) {
		if (inf->sources[i].running) {
			pthread_join(inf->sources[i].thread, NULL);
			inf->sources[i].running = false;
		}
	}
	ctl_store_free(inf->store);
	inf->store = NULL;
	if (inf->error_lock_ready) {
		pthread_mutex_destroy(&inf->error_lock);
		inf->error_lock_ready = false;
	}
}
