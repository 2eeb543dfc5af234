/* The YAML of kubeconfig files: a merged list of files loaded, and the lookups a configuration is read through. */
#include "kube/kubeconfigfile.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/dynbuf.h"
#include "util/fileio.h"
#include "util/banned.h"

void kc_set_free(struct kc_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		if (set->files[i].has_doc)
			yaml_document_delete(&set->files[i].doc);
		free(set->files[i].path);
		free(set->files[i].dir);
	}
	set->count = 0;
}

yaml_node_t *kc_root_map(struct kc_file *f)
{
	yaml_node_t *root = f->has_doc ? yaml_document_get_root_node(&f->doc) : NULL;

	return root && root->type == YAML_MAPPING_NODE ? root : NULL;
}

/* The value of key in a mapping node, or NULL. */
yaml_node_t *kc_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

const char *kc_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/*
 * Reads a string field of map into *out (a copy, or NULL when absent or
 * empty). A present field that is not a string is an error naming where.
 */
enum kube_err kc_get_string(struct kc_file *f, yaml_node_t *map, const char *key, const char *where, char **out, char *errbuf,
			    size_t errlen)
{
	yaml_node_t *n = kc_map_get(&f->doc, map, key);
	const char *s = kc_scalar(n);

	*out = NULL;
	if (n && !s)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.%s must be a string", f->path, where, key);
	if (s && s[0]) {
		*out = strdup(s);
		if (!*out)
			return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory reading kubeconfig %s", f->path);
	}
	return KUBE_OK;
}

/* Finds the entry named name in the list key ("clusters") of f, and returns its inner map (e.g. "cluster"). */
yaml_node_t *kc_find_named(struct kc_file *f, const char *list_key, const char *inner_key, const char *name)
{
	yaml_node_t *list = kc_map_get(&f->doc, kc_root_map(f), list_key);

	if (!list || list->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		yaml_node_t *entry = yaml_document_get_node(&f->doc, *it);
		const char *n = kc_scalar(kc_map_get(&f->doc, entry, "name"));
		if (n && strcmp(n, name) == 0) {
			yaml_node_t *inner = kc_map_get(&f->doc, entry, inner_key);
			return inner ? inner : entry; /* an entry without its inner map still "exists" (and fails later) */
		}
	}
	return NULL;
}

/* Looks name up in every file in order: the first file that defines it wins. Sets *file to that file. */
yaml_node_t *kc_find_first(struct kc_set *set, const char *list_key, const char *inner_key, const char *name, struct kc_file **file)
{
	for (size_t i = 0; i < set->count; i++) {
		yaml_node_t *n = kc_find_named(&set->files[i], list_key, inner_key, name);
		if (n) {
			*file = &set->files[i];
			return n;
		}
	}
	return NULL;
}

/* Path relative to the folder of f, or path itself when absolute. Caller frees. */
char *kc_resolve(const struct kc_file *f, const char *path)
{
	char *out;
	size_t n;

	if (path[0] == '/' || !f->dir)
		return strdup(path);
	n = strlen(f->dir) + strlen(path) + 2;
	out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", f->dir, path);
	return out;
}

/* Loads PEM data from a base64 -data field or a file field of map into *pem. */
enum kube_err kc_get_pem(struct kc_file *f, yaml_node_t *map, const char *data_key, const char *file_key, const char *where, char **pem,
			 size_t *len, char *errbuf, size_t errlen)
{
	char *data = NULL, *file = NULL, *path = NULL;
	struct dynbuf buf;
	enum kube_err err;
	int rc;

	*pem = NULL;
	*len = 0;
	err = kc_get_string(f, map, data_key, where, &data, errbuf, errlen);
	if (!err)
		err = kc_get_string(f, map, file_key, where, &file, errbuf, errlen);
	if (err)
		goto out;
	if (data) {
		if (!base64_decode(data, strlen(data), (unsigned char **)pem, len))
			err = kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.%s is not valid base64", f->path, where,
					data_key);
	} else if (file) {
		path = kc_resolve(f, file);
		dynbuf_init(&buf, PEM_FILE_MAX);
		rc = path ? file_read_all(path, &buf) : ENOMEM;
		if (rc) {
			dynbuf_free(&buf);
			err = kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: %s.%s: cannot read %s: %s", f->path, where, file_key,
					path ? path : file, strerror(rc));
		} else {
			*pem = dynbuf_take(&buf, len);
		}
	}
out:
	if (data)
		OPENSSL_cleanse(data, strlen(data));
	free(data);
	free(file);
	free(path);
	return err;
}

/* Loads one kubeconfig file. missing_ok: a file that does not exist is skipped (returns KUBE_OK, nothing added). */
enum kube_err kc_load_file(struct kc_set *set, const char *path, bool missing_ok, char *errbuf, size_t errlen)
{
	struct kc_file *f;
	struct dynbuf buf;
	yaml_parser_t parser;
	const char *slash;
	enum kube_err err = KUBE_OK;
	int rc;

	if (set->count == KUBE_CONFIG_FILES_MAX)
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "too many kubeconfig files (at most %d)", KUBE_CONFIG_FILES_MAX);
	dynbuf_init(&buf, KUBE_CONFIG_FILE_MAX);
	rc = file_read_all(path, &buf);
	if (rc == ENOENT && missing_ok) {
		dynbuf_free(&buf);
		return KUBE_OK;
	}
	if (rc) {
		dynbuf_free(&buf);
		return kube_fail(errbuf, errlen, KUBE_E_CONFIG, "cannot read kubeconfig %s: %s", path,
				 rc == EFBIG ? "larger than 4 MiB" : strerror(rc));
	}
	f = &set->files[set->count];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	slash = strrchr(path, '/');
	f->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	if (!f->path || !f->dir) {
		free(f->path);
		free(f->dir);
		dynbuf_free(&buf);
		return kube_fail(errbuf, errlen, KUBE_E_NOMEM, "out of memory reading kubeconfig %s", path);
	}
	set->count++;
	if (!yaml_parser_initialize(&parser)) {
		dynbuf_free(&buf);
		kube_fail(errbuf, errlen, KUBE_E_NOMEM, "cannot initialise the YAML parser");
		return KUBE_E_NOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)dynbuf_str(&buf), dynbuf_len(&buf));
	if (!yaml_parser_load(&parser, &f->doc)) {
		err = kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: invalid YAML at line %zu: %s", path,
				parser.problem_mark.line + 1, parser.problem ? parser.problem : "unknown problem");
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&f->doc);
		f->has_doc = true;
		if (root && root->type != YAML_MAPPING_NODE)
			err = kube_fail(errbuf, errlen, KUBE_E_CONFIG, "kubeconfig %s: the top level is not a mapping", path);
	}
	yaml_parser_delete(&parser);
	dynbuf_free(&buf);
	return err;
}
