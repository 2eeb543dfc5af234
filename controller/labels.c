/* The controller's labels read back from the objects that carry them. */
#include "controller/labels.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonget.h"
#include "util/banned.h"

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

bool ctl_controlled_by(const cJSON *obj, const char *uid)
{
	const cJSON *ref;

	cJSON_ArrayForEach(ref, json_at(obj, "metadata", "ownerReferences")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller"))) {
			const char *owner = json_str_at(ref, "uid", NULL);
			return uid && owner && strcmp(owner, uid) == 0;
		}
	}
	return false;
}
