/* Unit tests for kube/watch's stream splitter and event parser: a recorded watch stream fed split at every byte offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/watch.h"
#include "util/banned.h"

struct seen {
	char log[8192];
	size_t events;
};

/* Records "TYPE name rv;" for every event line. */
static bool record(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;
	static const char *names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
	enum kube_event_type type;
	const cJSON *obj, *meta, *name, *rv;
	cJSON *root;
	size_t used = strlen(s->log);

	if (kube_event_parse(line, len, &type, &root, &obj) != KUBE_OK) {
		snprintf(s->log + used, sizeof(s->log) - used, "INVALID;");
		return true;
	}
	meta = cJSON_GetObjectItem(obj, "metadata");
	name = cJSON_GetObjectItem(meta, "name");
	rv = cJSON_GetObjectItem(meta, "resourceVersion");
	snprintf(s->log + used, sizeof(s->log) - used, "%s %s %s;", names[type], cJSON_IsString(name) ? name->valuestring : "-",
		 cJSON_IsString(rv) ? rv->valuestring : "-");
	cJSON_Delete(root);
	s->events++;
	return true;
}

static char *fixture(size_t *len)
{
	FILE *f = fopen("tests/fixtures/watch/configmaps.jsonl", "rb");
	char *buf = calloc(1, 16384);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 16383, f);
	fclose(f);
	return buf;
}

static const char want[] = "ADDED cm-a 101;ADDED cm-b 102;MODIFIED cm-a 103;BOOKMARK - 150;DELETED cm-b 151;ERROR - -;";

static void test_whole_stream(void **state)
{
	struct kube_linebuf lb;
	struct seen s = {0};
	size_t len;
	char *data = fixture(&len);
	(void)state;

	kube_linebuf_init(&lb, 4096);
	assert_int_equal(kube_linebuf_feed(&lb, data, len, record, &s), KUBE_OK);
	assert_string_equal(s.log, want);
	assert_int_equal(lb.buf.len, 0);
	kube_linebuf_free(&lb);
	free(data);
}

static void test_split_at_every_offset(void **state)
{
	size_t len;
	char *data = fixture(&len);
	(void)state;

	for (size_t cut = 0; cut <= len; cut++) {
		struct kube_linebuf lb;
		struct seen s = {0};
		kube_linebuf_init(&lb, 4096);
		assert_int_equal(kube_linebuf_feed(&lb, data, cut, record, &s), KUBE_OK);
		assert_int_equal(kube_linebuf_feed(&lb, data + cut, len - cut, record, &s), KUBE_OK);
		if (strcmp(s.log, want) != 0)
			fail_msg("split at %zu: got %s", cut, s.log);
		kube_linebuf_free(&lb);
	}
	free(data);
}

static void test_one_byte_at_a_time_with_crlf_and_blank_lines(void **state)
{
	struct kube_linebuf lb;
	struct seen s = {0};
	size_t len, n = 0;
	char *data = fixture(&len), *crlf = malloc(len * 2 + 8);
	(void)state;

	crlf[n++] = '\n'; /* a blank line first */
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = data[i];
	}
	kube_linebuf_init(&lb, 4096);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(kube_linebuf_feed(&lb, crlf + i, 1, record, &s), KUBE_OK);
	assert_string_equal(s.log, want);
	kube_linebuf_free(&lb);
	free(crlf);
	free(data);
}

static void test_an_oversized_event_is_an_error_not_memory(void **state)
{
	struct kube_linebuf lb;
	struct seen s = {0};
	char big[300];
	(void)state;

	memset(big, 'x', sizeof(big));
	kube_linebuf_init(&lb, 256);
	assert_int_equal(kube_linebuf_feed(&lb, "{\"type\":\"ADDED\"}\n", 17, record, &s), KUBE_OK);
	assert_int_equal(kube_linebuf_feed(&lb, big, 200, record, &s), KUBE_OK);
	assert_int_equal(kube_linebuf_feed(&lb, big, 100, record, &s), KUBE_E_TOO_LONG);
	assert_true(lb.buf.alloc <= 257);
	kube_linebuf_free(&lb);
}

static bool stop_after_first(void *ctx, const char *line, size_t len)
{
	(void)line;
	(void)len;
	(*(int *)ctx)++;
	return false;
}

static void test_stop_and_bad_events(void **state)
{
	struct kube_linebuf lb;
	enum kube_event_type type;
	const cJSON *obj;
	cJSON *root;
	int calls = 0;
	(void)state;

	kube_linebuf_init(&lb, 256);
	assert_int_equal(kube_linebuf_feed(&lb, "a\nb\n", 4, stop_after_first, &calls), KUBE_E_STOPPED);
	assert_int_equal(calls, 1);
	kube_linebuf_free(&lb);
	assert_int_equal(kube_event_parse("{\"type\":\"SNAPSHOT\",\"object\":{}}", 31, &type, &root, &obj), KUBE_E_INVALID);
	assert_null(root);
	assert_int_equal(kube_event_parse("{\"type\":\"ADDED\"}", 16, &type, &root, &obj), KUBE_E_INVALID);
	assert_int_equal(kube_event_parse("{\"type\":\"ADDED\",\"object\":[]}", 28, &type, &root, &obj), KUBE_E_INVALID);
	assert_int_equal(kube_event_parse("not json", 8, &type, &root, &obj), KUBE_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_stream),
		cmocka_unit_test(test_split_at_every_offset),
		cmocka_unit_test(test_one_byte_at_a_time_with_crlf_and_blank_lines),
		cmocka_unit_test(test_an_oversized_event_is_an_error_not_memory),
		cmocka_unit_test(test_stop_and_bad_events),
	};
	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
