/* libFuzzer target: WWW-Authenticate parsing never crashes or overruns, and a Bearer result always has a realm; the
 * credential rules on the realm it names, and the token check, accept no header-breaking text. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/challenge.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct reg_challenge ch;
	char err[REG_ERRBUF_SIZE];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (reg_challenge_parse(s, &ch, err, sizeof(err)) == REG_OK) {
		if (ch.scheme == REG_AUTH_NONE || (ch.scheme == REG_AUTH_BEARER && !ch.realm[0]))
			abort();
		if (strlen(ch.realm) >= REG_CHALLENGE_PARAM_MAX || strlen(ch.scope) >= REG_CHALLENGE_PARAM_MAX)
			abort();
		/* plain HTTP to another host never gets credentials */
		if (strncmp(ch.realm, "http://", 7) == 0) {
			const char *authority = ch.realm + 7;
			size_t n = strcspn(authority, ":/?#");
			bool same = n == strlen("registry.test") && strncasecmp(authority, "registry.test", n) == 0;
			if (!same && reg_realm_may_get_credentials("registry.test", false, ch.realm, err, sizeof(err)))
				abort();
		}
	}
	/* a token that passes holds no byte a header could break on */
	if (reg_token_valid(s) && strpbrk(s, " \t\r\n\",;:"))
		abort();
	free(s);
	return 0;
}
