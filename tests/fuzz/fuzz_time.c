/*
 * fuzz_time.c — libFuzzer target for times and durations: a parsed time
 * formats back to a time that parses to the same second, any second
 * formats to a string that parses, and durations stay within 100 years.
 */
#include <errno.h>

#include "lineage/parse.h"
#include "fuzz_common.h"

#define T_LO (-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define T_HI (253402300799LL)	/* 9999-12-31T23:59:59Z */

static void
check_time(const char *s)
{
	char out[LIN_TIME_MAX];
	struct lin_err e;
	int64_t t, back;

	if (lin_time_parse(s, &t, &e) != 0) {
		FUZZ_CHECK(e.code == EINVAL);
		return;
	}
	/* Offsets may push a four-digit year just past either end. */
	FUZZ_CHECK(t >= T_LO - 86400 && t <= T_HI + 86400);
	lin_time_format(t, out);
	FUZZ_CHECK(strlen(out) == 20);
	FUZZ_CHECK(lin_time_parse(out, &back, &e) == 0);
	if (t >= T_LO && t <= T_HI)
		FUZZ_CHECK(back == t);
}

static void
check_duration(const char *s)
{
	struct lin_err e;
	int64_t d;

	if (lin_duration_parse(s, &d, &e) != 0) {
		FUZZ_CHECK(e.code == EINVAL);
		return;
	}
	FUZZ_CHECK(d >= 0 && d <= 36525LL * 86400);
}

static void
check_format(const uint8_t *data, size_t size)
{
	char out[LIN_TIME_MAX];
	struct lin_err e;
	int64_t t, back;

	if (size < sizeof(t))
		return;
	memcpy(&t, data, sizeof(t));
	lin_time_format(t, out);
	FUZZ_CHECK(lin_time_parse(out, &back, &e) == 0);
	FUZZ_CHECK(back == (t < T_LO ? T_LO : t > T_HI ? T_HI : t));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	check_time(s);
	check_duration(s);
	check_format(data, size);
	free(s);
	return 0;
}
