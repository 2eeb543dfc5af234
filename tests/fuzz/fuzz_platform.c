/* libFuzzer target: platform parsing never crashes, and its output is stable under a second parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/platform.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct reg_platform p, again;
	char err[REG_ERRBUF_SIZE], out[REG_PLATFORM_STR_MAX];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (reg_platform_parse(s, &p, err, sizeof(err)) == REG_OK) {
		reg_platform_format(&p, out, sizeof(out));
		if (reg_platform_parse(out, &again, err, sizeof(err)) != REG_OK || !reg_platform_equal(&p, &again))
			abort();
	}
	free(s);
	return 0;
}
