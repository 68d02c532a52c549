/*
 * fuzz_revoke.c — libFuzzer target for revoke lines (SPEC §5.3): whatever
 * is accepted carries a clean, non-empty reason of at most 1024 bytes and
 * a time consistent with `scheduled`; whatever is refused says so with
 * EINVAL or EFBIG and a reason.
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>

#include "lineage/parse.h"
#include "fuzz_common.h"

#define NOW 1795599000LL	/* 2026-11-25T09:30:00Z */

static void
check_line(const uint8_t *data, size_t size, int64_t now)
{
	struct lin_revoke_req r;
	struct lin_err e;
	int64_t d;
	size_t n;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = lin_revoke_parse((const char *)data, size, now, &r, &e);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -EFBIG);
		FUZZ_CHECK(e.code == -rc && e.msg[0] != '\0');
		return;
	}
	n = strlen(r.reason);
	FUZZ_CHECK(n >= 1 && n <= LIN_REASON_MAX);
	FUZZ_CHECK(r.reason[0] != ' ' && r.reason[n - 1] != ' ');
	FUZZ_CHECK(lin_utf8_clean(r.reason, n, false));
	FUZZ_CHECK(memmem(data, size, r.reason, n) != NULL);
	FUZZ_CHECK(r.at >= now);
	FUZZ_CHECK(r.scheduled == (r.at > now));
	/* Without at=, a schedule comes from in=: at most 100 years. */
	if (r.scheduled && memmem(data, size, "at=", 3) == NULL)
		FUZZ_CHECK(!__builtin_sub_overflow(r.at, now, &d) &&
		    d <= 36525LL * 86400);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t now;

	check_line(data, size, NOW);
	/* The clock is an input too: any value, from the first bytes. */
	if (size >= sizeof(now)) {
		memcpy(&now, data, sizeof(now));
		check_line(data + sizeof(now), size - sizeof(now), now);
	}
	return 0;
}
