/*
 * change.c — the change feed: every mutation records, in its own
 * transaction, which objects it changed, so that each mount can tell the
 * kernel exactly which cached names, attributes, pages and listings to
 * drop — for its own changes at once, and for changes made by another mount
 * or by lineagectl within a second (the mounts poll the feed).
 *
 * The feed is a table of (seq, kind, id) rows, pruned behind the newest;
 * a reader that fell behind the pruning is told LIN_CH_ALL.
 */
#include <errno.h>

#include "store/store.h"

#define CHANGES_KEPT 200000	/* rows kept behind the newest */
#define CHANGES_PRUNE_EVERY 1024

int
lin_change(struct lin_reg *r, enum lin_change_kind k, int64_t id,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "INSERT INTO changes (kind, id) "
	    "VALUES (?, ?)");
	int64_t seq;
	int rc;

	sqlite3_bind_int(st, 1, (int)k);
	sqlite3_bind_int64(st, 2, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	seq = sqlite3_last_insert_rowid(r->db);
	if (seq % CHANGES_PRUNE_EVERY != 0)
		return 0;
	st = lin_sql(r, "DELETE FROM changes WHERE seq < ?");
	sqlite3_bind_int64(st, 1, seq - CHANGES_KEPT);
	return lin_exec_stmt(r, st, e);
}

int
lin_change_extid(struct lin_reg *r, const char *extid, struct lin_err *e)
{
	sqlite3_stmt *st;

	if (extid[0] == '\0')
		return 0;
	st = lin_sql(r, "INSERT INTO changes (kind, id, name) VALUES (?, 0, ?)");
	sqlite3_bind_int(st, 1, LIN_CH_EXTID);
	sqlite3_bind_text(st, 2, extid, -1, SQLITE_STATIC);
	return lin_exec_stmt(r, st, e);
}

int
lin_change_artifacts_of(struct lin_reg *r, int64_t iteration_id,
    int64_t build_id, struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc;

	/* Every artifact of the build (or of all the iteration's builds),
	 * its inode and its name in artifacts/: set-based. */
	st = lin_sql(r, "INSERT INTO changes (kind, id, name) SELECT ?3, a.id, "
	    "'' FROM artifacts a JOIN builds b ON b.id = a.build_id WHERE "
	    "(b.iteration_id = ?1 OR b.id = ?2)");
	sqlite3_bind_int64(st, 1, iteration_id);
	sqlite3_bind_int64(st, 2, build_id);
	sqlite3_bind_int(st, 3, LIN_CH_ARTIFACT);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	st = lin_sql(r, "INSERT INTO changes (kind, id, name) SELECT ?3, 0, "
	    "a.external_id FROM artifacts a JOIN builds b ON b.id = a.build_id "
	    "WHERE (b.iteration_id = ?1 OR b.id = ?2) AND a.external_id <> ''");
	sqlite3_bind_int64(st, 1, iteration_id);
	sqlite3_bind_int64(st, 2, build_id);
	sqlite3_bind_int(st, 3, LIN_CH_EXTID);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	return lin_change(r, LIN_CH_GLOBAL, 0, e);
}

int
lin_change_source_links(struct lin_reg *r, int64_t child_id,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = lin_sql(r, "INSERT INTO changes (kind, id) SELECT ?2, id FROM "
	    "links WHERE child_id = ?1 AND build_id IS NOT NULL");
	sqlite3_bind_int64(st, 1, child_id);
	sqlite3_bind_int(st, 2, LIN_CH_LINK);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	st = lin_sql(r, "INSERT INTO changes (kind, id) SELECT ?2, parent_id "
	    "FROM links WHERE child_id = ?1 AND build_id IS NOT NULL AND "
	    "parent_id IS NOT NULL");
	sqlite3_bind_int64(st, 1, child_id);
	sqlite3_bind_int(st, 2, LIN_CH_ITERATION);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	return lin_change(r, LIN_CH_VIEWS, 0, e);
}

/* (?2, iteration) for explicit revocation ?1 and each of its copies. */
#define CH_REVOCATION_ROWS \
	"SELECT ?2 AS kind, v.iteration_id AS id FROM revocations v " \
	"WHERE v.origin_id = ?1 UNION ALL SELECT ?2, v.iteration_id " \
	"FROM revocations v WHERE v.id = ?1"

int
lin_change_revocation(struct lin_reg *r, int64_t origin, struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc;

	/* Every iteration the revocation (and its inherited copies) is on:
	 * set-based, however many.  The copies are read off the index of
	 * origins, the explicit row by its key (not an OR, which would visit
	 * every copy's row). */
	st = lin_sql(r, "INSERT INTO changes (kind, id) " CH_REVOCATION_ROWS);
	sqlite3_bind_int64(st, 1, origin);
	sqlite3_bind_int(st, 2, LIN_CH_ITERATION);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	/* Of their buckets, only latest can change (a rollback feeds the
	 * channels it moves): one row says so for all of them, rather than
	 * a row per bucket, 60k of them in a cascade of 100k. */
	if ((rc = lin_change(r, LIN_CH_LATEST, 0, e)) ||
	    (rc = lin_change(r, LIN_CH_VIEWS, 0, e)))
		return rc;
	return lin_change(r, LIN_CH_GLOBAL, 0, e);
}

int
lin_changes_head(struct lin_reg *r, int64_t *seq, struct lin_err *e)
{
	int rc = lin_query_int(r, lin_sql(r, "SELECT COALESCE(max(seq), 0) "
	    "FROM changes"), seq, e);

	return rc;
}

int
lin_changes_since(struct lin_reg *r, int64_t after, size_t max,
    lin_change_fn fn, void *ctx, int64_t *last, struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t oldest;
	size_t n = 0;
	int rc;

	*last = after;
	rc = lin_query_int(r, lin_sql(r, "SELECT COALESCE(min(seq), 0) "
	    "FROM changes"), &oldest, e);
	if (rc)
		return rc;
	if (oldest > after + 1) {
		/* Pruned past what this reader has seen: all may have
		 * changed. */
		if ((rc = lin_changes_head(r, last, e)))
			return rc;
		return fn(ctx, LIN_CH_ALL, 0, "");
	}
	st = lin_sql(r, "SELECT seq, kind, id, name FROM changes WHERE seq > ? "
	    "ORDER BY seq");
	sqlite3_bind_int64(st, 1, after);
	/* rc is the last step's (the callback's own is returned apart), so a
	 * batch that stops at max, a row still to come, is a success. */
	rc = SQLITE_DONE;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int frc;

		n++;
		*last = sqlite3_column_int64(st, 0);
		if ((frc = fn(ctx, sqlite3_column_int(st, 1),
		    sqlite3_column_int64(st, 2), lin_col_text(st, 3))) != 0) {
			sqlite3_reset(st);
			return frc;
		}
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}
