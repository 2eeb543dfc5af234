/* libFuzzer target: the watch stream splitter and event parser on any byte stream, cut into chunks by the input itself. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/watch.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool on_line(void *ctx, const char *line, size_t len)
{
	enum kube_event_type type;
	const cJSON *obj;
	cJSON *root;

	(void)ctx;
	if (len == 0 || memchr(line, '\n', len))
		abort(); /* the splitter never hands out an empty line or one with a newline */
	if (kube_event_parse(line, len, &type, &root, &obj) == KUBE_OK) {
		if (!obj || type > KUBE_EV_ERROR)
			abort();
		cJSON_Delete(root);
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_linebuf lb;
	size_t pos = 0;

	kube_linebuf_init(&lb, 512);
	/* the first byte picks the chunk size, so every split is explored */
	while (size > 0 && pos < size) {
		size_t chunk = 1 + (size_t)(data[0] % 64);
		if (chunk > size - pos)
			chunk = size - pos;
		if (kube_linebuf_feed(&lb, (const char *)data + pos, chunk, on_line, NULL) != KUBE_OK)
			break;
		if (lb.buf.len > 512)
			abort();
		pos += chunk;
	}
	kube_linebuf_free(&lb);
	return 0;
}
