/*
 * test_parse.c — unit tests of the pure parsers (src/parse/): every name
 * and value rule of SPEC §3, the revoke line of §5.3, times, durations,
 * ULIDs, iteration references (§2, §4) and artifact names, each accepted
 * and refused form with the exact errno.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lineage/parse.h"

/* A string of n copies of c (static storage, one at a time per slot). */
static const char *
rep(int slot, char c, size_t n)
{
	static char bufs[4][8192];

	ck_assert_uint_lt(n, sizeof(bufs[0]));
	memset(bufs[slot], c, n);
	bufs[slot][n] = '\0';
	return bufs[slot];
}

/* ---------------------------------------------------------------- names */

START_TEST(bucket_accepts)
{
	struct lin_err e = { 0 };

	ck_assert_int_eq(lin_name_bucket("abc", &e), 0);
	ck_assert_int_eq(lin_name_bucket("base", &e), 0);
	ck_assert_int_eq(lin_name_bucket("Web-Frontend-2", &e), 0);
	ck_assert_int_eq(lin_name_bucket("---", &e), 0);
	ck_assert_int_eq(lin_name_bucket("123", &e), 0);
	ck_assert_int_eq(lin_name_bucket(rep(0, 'z', 36), &e), 0);
	ck_assert_int_eq(e.code, 0);
}
END_TEST

START_TEST(bucket_refuses)
{
	static const char *bad[] = {
		"", "a", "ab", "a_b", "a.b", "abc.", ".abc", "ab/c", "a b",
		"abc\n", "ab\tc", "caf\xc3\xa9", "...", "..", "a+b", "a:b",
		"ab@c",
	};
	struct lin_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		ck_assert_msg(lin_name_bucket(bad[i], &e) == -EINVAL,
		    "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(e.code, EINVAL);
		ck_assert_str_eq(e.msg,
		    "a bucket name is 3 to 36 letters, digits or dashes");
	}
	ck_assert_int_eq(lin_name_bucket(rep(0, 'a', 37), &e), -EINVAL);
	ck_assert_int_eq(lin_name_bucket(rep(0, 'a', 255), &e), -EINVAL);
	ck_assert_int_eq(lin_name_bucket(rep(0, 'a', 256), &e), -ENAMETOOLONG);
	ck_assert_int_eq(e.code, ENAMETOOLONG);
	ck_assert_int_eq(lin_name_bucket(NULL, &e), -EINVAL);
	/* A NULL error sink is allowed everywhere. */
	ck_assert_int_eq(lin_name_bucket("ab", NULL), -EINVAL);
}
END_TEST

START_TEST(channel_rules)
{
	struct lin_err e;

	ck_assert_int_eq(lin_name_channel("production", &e), 0);
	ck_assert_int_eq(lin_name_channel("latest", &e), 0);
	ck_assert_int_eq(lin_name_channel("dev-2", &e), 0);
	ck_assert_int_eq(lin_name_channel(rep(0, 'c', 36), &e), 0);
	ck_assert_int_eq(lin_name_channel("qa", &e), -EINVAL);
	ck_assert_str_eq(e.msg,
	    "a channel name is 3 to 36 letters, digits or dashes");
	ck_assert_int_eq(lin_name_channel(rep(0, 'c', 37), &e), -EINVAL);
	ck_assert_int_eq(lin_name_channel("prod.1", &e), -EINVAL);
	ck_assert_int_eq(lin_name_channel("prod_1", &e), -EINVAL);
	ck_assert_int_eq(lin_name_channel(".tmp", &e), -EINVAL);
	ck_assert_int_eq(lin_name_channel(rep(0, 'c', 300), &e),
	    -ENAMETOOLONG);
}
END_TEST

START_TEST(fingerprint_accepts)
{
	struct lin_err e;

	ck_assert_int_eq(lin_name_fingerprint("a", &e), 0);
	ck_assert_int_eq(lin_name_fingerprint("7", &e), 0);
	ck_assert_int_eq(lin_name_fingerprint("01JD8X2Q", &e), 0);
	ck_assert_int_eq(lin_name_fingerprint("a.b_c-d", &e), 0);
	ck_assert_int_eq(lin_name_fingerprint("a..b", &e), 0);
	ck_assert_int_eq(lin_name_fingerprint("e3b0c44298fc1c149afbf4c8996fb92427ae41e4", &e), 0);
	ck_assert_int_eq(lin_name_fingerprint(rep(0, 'f', 40), &e), 0);
}
END_TEST

START_TEST(fingerprint_refuses)
{
	static const char *bad[] = {
		"", ".", "..", ".a", "a.", "-a", "a-", "_a", "a_", "a/b",
		"a b", "a:b", "a\n", "\xc3\xa9", "a@b", "a~",
	};
	struct lin_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		ck_assert_msg(lin_name_fingerprint(bad[i], &e) == -EINVAL,
		    "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(e.code, EINVAL);
		ck_assert_ptr_nonnull(strstr(e.msg, "fingerprint"));
	}
	ck_assert_int_eq(lin_name_fingerprint(rep(0, 'f', 41), &e), -EINVAL);
	ck_assert_int_eq(lin_name_fingerprint(rep(0, 'f', 256), &e),
	    -ENAMETOOLONG);
	ck_assert_int_eq(lin_name_fingerprint(NULL, &e), -EINVAL);
}
END_TEST

START_TEST(key_accepts)
{
	struct lin_err e;

	ck_assert_int_eq(lin_name_key("a", &e), 0);
	ck_assert_int_eq(lin_name_key("us-east-1", &e), 0);
	ck_assert_int_eq(lin_name_key("amazon-ebs.ubuntu", &e), 0);
	ck_assert_int_eq(lin_name_key("-x", &e), 0);
	ck_assert_int_eq(lin_name_key("_x", &e), 0);
	ck_assert_int_eq(lin_name_key("x.", &e), 0);
	ck_assert_int_eq(lin_name_key("x-", &e), 0);
	ck_assert_int_eq(lin_name_key("a..b", &e), 0);
	ck_assert_int_eq(lin_name_key(rep(0, 'k', 128), &e), 0);
}
END_TEST

START_TEST(key_refuses)
{
	static const char *bad[] = {
		"", ".", "..", ".x", ".hidden", "a/b", "a b", "a:b", "a=b",
		"a\t", "\xc3\xa9",
	};
	struct lin_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		ck_assert_msg(lin_name_key(bad[i], &e) == -EINVAL,
		    "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(e.code, EINVAL);
	}
	ck_assert_int_eq(lin_name_key(rep(0, 'k', 129), &e), -EINVAL);
	ck_assert_int_eq(lin_name_key(rep(0, 'k', 255), &e), -EINVAL);
	ck_assert_int_eq(lin_name_key(rep(0, 'k', 256), &e), -ENAMETOOLONG);
	ck_assert_int_eq(lin_name_key(NULL, &e), -EINVAL);
}
END_TEST

/* --------------------------------------------------------------- values */

/* Parse s as a value of kind; return the errno (0) and check the copy. */
static int
value(const char *s, size_t len, enum lin_value_kind kind, const char *want)
{
	struct lin_err e = { 0 };
	char *out = (char *)"untouched";
	int rc;

	rc = lin_value_parse(s, len, kind, &out, &e);
	if (rc == 0) {
		ck_assert_ptr_nonnull(out);
		if (want != NULL)
			ck_assert_str_eq(out, want);
		free(out);
	} else {
		ck_assert_str_eq(out, "untouched");
		ck_assert_int_eq(e.code, -rc);
		ck_assert_str_ne(e.msg, "");
	}
	return rc;
}

#define V(s, kind, want) value((s), sizeof(s) - 1, (kind), (want))

START_TEST(value_newline)
{
	ck_assert_int_eq(V("hello\n", LIN_VALUE_LINE, "hello"), 0);
	ck_assert_int_eq(V("hello", LIN_VALUE_LINE, "hello"), 0);
	ck_assert_int_eq(V("", LIN_VALUE_LINE, ""), 0);
	ck_assert_int_eq(V("\n", LIN_VALUE_LINE, ""), 0);
	ck_assert_int_eq(value(NULL, 0, LIN_VALUE_LINE, ""), 0);
	ck_assert_int_eq(V("a b  c \n", LIN_VALUE_LINE, "a b  c "), 0);
	/* Only one newline is dropped; another is a second line. */
	ck_assert_int_eq(V("a\n\n", LIN_VALUE_LINE, NULL), -EINVAL);
	ck_assert_int_eq(V("\n\n", LIN_VALUE_LINE, NULL), -EINVAL);
	ck_assert_int_eq(V("a\nb", LIN_VALUE_LINE, NULL), -EINVAL);
	ck_assert_int_eq(V("a\r\n", LIN_VALUE_LINE, NULL), -EINVAL);
}
END_TEST

START_TEST(value_text)
{
	ck_assert_int_eq(V("a\nb\n", LIN_VALUE_TEXT, "a\nb"), 0);
	ck_assert_int_eq(V("a\n\n", LIN_VALUE_TEXT, "a\n"), 0);
	ck_assert_int_eq(V("col\tcol", LIN_VALUE_TEXT, "col\tcol"), 0);
	ck_assert_int_eq(V("col\tcol", LIN_VALUE_LINE, NULL), -EINVAL);
	ck_assert_int_eq(V("dos\r\nline", LIN_VALUE_TEXT, NULL), -EINVAL);
	ck_assert_int_eq(V("bell\a", LIN_VALUE_TEXT, NULL), -EINVAL);
	ck_assert_int_eq(V("\x1b[31mred", LIN_VALUE_TEXT, NULL), -EINVAL);
}
END_TEST

START_TEST(value_sizes)
{
	char big[LIN_TEXT_MAX + 2];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(value(big, LIN_VALUE_MAX, LIN_VALUE_LINE, NULL), 0);
	ck_assert_int_eq(value(big, LIN_VALUE_MAX + 1, LIN_VALUE_LINE, NULL),
	    -EFBIG);
	big[LIN_VALUE_MAX] = '\n';
	ck_assert_int_eq(value(big, LIN_VALUE_MAX + 1, LIN_VALUE_LINE, NULL),
	    0);
	big[LIN_VALUE_MAX] = 'x';
	ck_assert_int_eq(value(big, LIN_TEXT_MAX, LIN_VALUE_TEXT, NULL), 0);
	ck_assert_int_eq(value(big, LIN_TEXT_MAX + 1, LIN_VALUE_TEXT, NULL),
	    -EFBIG);
	big[LIN_TEXT_MAX] = '\n';
	ck_assert_int_eq(value(big, LIN_TEXT_MAX + 1, LIN_VALUE_TEXT, NULL),
	    0);
	/* Too long and malformed at once: the size is what is reported. */
	big[0] = '\x01';
	ck_assert_int_eq(value(big, LIN_TEXT_MAX + 2, LIN_VALUE_TEXT, NULL),
	    -EFBIG);
}
END_TEST

START_TEST(value_bytes)
{
	static const char nul[] = "a\0b";
	struct lin_err e;
	char *out;

	ck_assert_int_eq(lin_value_parse(nul, 3, LIN_VALUE_LINE, &out, &e),
	    -EINVAL);
	ck_assert_str_eq(e.msg, "a value cannot hold a NUL byte");
	ck_assert_int_eq(V("caf\xc3\xa9", LIN_VALUE_LINE, "caf\xc3\xa9"), 0);
	ck_assert_int_eq(V("\xf0\x9f\x90\xa7", LIN_VALUE_LINE, NULL), 0);
	ck_assert_int_eq(V("\x7f", LIN_VALUE_LINE, NULL), -EINVAL);
	ck_assert_int_eq(V("\xc2\x85", LIN_VALUE_TEXT, NULL), -EINVAL);
	ck_assert_int_eq(V("\xff", LIN_VALUE_LINE, NULL), -EINVAL);
}
END_TEST

START_TEST(utf8_wellformed)
{
	static const char *good[] = {
		"", "plain ascii ~!@#$%^&*()", "\xc2\xa0",	/* U+00A0 */
		"\xc3\xa9", "\xdf\xbf",				/* U+07FF */
		"\xe0\xa0\x80",					/* U+0800 */
		"\xe2\x82\xac",					/* euro */
		"\xed\x9f\xbf",					/* U+D7FF */
		"\xee\x80\x80",					/* U+E000 */
		"\xef\xbf\xbd",					/* U+FFFD */
		"\xf0\x90\x80\x80",				/* U+10000 */
		"\xf4\x8f\xbf\xbf",				/* U+10FFFF */
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(lin_utf8_clean(good[i], strlen(good[i]), false),
		    "refused case %zu", i);
}
END_TEST

START_TEST(utf8_malformed)
{
	static const char *bad[] = {
		"\x80",				/* stray continuation */
		"\xbf",
		"a\x80z",
		"\xc0\xaf",			/* overlong "/" */
		"\xc1\xbf",			/* overlong */
		"\xe0\x80\xaf",			/* overlong "/" */
		"\xe0\x9f\xbf",			/* overlong U+07FF */
		"\xf0\x80\x80\xaf",		/* overlong "/" */
		"\xf0\x8f\xbf\xbf",		/* overlong U+FFFF */
		"\xed\xa0\x80",			/* U+D800 */
		"\xed\xbf\xbf",			/* U+DFFF */
		"\xed\xa0\xbd\xed\xb8\x80",	/* surrogate pair */
		"\xf4\x90\x80\x80",		/* U+110000 */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",		/* 5-byte form */
		"\xfe", "\xff",
		"\xc3",				/* truncated */
		"\xe2\x82",
		"\xf0\x9f\x90",
		"\xc3\x28",			/* bad continuation */
		"\xe2\x28\xa1",
		"\xe2\x82\x28",
		"\xf0\x28\x8c\xbc",
		"\xf0\x90\x28\xbc",
		"\xf0\x90\x8c\x28",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!lin_utf8_clean(bad[i], strlen(bad[i]), false),
		    "accepted case %zu", i);
		ck_assert_msg(!lin_utf8_clean(bad[i], strlen(bad[i]), true),
		    "accepted case %zu (multiline)", i);
	}
	/* A truncated sequence at the end of the given length, even when
	 * the bytes after it would complete it. */
	ck_assert(!lin_utf8_clean("\xc3\xa9", 1, false));
	ck_assert(lin_utf8_clean("\xc3\xa9", 2, false));
}
END_TEST

START_TEST(utf8_controls)
{
	char c[2] = { 0, 0 };
	char u[3];
	int i;

	for (i = 0; i < 0x20; i++) {
		c[0] = (char)i;
		ck_assert_msg(!lin_utf8_clean(c, 1, false), "C0 %#x", i);
		ck_assert_msg(lin_utf8_clean(c, 1, true) == (i == '\n' ||
		    i == '\t'), "C0 %#x multiline", i);
	}
	ck_assert(!lin_utf8_clean("\x7f", 1, false));
	ck_assert(!lin_utf8_clean("\x7f", 1, true));
	/* C1: U+0080-U+009F, written C2 80 - C2 9F. */
	for (i = 0x80; i <= 0x9f; i++) {
		u[0] = (char)0xc2;
		u[1] = (char)i;
		ck_assert_msg(!lin_utf8_clean(u, 2, false), "C1 %#x", i);
		ck_assert_msg(!lin_utf8_clean(u, 2, true), "C1 %#x", i);
	}
	ck_assert(lin_utf8_clean("\xc2\xa0", 2, false));
	ck_assert(lin_utf8_clean(" ~", 2, false));
}
END_TEST

/* ---------------------------------------------------------------- times */

static const char *
fmt(int64_t t)
{
	static char out[LIN_TIME_MAX];

	lin_time_format(t, out);
	return out;
}

static int64_t
parse_ok(const char *s)
{
	struct lin_err e = { 0 };
	int64_t t = -1;

	ck_assert_msg(lin_time_parse(s, &t, &e) == 0, "refused %s: %s", s,
	    e.msg);
	return t;
}

static void
parse_bad(const char *s)
{
	struct lin_err e = { 0 };
	int64_t t = 12345;

	ck_assert_msg(lin_time_parse(s, &t, &e) == -EINVAL, "accepted %s", s);
	ck_assert_int_eq(e.code, EINVAL);
	ck_assert_int_eq(t, 12345);
}

START_TEST(time_format)
{
	ck_assert_str_eq(fmt(0), "1970-01-01T00:00:00Z");
	ck_assert_str_eq(fmt(1795599000), "2026-11-25T09:30:00Z");
	ck_assert_str_eq(fmt(1796083200), "2026-12-01T00:00:00Z");
	ck_assert_str_eq(fmt(-1), "1969-12-31T23:59:59Z");
	ck_assert_str_eq(fmt(951782400), "2000-02-29T00:00:00Z");
	ck_assert_str_eq(fmt(4107542399LL), "2100-02-28T23:59:59Z");
	ck_assert_str_eq(fmt(4107542400LL), "2100-03-01T00:00:00Z");
	ck_assert_str_eq(fmt(-62167219200LL), "0000-01-01T00:00:00Z");
	ck_assert_str_eq(fmt(253402300799LL), "9999-12-31T23:59:59Z");
	/* Out of four-digit years: clamped. */
	ck_assert_str_eq(fmt(INT64_MIN), "0000-01-01T00:00:00Z");
	ck_assert_str_eq(fmt(INT64_MAX), "9999-12-31T23:59:59Z");
	ck_assert_str_eq(fmt(253402300800LL), "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(time_parse)
{
	ck_assert_int_eq(parse_ok("2026-11-25T09:30:00Z"), 1795599000);
	ck_assert_int_eq(parse_ok("2026-11-25t09:30:00z"), 1795599000);
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(parse_ok("1969-12-31T23:59:59Z"), -1);
	ck_assert_int_eq(parse_ok("0000-01-01T00:00:00Z"), -62167219200LL);
	ck_assert_int_eq(parse_ok("9999-12-31T23:59:59Z"), 253402300799LL);
	/* Fractions are dropped, not rounded. */
	ck_assert_int_eq(parse_ok("2026-11-25T09:30:00.999Z"), 1795599000);
	ck_assert_int_eq(parse_ok("2026-11-25T09:30:00.0Z"), 1795599000);
	ck_assert_int_eq(parse_ok("2026-11-25T09:30:00.123456789012+00:00"),
	    1795599000);
	/* Offsets are converted to UTC. */
	ck_assert_int_eq(parse_ok("2026-11-25T11:30:00+02:00"), 1795599000);
	ck_assert_int_eq(parse_ok("2026-11-25T04:00:00-05:30"), 1795599000);
	ck_assert_int_eq(parse_ok("2026-11-25T09:30:00-00:00"), 1795599000);
	ck_assert_int_eq(parse_ok("2026-11-26T08:59:00+23:29"), 1795599000);
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00+01:00"), -3600);
}
END_TEST

START_TEST(time_calendar)
{
	parse_ok("2024-02-29T00:00:00Z");
	parse_ok("2000-02-29T00:00:00Z");
	parse_ok("1600-02-29T00:00:00Z");
	parse_ok("0000-02-29T00:00:00Z");
	parse_bad("2023-02-29T00:00:00Z");
	parse_bad("1900-02-29T00:00:00Z");
	parse_bad("2100-02-29T00:00:00Z");
	parse_bad("2024-02-30T00:00:00Z");
	parse_ok("2026-01-31T00:00:00Z");
	parse_ok("2026-03-31T00:00:00Z");
	parse_bad("2026-04-31T00:00:00Z");
	parse_bad("2026-06-31T00:00:00Z");
	parse_bad("2026-09-31T00:00:00Z");
	parse_bad("2026-11-31T00:00:00Z");
	parse_ok("2026-12-31T23:59:59Z");
	parse_bad("2026-00-10T00:00:00Z");
	parse_bad("2026-13-10T00:00:00Z");
	parse_bad("2026-01-00T00:00:00Z");
	parse_bad("2026-01-32T00:00:00Z");
	parse_bad("2026-01-01T24:00:00Z");
	parse_bad("2026-01-01T00:60:00Z");
	parse_bad("2026-01-01T00:00:60Z");	/* leap seconds: no */
	parse_bad("2026-01-01T00:00:99Z");
}
END_TEST

START_TEST(time_syntax)
{
	static const char *bad[] = {
		"", "now", "2026", "2026-11-25", "2026-11-25T09:30Z",
		"2026-11-25T09:30:00", "2026-11-25 09:30:00Z",
		"2026-11-25_09:30:00Z", "26-11-25T09:30:00Z",
		"+2026-11-25T09:30:00Z", "2026-1-25T09:30:00Z",
		"2026-11-5T09:30:00Z", "2026-11-25T9:30:00Z",
		"2026/11/25T09:30:00Z", "2026-11-25T09.30.00Z",
		"2026-11-25T09:30:00.Z", "2026-11-25T09:30:00,5Z",
		"2026-11-25T09:30:00ZZ", "2026-11-25T09:30:00Z ",
		" 2026-11-25T09:30:00Z", "2026-11-25T09:30:00Z\n",
		"2026-11-25T09:30:00UTC", "2026-11-25T09:30:00+0200",
		"2026-11-25T09:30:00+02", "2026-11-25T09:30:00+2:00",
		"2026-11-25T09:30:00+24:00", "2026-11-25T09:30:00+02:60",
		"2026-11-25T09:30:00+02:00Z",
		("\xef\xbc\x92" "026-11-25T09:30:00Z"),	/* fullwidth 2 */
		"2O26-11-25T09:30:00Z", "-001-01-01T00:00:00Z",
		"12026-11-25T09:30:00Z",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i]);
	parse_bad(NULL);
}
END_TEST

START_TEST(time_roundtrip)
{
	struct tm tm;
	time_t tt;
	int64_t t, back;
	char s[LIN_TIME_MAX];
	struct lin_err e;

	/* Against the C library across four centuries, every 3 days and a
	 * bit, so that every month, leap day and century rule is crossed. */
	for (t = -4102444800LL; t < 8520000000LL; t += 3 * 86400 + 3607) {
		lin_time_format(t, s);
		ck_assert_int_eq(lin_time_parse(s, &back, &e), 0);
		ck_assert_int_eq(back, t);
		tt = (time_t)t;
		ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
		ck_assert_int_eq(tm.tm_year + 1900, atoi(s));
		ck_assert_int_eq(tm.tm_mon + 1, atoi(s + 5));
		ck_assert_int_eq(tm.tm_mday, atoi(s + 8));
		ck_assert_int_eq(tm.tm_hour, atoi(s + 11));
		ck_assert_int_eq(tm.tm_min, atoi(s + 14));
		ck_assert_int_eq(tm.tm_sec, atoi(s + 17));
	}
}
END_TEST

/* ------------------------------------------------------------ durations */

static int64_t
dur_ok(const char *s)
{
	struct lin_err e = { 0 };
	int64_t d = -1;

	ck_assert_msg(lin_duration_parse(s, &d, &e) == 0, "refused %s: %s", s,
	    e.msg);
	return d;
}

START_TEST(duration_accepts)
{
	ck_assert_int_eq(dur_ok("30d"), 30 * 86400);
	ck_assert_int_eq(dur_ok("2h45m"), 2 * 3600 + 45 * 60);
	ck_assert_int_eq(dur_ok("90s"), 90);
	ck_assert_int_eq(dur_ok("1d12h"), 86400 + 12 * 3600);
	ck_assert_int_eq(dur_ok("0s"), 0);
	ck_assert_int_eq(dur_ok("0d"), 0);
	ck_assert_int_eq(dur_ok("0d0h0m0s"), 0);
	ck_assert_int_eq(dur_ok("1d2h3m4s"), 86400 + 7200 + 180 + 4);
	ck_assert_int_eq(dur_ok("1d4s"), 86404);
	ck_assert_int_eq(dur_ok("90m"), 5400);
	ck_assert_int_eq(dur_ok("48h"), 172800);
	ck_assert_int_eq(dur_ok("007s"), 7);
	ck_assert_int_eq(dur_ok("36525d"), 36525LL * 86400);
	ck_assert_int_eq(dur_ok("3155760000s"), 3155760000LL);
	ck_assert_int_eq(dur_ok("36524d24h"), 36525LL * 86400);
}
END_TEST

START_TEST(duration_refuses)
{
	static const char *bad[] = {
		"", "30", "d", "h1", "s", "1h1h", "1m1h", "1s1d", "1h2d",
		"1x", "1w", "1y", "1D", "1H", "-1s", "+1s", " 1s", "1s ",
		"1 s", "1.5h", "1,5h", "1e3s", "0x10s", "1h-1m", "1hm",
		"\xef\xbc\x91s", "36526d", "3155760001s", "36525d1s",
		"99999999999999999999999999s", "9223372036854775807s",
		"1s\n",
	};
	struct lin_err e;
	int64_t d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = 77;
		memset(&e, 0, sizeof(e));
		ck_assert_msg(lin_duration_parse(bad[i], &d, &e) == -EINVAL,
		    "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(e.code, EINVAL);
		ck_assert_int_eq(d, 77);
	}
	ck_assert_int_eq(lin_duration_parse(NULL, &d, &e), -EINVAL);
	ck_assert_int_eq(lin_duration_parse("36526d", &d, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "a duration is at most 100 years");
}
END_TEST

/* -------------------------------------------------------- revoke lines */

#define NOW 1795599000LL	/* 2026-11-25T09:30:00Z */

static struct lin_revoke_req rq;
static struct lin_err re;

static int
rv(const char *s)
{
	memset(&rq, 0xa5, sizeof(rq));
	memset(&re, 0, sizeof(re));
	return lin_revoke_parse(s, strlen(s), NOW, &rq, &re);
}

static void
rv_bad(const char *s, int code, const char *msg)
{
	struct lin_revoke_req before;
	int rc;

	rc = rv(s);
	ck_assert_msg(rc == -code, "\"%s\": got %d (%s), want %d", s, rc,
	    re.msg, -code);
	ck_assert_int_eq(re.code, code);
	if (msg != NULL)
		ck_assert_msg(strstr(re.msg, msg) != NULL,
		    "\"%s\": message \"%s\" lacks \"%s\"", s, re.msg, msg);
	/* A refused line leaves the request alone. */
	memset(&before, 0xa5, sizeof(before));
	ck_assert(memcmp(&before, &rq, sizeof(rq)) == 0);
}

START_TEST(revoke_reason_only)
{
	ck_assert_int_eq(rv("CVE-2026-1234: openssl in base image\n"), 0);
	ck_assert_str_eq(rq.reason, "CVE-2026-1234: openssl in base image");
	ck_assert_int_eq(rq.at, NOW);
	ck_assert(!rq.scheduled);
	ck_assert(rq.descendants);
	ck_assert(rq.rollback);
	ck_assert_int_eq(rv("x"), 0);
	ck_assert_str_eq(rq.reason, "x");
	/* Leading spaces skipped, inner ones kept, trailing ones dropped. */
	ck_assert_int_eq(rv("   broken   kernel  \n"), 0);
	ck_assert_str_eq(rq.reason, "broken   kernel");
	ck_assert_int_eq(rv("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\xa7"), 0);
	ck_assert_str_eq(rq.reason, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\xa7");
}
END_TEST

START_TEST(revoke_options)
{
	ck_assert_int_eq(rv("descendants=no rollback=no bad build"), 0);
	ck_assert(!rq.descendants);
	ck_assert(!rq.rollback);
	ck_assert_str_eq(rq.reason, "bad build");
	ck_assert_int_eq(rv("rollback=no in=1h descendants=yes why"), 0);
	ck_assert(rq.descendants);
	ck_assert(!rq.rollback);
	ck_assert(rq.scheduled);
	ck_assert_int_eq(rq.at, NOW + 3600);
	ck_assert_str_eq(rq.reason, "why");
	ck_assert_int_eq(rv("  descendants=yes   rollback=yes   why  "), 0);
	ck_assert(rq.descendants && rq.rollback);
	ck_assert_str_eq(rq.reason, "why");
	/* Options after the reason are part of it. */
	ck_assert_int_eq(rv("why rollback=no in=1h"), 0);
	ck_assert(rq.rollback);
	ck_assert(!rq.scheduled);
	ck_assert_str_eq(rq.reason, "why rollback=no in=1h");
}
END_TEST

START_TEST(revoke_when)
{
	ck_assert_int_eq(rv("in=30d eol"), 0);
	ck_assert(rq.scheduled);
	ck_assert_int_eq(rq.at, NOW + 30 * 86400);
	ck_assert_int_eq(rv("in=2h45m eol"), 0);
	ck_assert_int_eq(rq.at, NOW + 9900);
	ck_assert_int_eq(rv("in=90s eol"), 0);
	ck_assert_int_eq(rq.at, NOW + 90);
	ck_assert(rq.scheduled);
	ck_assert_int_eq(rv("in=0s eol"), 0);
	ck_assert(!rq.scheduled);
	ck_assert_int_eq(rq.at, NOW);
	ck_assert_int_eq(rv("at=2026-12-01T00:00:00Z eol"), 0);
	ck_assert(rq.scheduled);
	ck_assert_int_eq(rq.at, 1796083200);
	ck_assert_int_eq(rv("at=2026-12-01T01:00:00+01:00 eol"), 0);
	ck_assert_int_eq(rq.at, 1796083200);
	/* A time not after now is immediate, at now. */
	ck_assert_int_eq(rv("at=2026-11-25T09:30:00Z eol"), 0);
	ck_assert(!rq.scheduled);
	ck_assert_int_eq(rq.at, NOW);
	ck_assert_int_eq(rv("at=2020-01-01T00:00:00Z eol"), 0);
	ck_assert(!rq.scheduled);
	ck_assert_int_eq(rq.at, NOW);
	ck_assert_int_eq(rv("at=2026-11-25T09:30:01Z eol"), 0);
	ck_assert(rq.scheduled);
	ck_assert_int_eq(rq.at, NOW + 1);
	ck_assert_int_eq(rv("at=2026-11-25T09:30:00.999Z eol"), 0);
	ck_assert(!rq.scheduled);
}
END_TEST

START_TEST(revoke_no_reason)
{
	rv_bad("", EINVAL, "a revocation needs a reason");
	rv_bad("\n", EINVAL, "a revocation needs a reason");
	rv_bad("     ", EINVAL, "a revocation needs a reason");
	rv_bad("   \n", EINVAL, "a revocation needs a reason");
	rv_bad("in=1h", EINVAL, "a revocation needs a reason");
	rv_bad("in=1h   \n", EINVAL, "a revocation needs a reason");
	rv_bad("descendants=no rollback=no", EINVAL,
	    "a revocation needs a reason");
	ck_assert_int_eq(lin_revoke_parse(NULL, 0, NOW, &rq, &re), -EINVAL);
}
END_TEST

START_TEST(revoke_lines)
{
	rv_bad("first\nsecond", EINVAL, "one line");
	rv_bad("first\nsecond\n", EINVAL, "one line");
	rv_bad("reason\n\n", EINVAL, "one line");
	rv_bad("\nreason", EINVAL, "one line");
	rv_bad("reason\r\n", EINVAL, "control");
	rv_bad("tab\there", EINVAL, "control");
	rv_bad("esc \x1b[2J", EINVAL, "control");
	rv_bad("del \x7f", EINVAL, "control");
	rv_bad("c1 \xc2\x9b", EINVAL, "control");
	rv_bad("latin1 caf\xe9", EINVAL, "UTF-8");
	rv_bad("overlong \xc0\xaf", EINVAL, NULL);
	rv_bad("surrogate \xed\xa0\x80", EINVAL, NULL);
	ck_assert_int_eq(lin_revoke_parse("a\0b", 3, NOW, &rq, &re), -EINVAL);
}
END_TEST

START_TEST(revoke_bad_options)
{
	rv_bad("in=1h at=2026-12-01T00:00:00Z x", EINVAL, "in= and at=");
	rv_bad("at=2026-12-01T00:00:00Z in=1h x", EINVAL, "in= and at=");
	rv_bad("in=1h in=2h x", EINVAL, "twice");
	rv_bad("at=2026-12-01T00:00:00Z at=2026-12-02T00:00:00Z x", EINVAL,
	    "twice");
	rv_bad("descendants=no descendants=no x", EINVAL, "twice");
	rv_bad("rollback=yes rollback=no x", EINVAL, "twice");
	rv_bad("descendants=maybe x", EINVAL, "yes or no");
	rv_bad("descendants= x", EINVAL, "yes or no");
	rv_bad("descendants=YES x", EINVAL, "yes or no");
	rv_bad("rollback=true x", EINVAL, "yes or no");
	rv_bad("rollback=1 x", EINVAL, "yes or no");
	rv_bad("in= x", EINVAL, "duration");
	rv_bad("in=soon x", EINVAL, "duration");
	rv_bad("in=30 x", EINVAL, "duration");
	rv_bad("in=-1h x", EINVAL, "duration");
	rv_bad("in=36526d x", EINVAL, "100 years");
	rv_bad("at= x", EINVAL, "time");
	rv_bad("at=tomorrow x", EINVAL, "time");
	rv_bad("at=2026-02-30T00:00:00Z x", EINVAL, "date");
	rv_bad("at=2026-12-01 x", EINVAL, "time");
	rv_bad("at=2026-12-01T00:00:00.000000000000000000000000000000000000"
	    "00000000000000000000000000000Z x", EINVAL, NULL);
}
END_TEST

START_TEST(revoke_unknown_options)
{
	/* Option-shaped words are options: a typo is refused, not taken as
	 * the beginning of the reason. */
	rv_bad("rollbak=no reason", EINVAL, "unknown option rollbak=");
	rv_bad("foo=bar", EINVAL, "unknown option foo=");
	rv_bad("descendants=no force=yes x", EINVAL, "unknown option force=");
	rv_bad("reason=broken", EINVAL, "unknown option reason=");
	rv_bad("x2=1 why", EINVAL, "unknown option");
	rv_bad("inherited-from=x why", EINVAL, "unknown option");
	rv_bad("a_b= why", EINVAL, "unknown option");
	/* Not option-shaped: the reason starts there. */
	ck_assert_int_eq(rv("CVE=2026-1234 in openssl"), 0);
	ck_assert_str_eq(rq.reason, "CVE=2026-1234 in openssl");
	ck_assert_int_eq(rv("=x why"), 0);
	ck_assert_str_eq(rq.reason, "=x why");
	ck_assert_int_eq(rv("2fa=off why"), 0);
	ck_assert_str_eq(rq.reason, "2fa=off why");
	ck_assert_int_eq(rv("note: a=b"), 0);
	ck_assert_str_eq(rq.reason, "note: a=b");
	ck_assert_int_eq(rv("in:1h why"), 0);
	ck_assert_str_eq(rq.reason, "in:1h why");
	ck_assert_int_eq(rv("a.b=c why"), 0);
	ck_assert_str_eq(rq.reason, "a.b=c why");
}
END_TEST

START_TEST(revoke_reason_size)
{
	char line[LIN_REASON_MAX + 64];

	memset(line, 'r', LIN_REASON_MAX);
	line[LIN_REASON_MAX] = '\0';
	ck_assert_int_eq(rv(line), 0);
	ck_assert_uint_eq(strlen(rq.reason), LIN_REASON_MAX);
	strcat(line, "\n");
	ck_assert_int_eq(rv(line), 0);
	ck_assert_uint_eq(strlen(rq.reason), LIN_REASON_MAX);
	/* Trailing spaces do not count. */
	line[LIN_REASON_MAX] = ' ';
	strcpy(line + LIN_REASON_MAX + 1, "   \n");
	ck_assert_int_eq(rv(line), 0);
	line[LIN_REASON_MAX] = 'r';
	line[LIN_REASON_MAX + 1] = '\0';
	rv_bad(line, EFBIG, "1024");
	/* Options do not count towards the reason. */
	strcpy(line, "descendants=no in=1d ");
	memset(line + strlen(line), 's', LIN_REASON_MAX);
	line[21 + LIN_REASON_MAX] = '\0';
	ck_assert_int_eq(rv(line), 0);
	ck_assert_uint_eq(strlen(rq.reason), LIN_REASON_MAX);
	/* A multi-byte reason counts bytes. */
	memset(line, 0, sizeof(line));
	for (int i = 0; i < 342; i++)
		memcpy(line + 3 * i, "\xe2\x9c\x93", 3);
	rv_bad(line, EFBIG, NULL);
	line[3 * 341] = '\0';
	ck_assert_int_eq(rv(line), 0);
}
END_TEST

START_TEST(revoke_clock_edges)
{
	struct lin_err e;
	struct lin_revoke_req r;

	/* Very late clocks cannot make in= overflow. */
	ck_assert_int_eq(lin_revoke_parse("in=1s x", 7, INT64_MAX, &r, &e),
	    -EINVAL);
	ck_assert_int_eq(lin_revoke_parse("in=0s x", 7, INT64_MAX, &r, &e), 0);
	ck_assert(!r.scheduled);
	ck_assert_int_eq(lin_revoke_parse("at=1970-01-01T00:00:00Z x", 25, 0,
	    &r, &e), 0);
	ck_assert(!r.scheduled);
	ck_assert_int_eq(r.at, 0);
	ck_assert_int_eq(lin_revoke_parse("at=1970-01-01T00:00:01Z x", 25, 0,
	    &r, &e), 0);
	ck_assert(r.scheduled);
	/* The length given is what counts, not a NUL. */
	ck_assert_int_eq(lin_revoke_parse("why not", 3, NOW, &r, &e), 0);
	ck_assert_str_eq(r.reason, "why");
}
END_TEST

/* ---------------------------------------------------------------- ULIDs */

START_TEST(ulid_format)
{
	static const unsigned char zero[10], ones[10] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	static const unsigned char seq[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const unsigned char mix[10] = {
		0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5
	};
	char a[LIN_ULID_LEN + 1], b[LIN_ULID_LEN + 1];

	lin_ulid_format(0, zero, a);
	ck_assert_str_eq(a, "00000000000000000000000000");
	lin_ulid_format(0xffffffffffffLL, ones, a);
	ck_assert_str_eq(a, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
	lin_ulid_format(1469918176385LL, seq, a);
	ck_assert_str_eq(a, "01ARYZ6S41041061050R3GG28A");
	lin_ulid_format(1764000000123LL, mix, a);
	ck_assert_str_eq(a, "01KAV9FT3VVTPVXVR004106105");
	ck_assert(lin_ulid_valid(a));
	/* Later times sort later, whatever the randomness. */
	lin_ulid_format(1764000000123LL, ones, a);
	lin_ulid_format(1764000000124LL, zero, b);
	ck_assert_int_lt(strcmp(a, b), 0);
	/* Negative times are clamped to the epoch. */
	lin_ulid_format(-5, zero, a);
	ck_assert_str_eq(a, "00000000000000000000000000");
}
END_TEST

START_TEST(ulid_valid)
{
	ck_assert(lin_ulid_valid("01ARYZ6S41041061050R3GG28A"));
	ck_assert(lin_ulid_valid("00000000000000000000000000"));
	ck_assert(lin_ulid_valid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
	ck_assert(!lin_ulid_valid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
	ck_assert(!lin_ulid_valid("01aryz6s41041061050r3gg28a"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28AA"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28I"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28L"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28O"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28U"));
	ck_assert(!lin_ulid_valid("01ARYZ6S41041061050R3GG28-"));
	ck_assert(!lin_ulid_valid(""));
	ck_assert(!lin_ulid_valid(NULL));
}
END_TEST

/* ----------------------------------------------------------- references */

static struct lin_ref rf;
static struct lin_err rfe;

static int
ref(const char *path, const char *base, const char *mnt)
{
	memset(&rf, 0x5a, sizeof(rf));
	memset(&rfe, 0, sizeof(rfe));
	return lin_ref_parse(path, strlen(path), base, mnt, &rf, &rfe);
}

static void
ref_is(const char *path, const char *base, const char *mnt,
    enum lin_ref_kind kind, const char *bucket, const char *name,
    int64_t version)
{
	int rc = ref(path, base, mnt);

	ck_assert_msg(rc == 0, "\"%s\" from \"%s\": %s", path, base, rfe.msg);
	ck_assert_int_eq(rf.kind, kind);
	ck_assert_str_eq(rf.bucket, bucket);
	if (kind == LIN_REF_VERSION)
		ck_assert_int_eq(rf.version, version);
	else
		ck_assert_str_eq(rf.name, name);
}

static void
ref_bad(const char *path, const char *base, const char *mnt,
    const char *msg)
{
	struct lin_ref before;
	int rc = ref(path, base, mnt);

	ck_assert_msg(rc == -EINVAL, "\"%s\" from \"%s\": got %d", path, base,
	    rc);
	ck_assert_int_eq(rfe.code, EINVAL);
	if (msg != NULL)
		ck_assert_msg(strstr(rfe.msg, msg) != NULL,
		    "\"%s\": message \"%s\" lacks \"%s\"", path, rfe.msg, msg);
	memset(&before, 0x5a, sizeof(before));
	ck_assert(memcmp(&before, &rf, sizeof(rf)) == 0);
}

#define FP LIN_REF_FINGERPRINT
#define VER LIN_REF_VERSION
#define CHAN LIN_REF_CHANNEL
#define ULID LIN_REF_ULID
#define U "01ARYZ6S41041061050R3GG28A"

START_TEST(ref_forms)
{
	ref_is("buckets/base/iterations/01JD8X", "", NULL, FP, "base",
	    "01JD8X", 0);
	ref_is("buckets/base/versions/v3", "", NULL, VER, "base", NULL, 3);
	ref_is("buckets/base/channels/production", "", NULL, CHAN, "base",
	    "production", 0);
	ref_is("buckets/base/channels/latest", "", NULL, CHAN, "base",
	    "latest", 0);
	ref_is("by-id/" U, "", NULL, ULID, "", U, 0);
	/* The leading buckets/ may be dropped. */
	ref_is("base/iterations/fp.1", "", NULL, FP, "base", "fp.1", 0);
	ref_is("base/versions/v12", "", NULL, VER, "base", NULL, 12);
	ref_is("base/channels/prod", "", NULL, CHAN, "base", "prod", 0);
	/* A bucket may be called buckets. */
	ref_is("buckets/iterations/fp", "", NULL, FP, "buckets", "fp", 0);
	ref_is("buckets/buckets/iterations/fp", "", NULL, FP, "buckets",
	    "fp", 0);
	/* ...or by-id, which only the component count tells apart. */
	ref_is("by-id/iterations/fp", "", NULL, FP, "by-id", "fp", 0);
	ref_is("base/versions/v999999999999999999", "", NULL, VER, "base",
	    NULL, 999999999999999999LL);
	/* A NULL base is the mount root. */
	ref_is("base/iterations/fp", NULL, NULL, FP, "base", "fp", 0);
}
END_TEST

START_TEST(ref_trailing)
{
	ref_is("buckets/base/iterations/fp\n", "", NULL, FP, "base", "fp", 0);
	ref_is("buckets/base/iterations/fp/", "", NULL, FP, "base", "fp", 0);
	ref_is("buckets/base/iterations/fp/\n", "", NULL, FP, "base", "fp", 0);
	ref_is("buckets//base///iterations/fp//", "", NULL, FP, "base", "fp",
	    0);
	ref_bad("buckets/base/iterations/fp\n\n", "", NULL, "one line");
	ref_bad("buckets/base\n/iterations/fp", "", NULL, "one line");
	ref_bad("", "", NULL, "empty");
	ref_bad("\n", "", NULL, "empty");
	ck_assert_int_eq(lin_ref_parse("base/iterations/f\0p", 19, "", NULL,
	    &rf, &rfe), -EINVAL);
	/* The length given is what counts. */
	ck_assert_int_eq(lin_ref_parse("base/iterations/fpXYZ", 18, "", NULL,
	    &rf, &rfe), 0);
	ck_assert_str_eq(rf.name, "fp");
}
END_TEST

START_TEST(ref_folding)
{
	ref_is("./buckets/base/./iterations/fp", "", NULL, FP, "base", "fp",
	    0);
	ref_is("buckets/base/iterations/other/../fp", "", NULL, FP, "base",
	    "fp", 0);
	ref_is("buckets/base/iterations/fp/builds/..", "", NULL, FP, "base",
	    "fp", 0);
	ref_is("buckets/x/../base/iterations/fp", "", NULL, FP, "base", "fp",
	    0);
	ref_is("by-id/../by-id/" U, "", NULL, ULID, "", U, 0);
	ref_bad("..", "", NULL, "leaves the mount");
	ref_bad("../buckets/base/iterations/fp", "", NULL, "leaves the mount");
	ref_bad("buckets/../../base/iterations/fp", "", NULL,
	    "leaves the mount");
	ref_bad(".", "", NULL, "names no iteration");
	ref_bad("buckets/base/iterations/fp/builds", "", NULL,
	    "names no iteration");
}
END_TEST

START_TEST(ref_channel_targets)
{
	const char *b = "buckets/B1x/channels";

	ref_is("../iterations/FP", b, "/mnt", FP, "B1x", "FP", 0);
	ref_is("../versions/v3", b, "/mnt", VER, "B1x", NULL, 3);
	ref_is("../channels/prod", b, "/mnt", CHAN, "B1x", "prod", 0);
	ref_is("prod", b, "/mnt", CHAN, "B1x", "prod", 0);
	ref_is("/mnt/buckets/B1x/iterations/FP", b, "/mnt", FP, "B1x", "FP",
	    0);
	/* Another bucket parses; refusing it is the caller's business. */
	ref_is("../../other/iterations/FP", b, "/mnt", FP, "other", "FP", 0);
	ref_is("../../../buckets/other/versions/v1", b, NULL, VER, "other",
	    NULL, 1);
	ref_is("../../../by-id/" U, b, NULL, ULID, "", U, 0);
	ref_bad("../../../../buckets/B1x/iterations/FP", b, "/mnt",
	    "leaves the mount");
	ref_bad("../../../..", b, "/mnt", "leaves the mount");
	ref_bad("../../../x", b, "/mnt", "names no iteration");
	ref_bad("../iterations", b, "/mnt", "names no iteration");
	ref_bad("../iterations/", b, "/mnt", "names no iteration");
	ref_bad("/elsewhere/buckets/B1x/iterations/FP", b, "/mnt", "outside");
	ref_bad("/mnt/buckets/B1x/iterations/FP", b, NULL, "needs a mount");
}
END_TEST

START_TEST(ref_absolute)
{
	ref_is("/mnt/buckets/base/iterations/fp", "", "/mnt", FP, "base", "fp",
	    0);
	ref_is("/mnt/buckets/base/iterations/fp", "", "/mnt/", FP, "base",
	    "fp", 0);
	ref_is("/mnt/base/iterations/fp", "", "/mnt", FP, "base", "fp", 0);
	ref_is("/mnt/by-id/" U, "", "/mnt", ULID, "", U, 0);
	ref_is("/srv/reg/buckets/base/versions/v2", "", "/srv/reg", VER,
	    "base", NULL, 2);
	ref_is("//srv//reg/./buckets/base/versions/v2", "", "/srv/reg", VER,
	    "base", NULL, 2);
	ref_is("/mnt/../mnt/buckets/base/iterations/fp", "", "/mnt", FP,
	    "base", "fp", 0);
	/* ".." at "/" stays at "/", as the kernel does. */
	ref_is("/../../mnt/buckets/base/iterations/fp", "", "/mnt", FP,
	    "base", "fp", 0);
	ref_is("/buckets/base/iterations/fp", "", "/", FP, "base", "fp", 0);
	/* The base does not apply to absolute paths. */
	ref_is("/mnt/buckets/base/iterations/fp", "buckets/x/channels", "/mnt",
	    FP, "base", "fp", 0);
	ref_bad("/mnt/buckets/base/iterations/fp", "", NULL, "needs a mount");
	ref_bad("/mntx/buckets/base/iterations/fp", "", "/mnt", "outside");
	ref_bad("/mn/buckets/base/iterations/fp", "", "/mnt", "outside");
	ref_bad("/buckets/base/iterations/fp", "", "/mnt", "outside");
	ref_bad("/mnt/../buckets/base/iterations/fp", "", "/mnt", "outside");
	ref_bad("/", "", "/mnt", "outside");
	ref_bad("/mnt", "", "/mnt", "names no iteration");
	ref_bad("/mnt/", "", "/mnt", "names no iteration");
}
END_TEST

START_TEST(ref_versions)
{
	ref_is("b00/versions/v1", "", NULL, VER, "b00", NULL, 1);
	ref_is("b00/versions/v10", "", NULL, VER, "b00", NULL, 10);
	ref_is("b00/versions/v1/", "", NULL, VER, "b00", NULL, 1);
	ref_bad("b00/versions/v0", "", NULL, "version");
	ref_bad("b00/versions/v03", "", NULL, "version");
	ref_bad("b00/versions/v00", "", NULL, "version");
	ref_bad("b00/versions/v", "", NULL, "version");
	ref_bad("b00/versions/3", "", NULL, "version");
	ref_bad("b00/versions/V3", "", NULL, "version");
	ref_bad("b00/versions/v-1", "", NULL, "version");
	ref_bad("b00/versions/v+1", "", NULL, "version");
	ref_bad("b00/versions/v1a", "", NULL, "version");
	ref_bad("b00/versions/v 1", "", NULL, "version");
	ref_bad("b00/versions/v1.0", "", NULL, "version");
	ref_bad("b00/versions/v9223372036854775807", "", NULL, "version");
	ref_bad("b00/versions/v99999999999999999999999", "", NULL, "version");
}
END_TEST

START_TEST(ref_bad_names)
{
	ref_bad("buckets/ab/iterations/fp", "", NULL, "bucket name");
	ref_bad("buckets/a_b/iterations/fp", "", NULL, "bucket name");
	ref_bad("buckets/base/iterations/.fp", "", NULL, "fingerprint");
	ref_bad("buckets/base/iterations/fp-", "", NULL, "fingerprint");
	ref_bad("buckets/base/iterations/fp\x01", "", NULL, "fingerprint");
	ref_bad("buckets/base/channels/qa", "", NULL, "channel name");
	ref_bad("buckets/base/channels/pro_d", "", NULL, "channel name");
	ref_bad("buckets/base/builds/fp", "", NULL, "names no iteration");
	ref_bad("buckets/base/Iterations/fp", "", NULL, "names no iteration");
	ref_bad("by-id/01aryz6s41041061050r3gg28a", "", NULL, "ULID");
	ref_bad("by-id/" U "0", "", NULL, "ULID");
	ref_bad("by-id/x", "", NULL, "ULID");
	ref_bad("buckets/by-id/" U, "", NULL, "names no iteration");
	ref_bad("by-id", "", NULL, "names no iteration");
	ref_bad("by-id/" U "/x", "", NULL, "names no iteration");
	ref_bad("buckets", "", NULL, "names no iteration");
	ref_bad("buckets/base", "", NULL, "names no iteration");
	ref_bad("buckets/base/iterations", "", NULL, "names no iteration");
	ref_bad("x/base/iterations/fp", "", NULL, "names no iteration");
	ref_bad("a/buckets/base/iterations/fp", "", NULL,
	    "names no iteration");
	ref_bad("buckets/base/iterations/fp/builds/b", "", NULL,
	    "names no iteration");
	ref_bad("ami-0abc1234", "", NULL, "names no iteration");
}
END_TEST

/* Append s at *n in p (which the caller sized). */
static void
cat(char *p, size_t *n, const char *s)
{
	size_t k = strlen(s);

	memcpy(p + *n, s, k + 1);
	*n += k;
}

START_TEST(ref_long)
{
	char p[LIN_TEXT_MAX + 64];
	size_t i, n;

	/* A component too long for any name. */
	n = 0;
	cat(p, &n, "buckets/base/iterations/");
	cat(p, &n, rep(0, 'f', 300));
	ref_bad(p, "", NULL, "names no iteration");
	n = 0;
	cat(p, &n, "buckets/");
	cat(p, &n, rep(0, 'b', 256));
	cat(p, &n, "/iterations/fp");
	ref_bad(p, "", NULL, "names no iteration");
	/* Deep paths that fold back are fine up to PATH_MAX... */
	n = 0;
	for (i = 0; i < 600; i++)
		cat(p, &n, "a/");
	for (i = 0; i < 600; i++)
		cat(p, &n, "../");
	cat(p, &n, "b00/versions/v7");
	ref_is(p, "", NULL, VER, "b00", NULL, 7);
	/* ...and refused past it. */
	memset(p, '/', 4097);
	p[4097] = '\0';
	ref_bad(p, "", "/", "4096");
	memcpy(p, "b00/", 4);
	p[4096] = '\n';
	ck_assert_int_eq(lin_ref_parse(p, 4097, "", NULL, &rf, &rfe), -EINVAL);
	ck_assert_str_ne(rfe.msg, "a path is at most 4096 bytes");
}
END_TEST

/* ------------------------------------------------------- artifact names */

static const char *
esc(const char *id)
{
	static struct lin_buf b;

	if (b.data != NULL)
		lin_buf_free(&b);
	lin_buf_init(&b);
	lin_extid_escape(id, &b);
	return b.data;
}

static int
unesc(const char *name, const char *want)
{
	struct lin_buf b;
	struct lin_err e = { 0 };
	int rc;

	lin_buf_init(&b);
	rc = lin_extid_unescape(name, &b, &e);
	if (rc == 0 && want != NULL)
		ck_assert_str_eq(b.data, want);
	if (rc != 0)
		ck_assert_int_eq(e.code, -rc);
	lin_buf_free(&b);
	return rc;
}

START_TEST(extid_escape)
{
	ck_assert_str_eq(esc("ami-0abc1234"), "ami-0abc1234");
	ck_assert_str_eq(esc(""), "");
	ck_assert_str_eq(esc("a/b"), "a%2Fb");
	ck_assert_str_eq(esc("100%"), "100%25");
	ck_assert_str_eq(esc("projects/p/global/images/x%2F"),
	    "projects%2Fp%2Fglobal%2Fimages%2Fx%252F");
	ck_assert_str_eq(esc("//"), "%2F%2F");
	ck_assert_str_eq(esc("sha256:ab cd"), "sha256:ab cd");
}
END_TEST

START_TEST(extid_unescape)
{
	static const char *ids[] = {
		"ami-0abc", "a/b", "%", "%2F", "/%/", "x%25y", "%%//",
		"caf\xc3\xa9/x",
	};
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ck_assert_int_eq(unesc(esc(ids[i]), ids[i]), 0);
	ck_assert_int_eq(unesc("ami-0abc", "ami-0abc"), 0);
	ck_assert_int_eq(unesc("", ""), 0);
	ck_assert_int_eq(unesc("a%2Fb%25c", "a/b%c"), 0);
	ck_assert_int_eq(unesc("%252F", "%2F"), 0);
	/* Only the two escapes, in upper case: one name per id. */
	ck_assert_int_eq(unesc("a%2fb", NULL), -EINVAL);
	ck_assert_int_eq(unesc("%41", NULL), -EINVAL);
	ck_assert_int_eq(unesc("%", NULL), -EINVAL);
	ck_assert_int_eq(unesc("x%2", NULL), -EINVAL);
	ck_assert_int_eq(unesc("x%", NULL), -EINVAL);
	ck_assert_int_eq(unesc("%%", NULL), -EINVAL);
	ck_assert_int_eq(unesc("a/b", NULL), -EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- suite */

/* The gate before SQLite's JSON functions: RFC 8259, nothing looser. */
START_TEST(json_accepts)
{
	static const char *ok[] = {
		"{}", "[]", "0", "-0.5e+3", "\"\"", "true", "null",
		" {\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\\n\"}\r\n",
		"\"caf\xc3\xa9\"",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(lin_json_valid(ok[i], strlen(ok[i])), "%s", ok[i]);
}
END_TEST

START_TEST(json_refuses)
{
	static const char *bad[] = {
		"", " ", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "[1 2]",
		"{\"a\":1}{", "01", "1.", ".5", "-", "1e", "tru", "nul",
		"\"\\x\"", "\"\\u12g4\"", "\"a\tb\"", "'a'", "{a:1}",
		"{\"builder_type\": \"x\",{\"builds\": []}}",
		"\"\xff\"", "\"\xc0\xaf\"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!lin_json_valid(bad[i], strlen(bad[i])), "%s",
		    bad[i]);
	/* Nesting past 512 levels. */
	{
		char deep[1200];

		memset(deep, '[', 600);
		memset(deep + 600, ']', 600);
		ck_assert(!lin_json_valid(deep, sizeof(deep)));
		ck_assert(lin_json_valid(deep + 100, 1000));
	}
}
END_TEST


static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *t;

	t = tcase_create("names");
	tcase_add_test(t, bucket_accepts);
	tcase_add_test(t, bucket_refuses);
	tcase_add_test(t, channel_rules);
	tcase_add_test(t, fingerprint_accepts);
	tcase_add_test(t, fingerprint_refuses);
	tcase_add_test(t, key_accepts);
	tcase_add_test(t, key_refuses);
	suite_add_tcase(s, t);

	t = tcase_create("values");
	tcase_add_test(t, value_newline);
	tcase_add_test(t, value_text);
	tcase_add_test(t, value_sizes);
	tcase_add_test(t, value_bytes);
	tcase_add_test(t, utf8_wellformed);
	tcase_add_test(t, utf8_malformed);
	tcase_add_test(t, utf8_controls);
	suite_add_tcase(s, t);

	t = tcase_create("times");
	tcase_add_test(t, time_format);
	tcase_add_test(t, time_parse);
	tcase_add_test(t, time_calendar);
	tcase_add_test(t, time_syntax);
	tcase_add_test(t, time_roundtrip);
	tcase_add_test(t, duration_accepts);
	tcase_add_test(t, duration_refuses);
	suite_add_tcase(s, t);

	t = tcase_create("revoke");
	tcase_add_test(t, revoke_reason_only);
	tcase_add_test(t, revoke_options);
	tcase_add_test(t, revoke_when);
	tcase_add_test(t, revoke_no_reason);
	tcase_add_test(t, revoke_lines);
	tcase_add_test(t, revoke_bad_options);
	tcase_add_test(t, revoke_unknown_options);
	tcase_add_test(t, revoke_reason_size);
	tcase_add_test(t, revoke_clock_edges);
	suite_add_tcase(s, t);

	t = tcase_create("ids");
	tcase_add_test(t, ulid_format);
	tcase_add_test(t, ulid_valid);
	tcase_add_test(t, extid_escape);
	tcase_add_test(t, extid_unescape);
	suite_add_tcase(s, t);

	t = tcase_create("refs");
	tcase_add_test(t, ref_forms);
	tcase_add_test(t, ref_trailing);
	tcase_add_test(t, ref_folding);
	tcase_add_test(t, ref_channel_targets);
	tcase_add_test(t, ref_absolute);
	tcase_add_test(t, ref_versions);
	tcase_add_test(t, ref_bad_names);
	tcase_add_test(t, ref_long);
	suite_add_tcase(s, t);

	t = tcase_create("json");
	tcase_add_test(t, json_accepts);
	tcase_add_test(t, json_refuses);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
