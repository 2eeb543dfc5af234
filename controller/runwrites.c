/* The writes every step of a reconcile makes through the writer: deleting a child, creating the generation's
 * builder ConfigMap (refusing one this build does not control), and asking for another reconcile. */
#include <string.h>

#include "controller/children.h"
#include "controller/labels.h"
#include "controller/reconcilerun.h"
#include "util/jsonget.h"
#include "util/text.h"
#include "util/banned.h"

void run_requeue_within(struct run *r, double seconds)
{
	if (seconds < 0.5)
		seconds = 0.5;
	if (r->out->requeue_after_s < 0 || seconds < r->out->requeue_after_s)
		r->out->requeue_after_s = seconds;
}

bool run_delete_child(struct run *r, const char *kind, const cJSON *child)
{
	char err[CTL_ERRBUF_SIZE];
	enum ctl_write res;

	if (json_at(child, "metadata", "deletionTimestamp"))
		return true;
	res = r->w->remove(r->w->ctx, kind, child, err, sizeof(err));
	if (res == CTL_WRITE_OK || res == CTL_WRITE_GONE || res == CTL_WRITE_PENDING) {
		if (res == CTL_WRITE_OK)
			r->out->deletes++;
		if (res == CTL_WRITE_PENDING)
			r->out->writes_pending = true;
		return true;
	}
	text_format(r->out->error, sizeof(r->out->error), "cannot delete %s %s: %s", kind, json_str_at(child, "metadata", "name"), err);
	r->out->retry = true;
	return false;
}

/* Whether cm, not this build's, is being deleted or is controlled by a MultiArchBuild of this build's name with
 * another uid: what an earlier build of the same name left, which the garbage collector is about to delete (a build
 * deleted and applied again at once). */
static bool left_by_earlier_build(const struct run *r, const cJSON *cm)
{
	const cJSON *ref;

	if (json_at(cm, "metadata", "deletionTimestamp"))
		return true;
	cJSON_ArrayForEach(ref, json_at(cm, "metadata", "ownerReferences")) {
		const char *kind = json_str_at(ref, "kind", NULL), *name = json_str_at(ref, "name", NULL);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")) && kind && name &&
		    strcmp(kind, "MultiArchBuild") == 0 && strcmp(name, r->name) == 0)
			return true;
	}
	return false;
}

/* Whether the ConfigMap named as cm that a create found is controlled by this build (by uid): a name is no proof,
 * anyone who may create ConfigMaps in the namespace could have taken it first. Unknown (no reader, a failed read)
 * counts as ours, as before there were reads; a read that fails is retried. */
static bool config_map_is_ours(struct run *r, const cJSON *cm)
{
	const char *ns = json_str_at(cm, "metadata", "namespace"), *name = json_str_at(cm, "metadata", "name");
	const char *uid = json_str_at(r->view->build, "metadata", "uid");
	char err[CTL_ERRBUF_SIZE];
	cJSON *found = NULL;
	enum ctl_write res;
	bool ours;

	if (!r->w->read || !ns || !name)
		return true;
	res = r->w->read(r->w->ctx, "ConfigMap", ns, name, &found, err, sizeof(err));
	if (res != CTL_WRITE_OK) {
		cJSON_Delete(found);
		return true;
	}
	ours = ctl_controlled_by(found, uid);
	if (!ours && left_by_earlier_build(r, found)) {
		/* the garbage collector deletes it soon: try again then, nothing failed */
		text_format(r->out->error, sizeof(r->out->error),
			    "ConfigMap %s/%s is an earlier MultiArchBuild %s's, which was deleted; waiting for the garbage collector", ns,
			    name, r->name);
		r->out->retry = true;
	} else if (!ours) {
		const char *kind = json_str_at(cJSON_GetArrayItem(json_at(found, "metadata", "ownerReferences"), 0), "kind", NULL);
		text_format(r->config_map_owner, sizeof(r->config_map_owner), "%s", kind ? kind : "nothing");
		r->config_map_foreign = true;
	}
	cJSON_Delete(found);
	return ours;
}

bool run_ensure_config_map(struct run *r)
{
	char err[CTL_ERRBUF_SIZE];
	cJSON *cm;
	enum ctl_write res;

	if (r->config_map_ready || !ctl_builder_config_has_files(r->opts->children.config))
		return true;
	cm = ctl_builder_config_map(r->view->build, &r->spec, &r->opts->children);
	if (!cm) {
		text_copy(r->out->error, sizeof(r->out->error), "cannot write the builder ConfigMap");
		r->out->retry = true;
		return false;
	}
	res = r->w->create(r->w->ctx, "ConfigMap", cm, err, sizeof(err));
	if (res == CTL_WRITE_PENDING) { /* what mounts it waits for the answer: the next run */
		cJSON_Delete(cm);
		r->out->writes_pending = true;
		return false;
	}
	if (res == CTL_WRITE_EXISTS && !config_map_is_ours(r, cm)) {
		cJSON_Delete(cm);
		return false;
	}
	cJSON_Delete(cm);
	if (res == CTL_WRITE_OK || res == CTL_WRITE_EXISTS) {
		if (res == CTL_WRITE_OK)
			r->out->creates++;
		r->config_map_ready = true;
		return true;
	}
	text_format(r->out->error, sizeof(r->out->error), "cannot create the builder ConfigMap: %s", err);
	r->out->retry = true;
	return false;
}
