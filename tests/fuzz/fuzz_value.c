/*
 * fuzz_value.c — libFuzzer target for values (SPEC §3), the UTF-8 rule
 * and artifact names: an accepted value is clean and within its size,
 * the UTF-8 check agrees with a slow reference decoder, and escaping an
 * external id always unescapes to the same id.
 */
#include <errno.h>
#include <stdbool.h>

#include "lineage/parse.h"
#include "fuzz_common.h"

/* A deliberately plain decoder: the code point at s, or -1. */
static long
ref_decode(const unsigned char *s, size_t n, size_t *len)
{
	static const long min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t k, i;
	long cp;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0)
		k = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		k = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		k = 4;
	else
		return -1;
	if (n < k)
		return -1;
	cp = s[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = k;
	return cp;
}

static bool
ref_clean(const uint8_t *s, size_t n, bool multiline)
{
	size_t i = 0, len;
	long cp;

	while (i < n) {
		if ((cp = ref_decode(s + i, n - i, &len)) < 0)
			return false;
		if (cp == '\n' || cp == '\t') {
			if (!multiline)
				return false;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		i += len;
	}
	return true;
}

static void
check_value(const uint8_t *data, size_t size, enum lin_value_kind kind)
{
	size_t max = kind == LIN_VALUE_TEXT ? LIN_TEXT_MAX : LIN_VALUE_MAX;
	struct lin_err e;
	char *out = NULL;
	int rc;

	rc = lin_value_parse((const char *)data, size, kind, &out, &e);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -EFBIG);
		FUZZ_CHECK(out == NULL);
		return;
	}
	FUZZ_CHECK(strlen(out) <= max);
	FUZZ_CHECK(strlen(out) == size || strlen(out) + 1 == size);
	FUZZ_CHECK(memcmp(out, data, strlen(out)) == 0);
	FUZZ_CHECK(lin_utf8_clean(out, strlen(out), kind == LIN_VALUE_TEXT));
	if (kind == LIN_VALUE_LINE)
		FUZZ_CHECK(strchr(out, '\n') == NULL);
	free(out);
}

static void
check_extid(const uint8_t *data, size_t size)
{
	char *id = fuzz_cstr(data, size);
	struct lin_buf a, b;
	struct lin_err e;

	lin_buf_init(&a);
	lin_buf_init(&b);
	lin_extid_escape(id, &a);
	FUZZ_CHECK(strchr(a.data, '/') == NULL);
	FUZZ_CHECK(lin_extid_unescape(a.data, &b, &e) == 0);
	FUZZ_CHECK(strcmp(b.data, id) == 0);
	/* Any name that unescapes must be the one escaping gives. */
	lin_buf_reset(&a);
	lin_buf_reset(&b);
	if (lin_extid_unescape(id, &a, &e) == 0) {
		lin_extid_escape(a.data, &b);
		FUZZ_CHECK(strcmp(b.data, id) == 0);
	}
	lin_buf_free(&a);
	lin_buf_free(&b);
	free(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_CHECK(lin_utf8_clean((const char *)data, size, false) ==
	    ref_clean(data, size, false));
	FUZZ_CHECK(lin_utf8_clean((const char *)data, size, true) ==
	    ref_clean(data, size, true));
	check_value(data, size, LIN_VALUE_LINE);
	check_value(data, size, LIN_VALUE_TEXT);
	check_extid(data, size);
	return 0;
}
