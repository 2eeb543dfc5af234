/* libFuzzer target: the YAML reader and the builder configuration parser on any text, and the files made from it. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller/builderconfig.h"
#include "controller/children.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_builder_config c;
	struct ctl_child_options opts;
	struct ctl_build_spec spec = {0};
	char err[256];
	cJSON *build, *cm;

	if (ctl_builder_config_parse((const char *)data, size, NULL, &c, err, sizeof(err)) == CTL_OK) {
		build = cJSON_Parse("{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\",\"uid\":\"u\"}}");
		ctl_child_options_init(&opts);
		opts.config = &c;
		spec.generation = 1;
		snprintf(spec.round, sizeof(spec.round), "g1");
		cm = ctl_builder_config_map(build, &spec, &opts);
		if (ctl_builder_config_has_files(&c) && !cm)
			abort(); /* a configuration that parsed always renders */
		cJSON_Delete(cm);
		cJSON_Delete(build);
	}
	ctl_builder_config_free(&c);
	return 0;
}
