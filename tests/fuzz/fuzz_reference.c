/* libFuzzer target: image reference parsing and formatting never crash, leak or overrun on any input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reference.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct reg_ref ref;
	char err[REG_ERRBUF_SIZE], out[REG_REF_MAX + 64];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (reg_ref_parse(s, &ref, err, sizeof(err)) == REG_OK) {
		struct reg_ref again;
		/* a formatted reference parses again to the same parts */
		if (reg_ref_format(&ref, out, sizeof(out))) {
			if (reg_ref_parse(out, &again, err, sizeof(err)) != REG_OK)
				abort();
			if (strcmp(again.repository, ref.repository) != 0 || strcmp(again.tag, ref.tag) != 0 ||
			    strcmp(again.digest, ref.digest) != 0)
				abort();
			reg_ref_free(&again);
		}
		reg_ref_free(&ref);
	}
	(void)reg_digest_valid(s);
	free(s);
	return 0;
}
