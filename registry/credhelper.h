/* Docker credential helpers (`docker-credential-<name> get` for a registry host, bounded in time and output), and a
 * host's credentials from a docker config folder: the file's own or its helper's. */
#ifndef MAC_REGISTRY_CREDHELPER_H
#define MAC_REGISTRY_CREDHELPER_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/credentials.h"
#include "registry/error.h"

#define REG_HELPER_TIMEOUT_MS 10000               /* longest a helper may take (ECR's does a network round trip) */
#define REG_HELPER_OUTPUT_MAX ((size_t)64 * 1024) /* largest answer read */

/* Reads a helper's answer (JSON text of len bytes) into out (cleared first); REG_E_INVALID or REG_E_TOO_LONG. */
enum reg_err reg_credhelper_parse(const char *helper, const char *json, size_t len, struct reg_credentials *out, char *errbuf,
				  size_t errlen);

/*
 * Runs "docker-credential-<helper> get" from PATH with host on stdin and reads
 * its JSON answer into out: Username and Secret, or Secret as the identity
 * token when Username is "<token>". Waits at most timeout_ms and reads at most
 * REG_HELPER_OUTPUT_MAX bytes (the helper is killed past either). Returns
 * REG_OK; REG_E_NOT_FOUND when the helper has nothing for host ("credentials
 * not found"): anonymous access; REG_E_INVALID for a bad helper name or answer;
 * REG_E_TOO_LONG; REG_E_AUTH when the helper cannot be run, fails or times out
 * (its message, never its secrets, in errbuf).
 */
enum reg_err reg_credhelper_get(const char *helper, const char *host, int timeout_ms, struct reg_credentials *out, char *errbuf,
				size_t errlen);

/* Reads DIR/config.json (at most REG_CONFIG_MAX bytes) and calls reg_credentials_parse(); when a helper holds host's
 * credentials, asks it (reg_credhelper_get(), REG_HELPER_TIMEOUT_MS). REG_E_IO when the file cannot be read. */
enum reg_err reg_credentials_load(const char *dir, const char *host, struct reg_credentials *out, char *errbuf, size_t errlen);

#endif
