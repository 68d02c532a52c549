/*
 * lineage/ancestry.h — parent/child links between iterations across
 * buckets (SPEC §6): adding and removing parents, link status from the
 * channel recorded with each link, and the transitive views (ancestors,
 * descendants, tree, graph.dot), each from one recursive query.
 */
#ifndef LINEAGE_ANCESTRY_H
#define LINEAGE_ANCESTRY_H

#include "lineage/registry.h"

enum lin_link_status {
	LIN_LINK_UP_TO_DATE,
	LIN_LINK_OUT_OF_DATE,
	LIN_LINK_UNDETERMINED,
};
enum lin_ancestry {
	LIN_ANCESTRY_NONE,
	LIN_ANCESTRY_UP_TO_DATE,
	LIN_ANCESTRY_OUT_OF_DATE,
	LIN_ANCESTRY_UNDETERMINED,
};
const char *lin_link_status_word(enum lin_link_status s);
const char *lin_ancestry_word(enum lin_ancestry a);

struct lin_link {
	int64_t id;
	int64_t parent_id;       /* 0 for an untracked source */
	int64_t child_id;
	char    channel[LIN_BUCKET_MAX];   /* "" when none was recorded */
	char    source[LIN_VALUE_MAX + 1]; /* external id, for untracked parents */
	enum lin_link_status status;
	/* The iteration at the other end (parent for parents/, child for
	 * children/), for names and paths. */
	char    bucket[LIN_BUCKET_MAX];
	char    fingerprint[LIN_FP_MAX];
	int64_t mtime;
};
typedef int (*lin_link_fn)(void *ctx, const struct lin_link *l);

/*
 * Write to `parent`: one path (SPEC §2), resolved with the actor's
 * permissions.  Errors: -ENOENT (names nothing), -EINVAL (grammar),
 * -EPERM (child complete), -EKEYREVOKED (parent or child revoked), -ELOOP
 * (cycle or self-parent), -EACCES (actor may not read the parent),
 * -EEXIST (already a parent).  A scheduled parent's revocation is
 * inherited by the child.
 */
int lin_parent_add(struct lin_reg *r, const struct lin_actor *a,
    int64_t child_id, const char *buf, size_t len, struct lin_err *e);
/* rm parents/BUCKET@FP: -EPERM once the child is complete. */
int lin_parent_remove(struct lin_reg *r, const struct lin_actor *a,
    int64_t child_id, int64_t link_id, struct lin_err *e);
/* Links where child_id is the child (parents/, the `parent` file, including
 * untracked sources with parent_id 0), in link order. */
int lin_parent_links(struct lin_reg *r, int64_t child_id, lin_link_fn fn,
    void *ctx, struct lin_err *e);
/* Links where parent_id is the parent (children/). */
int lin_child_links(struct lin_reg *r, int64_t parent_id, lin_link_fn fn,
    void *ctx, struct lin_err *e);
int lin_link_get(struct lin_reg *r, int64_t link_id, struct lin_link *out,
    struct lin_err *e);
/* By name BUCKET@FP under parents/ or children/ of iteration_id. */
int lin_link_by_name(struct lin_reg *r, int64_t iteration_id, bool parents,
    const char *name, struct lin_link *out, struct lin_err *e);
int lin_iteration_ancestry(struct lin_reg *r, int64_t id,
    enum lin_ancestry *out, struct lin_err *e);

/* Renderers of the ancestry files (SPEC §2, §6), appending to out. */
int lin_render_parent(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e);
int lin_render_ancestors(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e);
int lin_render_descendants(struct lin_reg *r, int64_t id,
    struct lin_buf *out, struct lin_err *e);
int lin_render_tree(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e);
int lin_render_graph(struct lin_reg *r, struct lin_buf *out,
    struct lin_err *e);

#endif
