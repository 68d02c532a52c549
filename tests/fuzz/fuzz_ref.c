/*
 * fuzz_ref.c — libFuzzer target for iteration references (SPEC §2, §4):
 * the first byte picks where the path is written (a control file or a
 * channels/ directory, with or without a mount), the rest is the path.
 * An accepted reference names valid objects; nothing is read out of
 * bounds however deep or long the path.
 */
#include <errno.h>

#include "lineage/parse.h"
#include "fuzz_common.h"

static const struct {
	const char *base;
	const char *mnt;
} where[] = {
	{ "", NULL },
	{ "", "/mnt" },
	{ "buckets/base/channels", "/mnt" },
	{ "buckets/base/channels", NULL },
	{ "", "/" },
	{ "buckets/b-2/channels", "/srv/lineage/" },
	{ NULL, "/mnt/a/../b" },
	{ "a/../buckets/base/channels", "/mnt" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lin_ref ref;
	struct lin_err e;
	int rc, w;

	if (size == 0)
		return 0;
	w = data[0] % (sizeof(where) / sizeof(where[0]));
	rc = lin_ref_parse((const char *)data + 1, size - 1, where[w].base,
	    where[w].mnt, &ref, &e);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL && e.code == EINVAL);
		return 0;
	}
	switch (ref.kind) {
	case LIN_REF_ULID:
		FUZZ_CHECK(ref.bucket[0] == '\0');
		FUZZ_CHECK(lin_ulid_valid(ref.name));
		break;
	case LIN_REF_FINGERPRINT:
		FUZZ_CHECK(lin_name_bucket(ref.bucket, &e) == 0);
		FUZZ_CHECK(lin_name_fingerprint(ref.name, &e) == 0);
		break;
	case LIN_REF_CHANNEL:
		FUZZ_CHECK(lin_name_bucket(ref.bucket, &e) == 0);
		FUZZ_CHECK(lin_name_channel(ref.name, &e) == 0);
		break;
	case LIN_REF_VERSION:
		FUZZ_CHECK(lin_name_bucket(ref.bucket, &e) == 0);
		FUZZ_CHECK(ref.version > 0);
		break;
	default:
		FUZZ_CHECK(!"unknown kind");
	}
	return 0;
}
