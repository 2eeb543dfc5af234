/* The YAML of kubeconfig files, for kube/config.c alone: a merged list of files loaded, and the lookups a
 * configuration is read through (named entries, strings, PEM data or files, paths relative to their file). */
#ifndef MAC_KUBE_KUBECONFIGFILE_H
#define MAC_KUBE_KUBECONFIGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "kube/error.h"

#define KUBE_CONFIG_FILES_MAX 16
#define KUBE_CONFIG_FILE_MAX ((size_t)4 * 1024 * 1024) /* largest kubeconfig read */
#define PEM_FILE_MAX ((size_t)4 * 1024 * 1024)

/* One kubeconfig file of a merged list. */
struct kc_file {
	char *path;
	char *dir;
	yaml_document_t doc;
	bool has_doc;
};

struct kc_set {
	struct kc_file files[KUBE_CONFIG_FILES_MAX];
	size_t count;
};

/* Frees every file of set; set is empty afterwards. */
void kc_set_free(struct kc_set *set);

/* The root mapping of f's document, or NULL when it has none. */
yaml_node_t *kc_root_map(struct kc_file *f);

/* The value of key in a mapping node, or NULL. */
yaml_node_t *kc_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);

/* The text of a scalar node, or NULL when n is none. */
const char *kc_scalar(yaml_node_t *n);

/*
 * Reads a string field of map into *out (a copy, or NULL when absent or
 * empty). A present field that is not a string is an error naming where.
 */
enum kube_err kc_get_string(struct kc_file *f, yaml_node_t *map, const char *key, const char *where, char **out, char *errbuf,
			    size_t errlen);

/* Finds the entry named name in the list key ("clusters") of f, and returns its inner map (e.g. "cluster"). */
yaml_node_t *kc_find_named(struct kc_file *f, const char *list_key, const char *inner_key, const char *name);

/* Looks name up in every file in order: the first file that defines it wins. Sets *file to that file. */
yaml_node_t *kc_find_first(struct kc_set *set, const char *list_key, const char *inner_key, const char *name, struct kc_file **file);

/* Path relative to the folder of f, or path itself when absolute. Caller frees. */
char *kc_resolve(const struct kc_file *f, const char *path);

/* Loads PEM data from a base64 -data field or a file field of map into *pem. */
enum kube_err kc_get_pem(struct kc_file *f, yaml_node_t *map, const char *data_key, const char *file_key, const char *where, char **pem,
			 size_t *len, char *errbuf, size_t errlen);

/* Loads one kubeconfig file. missing_ok: a file that does not exist is skipped (returns KUBE_OK, nothing added). */
enum kube_err kc_load_file(struct kc_set *set, const char *path, bool missing_ok, char *errbuf, size_t errlen);

#endif
