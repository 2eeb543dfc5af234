/* Unit tests for controller/store: keys, trimming, references that outlive removal, and replace semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/store.h"

static cJSON *object(const char *ns, const char *name, const char *rv)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",%s%s%s\"resourceVersion\":\"%s\",\"managedFields\":[{\"manager\":\"kubectl\"}],"
		 "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{...}\",\"keep\":\"me\"}}}",
		 name, ns ? "\"namespace\":\"" : "", ns ? ns : "", ns ? "\"," : "", rv);
	return cJSON_Parse(text);
}

static void test_put_get_and_trim(void **state)
{
	struct ctl_store *s = ctl_store_new(NULL);
	struct ctl_obj *o;
	(void)state;

	o = ctl_store_put(s, object("apps", "web", "1"));
	assert_non_null(o);
	assert_string_equal(o->key, "apps/web");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o->json, "metadata"), "managedFields"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o->json, "metadata"), "annotations"),
					"kubectl.kubernetes.io/last-applied-configuration"));
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o->json, "metadata"), "annotations"), "keep"));
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

static void test_a_reader_keeps_an_object_alive(void **state)
{
	struct ctl_store *s = ctl_store_new(NULL);
	struct ctl_obj *held, *newer, *gone;
	(void)state;

	ctl_obj_release(ctl_store_put(s, object("apps", "web", "1")));
	held = ctl_store_get(s, "apps/web");
	newer = ctl_store_put(s, object("apps", "web", "2")); /* replaces the cached version */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(held->json, "metadata"), "resourceVersion")->valuestring, "1");
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
	struct ctl_store *s = ctl_store_new(NULL);
	char gone[256] = "";
	(void)state;

	ctl_obj_release(ctl_store_put(s, object("a", "kept", "1")));
	ctl_obj_release(ctl_store_put(s, object("a", "deleted-while-away", "1")));
	ctl_store_replace_begin(s);
	ctl_obj_release(ctl_store_put(s, object("a", "kept", "5")));
	ctl_obj_release(ctl_store_put(s, object("a", "new", "6")));
	ctl_store_replace_end(s, remember, gone);
	assert_string_equal(gone, "a/deleted-while-away;");
	assert_int_equal(ctl_store_len(s), 2);
	/* a put outside a replace marks nothing */
	ctl_store_replace_begin(s);
	ctl_store_replace_end(s, remember, gone);
	assert_int_equal(ctl_store_len(s), 0);
	ctl_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_and_trim),
		cmocka_unit_test(test_a_reader_keeps_an_object_alive),
		cmocka_unit_test(test_replace_drops_what_the_list_did_not_name),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
