/*
 * duration.c — durations for `in=` in revoke lines (SPEC §5.3): "30d",
 * "2h45m", "90s", "1d12h".
 *
 * Units are d, h, m and s, each at most once and largest first, the way
 * people write them; anything else is more likely a typo than a wish.
 * Nothing past 100 years is accepted, which also keeps every sum far from
 * overflow.
 */
#include <errno.h>
#include <stdbool.h>

#include "lineage/parse.h"

#define LIN_DURATION_MAX (36525LL * 86400)	/* 100 years of 365.25 days */

static int
lin_unit(char c, int64_t *secs)
{
	switch (c) {
	case 'd':	*secs = 86400; return 0;
	case 'h':	*secs = 3600; return 1;
	case 'm':	*secs = 60; return 2;
	case 's':	*secs = 1; return 3;
	default:	return -1;
	}
}

int
lin_duration_parse(const char *s, int64_t *secs, struct lin_err *e)
{
	static const char rule[] = "a duration is a number and a unit (s, m, "
	    "h or d), largest unit first, like 30d or 2h45m";
	int64_t total = 0, n, mul;
	int last = -1, rank;

	if (s == NULL || *s == '\0')
		return lin_errf(e, EINVAL, "%s", rule);
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return lin_errf(e, EINVAL, "%s", rule);
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (*s - '0');
			if (n > LIN_DURATION_MAX)
				return lin_errf(e, EINVAL,
				    "a duration is at most 100 years");
		}
		if ((rank = lin_unit(*s, &mul)) <= last)
			return lin_errf(e, EINVAL, "%s", rule);
		last = rank;
		s++;
		total += n * mul;
		if (total > LIN_DURATION_MAX)
			return lin_errf(e, EINVAL,
			    "a duration is at most 100 years");
	}
	*secs = total;
	return 0;
}
