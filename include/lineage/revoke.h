/*
 * lineage/revoke.h — revocation (SPEC §5): immediate and scheduled
 * revocations inherited by every descendant, precedence, channel rollback,
 * restoring, and the revocation record that the `revoke` file shows.
 */
#ifndef LINEAGE_REVOKE_H
#define LINEAGE_REVOKE_H

#include "lineage/registry.h"

/* Write to `revoke`: one line of SPEC §5.3, in one transaction. */
int lin_revoke(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    const char *buf, size_t len, struct lin_err *e);
/* Write to `restore` (the bytes are a comment, kept in the event). */
int lin_restore(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    const char *buf, size_t len, struct lin_err *e);

/* The revocation in force for an iteration (SPEC §5.4 precedence). */
struct lin_revocation {
	bool    scheduled;          /* at is in the future */
	bool    inherited;
	int64_t at;
	char    reason[LIN_REASON_MAX + 1];
	char    by[64];
	int64_t from_id;            /* inherited-from iteration */
};
/* -ENOENT when the iteration is neither revoked nor scheduled. */
int lin_revocation_get(struct lin_reg *r, int64_t id,
    struct lin_revocation *out, struct lin_err *e);
/* The `revoke` file: empty, or the key=value record. */
int lin_render_revocation(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e);

#endif
