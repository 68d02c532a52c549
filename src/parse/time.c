/*
 * time.c — times as the contract writes them (SPEC §3): RFC 3339 in UTC,
 * to the second, "2026-11-25T09:30:00Z".
 *
 * The calendar arithmetic is done here on plain integers rather than with
 * gmtime_r/timegm: it does not depend on the C library's time_t range or
 * the TZ environment, and it is the same on every host that shares a
 * registry.  Days are counted in the proleptic Gregorian calendar, by
 * eras of 400 years (146097 days), in which the leap-year pattern repeats.
 */
#include <errno.h>
#include <stdbool.h>

#include "lineage/parse.h"

#define LIN_DAY 86400

/* Years 0000-9999, the ones four digits can write. */
#define LIN_TIME_LO (-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define LIN_TIME_HI (253402300799LL)	/* 9999-12-31T23:59:59Z */

static bool
lin_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
lin_mdays(int64_t y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && lin_leap(y) ? 29 : days[m - 1];
}

/* Floor division, for days before 1970 and years before 0. */
static int64_t
lin_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * Days from 1970-01-01 to y-m-d.  The year is counted from March, so that
 * the leap day falls at its end and month lengths follow a fixed pattern
 * (153 days for every five months from March).
 */
static int64_t
lin_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = lin_floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse: the civil date of a day count since 1970-01-01. */
static void
lin_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = lin_floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Write v as exactly n decimal digits. */
static char *
lin_put(char *p, int64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* Times outside years 0000-9999 are clamped, so the output always parses
 * back. */
void
lin_time_format(int64_t t, char out[LIN_TIME_MAX])
{
	int64_t days, secs, y;
	int m, d;
	char *p = out;

	if (t < LIN_TIME_LO)
		t = LIN_TIME_LO;
	if (t > LIN_TIME_HI)
		t = LIN_TIME_HI;
	days = lin_floordiv(t, LIN_DAY);
	secs = t - days * LIN_DAY;
	lin_civil_from_days(days, &y, &m, &d);
	p = lin_put(p, y, 4);
	*p++ = '-';
	p = lin_put(p, m, 2);
	*p++ = '-';
	p = lin_put(p, d, 2);
	*p++ = 'T';
	p = lin_put(p, secs / 3600, 2);
	*p++ = ':';
	p = lin_put(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = lin_put(p, secs % 60, 2);
	*p++ = 'Z';
	*p = '\0';
}

/* Exactly n decimal digits at *s, advancing it. */
static bool
lin_digits(const char **s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		*v = *v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return true;
}

static bool
lin_lit(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

/* "Z", or "+HH:MM" / "-HH:MM" as seconds east of UTC. */
static bool
lin_offset(const char **s, int *off)
{
	int sign, hh, mm;

	if (lin_lit(s, 'Z') || lin_lit(s, 'z')) {
		*off = 0;
		return true;
	}
	if (**s != '+' && **s != '-')
		return false;
	sign = **s == '-' ? -1 : 1;
	(*s)++;
	if (!lin_digits(s, 2, &hh) || !lin_lit(s, ':') ||
	    !lin_digits(s, 2, &mm) || hh > 23 || mm > 59)
		return false;
	*off = sign * (hh * 3600 + mm * 60);
	return true;
}

/*
 * RFC 3339's date-time, with its allowances for a lower-case "t" and "z".
 * A leap second (":60") is refused: Unix time cannot name it.
 */
int
lin_time_parse(const char *s, int64_t *t, struct lin_err *e)
{
	static const char rule[] = "a time is written like "
	    "2026-11-25T09:30:00Z";
	int y, mo, d, h, mi, se, off;

	if (s == NULL ||
	    !lin_digits(&s, 4, &y) || !lin_lit(&s, '-') ||
	    !lin_digits(&s, 2, &mo) || !lin_lit(&s, '-') ||
	    !lin_digits(&s, 2, &d) || !(lin_lit(&s, 'T') || lin_lit(&s, 't')) ||
	    !lin_digits(&s, 2, &h) || !lin_lit(&s, ':') ||
	    !lin_digits(&s, 2, &mi) || !lin_lit(&s, ':') ||
	    !lin_digits(&s, 2, &se))
		return lin_errf(e, EINVAL, "%s", rule);
	if (lin_lit(&s, '.')) {
		if (*s < '0' || *s > '9')
			return lin_errf(e, EINVAL, "%s", rule);
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (!lin_offset(&s, &off) || *s != '\0')
		return lin_errf(e, EINVAL, "%s", rule);
	if (mo < 1 || mo > 12 || d < 1 || d > lin_mdays(y, mo))
		return lin_errf(e, EINVAL, "no such date");
	if (h > 23 || mi > 59 || se > 59)
		return lin_errf(e, EINVAL, "no such time of day");
	*t = lin_days_from_civil(y, mo, d) * LIN_DAY + h * 3600 + mi * 60 +
	    se - off;
	return 0;
}
