/* The API verbs built on kube_request(): delete with preconditions and propagation, server-side apply, and lists
 * walked page by page with bounded pages. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client.h"
#include "util/banned.h"

char *kube_delete_options(const char *propagation, const char *uid, const char *resource_version)
{
	cJSON *opts = cJSON_CreateObject(), *pre = NULL;
	bool ok = opts && cJSON_AddStringToObject(opts, "apiVersion", "v1") && cJSON_AddStringToObject(opts, "kind", "DeleteOptions") &&
		  (!propagation || cJSON_AddStringToObject(opts, "propagationPolicy", propagation));
	char *body;

	if (ok && (uid || resource_version)) {
		pre = cJSON_AddObjectToObject(opts, "preconditions");
		ok = pre && (!uid || cJSON_AddStringToObject(pre, "uid", uid)) &&
		     (!resource_version || cJSON_AddStringToObject(pre, "resourceVersion", resource_version));
	}
	body = ok ? cJSON_PrintUnformatted(opts) : NULL;
	cJSON_Delete(opts);
	return body;
}

enum kube_err kube_delete(struct kube_client *c, const char *path, const char *propagation, const char *uid, const char *resource_version,
			  struct kube_response *resp, char *errbuf, size_t errlen)
{
	char *body = kube_delete_options(propagation, uid, resource_version);
	enum kube_err err;

	if (!body) {
		memset(resp, 0, sizeof(*resp));
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory");
	}
	err = kube_request(c, "DELETE", path, KUBE_CT_JSON, body, strlen(body), resp, errbuf, errlen);
	free(body);
	return err;
}

enum kube_err kube_apply(struct kube_client *c, const char *path, const char *field_manager, bool force, const char *body,
			 struct kube_response *resp, char *errbuf, size_t errlen)
{
	char full[KUBE_PATH_MAX];

	snprintf(full, sizeof(full), "%s", path);
	if (!kube_query(full, sizeof(full), "fieldManager", field_manager) || (force && !kube_query(full, sizeof(full), "force", "true"))) {
		memset(resp, 0, sizeof(*resp));
		return kube_fail(errbuf, errlen, KUBE_E_INVALID, "apply path is too long");
	}
	return kube_request(c, "PATCH", full, KUBE_CT_APPLY_PATCH, body, strlen(body), resp, errbuf, errlen);
}

/* A list walk: where it is (the continue token), how many items a page asks for, and how many pages so far. */
struct list_walk {
	const char *path;
	unsigned limit;
	char cont[4096];
	unsigned pages;
	bool restarted; /* after an expired continue token */
};

/* Fetches the walk's next page into *list (caller frees). An over-size page is asked for again with half as
 * many items, down to one. */
static enum kube_err list_page(struct kube_client *c, struct list_walk *w, cJSON **list, char *errbuf, size_t errlen)
{
	char page_path[KUBE_PATH_MAX + 8192], limit_str[16];
	struct kube_response resp;
	enum kube_err err;

	*list = NULL;
	for (;;) {
		snprintf(limit_str, sizeof(limit_str), "%u", w->limit);
		snprintf(page_path, sizeof(page_path), "%s", w->path);
		if (!kube_query(page_path, sizeof(page_path), "limit", limit_str) ||
		    (w->cont[0] && !kube_query(page_path, sizeof(page_path), "continue", w->cont)))
			return kube_fail(errbuf, errlen, KUBE_E_INVALID, "list path is too long");
		err = kube_request(c, "GET", page_path, NULL, NULL, 0, &resp, errbuf, errlen);
		if (err == KUBE_E_TOO_LONG && w->limit > 1) {
			kube_response_free(&resp);
			w->limit /= 2; /* one tenant's large objects must not stop the cache for everyone */
			continue;
		}
		if (err == KUBE_OK) {
			*list = cJSON_ParseWithLength(dynbuf_str(&resp.body), dynbuf_len(&resp.body));
			w->pages++;
		}
		kube_response_free(&resp);
		return err;
	}
}

/* Calls fn for the items of list; false when fn asked to stop. */
static bool list_items(const cJSON *items, kube_item_fn fn, void *ctx)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, items) {
		if (fn && !fn(ctx, item))
			return false;
	}
	return true;
}

enum kube_err kube_list(struct kube_client *c, const char *path, unsigned limit, kube_item_fn fn, void *ctx, char *rv, size_t rv_len,
			unsigned *pages, char *errbuf, size_t errlen)
{
	struct list_walk w = {.path = path, .limit = limit ? limit : 500};
	unsigned pages_max = kube_client_list_pages_max(c);
	enum kube_err err = KUBE_OK;

	for (;;) {
		cJSON *list;
		const cJSON *items, *meta, *next, *list_rv;

		if (pages)
			*pages = w.pages;
		if (w.pages >= pages_max)
			return kube_fail(errbuf, errlen, KUBE_E_TOO_LONG, "GET %s: the list goes on past %u pages; stopped", path,
					 pages_max);
		err = list_page(c, &w, &list, errbuf, errlen);
		if (err == KUBE_E_GONE && w.cont[0] && !w.restarted) {
			/* the continue token expired: start over once, as client-go's pager does */
			w.restarted = true;
			w.cont[0] = '\0';
			w.pages = 0;
			continue;
		}
		if (err)
			return err;
		if (pages)
			*pages = w.pages;
		items = cJSON_GetObjectItemCaseSensitive(list, "items");
		meta = cJSON_GetObjectItemCaseSensitive(list, "metadata");
		if (!cJSON_IsObject(list) || (items && !cJSON_IsArray(items) && !cJSON_IsNull(items))) {
			cJSON_Delete(list);
			return kube_fail(errbuf, errlen, KUBE_E_HTTP, "GET %s: the answer is not a list", path);
		}
		list_rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
		if (rv && cJSON_IsString(list_rv))
			snprintf(rv, rv_len, "%s", list_rv->valuestring);
		next = cJSON_GetObjectItemCaseSensitive(meta, "continue");
		if (!list_items(cJSON_IsArray(items) ? items : NULL, fn, ctx) || !cJSON_IsString(next) || !next->valuestring[0]) {
			cJSON_Delete(list);
			return KUBE_OK;
		}
		if (strlen(next->valuestring) >= sizeof(w.cont) || strcmp(next->valuestring, w.cont) == 0) {
			bool too_long = strlen(next->valuestring) >= sizeof(w.cont);
			cJSON_Delete(list);
			return kube_fail(errbuf, errlen, KUBE_E_TOO_LONG, "GET %s: the continue token is %s", path,
					 too_long ? "too long" : "the one just sent; the list would never end");
		}
		snprintf(w.cont, sizeof(w.cont), "%s", next->valuestring);
		cJSON_Delete(list);
	}
}
