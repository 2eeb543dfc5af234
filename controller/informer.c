/* An informer: a reflector thread that keeps a store of one kind of object current and reports every
 * change to a handler, which only enqueues keys. */
#include "controller/informer.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/backoff.h"

static void notify_gone(void *ctx, struct ctl_obj *o)
{
	struct ctl_informer *inf = ctx;

	if (inf->on_change)
		inf->on_change(inf->ctx, o, true);
}

static void on_replace_begin(void *ctx)
{
	struct ctl_informer *inf = ctx;

	ctl_store_replace_begin(inf->store);
}

static void on_replace_end(void *ctx)
{
	struct ctl_informer *inf = ctx;

	ctl_store_replace_end(inf->store, notify_gone, inf);
	atomic_store(&inf->synced, true);
}

static void on_object(void *ctx, enum kube_event_type type, const cJSON *object)
{
	struct ctl_informer *inf = ctx;
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
	struct ctl_informer *inf = ctx;

	pthread_mutex_lock(&inf->error_lock);
	snprintf(inf->error, sizeof(inf->error), "%s", error);
	pthread_mutex_unlock(&inf->error_lock);
}

static const struct kube_reflector_handlers handlers = {on_replace_begin, on_object, on_replace_end, on_failed};

static void *run(void *arg)
{
	struct ctl_informer *inf = arg;
	char error[KUBE_ERRBUF_SIZE];

	kube_reflector_run(&inf->reflector, error, sizeof(error));
	return NULL;
}

void ctl_informer_error(struct ctl_informer *inf, char *buf, size_t len)
{
	pthread_mutex_lock(&inf->error_lock);
	snprintf(buf, len, "%s", inf->error);
	pthread_mutex_unlock(&inf->error_lock);
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
	atomic_store(&inf->synced, false);
	memset(&inf->reflector, 0, sizeof(inf->reflector));
	inf->reflector.client = inf->client;
	inf->reflector.path = inf->path;
	inf->reflector.handlers = &handlers;
	inf->reflector.ctx = inf;
	inf->reflector.stop = &inf->stop;
	inf->reflector.watch_min_s = inf->watch_min_s;
	if (pthread_create(&inf->thread, NULL, run, inf) != 0) {
		ctl_store_free(inf->store);
		inf->store = NULL;
		return false;
	}
	inf->running = true;
	return true;
}

bool ctl_informer_wait_synced(struct ctl_informer *inf, double timeout_s, const atomic_int *stop)
{
	for (long step = 0; (double)step * 0.05 < timeout_s; step++) {
		if (atomic_load(&inf->synced))
			return true;
		if (stop && atomic_load(stop))
			return false;
		sleep_ms(50);
	}
	return atomic_load(&inf->synced);
}

void ctl_informer_stop(struct ctl_informer *inf)
{
	if (inf->running) {
		atomic_store(&inf->stop, 1);
		pthread_join(inf->thread, NULL);
		inf->running = false;
	}
	ctl_store_free(inf->store);
	inf->store = NULL;
	if (inf->error_lock_ready) {
		pthread_mutex_destroy(&inf->error_lock);
		inf->error_lock_ready = false;
	}
}
