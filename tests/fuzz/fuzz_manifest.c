/*
 * fuzz_manifest.c — libFuzzer target for Packer manifest import (SPEC §7):
 * whatever the bytes, the import either makes exactly one complete
 * iteration (and says where) or refuses with an errno of SPEC §7 or §6
 * and a reason, changing nothing; the registry stays healthy either way.  The
 * target runs the real engine on a registry in memory, made afresh every
 * so many inputs so its size stays bounded.
 */
#include <errno.h>

#include "lineage/lineage.h"
#include "fuzz_common.h"

#define FRESH_EVERY 256

static struct lin_reg *reg;
static struct lin_bucket bucket;
static unsigned runs;

static void
fresh(void)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e;

	lin_reg_close(reg);
	memset(&e, 0, sizeof(e));
	FUZZ_CHECK(lin_reg_open(":memory:", 0, &reg, &e) == 0);
	FUZZ_CHECK(lin_bucket_create(reg, &a, "fuzz", 0755, &bucket, &e) == 0);
}

static int64_t
events(void)
{
	int64_t size = 0;

	FUZZ_CHECK(lin_events_size(reg, &size, NULL) == 0);
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lin_actor a = lin_actor_self();
	struct lin_buf report;
	struct lin_err e;
	char *path = NULL;
	int64_t before;
	int rc;

	if (reg == NULL || runs++ % FRESH_EVERY == 0)
		fresh();
	memset(&e, 0, sizeof(e));
	before = events();
	rc = lin_manifest_import(reg, &a, bucket.id, (const char *)data, size,
	    &path, &e);
	if (rc == 0) {
		FUZZ_CHECK(path != NULL && strncmp(path, "buckets/fuzz/"
		    "iterations/", 22) == 0);
		FUZZ_CHECK(events() > before);
	} else {
		/* A parent path may name nothing (ENOENT), as in `parent`. */
		FUZZ_CHECK(rc == -EINVAL || rc == -EEXIST || rc == -EFBIG ||
		    rc == -ENOENT || rc == -EKEYREVOKED || rc == -ELOOP);
		FUZZ_CHECK(e.code == -rc && e.msg[0] != '\0');
		FUZZ_CHECK(events() == before);	/* nothing changed */
	}
	free(path);
	/* Every so often, the whole registry's invariants. */
	if (runs % 64 == 0) {
		lin_buf_init(&report);
		FUZZ_CHECK(lin_check(reg, &report, &e) == 0);
		lin_buf_free(&report);
	}
	return 0;
}
