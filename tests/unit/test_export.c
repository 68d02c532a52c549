/*
 * test_export.c — unit tests of the registry as a JSON document
 * (src/store/export.c): a rich registry (labels, ancestry across buckets,
 * revocations explicit, inherited and scheduled, restores, channel
 * history, deletions) exported, loaded into a new registry and exported
 * again must give the same bytes; ids and AUTOINCREMENT counters survive;
 * and a document that is not a faithful export is refused whole.
 */
#include "regfix.h"

static char *
export_of(struct lin_reg *r)
{
	struct lin_buf b;
	struct lin_err e = { 0 };

	lin_buf_init(&b);
	ck_assert_msg(lin_export(r, &b, &e) == 0, "export: %s", e.msg);
	return lin_buf_steal(&b);
}

/* A second registry file beside the fixture's. */
static struct lin_reg *
other_open(char *path, size_t len)
{
	struct lin_reg *r;
	struct lin_err e = { 0 };

	snprintf(path, len, "%s-other", regpath);
	unlink(path);
	ck_assert_msg(lin_reg_open(path, 0, &r, &e) == 0, "open: %s", e.msg);
	return r;
}

static void
other_close(struct lin_reg *r, const char *path)
{
	char p[128];

	lin_reg_close(r);
	unlink(path);
	ck_assert_int_lt(snprintf(p, sizeof(p), "%s-wal", path), sizeof(p));
	unlink(p);
	ck_assert_int_lt(snprintf(p, sizeof(p), "%s-shm", path), sizeof(p));
	unlink(p);
}

static void
revoke_line(int64_t id, const char *line)
{
	ck_assert_msg(lin_revoke(R, &A, id, line, strlen(line), &E) == 0,
	    "revoke: %s", E.msg);
}

/* Everything the registry can hold, including rows that were deleted
 * (so counters run ahead of the highest id). */
static void
rich_registry(void)
{
	int64_t base = fx_bucket("base"), rt = fx_bucket("python-runtime");
	int64_t api = fx_bucket("api"), b1, b2, b3, r1, r2, a1, a2, gone;
	struct lin_build bd;
	const char *d = "Golden base image\nwith \"quotes\", tabs\tand é";

	ck_assert_int_eq(lin_bucket_set_description(R, &A, base, d, strlen(d),
	    &E), 0);
	ck_assert_int_eq(lin_label_set(R, &A, LIN_OWNER_BUCKET, base, "team",
	    "platform", 8, NULL, &E), 0);
	ck_assert_int_eq(lin_label_set(R, &A, LIN_OWNER_BUCKET, api, "empty",
	    "", 0, NULL, &E), 0);
	b1 = fx_active(base, "b1");
	b2 = fx_active(base, "b2");
	b3 = fx_active(base, "b3");
	fx_assign(base, "production", "b1");
	fx_assign(base, "staging", "b2");

	/* a runtime built from base's production channel (b1, which moves on
	 * afterwards), with a build label and a source */
	r1 = fx_running(rt, "r1");
	fx_link(r1, "buckets/base/channels/production");
	fx_assign(base, "production", "b2");
	fx_assign(base, "production", "b3");
	ck_assert_int_eq(lin_build_create(R, &A, r1, "docker.python", &bd, &E),
	    0);
	ck_assert_int_eq(lin_build_set(R, &A, bd.id, LIN_BUILD_SOURCE,
	    "ami-1", 5, &E), 0);
	ck_assert_int_eq(lin_label_set(R, &A, LIN_OWNER_BUILD, bd.id,
	    "python", "3.12", 4, NULL, &E), 0);
	ck_assert_int_eq(lin_artifact_set(R, &A, bd.id, "docker.io",
	    "sha256:abc/def%1", 16, NULL, &E), 0);
	ck_assert_int_eq(lin_iteration_complete(R, &A, r1, "1", 1, &E), 0);
	r2 = fx_running(rt, "r2");
	fx_link(r2, "buckets/base/iterations/b2");
	fx_complete(r2);
	fx_assign(rt, "production", "r1");

	a1 = fx_running(api, "a1");
	fx_link(a1, "buckets/python-runtime/versions/v1");
	fx_link(a1, "buckets/base/iterations/b3");
	fx_complete(a1);
	a2 = fx_active(api, "a2");
	fx_assign(api, "production", "a2");

	/* an iteration created and deleted: its ids are never handed out
	 * again, in the restored registry too */
	gone = fx_running(api, "gone");
	ck_assert_int_eq(lin_iteration_delete(R, &A, gone, &E), 0);

	/* revocations: explicit with descendants (inherited by r1, a1),
	 * scheduled, one restored */
	revoke_line(b1, "CVE-2026-1111: openssl in base");
	revoke_line(b3, "in=30d descendants=yes CVE-2026-2222: glibc");
	revoke_line(r2, "descendants=no broken build");
	ck_assert_int_eq(lin_restore(R, &A, r2, "false alarm", 11, &E), 0);
	revoke_line(a2, "in=2h rollback=no retire");
	(void)b2;
}

START_TEST(round_trip_identical)
{
	struct lin_reg *o;
	char path[128], *one, *two, *again;

	rich_registry();
	one = export_of(R);
	again = export_of(R);
	ck_assert_str_eq(one, again);	/* deterministic */
	o = other_open(path, sizeof(path));
	ck_assert_msg(lin_export_load(o, one, strlen(one), &E) == 0,
	    "load: %s", E.msg);
	two = export_of(o);
	ck_assert_str_eq(one, two);
	/* the restored registry is healthy, and answers like the first */
	{
		struct lin_buf rep;
		int n;

		lin_buf_init(&rep);
		n = lin_check(o, &rep, &E);
		ck_assert_msg(n == 0, "check: %d: %s", n, rep.data);
		lin_buf_free(&rep);
	}
	{
		struct lin_bucket b;
		struct lin_channel ch;
		struct lin_iteration it;

		ck_assert_int_eq(lin_bucket_by_name(o, "base", &b, &E), 0);
		ck_assert_int_eq(lin_channel_get(o, b.id, "production", &ch, &E),
		    0);
		ck_assert_str_eq(ch.fingerprint, "b3");
		ck_assert_int_eq(lin_iteration_by_fingerprint(o, b.id, "b1", &it,
		    &E), 0);
		ck_assert_int_eq(it.status, LIN_STATUS_REVOKED);
		ck_assert_int_eq(lin_iteration_by_fingerprint(o, b.id, "b3", &it,
		    &E), 0);
		ck_assert_int_eq(it.status, LIN_STATUS_SCHEDULED);
	}
	other_close(o, path);
	free(one);
	free(two);
	free(again);
}
END_TEST

START_TEST(ids_never_reused)
{
	struct lin_reg *o;
	struct lin_bucket api, nb;
	struct lin_iteration it;
	struct lin_err e = { 0 };
	char path[128], *doc;
	int64_t seq_before;

	rich_registry();
	ck_assert_int_eq(lin_bucket_by_name(R, "api", &api, &E), 0);
	/* the next iteration id in the original */
	it.id = 0;
	ck_assert_int_eq(lin_iteration_create(R, &A, api.id, "probe", &it, &E),
	    0);
	seq_before = it.id;
	ck_assert_int_eq(lin_iteration_delete(R, &A, it.id, &E), 0);
	doc = export_of(R);
	o = other_open(path, sizeof(path));
	ck_assert_int_eq(lin_export_load(o, doc, strlen(doc), &e), 0);
	ck_assert_int_eq(lin_iteration_create(o, &A, api.id, "probe2", &it, &e),
	    0);
	ck_assert_int_gt(it.id, seq_before);
	ck_assert_int_eq(lin_bucket_create(o, &A, "newer", 0755, &nb, &e), 0);
	ck_assert_int_eq(nb.id, 4);
	other_close(o, path);
	free(doc);
}
END_TEST

START_TEST(empty_registry)
{
	struct lin_reg *o;
	char path[128], *one, *two;

	one = export_of(R);
	ck_assert_ptr_nonnull(strstr(one, "\"buckets\":[]"));
	ck_assert_ptr_nonnull(strstr(one, "\"format\":\"lineagefs-export\""));
	o = other_open(path, sizeof(path));
	ck_assert_int_eq(lin_export_load(o, one, strlen(one), &E), 0);
	two = export_of(o);
	ck_assert_str_eq(one, two);
	other_close(o, path);
	free(one);
	free(two);
}
END_TEST

START_TEST(load_needs_empty)
{
	char *doc;

	fx_bucket("base");
	doc = export_of(R);
	ck_assert_int_eq(lin_export_load(R, doc, strlen(doc), &E), -ENOTEMPTY);
	free(doc);
}
END_TEST

/* Replace the first occurrence of from in doc by to. */
static char *
edit(const char *doc, const char *from, const char *to)
{
	const char *at = strstr(doc, from);
	struct lin_buf b;

	ck_assert_msg(at != NULL, "no %s in the export", from);
	lin_buf_init(&b);
	lin_buf_add(&b, doc, (size_t)(at - doc));
	lin_buf_puts(&b, to);
	lin_buf_puts(&b, at + strlen(from));
	return lin_buf_steal(&b);
}

static const struct {
	const char *why, *from, *to;
} bad_edits[] = {
	{ "not JSON", "{\"format\"", "{format" },
	{ "another format", "lineagefs-export", "something-else" },
	{ "a newer schema", "\"schema\":5", "\"schema\":6" },
	{ "an older schema", "\"schema\":5", "\"schema\":3" },
	{ "schema a string", "\"schema\":5", "\"schema\":\"1\"" },
	{ "a table missing", "\"labels\":[", "\"labelz\":[" },
	{ "an unknown member", "\"meta\":[", "\"extra\":1,\n\"meta\":[" },
	{ "a row with an extra column", "{\"id\":1,\"name\":\"base\"",
	    "{\"id\":1,\"x\":2,\"name\":\"base\"" },
	{ "a row without a column", "\"id\":1,\"name\":\"base\",", "\"id\":1," },
	{ "a text column as a number", "\"name\":\"base\"", "\"name\":7" },
	{ "a number column as text", "\"mode\":493", "\"mode\":\"493\"" },
	{ "a NOT NULL column null", "\"name\":\"base\"", "\"name\":null" },
	{ "a row not an object", "\"buckets\":[\n", "\"buckets\":[\n5,\n" },
	{ "a sequence below the ids", "\"sequences\":{\"buckets\":1,",
	    "\"sequences\":{\"buckets\":0," },
	{ "a sequence missing", "\"sequences\":{\"buckets\":1,",
	    "\"sequences\":{" },
	{ "a duplicate id", "\"buckets\":[\n",
	    "\"buckets\":[\n{\"id\":1,\"name\":\"zzz\",\"description\":\"\","
	    "\"created\":1,\"mtime\":1,\"uid\":0,\"gid\":0,\"mode\":493},\n" },
	{ "a dangling reference", "\"bucket_id\":1,\"fingerprint\":\"b1\"",
	    "\"bucket_id\":77,\"fingerprint\":\"b1\"" },
};

START_TEST(load_refuses)
{
	struct lin_reg *o;
	char path[128], *doc, *bad, *empty, *after;
	int rc;

	fx_active(fx_bucket("base"), "b1");
	doc = export_of(R);
	bad = edit(doc, bad_edits[_i].from, bad_edits[_i].to);
	o = other_open(path, sizeof(path));
	empty = export_of(o);
	memset(&E, 0, sizeof(E));
	rc = lin_export_load(o, bad, strlen(bad), &E);
	ck_assert_msg(rc == -EINVAL, "%s: got %d (%s)", bad_edits[_i].why, rc,
	    E.msg);
	ck_assert_str_ne(E.msg, "");
	/* refused whole: the registry is as empty as before */
	after = export_of(o);
	ck_assert_str_eq(empty, after);
	other_close(o, path);
	free(doc);
	free(bad);
	free(empty);
	free(after);
}
END_TEST

/* An export of schema 4 (before events rows held many lines) has rows of
 * one line each, which schema 5 reads as they are. */
START_TEST(load_schema_4)
{
	struct lin_reg *o;
	char path[128], *doc, *old, *two;

	rich_registry();
	doc = export_of(R);
	old = edit(doc, "\"schema\":5", "\"schema\":4");
	o = other_open(path, sizeof(path));
	ck_assert_msg(lin_export_load(o, old, strlen(old), &E) == 0, "load: %s",
	    E.msg);
	two = export_of(o);
	ck_assert_str_eq(doc, two);
	other_close(o, path);
	free(doc);
	free(old);
	free(two);
}
END_TEST

START_TEST(load_nul_refused)
{
	char doc[] = "{\"format\":\"lineagefs-export\"}\0junk";

	ck_assert_int_eq(lin_export_load(R, doc, sizeof(doc) - 1, &E), -EINVAL);
}
END_TEST

START_TEST(export_readonly)
{
	struct lin_reg *ro;
	char *one, *two;

	rich_registry();
	one = export_of(R);
	ck_assert_int_eq(lin_reg_open(regpath, LIN_OPEN_RDONLY, &ro, &E), 0);
	two = export_of(ro);
	ck_assert_str_eq(one, two);
	ck_assert_int_eq(lin_export_load(ro, one, strlen(one), &E), -EROFS);
	lin_reg_close(ro);
	free(one);
	free(two);
}
END_TEST

START_TEST(generated_round_trip)
{
	struct lin_gen_params p = {
		.buckets = 9, .iterations = 12, .builds = 3, .regions = 2,
		.depth = 3, .fanout = 3, .channels = 3, .seed = 7,
	};
	struct lin_reg *o;
	char path[128], *one, *two;

	ck_assert_msg(lin_generate(R, &p, &E) == 0, "generate: %s", E.msg);
	one = export_of(R);
	o = other_open(path, sizeof(path));
	ck_assert_int_eq(lin_export_load(o, one, strlen(one), &E), 0);
	two = export_of(o);
	ck_assert_str_eq(one, two);
	other_close(o, path);
	free(one);
	free(two);
}
END_TEST

static Suite *
export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("export");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, round_trip_identical);
	tcase_add_test(tc, ids_never_reused);
	tcase_add_test(tc, empty_registry);
	tcase_add_test(tc, load_needs_empty);
	tcase_add_loop_test(tc, load_refuses, 0,
	    (int)(sizeof(bad_edits) / sizeof(bad_edits[0])));
	tcase_add_test(tc, load_schema_4);
	tcase_add_test(tc, load_nul_refused);
	tcase_add_test(tc, export_readonly);
	tcase_add_test(tc, generated_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(export_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
