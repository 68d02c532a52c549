/*
 * test_check.c — unit tests of the integrity and invariant check
 * (src/store/check.c) and of the synthetic registry generator
 * (src/store/generate.c): healthy registries, made by hand or generated,
 * pass; each kind of damage, done behind the engine's back with plain
 * SQL, is reported on a line of its own; the generator is deterministic
 * and refuses what it cannot make without changing anything.
 */
#include <sqlite3.h>

#include "regfix.h"

static int
check(struct lin_buf *rep)
{
	int n;

	lin_buf_init(rep);
	n = lin_check(R, rep, &E);
	ck_assert_msg(n >= 0, "check failed: %s", E.msg);
	lin_buf_add(rep, "", 0);
	return n;
}

static void
assert_healthy(void)
{
	struct lin_buf rep;
	int n = check(&rep);

	ck_assert_msg(n == 0, "%d problem(s):\n%s", n, rep.data);
	ck_assert_uint_eq(rep.len, 0);
	lin_buf_free(&rep);
}

/* Change the file behind the engine's back. */
static void
damage(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(regpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static void
revoke_line(int64_t id, const char *line)
{
	ck_assert_msg(lin_revoke(R, &A, id, line, strlen(line), &E) == 0,
	    "revoke: %s", E.msg);
}

/*
 * base: b1 b2 b3 (b1 revoked with descendants, production on b3)
 * svc:  s1 (child of b1, so revoked by inheritance), s2 (child of b2,
 *       staging on it), s3 running
 */
static void
healthy(void)
{
	int64_t base = fx_bucket("base"), svc = fx_bucket("svc");
	int64_t b1, s1, s2;

	b1 = fx_active(base, "b1");
	fx_active(base, "b2");
	fx_active(base, "b3");
	fx_assign(base, "production", "b3");
	s1 = fx_running(svc, "s1");
	fx_link(s1, "buckets/base/iterations/b1");
	fx_complete(s1);
	s2 = fx_running(svc, "s2");
	fx_link(s2, "buckets/base/iterations/b2");
	fx_complete(s2);
	fx_assign(svc, "production", "s1");
	fx_assign(svc, "staging", "s2");
	fx_running(svc, "s3");
	revoke_line(b1, "CVE-2026-0001: openssl");
}

START_TEST(empty_is_healthy)
{
	assert_healthy();
}
END_TEST

START_TEST(hand_made_is_healthy)
{
	int64_t base;

	healthy();
	assert_healthy();
	/* a scheduled revocation with rollback=no keeps its channel */
	base = fx_bucket("more");
	fx_active(base, "m1");
	fx_assign(base, "production", "m1");
	revoke_line(fx_active(base, "m2"), "in=1h descendants=no later");
	revoke_line(fx_running(base, "m3"), "descendants=no never mind");
	assert_healthy();
}
END_TEST

START_TEST(deleted_version_is_no_gap)
{
	struct lin_iteration it;
	int64_t base = fx_bucket("base");

	fx_active(base, "v1");
	fx_active(base, "v2");
	fx_active(base, "v3");
	ck_assert_int_eq(lin_iteration_by_fingerprint(R, base, "v2", &it, &E),
	    0);
	revoke_line(it.id, "bad");
	ck_assert_int_eq(lin_iteration_delete(R, &A, it.id, &E), 0);
	assert_healthy();
}
END_TEST

START_TEST(rollback_no_channel_is_fine)
{
	int64_t base = fx_bucket("base"), id;

	fx_active(base, "a");
	id = fx_active(base, "b");
	fx_assign(base, "production", "b");
	revoke_line(id, "in=1h rollback=no retire it");
	/* the time comes: the channel stays, as rollback=no asked */
	fx_clock(7200);
	ck_assert_int_ge(lin_reg_tick(R, &E), 0);
	ck_assert_str_eq(fx_word(id), "revoked");
	ck_assert_str_eq(fx_channel(base, "production"), "b");
	assert_healthy();
}
END_TEST

/* ------------------------------------------------------------ damage */

#define IT(fp) "(SELECT id FROM iterations WHERE fingerprint = '" fp "')"

static const struct {
	const char *why;
	const char *sql;
	const char *line;       /* the start of the report line expected */
} damages[] = {
	{ "a cycle", "INSERT INTO links (child_id, parent_id, created) "
	    "VALUES (" IT("b1") ", " IT("s1") ", 0)",
	    "links: buckets/base/iterations/b1 is its own ancestor" },
	{ "a self-parent", "INSERT INTO links (child_id, parent_id, created) "
	    "VALUES (" IT("b2") ", " IT("b2") ", 0)",
	    "links: buckets/base/iterations/b2 is its own ancestor" },
	{ "an inherited revocation lost", "DELETE FROM revocations "
	    "WHERE origin_id IS NOT NULL",
	    "revocation: buckets/svc/iterations/s1 descends from "
	    "buckets/base/iterations/b1" },
	{ "an inherited revocation astray", "INSERT INTO revocations "
	    "(iteration_id, origin_id, at, created, reason, by_name, "
	    "descendants, rollback, applied) SELECT " IT("s2") ", id, at, "
	    "created, reason, by_name, 1, 1, 1 FROM revocations "
	    "WHERE origin_id IS NULL",
	    "revocation: buckets/svc/iterations/s2 holds a revocation "
	    "inherited from row" },
	{ "an inherited revocation at another time", "UPDATE revocations "
	    "SET at = at + 10 WHERE origin_id IS NOT NULL",
	    "revocation: buckets/svc/iterations/s1 holds" },
	{ "a channel on a running iteration", "UPDATE channels SET "
	    "iteration_id = " IT("s3") " WHERE name = 'staging'",
	    "channel: svc/channels/staging points at "
	    "buckets/svc/iterations/s3, which is incomplete" },
	{ "a channel on a revoked iteration", "UPDATE channels SET "
	    "iteration_id = " IT("b1") " WHERE name = 'production'",
	    "channel: base/channels/production points at "
	    "buckets/base/iterations/b1, which is revoked" },
	{ "a channel into another bucket", "UPDATE channels SET "
	    "iteration_id = " IT("b2") " WHERE name = 'staging'",
	    "channel: svc/channels/staging points at buckets/base/iterations/b2"
	    ", in another bucket" },
	{ "a version on a running iteration", "UPDATE iterations SET "
	    "version = 9 WHERE fingerprint = 's3'",
	    "versions: buckets/svc/iterations/s3 is incomplete but has "
	    "version v9" },
	{ "two iterations with one version", "UPDATE iterations SET "
	    "version = 1 WHERE fingerprint = 'b2'",
	    "versions: bucket base has 2 complete iterations numbered v1" },
	{ "a gap in the versions", "UPDATE iterations SET version = 5 "
	    "WHERE fingerprint = 'b3'",
	    "versions: bucket base has no v3" },
	{ "a complete iteration without a version", "UPDATE iterations SET "
	    "version = 0 WHERE fingerprint = 'b3'",
	    "versions: buckets/base/iterations/b3 is complete without" },
	{ "a complete iteration without builds", "DELETE FROM builds WHERE "
	    "iteration_id = " IT("b2"),
	    "builds: buckets/base/iterations/b2 is complete without a build" },
	{ "a build without an artifact", "UPDATE artifacts SET external_id = "
	    "'' WHERE build_id IN (SELECT id FROM builds WHERE iteration_id = "
	    IT("b3") ")",
	    "artifacts: build amazon-ebs.main of buckets/base/iterations/b3" },
	{ "an event out of place", "UPDATE events SET off = off + 1 "
	    "WHERE seq = 3",
	    "events: seq 3 starts at byte" },
	{ "an event naming another seq", "UPDATE events SET line = "
	    "replace(line, ' seq=2 ', ' seq=9 ') WHERE seq = 2",
	    "events: seq 2 does not begin with the line seq=2" },
	{ "a line of an event row naming another seq", "UPDATE events SET "
	    "off = (SELECT off FROM events WHERE seq = 2), line = (SELECT line "
	    "FROM events WHERE seq = 2) || replace(line, ' seq=3 ', ' seq=7 ') "
	    "WHERE seq = 3; DELETE FROM events WHERE seq = 2",
	    "events: in the row of seq 3, the line of seq=3 says otherwise" },
	{ "an event row with a line too many", "UPDATE events SET line = "
	    "line || line WHERE seq = 2",
	    "events: seq 2 holds 2 lines for seq=2 to 2" },
	{ "an event without its newline", "UPDATE events SET line = "
	    "rtrim(line, char(10)) || ' ' WHERE seq = (SELECT max(seq) "
	    "FROM events)",
	    "events: seq " },
	{ "a dangling reference", "PRAGMA foreign_keys = OFF; "
	    "INSERT INTO builds (iteration_id, name, created, mtime) "
	    "VALUES (9999, 'ghost', 0, 0)",
	    "foreign key: row " },
};

START_TEST(damage_reported)
{
	struct lin_buf rep;
	char want[256];
	int n;

	healthy();
	assert_healthy();
	damage(damages[_i].sql);
	n = check(&rep);
	ck_assert_msg(n >= 1, "%s: not reported", damages[_i].why);
	snprintf(want, sizeof(want), "\n%s", damages[_i].line);
	ck_assert_msg(strncmp(rep.data, damages[_i].line,
	    strlen(damages[_i].line)) == 0 || strstr(rep.data, want) != NULL,
	    "%s: report was:\n%s", damages[_i].why, rep.data);
	/* one line a problem */
	{
		int lines = 0;

		for (size_t i = 0; i < rep.len; i++)
			lines += rep.data[i] == '\n';
		ck_assert_int_eq(lines, n);
	}
	lin_buf_free(&rep);
}
END_TEST

/* ---------------------------------------------------------- generator */

static const struct lin_gen_params shapes[] = {
	{ 12, 20, 2, 3, 3, 3, 2, 1 },     /* lineagectl's defaults */
	{ 1, 30, 1, 1, 1, 1, 0, 2 },      /* one base, no channels */
	{ 5, 1, 1, 1, 5, 1, 3, 3 },       /* a chain, one iteration each */
	{ 30, 40, 3, 4, 4, 2, 4, 4 },     /* deeper and wider */
	{ 20, 60, 1, 2, 2, 8, 9, 5 },     /* high fanout, channels past the
	                                    list of names */
	{ 8, 100, 7, 13, 3, 3, 2, 6 },    /* builds and regions past the
	                                    lists of builders and regions */
};

START_TEST(generated_is_healthy)
{
	const struct lin_gen_params *p = &shapes[_i];
	struct lin_iteration it;
	struct lin_bucket b;
	int64_t n = 0;

	ck_assert_msg(lin_generate(R, p, &E) == 0, "generate: %s", E.msg);
	assert_healthy();
	ck_assert_int_eq(fx_count_events("action=generate", NULL, NULL), 1);
	/* every bucket has its versions, latest on the newest valid one */
	ck_assert_int_eq(lin_bucket_by_name(R, "ubuntu-base", &b, &E), 0);
	ck_assert_int_eq(lin_iteration_by_version(R, b.id, p->iterations, &it,
	    &E), 0);
	ck_assert_int_ne(it.completed, 0);
	for (int64_t id = 1; lin_bucket_get(R, id, &b, NULL) == 0; id++)
		n++;
	ck_assert_int_eq(n, p->buckets);
}
END_TEST

/* The generator's revocations read as the engine's own: an inherited one
 * names its origin and shows the origin's reason. */
START_TEST(generated_revocations_read)
{
	struct lin_gen_params p = { 30, 40, 1, 1, 4, 2, 2, 4 };
	struct lin_revocation rv;
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t it = 0, from = 0;

	ck_assert_int_eq(lin_generate(R, &p, &E), 0);
	ck_assert_int_eq(sqlite3_open(regpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT x.iteration_id, "
	    "o.iteration_id FROM revocations x JOIN revocations o "
	    "ON o.id = x.origin_id ORDER BY x.id LIMIT 1", -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		it = sqlite3_column_int64(st, 0);
		from = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_msg(it != 0, "no inherited revocation was generated");
	ck_assert_str_eq(fx_word(it), "revoked");
	ck_assert_int_eq(lin_revocation_get(R, it, &rv, &E), 0);
	ck_assert(rv.inherited);
	ck_assert_int_eq(rv.from_id, from);
	ck_assert_msg(strncmp(rv.reason, "CVE-", 4) == 0, "reason %s",
	    rv.reason);
	ck_assert_str_eq(rv.by, "secops");
	ck_assert_str_eq(fx_word(from), "revoked");
}
END_TEST

/* An export without its events (the generate event carries the time the
 * generator ran). */
static char *
export_tables(struct lin_reg *r)
{
	struct lin_buf b;
	char *ev;

	lin_buf_init(&b);
	ck_assert_int_eq(lin_export(r, &b, &E), 0);
	ev = strstr(b.data, "\n\"events\":[");
	ck_assert_ptr_nonnull(ev);
	*ev = '\0';
	return lin_buf_steal(&b);
}

START_TEST(generator_deterministic)
{
	struct lin_gen_params p = { 10, 15, 2, 2, 3, 3, 2, 42 };
	struct lin_reg *o;
	char path[128], *one, *two;

	ck_assert_int_eq(lin_generate(R, &p, &E), 0);
	one = export_tables(R);
	snprintf(path, sizeof(path), "%s-other", regpath);
	unlink(path);
	ck_assert_int_eq(lin_reg_open(path, 0, &o, &E), 0);
	ck_assert_int_eq(lin_generate(o, &p, &E), 0);
	two = export_tables(o);
	/* the same up to the uid of the creator, which is the same here */
	ck_assert_str_eq(one, two);
	free(two);
	lin_reg_close(o);
	unlink(path);

	/* another seed, another registry */
	p.seed = 43;
	ck_assert_int_eq(lin_reg_open(path, 0, &o, &E), 0);
	ck_assert_int_eq(lin_generate(o, &p, &E), 0);
	two = export_tables(o);
	ck_assert_str_ne(one, two);
	lin_reg_close(o);
	unlink(path);
	{
		char p2[160];

		snprintf(p2, sizeof(p2), "%s-wal", path);
		unlink(p2);
		snprintf(p2, sizeof(p2), "%s-shm", path);
		unlink(p2);
	}
	free(one);
	free(two);
}
END_TEST

static const struct lin_gen_params bad_params[] = {
	{ 0, 10, 1, 1, 1, 1, 1, 1 },
	{ 5, 0, 1, 1, 1, 1, 1, 1 },
	{ 5, 10, 0, 1, 1, 1, 1, 1 },
	{ 5, 10, 1, 0, 1, 1, 1, 1 },
	{ 5, 10, 1, 1, 0, 1, 1, 1 },
	{ 5, 10, 1, 1, 6, 1, 1, 1 },      /* deeper than the buckets */
	{ 5, 10, 1, 1, 1, 0, 1, 1 },
	{ 5, 10, 1, 1, 1, 1, -1, 1 },
	{ 5, 10, 65, 1, 1, 1, 1, 1 },
	{ 100000, 100000, 1, 1, 1, 1, 1, 1 }, /* too many in all */
};

START_TEST(generator_refuses)
{
	struct lin_buf before, after;

	fx_active(fx_bucket("keep"), "k1");
	lin_buf_init(&before);
	lin_buf_init(&after);
	ck_assert_int_eq(lin_export(R, &before, &E), 0);
	ck_assert_int_eq(lin_generate(R, &bad_params[_i], &E), -EINVAL);
	ck_assert_str_ne(E.msg, "");
	ck_assert_int_eq(lin_export(R, &after, &E), 0);
	ck_assert_str_eq(before.data, after.data);
	lin_buf_free(&before);
	lin_buf_free(&after);
}
END_TEST

START_TEST(generator_name_taken)
{
	struct lin_gen_params p = { 3, 2, 1, 1, 1, 1, 1, 1 };
	struct lin_buf before, after;

	fx_bucket("debian-base");
	lin_buf_init(&before);
	lin_buf_init(&after);
	ck_assert_int_eq(lin_export(R, &before, &E), 0);
	ck_assert_int_eq(lin_generate(R, &p, &E), -EEXIST);
	ck_assert_int_eq(lin_export(R, &after, &E), 0);
	ck_assert_str_eq(before.data, after.data);
	lin_buf_free(&before);
	lin_buf_free(&after);
}
END_TEST

static Suite *
check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("check");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, empty_is_healthy);
	tcase_add_test(tc, hand_made_is_healthy);
	tcase_add_test(tc, deleted_version_is_no_gap);
	tcase_add_test(tc, rollback_no_channel_is_fine);
	tcase_add_loop_test(tc, damage_reported, 0,
	    (int)(sizeof(damages) / sizeof(damages[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("generate");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, generated_is_healthy, 0,
	    (int)(sizeof(shapes) / sizeof(shapes[0])));
	tcase_add_test(tc, generated_revocations_read);
	tcase_add_test(tc, generator_deterministic);
	tcase_add_loop_test(tc, generator_refuses, 0,
	    (int)(sizeof(bad_params) / sizeof(bad_params[0])));
	tcase_add_test(tc, generator_name_taken);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
