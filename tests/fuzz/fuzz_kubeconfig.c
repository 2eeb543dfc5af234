/* libFuzzer target: kubeconfig loading never crashes, leaks or overruns, whatever the file holds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/config.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct kube_config c;
	char err[KUBE_ERRBUF_SIZE];
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-kubeconfig-%d.yaml", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (kube_config_from_kubeconfig(path, NULL, &c, err, sizeof(err)) == KUBE_OK) {
		if (!c.server || !c.namespace || !c.source)
			abort();
		kube_config_free(&c);
	} else if (c.server || !err[0]) {
		abort(); /* an error leaves nothing behind and always says why */
	}
	return 0;
}
