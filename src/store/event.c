/*
 * event.c — the events log (SPEC §8): building an event line, appending
 * it in the transaction of the change it records, and reading the log as
 * the `events` file at any byte offset.
 *
 * Lines are stored rendered, a row of `events` holding one line or, for a
 * set-based append, many, each row with the byte offset of its first line
 * in the file, so the file's size and any read(2) of it are one indexed
 * query each, however long the log grows, and `tail -f` costs nothing more
 * than a stat.
 */
#include <errno.h>
#include <string.h>

#include "store/store.h"

void
lin_ev_start(struct lin_buf *b, const char *action)
{
	lin_buf_reset(b);
	lin_buf_puts(b, "action=");
	lin_buf_puts(b, action);
}

void
lin_ev_kv(struct lin_buf *b, const char *key, const char *value)
{
	lin_buf_printf(b, " %s=", key);
	lin_buf_putq(b, value);
}

void
lin_ev_kvi(struct lin_buf *b, const char *key, int64_t value)
{
	lin_buf_printf(b, " %s=%lld", key, (long long)value);
}

int
lin_ev_iteration(struct lin_reg *r, struct lin_buf *b, int64_t id,
    struct lin_err *e)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(r, id, &it, e)))
		return rc;
	lin_ev_kv(b, "bucket", it.bucket);
	lin_ev_kv(b, "iteration", it.fingerprint);
	lin_buf_printf(b, " version=v%lld", (long long)it.version);
	return 0;
}

int
lin_ev_tail(struct lin_reg *r, int64_t *next_seq, int64_t *next_off,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT seq, off + "
	    "length(CAST(line AS BLOB)) FROM events ORDER BY seq DESC LIMIT 1");
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*next_seq = sqlite3_column_int64(st, 0) + 1;
		*next_off = sqlite3_column_int64(st, 1);
	} else if (rc == SQLITE_DONE) {
		*next_seq = 1;
		*next_off = 0;
	} else {
		rc = lin_db_err(r, e);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

/* Store a row of whole lines, `seq` being the last one's. */
static int
ev_insert(struct lin_reg *r, int64_t seq, int64_t at, int64_t off,
    const struct lin_buf *lines, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "INSERT INTO events (seq, at, off, line) "
	    "VALUES (?, ?, ?, ?)");

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_int64(st, 3, off);
	sqlite3_bind_text(st, 4, lines->data, (int)lines->len, SQLITE_STATIC);
	return lin_exec_stmt(r, st, e);
}

int
lin_ev_commit(struct lin_reg *r, struct lin_buf *b, int64_t at,
    struct lin_err *e)
{
	char t[LIN_TIME_MAX];
	struct lin_buf line;
	int64_t seq, off;
	int rc;

	if ((rc = lin_ev_tail(r, &seq, &off, e)))
		return rc;
	lin_time_format(at, t);
	lin_buf_init(&line);
	lin_buf_printf(&line, "%s seq=%lld %s\n", t, (long long)seq, b->data);
	rc = ev_insert(r, seq, at, off, &line, e);
	lin_buf_free(&line);
	return rc;
}

/* An `events` row of a set-based append is closed once it holds this many
 * bytes (so it holds at most this and one line more): big enough that a
 * cascade is a few hundred rows, small enough that a read(2) of the file
 * copies little it does not return. */
#define EV_ROW_BYTES 32768

int
lin_ev_rows(struct lin_reg *r, sqlite3_stmt *st, int64_t at,
    const struct lin_buf *tail, struct lin_err *e)
{
	char t[LIN_TIME_MAX];
	struct lin_buf rows;
	int64_t seq, off;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	if ((rc = lin_ev_tail(r, &seq, &off, e))) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return rc;
	}
	lin_time_format(at, t);
	lin_buf_init(&rows);
	while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* as lin_ev_commit writes it */
		lin_buf_printf(&rows, "%s seq=%lld ", t, (long long)seq++);
		lin_buf_add(&rows, sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		lin_buf_add(&rows, tail->data, tail->len);
		rc = 0;
		if (rows.len >= EV_ROW_BYTES) {
			rc = ev_insert(r, seq - 1, at, off, &rows, e);
			off += (int64_t)rows.len;
			lin_buf_reset(&rows);
		}
	}
	if (rc == SQLITE_DONE)
		rc = rows.len ? ev_insert(r, seq - 1, at, off, &rows, e) : 0;
	else if (rc > 0)
		rc = lin_db_err(r, e);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	lin_buf_free(&rows);
	return rc;
}

int
lin_events_size(struct lin_reg *r, int64_t *size, struct lin_err *e)
{
	int64_t seq;

	return lin_ev_tail(r, &seq, size, e);
}

int64_t
lin_events_mtime(struct lin_reg *r)
{
	int64_t v = 0;

	if (lin_query_int(r, lin_sql(r, "SELECT at FROM events "
	    "ORDER BY seq DESC LIMIT 1"), &v, NULL))
		return 0;
	return v;
}

int
lin_events_read(struct lin_reg *r, int64_t off, size_t len,
    struct lin_buf *out, struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t first;
	size_t want = len;
	int rc;

	/* The line that holds byte `off`: the last one starting at or
	 * before it. */
	st = lin_sql(r, "SELECT seq FROM events WHERE off <= ? "
	    "ORDER BY off DESC LIMIT 1");
	sqlite3_bind_int64(st, 1, off);
	rc = lin_query_int(r, st, &first, e);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	st = lin_sql(r, "SELECT off, line FROM events WHERE seq >= ? "
	    "ORDER BY seq");
	sqlite3_bind_int64(st, 1, first);
	while (want > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t loff = sqlite3_column_int64(st, 0);
		const char *l = (const char *)sqlite3_column_text(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1), skip = 0;

		if (loff < off)
			skip = (size_t)(off - loff);
		if (skip >= n)
			continue;
		n -= skip;
		if (n > want)
			n = want;
		lin_buf_add(out, l + skip, n);
		want -= n;
	}
	if (want > 0 && rc != SQLITE_DONE) {
		rc = lin_db_err(r, e);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}
