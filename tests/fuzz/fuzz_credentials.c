/* libFuzzer target: docker config.json parsing and a credential helper's answer never crash, leak or overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/credhelper.h"
#include "registry/credentials.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct reg_credentials c; /* 12 KiB: kept off the fuzzer's stack */
	char err[REG_ERRBUF_SIZE];

	if (reg_credentials_parse((const char *)data, size, "reg.io:5000", &c, err, sizeof(err)) == REG_OK && !c.username[0] &&
	    !c.identity_token[0] && !c.helper[0])
		abort();
	if (reg_credhelper_parse("fuzz", (const char *)data, size, &c, err, sizeof(err)) == REG_OK && !c.password[0] &&
	    !c.identity_token[0])
		abort(); /* an accepted answer always holds a secret */
	(void)reg_credentials_parse((const char *)data, size, "docker.io", &c, err, sizeof(err));
	reg_credentials_clear(&c);
	return 0;
}
