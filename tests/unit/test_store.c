/* Unit tests for controller/store: keys, trimming, both forms, groups, references that outlive removal, and replace semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/store.h"
#include "util/banned.h"

static cJSON *object(const char *ns, const char *name, const char *rv)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",%s%s%s\"resourceVersion\":\"%s\",\"managedFields\":[{\"manager\":\"kubectl\"}],"
		 "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{...}\",\"keep\":\"me\"}}}",
		 name, ns ? "\"namespace\":\"" : "", ns ? ns : "", ns ? "\"," : "", rv);
	return cJSON_Parse(text);
}

/* The metadata member of o's tree, parsed into *tree (the caller's). */
static const cJSON *metadata_of(const struct ctl_obj *o, cJSON **tree)
{
	*tree = ctl_obj_parse(o);
	assert_non_null(*tree);
	return cJSON_GetObjectItem(*tree, "metadata");
}

static void put_get_and_trim(enum ctl_store_form form)
{
	struct ctl_store *s = ctl_store_new(form, NULL);
	struct ctl_obj *o;
	const cJSON *meta;
	cJSON *tree;

	o = ctl_store_put(s, object("apps", "web", "1"));
	assert_non_null(o);
	assert_string_equal(o->key, "apps/web");
	assert_string_equal(o->group, "");
	assert_int_equal(o->resource_version, 1);
	meta = metadata_of(o, &tree);
	assert_null(cJSON_GetObjectItem(meta, "managedFields"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "annotations"), "kubectl.kubernetes.io/last-applied-configuration"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "annotations"), "keep")->valuestring, "me");
	assert_string_equal(cJSON_GetObjectItem(meta, "name")->valuestring, "web");
	cJSON_Delete(tree);
	ctl_obj_release(o);
	o = ctl_store_put(s, object(NULL, "node-1", "1"));
	assert_string_equal(o->key, "node-1");
	ctl_obj_release(o);
	assert_null(ctl_store_put(s, cJSON_Parse("{\"metadata\":{}}")));
	assert_int_equal(ctl_store_len(s), 2);
	o = ctl_store_get(s, "apps/web");
	assert_non_null(o);
	ctl_obj_release(o);
	assert_null(ctl_store_get(s, "apps/none"));
	ctl_store_free(s);
}

static void test_put_get_and_trim(void **state)
{
	(void)state;
	put_get_and_trim(CTL_STORE_TREES);
	put_get_and_trim(CTL_STORE_TEXT);
}

/* A text store keeps the object as its compact JSON and no tree; a tree store the reverse. */
static void test_forms(void **state)
{
	struct ctl_store *text = ctl_store_new(CTL_STORE_TEXT, NULL), *trees = ctl_store_new(CTL_STORE_TREES, NULL);
	cJSON *expected = object("apps", "web", "7");
	struct ctl_obj *t, *o;
	char *printed;
	(void)state;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(expected, "metadata"), "managedFields");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(expected, "metadata"), "annotations"),
				   "kubectl.kubernetes.io/last-applied-configuration");
	printed = cJSON_PrintUnformatted(expected);
	t = ctl_store_put(text, object("apps", "web", "7"));
	o = ctl_store_put(trees, object("apps", "web", "7"));
	assert_null(t->json);
	assert_string_equal(t->text, printed);
	assert_int_equal(t->text_len, strlen(printed));
	assert_null(o->text);
	assert_true(cJSON_Compare(o->json, expected, true));
	cJSON_free(printed);
	cJSON_Delete(expected);
	ctl_obj_release(t);
	ctl_obj_release(o);
	ctl_store_free(text);
	ctl_store_free(trees);
}

/* Groups by the first label's value, as the controller groups children by their build. */
static bool group_by_label(const cJSON *json, char *buf, size_t len)
{
	const cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "metadata"), "labels");

	if (!labels || !labels->child || !cJSON_IsString(labels->child))
		return false;
	snprintf(buf, len, "%s", labels->child->valuestring);
	return true;
}

static cJSON *child(const char *name, const char *build, const char *rv)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"a\",\"resourceVersion\":\"%s\",\"labels\":{\"b\":\"%s\"}}}", name, rv,
		 build);
	return cJSON_Parse(text);
}

static void test_groups_list_and_put_newer(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, group_by_label);
	struct ctl_obj **objs, *o;
	size_t n;
	(void)state;

	ctl_obj_release(ctl_store_put(s, child("p1", "x", "10")));
	ctl_obj_release(ctl_store_put(s, child("p2", "x", "11")));
	ctl_obj_release(ctl_store_put(s, child("p3", "y", "12")));
	n = ctl_store_group(s, "x", &objs);
	assert_int_equal(n, 2);
	assert_string_equal(objs[0]->group, "x");
	ctl_obj_release_all(objs, n);
	/* a child that moves to another group leaves its old one */
	ctl_obj_release(ctl_store_put(s, child("p2", "y", "13")));
	n = ctl_store_group(s, "x", &objs);
	assert_int_equal(n, 1);
	assert_string_equal(objs[0]->key, "a/p1");
	ctl_obj_release_all(objs, n);
	/* an older answer does not undo a newer event; a newer one replaces it */
	o = ctl_store_put_newer(s, child("p2", "x", "12"));
	assert_int_equal(o->resource_version, 13);
	assert_string_equal(o->group, "y");
	ctl_obj_release(o);
	o = ctl_store_put_newer(s, child("p2", "x", "14"));
	assert_int_equal(o->resource_version, 14);
	ctl_obj_release(o);
	n = ctl_store_list(s, &objs);
	assert_int_equal(n, 3);
	ctl_obj_release_all(objs, n);
	ctl_obj_release(ctl_store_delete(s, "a/p1"));
	ctl_obj_release(ctl_store_delete(s, "a/p2"));
	n = ctl_store_group(s, "x", &objs);
	assert_int_equal(n, 0);
	assert_null(objs);
	ctl_store_free(s);
}

static void test_a_reader_keeps_an_object_alive(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, NULL);
	struct ctl_obj *held, *newer, *gone;
	cJSON *tree;
	(void)state;

	ctl_obj_release(ctl_store_put(s, object("apps", "web", "1")));
	held = ctl_store_get(s, "apps/web");
	newer = ctl_store_put(s, object("apps", "web", "2")); /* replaces the cached version */
	assert_string_equal(cJSON_GetObjectItem(metadata_of(held, &tree), "resourceVersion")->valuestring, "1");
	cJSON_Delete(tree);
	gone = ctl_store_delete(s, "apps/web");
	assert_ptr_equal(gone, newer);
	ctl_obj_release(gone);
	ctl_obj_release(newer);
	/* the old version is still readable by its holder */
	assert_string_equal(held->key, "apps/web");
	ctl_obj_release(held);
	assert_null(ctl_store_delete(s, "apps/web"));
	ctl_store_free(s);
}

static void remember(void *ctx, struct ctl_obj *o)
{
	char *names = ctx;
	size_t used = strlen(names);
	snprintf(names + used, 256 - used, "%s;", o->key);
}

static void test_replace_drops_what_the_list_did_not_name(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TREES, NULL);
	char gone[256] = "";
	(void)state;

	ctl_obj_release(ctl_store_put(s, object("a", "kept", "1")));
	ctl_obj_release(ctl_store_put(s, object("a", "deleted-while-away", "1")));
	assert_true(ctl_store_replace_begin(s, NULL));
	ctl_obj_release(ctl_store_put(s, object("a", "kept", "5")));
	ctl_obj_release(ctl_store_put(s, object("a", "new", "6")));
	ctl_store_replace_end(s, NULL, remember, gone);
	assert_string_equal(gone, "a/deleted-while-away;");
	assert_int_equal(ctl_store_len(s), 2);
	/* a put outside a replace marks nothing */
	assert_true(ctl_store_replace_begin(s, NULL));
	ctl_store_replace_end(s, NULL, remember, gone);
	assert_int_equal(ctl_store_len(s), 0);
	ctl_store_free(s);
}

/* One store filled by one list per namespace: a namespace's relist drops only that namespace's missing objects,
 * even while another namespace's relist is under way. */
static void test_replace_per_namespace(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, NULL);
	char gone[256] = "";
	(void)state;

	ctl_obj_release(ctl_store_put(s, object("team-a", "x", "1")));
	ctl_obj_release(ctl_store_put(s, object("team-a", "y", "1")));
	ctl_obj_release(ctl_store_put(s, object("team-b", "z", "1")));
	assert_true(ctl_store_replace_begin(s, "team-a"));
	assert_true(ctl_store_replace_begin(s, "team-b"));
	ctl_obj_release(ctl_store_put(s, object("team-a", "x", "2")));
	ctl_store_replace_end(s, "team-a", remember, gone);
	assert_string_equal(gone, "team-a/y;"); /* team-b/z is not team-a's to drop */
	ctl_obj_release(ctl_store_put(s, object("team-b", "z", "2")));
	ctl_store_replace_end(s, "team-b", remember, gone);
	assert_string_equal(gone, "team-a/y;");
	assert_int_equal(ctl_store_len(s), 2);
	/* a name longer than a namespace's is refused and drops nothing */
	assert_false(ctl_store_replace_begin(s, "a-name-much-longer-than-the-sixty-three-characters-of-a-namespace-name"));
	ctl_store_free(s);
}

/* The same resourceVersion is the same object: kept, reported unchanged, and still counted as listed. */
static void test_put_if_changed(void **state)
{
	struct ctl_store *s = ctl_store_new(CTL_STORE_TEXT, NULL);
	struct ctl_obj *first, *o;
	char gone[256] = "";
	bool changed = true;
	(void)state;

	first = ctl_store_put_if_changed(s, object("a", "x", "7"), &changed);
	assert_non_null(first);
	assert_true(changed); /* new */
	o = ctl_store_put_if_changed(s, object("a", "x", "7"), &changed);
	assert_false(changed); /* the echo */
	assert_ptr_equal(o, first);
	ctl_obj_release(o);
	o = ctl_store_put_if_changed(s, object("a", "x", "8"), &changed);
	assert_true(changed);
	assert_ptr_not_equal(o, first);
	ctl_obj_release(o);
	ctl_obj_release(first);
	assert_true(ctl_store_replace_begin(s, NULL));
	ctl_obj_release(ctl_store_put_if_changed(s, object("a", "x", "8"), &changed));
	assert_false(changed);
	ctl_store_replace_end(s, NULL, remember, gone);
	assert_string_equal(gone, ""); /* an unchanged object in a relist is not dropped */
	assert_int_equal(ctl_store_len(s), 1);
	ctl_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_and_trim),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_groups_list_and_put_newer),
		cmocka_unit_test(test_a_reader_keeps_an_object_alive),
		cmocka_unit_test(test_replace_drops_what_the_list_did_not_name),
		cmocka_unit_test(test_put_if_changed),
		cmocka_unit_test(test_replace_per_namespace),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
