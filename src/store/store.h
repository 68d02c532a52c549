/*
 * store.h — the inside of the registry engine, shared by the modules of
 * src/store/ and nothing else: the open registry, prepared-statement cache,
 * transactions, the events appender and a few row readers.
 *
 * A struct lin_reg is used by one thread at a time (the mount serialises
 * its calls), but for lin_reg_await_writer, which any thread may call.  All SQL of the engine lives under src/store/.
 */
#ifndef LINEAGE_STORE_H
#define LINEAGE_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include "lineage/lineage.h"

#define LIN_SCHEMA_VERSION 6
/* The version an export carries: that of the tables' shape, which versions
 * 5 and 6 (indexes only) left as version 4 made it; but an export of 5
 * may hold events rows of many lines, which a program of 4 would take for
 * damage.  A program loads exports of the oldest version whose content it
 * reads as its own, up to its own. */
#define LIN_EXPORT_SCHEMA 5
#define LIN_EXPORT_SCHEMA_OLDEST 4
#define LIN_STMT_CACHE 256

struct lin_reg {
	sqlite3     *db;
	int          flags;
	int          tx_depth;       /* nesting of lin_tx_begin */
	char        *path;
	/* lin_reg_await_writer's own connection, opened on first use, and
	 * the lock that lets it run beside the thread using db. */
	pthread_mutex_t gate_lock;
	sqlite3     *gate;
	int64_t      gate_gave_up_ms; /* when it last timed out (monotonic) */
	char        *mountpoint;
	struct {
		const char   *sql;   /* key: the address of a static string */
		sqlite3_stmt *stmt;
	} cache[LIN_STMT_CACHE];
};

/* A prepared statement for sql (which must be a string literal or other
 * static storage: it is cached by address), reset and unbound.  NULL only on
 * a prepare error, which is a bug in the SQL: it aborts in debug builds. */
sqlite3_stmt *lin_sql(struct lin_reg *r, const char *sql);

/* Map the connection's last error to a negative errno with a message. */
int lin_db_err(struct lin_reg *r, struct lin_err *e);

/* Step a statement that returns no rows (or whose rows are ignored). */
int lin_exec_stmt(struct lin_reg *r, sqlite3_stmt *st, struct lin_err *e);
/* Run one literal statement with no parameters. */
int lin_exec(struct lin_reg *r, const char *sql, struct lin_err *e);
/* Step a statement returning one integer: 0 and *v on a row, -ENOENT with
 * no row. */
int lin_query_int(struct lin_reg *r, sqlite3_stmt *st, int64_t *v,
    struct lin_err *e);

/* Transactions.  begin is BEGIN IMMEDIATE at the outermost level (-EROFS on
 * a read-only registry); nested calls only count.  end commits when ok is 0
 * and the outermost level is left, and rolls back on any failure.  Returns
 * ok, or the commit's error. */
int lin_tx_begin(struct lin_reg *r, struct lin_err *e);
int lin_tx_end(struct lin_reg *r, int ok, struct lin_err *e);

/* Run a listing statement whose rows are (id, name), the id also being
 * the cursor, calling fn for each (see lin_each_fn). */
int lin_list_rows(struct lin_reg *r, sqlite3_stmt *st, lin_each_fn fn,
    void *ctx, struct lin_err *e);
/* Column text as a C string ("" for NULL). */
const char *lin_col_text(sqlite3_stmt *st, int col);

/* ---- events ---- */
/* An event under construction: "action=X bucket=B ..." fields. */
void lin_ev_start(struct lin_buf *b, const char *action);
void lin_ev_kv(struct lin_buf *b, const char *key, const char *value);
void lin_ev_kvi(struct lin_buf *b, const char *key, int64_t value);
/* bucket=B iteration=FP version=vN of an iteration. */
int  lin_ev_iteration(struct lin_reg *r, struct lin_buf *b, int64_t id,
    struct lin_err *e);
/* Append the event (time, seq, the fields) to the log; frees nothing. */
int  lin_ev_commit(struct lin_reg *r, struct lin_buf *b, int64_t at,
    struct lin_err *e);
/* The log's next sequence number and byte offset (inside a transaction),
 * for set-based appends of many events at once. */
int  lin_ev_tail(struct lin_reg *r, int64_t *next_seq, int64_t *next_off,
    struct lin_err *e);

/*
 * Set-based appends: LIN_EV_ROWS(key, body, src) selects a line's BODY
 * ("action=A field=value ...", an SQL expression) per row of src (a FROM
 * clause with its joins and WHERE), in the order of key; lin_ev_rows
 * writes each as lin_ev_commit would:
 *     TIME seq=N BODY TAIL
 * TAIL being the fields that are the same on every line, and the newline.
 * The parameters of src are bound by the caller, from ?1.
 */
#define LIN_EV_ROWS(key, body, src) \
	"SELECT " body " FROM " src " ORDER BY " key
/* Append the lines of a statement of LIN_EV_ROWS whose parameters are
 * bound, at time `at`, each ending in tail.  They go in rows of many lines
 * (an `events` row holds whole lines, `seq` being its last line's), so
 * that a cascade's 100k lines are a few hundred inserts. */
int  lin_ev_rows(struct lin_reg *r, sqlite3_stmt *st, int64_t at,
    const struct lin_buf *tail, struct lin_err *e);

/* ---- the change feed (change.c) ---- */
/* Record that an object changed, in the current transaction. */
int lin_change(struct lin_reg *r, enum lin_change_kind k, int64_t id,
    struct lin_err *e);
/* An external id left artifacts/ (its artifact changed or went). */
int lin_change_extid(struct lin_reg *r, const char *extid,
    struct lin_err *e);
/* The artifacts of a build (build_id) or of every build of an iteration
 * (iteration_id), about to go: their inodes and names. */
int lin_change_artifacts_of(struct lin_reg *r, int64_t iteration_id,
    int64_t build_id, struct lin_err *e);
/* The source links of an iteration, about to be derived again. */
int lin_change_source_links(struct lin_reg *r, int64_t child_id,
    struct lin_err *e);
/* Every iteration and bucket an explicit revocation (and its inherited
 * copies) is on, plus the views: set-based. */
int lin_change_revocation(struct lin_reg *r, int64_t origin,
    struct lin_err *e);

/* ---- shared row readers and guards ---- */
/* Fill an iteration from a row of LIN_ITERATION_COLS (status computed at
 * now). */
#define LIN_ITERATION_COLS \
	"i.id, i.bucket_id, b.name, i.fingerprint, i.ulid, i.version, " \
	"i.created, i.completed, i.mtime"
#define LIN_ITERATION_FROM " FROM iterations i JOIN buckets b ON b.id = i.bucket_id "
void lin_iteration_row(struct lin_reg *r, sqlite3_stmt *st,
    struct lin_iteration *out);
/* The status of an iteration now. */
enum lin_status lin_iteration_status_now(struct lin_reg *r, int64_t id,
    bool complete);
/* Refuse changes to a complete (-EPERM) or revoked (-EKEYREVOKED)
 * iteration; what names the thing being changed, for the message. */
int lin_iteration_mutable(struct lin_reg *r, int64_t id, const char *what,
    struct lin_err *e);
/* Bump mtime of an iteration / bucket (their directories' mtime). */
int lin_touch_iteration(struct lin_reg *r, int64_t id, struct lin_err *e);
int lin_touch_bucket(struct lin_reg *r, int64_t id, struct lin_err *e);
/* Recompute nothing, but record a channel assignment in the history and
 * the events log (from/to iteration ids, 0 for none). */
int lin_channel_record(struct lin_reg *r, const char *by, int64_t bucket_id,
    const char *channel, int64_t from, int64_t to, const char *why,
    struct lin_err *e);
/* Point channel at iteration `to` (0 deletes it), recording it. */
int lin_channel_move(struct lin_reg *r, const char *by, int64_t bucket_id,
    const char *channel, int64_t to, const char *why, struct lin_err *e);
/* Iteration path relative to the mount root: buckets/B/iterations/FP. */
int lin_iteration_path(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e);
/* Add a parent link inside an open transaction (used by `parent`, build
 * sources and manifest import).  parent_id 0 with source set: untracked. */
int lin_link_add_tx(struct lin_reg *r, const char *by, int64_t child_id,
    int64_t parent_id, const char *channel, const char *source,
    int64_t build_id, struct lin_err *e);
/* Run scheduled revocations that are due (inside a transaction). */
int lin_revoke_apply_due_tx(struct lin_reg *r, int64_t now,
    struct lin_err *e);
/* Is the iteration revoked (not scheduled) now? */
bool lin_iteration_revoked_now(struct lin_reg *r, int64_t id);

#endif
