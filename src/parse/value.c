/*
 * value.c — values written to value files (SPEC §3): one write(2) carries
 * the whole value, one trailing newline is dropped, and what remains must
 * be clean UTF-8 of bounded size.
 *
 * "Clean" means what a terminal and a line-based reader can show safely:
 * well-formed UTF-8 (no overlong forms, no surrogates, nothing past
 * U+10FFFF) without C0 controls, DEL or C1 controls, so that a value can
 * never forge a line of the events log or drive someone's terminal.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/parse.h"

/*
 * Length of the UTF-8 sequence at s (at most n bytes), or 0 if it is not
 * well-formed.  The code point goes to *cp.
 */
static size_t
lin_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;	/* stray continuation, C0/C1 lead, F5-FF */
	if (n < len)
		return 0;
	/* Only the second byte has a narrowed range; the rest are plain
	 * continuation bytes. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

bool
lin_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, n;

	for (; i < len; i += n)
		if ((n = lin_utf8_seq(p + i, len - i, &cp)) == 0)
			return false;
	return true;
}

bool
lin_utf8_clean(const char *s, size_t len, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, n;

	while (i < len) {
		if ((n = lin_utf8_seq(p + i, len - i, &cp)) == 0)
			return false;
		if (cp < 0x20 && !(multiline && (cp == '\n' || cp == '\t')))
			return false;
		if (cp >= 0x7f && cp <= 0x9f)
			return false;
		i += n;
	}
	return true;
}

int
lin_value_parse(const char *buf, size_t len, enum lin_value_kind kind,
    char **out, struct lin_err *e)
{
	bool text = kind == LIN_VALUE_TEXT;
	size_t max = text ? LIN_TEXT_MAX : LIN_VALUE_MAX;
	char *v;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > max)
		return lin_errf(e, EFBIG, "a %s is at most %zu bytes",
		    text ? "description" : "value", max);
	if (len > 0 && memchr(buf, '\0', len) != NULL)
		return lin_errf(e, EINVAL, "a value cannot hold a NUL byte");
	if (!lin_utf8_clean(buf, len, text))
		return lin_errf(e, EINVAL, text ?
		    "a description is UTF-8 text without control characters" :
		    "a value is one line of UTF-8 text without control "
		    "characters");
	if ((v = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(v, buf, len);
	v[len] = '\0';
	*out = v;
	return 0;
}
