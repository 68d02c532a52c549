/*
 * test_store.c — unit tests for the registry file itself (src/store/db.c):
 * waiting for another process's write lock with lin_reg_await_writer,
 * which a mount calls before taking its own lock, and the statement
 * profile that LINEAGE_SQL_PROFILE asks for; and the change feed
 * (src/store/change.c) read in batches, as the mounts read it.  The other
 * process is
 * played by a second SQLite connection holding BEGIN IMMEDIATE for a while
 * in a thread of its own.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "regfix.h"

struct holder {
	const char *path;
	int         hold_ms;
	pthread_t   thread;
	sqlite3    *db;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
hold_run(void *arg)
{
	struct holder *h = arg;

	usleep((useconds_t)h->hold_ms * 1000);
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return NULL;
}

/* Take the registry's write lock now; let it go hold_ms from now. */
static void
hold_start(struct holder *h, const char *path, int hold_ms)
{
	h->path = path;
	h->hold_ms = hold_ms;
	ck_assert_int_eq(sqlite3_open(path, &h->db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(pthread_create(&h->thread, NULL, hold_run, h), 0);
}

static void
hold_end(struct holder *h)
{
	pthread_join(h->thread, NULL);
	sqlite3_close(h->db);
}

static int
fx_bucket_try(const char *name)
{
	return lin_bucket_create(R, &A, name, 0755, NULL, &E);
}

START_TEST(await_free_is_at_once)
{
	double t0 = now_s();

	lin_reg_await_writer(R);
	lin_reg_await_writer(R);
	ck_assert_msg(now_s() - t0 < 0.5, "await took %.3f s with no writer",
	    now_s() - t0);
	/* and the registry still takes changes */
	ck_assert_int_gt(fx_bucket("base"), 0);
}
END_TEST

START_TEST(await_waits_for_the_writer)
{
	struct holder h;
	double t0;

	hold_start(&h, regpath, 400);
	t0 = now_s();
	lin_reg_await_writer(R);
	ck_assert_msg(now_s() - t0 >= 0.3, "await returned after %.3f s "
	    "while another held the lock for 0.4 s", now_s() - t0);
	hold_end(&h);
	ck_assert_int_gt(fx_bucket("base"), 0);
}
END_TEST

/* Opened by a relative name, the registry is still found after the
 * process changes directory (as the daemon does in the background). */
START_TEST(await_after_chdir)
{
	struct lin_reg *r2;
	struct holder h;
	char cwd[256];
	double t0;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/tmp"), 0);
	ck_assert_msg(lin_reg_open(regpath + strlen("/tmp/"), 0, &r2, &E) ==
	    0, "open: %s", E.msg);
	ck_assert_int_eq(chdir("/"), 0);
	hold_start(&h, regpath, 400);
	t0 = now_s();
	lin_reg_await_writer(r2);
	ck_assert_msg(now_s() - t0 >= 0.3, "await returned after %.3f s: "
	    "it did not find the registry", now_s() - t0);
	hold_end(&h);
	lin_reg_close(r2);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

/* A read-only registry never writes, so it never waits. */
START_TEST(await_read_only_is_at_once)
{
	struct lin_reg *ro;
	struct holder h;
	double t0;

	ck_assert_int_eq(lin_reg_open(regpath, LIN_OPEN_RDONLY, &ro, &E), 0);
	hold_start(&h, regpath, 400);
	t0 = now_s();
	lin_reg_await_writer(ro);
	ck_assert_msg(now_s() - t0 < 0.2, "a read-only registry waited %.3f s",
	    now_s() - t0);
	hold_end(&h);
	lin_reg_close(ro);
}
END_TEST

/* A lock held past the whole timeout: the wait gives up once, the change
 * that follows fails with EBUSY at once instead of waiting a second
 * timeout, and so does the next one, without waiting again. */
START_TEST(await_gives_up_once)
{
	struct holder h;
	double t0, waited;
	int rc;

	hold_start(&h, regpath, 12500);
	t0 = now_s();
	lin_reg_await_writer(R);
	waited = now_s() - t0;
	ck_assert_msg(waited >= 9.5 && waited < 11.5, "the wait took %.3f s, "
	    "not the 10 s timeout", waited);
	t0 = now_s();
	rc = fx_bucket_try("late");
	ck_assert_int_eq(rc, -EBUSY);
	lin_reg_await_writer(R);
	ck_assert_int_eq(fx_bucket_try("later"), -EBUSY);
	ck_assert_msg(now_s() - t0 < 1.0, "after giving up, two changes "
	    "took %.3f s", now_s() - t0);
	hold_end(&h);
	lin_reg_await_writer(R);
	ck_assert_int_eq(fx_bucket_try("free"), 0);
}
END_TEST

/* LINEAGE_SQL_PROFILE=0 prints every statement a change ran, with its
 * time; unset, nothing. */
static size_t
profiled(const char *value, char *out, size_t size)
{
	struct lin_reg *r;
	char path[] = "/tmp/lineage-unit-profile-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	if (value)
		setenv("LINEAGE_SQL_PROFILE", value, 1);
	else
		unsetenv("LINEAGE_SQL_PROFILE");
	dup2(fd, 2);
	ck_assert_int_eq(lin_reg_open(regpath, 0, &r, &E), 0);
	ck_assert_int_eq(lin_bucket_create(r, &A, value ? "profiled" :
	    "quiet", 0755, NULL, &E), 0);
	lin_reg_close(r);
	dup2(saved, 2);
	close(saved);
	unsetenv("LINEAGE_SQL_PROFILE");
	n = pread(fd, out, size - 1, 0);
	ck_assert_int_ge(n, 0);
	out[n] = '\0';
	close(fd);
	unlink(path);
	return (size_t)n;
}

START_TEST(sql_profile_on_request)
{
	static char out[1 << 16];

	ck_assert_uint_eq(profiled(NULL, out, sizeof(out)), 0);
	profiled("0", out, sizeof(out));
	ck_assert_msg(strstr(out, "lineage: sql ") != NULL, "no profile: %s",
	    out);
	ck_assert_msg(strstr(out, "INSERT INTO buckets") != NULL, "the "
	    "bucket's insert is not in the profile: %s", out);
	ck_assert_msg(strstr(out, " steps ") != NULL, "%s", out);
}
END_TEST

/* ---- the change feed ---- */

struct seen {
	int64_t seq_of[4096];	/* ids in the order reported */
	size_t  n;
	int     fail_at;	/* the callback fails at this row (0: never) */
};

static int
seen_add(void *ctx, int kind, int64_t id, const char *name)
{
	struct seen *s = ctx;

	ck_assert_uint_lt(s->n, 4096);
	s->seq_of[s->n++] = id;
	if (s->fail_at && (int)s->n == s->fail_at)
		return -ENOSPC;
	return 0;
}

/* Read the feed from `after` in batches of max: every change after it,
 * each once, in order, however the batches cut them; the last seq. */
static int64_t
read_feed(int64_t after, size_t max, struct seen *s)
{
	int64_t last = after, head;

	ck_assert_int_eq(lin_changes_head(R, &head, &E), 0);
	for (int rounds = 0; last < head; rounds++) {
		size_t before = s->n;
		int64_t from = last;

		ck_assert_msg(lin_changes_since(R, from, max, seen_add, s,
		    &last, &E) == 0, "feed after %lld, %zu at most: %s",
		    (long long)from, max, E.msg);
		/* a full batch, or the rest of the feed */
		ck_assert_uint_le(s->n - before, max);
		ck_assert(s->n - before == max || last == head);
		ck_assert_int_gt(last, from);
		ck_assert_int_lt(rounds, 10000);
	}
	ck_assert_int_eq(last, head);
	return last;
}

/* Make n buckets, each a change or more; the feed's head before them. */
static int64_t
feed_buckets(int n)
{
	int64_t head;

	ck_assert_int_eq(lin_changes_head(R, &head, &E), 0);
	for (int i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "bucket-%02d", i);
		fx_bucket(name);
	}
	return head;
}

/* A batch that stops short of the feed's end is a success, and the next
 * goes on from where it stopped: a mount that was handed more changes
 * than one batch (a cascade of 30k descendants) must not stall. */
START_TEST(feed_in_batches)
{
	struct seen all = { .n = 0 }, cut = { .n = 0 };
	int64_t start, end;

	start = feed_buckets(40);
	end = read_feed(start, 100000, &all);
	ck_assert_uint_ge(all.n, 40);
	/* the same changes, batch sizes that divide them and that do not */
	for (size_t max = 1; max <= 7; max++) {
		cut.n = 0;
		ck_assert_int_eq(read_feed(start, max, &cut), end);
		ck_assert_uint_eq(cut.n, all.n);
		ck_assert(memcmp(cut.seq_of, all.seq_of,
		    all.n * sizeof(all.seq_of[0])) == 0);
	}
	/* nothing after the end */
	cut.n = 0;
	ck_assert_int_eq(lin_changes_since(R, end, 10, seen_add, &cut, &end,
	    &E), 0);
	ck_assert_uint_eq(cut.n, 0);
}
END_TEST

/* A callback's refusal comes back as it is, the feed read up to it. */
START_TEST(feed_callback_error)
{
	struct seen s = { .n = 0, .fail_at = 3 };
	int64_t start, last;

	start = feed_buckets(5);
	ck_assert_int_eq(lin_changes_since(R, start, 100, seen_add, &s, &last,
	    &E), -ENOSPC);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_gt(last, start);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, await_free_is_at_once);
	tcase_add_test(tc, await_waits_for_the_writer);
	tcase_add_test(tc, await_after_chdir);
	tcase_add_test(tc, await_read_only_is_at_once);
	tcase_add_test(tc, sql_profile_on_request);
	tcase_add_test(tc, await_gives_up_once);
	tcase_add_test(tc, feed_in_batches);
	tcase_add_test(tc, feed_callback_error);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
