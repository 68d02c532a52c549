/*
 * test_manifest.c — unit tests of Packer manifest import (SPEC §7,
 * src/store/manifest.c): the shapes Packer writes (amazon-ebs in several
 * regions, several builders in one run, appended runs of which only the
 * last counts, docker, googlecompute, custom_data parent, source_image,
 * region and labels), and a corpus of broken manifests, each refused with
 * its errno and without changing a byte of the registry.
 *
 * The sample manifests live in tests/data/manifests/ (found through
 * LINEAGE_TEST_DATA, or beside this source file).
 */
#include "regfix.h"

/* ------------------------------------------------------------- helpers */

static char *
data_path(const char *name)
{
	static char p[1024];
	const char *dir = getenv("LINEAGE_TEST_DATA");

	if (dir)
		snprintf(p, sizeof(p), "%s/manifests/%s", dir, name);
	else {
		/* __FILE__ is this file as the compiler saw it, relative to
		 * the build directory the tests run in. */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;

		snprintf(p, sizeof(p), "%.*s/../data/manifests/%s", n,
		    slash ? __FILE__ : ".", name);
	}
	return p;
}

static char *
slurp(const char *name, size_t *len)
{
	struct lin_buf b;
	char chunk[4096];
	FILE *f = fopen(data_path(name), "r");
	size_t n;

	ck_assert_msg(f != NULL, "open %s", data_path(name));
	lin_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		lin_buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return lin_buf_steal(&b);
}

/* Import a sample file; returns the errno result, the path in *path. */
static int
import_file(int64_t bucket, const char *name, char **path)
{
	size_t len;
	char *json = slurp(name, &len), *p = NULL;
	int rc;

	memset(&E, 0, sizeof(E));
	rc = lin_manifest_import(R, &A, bucket, json, len, &p, &E);
	free(json);
	if (path)
		*path = p;
	else
		free(p);
	return rc;
}

static char *
import_ok(int64_t bucket, const char *name)
{
	char *path;

	ck_assert_msg(import_file(bucket, name, &path) == 0, "import %s: %s",
	    name, E.msg);
	return path;
}

static int
import_text(int64_t bucket, const char *json)
{
	char *p = NULL;
	int rc;

	memset(&E, 0, sizeof(E));
	rc = lin_manifest_import(R, &A, bucket, json, strlen(json), &p, &E);
	free(p);
	return rc;
}

static struct lin_iteration
iteration(int64_t bucket, const char *fp)
{
	struct lin_iteration it;

	ck_assert_msg(lin_iteration_by_fingerprint(R, bucket, fp, &it, &E) ==
	    0, "no iteration %s: %s", fp, E.msg);
	return it;
}

static int64_t
build_id(int64_t it, const char *name)
{
	struct lin_build b;

	ck_assert_msg(lin_build_by_name(R, it, name, &b, &E) == 0,
	    "no build %s: %s", name, E.msg);
	return b.id;
}

static char *
build_value(int64_t build, enum lin_build_field f)
{
	static char v[LIN_VALUE_MAX + 1];
	char *s;

	ck_assert_int_eq(lin_build_value(R, build, f, &s, &E), 0);
	snprintf(v, sizeof(v), "%s", s);
	free(s);
	return v;
}

static const char *
artifact(int64_t build, const char *region)
{
	static struct lin_artifact a;

	if (lin_artifact_by_region(R, build, region, &a, NULL) != 0)
		return NULL;
	return a.external_id;
}

static const char *
label(int64_t build, const char *key)
{
	static char v[LIN_VALUE_MAX + 1];
	struct lin_label l;
	char *s;

	if (lin_label_get(R, LIN_OWNER_BUILD, build, key, &l, &s, NULL) != 0)
		return NULL;
	snprintf(v, sizeof(v), "%s", s);
	free(s);
	return v;
}

static int
count_cb(void *ctx, const struct lin_entry *ent)
{
	(void)ent;
	(*(int *)ctx)++;
	return 0;
}

static int
n_builds(int64_t it)
{
	int n = 0;

	ck_assert_int_eq(lin_build_list(R, it, 0, count_cb, &n, &E), 0);
	return n;
}

static int
n_artifacts(int64_t build)
{
	int n = 0;

	ck_assert_int_eq(lin_artifact_list(R, build, 0, count_cb, &n, &E), 0);
	return n;
}

static char *
export_now(void)
{
	struct lin_buf b;

	lin_buf_init(&b);
	ck_assert_msg(lin_export(R, &b, &E) == 0, "export: %s", E.msg);
	return lin_buf_steal(&b);
}

struct links {
	int             n;
	struct lin_link l[8];
};

static int
link_cb(void *ctx, const struct lin_link *l)
{
	struct links *ls = ctx;

	if (ls->n < 8)
		ls->l[ls->n] = *l;
	ls->n++;
	return 0;
}

static struct links
parents_of(int64_t it)
{
	struct links ls = { 0 };

	ck_assert_int_eq(lin_parent_links(R, it, link_cb, &ls, &E), 0);
	return ls;
}

/* --------------------------------------------------------------- shapes */

START_TEST(amazon_regions)
{
	int64_t base = fx_bucket("base"), b;
	char *path = import_ok(base, "amazon-ebs-regions.json");
	struct lin_iteration it;

	ck_assert_str_eq(path,
	    "buckets/base/iterations/3f9b2a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
	free(path);
	it = iteration(base, "3f9b2a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
	ck_assert_int_eq(it.version, 1);
	ck_assert_int_ne(it.completed, 0);
	ck_assert_int_eq(it.status, LIN_STATUS_ACTIVE);
	ck_assert_int_eq(n_builds(it.id), 1);
	b = build_id(it.id, "amazon-ebs.ubuntu");
	ck_assert_str_eq(build_value(b, LIN_BUILD_PLATFORM), "aws");
	ck_assert_str_eq(build_value(b, LIN_BUILD_SOURCE), "");
	ck_assert_int_eq(n_artifacts(b), 3);
	ck_assert_str_eq(artifact(b, "us-east-1"), "ami-0a1b2c3d4e5f60718");
	ck_assert_str_eq(artifact(b, "us-west-2"), "ami-0f1e2d3c4b5a69788");
	ck_assert_str_eq(artifact(b, "eu-west-1"), "ami-09a8b7c6d5e4f3021");
	ck_assert_str_eq(label(b, "os"), "ubuntu");
	ck_assert_str_eq(label(b, "os_version"), "24.04");
	ck_assert_int_eq(fx_count_events("action=import", "bucket=base",
	    "builds=1"), 1);
	ck_assert_str_eq(fx_channel(base, "latest"),
	    "3f9b2a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
}
END_TEST

START_TEST(several_builders)
{
	int64_t b = fx_bucket("base"), id;
	struct lin_iteration it;

	free(import_ok(b, "multi-builder.json"));
	/* custom_data.fingerprint outranks last_run_uuid */
	it = iteration(b, "base-2026.11.25");
	ck_assert_int_eq(n_builds(it.id), 4);

	/* name equal to the builder type stays as it is */
	id = build_id(it.id, "amazon-ebs");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "aws");
	ck_assert_str_eq(artifact(id, "us-east-1"), "ami-0123456789abcdef0");

	id = build_id(it.id, "azure-arm");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "azure");
	ck_assert_int_eq(n_artifacts(id), 1);
	ck_assert_str_eq(artifact(id, "westeurope"), "/subscriptions/"
	    "8f2b1c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d/resourceGroups/images/"
	    "providers/Microsoft.Compute/images/base-2026.11.25");

	id = build_id(it.id, "googlecompute.gce");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "gce");
	ck_assert_str_eq(artifact(id, "us-central1"), "base-2026-11-25-1730");

	id = build_id(it.id, "docker");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "docker");
	ck_assert_str_eq(artifact(id, "global"), "sha256:4a3f1e2d5c6b7a8f9e0d1"
	    "c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f");
	/* reserved keys are not labels */
	ck_assert_ptr_null(label(id, "fingerprint"));
	ck_assert_ptr_null(label(build_id(it.id, "azure-arm"), "region"));
	ck_assert_int_eq(fx_count_events("action=import", "builds=4", NULL),
	    1);
}
END_TEST

START_TEST(last_run_only)
{
	int64_t b = fx_bucket("web");
	struct lin_iteration it;
	int64_t id;

	free(import_ok(b, "appended-runs.json"));
	it = iteration(b, "33333333-3333-4333-8333-333333333333");
	ck_assert_int_eq(n_builds(it.id), 2);
	id = build_id(it.id, "amazon-ebs.web");
	ck_assert_int_eq(n_artifacts(id), 2);
	ck_assert_str_eq(artifact(id, "us-east-1"), "ami-0ccccccccccccccc1");
	ck_assert_str_eq(artifact(id, "eu-central-1"), "ami-0ccccccccccccccc2");
	ck_assert_str_eq(label(id, "git_sha"), "9f8e7d6");
	id = build_id(it.id, "docker.web");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "docker");
	/* nothing of the earlier runs */
	ck_assert_int_ne(lin_build_by_name(R, it.id, "amazon-ebs.web-old", NULL,
	    NULL), 0);
	ck_assert_int_ne(lin_artifact_by_external_id(R, "ami-0aaaaaaaaaaaaaaa1",
	    NULL, NULL), 0);
	ck_assert_int_ne(lin_artifact_by_external_id(R, "ami-0bbbbbbbbbbbbbbb1",
	    NULL, NULL), 0);
	ck_assert_int_ne(lin_iteration_by_fingerprint(R, b,
	    "11111111-1111-4111-8111-111111111111", NULL, NULL), 0);
}
END_TEST

START_TEST(no_run_matches_takes_all)
{
	int64_t b = fx_bucket("lab");
	struct lin_iteration it;
	int64_t id;

	free(import_ok(b, "legacy-no-run-match.json"));
	it = iteration(b, "00000000-0000-4000-8000-000000000000");
	ck_assert_int_eq(n_builds(it.id), 2);
	id = build_id(it.id, "qemu");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "qemu");
	ck_assert_str_eq(artifact(id, "global"), "base.qcow2");
	id = build_id(it.id, "vsphere-iso.vsphere");
	ck_assert_str_eq(build_value(id, LIN_BUILD_PLATFORM), "vsphere-iso");
	ck_assert_str_eq(artifact(id, "dc1"), "base-template-20261125");
}
END_TEST

START_TEST(docker_and_gce)
{
	int64_t b = fx_bucket("apps");
	struct lin_iteration it;
	int64_t id;

	free(import_ok(b, "docker.json"));
	it = iteration(b, "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d");
	id = build_id(it.id, "docker.app");
	ck_assert_str_eq(artifact(id, "global"), "sha256:9b2c7e1d0f3a4b5c6d7e"
	    "8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c");
	ck_assert_str_eq(label(id, "image"), "registry.example.com/app");
	ck_assert_str_eq(label(id, "tag"), "1.4.2");

	free(import_ok(b, "googlecompute.json"));
	it = iteration(b, "debian-12-20261125");
	ck_assert_int_eq(it.version, 2);
	id = build_id(it.id, "googlecompute.debian");
	ck_assert_str_eq(artifact(id, "europe-west4"),
	    "debian-12-base-20261125");
	/* values that are not strings keep their JSON text */
	ck_assert_str_eq(label(id, "cis_level"), "2");
	ck_assert_str_eq(label(id, "hardened"), "true");
}
END_TEST

START_TEST(parent_and_source)
{
	int64_t base = fx_bucket("base"), api = fx_bucket("api");
	struct lin_iteration bi, ai;
	struct links ls;
	int64_t id;

	free(import_ok(base, "amazon-ebs-regions.json"));
	bi = iteration(base, "3f9b2a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
	fx_assign(base, "production", bi.fingerprint);

	free(import_ok(api, "child-of-base.json"));
	ai = iteration(api, "api-1.8.0");
	/* parent through the channel and source_image name one iteration:
	 * one link, with the channel recorded */
	ls = parents_of(ai.id);
	ck_assert_int_eq(ls.n, 1);
	ck_assert_int_eq(ls.l[0].parent_id, bi.id);
	ck_assert_str_eq(ls.l[0].channel, "production");
	ck_assert_int_eq(ls.l[0].status, LIN_LINK_UP_TO_DATE);
	id = build_id(ai.id, "amazon-ebs.api");
	ck_assert_str_eq(build_value(id, LIN_BUILD_SOURCE),
	    "ami-0a1b2c3d4e5f60718");
	ck_assert_str_eq(label(id, "team"), "payments");
	ck_assert_str_eq(label(id, "service_version"), "1.8.0");
	ck_assert_ptr_null(label(id, "parent"));
	ck_assert_ptr_null(label(id, "source_image"));
}
END_TEST

START_TEST(untracked_source)
{
	int64_t b = fx_bucket("market");
	struct lin_iteration it;
	struct links ls;
	int64_t id;

	free(import_ok(b, "untracked-source.json"));
	it = iteration(b, "d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f80");
	/* a name that starts with the builder type is kept */
	id = build_id(it.id, "amazon-ebs-marketplace");
	ck_assert_str_eq(build_value(id, LIN_BUILD_SOURCE),
	    "ami-0099887766554433a");
	ls = parents_of(it.id);
	ck_assert_int_eq(ls.n, 1);
	ck_assert_int_eq(ls.l[0].parent_id, 0);
	ck_assert_str_eq(ls.l[0].source, "ami-0099887766554433a");
}
END_TEST

START_TEST(source_links_parent)
{
	int64_t base = fx_bucket("base"), svc = fx_bucket("svc");
	const char *json = "{\"builds\":[{\"name\":\"svc\","
	    "\"builder_type\":\"amazon-ebs\","
	    "\"artifact_id\":\"us-east-1:ami-0svc\","
	    "\"packer_run_uuid\":\"run-1\","
	    "\"custom_data\":{\"source_image\":\"ami-0f1e2d3c4b5a69788\","
	    "\"replicas\":3.5,\"tags\":[\"a\",\"b\"],\"extra\":{\"k\":\"v\"},"
	    "\"nothing\":null,\"off\":false}}],\"last_run_uuid\":\"run-1\"}";
	struct lin_iteration bi, si;
	struct links ls;
	int64_t id;

	free(import_ok(base, "amazon-ebs-regions.json"));
	bi = iteration(base, "3f9b2a4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
	ck_assert_msg(import_text(svc, json) == 0, "import: %s", E.msg);
	si = iteration(svc, "run-1");
	ls = parents_of(si.id);
	ck_assert_int_eq(ls.n, 1);
	ck_assert_int_eq(ls.l[0].parent_id, bi.id);
	ck_assert_str_eq(ls.l[0].channel, "");
	id = build_id(si.id, "amazon-ebs.svc");
	ck_assert_str_eq(label(id, "replicas"), "3.5");
	ck_assert_str_eq(label(id, "tags"), "[\"a\",\"b\"]");
	ck_assert_str_eq(label(id, "extra"), "{\"k\":\"v\"}");
	ck_assert_str_eq(label(id, "nothing"), "null");
	ck_assert_str_eq(label(id, "off"), "false");
}
END_TEST

START_TEST(parent_by_path_twice)
{
	int64_t base = fx_bucket("base"), svc = fx_bucket("svc");
	/* two builds of one run name one parent, by path and by version */
	const char *json = "{\"builds\":["
	    "{\"name\":\"a\",\"builder_type\":\"docker\",\"artifact_id\":\"x1\","
	    "\"custom_data\":{\"parent\":\"base/iterations/fp1\"}},"
	    "{\"name\":\"b\",\"builder_type\":\"docker\",\"artifact_id\":\"x2\","
	    "\"custom_data\":{\"parent\":\"buckets/base/versions/v1\"}}],"
	    "\"last_run_uuid\":\"r2\"}";
	struct links ls;

	fx_active(base, "fp1");
	ck_assert_msg(import_text(svc, json) == 0, "import: %s", E.msg);
	ls = parents_of(iteration(svc, "r2").id);
	ck_assert_int_eq(ls.n, 1);
	ck_assert_str_eq(ls.l[0].fingerprint, "fp1");
}
END_TEST

START_TEST(versions_follow)
{
	int64_t b = fx_bucket("apps");
	char *p;

	fx_active(b, "first");
	p = import_ok(b, "docker.json");
	ck_assert_int_eq(iteration(b, "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")
	    .version, 2);
	free(p);
	ck_assert_int_eq(import_file(b, "docker.json", NULL), -EEXIST);
	ck_assert_str_eq(E.msg, "fingerprint a0b1c2d3-e4f5-4a6b-8c7d-"
	    "9e0f1a2b3c4d already exists in bucket apps");
}
END_TEST

START_TEST(readonly_refused)
{
	struct lin_reg *ro;
	size_t len;
	char *json = slurp("docker.json", &len), *p = NULL;
	int64_t b = fx_bucket("apps");

	ck_assert_int_eq(lin_reg_open(regpath, LIN_OPEN_RDONLY, &ro, &E), 0);
	ck_assert_int_eq(lin_manifest_import(ro, &A, b, json, len, &p, &E),
	    -EROFS);
	ck_assert_ptr_null(p);
	lin_reg_close(ro);
	free(json);
}
END_TEST

/* ------------------------------------------------------ broken manifests */

#define BUILD(name, type, art, cd) \
	"{\"name\":" name ",\"builder_type\":" type ",\"artifact_id\":" art \
	",\"packer_run_uuid\":\"r\",\"custom_data\":" cd "}"
#define RUN(builds) "{\"builds\":[" builds "],\"last_run_uuid\":\"r\"}"
#define AWS(art) RUN(BUILD("\"web\"", "\"amazon-ebs\"", art, "{}"))
#define DOCKER_CD(cd) RUN(BUILD("\"web\"", "\"docker\"", "\"sha256:1\"", cd))

static char long_name[300], long_value[2100], long_fp[42], nul_doc[64];

static const struct broken {
	const char *why;
	const char *json;
	int         err;
} broken[] = {
	{ "empty", "", EINVAL },
	{ "truncated", "{\"builds\":[", EINVAL },
	{ "trailing garbage", RUN("") " x", EINVAL },
	{ "an array", "[]", EINVAL },
	{ "a null", "null", EINVAL },
	{ "builds an object", "{\"builds\":{},\"last_run_uuid\":\"r\"}",
	    EINVAL },
	{ "no builds", RUN(""), EINVAL },
	{ "builds missing", "{\"last_run_uuid\":\"r\"}", EINVAL },
	{ "a build not an object", RUN("42"), EINVAL },
	{ "no name", RUN("{\"builder_type\":\"docker\",\"artifact_id\":\"x\"}"),
	    EINVAL },
	{ "name a number", RUN(BUILD("7", "\"docker\"", "\"x\"", "{}")),
	    EINVAL },
	{ "no builder_type", RUN("{\"name\":\"a\",\"artifact_id\":\"x\"}"),
	    EINVAL },
	{ "empty builder_type", RUN(BUILD("\"a\"", "\"\"", "\"x\"", "{}")),
	    EINVAL },
	{ "no artifact_id", RUN("{\"name\":\"a\",\"builder_type\":\"docker\"}"),
	    EINVAL },
	{ "artifact_id a list", RUN(BUILD("\"a\"", "\"docker\"", "[\"x\"]",
	    "{}")), EINVAL },
	{ "empty artifact_id", AWS("\"\""), EINVAL },
	{ "aws without region", AWS("\"ami-0123\""), EINVAL },
	{ "aws without id", AWS("\"us-east-1:\""), EINVAL },
	{ "aws without region name", AWS("\":ami-1\""), EINVAL },
	{ "aws empty pair", AWS("\"us-east-1:ami-1,,us-west-2:ami-2\""),
	    EINVAL },
	{ "aws trailing comma", AWS("\"us-east-1:ami-1,\""), EINVAL },
	{ "aws region twice", AWS("\"us-east-1:ami-1,us-east-1:ami-2\""),
	    EINVAL },
	{ "aws bad region", AWS("\".hidden:ami-1\""), EINVAL },
	{ "region with a space", DOCKER_CD("{\"region\":\"eu west\"}"), EINVAL },
	{ "region a number", DOCKER_CD("{\"region\":5}"), EINVAL },
	{ "build name with a space", RUN(BUILD("\"my build\"", "\"docker\"",
	    "\"x\"", "{}")), EINVAL },
	{ "build name too long", NULL, EINVAL },		/* long_name */
	{ "bad fingerprint", DOCKER_CD("{\"fingerprint\":\"-bad-\"}"), EINVAL },
	{ "fingerprint too long", NULL, EINVAL },		/* long_fp */
	{ "fingerprint a number", DOCKER_CD("{\"fingerprint\":12}"), EINVAL },
	{ "existing fingerprint", DOCKER_CD("{\"fingerprint\":\"taken\"}"),
	    EEXIST },
	{ "custom_data a string", DOCKER_CD("\"x\""), EINVAL },
	{ "parent a number", DOCKER_CD("{\"parent\":1}"), EINVAL },
	{ "parent names nothing",
	    DOCKER_CD("{\"parent\":\"buckets/base/iterations/nope\"}"), ENOENT },
	{ "parent not a path", DOCKER_CD("{\"parent\":\"somewhere\"}"),
	    EINVAL },
	{ "parent is incomplete",
	    DOCKER_CD("{\"parent\":\"buckets/base/iterations/running\"}"),
	    0 /* see below: allowed or not, nothing half-made */ },
	{ "label value too long", NULL, EFBIG },		/* long_value */
	{ "label key with a space", DOCKER_CD("{\"os version\":\"1\"}"),
	    EINVAL },
	{ "label key with a dot first", DOCKER_CD("{\".os\":\"1\"}"), EINVAL },
	{ "label value with a control character",
	    DOCKER_CD("{\"os\":\"a\\u0001b\"}"), EINVAL },
	{ "no fingerprint at all", "{\"builds\":[" BUILD("\"a\"", "\"docker\"",
	    "\"x\"", "{}") "]}", EINVAL },
	{ "last_run_uuid a number", "{\"builds\":[" BUILD("\"a\"",
	    "\"docker\"", "\"x\"", "{}") "],\"last_run_uuid\":4}", EINVAL },
	{ "builds disagree on the fingerprint", RUN(
	    BUILD("\"a\"", "\"docker\"", "\"x\"", "{\"fingerprint\":\"f1\"}") ","
	    BUILD("\"b\"", "\"docker\"", "\"y\"", "{\"fingerprint\":\"f2\"}")),
	    EINVAL },
	{ "one build twice", RUN(BUILD("\"a\"", "\"docker\"", "\"x\"", "{}") ","
	    BUILD("\"a\"", "\"docker\"", "\"y\"", "{}")), EINVAL },
	{ "build_time a string", RUN("{\"name\":\"a\",\"builder_type\":"
	    "\"docker\",\"artifact_id\":\"x\",\"build_time\":\"now\"}"),
	    EINVAL },
	{ "files an object", RUN("{\"name\":\"a\",\"builder_type\":\"docker\","
	    "\"artifact_id\":\"x\",\"files\":{}}"), EINVAL },
	{ "artifact id too long", NULL, EFBIG },		/* long_value */
	{ "a NUL inside", NULL, EINVAL },			/* nul_doc */
	{ "artifact id with a newline inside", AWS("\"us-east-1:ami\\n1\""),
	    EINVAL },
};
#define NBROKEN (sizeof(broken) / sizeof(broken[0]))

/* The documents too long to write as literals. */
static const char *
broken_json(size_t i, size_t *len)
{
	static struct lin_buf doc;
	const char *why = broken[i].why;

	lin_buf_free(&doc);
	lin_buf_init(&doc);
	*len = broken[i].json ? strlen(broken[i].json) : 0;
	if (broken[i].json)
		return broken[i].json;
	memset(long_name, 'n', sizeof(long_name) - 1);
	memset(long_value, 'v', sizeof(long_value) - 1);
	memset(long_fp, 'f', sizeof(long_fp) - 1);
	if (strcmp(why, "build name too long") == 0)
		lin_buf_printf(&doc, RUN(BUILD("\"%s\"", "\"docker\"", "\"x\"",
		    "{}")), long_name);
	else if (strcmp(why, "fingerprint too long") == 0)
		lin_buf_printf(&doc, DOCKER_CD("{\"fingerprint\":\"%s\"}"),
		    long_fp);
	else if (strcmp(why, "label value too long") == 0)
		lin_buf_printf(&doc, DOCKER_CD("{\"os\":\"%s\"}"), long_value);
	else if (strcmp(why, "artifact id too long") == 0)
		lin_buf_printf(&doc, RUN(BUILD("\"a\"", "\"docker\"", "\"%s\"",
		    "{}")), long_value);
	else {
		/* "a NUL inside": a valid manifest with a NUL in the middle */
		snprintf(nul_doc, sizeof(nul_doc), "%s", RUN(""));
		*len = strlen(nul_doc) + 1;
		return nul_doc;
	}
	*len = doc.len;
	return doc.data;
}

static void
broken_setup(void)
{
	int64_t b;

	fx_setup();
	b = fx_bucket("base");
	fx_active(b, "taken");
	fx_running(b, "running");
}

START_TEST(broken_refused)
{
	int64_t b;
	char *before, *after, *path = (char *)"untouched";
	const char *json;
	size_t len;
	int rc;

	ck_assert_int_eq(lin_bucket_by_name(R, "base", NULL, &E), 0);
	{
		struct lin_bucket bk;

		lin_bucket_by_name(R, "base", &bk, &E);
		b = bk.id;
	}
	before = export_now();
	json = broken_json((size_t)_i, &len);
	memset(&E, 0, sizeof(E));
	rc = lin_manifest_import(R, &A, b, json, len, &path, &E);
	if (broken[_i].err == 0) {
		/* A parent that is still running: whatever the ancestry rules
		 * say, a refusal leaves nothing. */
		if (rc == 0)
			goto out;
	} else
		ck_assert_msg(rc == -broken[_i].err, "%s: got %d (%s), want %s",
		    broken[_i].why, rc, E.msg,
		    lin_errno_name(broken[_i].err));
	ck_assert_int_eq(E.code, -rc);
	ck_assert_msg(E.msg[0] != '\0', "%s: no message", broken[_i].why);
	ck_assert_ptr_null(path);
	after = export_now();
	ck_assert_msg(strcmp(before, after) == 0, "%s changed the registry",
	    broken[_i].why);
	free(after);
out:
	free(before);
	free(path == NULL || strcmp(path, "untouched") == 0 ? NULL : path);
}
END_TEST

START_TEST(no_bucket)
{
	char *p = NULL;
	const char *json = DOCKER_CD("{}");

	ck_assert_int_eq(lin_manifest_import(R, &A, 9999, json, strlen(json),
	    &p, &E), -ENOENT);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(revoked_parent)
{
	int64_t base = fx_bucket("base"), svc = fx_bucket("svc"), id;
	const char *line = "CVE-2026-0001: openssl";
	char *before, *after;

	id = fx_active(base, "old");
	ck_assert_int_eq(lin_revoke(R, &A, id, line, strlen(line), &E), 0);
	before = export_now();
	ck_assert_int_eq(import_text(svc, DOCKER_CD(
	    "{\"parent\":\"buckets/base/iterations/old\"}")), -EKEYREVOKED);
	after = export_now();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

static Suite *
manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("shapes");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, amazon_regions);
	tcase_add_test(tc, several_builders);
	tcase_add_test(tc, last_run_only);
	tcase_add_test(tc, no_run_matches_takes_all);
	tcase_add_test(tc, docker_and_gce);
	tcase_add_test(tc, parent_and_source);
	tcase_add_test(tc, untracked_source);
	tcase_add_test(tc, source_links_parent);
	tcase_add_test(tc, parent_by_path_twice);
	tcase_add_test(tc, versions_follow);
	tcase_add_test(tc, readonly_refused);
	tcase_add_test(tc, no_bucket);
	tcase_add_test(tc, revoked_parent);
	suite_add_tcase(s, tc);

	tc = tcase_create("broken");
	tcase_add_checked_fixture(tc, broken_setup, fx_teardown);
	tcase_add_loop_test(tc, broken_refused, 0, (int)NBROKEN);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
