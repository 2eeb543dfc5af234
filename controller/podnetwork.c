/* Name resolution of build pods and index Jobs: hostAliases and dnsConfig from the builder configuration and, where
 * the operator's policy allows, the build; checked, then carried into every pod spec. */
#include "controller/podnetwork.h"

#include <arpa/inet.h>
#include <string.h>

#include "controller/error.h"
#include "util/jsonget.h"
#include "util/banned.h"

#define DNS_NAME_MAX 253
#define NAMESERVERS_MAX 3
#define SEARCHES_MAX 32
#define OPTIONS_MAX 16

static bool is_address(const char *text)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

/* A DNS name as hosts files and search lists take it: letters, digits, '-', '.', '_', 1 to 253 characters. */
static bool is_dns_name(const char *text)
{
	size_t n = strlen(text);

	if (n == 0 || n > DNS_NAME_MAX || text[0] == '.' || text[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

/* Whether list is an array of at most max strings, each accepted by ok. */
static bool string_list_of(const cJSON *list, int max, bool (*ok)(const char *))
{
	const cJSON *item;

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > max)
		return false;
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsString(item) || !ok(item->valuestring))
			return false;
	}
	return true;
}

static bool host_aliases_check(const cJSON *aliases, const char *where, char *errbuf, size_t errlen)
{
	const cJSON *entry;
	int i = 0;

	if (!cJSON_IsArray(aliases) || cJSON_GetArraySize(aliases) > CTL_HOST_ALIASES_MAX) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s.hostAliases must be a list of at most %d entries", where, CTL_HOST_ALIASES_MAX);
		return false;
	}
	cJSON_ArrayForEach(entry, aliases) {
		const char *ip = json_str_at(entry, "ip", NULL);
		const cJSON *names = cJSON_GetObjectItemCaseSensitive(entry, "hostnames");
		if (!cJSON_IsObject(entry) || cJSON_GetArraySize(entry) != 2 || !ip || !is_address(ip) ||
		    !string_list_of(names, CTL_ALIAS_HOSTNAMES_MAX, is_dns_name) || cJSON_GetArraySize(names) == 0) {
			ctl_fail(errbuf, errlen, CTL_E_INVALID,
				 "%s.hostAliases[%d] must be {ip: an IPv4 or IPv6 address, hostnames: [1 to %d DNS names]}", where, i,
				 CTL_ALIAS_HOSTNAMES_MAX);
			return false;
		}
		i++;
	}
	return true;
}

static bool dns_options_check(const cJSON *options)
{
	const cJSON *o, *member;

	if (!cJSON_IsArray(options) || cJSON_GetArraySize(options) > OPTIONS_MAX)
		return false;
	cJSON_ArrayForEach(o, options) {
		if (!cJSON_IsObject(o) || !json_str_at(o, "name", NULL) || !is_dns_name(json_str_at(o, "name", NULL)))
			return false;
		cJSON_ArrayForEach(member, o) {
			if (!cJSON_IsString(member) || (strcmp(member->string, "name") != 0 && strcmp(member->string, "value") != 0))
				return false;
		}
	}
	return true;
}

static bool dns_config_check(const cJSON *dns, const char *where, char *errbuf, size_t errlen)
{
	const cJSON *member;

	if (!cJSON_IsObject(dns)) {
		ctl_fail(errbuf, errlen, CTL_E_INVALID, "%s.dnsConfig must be a mapping", where);
		return false;
	}
	cJSON_ArrayForEach(member, dns) {
		bool ok = false;
		if (strcmp(member->string, "nameservers") == 0)
			ok = string_list_of(member, NAMESERVERS_MAX, is_address);
		else if (strcmp(member->string, "searches") == 0)
			ok = string_list_of(member, SEARCHES_MAX, is_dns_name);
		else if (strcmp(member->string, "options") == 0)
			ok = dns_options_check(member);
		if (!ok) {
			ctl_fail(errbuf, errlen, CTL_E_INVALID,
				 "%s.dnsConfig.%s: only nameservers (at most %d addresses), searches (at most %d DNS names) and options "
				 "(at most %d {name, value}) may be set",
				 where, member->string, NAMESERVERS_MAX, SEARCHES_MAX, OPTIONS_MAX);
			return false;
		}
	}
	return true;
}

bool ctl_pod_network_check(const cJSON *host_aliases, const cJSON *dns_config, const char *where, char *errbuf, size_t errlen)
{
	return (!host_aliases || host_aliases_check(host_aliases, where, errbuf, errlen)) &&
	       (!dns_config || dns_config_check(dns_config, where, errbuf, errlen));
}

void ctl_pod_network_apply(struct json_builder *d, cJSON *pod_spec, const cJSON *build, const cJSON *host_aliases, const cJSON *dns_config)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(build, "spec"), *entry;
	const cJSON *lists[] = {host_aliases, cJSON_GetObjectItemCaseSensitive(spec, "hostAliases")};
	const cJSON *dns = cJSON_GetObjectItemCaseSensitive(spec, "dnsConfig");
	cJSON *aliases = NULL;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		cJSON_ArrayForEach(entry, lists[i]) {
			if (!aliases)
				aliases = jb_array_in(d, pod_spec, "hostAliases");
			jb_append(d, aliases, cJSON_Duplicate(entry, true));
		}
	}
	jb_put_copy(d, pod_spec, "dnsConfig", dns ? dns : dns_config);
}
