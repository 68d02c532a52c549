/*
 * revoke.c — revocation (SPEC §5): immediate and scheduled revocations
 * that every descendant inherits, their precedence, channel rollback,
 * restoring, and the record the `revoke` file shows.
 *
 * A revocation is one explicit row on the revoked iteration (origin_id
 * NULL) plus one inherited row per descendant it reached (origin_id = the
 * explicit row), so the status of any iteration is one indexed lookup and
 * restoring is one delete.  Revoking is a handful of statements however
 * many descendants there are: the cascade is one INSERT ... SELECT over a
 * recursive walk of the links, the descendants' events are one SELECT
 * whose lines lin_ev_rows numbers and stores many to a row, and rolling
 * back the channels they reach is a handful of statements over the moves
 * (each an assignment with its own event), however many.
 *
 * The events of descendants record changes of status: a descendant gets a
 * line when the revocation becomes (or stops being) the one in force on
 * it, not when it was already revoked by another ancestor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/revocation.h"

/* One revocation row, with the iteration of its origin for inherited ones
 * and, for those, the origin's reason, author and options: an inherited
 * row stores only where and when (iteration, origin, at), so that a
 * cascade over 100k descendants does not copy a 1 KiB reason 100k times.
 * Its other columns are blank (reason and by_name '', descendants,
 * rollback and applied 0); what they would say is on the origin. */
struct rev_row {
	int64_t id;
	int64_t iteration_id;
	int64_t origin_id;      /* 0 for an explicit row */
	int64_t from_id;        /* the origin's iteration (inherited rows) */
	int64_t at;
	bool    descendants;
	bool    rollback;
	char    reason[LIN_REASON_MAX + 1];
	char    by[64];
};

#define REV_ROW_COLS \
	"SELECT w.id, w.iteration_id, COALESCE(w.origin_id, 0), " \
	"COALESCE(o.iteration_id, 0), w.at, " \
	"COALESCE(o.descendants, w.descendants), " \
	"COALESCE(o.rollback, w.rollback), COALESCE(o.reason, w.reason), " \
	"COALESCE(o.by_name, w.by_name) FROM revocations w " \
	"LEFT JOIN revocations o ON o.id = w.origin_id "

enum lin_status
lin_rev_status(int64_t at, bool complete, int64_t now)
{
	if (at != 0)
		return at <= now ? LIN_STATUS_REVOKED : LIN_STATUS_SCHEDULED;
	return complete ? LIN_STATUS_ACTIVE : LIN_STATUS_RUNNING;
}

static void
rev_row_read(sqlite3_stmt *st, struct rev_row *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->iteration_id = sqlite3_column_int64(st, 1);
	out->origin_id = sqlite3_column_int64(st, 2);
	out->from_id = sqlite3_column_int64(st, 3);
	out->at = sqlite3_column_int64(st, 4);
	out->descendants = sqlite3_column_int(st, 5) != 0;
	out->rollback = sqlite3_column_int(st, 6) != 0;
	snprintf(out->reason, sizeof(out->reason), "%s", lin_col_text(st, 7));
	snprintf(out->by, sizeof(out->by), "%s", lin_col_text(st, 8));
}

/* Step a statement of REV_ROW_COLS once: 0 with a row, -ENOENT without. */
static int
rev_row_one(struct lin_reg *r, sqlite3_stmt *st, struct rev_row *out,
    struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rev_row_read(st, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

/* The revocation in force on an iteration, or -ENOENT. */
static int
rev_in_force(struct lin_reg *r, int64_t id, struct rev_row *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, REV_ROW_COLS
	    "WHERE w.iteration_id = ?1" LIN_REV_ORDER);

	sqlite3_bind_int64(st, 1, id);
	return rev_row_one(r, st, out, e);
}

static int
rev_by_id(struct lin_reg *r, int64_t id, struct rev_row *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, REV_ROW_COLS "WHERE w.id = ?1");
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = rev_row_one(r, st, out, e);
	if (rc == -ENOENT)
		rc = lin_errf(e, ENOENT, "no such revocation");
	return rc;
}

/* Collect the integers of a one-column query into a buffer of int64_t. */
static int
rev_ids(struct lin_reg *r, sqlite3_stmt *st, struct lin_buf *ids,
    struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);

		lin_buf_add(ids, &v, sizeof(v));
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static size_t
rev_nids(const struct lin_buf *ids)
{
	return ids->len / sizeof(int64_t);
}

static int64_t
rev_id_at(const struct lin_buf *ids, size_t i)
{
	int64_t v;

	memcpy(&v, ids->data + i * sizeof(v), sizeof(v));
	return v;
}

static void
rev_path(struct lin_reg *r, int64_t id, struct lin_buf *out)
{
	if (lin_iteration_path(r, id, out, NULL))
		lin_buf_puts(out, "-");
}

/* ---- events ---- */

/*
 * Set-based events (LIN_EV_ROWS): one line per revocations row v that the
 * filter selects, in row order:
 *     TIME seq=N action=A bucket=B iteration=FP version=vN TAIL
 * ?1 is "action=A bucket=", ?2 to ?4 the filter's.
 */
#define REV_EV_INSERT(filter) LIN_EV_ROWS("v.id", \
	"?1 || b.name || ' iteration=' || i.fingerprint || ' version=v' || " \
	"CAST(i.version AS TEXT)", "revocations v JOIN iterations i ON " \
	"i.id = v.iteration_id JOIN buckets b ON b.id = i.bucket_id WHERE " \
	filter)

/*
 * Row v is the one in force on its iteration (LIN_REV_ORDER): no other row
 * there outranks it.  Said as NOT EXISTS rather than "v.id = the first row
 * in that order", it is one index probe per row without a sort, which is
 * what a cascade over 100k rows wants.
 */
#define REV_IN_FORCE(v) \
	"NOT EXISTS (SELECT 1 FROM revocations w WHERE w.iteration_id = " \
	v ".iteration_id AND w.id <> " v ".id AND ((w.origin_id IS NULL " \
	"AND " v ".origin_id IS NOT NULL) OR ((w.origin_id IS NULL) = (" \
	v ".origin_id IS NULL) AND (w.at < " v ".at OR (w.at = " v ".at " \
	"AND w.id < " v ".id)))))"

/* Rows of origin ?2 newer than row ?4 that are now the ones in force. */
static const char rev_ev_new_sql[] = REV_EV_INSERT(
    "v.origin_id = ?2 AND v.id > ?4 AND " REV_IN_FORCE("v"));

/*
 * Rows in force that are about to go (restore, prune) and leave their
 * iteration not revoked at ?3.  Such a row is inherited, so no explicit
 * row is there to outrank what remains, and the iteration stays revoked
 * exactly when another remaining copy is due: KEPT(w) says which remain.
 */
#define REV_GOING(kept) \
	" AND " REV_IN_FORCE("v") " AND NOT EXISTS (SELECT 1 FROM " \
	"revocations w WHERE w.iteration_id = v.iteration_id AND w.id <> v.id" \
	" AND w.at <= ?3 AND " kept ")"

/* Restoring iteration ?2 removes its explicit rows and their copies. */
#define REV_EXPLICIT_OF(x) \
	"(SELECT x.id FROM revocations x WHERE x.iteration_id = " x \
	" AND x.origin_id IS NULL)"
static const char rev_ev_restore_sql[] = REV_EV_INSERT(
    "v.origin_id IN " REV_EXPLICIT_OF("?2")
    REV_GOING("w.origin_id NOT IN " REV_EXPLICIT_OF("?2")));

/* The descendants of iteration X, by a walk down the links. */
#define REV_REACH(x) \
	"WITH RECURSIVE d(id) AS (SELECT l.child_id FROM links l " \
	"WHERE l.parent_id = " x " UNION SELECT l.child_id FROM d " \
	"JOIN links l ON l.parent_id = d.id) SELECT id FROM d"

/* Pruning removes the copies of origin ?2 on iterations that no longer
 * descend from its iteration ?4. */
static const char rev_ev_prune_sql[] = REV_EV_INSERT(
    "v.origin_id = ?2 AND v.iteration_id NOT IN (" REV_REACH("?4") ")"
    REV_GOING("w.origin_id <> ?2"));

static int
rev_ev_rows(struct lin_reg *r, const char *sql, const char *action,
    int64_t at, const struct lin_buf *tail, int64_t p2, int64_t p3,
    int64_t p4, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, sql);
	struct lin_buf act;
	int rc, n;

	if (st == NULL)
		return lin_db_err(r, e);
	lin_buf_init(&act);
	/* as lin_ev_start + lin_ev_kv("bucket") write */
	lin_buf_printf(&act, "action=%s bucket=", action);
	sqlite3_bind_text(st, 1, act.data, (int)act.len, SQLITE_STATIC);
	n = sqlite3_bind_parameter_count(st);
	if (n >= 2)
		sqlite3_bind_int64(st, 2, p2);
	if (n >= 3)
		sqlite3_bind_int64(st, 3, p3);
	if (n >= 4)
		sqlite3_bind_int64(st, 4, p4);
	rc = lin_ev_rows(r, st, at, tail, e);
	lin_buf_free(&act);
	return rc;
}

/* The tail of the events of iterations a revocation reached by
 * inheritance: who, from where, and when if scheduled.  The reason is in
 * the origin's own event, once, not on every line of a big cascade. */
static void
rev_tail_inherited(struct lin_reg *r, struct lin_buf *t, const char *by,
    int64_t from_id, int64_t sched_at)
{
	struct lin_buf path;
	char ts[LIN_TIME_MAX];

	lin_buf_init(&path);
	rev_path(r, from_id, &path);
	lin_ev_kv(t, "by", by);
	lin_ev_kv(t, "type", "inherited");
	lin_ev_kv(t, "inherited-from", path.data);
	if (sched_at) {
		lin_time_format(sched_at, ts);
		lin_ev_kv(t, "at", ts);
	}
	lin_buf_puts(t, "\n");
	lin_buf_free(&path);
}

/* Events for the rows of explicit revocation o newer than row `after` that
 * are now in force on their iteration. */
static int
rev_ev_inherited(struct lin_reg *r, const char *action,
    const struct rev_row *o, int64_t after, int64_t now, bool sched,
    struct lin_err *e)
{
	struct lin_buf tail;
	int rc;

	lin_buf_init(&tail);
	rev_tail_inherited(r, &tail, o->by, o->iteration_id, sched ? o->at : 0);
	rc = rev_ev_rows(r, rev_ev_new_sql, action, now, &tail, o->id, now, after,
	    e);
	lin_buf_free(&tail);
	return rc;
}

/* The event of an explicit revocation: revoke or schedule-revocation. */
static int
rev_ev_explicit(struct lin_reg *r, const char *action,
    const struct rev_row *o, int64_t now, struct lin_err *e)
{
	char ts[LIN_TIME_MAX];
	struct lin_buf b;
	int rc;

	lin_buf_init(&b);
	lin_ev_start(&b, action);
	if ((rc = lin_ev_iteration(r, &b, o->iteration_id, e)) == 0) {
		lin_ev_kv(&b, "by", o->by);
		lin_ev_kv(&b, "type", "manual");
		if (o->at > now) {
			lin_time_format(o->at, ts);
			lin_ev_kv(&b, "at", ts);
		}
		if (!o->descendants)
			lin_ev_kv(&b, "descendants", "no");
		if (!o->rollback)
			lin_ev_kv(&b, "rollback", "no");
		lin_ev_kv(&b, "reason", o->reason);
		rc = lin_ev_commit(r, &b, now, e);
	}
	lin_buf_free(&b);
	return rc;
}

/* ---- the cascade ---- */

/* Copy explicit revocation ?1 onto iteration ?2 and all its descendants
 * (except the origin's own iteration), once each, skipping those that
 * already hold a copy.  The unary plus keeps the planner from probing that
 * by origin, which holds 100k rows after a big cascade, rather than by
 * iteration, which holds a few. */
static const char rev_cascade_sql[] =
    "INSERT INTO revocations (iteration_id, origin_id, at, created, reason, "
    "by_name, descendants, rollback, applied) "
    "WITH RECURSIVE d(id) AS (SELECT CAST(?2 AS INTEGER) "
    "UNION SELECT l.child_id FROM d JOIN links l ON l.parent_id = d.id) "
    "SELECT d.id, o.id, o.at, ?3, '', '', 0, 0, 0 "
    "FROM d JOIN revocations o ON o.id = ?1 "
    "WHERE d.id <> o.iteration_id AND NOT EXISTS (SELECT 1 FROM "
    "revocations x WHERE x.iteration_id = d.id AND +x.origin_id = o.id)";

/* The same for a revocation ?1 made in this transaction on iteration ?2,
 * at ?4: no descendant can hold a copy of it yet, and the origin's
 * columns are known, so each row is the walk's id and constants. */
static const char rev_cascade_fresh_sql[] =
    "INSERT INTO revocations (iteration_id, origin_id, at, created, reason, "
    "by_name, descendants, rollback, applied) "
    "WITH RECURSIVE d(id) AS (SELECT CAST(?2 AS INTEGER) "
    "UNION SELECT l.child_id FROM d JOIN links l ON l.parent_id = d.id) "
    "SELECT d.id, ?1, ?4, ?3, '', '', 0, 0, 0 FROM d WHERE d.id <> ?2";

/* Copy origin o onto iteration `from` and its descendants; fresh when o
 * was inserted in this transaction and from is its own iteration. */
static int
rev_cascade(struct lin_reg *r, const struct rev_row *o, int64_t from,
    bool fresh, int64_t now, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, fresh ? rev_cascade_fresh_sql :
	    rev_cascade_sql);

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, o->id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, now);
	if (fresh)
		sqlite3_bind_int64(st, 4, o->at);
	return lin_exec_stmt(r, st, e);
}

static int
rev_max_id(struct lin_reg *r, int64_t *v, struct lin_err *e)
{
	return lin_query_int(r, lin_sql(r,
	    "SELECT COALESCE(MAX(id), 0) FROM revocations"), v, e);
}

/* ---- channels ---- */

/*
 * Rollback is set-based too, however many channels a cascade reaches: one
 * INSERT ... SELECT computes every target at once and writes them to the
 * assignment history, and the events, the change feed and the channels
 * themselves are then each one statement over those new history rows
 * (assignment ids above ?1, one per channel, in channel order).  Channels
 * are independent of each other here: a target depends only on the
 * channel's own history and on revocations, which no move changes.
 */

/* Channel C points at an iteration that revocation ?1 (or a copy of it)
 * revokes at ?2. */
#define REV_HIT(c) \
	c ".iteration_id IN (SELECT v.iteration_id FROM revocations v WHERE " \
	"v.origin_id = ?1 UNION ALL SELECT v.iteration_id FROM revocations v " \
	"WHERE v.id = ?1) AND " LIN_REV_IN_FORCE_AT(c ".iteration_id") " <= ?2"

/* Where channel C goes back to: the newest iteration of its own history
 * that is still there, complete and not revoked at ?2 (a scheduled one is
 * still valid, as for latest); NULL for none, and the channel goes. */
#define REV_TARGET(c) \
	"(SELECT a.iteration_id FROM assignments a JOIN iterations i ON " \
	"i.id = a.iteration_id WHERE a.bucket_id = " c ".bucket_id AND " \
	"a.channel = " c ".name AND a.iteration_id <> " c ".iteration_id " \
	"AND i.version > 0 AND COALESCE(" LIN_REV_IN_FORCE_AT("i.id") \
	", ?2 + 1) > ?2 ORDER BY a.id DESC LIMIT 1)"

/* ?1 origin, ?2 now, ?3 by. */
static const char rev_rollback_history_sql[] =
    "INSERT INTO assignments (bucket_id, channel, iteration_id, at, by_name) "
    "SELECT c.bucket_id, c.name, " REV_TARGET("c") ", ?2, ?3 FROM channels c "
    "WHERE " REV_HIT("c") " ORDER BY c.id";

/* The rollback's history rows (a, above ?1) with their channel (c), which
 * still points where it did. */
#define REV_MOVED \
	"assignments a JOIN channels c ON c.bucket_id = a.bucket_id AND " \
	"c.name = a.channel WHERE a.id > ?1"

/* One assign or unassign line per move, as lin_channel_record writes it;
 * the parameters of the source start at ?1 for LIN_EV_ROWS. */
static const char rev_rollback_events_sql[] = LIN_EV_ROWS("a.id",
    "CASE WHEN a.iteration_id IS NULL THEN 'action=unassign' ELSE "
    "'action=assign' END || ' bucket=' || b.name || ' channel=' || "
    "a.channel || ' from=' || f.fingerprint || ' to=' || "
    "COALESCE(t.fingerprint, '-')",
    "assignments a JOIN channels c ON c.bucket_id = a.bucket_id AND "
    "c.name = a.channel JOIN buckets b ON b.id = a.bucket_id JOIN "
    "iterations f ON f.id = c.iteration_id LEFT JOIN iterations t ON "
    "t.id = a.iteration_id WHERE a.id > ?1");

/* Each statement of the rollback after the history rows, ?1 being the
 * history's last id before them, ?2 now, ?3 and ?4 change kinds. */
static const char *const rev_rollback_sql[] = {
	/* the change feed: each channel, each bucket */
	"INSERT INTO changes (kind, id) SELECT ?3, c.id FROM " REV_MOVED ,
	"INSERT INTO changes (kind, id) SELECT DISTINCT ?4, a.bucket_id "
	"FROM assignments a WHERE a.id > ?1",
	"UPDATE buckets SET mtime = ?2 WHERE id IN (SELECT a.bucket_id "
	"FROM assignments a WHERE a.id > ?1)",
	/* the moves: deleted without a target, else pointed at it */
	"DELETE FROM channels WHERE id IN (SELECT c.id FROM " REV_MOVED
	" AND a.iteration_id IS NULL)",
	"UPDATE channels SET mtime = ?2, iteration_id = (SELECT a.iteration_id "
	"FROM assignments a WHERE a.bucket_id = channels.bucket_id AND "
	"a.channel = channels.name AND a.id > ?1) WHERE id IN (SELECT c.id "
	"FROM " REV_MOVED ")",
	NULL
};

static int
rev_max_assignment(struct lin_reg *r, int64_t *v, struct lin_err *e)
{
	return lin_query_int(r, lin_sql(r,
	    "SELECT COALESCE(MAX(id), 0) FROM assignments"), v, e);
}

/* Move every user channel that points at an iteration which revocation o
 * (or a copy of it) revokes at now: the channels of the whole cascade in
 * a handful of statements. */
static int
rev_rollback(struct lin_reg *r, const struct rev_row *o, int64_t now,
    struct lin_err *e)
{
	struct lin_buf tail;
	sqlite3_stmt *st;
	int64_t before;
	int rc;

	if ((rc = rev_max_assignment(r, &before, e)))
		return rc;
	if ((st = lin_sql(r, rev_rollback_history_sql)) == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, o->id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, o->by, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	if (sqlite3_changes(r->db) == 0)
		return 0;
	/* The events first, while the channels still say where from. */
	lin_buf_init(&tail);
	lin_ev_kv(&tail, "by", o->by);
	lin_ev_kv(&tail, "via", "rollback");
	lin_buf_puts(&tail, "\n");
	st = lin_sql(r, rev_rollback_events_sql);
	if (st != NULL)
		sqlite3_bind_int64(st, 1, before);
	rc = lin_ev_rows(r, st, now, &tail, e);
	lin_buf_free(&tail);
	for (size_t i = 0; rc == 0 && rev_rollback_sql[i] != NULL; i++) {
		if ((st = lin_sql(r, rev_rollback_sql[i])) == NULL)
			return lin_db_err(r, e);
		sqlite3_bind_int64(st, 1, before);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int(st, 3, LIN_CH_CHANNEL);
		sqlite3_bind_int(st, 4, LIN_CH_BUCKET);
		rc = lin_exec_stmt(r, st, e);
	}
	return rc ? rc : lin_change(r, LIN_CH_VIEWS, 0, e);
}

/* rollback=no on an immediate revocation: refuse while a channel points
 * at anything it revokes. */
static int
rev_refuse_busy(struct lin_reg *r, const struct rev_row *o, int64_t now,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT c.iteration_id, c.name FROM "
	    "channels c WHERE " REV_HIT("c") " ORDER BY c.id LIMIT 1");
	struct lin_buf path;
	char name[LIN_BUCKET_MAX];
	int64_t id;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, o->id);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
		sqlite3_reset(st);
		return rc;
	}
	id = sqlite3_column_int64(st, 0);
	snprintf(name, sizeof(name), "%s", lin_col_text(st, 1));
	sqlite3_reset(st);
	lin_buf_init(&path);
	rev_path(r, id, &path);
	rc = lin_errf(e, EBUSY, "channel %s points at %s, which this "
	    "revocation revokes: move the channel first, or revoke "
	    "with rollback=yes", name, path.data);
	lin_buf_free(&path);
	return rc;
}

/* ---- taking effect ---- */

/* Only the explicit row says whether it was carried out (its copies have
 * nothing of their own to say). */
static int
rev_mark_applied(struct lin_reg *r, int64_t origin, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "UPDATE revocations SET applied = 1 "
	    "WHERE id = ?1");

	sqlite3_bind_int64(st, 1, origin);
	return lin_exec_stmt(r, st, e);
}

/* A scheduled revocation whose time has come: it acts as an immediate one
 * would have, except that rollback=no leaves channels where they are. */
static int
rev_apply(struct lin_reg *r, int64_t origin, int64_t now, struct lin_err *e)
{
	struct rev_row o, f;
	int rc;

	if ((rc = rev_by_id(r, origin, &o, e)))
		return rc;
	if ((rc = rev_in_force(r, o.iteration_id, &f, e)) && rc != -ENOENT)
		return rc;
	if (rc == 0 && f.id == o.id &&
	    (rc = rev_ev_explicit(r, "revoke", &o, now, e)))
		return rc;
	if ((rc = rev_ev_inherited(r, "revoke", &o, 0, now, false, e)))
		return rc;
	if (o.rollback && (rc = rev_rollback(r, &o, now, e)))
		return rc;
	if ((rc = rev_mark_applied(r, o.id, e)) ||
	    (rc = lin_change_revocation(r, o.id, e)))
		return rc;
	return lin_touch_iteration(r, o.iteration_id, e);
}

int
lin_revoke_apply_due_tx(struct lin_reg *r, int64_t now, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id FROM revocations "
	    "WHERE applied = 0 AND at <= ?1 AND origin_id IS NULL "
	    "ORDER BY at, id");
	struct lin_buf ids;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, now);
	lin_buf_init(&ids);
	rc = rev_ids(r, st, &ids, e);
	for (; rc == 0 && n < rev_nids(&ids); n++)
		rc = rev_apply(r, rev_id_at(&ids, n), now, e);
	lin_buf_free(&ids);
	return rc ? rc : (int)n;
}

/* ---- revoking ---- */

static int
rev_insert(struct lin_reg *r, int64_t id, const struct lin_revoke_req *q,
    const char *by, int64_t now, int64_t *origin, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "INSERT INTO revocations (iteration_id, "
	    "origin_id, at, created, reason, by_name, descendants, rollback, "
	    "applied) VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, q->at);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, q->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, by, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, q->descendants);
	sqlite3_bind_int(st, 7, q->rollback);
	sqlite3_bind_int(st, 8, !q->scheduled);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	*origin = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static int
rev_revoke_tx(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    const char *buf, size_t len, struct lin_err *e)
{
	struct lin_revoke_req q;
	struct lin_iteration it;
	struct rev_row o;
	int64_t now = lin_now(), origin = 0;
	char by[64];
	int rc;

	if ((rc = lin_revoke_parse(buf, len, now, &q, e)))
		return rc;
	if ((rc = lin_iteration_get(r, id, &it, e)))
		return rc;
	if (it.status == LIN_STATUS_REVOKED)
		return lin_errf(e, EALREADY, "iteration %s of %s is already "
		    "revoked", it.fingerprint, it.bucket);
	lin_actor_name(a->uid, by, sizeof(by));
	if ((rc = rev_insert(r, id, &q, by, now, &origin, e)))
		return rc;
	if ((rc = rev_by_id(r, origin, &o, e)))
		return rc;
	if (q.descendants && (rc = rev_cascade(r, &o, id, true, now, e)))
		return rc;
	if (!q.scheduled && !q.rollback && (rc = rev_refuse_busy(r, &o, now, e)))
		return rc;
	if ((rc = rev_ev_explicit(r, q.scheduled ? "schedule-revocation" :
	    "revoke", &o, now, e)))
		return rc;
	if ((rc = rev_ev_inherited(r, q.scheduled ? "schedule-revocation" :
	    "revoke", &o, 0, now, q.scheduled, e)))
		return rc;
	if (!q.scheduled && q.rollback && (rc = rev_rollback(r, &o, now, e)))
		return rc;
	if ((rc = lin_change_revocation(r, origin, e)))
		return rc;
	return lin_touch_iteration(r, id, e);
}

int
lin_revoke(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    const char *buf, size_t len, struct lin_err *e)
{
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	rc = rev_revoke_tx(r, a, id, buf, len, e);
	return lin_tx_end(r, rc, e);
}

/* ---- restoring ---- */

static int
rev_ev_restore(struct lin_reg *r, const char *action, int64_t id,
    const char *by, const char *comment, int64_t now, struct lin_err *e)
{
	struct lin_buf b, tail, path;
	int rc;

	lin_buf_init(&b);
	lin_ev_start(&b, action);
	if ((rc = lin_ev_iteration(r, &b, id, e)) == 0) {
		lin_ev_kv(&b, "by", by);
		lin_ev_kv(&b, "type", "manual");
		if (comment[0] != '\0')
			lin_ev_kv(&b, "comment", comment);
		rc = lin_ev_commit(r, &b, now, e);
	}
	lin_buf_free(&b);
	if (rc)
		return rc;
	lin_buf_init(&tail);
	lin_buf_init(&path);
	rev_path(r, id, &path);
	lin_ev_kv(&tail, "by", by);
	lin_ev_kv(&tail, "type", "inherited");
	lin_ev_kv(&tail, "inherited-from", path.data);
	lin_buf_puts(&tail, "\n");
	rc = rev_ev_rows(r, rev_ev_restore_sql, action, now, &tail, id, now, 0, e);
	lin_buf_free(&path);
	lin_buf_free(&tail);
	return rc;
}

/* Delete the explicit revocations of an iteration and every copy of
 * them (explicitly, rather than trusting the foreign keys' cascade). */
static int
rev_delete_explicit(struct lin_reg *r, int64_t id, struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = lin_sql(r, "DELETE FROM revocations WHERE origin_id IN "
	    REV_EXPLICIT_OF("?1"));
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	st = lin_sql(r, "DELETE FROM revocations WHERE iteration_id = ?1 "
	    "AND origin_id IS NULL");
	sqlite3_bind_int64(st, 1, id);
	return lin_exec_stmt(r, st, e);
}

/*
 * After a restore: an inherited revocation that was already in effect,
 * outranked until now by the iteration's own (scheduled) one, is in force
 * at once.  It is carried out as it would have been: a revoke event for
 * the iteration, and its channels rolled back (unless it spares them).
 */
static int
rev_uncovered(struct lin_reg *r, int64_t id, int64_t now, struct lin_err *e)
{
	struct rev_row f, o;
	struct lin_buf b, path;
	int rc;

	if ((rc = rev_in_force(r, id, &f, e)) == -ENOENT)
		return 0;
	if (rc || f.origin_id == 0 || f.at > now)
		return rc;
	if ((rc = rev_by_id(r, f.origin_id, &o, e)))
		return rc;
	lin_buf_init(&b);
	lin_buf_init(&path);
	lin_ev_start(&b, "revoke");
	if ((rc = lin_ev_iteration(r, &b, id, e)) == 0) {
		rev_path(r, o.iteration_id, &path);
		lin_ev_kv(&b, "by", o.by);
		lin_ev_kv(&b, "type", "inherited");
		lin_ev_kv(&b, "inherited-from", path.data);
		rc = lin_ev_commit(r, &b, now, e);
	}
	lin_buf_free(&path);
	lin_buf_free(&b);
	if (rc == 0 && o.rollback)
		rc = rev_rollback(r, &o, now, e);
	return rc;
}

/* Feed the changes of every explicit revocation of an iteration. */
static int
rev_changes_explicit(struct lin_reg *r, int64_t id, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id FROM revocations WHERE "
	    "iteration_id = ?1 AND origin_id IS NULL ORDER BY id");
	struct lin_buf ids;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, id);
	lin_buf_init(&ids);
	rc = rev_ids(r, st, &ids, e);
	for (size_t i = 0; rc == 0 && i < rev_nids(&ids); i++)
		rc = lin_change_revocation(r, rev_id_at(&ids, i), e);
	lin_buf_free(&ids);
	return rc;
}

static int
rev_restore_tx(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    const char *buf, size_t len, struct lin_err *e)
{
	struct lin_iteration it;
	struct lin_buf path;
	struct rev_row f;
	int64_t now = lin_now();
	char by[64], *comment;
	int rc;

	if ((rc = lin_value_parse(buf, len, LIN_VALUE_TEXT, &comment, e)))
		return rc;
	if ((rc = lin_iteration_get(r, id, &it, e)))
		goto out;
	if ((rc = rev_in_force(r, id, &f, e)) == -ENOENT) {
		rc = lin_errf(e, EINVAL, "iteration %s of %s is neither "
		    "revoked nor scheduled: there is nothing to restore",
		    it.fingerprint, it.bucket);
		goto out;
	}
	if (rc)
		goto out;
	if (f.origin_id != 0) {
		lin_buf_init(&path);
		rev_path(r, f.from_id, &path);
		rc = lin_errf(e, EPERM, "the revocation of %s is inherited: "
		    "restore %s instead", it.fingerprint, path.data);
		lin_buf_free(&path);
		goto out;
	}
	lin_actor_name(a->uid, by, sizeof(by));
	/* The events and the change feed first: they need the rows to know
	 * who changes. */
	if ((rc = rev_changes_explicit(r, id, e)))
		goto out;
	if ((rc = rev_ev_restore(r, f.at > now ? "cancel-revocation" :
	    "restore", id, by, comment, now, e)))
		goto out;
	if ((rc = rev_delete_explicit(r, id, e)) ||
	    (rc = rev_uncovered(r, id, now, e)))
		goto out;
	rc = lin_touch_iteration(r, id, e);
out:
	free(comment);
	return rc;
}

int
lin_restore(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    const char *buf, size_t len, struct lin_err *e)
{
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	rc = rev_restore_tx(r, a, id, buf, len, e);
	return lin_tx_end(r, rc, e);
}

/* ---- the record ---- */

int
lin_revocation_get(struct lin_reg *r, int64_t id, struct lin_revocation *out,
    struct lin_err *e)
{
	struct rev_row f;
	int rc;

	if ((rc = rev_in_force(r, id, &f, e)) == -ENOENT)
		return lin_errf(e, ENOENT, "the iteration is neither revoked "
		    "nor scheduled");
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->scheduled = f.at > lin_now();
	out->inherited = f.origin_id != 0;
	out->at = f.at;
	snprintf(out->reason, sizeof(out->reason), "%s", f.reason);
	snprintf(out->by, sizeof(out->by), "%s", f.by);
	out->from_id = f.from_id;
	return 0;
}

int
lin_render_revocation(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e)
{
	struct lin_revocation v;
	char ts[LIN_TIME_MAX];
	int rc;

	if ((rc = lin_revocation_get(r, id, &v, e)) == -ENOENT)
		return lin_iteration_get(r, id, NULL, e);
	if (rc)
		return rc;
	lin_time_format(v.at, ts);
	/* Values raw, one a line: the record is read by people and by
	 * `cut -d= -f2-`, and a reason is one line by construction. */
	lin_buf_printf(out, "state=%s\nat=%s\nreason=%s\nby=%s\ntype=%s\n",
	    v.scheduled ? "scheduled" : "revoked", ts, v.reason, v.by,
	    v.inherited ? "inherited" : "manual");
	if (v.inherited) {
		lin_buf_puts(out, "inherited-from=");
		rev_path(r, v.from_id, out);
		lin_buf_puts(out, "\n");
	}
	return 0;
}

/* ---- parent links ---- */

/* Explicit revocations that reach past an iteration: its own (with
 * descendants=yes) and the origins of those it inherited. */
#define REV_REACHING(x) \
	"SELECT v.id FROM revocations v WHERE v.iteration_id = " x \
	" AND v.origin_id IS NULL AND v.descendants = 1 UNION " \
	"SELECT v.origin_id FROM revocations v WHERE v.iteration_id = " x \
	" AND v.origin_id IS NOT NULL"

int
lin_rev_link_check(struct lin_reg *r, int64_t parent_id, int64_t now,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	struct lin_buf path;
	int64_t from;
	int rc;

	lin_buf_init(&path);
	if (lin_iteration_revoked_now(r, parent_id)) {
		rev_path(r, parent_id, &path);
		rc = lin_errf(e, EKEYREVOKED, "%s is revoked: it cannot "
		    "become a parent", path.data);
		goto out;
	}
	st = lin_sql(r, "SELECT o.iteration_id FROM revocations o WHERE o.id "
	    "IN (" REV_REACHING("?1") ") AND o.at <= ?2 ORDER BY o.at LIMIT 1");
	sqlite3_bind_int64(st, 1, parent_id);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = lin_query_int(r, st, &from, e)) == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	rev_path(r, from, &path);
	rc = lin_errf(e, EKEYREVOKED, "the revocation of %s reaches this "
	    "parent and is in effect: a child linked here would be revoked "
	    "at once", path.data);
out:
	lin_buf_free(&path);
	return rc;
}

int
lin_rev_link_inherit(struct lin_reg *r, int64_t child_id, int64_t parent_id,
    int64_t now, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, REV_REACHING("?1") " ORDER BY 1");
	struct lin_buf ids;
	struct rev_row o;
	int64_t before = 0;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, parent_id);
	lin_buf_init(&ids);
	if ((rc = rev_ids(r, st, &ids, e)) == 0)
		rc = rev_max_id(r, &before, e);
	for (size_t i = 0; rc == 0 && i < rev_nids(&ids); i++) {
		if ((rc = rev_by_id(r, rev_id_at(&ids, i), &o, e)) ||
		    (rc = rev_cascade(r, &o, child_id, false, now, e)))
			break;
		rc = rev_ev_inherited(r, o.at > now ? "schedule-revocation" :
		    "revoke", &o, before, now, o.at > now, e);
		if (rc == 0)
			rc = lin_change_revocation(r, o.id, e);
	}
	lin_buf_free(&ids);
	return rc;
}

/* Drop origin o's copies that no longer descend from its iteration. */
static int
rev_prune_one(struct lin_reg *r, const char *by, const struct rev_row *o,
    int64_t now, struct lin_err *e)
{
	struct lin_buf tail;
	sqlite3_stmt *st;
	int rc;

	lin_buf_init(&tail);
	rev_tail_inherited(r, &tail, by, o->iteration_id, 0);
	rc = rev_ev_rows(r, rev_ev_prune_sql, o->at > now ? "cancel-revocation" :
	    "restore", now, &tail, o->id, now, o->iteration_id, e);
	lin_buf_free(&tail);
	if (rc || (rc = lin_change_revocation(r, o->id, e)))
		return rc;
	st = lin_sql(r, "DELETE FROM revocations WHERE origin_id = ?1 AND "
	    "iteration_id NOT IN (" REV_REACH("?2") ")");
	sqlite3_bind_int64(st, 1, o->id);
	sqlite3_bind_int64(st, 2, o->iteration_id);
	return lin_exec_stmt(r, st, e);
}

int
lin_rev_link_prune(struct lin_reg *r, const char *by, int64_t child_id,
    int64_t now, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT DISTINCT origin_id FROM "
	    "revocations WHERE iteration_id = ?1 AND origin_id IS NOT NULL "
	    "ORDER BY 1");
	struct lin_buf ids;
	struct rev_row o;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, child_id);
	lin_buf_init(&ids);
	rc = rev_ids(r, st, &ids, e);
	for (size_t i = 0; rc == 0 && i < rev_nids(&ids); i++)
		if ((rc = rev_by_id(r, rev_id_at(&ids, i), &o, e)) == 0)
			rc = rev_prune_one(r, by, &o, now, e);
	lin_buf_free(&ids);
	return rc;
}
