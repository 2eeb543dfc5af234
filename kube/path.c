/* API paths: /api/v1 or /apis/GROUP/VERSION, the namespace, resource and name as escaped segments, and query
 * parameters, each bounded by its buffer. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kube/client.h"
#include "util/banned.h"

/* Percent-escapes s into out (at most out_len bytes); returns false when it does not fit. */
static bool escape(const char *s, char *out, size_t out_len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
			     ch == '_' || ch == '~';
		if (n + (plain ? 1 : 3) >= out_len)
			return false;
		if (plain) {
			out[n++] = (char)ch;
		} else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n] = '\0';
	return true;
}

/* Appends "/" and the escaped segment to buf. */
static bool add_segment(char *buf, size_t len, const char *segment)
{
	size_t used = strlen(buf);

	if (used + 2 > len)
		return false;
	buf[used++] = '/';
	buf[used] = '\0';
	return escape(segment, buf + used, len - used);
}

bool kube_path(char *buf, size_t len, const char *group, const char *version, const char *ns, const char *resource, const char *name,
	       const char *subresource)
{
	if (len == 0)
		return false;
	buf[0] = '\0';
	if (!group || !group[0]) {
		if (!add_segment(buf, len, "api"))
			return false;
	} else if (!add_segment(buf, len, "apis") || !add_segment(buf, len, group)) {
		return false;
	}
	if (!add_segment(buf, len, version))
		return false;
	if (ns && ns[0] && (!add_segment(buf, len, "namespaces") || !add_segment(buf, len, ns)))
		return false;
	if (resource && !add_segment(buf, len, resource))
		return false;
	if (name && name[0] && !add_segment(buf, len, name))
		return false;
	if (subresource && subresource[0] && !add_segment(buf, len, subresource))
		return false;
	return true;
}

bool kube_query(char *buf, size_t len, const char *key, const char *value)
{
	size_t used = strlen(buf);
	char escaped[8192];
	int n;

	if (!escape(value, escaped, sizeof(escaped)))
		return false;
	n = snprintf(buf + used, len - used, "%s%s=%s", strchr(buf, '?') ? "&" : "?", key, escaped);
	return n > 0 && (size_t)n < len - used;
}
