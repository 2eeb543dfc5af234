/* Which builds wait for nodes of which architecture, and the node handler that wakes only those (see
 * controllerstate.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controllerstate.h"
#include "controller/nodes.h"
#include "util/jsonget.h"
#include "util/banned.h"

void ctl_note_waiting(struct ctl_controller *c, const char *key, const char *arches)
{
	const char *known;
	char *copy;

	pthread_mutex_lock(&c->waiting_lock);
	known = strmap_get(&c->waiting, key, NULL);
	/* most reconciles change nothing here: no allocation for them */
	if (known ? strcmp(known, arches) != 0 : arches[0] != '\0') {
		free(strmap_remove(&c->waiting, key));
		copy = arches[0] ? strdup(arches) : NULL;
		if (copy && !strmap_put(&c->waiting, key, copy))
			free(copy); /* out of memory: the next resync looks at it */
	}
	pthread_mutex_unlock(&c->waiting_lock);
}

/* The keys of builds waiting for nodes of one architecture ("" for any), collected under the lock. */
struct waiting_match {
	char arch[40]; /* " arm64 " */
	char **keys;
	size_t count, cap;
};

static void match_waiting(void *ctx, const char *key, void *value)
{
	struct waiting_match *m = ctx;
	char **grown;

	if (m->arch[0] && !strstr(value, m->arch))
		return;
	if (m->count == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		if (!(grown = realloc(m->keys, cap * sizeof(*grown))))
			return;
		m->keys = grown;
		m->cap = cap;
	}
	if ((m->keys[m->count] = strdup(key)))
		m->count++;
}

/* Queues the builds waiting for nodes of node's architecture (all waiting builds when it has none). */
static void enqueue_waiting_for(struct ctl_controller *c, const cJSON *node)
{
	const char *arch = json_str_at(json_at(node, "metadata", "labels"), "kubernetes.io/arch", NULL);
	struct waiting_match m = {.keys = NULL};

	if (arch && strlen(arch) < sizeof(m.arch) - 2)
		snprintf(m.arch, sizeof(m.arch), " %s ", arch);
	pthread_mutex_lock(&c->waiting_lock);
	strmap_each(&c->waiting, match_waiting, &m);
	pthread_mutex_unlock(&c->waiting_lock);
	for (size_t i = 0; i < m.count; i++) {
		ctl_queue_add(c->queue, m.keys[i]);
		free(m.keys[i]);
	}
	free(m.keys);
}

void ctl_on_node(void *ctx, const struct ctl_obj *o, bool deleted)
{
	struct ctl_controller *c = ctx;
	bool usable = !deleted && ctl_node_usable(o->json), found = false;
	bool was = strmap_get(&c->node_usable, o->key, &found) != NULL;

	if (deleted)
		strmap_remove(&c->node_usable, o->key);
	else if (!strmap_put(&c->node_usable, o->key, usable ? (void *)1 : NULL))
		found = false; /* out of memory: treat as new, which only costs a look */
	if (found && was == usable)
		return;
	enqueue_waiting_for(c, o->json);
}
