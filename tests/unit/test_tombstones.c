/* Unit tests for controller/tombstones: only finished pods with a build are kept, within both bounds; a build's
 * reconcile gets those the cache no longer has, and forgetting drops what was read and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/tombstones.h"
#include "util/banned.h"

static bool group_of(const cJSON *json, char *buf, size_t len)
{
	const cJSON *build = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "metadata"), "labels"), "build");

	if (!cJSON_IsString(build))
		return false;
	snprintf(buf, len, "ns/%s", build->valuestring);
	return true;
}

/* A cached pod ns/name of build (NULL: none) in phase, with a reference for the caller. */
static struct ctl_obj *pod(struct ctl_store *s, const char *name, const char *build, const char *phase)
{
	char text[512], labels[128] = "";

	if (build)
		snprintf(labels, sizeof(labels), ",\"labels\":{\"build\":\"%s\"}", build);
	snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\"%s},\"status\":{\"phase\":\"%s\"}}", name, labels,
		 phase);
	return ctl_store_put(s, cJSON_Parse(text));
}

static void keeps_only_finished_pods_of_a_build(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, group_of);
	struct ctl_tombstones *t = ctl_tombstones_new(8);
	struct ctl_obj *done = pod(s, "a-1", "a", "Succeeded"), *failed = pod(s, "a-2", "a", "Failed");
	struct ctl_obj *running = pod(s, "a-3", "a", "Running"), *orphan = pod(s, "x-1", NULL, "Succeeded");
	(void)state;

	assert_true(ctl_tombstones_keep(t, done));
	assert_true(ctl_tombstones_keep(t, failed));
	assert_false(ctl_tombstones_keep(t, running));
	assert_false(ctl_tombstones_keep(t, orphan));
	assert_int_equal(ctl_tombstones_len(t), 2);
	ctl_obj_release(done);
	ctl_obj_release(failed);
	ctl_obj_release(running);
	ctl_obj_release(orphan);
	ctl_store_free(s); /* the kept ones outlive the cache */
	ctl_tombstones_free(t);
}

static void adds_what_the_cache_lost_and_forgets_what_was_read(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, group_of);
	struct ctl_tombstones *t = ctl_tombstones_new(8);
	struct ctl_obj *gone = pod(s, "a-1", "a", "Succeeded"), *live = pod(s, "a-2", "a", "Failed"), **objs = NULL;
	size_t count;
	(void)state;

	assert_true(ctl_tombstones_keep(t, gone));
	assert_true(ctl_tombstones_keep(t, live)); /* also still in the cache: not added twice */
	ctl_obj_release(ctl_store_delete(s, "ns/a-1"));
	count = ctl_store_group(s, "ns/a", &objs);
	assert_int_equal(count, 1);
	assert_int_equal(ctl_tombstones_add_group(t, "ns/a", &objs, &count), 1);
	assert_int_equal(count, 2);
	assert_string_equal(objs[0]->key, "ns/a-2");
	assert_string_equal(objs[1]->key, "ns/a-1");
	assert_int_equal(ctl_tombstones_add_group(t, "ns/b", &objs, &count), 0);
	assert_int_equal(count, 2);
	/* one deleted while the reconcile ran stays for the next one */
	struct ctl_obj *late = pod(s, "a-3", "a", "Succeeded");
	assert_true(ctl_tombstones_keep(t, late));
	ctl_tombstones_forget(t, "ns/a", objs, count);
	assert_int_equal(ctl_tombstones_len(t), 1);
	ctl_obj_release_all(objs, count);
	objs = NULL;
	count = 0;
	assert_int_equal(ctl_tombstones_add_group(t, "ns/a", &objs, &count), 1);
	assert_string_equal(objs[0]->key, "ns/a-3");
	ctl_obj_release_all(objs, count);
	ctl_tombstones_forget(t, "ns/a", NULL, 0); /* the build is gone */
	assert_int_equal(ctl_tombstones_len(t), 0);
	ctl_obj_release(gone);
	ctl_obj_release(live);
	ctl_obj_release(late);
	ctl_store_free(s);
	ctl_tombstones_free(t);
}

static void bounded_in_all_and_per_build(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, group_of);
	struct ctl_tombstones *t = ctl_tombstones_new(CTL_TOMBSTONES_PER_BUILD + 2);
	char name[32];
	size_t kept = 0;
	(void)state;

	for (int i = 0; i < CTL_TOMBSTONES_PER_BUILD + 4; i++) {
		snprintf(name, sizeof(name), "a-%d", i);
		struct ctl_obj *o = pod(s, name, "a", "Succeeded");
		kept += ctl_tombstones_keep(t, o);
		ctl_obj_release(o);
	}
	assert_int_equal(kept, CTL_TOMBSTONES_PER_BUILD);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "b-%d", i);
		struct ctl_obj *o = pod(s, name, "b", "Succeeded");
		kept += ctl_tombstones_keep(t, o);
		ctl_obj_release(o);
	}
	assert_int_equal(kept, CTL_TOMBSTONES_PER_BUILD + 2);
	assert_int_equal(ctl_tombstones_len(t), CTL_TOMBSTONES_PER_BUILD + 2);
	ctl_store_free(s);
	ctl_tombstones_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_only_finished_pods_of_a_build),
		cmocka_unit_test(adds_what_the_cache_lost_and_forgets_what_was_read),
		cmocka_unit_test(bounded_in_all_and_per_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
