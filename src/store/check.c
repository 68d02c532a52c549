/*
 * check.c — `lineagectl check`: SQLite's own integrity and foreign-key
 * checks, then the invariants the engine promises (SPEC §4-§8) that no
 * constraint of the schema can state: ancestry without cycles, inherited
 * revocations on every descendant, channels only on usable iterations,
 * dense versions, complete iterations with artifacts, and an events log
 * whose byte offsets add up.
 *
 * Each invariant is one query whose rows are the report's lines, so adding
 * one is adding a row to lin_checks[].  Two are in C: the cycle test (a
 * recursive query would walk every path of the graph, while a topological
 * sort is linear in the links, which matters at a million iterations), and
 * the numbering of each line of the events log (splitting a row of many
 * lines in SQL copies the rest of the row for every line).
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/revocation.h"

/* An iteration's path relative to the mount root, from aliases i and b. */
#define CK_PATH(i, b) \
	"('buckets/' || " #b ".name || '/iterations/' || " #i ".fingerprint)"
#define CK_ITER(i) \
	" JOIN iterations " #i " ON " #i ".id = "
#define CK_BUCKET(i, b) \
	" JOIN buckets " #b " ON " #b ".id = " #i ".bucket_id"

/* The queries: one text column, one problem a row; ?1 is the time now. */
static const char *const lin_checks[] = {
	/* An explicit revocation with descendants=yes must reach every
	 * descendant, unless the descendant is revoked no later anyway. */
	"WITH RECURSIVE d (rev, at, it) AS ("
	" SELECT id, at, iteration_id FROM revocations"
	" WHERE origin_id IS NULL AND descendants <> 0"
	" UNION"
	" SELECT d.rev, d.at, l.child_id FROM d"
	" JOIN links l ON l.parent_id = d.it)"
	" SELECT 'revocation: ' || " CK_PATH(i, b) " || ' descends from '"
	" || " CK_PATH(oi, ob) " || ', revoked with descendants=yes, but"
	" holds no revocation inherited from it'"
	" FROM d JOIN revocations o ON o.id = d.rev"
	CK_ITER(i) "d.it" CK_BUCKET(i, b)
	CK_ITER(oi) "o.iteration_id" CK_BUCKET(oi, ob)
	" WHERE d.it <> o.iteration_id AND NOT EXISTS (SELECT 1"
	" FROM revocations x WHERE x.iteration_id = d.it"
	" AND (x.origin_id = d.rev OR x.at <= d.at))"
	" ORDER BY d.rev, d.it",

	/* An inherited revocation comes from an explicit one with
	 * descendants=yes on an ancestor, at the same time. */
	"WITH RECURSIVE d (rev, it) AS ("
	" SELECT id, iteration_id FROM revocations"
	" WHERE origin_id IS NULL AND descendants <> 0"
	" UNION"
	" SELECT d.rev, l.child_id FROM d"
	" JOIN links l ON l.parent_id = d.it)"
	" SELECT 'revocation: ' || " CK_PATH(i, b) " || ' holds a revocation"
	" inherited from row ' || x.origin_id || CASE"
	" WHEN o.id IS NULL THEN ', which does not exist'"
	" WHEN o.origin_id IS NOT NULL THEN ', which is itself inherited'"
	" WHEN o.at <> x.at THEN ', but at another time than it'"
	" ELSE ', which is not on an ancestor with descendants=yes' END"
	" FROM revocations x" CK_ITER(i) "x.iteration_id" CK_BUCKET(i, b)
	" LEFT JOIN revocations o ON o.id = x.origin_id"
	" WHERE x.origin_id IS NOT NULL AND (o.id IS NULL"
	" OR o.origin_id IS NOT NULL OR o.at <> x.at OR NOT EXISTS"
	" (SELECT 1 FROM d WHERE d.rev = x.origin_id"
	" AND d.it = x.iteration_id AND d.it <> o.iteration_id))"
	" ORDER BY x.id",

	/* SPEC §4, §5.3: a user channel points at a complete iteration of
	 * its own bucket that is not revoked, unless a revocation that
	 * spares channels (rollback=no), or one not yet carried out, left
	 * it there. */
	"SELECT 'channel: ' || b.name || '/channels/' || c.name"
	" || ' points at ' || " CK_PATH(i, ib) " || CASE"
	" WHEN c.bucket_id <> i.bucket_id THEN ', in another bucket'"
	" WHEN i.completed = 0 THEN ', which is incomplete'"
	" ELSE ', which is revoked' END"
	" FROM channels c JOIN buckets b ON b.id = c.bucket_id"
	CK_ITER(i) "c.iteration_id" CK_BUCKET(i, ib)
	" WHERE c.bucket_id <> i.bucket_id OR i.completed = 0"
	" OR (" LIN_REV_IN_FORCE_AT("i.id") " <= ?1"
	" AND NOT EXISTS (SELECT 1 FROM revocations v"
	" JOIN revocations o ON o.id = coalesce(v.origin_id, v.id)"
	" WHERE v.iteration_id = i.id AND v.at <= ?1"
	" AND (o.rollback = 0 OR o.applied = 0)))"
	" ORDER BY c.id",

	/* SPEC §2: v0 while incomplete, vN from 1 once complete. */
	"SELECT 'versions: ' || " CK_PATH(i, b) " || CASE WHEN i.completed = 0"
	" THEN ' is incomplete but has version v' || i.version"
	" ELSE ' is complete without a version' END"
	" FROM iterations i" CK_BUCKET(i, b)
	" WHERE (i.completed = 0 AND i.version <> 0)"
	" OR (i.completed <> 0 AND i.version < 1) ORDER BY i.id",

	"SELECT 'versions: bucket ' || b.name || ' has ' || count(*)"
	" || ' complete iterations numbered v' || i.version"
	" FROM iterations i" CK_BUCKET(i, b)
	" WHERE i.completed <> 0 GROUP BY i.bucket_id, i.version"
	" HAVING count(*) > 1 ORDER BY i.bucket_id, i.version",

	/* Versions are dense, except where a revoked iteration was deleted
	 * (SPEC §5.6), which the events log records. */
	"WITH RECURSIVE n (bucket_id, v, top) AS ("
	" SELECT bucket_id, 1, max(version) FROM iterations"
	" WHERE completed <> 0 GROUP BY bucket_id"
	" UNION ALL SELECT bucket_id, v + 1, top FROM n WHERE v < top)"
	" SELECT 'versions: bucket ' || b.name || ' has no v' || n.v"
	" || ' and no deletion of it in the events log'"
	" FROM n JOIN buckets b ON b.id = n.bucket_id"
	" WHERE NOT EXISTS (SELECT 1 FROM iterations i"
	" WHERE i.bucket_id = n.bucket_id AND i.version = n.v"
	" AND i.completed <> 0)"
	" AND NOT EXISTS (SELECT 1 FROM events"
	" WHERE replace(line, char(10), ' ') LIKE"
	" '% action=iteration-delete bucket=' || b.name"
	" || ' % version=v' || n.v || ' %')"
	" ORDER BY n.bucket_id, n.v",

	/* SPEC §5.2: what completion required stays true. */
	"SELECT 'builds: ' || " CK_PATH(i, b) " || ' is complete without a"
	" build' FROM iterations i" CK_BUCKET(i, b)
	" WHERE i.completed <> 0 AND NOT EXISTS"
	" (SELECT 1 FROM builds d WHERE d.iteration_id = i.id) ORDER BY i.id",

	"SELECT 'artifacts: build ' || d.name || ' of ' || " CK_PATH(i, b)
	" || ' is complete without an artifact'"
	" FROM builds d" CK_ITER(i) "d.iteration_id" CK_BUCKET(i, b)
	" WHERE i.completed <> 0 AND NOT EXISTS (SELECT 1 FROM artifacts a"
	" WHERE a.build_id = d.id AND a.external_id <> '') ORDER BY d.id",

	/* SPEC §8: the log is its lines end to end, numbered from 1.  A row
	 * holds whole lines, seq being its last one's: its first line names
	 * the seq after the previous row's. */
	"SELECT 'events: seq ' || seq || CASE"
	" WHEN off <> coalesce(prev_end, 0) THEN ' starts at byte ' || off"
	" || ' but the previous line ends at ' || coalesce(prev_end, 0)"
	" WHEN substr(line, -1) <> char(10)"
	" THEN ' does not end with a newline'"
	" WHEN substr(line, 1, instr(line, char(10))) NOT LIKE"
	" '% seq=' || first || ' %'"
	" THEN ' does not begin with the line seq=' || first"
	" ELSE ' holds ' || (length(line) - length(replace(line, char(10), '')))"
	" || ' lines for seq=' || first || ' to ' || seq END"
	" FROM (SELECT seq, off, line, coalesce(lag(seq) OVER w, 0) + 1 AS first,"
	" lag(off + length(CAST(line AS BLOB))) OVER w AS prev_end FROM events"
	" WINDOW w AS (ORDER BY seq))"
	" WHERE off <> coalesce(prev_end, 0) OR substr(line, -1) <> char(10)"
	" OR substr(line, 1, instr(line, char(10))) NOT LIKE"
	" '% seq=' || first || ' %'"
	" OR seq - first + 1 <> length(line) - length(replace(line, char(10), ''))"
	" ORDER BY seq",
	NULL,
};

static void
ck_line(struct lin_buf *report, const char *line, int *n)
{
	lin_buf_puts(report, line);
	lin_buf_puts(report, "\n");
	(*n)++;
}

/* Run one query of lin_checks (or a pragma): each row is a problem. */
static int
ck_query(struct lin_reg *r, const char *sql, struct lin_buf *report,
    int *n, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, sql);
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, lin_now());
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ck_line(report, lin_col_text(st, 0), n);
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static int
ck_integrity(struct lin_reg *r, struct lin_buf *report, int *n,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "PRAGMA integrity_check");
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = lin_col_text(st, 0);

		if (strcmp(s, "ok") == 0)
			continue;
		lin_buf_puts(report, "integrity: ");
		ck_line(report, s, n);
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	if (rc)
		return rc;
	st = lin_sql(r, "SELECT 'foreign key: row ' || coalesce(rowid, '?') "
	    "|| ' of ' || \"table\" || ' refers to a missing row of ' || "
	    "parent FROM pragma_foreign_key_check");
	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ck_line(report, lin_col_text(st, 0), n);
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

/* ---- cycles ---- */

struct ck_graph {
	int64_t *id;        /* iteration ids, ascending: node i is id[i] */
	size_t   n;
	size_t  *down, *up; /* CSR offsets (n + 1) into child / parent */
	size_t  *child, *parent;
	size_t   nlink;
	int     *deg;
	bool    *gone;
};

static void
ck_graph_free(struct ck_graph *g)
{
	free(g->id);
	free(g->down);
	free(g->up);
	free(g->child);
	free(g->parent);
	free(g->deg);
	free(g->gone);
}

static void *
ck_alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		abort();	/* as lin_buf does */
	return p;
}

static bool
ck_node(const struct ck_graph *g, int64_t id, size_t *out)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo;
	return lo < g->n && g->id[lo] == id;
}

static int
ck_count(struct lin_reg *r, const char *sql, size_t *n, struct lin_err *e)
{
	int64_t v;
	int rc = lin_query_int(r, lin_sql(r, sql), &v, e);

	*n = rc ? 0 : (size_t)v;
	return rc;
}

/* After a loop of steps that stopped at rc (a row when it had all it
 * counted on): 0, or the error that cut it short, which would otherwise
 * read as a smaller graph. */
static int
ck_step_end(struct lin_reg *r, sqlite3_stmt *st, int rc, struct lin_err *e)
{
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

#define CK_LINKS_SQL "SELECT l.parent_id, l.child_id FROM links l " \
	"JOIN iterations p ON p.id = l.parent_id " \
	"JOIN iterations c ON c.id = l.child_id"

/* Load the links as two CSR adjacency lists, parent->child and back. */
static int
ck_graph_load(struct lin_reg *r, struct ck_graph *g, struct lin_err *e)
{
	sqlite3_stmt *st;
	size_t *pi, *ci, k = 0;
	int rc;

	if ((rc = ck_count(r, "SELECT count(*) FROM iterations", &g->n, e)) ||
	    (rc = ck_count(r, "SELECT count(*) FROM (" CK_LINKS_SQL ")",
	    &g->nlink, e)))
		return rc;
	g->id = ck_alloc(g->n, sizeof(*g->id));
	st = lin_sql(r, "SELECT id FROM iterations ORDER BY id");
	rc = SQLITE_DONE;
	while (k < g->n && (rc = sqlite3_step(st)) == SQLITE_ROW)
		g->id[k++] = sqlite3_column_int64(st, 0);
	if ((rc = ck_step_end(r, st, rc, e)))
		return rc;
	g->n = k;
	pi = ck_alloc(g->nlink, sizeof(*pi));
	ci = ck_alloc(g->nlink, sizeof(*ci));
	g->down = ck_alloc(g->n + 1, sizeof(size_t));
	g->up = ck_alloc(g->n + 1, sizeof(size_t));
	k = 0;
	st = lin_sql(r, CK_LINKS_SQL);
	rc = SQLITE_DONE;
	while (k < g->nlink && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!ck_node(g, sqlite3_column_int64(st, 0), &pi[k]) ||
		    !ck_node(g, sqlite3_column_int64(st, 1), &ci[k]))
			continue;
		g->down[pi[k] + 1]++;
		g->up[ci[k] + 1]++;
		k++;
	}
	if ((rc = ck_step_end(r, st, rc, e))) {
		free(pi);
		free(ci);
		return rc;
	}
	g->nlink = k;
	for (size_t i = 0; i < g->n; i++) {
		g->down[i + 1] += g->down[i];
		g->up[i + 1] += g->up[i];
	}
	g->child = ck_alloc(g->nlink, sizeof(size_t));
	g->parent = ck_alloc(g->nlink, sizeof(size_t));
	{
		size_t *dn = ck_alloc(g->n + 1, sizeof(size_t));
		size_t *un = ck_alloc(g->n + 1, sizeof(size_t));

		for (k = 0; k < g->nlink; k++) {
			g->child[g->down[pi[k]] + dn[pi[k]]++] = ci[k];
			g->parent[g->up[ci[k]] + un[ci[k]]++] = pi[k];
		}
		free(dn);
		free(un);
	}
	free(pi);
	free(ci);
	g->deg = ck_alloc(g->n, sizeof(int));
	g->gone = ck_alloc(g->n, sizeof(bool));
	return 0;
}

/* Remove, over and over, the nodes left with no edge in the direction
 * given (Kahn's algorithm): forward peels roots, backward peels leaves. */
static void
ck_peel(struct ck_graph *g, bool forward)
{
	const size_t *in = forward ? g->up : g->down;
	const size_t *out = forward ? g->down : g->up;
	const size_t *next = forward ? g->child : g->parent;
	const size_t *prev = forward ? g->parent : g->child;
	size_t *queue = ck_alloc(g->n, sizeof(size_t)), head = 0, tail = 0;

	for (size_t i = 0; i < g->n; i++) {
		g->deg[i] = 0;
		if (g->gone[i])
			continue;
		for (size_t k = in[i]; k < in[i + 1]; k++)
			g->deg[i] += !g->gone[prev[k]];
		if (g->deg[i] == 0)
			queue[tail++] = i;
	}
	while (head < tail) {
		size_t i = queue[head++];

		g->gone[i] = true;
		for (size_t k = out[i]; k < out[i + 1]; k++)
			if (!g->gone[next[k]] && --g->deg[next[k]] == 0)
				queue[tail++] = next[k];
	}
	free(queue);
}

static int
ck_cycles(struct lin_reg *r, struct lin_buf *report, int *n,
    struct lin_err *e)
{
	struct ck_graph g;
	struct lin_buf path;
	int rc;

	memset(&g, 0, sizeof(g));
	if ((rc = ck_graph_load(r, &g, e)))
		goto out;
	/* What survives both peels lies on a cycle, or between two. */
	ck_peel(&g, true);
	ck_peel(&g, false);
	lin_buf_init(&path);
	for (size_t i = 0; i < g.n && rc == 0; i++) {
		if (g.gone[i])
			continue;
		lin_buf_reset(&path);
		if ((rc = lin_iteration_path(r, g.id[i], &path, e)))
			break;
		lin_buf_printf(report, "links: %s is its own ancestor (a cycle "
		    "of parent links)", path.data);
		ck_line(report, "", n);
	}
	lin_buf_free(&path);
out:
	ck_graph_free(&g);
	return rc;
}

/* ---- the events log, line by line ---- */

/*
 * Every line of a row that holds several (a set-based append) names its
 * own seq, one after another up to the row's: the SQL check reads only
 * each row's first line and counts the rest.  Done here, line by line, as
 * SQL would copy the rest of a row for each line it splits off.
 */
static int
ck_event_lines(struct lin_reg *r, struct lin_buf *report, int *n,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT seq, line FROM events "
	    "ORDER BY seq");
	int64_t want = 1;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *p = lin_col_text(st, 1), *nl;
		bool bad = false;

		for (; !bad && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			const char *s = memmem(p, (size_t)(nl - p), " seq=", 5);

			bad = s == NULL || strtoll(s + 5, NULL, 10) != want;
			if (!bad)
				want++;
		}
		if (bad) {
			lin_buf_printf(report, "events: in the row of seq %lld, "
			    "the line of seq=%lld says otherwise", (long long)seq,
			    (long long)want);
			ck_line(report, "", n);
		}
		want = seq + 1;		/* the SQL check says if rows skip */
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static int
ck_all(struct lin_reg *r, struct lin_buf *report, int *n, struct lin_err *e)
{
	int rc;

	if ((rc = ck_integrity(r, report, n, e)) ||
	    (rc = ck_cycles(r, report, n, e)) ||
	    (rc = ck_event_lines(r, report, n, e)))
		return rc;
	for (int i = 0; lin_checks[i]; i++)
		if ((rc = ck_query(r, lin_checks[i], report, n, e)))
			return rc;
	return 0;
}

int
lin_check(struct lin_reg *r, struct lin_buf *report, struct lin_err *e)
{
	int n = 0, rc, end;

	/* One read transaction, so the checks see one state of the file. */
	if ((rc = lin_exec(r, "SAVEPOINT lin_check", e)))
		return rc;
	rc = ck_all(r, report, &n, e);
	end = lin_exec(r, "RELEASE lin_check", rc ? NULL : e);
	if (rc == 0)
		rc = end;
	return rc ? rc : n;
}
