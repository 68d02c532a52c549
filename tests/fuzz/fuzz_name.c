/*
 * fuzz_name.c — libFuzzer target for the name rules (SPEC §3) and ULIDs:
 * whatever a name checker accepts must really be a safe directory entry
 * of the documented shape.
 */
#include <errno.h>
#include <stdbool.h>

#include "lineage/parse.h"
#include "fuzz_common.h"

static bool
only(const char *s, const char *allowed)
{
	return strspn(s, allowed) == strlen(s);
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static void
check_rc(int rc, const struct lin_err *e, size_t n)
{
	if (rc == 0)
		return;
	FUZZ_CHECK(rc == -EINVAL || rc == -ENAMETOOLONG);
	FUZZ_CHECK(e->code == -rc);
	FUZZ_CHECK(e->msg[0] != '\0');
	FUZZ_CHECK((rc == -ENAMETOOLONG) == (n > 255));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	size_t n = strlen(s);
	struct lin_err e;
	char u[LIN_ULID_LEN + 1];
	int rc;

	rc = lin_name_bucket(s, &e);
	check_rc(rc, &e, n);
	if (rc == 0)
		FUZZ_CHECK(n >= 3 && n <= 36 && only(s, ALNUM "-"));
	FUZZ_CHECK(lin_name_channel(s, &e) == rc);

	rc = lin_name_fingerprint(s, &e);
	check_rc(rc, &e, n);
	if (rc == 0)
		FUZZ_CHECK(n >= 1 && n <= 40 && only(s, ALNUM "._-") &&
		    strchr(ALNUM, s[0]) && strchr(ALNUM, s[n - 1]));

	rc = lin_name_key(s, &e);
	check_rc(rc, &e, n);
	if (rc == 0)
		FUZZ_CHECK(n >= 1 && n <= 128 && only(s, ALNUM "._-") &&
		    s[0] != '.');

	if (lin_ulid_valid(s))
		FUZZ_CHECK(n == LIN_ULID_LEN && s[0] <= '7');
	if (size >= 16) {
		int64_t ms;

		memcpy(&ms, data, sizeof(ms));
		lin_ulid_format(ms, data + 6, u);
		FUZZ_CHECK(lin_ulid_valid(u));
	}
	free(s);
	return 0;
}
