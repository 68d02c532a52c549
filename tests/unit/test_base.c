/*
 * test_base.c — unit tests of the engine's shared base (src/base.c):
 * errors and errno names, the growable buffer and its field quoting, the
 * actor's permission rule, user names and the clock with its test offset.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lineage/base.h"

/* --------------------------------------------------------------- errors */

START_TEST(errf_fills)
{
	struct lin_err e = { 0 };

	ck_assert_int_eq(lin_errf(&e, EINVAL, "a revocation needs a reason"),
	    -EINVAL);
	ck_assert_int_eq(e.code, EINVAL);
	ck_assert_str_eq(e.msg, "a revocation needs a reason");
	ck_assert_int_eq(lin_errf(&e, ENOENT, "no bucket %s (%d)", "base", 3),
	    -ENOENT);
	ck_assert_int_eq(e.code, ENOENT);
	ck_assert_str_eq(e.msg, "no bucket base (3)");
	/* A negative code is taken for what it means. */
	ck_assert_int_eq(lin_errf(&e, -EBUSY, "busy"), -EBUSY);
	ck_assert_int_eq(e.code, EBUSY);
	/* No sink: only the return value. */
	ck_assert_int_eq(lin_errf(NULL, EPERM, "x"), -EPERM);
}
END_TEST

START_TEST(errf_truncates)
{
	struct lin_err e;
	char big[1000];

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&e, 0x7f, sizeof(e));
	ck_assert_int_eq(lin_errf(&e, EIO, "%s", big), -EIO);
	ck_assert_uint_eq(strlen(e.msg), LIN_ERR_MAX - 1);
}
END_TEST

START_TEST(errno_names)
{
	static const struct {
		int         code;
		const char *name;
	} t[] = {
		{ ENOENT, "ENOENT" }, { EEXIST, "EEXIST" },
		{ EINVAL, "EINVAL" }, { EFBIG, "EFBIG" },
		{ EPERM, "EPERM" }, { EACCES, "EACCES" },
		{ EKEYREVOKED, "EKEYREVOKED" }, { ELOOP, "ELOOP" },
		{ EBUSY, "EBUSY" }, { ENOTEMPTY, "ENOTEMPTY" },
		{ EALREADY, "EALREADY" }, { EROFS, "EROFS" },
		{ EIO, "EIO" }, { ENOSPC, "ENOSPC" }, { ENOMEM, "ENOMEM" },
		{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" }, { EBADF, "EBADF" },
		{ ENOTSUP, "ENOTSUP" }, { ERANGE, "ERANGE" },
		{ ENOSYS, "ENOSYS" }, { EXDEV, "EXDEV" },
		{ EAGAIN, "EAGAIN" }, { EINTR, "EINTR" },
		{ ENODATA, "ENODATA" }, { EOVERFLOW, "EOVERFLOW" },
		{ ESTALE, "ESTALE" }, { ETIMEDOUT, "ETIMEDOUT" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_str_eq(lin_errno_name(t[i].code), t[i].name);
		ck_assert_str_eq(lin_errno_name(-t[i].code), t[i].name);
	}
	ck_assert_str_eq(lin_errno_name(0), "0");
	ck_assert_str_eq(lin_errno_name(4000), "E?");
	ck_assert_str_eq(lin_errno_name(-4000), "E?");
}
END_TEST

/* -------------------------------------------------------------- buffers */

START_TEST(buf_basics)
{
	struct lin_buf b;

	lin_buf_init(&b);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.len, 0);
	lin_buf_add(&b, "abc", 3);
	lin_buf_puts(&b, "def");
	lin_buf_printf(&b, "-%d-%s", 42, "x");
	ck_assert_str_eq(b.data, "abcdef-42-x");
	ck_assert_uint_eq(b.len, 11);
	lin_buf_add(&b, NULL, 0);
	ck_assert_uint_eq(b.len, 11);
	lin_buf_reset(&b);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.len, 0);
	lin_buf_puts(&b, "again");
	ck_assert_str_eq(b.data, "again");
	lin_buf_free(&b);
	ck_assert_ptr_null(b.data);
	/* Freeing twice is harmless. */
	lin_buf_free(&b);
}
END_TEST

START_TEST(buf_grows)
{
	struct lin_buf b;
	char want[100001];
	size_t i;

	lin_buf_init(&b);
	for (i = 0; i < 100000; i++) {
		want[i] = (char)('a' + i % 26);
		lin_buf_add(&b, &want[i], 1);
		ck_assert_uint_lt(b.len, b.cap);
		ck_assert_int_eq(b.data[b.len], '\0');
	}
	want[i] = '\0';
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_str_eq(b.data, want);
	lin_buf_reset(&b);
	memset(want, 'p', 5000);
	want[5000] = '\0';
	lin_buf_printf(&b, "[%s]", want);
	ck_assert_uint_eq(b.len, 5002);
	ck_assert_int_eq(b.data[0], '[');
	ck_assert_int_eq(b.data[5001], ']');
	lin_buf_free(&b);
}
END_TEST

START_TEST(buf_binary)
{
	struct lin_buf b;

	lin_buf_init(&b);
	lin_buf_add(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
	lin_buf_free(&b);
}
END_TEST

START_TEST(buf_steal)
{
	struct lin_buf b;
	char *s;

	lin_buf_init(&b);
	lin_buf_puts(&b, "mine");
	s = lin_buf_steal(&b);
	ck_assert_str_eq(s, "mine");
	ck_assert_uint_eq(b.len, 0);
	free(s);
	/* The emptied buffer is still usable. */
	lin_buf_puts(&b, "more");
	ck_assert_str_eq(b.data, "more");
	s = lin_buf_steal(&b);
	ck_assert_str_eq(s, "more");
	free(s);
	/* Stealing what is empty gives an empty string, never NULL. */
	s = lin_buf_steal(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
	lin_buf_free(&b);
	/* So does a zeroed buffer that was never initialised. */
	memset(&b, 0, sizeof(b));
	lin_buf_puts(&b, "z");
	ck_assert_str_eq(b.data, "z");
	lin_buf_free(&b);
}
END_TEST

static const char *
q(const char *s)
{
	static struct lin_buf b;

	if (b.data == NULL)
		lin_buf_init(&b);
	lin_buf_reset(&b);
	lin_buf_putq(&b, s);
	return b.data;
}

START_TEST(buf_putq)
{
	ck_assert_str_eq(q("alice"), "alice");
	ck_assert_str_eq(q("buckets/base/iterations/01JD"),
	    "buckets/base/iterations/01JD");
	ck_assert_str_eq(q("k=v"), "k=v");
	/* Empty is quoted, so that the field still shows a value. */
	ck_assert_str_eq(q(""), "\"\"");
	ck_assert_str_eq(q("caf\xc3\xa9"), "caf\xc3\xa9");
	ck_assert_str_eq(q("CVE-2026-1234: openssl in base image"),
	    "\"CVE-2026-1234: openssl in base image\"");
	ck_assert_str_eq(q(" "), "\" \"");
	ck_assert_str_eq(q("say \"hi\""), "\"say \\\"hi\\\"\"");
	ck_assert_str_eq(q("a\"b"), "\"a\\\"b\"");
	ck_assert_str_eq(q("C:\\dir"), "\"C:\\\\dir\"");
	ck_assert_str_eq(q("two\nlines"), "\"two\\nlines\"");
	ck_assert_str_eq(q("tab\there"), "\"tab\\there\"");
	ck_assert_str_eq(q("cr\r"), "\"cr\\r\"");
	ck_assert_str_eq(q("bell\a"), "\"bell\\x07\"");
	ck_assert_str_eq(q("del\x7f"), "\"del\\x7f\"");
	ck_assert_str_eq(q("esc\x1b"), "\"esc\\x1b\"");
	/* putqq always quotes. */
	{
		struct lin_buf b;

		lin_buf_init(&b);
		lin_buf_putqq(&b, "plain");
		lin_buf_putqq(&b, "");
		lin_buf_putqq(&b, "a\"b");
		ck_assert_str_eq(b.data, "\"plain\"\"\"\"a\\\"b\"");
		lin_buf_free(&b);
	}
	/* Appends: it never resets what is there. */
	{
		struct lin_buf b;

		lin_buf_init(&b);
		lin_buf_puts(&b, "reason=");
		lin_buf_putq(&b, "a b");
		lin_buf_puts(&b, " by=");
		lin_buf_putq(&b, "bob");
		ck_assert_str_eq(b.data, "reason=\"a b\" by=bob");
		lin_buf_free(&b);
	}
}
END_TEST

/* ---------------------------------------------------------------- actor */

START_TEST(actor_self)
{
	struct lin_actor a = lin_actor_self();
	struct lin_actor b = lin_actor_self();
	gid_t g[256];
	int n, i;

	ck_assert_uint_eq(a.uid, getuid());
	ck_assert_uint_eq(a.gid, getgid());
	n = getgroups(256, g);
	ck_assert_int_eq(a.ngroups, n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(a.groups[i], g[i]);
	ck_assert_ptr_eq(a.groups, b.groups);
}
END_TEST

START_TEST(actor_name)
{
	char out[64];

	lin_actor_name(0, out, sizeof(out));
	ck_assert_str_eq(out, "root");
	lin_actor_name(3999999, out, sizeof(out));
	ck_assert_str_eq(out, "uid:3999999");
	/* Too small for the name: the uid form, cut to fit. */
	lin_actor_name(0, out, 4);
	ck_assert_str_eq(out, "uid");
	memcpy(out, "keep", 5);
	lin_actor_name(0, out, 0);
	ck_assert_str_eq(out, "keep");
}
END_TEST

static int
may(uid_t auid, gid_t agid, uid_t uid, gid_t gid, mode_t mode, int want)
{
	static const gid_t extra[] = { 50, 60 };
	struct lin_actor a = { auid, agid, extra, 2 };

	return lin_actor_may(&a, uid, gid, mode, want);
}

START_TEST(actor_may_classes)
{
	/* Owner bits. */
	ck_assert(may(1000, 1000, 1000, 1000, 0755, R_OK | W_OK | X_OK));
	ck_assert(may(1000, 1000, 1000, 1000, 0644, R_OK | W_OK));
	ck_assert(!may(1000, 1000, 1000, 1000, 0644, X_OK));
	ck_assert(!may(1000, 1000, 1000, 1000, 0444, W_OK));
	/* Group bits, by the primary group or a supplementary one. */
	ck_assert(may(1001, 1000, 1000, 1000, 0750, R_OK | X_OK));
	ck_assert(!may(1001, 1000, 1000, 1000, 0750, W_OK));
	ck_assert(may(1001, 1001, 1000, 50, 0770, W_OK));
	ck_assert(may(1001, 1001, 1000, 60, 0740, R_OK));
	ck_assert(!may(1001, 1001, 1000, 70, 0770, R_OK));
	/* Other bits. */
	ck_assert(may(1002, 1002, 1000, 1000, 0755, R_OK | X_OK));
	ck_assert(!may(1002, 1002, 1000, 1000, 0755, W_OK));
	ck_assert(!may(1002, 1002, 1000, 1000, 0750, R_OK));
	ck_assert(may(1002, 1002, 1000, 1000, 01777, W_OK));
	ck_assert(may(1002, 1002, 1000, 1000, 0757, W_OK));
}
END_TEST

START_TEST(actor_may_exclusive)
{
	/* One class decides: an owner denied by the owner bits is denied
	 * even when group or other would allow. */
	ck_assert(!may(1000, 1000, 1000, 1000, 0077, R_OK));
	ck_assert(!may(1000, 1000, 1000, 1000, 0577, W_OK));
	/* A group member denied by the group bits, though other allows. */
	ck_assert(!may(1001, 1000, 1000, 1000, 0707, R_OK));
	ck_assert(!may(1001, 1001, 1000, 50, 0407, R_OK));
	/* Root may always. */
	ck_assert(may(0, 0, 1000, 1000, 0000, R_OK | W_OK | X_OK));
	ck_assert(may(0, 0, 1000, 1000, 0644, X_OK));
	/* Asking for nothing is always granted; unknown bits are ignored. */
	ck_assert(may(1002, 1002, 1000, 1000, 0000, 0));
	ck_assert(may(1002, 1002, 1000, 1000, 0004, R_OK | 0100));
}
END_TEST

START_TEST(actor_may_no_groups)
{
	struct lin_actor a = { 7, 7, NULL, 0 };

	ck_assert(lin_actor_may(&a, 1, 7, 0070, R_OK));
	ck_assert(!lin_actor_may(&a, 1, 8, 0070, R_OK));
	ck_assert(lin_actor_may(&a, 1, 8, 0074, R_OK));
}
END_TEST

/* ---------------------------------------------------------------- clock */

/* The real clock, as lin_now reads it (time(3) may lag it by a tick). */
static int64_t
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

START_TEST(now_plain)
{
	int64_t before, after;
	int64_t t;

	unsetenv("LINEAGE_TIME_OFFSET");
	before = wall();
	t = lin_now();
	after = wall();
	ck_assert_int_ge(t, before);
	ck_assert_int_le(t, after);
}
END_TEST

START_TEST(now_offset)
{
	int64_t before;
	int64_t t;

	before = wall();
	setenv("LINEAGE_TIME_OFFSET", "86400", 1);
	t = lin_now();
	ck_assert_int_ge(t, before + 86400);
	ck_assert_int_le(t, wall() + 86400);
	setenv("LINEAGE_TIME_OFFSET", "-3600", 1);
	t = lin_now();
	ck_assert_int_ge(t, before - 3600);
	ck_assert_int_le(t, wall() - 3600);
	setenv("LINEAGE_TIME_OFFSET", "+60", 1);
	ck_assert_int_ge(lin_now(), before + 60);
}
END_TEST

START_TEST(now_bad_offset)
{
	static const char *bad[] = {
		"", "abc", "12x", "1.5", " ", "99999999999999999999999",
		"9223372036854775807", "-9223372036854775808",
	};
	int64_t before;
	size_t i;
	int64_t t;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("LINEAGE_TIME_OFFSET", bad[i], 1);
		before = wall();
		t = lin_now();
		ck_assert_msg(t >= before &&
		    t <= wall(), "offset \"%s\" applied", bad[i]);
	}
	unsetenv("LINEAGE_TIME_OFFSET");
}
END_TEST

static Suite *
base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *t;

	t = tcase_create("errors");
	tcase_add_test(t, errf_fills);
	tcase_add_test(t, errf_truncates);
	tcase_add_test(t, errno_names);
	suite_add_tcase(s, t);

	t = tcase_create("buffers");
	tcase_add_test(t, buf_basics);
	tcase_add_test(t, buf_grows);
	tcase_add_test(t, buf_binary);
	tcase_add_test(t, buf_steal);
	tcase_add_test(t, buf_putq);
	suite_add_tcase(s, t);

	t = tcase_create("actor");
	tcase_add_test(t, actor_self);
	tcase_add_test(t, actor_name);
	tcase_add_test(t, actor_may_classes);
	tcase_add_test(t, actor_may_exclusive);
	tcase_add_test(t, actor_may_no_groups);
	suite_add_tcase(s, t);

	t = tcase_create("clock");
	tcase_add_test(t, now_plain);
	tcase_add_test(t, now_offset);
	tcase_add_test(t, now_bad_offset);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(base_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
