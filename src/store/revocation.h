/*
 * revocation.h — what the ancestry and revocation modules share: the one
 * SQL definition of "the revocation in force", so the status a tree or
 * graph.dot shows is the status the `status` file shows; the hooks a
 * parent link calls in revoke.c; and the link status that the renderers
 * take from ancestry.c.  Internal to src/store/.
 */
#ifndef LINEAGE_REVOCATION_H
#define LINEAGE_REVOCATION_H

#include "store/store.h"

/*
 * The revocation in force on iteration X (SPEC §5.4): explicit rows outrank
 * inherited ones, then the earliest time wins, then the oldest row.  X is
 * an SQL expression; the subqueries use the alias w, which callers must
 * not use for a table of their own.
 */
#define LIN_REV_ORDER \
	" ORDER BY w.origin_id IS NOT NULL, w.at, w.id LIMIT 1"
#define LIN_REV_IN_FORCE_ID(x) \
	"(SELECT w.id FROM revocations w WHERE w.iteration_id = " x \
	LIN_REV_ORDER ")"
/* Its time: the earliest explicit one, else the earliest of all (then all
 * are inherited).  Two MIN lookups on the index (iteration_id, origin_id,
 * at) rather than a sort per iteration, since a cascade asks this of
 * every channel it reaches and of each entry of their histories. */
#define LIN_REV_IN_FORCE_AT(x) \
	"COALESCE((SELECT MIN(w.at) FROM revocations w WHERE w.iteration_id " \
	"= " x " AND w.origin_id IS NULL), (SELECT MIN(w.at) FROM " \
	"revocations w WHERE w.iteration_id = " x "))"
/* 1 when the revocation in force is inherited (NULL when there is none). */
#define LIN_REV_IN_FORCE_INHERITED(x) \
	"(SELECT CASE WHEN w.origin_id IS NULL THEN 0 ELSE 1 END " \
	"FROM revocations w WHERE w.iteration_id = " x LIN_REV_ORDER ")"

/* The status word from the in-force time (0 or NULL: none), whether the
 * iteration is complete, and now. */
enum lin_status lin_rev_status(int64_t at, bool complete, int64_t now);

/*
 * A new link child -> parent: refuse it with -EKEYREVOKED when the parent
 * is revoked now, or when a revocation that would reach the child through
 * it is already due (the child would be revoked the moment it is linked).
 */
int lin_rev_link_check(struct lin_reg *r, int64_t parent_id, int64_t now,
    struct lin_err *e);
/* After the link is in: the child and its descendants inherit every
 * revocation that reaches the parent (all of them scheduled). */
int lin_rev_link_inherit(struct lin_reg *r, int64_t child_id,
    int64_t parent_id, int64_t now, struct lin_err *e);
/* After a link into child_id went: drop the inherited revocations of the
 * child and its descendants that no longer descend from their origin. */
int lin_rev_link_prune(struct lin_reg *r, const char *by, int64_t child_id,
    int64_t now, struct lin_err *e);

/* The status of a link from the channel it recorded (ancestry.c). */
int lin_link_status_of(struct lin_reg *r, int64_t parent_id,
    int64_t parent_bucket, const char *channel, enum lin_link_status *out,
    struct lin_err *e);

#endif
