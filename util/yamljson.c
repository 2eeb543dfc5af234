/* YAML documents as cJSON trees (the JSON-compatible subset Kubernetes manifests and config files use). */
#include "util/yamljson.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/errbuf.h"
#include "util/banned.h"

/* The plain scalars kubectl's YAML decoder (YAML 1.1) reads as booleans; NULL-terminated. */
static const char *const yaml_true_words[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y", NULL};
static const char *const yaml_false_words[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N", NULL};

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++) {
		if (strcmp(s, *words) == 0)
			return true;
	}
	return false;
}

/* A plain scalar as kubectl reads it: null, a YAML 1.1 boolean (yes/no/on/off too), a number, or else a string. */
static cJSON *plain_scalar(const char *s)
{
	char *end = NULL;
	double d;

	if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return cJSON_CreateNull();
	if (is_one_of(s, yaml_true_words))
		return cJSON_CreateTrue();
	if (is_one_of(s, yaml_false_words))
		return cJSON_CreateFalse();
	if ((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+' || *s == '.') && s[1] >= '0' && s[1] <= '9')) {
		d = strtod(s, &end);
		/* "0x1F", "1e", "1_000" and times such as "1:30" stay strings */
		if (end && !*end && !strchr(s, 'x') && !strchr(s, 'X'))
			return cJSON_CreateNumber(d);
	}
	return cJSON_CreateString(s);
}

/* How many nodes convert() may still make: aliases make a node count once per use, so a few bytes can stand for
 * billions of nodes; the budget is a multiple of what the text itself holds. */
struct budget {
	unsigned long left;
	unsigned long limit; /* what it started with */
};

/*
 * Reads the text's events once, before libyaml builds the document (whose
 * loader takes quadratic time on deep nesting): refuses nesting deeper than
 * YAMLJSON_DEPTH_MAX at once, and counts the nodes written in the text.
 */
static bool prescan(const char *text, size_t len, unsigned long *nodes, char *errbuf, size_t errlen)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool ok = true, done = false;
	int depth = 0;

	*nodes = 0;
	if (!yaml_parser_initialize(&parser)) {
		errbuf_set(errbuf, errlen, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			errbuf_set(errbuf, errlen, "line %lu: %s", (unsigned long)parser.problem_mark.line + 1,
				   parser.problem ? parser.problem : "not YAML");
			ok = false;
			break;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > YAMLJSON_DEPTH_MAX + 1) {
				errbuf_set(errbuf, errlen, "line %lu: nested deeper than %d levels", (unsigned long)ev.start_mark.line + 1,
					   YAMLJSON_DEPTH_MAX);
				ok = false;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_ALIAS_EVENT)
			(*nodes)++;
		done = ev.type == YAML_DOCUMENT_END_EVENT || ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

static cJSON *convert(yaml_document_t *doc, yaml_node_t *node, int depth, struct budget *b, char *errbuf, size_t errlen);

/* A sequence node as a JSON array; NULL on failure (errbuf says why, or nothing when out of memory). */
/* NOLINTNEXTLINE(misc-no-recursion) */
static cJSON *convert_sequence(yaml_document_t *doc, yaml_node_t *node, int depth, struct budget *b, char *errbuf, size_t errlen)
{
	cJSON *out = cJSON_CreateArray();

	for (yaml_node_item_t *it = node->data.sequence.items.start; out && it < node->data.sequence.items.top; it++) {
		cJSON *item = convert(doc, yaml_document_get_node(doc, *it), depth + 1, b, errbuf, errlen);
		if (!item || !cJSON_AddItemToArray(out, item)) {
			cJSON_Delete(item);
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

/* A mapping node as a JSON object, its keys plain values (a repeated key: the last one wins, as in Kubernetes'
 * decoder); NULL on failure (errbuf says why, or nothing when out of memory). */
/* NOLINTNEXTLINE(misc-no-recursion) */
static cJSON *convert_mapping(yaml_document_t *doc, yaml_node_t *node, int depth, struct budget *b, char *errbuf, size_t errlen)
{
	cJSON *out = cJSON_CreateObject();

	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; out && p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(doc, p->key);
		cJSON *value;
		if (!key || key->type != YAML_SCALAR_NODE) {
			errbuf_set(errbuf, errlen, "line %lu: a mapping key must be a plain value",
				   (unsigned long)(key ? key->start_mark.line : node->start_mark.line) + 1);
			cJSON_Delete(out);
			return NULL;
		}
		value = convert(doc, yaml_document_get_node(doc, p->value), depth + 1, b, errbuf, errlen);
		cJSON_DeleteItemFromObjectCaseSensitive(out, (const char *)key->data.scalar.value);
		if (!value || !cJSON_AddItemToObject(out, (const char *)key->data.scalar.value, value)) {
			cJSON_Delete(value);
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

/* Recursive over the document's nesting, which is capped at YAMLJSON_DEPTH_MAX; spends one of b per node made. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static cJSON *convert(yaml_document_t *doc, yaml_node_t *node, int depth, struct budget *b, char *errbuf, size_t errlen)
{
	cJSON *out = NULL;

	if (!node)
		return cJSON_CreateNull();
	if (b->left == 0) {
		errbuf_set(errbuf, errlen, "line %lu: aliases expand to more than %lu nodes", (unsigned long)node->start_mark.line + 1,
			   b->limit);
		return NULL;
	}
	b->left--;
	if (depth > YAMLJSON_DEPTH_MAX) {
		errbuf_set(errbuf, errlen, "line %lu: nested deeper than %d levels", (unsigned long)node->start_mark.line + 1,
			   YAMLJSON_DEPTH_MAX);
		return NULL;
	}
	if (node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		out = plain_scalar((const char *)node->data.scalar.value);
	else if (node->type == YAML_SCALAR_NODE)
		out = cJSON_CreateString((const char *)node->data.scalar.value);
	else if (node->type == YAML_SEQUENCE_NODE)
		out = convert_sequence(doc, node, depth, b, errbuf, errlen);
	else if (node->type == YAML_MAPPING_NODE)
		out = convert_mapping(doc, node, depth, b, errbuf, errlen);
	else
		out = cJSON_CreateNull();
	if (!out && errbuf && errlen && !errbuf[0])
		errbuf_set(errbuf, errlen, "out of memory");
	return out;
}

cJSON *yaml_to_json(const char *text, size_t len, char *errbuf, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	cJSON *out = NULL;
	struct budget b;
	unsigned long nodes;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!prescan(text, len, &nodes, errbuf, errlen))
		return NULL;
	b.left = nodes * YAMLJSON_EXPANSION + 1024;
	if (b.left > YAMLJSON_NODES_MAX)
		b.left = YAMLJSON_NODES_MAX;
	b.limit = b.left;
	if (!yaml_parser_initialize(&parser)) {
		errbuf_set(errbuf, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		errbuf_set(errbuf, errlen, "line %lu: %s", (unsigned long)parser.problem_mark.line + 1,
			   parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return NULL;
	}
	if (!yaml_document_get_root_node(&doc))
		errbuf_set(errbuf, errlen, "the document is empty");
	else
		out = convert(&doc, yaml_document_get_root_node(&doc), 0, &b, errbuf, errlen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return out;
}
