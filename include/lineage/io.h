/*
 * lineage/io.h — the registry as a whole document: Packer manifest import
 * (SPEC §7), JSON export and its import (backup and restore), the integrity
 * and invariant check, and the synthetic registry generator for
 * benchmarks.
 */
#ifndef LINEAGE_IO_H
#define LINEAGE_IO_H

#include "lineage/registry.h"

/* Import a Packer manifest into the bucket, in one transaction.  On
 * success *path (malloc'd) is the new iteration's path relative to the
 * mount root.  Errors: -EINVAL (malformed, no builds, a build without
 * artifacts), -EEXIST (fingerprint exists). */
int lin_manifest_import(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *json, size_t len, char **path,
    struct lin_err *e);

/* The whole registry as one JSON document. */
int lin_export(struct lin_reg *r, struct lin_buf *out, struct lin_err *e);
/* Load an export into an empty registry, exactly. */
int lin_export_load(struct lin_reg *r, const char *json, size_t len,
    struct lin_err *e);

/* Integrity and invariants; one line per problem appended to report.
 * Returns the number of problems (0: healthy) or a negative errno. */
int lin_check(struct lin_reg *r, struct lin_buf *report, struct lin_err *e);

struct lin_gen_params {
	int      buckets;
	int      iterations;    /* per bucket */
	int      builds;        /* per iteration */
	int      regions;       /* artifacts per build */
	int      depth;         /* ancestry levels across buckets */
	int      fanout;        /* parents' children per level */
	int      channels;      /* user channels per bucket */
	uint64_t seed;
};
int lin_generate(struct lin_reg *r, const struct lin_gen_params *p,
    struct lin_err *e);

#endif
