/*
 * test_revoke.c — the revocation engine (SPEC §5) on real registries:
 * immediate and scheduled revocations inherited across buckets,
 * precedence, diamonds, channel rollback through the assignment history,
 * EBUSY, restoring and cancelling, inheritance through new parent links,
 * the revocation record, the events (byte offsets included) and every
 * errno.  The `slow` suite runs a cascade over 100k descendants and prints
 * its times (the performance goal is scripts/bench's, as a ratio).
 */
#define _GNU_SOURCE	/* memmem */
#include <time.h>

#include "regfix.h"
#include "store/store.h"

static int
do_revoke(int64_t id, const char *line)
{
	memset(&E, 0, sizeof(E));
	return lin_revoke(R, &A, id, line, strlen(line), &E);
}

static int
do_restore(int64_t id, const char *comment)
{
	memset(&E, 0, sizeof(E));
	return lin_restore(R, &A, id, comment, strlen(comment), &E);
}

static void
ok_revoke(int64_t id, const char *line)
{
	ck_assert_msg(do_revoke(id, line) == 0, "revoke: %s", E.msg);
}

static void
ok_restore(int64_t id, const char *comment)
{
	ck_assert_msg(do_restore(id, comment) == 0, "restore: %s", E.msg);
}

static char *
record(int64_t id)
{
	return fx_render(lin_render_revocation, id);
}

/* The value of key in the record ("" when absent). */
static const char *
field(int64_t id, const char *key)
{
	static char v[LIN_REASON_MAX + 1];
	char *rec = record(id), *p;
	size_t kl = strlen(key);

	v[0] = '\0';
	for (p = rec; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(v, sizeof(v), "%.*s", (int)strcspn(p + kl + 1,
			    "\n"), p + kl + 1);
			break;
		}
	return v;
}

/*
 * Three buckets in a line: base/b1 -> app/a1 -> svc/s1, and base/b1 ->
 * app/a2; every iteration complete, so channels can point at them.
 */
static int64_t base, app, svc, b1, a1, a2, s1;

static void
lineage(void)
{
	base = fx_bucket("base");
	app = fx_bucket("app");
	svc = fx_bucket("svc");
	b1 = fx_active(base, "b1");
	a1 = fx_running(app, "a1");
	fx_link(a1, "base/iterations/b1");
	fx_complete(a1);
	a2 = fx_running(app, "a2");
	fx_link(a2, "base/iterations/b1");
	fx_complete(a2);
	s1 = fx_running(svc, "s1");
	fx_link(s1, "app/iterations/a1");
	fx_complete(s1);
}

static void check_log_lines(void);

/* Every line of the log can be read back at the offset the lines before
 * it add up to, and sequence numbers run without a gap. */
static void
check_log(void)
{
	struct lin_buf report;

	/* and the registry passes its own integrity check */
	lin_buf_init(&report);
	ck_assert_msg(lin_check(R, &report, &E) == 0, "check: %s",
	    report.data ? report.data : E.msg);
	lin_buf_free(&report);
	check_log_lines();
}

static void
check_log_lines(void)
{
	char *log = strdup(fx_events()), *p = log, *nl;
	long long want = 1, seq;
	int64_t off = 0;
	struct lin_buf b;

	while ((nl = strchr(p, '\n')) != NULL) {
		size_t n = (size_t)(nl - p) + 1;
		/* within the line: a sanitizer's strstr measures the whole
		 * rest of the log each time, which made this quadratic */
		char *s = memmem(p, n, " seq=", 5);

		ck_assert_ptr_nonnull(s);
		seq = strtoll(s + 5, NULL, 10);
		ck_assert_int_eq(seq, want);
		want++;
		lin_buf_init(&b);
		ck_assert_int_eq(lin_events_read(R, off, n, &b, &E), 0);
		ck_assert_uint_eq(b.len, n);
		ck_assert(memcmp(b.data, p, n) == 0);
		lin_buf_free(&b);
		off += (int64_t)n;
		p = nl + 1;
	}
	free(log);
}

START_TEST(test_immediate_cascade)
{
	lineage();
	ok_revoke(b1, "CVE-2026-1234: openssl in base image\n");
	ck_assert_str_eq(fx_word(b1), "revoked");
	ck_assert_str_eq(fx_word(a1), "revoked");
	ck_assert_str_eq(fx_word(a2), "revoked");
	ck_assert_str_eq(fx_word(s1), "revoked");
	ck_assert_str_eq(field(b1, "state"), "revoked");
	ck_assert_str_eq(field(b1, "reason"),
	    "CVE-2026-1234: openssl in base image");
	ck_assert_str_eq(field(b1, "type"), "manual");
	ck_assert_str_eq(field(b1, "inherited-from"), "");
	ck_assert_str_eq(field(s1, "type"), "inherited");
	ck_assert_str_eq(field(s1, "inherited-from"),
	    "buckets/base/iterations/b1");
	ck_assert_str_eq(field(s1, "reason"),
	    "CVE-2026-1234: openssl in base image");
	ck_assert_str_eq(field(s1, "by"), field(b1, "by"));
	/* one event each, the descendants' with inherited-from */
	ck_assert_int_eq(fx_count_events("action=revoke bucket=base "
	    "iteration=b1 version=v1 by=", "type=manual reason=\"CVE-2026-1234:"
	    " openssl in base image\"", NULL), 1);
	ck_assert_int_eq(fx_count_events("action=revoke bucket=svc "
	    "iteration=s1 version=v1 by=", " type=inherited inherited-from="
	    "buckets/base/iterations/b1", NULL), 1);
	/* the reason once, in the origin's event */
	ck_assert_int_eq(fx_count_events("openssl in base image", NULL, NULL),
	    1);
	ck_assert_int_eq(fx_count_events("action=revoke ", "type=inherited",
	    NULL), 3);
	check_log();
	/* revoked: EALREADY, also for what inherited it */
	ck_assert_int_eq(do_revoke(b1, "again"), -EALREADY);
	ck_assert_int_eq(do_revoke(s1, "again"), -EALREADY);
	/* latest goes with it */
	ck_assert_str_eq(fx_channel(base, "latest"), "");
}
END_TEST

/* The set-based event lines are byte for byte what lin_ev_* would write. */
START_TEST(test_event_lines_identical)
{
	struct lin_buf want;
	char *log, *line, by[64];

	lineage();
	ok_revoke(b1, "why \"quoted\" \\ back");
	lin_actor_name(A.uid, by, sizeof(by));
	lin_buf_init(&want);
	lin_ev_start(&want, "revoke");
	ck_assert_int_eq(lin_ev_iteration(R, &want, s1, &E), 0);
	lin_ev_kv(&want, "by", by);
	lin_ev_kv(&want, "type", "inherited");
	lin_ev_kv(&want, "inherited-from", "buckets/base/iterations/b1");
	lin_buf_puts(&want, "\n");
	log = fx_events();
	line = strstr(log, "action=revoke bucket=svc");
	ck_assert_ptr_nonnull(line);
	ck_assert(strncmp(line, want.data, want.len) == 0);
	lin_buf_free(&want);
	check_log();
}
END_TEST

START_TEST(test_descendants_no)
{
	lineage();
	ok_revoke(b1, "descendants=no only the base");
	ck_assert_str_eq(fx_word(b1), "revoked");
	ck_assert_str_eq(fx_word(a1), "active");
	ck_assert_str_eq(fx_word(s1), "active");
	ck_assert_str_eq(record(a1), "");
	ck_assert_int_eq(fx_count_events("action=revoke", "descendants=no",
	    NULL), 1);
	check_log();
}
END_TEST

START_TEST(test_grammar_and_enoent)
{
	lineage();
	ck_assert_int_eq(do_revoke(b1, ""), -EINVAL);
	ck_assert_int_eq(do_revoke(b1, "in=1d"), -EINVAL);
	ck_assert_int_eq(do_revoke(b1, "colour=red why"), -EINVAL);
	ck_assert_int_eq(do_revoke(b1, "two\nlines"), -EINVAL);
	ck_assert_int_eq(do_revoke(b1, "in=1d at=2030-01-01T00:00:00Z x"),
	    -EINVAL);
	ck_assert_int_eq(do_revoke(9999, "why"), -ENOENT);
	ck_assert_int_eq(do_restore(9999, ""), -ENOENT);
	ck_assert_str_eq(fx_word(b1), "active");
	ck_assert_str_eq(record(b1), "");
	ck_assert_int_eq(lin_render_revocation(R, 9999, &(struct lin_buf){0},
	    &E), -ENOENT);
	ck_assert_int_eq(fx_count_events("action=revoke", NULL, NULL), 0);
	check_log();
}
END_TEST

START_TEST(test_erofs)
{
	struct lin_reg *ro;

	lineage();
	ok_revoke(a2, "x");
	ck_assert_int_eq(lin_reg_open(regpath, LIN_OPEN_RDONLY, &ro, &E), 0);
	ck_assert_int_eq(lin_revoke(ro, &A, b1, "x", 1, &E), -EROFS);
	ck_assert_int_eq(lin_restore(ro, &A, a2, "", 0, &E), -EROFS);
	lin_reg_close(ro);
	check_log();
}
END_TEST

START_TEST(test_record)
{
	struct lin_revocation v;
	char want[256], ts[LIN_TIME_MAX], by[64];

	lineage();
	ck_assert_int_eq(lin_revocation_get(R, b1, &v, &E), -ENOENT);
	ck_assert_str_eq(record(b1), "");
	ck_assert_str_eq(record(fx_running(base, "run")), "");
	ok_revoke(b1, "at=2031-02-03T04:05:06Z rollback=no later");
	lin_actor_name(A.uid, by, sizeof(by));
	snprintf(want, sizeof(want), "state=scheduled\n"
	    "at=2031-02-03T04:05:06Z\nreason=later\nby=%s\ntype=manual\n", by);
	ck_assert_str_eq(record(b1), want);
	snprintf(want, sizeof(want), "state=scheduled\n"
	    "at=2031-02-03T04:05:06Z\nreason=later\nby=%s\ntype=inherited\n"
	    "inherited-from=buckets/base/iterations/b1\n", by);
	ck_assert_str_eq(record(s1), want);
	ck_assert_int_eq(lin_revocation_get(R, s1, &v, &E), 0);
	ck_assert(v.scheduled && v.inherited);
	ck_assert_int_eq(v.from_id, b1);
	lin_time_format(v.at, ts);
	ck_assert_str_eq(ts, "2031-02-03T04:05:06Z");
	ck_assert_str_eq(v.reason, "later");
	check_log();
}
END_TEST

/* An explicit revocation outranks an inherited one. */
START_TEST(test_explicit_outranks_inherited)
{
	lineage();
	ok_revoke(s1, "own reason");
	ok_revoke(b1, "base reason");
	ck_assert_str_eq(field(s1, "type"), "manual");
	ck_assert_str_eq(field(s1, "reason"), "own reason");
	ck_assert_str_eq(field(a1, "reason"), "base reason");
	/* no inherited revoke event for s1: it was revoked already */
	ck_assert_int_eq(fx_count_events("action=revoke bucket=svc", NULL,
	    NULL), 1);
	/* an explicit one set later than an inherited one still wins */
	ok_restore(s1, "");
	ck_assert_str_eq(field(s1, "type"), "inherited");
	check_log();
}
END_TEST

/* Several explicit: the earliest; several inherited: the earliest. */
START_TEST(test_earliest_wins)
{
	int64_t other, o1, c;

	lineage();
	ok_revoke(s1, "in=2d two days");
	ok_revoke(s1, "in=1d one day");
	ck_assert_str_eq(field(s1, "reason"), "one day");
	ok_revoke(s1, "in=3d three days");
	ck_assert_str_eq(field(s1, "reason"), "one day");
	/* a child of two scheduled parents in different buckets */
	other = fx_bucket("other");
	o1 = fx_active(other, "o1");
	ok_revoke(o1, "in=5h five hours");
	ok_revoke(a2, "in=9h nine hours");
	c = fx_running(svc, "c");
	fx_link(c, "app/iterations/a2");
	fx_link(c, "other/iterations/o1");
	ck_assert_str_eq(fx_word(c), "scheduled");
	ck_assert_str_eq(field(c, "reason"), "five hours");
	ck_assert_str_eq(field(c, "inherited-from"),
	    "buckets/other/iterations/o1");
	/* revoked now beats both */
	ok_revoke(b1, "now");
	ck_assert_str_eq(field(c, "reason"), "now");
	ck_assert_str_eq(fx_word(c), "revoked");
	ck_assert_str_eq(field(c, "inherited-from"),
	    "buckets/base/iterations/b1");
	check_log();
}
END_TEST

/* r -> x, y -> z (diamond): z inherits once, and its event is single. */
START_TEST(test_diamond)
{
	int64_t b, r, x, y, z;

	b = fx_bucket("dia");
	r = fx_running(b, "r");
	x = fx_running(b, "x");
	y = fx_running(b, "y");
	z = fx_running(b, "z");
	fx_link(x, "dia/iterations/r");
	fx_link(y, "dia/iterations/r");
	fx_link(z, "dia/iterations/x");
	fx_link(z, "dia/iterations/y");
	ok_revoke(r, "diamond");
	ck_assert_str_eq(fx_word(z), "revoked");
	ck_assert_int_eq(fx_count_events("action=revoke", "iteration=z ",
	    NULL), 1);
	ok_restore(r, "");
	ck_assert_str_eq(fx_word(z), "running");
	ck_assert_int_eq(fx_count_events("action=restore", "iteration=z ",
	    NULL), 1);
	check_log();
}
END_TEST

/* Rollback walks the channel's own history back to a valid iteration. */
START_TEST(test_rollback_history)
{
	int64_t v1, v2, v3;

	base = fx_bucket("base");
	v1 = fx_active(base, "v1");
	v2 = fx_active(base, "v2");
	v3 = fx_active(base, "v3");
	fx_active(base, "v4");
	fx_assign(base, "prod", "v1");
	fx_assign(base, "prod", "v2");
	fx_assign(base, "prod", "v3");
	fx_assign(base, "other", "v4");
	ok_revoke(v3, "bad");
	ck_assert_str_eq(fx_channel(base, "prod"), "v2");
	ck_assert_int_eq(fx_count_events("action=assign bucket=base "
	    "channel=prod from=v3 to=v2", "via=rollback", NULL), 1);
	/* v2 is skipped once revoked: v3 (revoked) and v2 are not valid */
	ok_revoke(v2, "bad too");
	ck_assert_str_eq(fx_channel(base, "prod"), "v1");
	/* nothing valid left: the channel goes */
	ok_revoke(v1, "all bad");
	ck_assert_str_eq(fx_channel(base, "prod"), "");
	ck_assert_int_eq(fx_count_events("action=unassign bucket=base "
	    "channel=prod from=v1 to=-", "via=rollback", NULL), 1);
	ck_assert_str_eq(fx_channel(base, "other"), "v4");
	ck_assert_str_eq(fx_channel(base, "latest"), "v4");
	/* restoring never reassigns */
	ok_restore(v3, "fixed");
	ck_assert_str_eq(fx_channel(base, "prod"), "");
	ck_assert_int_eq(fx_count_events("action=restore bucket=base "
	    "iteration=v3 ", "comment=fixed", NULL), 1);
	check_log();
}
END_TEST

/* A channel pointing at a descendant in another bucket rolls back too,
 * to a scheduled iteration if need be (scheduled is still valid). */
START_TEST(test_rollback_descendant_channel)
{
	int64_t a0;

	lineage();
	a0 = fx_active(app, "a0");
	fx_assign(app, "prod", "a0");
	ok_revoke(a0, "in=1d later");
	fx_assign(app, "prod", "a1");
	fx_assign(svc, "prod", "s1");
	ok_revoke(b1, "cascade");
	ck_assert_str_eq(fx_channel(app, "prod"), "a0");
	ck_assert_str_eq(fx_channel(svc, "prod"), "");
	ck_assert_str_eq(fx_channel(app, "latest"), "a0");
	check_log();
}
END_TEST

/*
 * One cascade rolls back the channels of several buckets at once, each by
 * its own history: back one step, back past a revoked entry to a
 * scheduled iteration, or deleted when nothing valid is left; a
 * channel off the cascade stays.  Every move is one event, in channel
 * order, byte for byte what a single move writes.
 */
START_TEST(test_rollback_many_channels)
{
	int64_t a0, a3, s0, s2;
	struct lin_buf want;
	char by[64], *log, *p, *q, *u1, *u2;

	lineage();
	a0 = fx_active(app, "a0");
	a3 = fx_active(app, "a3");
	s0 = fx_active(svc, "s0");
	s2 = fx_active(svc, "s2");
	/* app/prod: a0, a1 -> back to a0 */
	fx_assign(app, "prod", "a0");
	fx_assign(app, "prod", "a1");
	/* app/test: a3 (revoked below), a2 -> nothing valid: deleted */
	fx_assign(app, "test", "a3");
	fx_assign(app, "test", "a2");
	/* svc/prod: s0 (scheduled), s2 (revoked), s1 -> back to s0 */
	fx_assign(svc, "prod", "s0");
	fx_assign(svc, "prod", "s2");
	fx_assign(svc, "prod", "s1");
	/* svc/other on s0: not in the cascade */
	fx_assign(svc, "other", "s0");
	/* base/prod on b1: history b1 only -> deleted */
	fx_assign(base, "prod", "b1");
	ok_revoke(a3, "gone");
	ok_revoke(s2, "gone too");
	ok_revoke(s0, "in=2d later");
	ok_revoke(b1, "cascade");
	ck_assert_str_eq(fx_word(a0), "active");
	ck_assert_str_eq(fx_channel(app, "prod"), "a0");
	ck_assert_str_eq(fx_channel(app, "test"), "");
	ck_assert_str_eq(fx_channel(svc, "prod"), "s0");
	ck_assert_str_eq(fx_channel(svc, "other"), "s0");
	ck_assert_str_eq(fx_channel(base, "prod"), "");
	ck_assert_int_eq(fx_count_events("via=rollback", NULL, NULL), 4);
	ck_assert_int_eq(fx_count_events("action=assign bucket=app "
	    "channel=prod from=a1 to=a0", "via=rollback", NULL), 1);
	ck_assert_int_eq(fx_count_events("action=unassign bucket=app "
	    "channel=test from=a2 to=-", "via=rollback", NULL), 1);
	ck_assert_int_eq(fx_count_events("action=assign bucket=svc "
	    "channel=prod from=s1 to=s0", "via=rollback", NULL), 1);
	ck_assert_int_eq(fx_count_events("action=unassign bucket=base "
	    "channel=prod from=b1 to=-", "via=rollback", NULL), 1);
	/* the line of one move exactly, and the moves in channel order */
	lin_actor_name(A.uid, by, sizeof(by));
	lin_buf_init(&want);
	lin_ev_start(&want, "assign");
	lin_ev_kv(&want, "bucket", "svc");
	lin_ev_kv(&want, "channel", "prod");
	lin_ev_kv(&want, "from", "s1");
	lin_ev_kv(&want, "to", "s0");
	lin_ev_kv(&want, "by", by);
	lin_ev_kv(&want, "via", "rollback");
	lin_buf_puts(&want, "\n");
	log = fx_events();
	p = strstr(log, "action=assign bucket=app channel=prod from=a1");
	q = strstr(log, want.data);
	u1 = strstr(log, "action=unassign bucket=app");
	u2 = strstr(log, "action=unassign bucket=base");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_nonnull(u1);
	ck_assert_ptr_nonnull(u2);
	/* base/prod was made last, app's channels before svc's */
	ck_assert(p < u1 && u1 < q && q < u2);
	lin_buf_free(&want);
	/* latest is computed, never rolled back */
	ck_assert_str_eq(fx_channel(app, "latest"), "a0");
	check_log();
}
END_TEST

START_TEST(test_rollback_no_ebusy)
{
	lineage();
	fx_assign(svc, "prod", "s1");
	ck_assert_int_eq(do_revoke(b1, "rollback=no careful"), -EBUSY);
	ck_assert_ptr_nonnull(strstr(E.msg, "prod"));
	/* nothing changed */
	ck_assert_str_eq(fx_word(b1), "active");
	ck_assert_str_eq(fx_word(s1), "active");
	ck_assert_int_eq(fx_count_events("action=revoke", NULL, NULL), 0);
	/* descendants=no spares the channel on s1 */
	ok_revoke(b1, "rollback=no descendants=no careful");
	ck_assert_str_eq(fx_channel(svc, "prod"), "s1");
	/* rollback=no with no channel in the way works */
	ok_revoke(a2, "rollback=no fine");
	/* scheduled with rollback=no: no EBUSY */
	ok_revoke(s1, "in=1h rollback=no later");
	ck_assert_str_eq(fx_word(s1), "scheduled");
	check_log();
}
END_TEST

START_TEST(test_scheduled)
{
	int64_t due;

	lineage();
	fx_assign(svc, "prod", "s1");
	fx_assign(app, "prod", "a2");
	ok_revoke(b1, "in=1h planned");
	ck_assert_str_eq(fx_word(b1), "scheduled");
	ck_assert_str_eq(fx_word(s1), "scheduled");
	ck_assert_str_eq(field(s1, "state"), "scheduled");
	/* still valid: channels stay, latest counts it */
	ck_assert_str_eq(fx_channel(svc, "prod"), "s1");
	ck_assert_str_eq(fx_channel(base, "latest"), "b1");
	ck_assert_int_eq(fx_count_events("action=schedule-revocation bucket="
	    "base", "type=manual at=", "reason=planned"), 1);
	ck_assert_int_eq(fx_count_events("action=schedule-revocation bucket="
	    "svc", "type=inherited inherited-from=buckets/base/iterations/b1 "
	    "at=", NULL), 1);
	due = lin_reg_next_due(R);
	ck_assert_int_gt(due, lin_now() + 3500);
	ck_assert_int_eq(lin_reg_tick(R, &E), 0);
	/* the time comes: status is right before anything runs */
	fx_clock(3601);
	ck_assert_str_eq(fx_word(b1), "revoked");
	ck_assert_str_eq(fx_word(s1), "revoked");
	ck_assert_str_eq(field(s1, "state"), "revoked");
	ck_assert_str_eq(fx_channel(svc, "prod"), "s1");
	ck_assert_int_eq(do_revoke(s1, "late"), -EALREADY);
	/* and the tick applies it: rollback and revoke events, once */
	ck_assert_int_eq(lin_reg_tick(R, &E), 1);
	ck_assert_int_eq(lin_reg_tick(R, &E), 0);
	ck_assert_int_eq(lin_reg_next_due(R), 0);
	ck_assert_str_eq(fx_channel(svc, "prod"), "");
	ck_assert_str_eq(fx_channel(app, "prod"), "");
	ck_assert_int_eq(fx_count_events("action=revoke bucket=base",
	    "type=manual", "reason=planned"), 1);
	ck_assert_int_eq(fx_count_events("action=revoke ", "type=inherited",
	    NULL), 3);
	check_log();
}
END_TEST

/* A scheduled revocation that fell due while the registry was closed
 * takes effect when it is opened. */
START_TEST(test_scheduled_applied_on_open)
{
	lineage();
	fx_assign(svc, "prod", "s1");
	ok_revoke(a1, "in=10m planned");
	lin_reg_close(R);
	fx_clock(601);
	ck_assert_int_eq(lin_reg_open(regpath, 0, &R, &E), 0);
	ck_assert_str_eq(fx_channel(svc, "prod"), "");
	ck_assert_int_eq(fx_count_events("action=revoke bucket=svc",
	    "type=inherited", NULL), 1);
	check_log();
}
END_TEST

START_TEST(test_scheduled_rollback_no)
{
	lineage();
	fx_assign(svc, "prod", "s1");
	ok_revoke(b1, "in=1m rollback=no keep channels");
	fx_clock(61);
	ck_assert_int_eq(lin_reg_tick(R, &E), 1);
	ck_assert_str_eq(fx_word(s1), "revoked");
	ck_assert_str_eq(fx_channel(svc, "prod"), "s1");
	check_log();
}
END_TEST

/* Revoking a scheduled iteration again is allowed; the earliest wins. */
START_TEST(test_revoke_scheduled_now)
{
	lineage();
	ok_revoke(b1, "in=1d later");
	ok_revoke(a1, "in=1d own later");
	ok_revoke(b1, "now after all");
	ck_assert_str_eq(fx_word(b1), "revoked");
	ck_assert_str_eq(field(b1, "reason"), "now after all");
	ck_assert_str_eq(fx_word(s1), "revoked");
	/* a1's explicit schedule outranks what it inherits (SPEC §5.4) */
	ck_assert_str_eq(fx_word(a1), "scheduled");
	ck_assert_str_eq(field(a1, "reason"), "own later");
	/* restoring b1 takes away its scheduled row too */
	ok_restore(b1, "");
	ck_assert_str_eq(fx_word(b1), "active");
	ck_assert_str_eq(fx_word(s1), "scheduled");
	ck_assert_str_eq(field(s1, "inherited-from"),
	    "buckets/app/iterations/a1");
	check_log();
}
END_TEST

START_TEST(test_restore_errors)
{
	lineage();
	ck_assert_int_eq(do_restore(b1, "nothing"), -EINVAL);
	ok_revoke(b1, "x");
	ck_assert_int_eq(do_restore(s1, "no"), -EPERM);
	ck_assert_ptr_nonnull(strstr(E.msg, "buckets/base/iterations/b1"));
	ck_assert_int_eq(do_restore(b1, "bad\001byte"), -EINVAL);
	ck_assert_str_eq(fx_word(b1), "revoked");
	ok_restore(b1, "");
	ck_assert_int_eq(do_restore(b1, ""), -EINVAL);
	check_log();
}
END_TEST

/* Restoring keeps an explicit revocation further down, and an inherited
 * one from another revoked ancestor. */
START_TEST(test_restore_keeps_others)
{
	int64_t other, o1, c;

	lineage();
	other = fx_bucket("other");
	o1 = fx_active(other, "o1");
	c = fx_running(svc, "c");
	fx_link(c, "app/iterations/a2");
	fx_link(c, "other/iterations/o1");
	ok_revoke(s1, "grandchild's own");
	ok_revoke(o1, "other base");
	ok_revoke(b1, "base");
	ck_assert_str_eq(field(c, "inherited-from"),
	    "buckets/other/iterations/o1");
	ok_restore(b1, "false alarm");
	ck_assert_str_eq(fx_word(b1), "active");
	ck_assert_str_eq(fx_word(a1), "active");
	ck_assert_str_eq(fx_word(a2), "active");
	ck_assert_str_eq(fx_word(s1), "revoked");
	ck_assert_str_eq(field(s1, "type"), "manual");
	ck_assert_str_eq(fx_word(c), "revoked");
	ck_assert_str_eq(field(c, "inherited-from"),
	    "buckets/other/iterations/o1");
	/* events: b1, a1 and a2 restored; s1 and c did not change */
	ck_assert_int_eq(fx_count_events("action=restore bucket=base", "type="
	    "manual", "comment=\"false alarm\""), 1);
	ck_assert_int_eq(fx_count_events("action=restore ", "type=inherited "
	    "inherited-from=buckets/base/iterations/b1", NULL), 2);
	ck_assert_int_eq(fx_count_events("action=restore bucket=svc", NULL,
	    NULL), 0);
	ck_assert_str_eq(fx_channel(base, "latest"), "b1");
	check_log();
}
END_TEST

START_TEST(test_cancel_scheduled)
{
	lineage();
	ok_revoke(b1, "in=1d maybe");
	ok_restore(b1, "");
	ck_assert_str_eq(fx_word(b1), "active");
	ck_assert_str_eq(fx_word(s1), "active");
	ck_assert_int_eq(fx_count_events("action=cancel-revocation bucket=base",
	    NULL, NULL), 1);
	ck_assert_int_eq(fx_count_events("action=cancel-revocation ",
	    "type=inherited", NULL), 3);
	ck_assert_int_eq(lin_reg_next_due(R), 0);
	check_log();
}
END_TEST

/* A new link to a scheduled parent hands the schedule down, to the child
 * and to what already descends from the child. */
START_TEST(test_link_inherits_schedule)
{
	int64_t c, g, link = 0;
	struct lin_link l;

	lineage();
	ok_revoke(a1, "in=2h soon");
	c = fx_running(svc, "c");
	g = fx_running(svc, "g");
	fx_link(g, "svc/iterations/c");
	fx_link(c, "app/iterations/a1");
	ck_assert_str_eq(fx_word(c), "scheduled");
	ck_assert_str_eq(fx_word(g), "scheduled");
	ck_assert_str_eq(field(g, "inherited-from"),
	    "buckets/app/iterations/a1");
	ck_assert_int_eq(fx_count_events("action=schedule-revocation",
	    "iteration=g ", "type=inherited"), 1);
	/* a link to s1, which inherited a1's schedule, does the same */
	ck_assert_int_eq(lin_link_by_name(R, c, true, "app@a1", &l, &E), 0);
	link = l.id;
	ck_assert_int_eq(lin_parent_remove(R, &A, c, link, &E), 0);
	ck_assert_str_eq(fx_word(c), "running");
	ck_assert_str_eq(fx_word(g), "running");
	ck_assert_int_eq(fx_count_events("action=cancel-revocation",
	    "iteration=g ", "type=inherited"), 1);
	fx_link(c, "svc/iterations/s1");
	ck_assert_str_eq(fx_word(g), "scheduled");
	ck_assert_str_eq(field(g, "inherited-from"),
	    "buckets/app/iterations/a1");
	/* when it falls due, c and g are revoked with the rest */
	fx_clock(7201);
	ck_assert_int_eq(lin_reg_tick(R, &E), 1);
	ck_assert_int_eq(fx_count_events("action=revoke", "iteration=g ",
	    "type=inherited"), 1);
	check_log();
}
END_TEST

/* Removing one of two paths from a scheduled ancestor keeps the schedule. */
START_TEST(test_remove_keeps_other_path)
{
	int64_t c;
	struct lin_link l;

	lineage();
	ok_revoke(b1, "in=2h soon");
	c = fx_running(svc, "c");
	fx_link(c, "app/iterations/a1");
	fx_link(c, "app/iterations/a2");
	ck_assert_int_eq(lin_link_by_name(R, c, true, "app@a1", &l, &E), 0);
	ck_assert_int_eq(lin_parent_remove(R, &A, c, l.id, &E), 0);
	ck_assert_str_eq(fx_word(c), "scheduled");
	ck_assert_int_eq(lin_link_by_name(R, c, true, "app@a2", &l, &E), 0);
	ck_assert_int_eq(lin_parent_remove(R, &A, c, l.id, &E), 0);
	ck_assert_str_eq(fx_word(c), "running");
	check_log();
}
END_TEST

/* A parent whose own explicit schedule hides a revocation that is already
 * in effect above it: a child linked there would be revoked at once. */
START_TEST(test_link_to_hidden_revoked)
{
	int64_t c;

	lineage();
	ok_revoke(a1, "in=1d own");
	ok_revoke(b1, "now");
	ck_assert_str_eq(fx_word(a1), "scheduled");
	c = fx_running(svc, "c");
	ck_assert_int_eq(fx_parent(c, "app/iterations/a1"), -EKEYREVOKED);
	ck_assert_str_eq(fx_word(c), "running");
	check_log();
}
END_TEST

/* A wider cascade in the fast suite: every event line in place. */
START_TEST(test_cascade_medium)
{
	int64_t b, root, ids[2001];
	char fp[32], path[64];
	int n = 1;

	b = fx_bucket("wide");
	ck_assert_int_eq(lin_tx_begin(R, &E), 0);
	root = ids[0] = fx_running(b, "n0");
	for (int i = 1; i <= 2000; i++) {
		snprintf(fp, sizeof(fp), "n%d", i);
		ids[n++] = fx_running(b, fp);
		snprintf(path, sizeof(path), "wide/iterations/n%d", (i - 1) / 7);
		fx_link(ids[i], path);
	}
	ck_assert_int_eq(lin_tx_end(R, 0, &E), 0);
	ok_revoke(root, "in=1d wide");
	ck_assert_str_eq(fx_word(ids[2000]), "scheduled");
	fx_clock(86401);
	ck_assert_int_eq(lin_reg_tick(R, &E), 1);
	ck_assert_int_eq(fx_count_events("action=revoke ", "type=inherited",
	    NULL), 2000);
	ok_restore(root, "");
	ck_assert_int_eq(fx_count_events("action=restore ", "type=inherited",
	    NULL), 2000);
	check_log();
}
END_TEST

/* Run SQL on the registry file behind the engine's back; the integer its
 * first row gives (or 0). */
static long long
raw_sql(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = 0;
	int rc;

	ck_assert_int_eq(sqlite3_open(regpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	while (sql && *sql) {
		ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, &sql) ==
		    SQLITE_OK, "%s", sqlite3_errmsg(db));
		if (st == NULL)
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		ck_assert_int_eq(rc, SQLITE_DONE);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/*
 * The set-based append under every cascade's events (lin_ev_rows): 100010
 * lines, then a batch of 3000, stored many lines to a row.  Every line
 * reads back at its offset, a read across rows gives the bytes of the
 * whole file there, and the registry's own check passes.
 */
static const char ev_rows_sql[] = LIN_EV_ROWS("g.k",
    "'action=test k=' || CAST(g.k AS TEXT)",
    "(WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r "
    "WHERE k < ?1) SELECT k FROM r) g");

static void
ev_rows_batch(int64_t n)
{
	struct lin_buf tail;
	sqlite3_stmt *st;

	lin_buf_init(&tail);
	lin_buf_puts(&tail, " by=test\n");
	ck_assert_int_eq(lin_tx_begin(R, &E), 0);
	st = lin_sql(R, ev_rows_sql);
	ck_assert_ptr_nonnull(st);
	sqlite3_bind_int64(st, 1, n);
	ck_assert_msg(lin_ev_rows(R, st, lin_now(), &tail, &E) == 0, "rows: %s",
	    E.msg);
	ck_assert_int_eq(lin_tx_end(R, 0, &E), 0);
	lin_buf_free(&tail);
}

START_TEST(test_event_rows_offsets)
{
	const char *log;
	struct lin_buf b;
	int64_t size;
	long long rows;

	ev_rows_batch(100010);
	ev_rows_batch(3000);
	ck_assert_int_eq(fx_count_events(" action=test k=", NULL, NULL),
	    103010);
	ck_assert_int_eq(fx_count_events(" seq=100010 action=test k=100010 "
	    "by=test", NULL, NULL), 1);
	ck_assert_int_eq(fx_count_events(" seq=100011 action=test k=1 "
	    "by=test", NULL, NULL), 1);
	ck_assert_int_eq(fx_count_events(" seq=103010 action=test k=3000 "
	    "by=test", NULL, NULL), 1);
	check_log();
	log = fx_events();
	ck_assert_int_eq(lin_events_size(R, &size, &E), 0);
	ck_assert_int_eq(size, (int64_t)strlen(log));
	/* a few hundred rows, not one per line */
	rows = raw_sql("SELECT count(*) FROM events");
	ck_assert_int_gt(rows, 10);
	ck_assert_int_lt(rows, 1000);
	/* 200 KB from the middle of a row, across several */
	lin_buf_init(&b);
	ck_assert_int_eq(lin_events_read(R, 54321, 200000, &b, &E), 0);
	ck_assert_uint_eq(b.len, 200000);
	ck_assert(memcmp(b.data, log + 54321, 200000) == 0);
	lin_buf_free(&b);
}
END_TEST

/*
 * A registry of an older schema, made by undoing one migration's indexes
 * (`downgrade`), gets them back when opened: `cols`, a count of index
 * columns, reads `was` before and `now` after, the version is the current
 * one, and a revocation made before the upgrade reads and restores the
 * same.
 */
static void
check_upgrade(const char *cols, long long now, const char *downgrade,
    long long was)
{
	lineage();
	ok_revoke(b1, "before the upgrade");
	ck_assert_int_eq(raw_sql(cols), now);
	lin_reg_close(R);
	R = NULL;
	raw_sql(downgrade);
	ck_assert_int_eq(raw_sql(cols), was);
	ck_assert_int_eq(lin_reg_open(regpath, 0, &R, &E), 0);
	ck_assert_int_eq(raw_sql(cols), now);
	ck_assert_int_eq(raw_sql("PRAGMA user_version;"), LIN_SCHEMA_VERSION);
	ck_assert_str_eq(fx_word(s1), "revoked");
	ck_assert_str_eq(field(s1, "inherited-from"),
	    "buckets/base/iterations/b1");
	ok_restore(b1, "");
	ck_assert_str_eq(fx_word(s1), "active");
	ok_revoke(b1, "after the upgrade");
	ck_assert_str_eq(fx_word(s1), "revoked");
	check_log();
}

/* Schema 5 widens the revocation indexes (iteration; origin). */
START_TEST(test_schema_v5_indexes)
{
	check_upgrade("SELECT (SELECT count(*) FROM pragma_index_info("
	    "'revocations_iteration')) * 10 + (SELECT count(*) FROM "
	    "pragma_index_info('revocations_origin'));", 32,
	    "DROP INDEX revocations_iteration; CREATE INDEX "
	    "revocations_iteration ON revocations (iteration_id); DROP INDEX "
	    "revocations_origin; CREATE INDEX revocations_origin ON "
	    "revocations (origin_id); PRAGMA user_version = 4;", 11);
}
END_TEST

/* Schema 6 widens the link indexes to cover both ends (parent; child)
 * and the channel history's to hold where each entry pointed. */
START_TEST(test_schema_v6_links)
{
	check_upgrade("SELECT (SELECT count(*) FROM pragma_index_info("
	    "'links_parent')) * 100 + (SELECT count(*) FROM "
	    "pragma_index_info('links_child')) * 10 + (SELECT count(*) FROM "
	    "pragma_index_info('assignments_channel'));", 224,
	    "DROP INDEX links_child; CREATE INDEX links_child ON links "
	    "(child_id); DROP INDEX links_parent; CREATE INDEX links_parent "
	    "ON links (parent_id); DROP INDEX assignments_channel; CREATE "
	    "INDEX assignments_channel ON assignments (bucket_id, channel, "
	    "id); PRAGMA user_version = 5;", 113);
}
END_TEST

/* ---- slow: 100k descendants ---- */

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Depth of node i in a tree numbered breadth first with fan-out 10. */
static int
depth_of(int i)
{
	int d = 0;

	for (; i > 0; i = (i - 1) / 10)
		d++;
	return d;
}

static const char *const big_buckets[] = { "base", "mid", "leaf" };

/* A tree of n descendants under one root, fan-out 10, across three
 * buckets by depth, built through the public API in one transaction. */
static int64_t
big_tree(int n)
{
	int64_t bk[3], root;
	char fp[32], path[64];
	double t0 = seconds();

	for (int k = 0; k < 3; k++)
		bk[k] = fx_bucket(big_buckets[k]);
	ck_assert_int_eq(lin_tx_begin(R, &E), 0);
	root = fx_running(bk[0], "n0");
	for (int i = 1; i <= n; i++) {
		int p = (i - 1) / 10, dc = depth_of(i), dp = depth_of(p);
		int64_t c;

		snprintf(fp, sizeof(fp), "n%d", i);
		c = fx_running(bk[dc < 2 ? dc : 2], fp);
		snprintf(path, sizeof(path), "%s/iterations/n%d",
		    big_buckets[dp < 2 ? dp : 2], p);
		fx_link(c, path);
	}
	ck_assert_int_eq(lin_tx_end(R, 0, &E), 0);
	fprintf(stderr, "built %d descendants in %.2f s\n", n,
	    seconds() - t0);
	return root;
}

START_TEST(test_cascade_100k)
{
	int64_t root = big_tree(100000), leaf;
	struct lin_iteration it;
	double t0, t;

	ck_assert_int_eq(lin_iteration_by_fingerprint(R, 3, "n100000", &it,
	    &E), 0);
	leaf = it.id;
	t0 = seconds();
	ok_revoke(root, "CVE-2026-0001 everything");
	t = seconds() - t0;
	fprintf(stderr, "revoke (immediate, 100k descendants): %.3f s\n", t);
	ck_assert_str_eq(fx_word(leaf), "revoked");
	t0 = seconds();
	ok_restore(root, "");
	t = seconds() - t0;
	fprintf(stderr, "restore (100k descendants): %.3f s\n", t);
	ck_assert_str_eq(fx_word(leaf), "running");
	t0 = seconds();
	ok_revoke(root, "in=1h scheduled");
	t = seconds() - t0;
	fprintf(stderr, "revoke (scheduled, 100k descendants): %.3f s\n", t);
	fx_clock(3601);
	t0 = seconds();
	ck_assert_int_eq(lin_reg_tick(R, &E), 1);
	t = seconds() - t0;
	fprintf(stderr, "apply due (100k descendants): %.3f s\n", t);
	ck_assert_str_eq(fx_word(leaf), "revoked");
	t0 = seconds();
	ck_assert_uint_gt(strlen(fx_render(lin_render_descendants, root)),
	    100000);
	fprintf(stderr, "descendants (100k): %.3f s\n", seconds() - t0);
	t0 = seconds();
	ck_assert_uint_gt(strlen(fx_render(lin_render_tree, root)), 100000);
	fprintf(stderr, "tree (100k): %.3f s\n", seconds() - t0);
	ck_assert_int_eq(fx_count_events("action=revoke ", "type=inherited",
	    NULL), 200000);
}
END_TEST

static Suite *
revoke_suite(void)
{
	Suite *s = suite_create("revoke");
	TCase *tc = tcase_create("revoke");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_immediate_cascade);
	tcase_add_test(tc, test_event_lines_identical);
	tcase_add_test(tc, test_descendants_no);
	tcase_add_test(tc, test_grammar_and_enoent);
	tcase_add_test(tc, test_erofs);
	tcase_add_test(tc, test_record);
	tcase_add_test(tc, test_explicit_outranks_inherited);
	tcase_add_test(tc, test_earliest_wins);
	tcase_add_test(tc, test_diamond);
	tcase_add_test(tc, test_rollback_history);
	tcase_add_test(tc, test_rollback_descendant_channel);
	tcase_add_test(tc, test_rollback_many_channels);
	tcase_add_test(tc, test_rollback_no_ebusy);
	tcase_add_test(tc, test_scheduled);
	tcase_add_test(tc, test_scheduled_applied_on_open);
	tcase_add_test(tc, test_scheduled_rollback_no);
	tcase_add_test(tc, test_revoke_scheduled_now);
	tcase_add_test(tc, test_restore_errors);
	tcase_add_test(tc, test_restore_keeps_others);
	tcase_add_test(tc, test_cancel_scheduled);
	tcase_add_test(tc, test_link_inherits_schedule);
	tcase_add_test(tc, test_remove_keeps_other_path);
	tcase_add_test(tc, test_link_to_hidden_revoked);
	tcase_add_test(tc, test_cascade_medium);
	tcase_add_test(tc, test_schema_v5_indexes);
	tcase_add_test(tc, test_schema_v6_links);
	tcase_add_test(tc, test_event_rows_offsets);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
slow_suite(void)
{
	Suite *s = suite_create("slow");
	TCase *tc = tcase_create("cascade");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_cascade_100k);
	suite_add_tcase(s, tc);
	return s;
}

/* The 100k cascade runs only when asked (LINEAGE_SLOW_TESTS=1): meson
 * runs it as its own test in the `slow` suite. */
int
main(void)
{
	const char *slow = getenv("LINEAGE_SLOW_TESTS");
	SRunner *sr;
	int failed;

	if (slow && strcmp(slow, "1") == 0)
		sr = srunner_create(slow_suite());
	else
		sr = srunner_create(revoke_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
