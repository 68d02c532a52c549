/*
 * json.c — a strict check that bytes are one JSON text (RFC 8259), before
 * any of SQLite's JSON functions sees them.
 *
 * The engine reads JSON with SQLite's functions, but SQLite 3.40 (Debian
 * 12's) lets some malformed documents through json_valid(), and its other
 * JSON functions then misbehave on them, up to crashing the process (found
 * by fuzzing manifest import).  So the door is kept here: this only says
 * yes or no, it builds nothing; reading the values stays SQLite's job.
 */
#include <string.h>

#include "lineage/parse.h"

#define JSON_MAX_DEPTH 512

struct jv {
	const unsigned char *p, *end;
	int depth;
};

static bool jv_value(struct jv *j);

static void
jv_ws(struct jv *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool
jv_digit(const struct jv *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static bool
jv_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static bool
jv_string(struct jv *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = *j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, j->p++)
				if (j->p >= j->end || !jv_hex(*j->p))
					return false;
		} else if (c == 0 || strchr("\"\\/bfnrt", c) == NULL) {
			return false;
		}
	}
	return false;
}

static bool
jv_number(struct jv *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (!jv_digit(j))
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (jv_digit(j))
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jv_digit(j))
			return false;
		while (jv_digit(j))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jv_digit(j))
			return false;
		while (jv_digit(j))
			j->p++;
	}
	return true;
}

static bool
jv_literal(struct jv *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* The members of an object or the elements of an array, after the
 * opening bracket, up to and including the closing one. */
static bool
jv_container(struct jv *j, bool object)
{
	char close = object ? '}' : ']';

	if (++j->depth > JSON_MAX_DEPTH)
		return false;
	jv_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			jv_ws(j);
			if (!jv_string(j))
				return false;
			jv_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
		}
		if (!jv_value(j))
			return false;
		jv_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p != close)
			return false;
		j->p++;
		j->depth--;
		return true;
	}
}

static bool
jv_value(struct jv *j)
{
	jv_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		j->p++;
		return jv_container(j, true);
	case '[':
		j->p++;
		return jv_container(j, false);
	case '"':
		return jv_string(j);
	case 't':
		return jv_literal(j, "true");
	case 'f':
		return jv_literal(j, "false");
	case 'n':
		return jv_literal(j, "null");
	default:
		return jv_number(j);
	}
}

bool
lin_json_valid(const char *s, size_t len)
{
	struct jv j = { (const unsigned char *)s,
	    (const unsigned char *)s + len, 0 };

	if (!lin_utf8_valid(s, len) || !jv_value(&j))
		return false;
	jv_ws(&j);
	return j.p == j.end;
}
