/*
 * ancestry_render.c — the transitive views of the ancestry (SPEC §2, §6):
 * the `ancestors` and `descendants` files, the `tree` drawing and the
 * registry-wide graph.dot.
 *
 * Each view is one recursive query.  Ancestors and descendants are sorted
 * by the database (nearest first); the tree is put together in memory from
 * the edges of the descendant subgraph, without recursion in C, so a chain
 * thousands of levels deep draws as well as a wide fan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/revocation.h"

/* A drawing past this size is refused rather than built: a deep chain's
 * indentation grows with the square of its depth. */
#define TREE_MAX (64u << 20)

/* Print "buckets/B/iterations/FP\n" for each row of (bucket, fingerprint). */
static int
render_paths(struct lin_reg *r, sqlite3_stmt *st, int64_t id,
    struct lin_buf *out, struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		lin_buf_printf(out, "buckets/%s/iterations/%s\n",
		    lin_col_text(st, 0), lin_col_text(st, 1));
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

/*
 * Every iteration reached from ?1 through the links once, nearest first:
 * the walk keeps (iteration, depth, link) triples, UNION drops repeats (so
 * a diamond costs one row per depth, not one per path), and each iteration
 * is shown at its smallest depth, ties broken by the lowest link id that
 * reached it there.  NEAR is the column of the link on our side, FAR the
 * one on the other.
 */
#define WALK(NEAR, FAR) \
	"WITH RECURSIVE a(id, depth, via) AS (" \
	"SELECT l." FAR ", 1, l.id FROM links l WHERE l." NEAR " = ?1 " \
	"AND l." FAR " IS NOT NULL UNION " \
	"SELECT l." FAR ", a.depth + 1, l.id FROM a JOIN links l " \
	"ON l." NEAR " = a.id WHERE l." FAR " IS NOT NULL), " \
	"m(id, depth) AS (SELECT id, MIN(depth) FROM a GROUP BY id), " \
	"f(id, depth, via) AS (SELECT m.id, m.depth, MIN(a.via) FROM m " \
	"JOIN a ON a.id = m.id AND a.depth = m.depth GROUP BY m.id, m.depth) " \
	"SELECT b.name, i.fingerprint FROM f JOIN iterations i ON i.id = f.id " \
	"JOIN buckets b ON b.id = i.bucket_id ORDER BY f.depth, f.via"

int
lin_render_ancestors(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e)
{
	return render_paths(r, lin_sql(r, WALK("child_id", "parent_id")), id,
	    out, e);
}

int
lin_render_descendants(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e)
{
	return render_paths(r, lin_sql(r, WALK("parent_id", "child_id")), id,
	    out, e);
}

/* ---- tree ---- */

struct tnode {
	int64_t id;
	size_t  label;      /* offset of its label in tree.labels */
	size_t  first;      /* its first edge in tree.edges */
	size_t  n;          /* how many children */
	bool    drawn;
};
struct tedge {
	int64_t parent;
	int64_t child;
};
struct tree {
	struct tnode *nodes;
	size_t        nnodes, capnodes;
	struct tedge *edges;
	size_t        nedges, capedges;
	struct lin_buf labels;
};

static void *
tree_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	if ((p = reallocarray(p, *cap, size)) == NULL)
		abort();	/* as the lin_buf appenders do */
	return p;
}

/*
 * Node columns: bucket, version, fingerprint, completed, the time of the
 * revocation in force and whether it is inherited.  The label is what a
 * node shows: "BUCKET vN FINGERPRINT [status]" and "(inherited)" when its
 * revocation came from an ancestor.
 */
#define NODE_COLS(x) \
	"b.name, i.version, i.fingerprint, i.completed, " \
	"COALESCE(" LIN_REV_IN_FORCE_AT(x) ", 0), " \
	"COALESCE(" LIN_REV_IN_FORCE_INHERITED(x) ", 0) "

static void
tree_node(struct tree *t, int64_t id, sqlite3_stmt *st, int col, int64_t now)
{
	struct tnode *n;
	enum lin_status s;

	t->nodes = tree_grow(t->nodes, &t->capnodes, t->nnodes, sizeof(*n));
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->label = t->labels.len;
	s = lin_rev_status(sqlite3_column_int64(st, col + 4),
	    sqlite3_column_int64(st, col + 3) != 0, now);
	lin_buf_printf(&t->labels, "%s v%lld %s [%s]%s",
	    lin_col_text(st, col), (long long)sqlite3_column_int64(st, col + 1),
	    lin_col_text(st, col + 2), lin_status_word(s),
	    sqlite3_column_int(st, col + 5) ? " (inherited)" : "");
	lin_buf_add(&t->labels, "", 1);
}

static int
tree_root(struct lin_reg *r, struct tree *t, int64_t id, int64_t now,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " NODE_COLS("i.id")
	    "FROM iterations i JOIN buckets b ON b.id = i.bucket_id "
	    "WHERE i.id = ?1");
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		tree_node(t, id, st, 0, now);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? lin_errf(e, ENOENT, "no such "
		    "iteration") : lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

/* The edges of the subgraph below the root, grouped by parent in link
 * order, each with its child's node columns.  The recursion collects the
 * edges themselves: joining a set of descendants back to links lets the
 * planner scan every link of the registry in parent order (for the ORDER
 * BY) and probe the set, which made every `tree` cost the whole graph. */
static int
tree_edges(struct lin_reg *r, struct tree *t, int64_t id, int64_t now,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "WITH RECURSIVE d(lid, parent, child) "
	    "AS (SELECT l.id, l.parent_id, l.child_id FROM links l "
	    "WHERE l.parent_id = ?1 UNION SELECT l.id, l.parent_id, "
	    "l.child_id FROM d JOIN links l ON l.parent_id = d.child) "
	    "SELECT d.parent, d.child, " NODE_COLS("i.id")
	    "FROM d JOIN iterations i ON i.id = d.child "
	    "JOIN buckets b ON b.id = i.bucket_id ORDER BY d.parent, d.lid");
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct tedge *ed;

		t->edges = tree_grow(t->edges, &t->capedges, t->nedges,
		    sizeof(*ed));
		ed = &t->edges[t->nedges++];
		ed->parent = sqlite3_column_int64(st, 0);
		ed->child = sqlite3_column_int64(st, 1);
		tree_node(t, ed->child, st, 2, now);
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static int
tnode_cmp(const void *a, const void *b)
{
	const struct tnode *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static struct tnode *
tree_find(struct tree *t, int64_t id)
{
	struct tnode key = { .id = id };

	return bsearch(&key, t->nodes, t->nnodes, sizeof(key), tnode_cmp);
}

/* Sort the nodes by id (a diamond's node came once per edge: keep one)
 * and give each its run of edges. */
static void
tree_index(struct tree *t)
{
	size_t i, k = 0;

	qsort(t->nodes, t->nnodes, sizeof(*t->nodes), tnode_cmp);
	for (i = 0; i < t->nnodes; i++)
		if (k == 0 || t->nodes[k - 1].id != t->nodes[i].id)
			t->nodes[k++] = t->nodes[i];
	t->nnodes = k;
	for (i = 0; i < t->nedges; i++) {
		struct tnode *p = tree_find(t, t->edges[i].parent);

		if (p->n++ == 0)
			p->first = i;
	}
}

struct tframe {
	struct tnode *node;
	size_t        next;     /* its next child edge */
	size_t        indent;   /* length of the prefix of its children */
};

/*
 * Depth first, children in link order.  A node reached again (a diamond)
 * is drawn again, marked "(see above)", without its subtree.
 */
static int
tree_draw(struct tree *t, struct tnode *root, struct lin_buf *out,
    struct lin_err *e)
{
	struct tframe *stack = NULL, *f;
	size_t depth = 0, cap = 0;
	struct lin_buf prefix;
	int rc = 0;

	lin_buf_init(&prefix);
	lin_buf_printf(out, "%s\n", t->labels.data + root->label);
	root->drawn = true;
	stack = tree_grow(stack, &cap, depth, sizeof(*stack));
	stack[depth++] = (struct tframe){ root, 0, 0 };
	while (depth > 0 && rc == 0) {
		struct tnode *c;
		bool last;

		f = &stack[depth - 1];
		if (f->next == f->node->n) {
			depth--;
			continue;
		}
		c = tree_find(t, t->edges[f->node->first + f->next++].child);
		last = f->next == f->node->n;
		prefix.len = f->indent;
		lin_buf_add(&prefix, "", 0);
		lin_buf_printf(out, "%s%s%s%s\n", prefix.data ? prefix.data :
		    "", last ? "└── " : "├── ", t->labels.data + c->label,
		    c->drawn ? " (see above)" : "");
		if (out->len > TREE_MAX)
			rc = lin_errf(e, EFBIG, "the tree is too large to "
			    "draw: read descendants instead");
		if (c->drawn || c->n == 0) {
			c->drawn = true;
			continue;
		}
		c->drawn = true;
		lin_buf_puts(&prefix, last ? "    " : "│   ");
		stack = tree_grow(stack, &cap, depth, sizeof(*stack));
		stack[depth++] = (struct tframe){ c, 0, prefix.len };
	}
	free(stack);
	lin_buf_free(&prefix);
	return rc;
}

int
lin_render_tree(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e)
{
	struct tree t;
	int64_t now = lin_now();
	int rc;

	memset(&t, 0, sizeof(t));
	lin_buf_init(&t.labels);
	if ((rc = tree_root(r, &t, id, now, e)) == 0 &&
	    (rc = tree_edges(r, &t, id, now, e)) == 0) {
		tree_index(&t);
		rc = tree_draw(&t, tree_find(&t, id), out, e);
	}
	free(t.nodes);
	free(t.edges);
	lin_buf_free(&t.labels);
	return rc;
}

/* ---- graph.dot ---- */

static const char *
graph_colour(enum lin_status s)
{
	switch (s) {
	case LIN_STATUS_RUNNING:
		return "grey";
	case LIN_STATUS_ACTIVE:
		return "green";
	case LIN_STATUS_SCHEDULED:
		return "orange";
	case LIN_STATUS_REVOKED:
		return "red";
	}
	return "white";
}

/* Names and fingerprints are made of [A-Za-z0-9._-], so they go into DOT
 * strings as they are. */
static int
graph_nodes(struct lin_reg *r, struct lin_buf *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT i.id, " NODE_COLS("i.id")
	    "FROM iterations i JOIN buckets b ON b.id = i.bucket_id "
	    "ORDER BY i.id");
	int64_t now = lin_now();
	enum lin_status s;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = lin_rev_status(sqlite3_column_int64(st, 5),
		    sqlite3_column_int64(st, 4) != 0, now);
		lin_buf_printf(out, "\ti%lld [label=\"%s\\nv%lld\", "
		    "tooltip=\"%s %s\", fillcolor=%s];\n",
		    (long long)sqlite3_column_int64(st, 0), lin_col_text(st, 1),
		    (long long)sqlite3_column_int64(st, 2), lin_col_text(st, 3),
		    lin_status_word(s), graph_colour(s));
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static int
graph_edges(struct lin_reg *r, struct lin_buf *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT l.parent_id, l.child_id, "
	    "l.channel, p.bucket_id FROM links l JOIN iterations p "
	    "ON p.id = l.parent_id ORDER BY l.id");
	enum lin_link_status s;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t parent = sqlite3_column_int64(st, 0);
		const char *ch = lin_col_text(st, 2);

		if ((rc = lin_link_status_of(r, parent,
		    sqlite3_column_int64(st, 3), ch, &s, e))) {
			sqlite3_reset(st);
			return rc;
		}
		lin_buf_printf(out, "\ti%lld -> i%lld%s;\n", (long long)parent,
		    (long long)sqlite3_column_int64(st, 1),
		    s == LIN_LINK_OUT_OF_DATE ? " [style=dashed]" : "");
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

int
lin_render_graph(struct lin_reg *r, struct lin_buf *out, struct lin_err *e)
{
	int rc;

	lin_buf_puts(out, "digraph lineage {\n"
	    "\tnode [shape=box, style=filled, fontname=\"Helvetica\"];\n");
	if ((rc = graph_nodes(r, out, e)) || (rc = graph_edges(r, out, e)))
		return rc;
	lin_buf_puts(out, "}\n");
	return 0;
}
