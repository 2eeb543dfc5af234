/* The controller's labels read back from the objects that carry them. */
#include "controller/labels.h"

#include <errno.h>
#include <stdlib.h>

#include "util/jsonget.h"

const char *ctl_label(const cJSON *obj, const char *key)
{
	return json_str_at(json_at(obj, "metadata", "labels"), key, NULL);
}

long ctl_label_number(const cJSON *obj, const char *key)
{
	const char *v = ctl_label(obj, key);
	char *end = NULL;
	long n;

	if (!v || !*v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return *end || errno ? -1 : n;
}
