/* Unit tests for registry/manifest and the index document: media types, descriptors, attestations, digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry/index.h"
#include "registry/manifest.h"
#include "util/banned.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static char *read_fixture(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 65536);

	snprintf(path, sizeof(path), "tests/fixtures/manifests/%s", name);
	f = fopen(path, "rb");
	if (!f || !buf)
		fail_msg("cannot read %s", path);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static void test_buildkit_index_keeps_attestations(void **state)
{
	struct reg_manifest m;
	char err[REG_ERRBUF_SIZE], *data;
	size_t len;
	(void)state;

	data = read_fixture("buildkit-index.json", &len);
	assert_int_equal(reg_manifest_parse(data, len, NULL, &m, err, sizeof(err)), REG_OK);
	assert_int_equal(m.kind, REG_KIND_INDEX);
	assert_int_equal(m.entry_count, 2);
	assert_true(m.entries[0].has_platform);
	assert_string_equal(m.entries[0].platform.arch, "arm64");
	assert_string_equal(m.entries[0].platform.variant, ""); /* arm64/v8 normalised */
	assert_false(m.entries[1].has_platform);
	assert_true(m.entries[1].attestation);
	assert_non_null(strstr(m.entries[1].json, "\"vnd.docker.reference.type\":\"attestation-manifest\""));
	assert_non_null(strstr(m.entries[0].json, "\"variant\":\"v8\"")); /* the entry is kept as written */
	reg_manifest_free(&m);
	free(data);
}

static void test_docker_manifest_blobs(void **state)
{
	struct reg_manifest m;
	char err[REG_ERRBUF_SIZE], *data;
	size_t len;
	(void)state;

	data = read_fixture("docker-v2.json", &len);
	assert_int_equal(reg_manifest_parse(data, len, "application/json", &m, err, sizeof(err)), REG_OK);
	assert_int_equal(m.kind, REG_KIND_IMAGE);
	assert_string_equal(m.media_type, REG_MT_DOCKER_MANIFEST);
	assert_int_equal(m.blob_count, 3);
	assert_int_equal(m.blobs[1].size, 3623807);
	reg_manifest_free(&m);
	reg_manifest_free(NULL);
	free(data);
}

static void test_media_type_from_header_or_shape(void **state)
{
	struct reg_manifest m;
	char err[REG_ERRBUF_SIZE];
	const char *no_mt = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":2},\"layers\":[]}";
	const char *no_mt_index = "{\"schemaVersion\":2,\"manifests\":[]}";
	(void)state;

	assert_int_equal(reg_manifest_parse(no_mt, strlen(no_mt), REG_MT_DOCKER_MANIFEST "; charset=utf-8", &m, err, sizeof(err)), REG_OK);
	assert_string_equal(m.media_type, REG_MT_DOCKER_MANIFEST);
	reg_manifest_free(&m);
	assert_int_equal(reg_manifest_parse(no_mt, strlen(no_mt), NULL, &m, err, sizeof(err)), REG_OK);
	assert_string_equal(m.media_type, REG_MT_OCI_MANIFEST);
	reg_manifest_free(&m);
	assert_int_equal(reg_manifest_parse(no_mt_index, strlen(no_mt_index), NULL, &m, err, sizeof(err)), REG_OK);
	assert_int_equal(m.kind, REG_KIND_INDEX);
	reg_manifest_free(&m);
}

static void expect_refused(const char *json, enum reg_err want, const char *fragment)
{
	struct reg_manifest m;
	char err[REG_ERRBUF_SIZE] = "";

	assert_int_equal(reg_manifest_parse(json, strlen(json), NULL, &m, err, sizeof(err)), want);
	if (!strstr(err, fragment))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", json, err, fragment);
	assert_null(m.entries);
	assert_null(m.blobs);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("[]", REG_E_INVALID, "not a JSON object");
	expect_refused("{\"schemaVersion\":1,\"fsLayers\":[]}", REG_E_UNSUPPORTED, "schema 1");
	expect_refused("{\"schemaVersion\":2,\"mediaType\":\"application/x-other\"}", REG_E_UNSUPPORTED, "unsupported manifest media type");
	expect_refused("{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_OCI_MANIFEST "\",\"config\":{},\"layers\":[]}", REG_E_INVALID,
		       "config 0");
	expect_refused("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:12\",\"size\":1}]}", REG_E_INVALID,
		       "no valid sha256 digest");
	expect_refused("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":-1}]}", REG_E_INVALID,
		       "no valid size");
	expect_refused("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":1}]}", REG_E_INVALID,
		       "has no platform");
	expect_refused("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" D1
		       "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"mips\"}}]}",
		       REG_E_UNSUPPORTED, "unsupported platform linux/mips");
}

static void test_config_platform(void **state)
{
	struct reg_platform p;
	char err[REG_ERRBUF_SIZE], version[64], features[256];
	const char *win = "{\"os\":\"windows\",\"architecture\":\"amd64\",\"os.version\":\"10.0.20348.2582\",\"os.features\":[\"win32k\"]}";
	const char *arm = "{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\",\"config\":{}}";
	(void)state;

	assert_int_equal(reg_config_platform(win, strlen(win), &p, version, sizeof(version), features, sizeof(features), err, sizeof(err)),
			 REG_OK);
	assert_string_equal(p.os, "windows");
	assert_string_equal(version, "10.0.20348.2582");
	assert_string_equal(features, "[\"win32k\"]");
	assert_int_equal(reg_config_platform(arm, strlen(arm), &p, version, sizeof(version), features, sizeof(features), err, sizeof(err)),
			 REG_OK);
	assert_string_equal(p.variant, "v6");
	assert_string_equal(version, "");
	assert_int_equal(reg_config_platform("{}", 2, &p, version, sizeof(version), features, sizeof(features), err, sizeof(err)),
			 REG_E_INVALID);
}

static void test_digests(void **state)
{
	char d[REG_DIGEST_STR_MAX];
	(void)state;

	reg_sha256("", 0, d);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_true(reg_digest_matches(d, "", 0));
	assert_false(reg_digest_matches(d, "x", 1));
	assert_true(
		reg_digest_matches("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877ee"
				   "c2f63b931bd47417a81a538327af927da3e",
				   "", 0));
	assert_false(reg_digest_matches("md5:d41d8cd98f00b204e9800998ecf8427e", "", 0));
}

static void test_index_document_is_exact_and_stable(void **state)
{
	char *entries[] = {"{\"mediaType\":\"m\",\"digest\":\"" D1
			   "\",\"size\":1,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"};
	const char *keys[] = {"org.opencontainers.image.source"}, *values[] = {"https://git.example.com/a"};
	char *a, *b;
	(void)state;

	a = reg_index_document(entries, 1, keys, values, 1);
	b = reg_index_document(entries, 1, keys, values, 1);
	assert_string_equal(a,
			    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":"
			    "\"m\",\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}],"
			    "\"annotations\":{\"org.opencontainers.image.source\":\"https://git.example.com/a\"}}");
	assert_string_equal(a, b);
	free(a);
	free(b);
	a = reg_index_document(entries, 1, NULL, NULL, 0);
	assert_null(strstr(a, "annotations"));
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buildkit_index_keeps_attestations),
		cmocka_unit_test(test_docker_manifest_blobs),
		cmocka_unit_test(test_media_type_from_header_or_shape),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_config_platform),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_index_document_is_exact_and_stable),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
