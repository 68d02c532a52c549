/*
 * revokeline.c — the line written to an iteration's `revoke` file (SPEC
 * §5.3):
 *
 *     [in=DURATION | at=TIME] [descendants=yes|no] [rollback=yes|no] REASON...
 *
 * Words are separated by spaces.  Options come first, in any order, each
 * at most once; the first word that is not an option starts the reason,
 * which runs to the end of the line.
 *
 * A word shaped like an option, a lower-case name and "=" ("rollbak=no",
 * "force=yes"), is refused as an unknown option instead of being taken as
 * the first word of the reason: a revocation is hard to take back quietly,
 * and a typo in an option must not turn into a revocation with defaults
 * the writer did not want.  A reason that has to begin with such a word
 * can be written after a word that is not one ("note: ..."); upper case,
 * digits first or punctuation before the "=" ("CVE=...") do not look like
 * options and start the reason as written.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lineage/parse.h"

enum lin_ropt {
	LIN_ROPT_IN = 1 << 0,
	LIN_ROPT_AT = 1 << 1,
	LIN_ROPT_DESC = 1 << 2,
	LIN_ROPT_ROLLBACK = 1 << 3,
};

struct lin_word {
	const char *p;
	size_t      n;
};

/* Longest option value we look at: a time with a long fraction fits. */
#define LIN_OPTVAL_MAX 64

static bool
lin_word_is(struct lin_word w, const char *s)
{
	return w.n == strlen(s) && memcmp(w.p, s, w.n) == 0;
}

/* Does w have the shape KEY=... with KEY a lower-case identifier? */
static bool
lin_looks_like_option(struct lin_word w, struct lin_word *key,
    struct lin_word *val)
{
	const char *eq = memchr(w.p, '=', w.n);
	size_t i;

	if (eq == NULL || eq == w.p || w.p[0] < 'a' || w.p[0] > 'z')
		return false;
	for (i = 1; w.p + i < eq; i++) {
		char c = w.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return false;
	}
	key->p = w.p;
	key->n = (size_t)(eq - w.p);
	val->p = eq + 1;
	val->n = w.n - key->n - 1;
	return true;
}

static int
lin_yesno(struct lin_word key, struct lin_word val, bool *out,
    struct lin_err *e)
{
	if (lin_word_is(val, "yes"))
		*out = true;
	else if (lin_word_is(val, "no"))
		*out = false;
	else
		return lin_errf(e, EINVAL, "%.*s= is yes or no", (int)key.n,
		    key.p);
	return 0;
}

/* in= or at=, resolved against now. */
static int
lin_when(struct lin_word key, struct lin_word val, int64_t now,
    struct lin_revoke_req *r, struct lin_err *e)
{
	char v[LIN_OPTVAL_MAX + 1];
	int64_t t;
	int rc;

	if (val.n > LIN_OPTVAL_MAX)
		return lin_errf(e, EINVAL, "%.*s= has a malformed value",
		    (int)key.n, key.p);
	memcpy(v, val.p, val.n);
	v[val.n] = '\0';
	if (lin_word_is(key, "in")) {
		if ((rc = lin_duration_parse(v, &t, e)) != 0)
			return rc;
		if (now > INT64_MAX - t)
			return lin_errf(e, EINVAL, "in= reaches past the end "
			    "of time");
		t += now;
	} else if ((rc = lin_time_parse(v, &t, e)) != 0)
		return rc;
	if (t > now) {
		r->at = t;
		r->scheduled = true;
	}
	return 0;
}

static int
lin_option(struct lin_word key, struct lin_word val, int64_t now,
    unsigned *seen, struct lin_revoke_req *r, struct lin_err *e)
{
	unsigned bit;

	if (lin_word_is(key, "in"))
		bit = LIN_ROPT_IN;
	else if (lin_word_is(key, "at"))
		bit = LIN_ROPT_AT;
	else if (lin_word_is(key, "descendants"))
		bit = LIN_ROPT_DESC;
	else if (lin_word_is(key, "rollback"))
		bit = LIN_ROPT_ROLLBACK;
	else
		return lin_errf(e, EINVAL, "unknown option %.*s= (options are "
		    "in=, at=, descendants= and rollback=)", (int)key.n, key.p);
	if (*seen & bit)
		return lin_errf(e, EINVAL, "option %.*s= is given twice",
		    (int)key.n, key.p);
	*seen |= bit;
	if ((*seen & (LIN_ROPT_IN | LIN_ROPT_AT)) ==
	    (LIN_ROPT_IN | LIN_ROPT_AT))
		return lin_errf(e, EINVAL, "in= and at= cannot both be given");
	switch (bit) {
	case LIN_ROPT_DESC:
		return lin_yesno(key, val, &r->descendants, e);
	case LIN_ROPT_ROLLBACK:
		return lin_yesno(key, val, &r->rollback, e);
	default:
		return lin_when(key, val, now, r, e);
	}
}

/* The reason: what is left, without the spaces that trail it. */
static int
lin_reason(const char *p, const char *end, struct lin_revoke_req *r,
    struct lin_err *e)
{
	size_t n;

	while (end > p && end[-1] == ' ')
		end--;
	n = (size_t)(end - p);
	if (n == 0)
		return lin_errf(e, EINVAL, "a revocation needs a reason");
	if (n > LIN_REASON_MAX)
		return lin_errf(e, EFBIG, "a reason is at most 1024 bytes");
	memcpy(r->reason, p, n);
	r->reason[n] = '\0';
	return 0;
}

int
lin_revoke_parse(const char *buf, size_t len, int64_t now,
    struct lin_revoke_req *r, struct lin_err *e)
{
	struct lin_revoke_req q;
	struct lin_word w, key, val;
	const char *p, *end;
	unsigned seen = 0;
	int rc;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && memchr(buf, '\n', len) != NULL)
		return lin_errf(e, EINVAL, "a revocation is one line");
	if (!lin_utf8_clean(buf, len, false))
		return lin_errf(e, EINVAL, "a revocation is printable UTF-8 "
		    "text without control characters");
	memset(&q, 0, sizeof(q));
	q.at = now;
	q.descendants = true;
	q.rollback = true;
	p = buf;
	end = buf + len;
	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return lin_errf(e, EINVAL, "a revocation needs a reason");
		w.p = p;
		while (p < end && *p != ' ')
			p++;
		w.n = (size_t)(p - w.p);
		if (!lin_looks_like_option(w, &key, &val))
			break;
		if ((rc = lin_option(key, val, now, &seen, &q, e)) != 0)
			return rc;
	}
	if ((rc = lin_reason(w.p, end, &q, e)) != 0)
		return rc;
	*r = q;
	return 0;
}
