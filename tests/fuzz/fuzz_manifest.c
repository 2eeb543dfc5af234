/* libFuzzer target: manifest, index and image config parsing never crash, leak or overrun on any input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/manifest.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_manifest m;
	struct reg_platform p;
	char err[REG_ERRBUF_SIZE], version[128], features[256];

	if (reg_manifest_parse((const char *)data, size, NULL, &m, err, sizeof(err)) == REG_OK) {
		if (m.kind == REG_KIND_IMAGE && m.blob_count == 0)
			abort();
		for (size_t i = 0; i < m.entry_count; i++)
			if (!m.entries[i].json || (!m.entries[i].has_platform && !m.entries[i].attestation))
				abort();
		reg_manifest_free(&m);
	}
	(void)reg_config_platform((const char *)data, size, &p, version, sizeof(version), features, sizeof(features), err, sizeof(err));
	return 0;
}
