/* YAML documents as cJSON trees (the JSON-compatible subset Kubernetes manifests and config files use). */
#ifndef MAC_UTIL_YAMLJSON_H
#define MAC_UTIL_YAMLJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define YAMLJSON_DEPTH_MAX 64
#define YAMLJSON_EXPANSION 16        /* aliases may make a document at most this many times the nodes its text holds */
#define YAMLJSON_NODES_MAX 4000000UL /* and never more nodes than this */

/*
 * Parses the first document of text (len bytes; JSON is YAML too) into a new
 * cJSON tree. Plain scalars become null, booleans and numbers by the YAML
 * core schema (null ~ true false, decimal integers and floats); quoted
 * scalars stay strings; anchors and aliases are resolved. Returns NULL with a
 * one-line reason in errbuf (with the line) when it is not YAML, nests deeper
 * than YAMLJSON_DEPTH_MAX, or memory runs out.
 */
cJSON *yaml_to_json(const char *text, size_t len, char *errbuf, size_t errlen);

#endif
