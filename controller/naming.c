/* Deterministic names for a build's children: the same (build, round, platform, attempt) always gives the same
 * name, so a controller restarted between two calls finds what it created instead of creating it twice. */
#include "controller/naming.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/strmap.h"
#include "util/banned.h"

static void to_label(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
		else if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			*s = '-';
	}
}

bool ctl_child_name(char *buf, size_t len, const char *build, const char *round, const char *suffix)
{
	char full[600], tail[80];
	size_t tail_len, keep;
	int n;

	if (len < CTL_NAME_MAX + 1)
		return false;
	n = snprintf(full, sizeof(full), "%s-%s-%s", build, round, suffix);
	if (n < 0 || (size_t)n >= sizeof(full))
		return false;
	to_label(full);
	if ((size_t)n <= CTL_NAME_MAX) {
		snprintf(buf, len, "%s", full);
		return true;
	}
	/* too long: keep the end (round and suffix), shorten the build, add a hash of everything */
	snprintf(tail, sizeof(tail), "-%s-%s-%08x", round, suffix, (unsigned)(strmap_hash(full) & 0xffffffffu));
	to_label(tail);
	tail_len = strlen(tail);
	if (tail_len >= CTL_NAME_MAX)
		return false;
	keep = CTL_NAME_MAX - tail_len;
	snprintf(buf, len, "%.*s%s", (int)keep, full, tail);
	/* a DNS label may not have "-" next to the cut: the build part ends with a letter or digit */
	while (keep > 0 && buf[keep - 1] == '-') {
		memmove(buf + keep - 1, buf + keep, strlen(buf + keep) + 1);
		keep--;
	}
	return keep > 0;
}

bool ctl_pod_name(char *buf, size_t len, const char *build, const char *round, const char *platform_label, int attempt)
{
	char suffix[80];

	snprintf(suffix, sizeof(suffix), "%s-a%d", platform_label, attempt);
	return ctl_child_name(buf, len, build, round, suffix);
}
