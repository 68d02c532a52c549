/*
 * db.c — opening a registry file: connection settings, schema migrations
 * (PRAGMA user_version), the prepared-statement cache, transactions and
 * the mapping of SQLite errors to errno values.
 *
 * Durability comes first: WAL with synchronous=FULL, so a write(2) that
 * returned success survives a crash of the daemon or the machine.  Several
 * processes (mounts, lineagectl) share one file; the busy timeout makes a
 * writer wait for another instead of failing, and lin_reg_await_writer
 * lets a mount do that waiting before it takes its own lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "store/schema.h"

#define LIN_BUSY_TIMEOUT_MS 10000

static int64_t
lin_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The calling thread's last lin_reg_await_writer gave up: its
 * transaction has waited its time already and does not wait again. */
static __thread bool lin_gate_gave_up;

static const char *const lin_pragmas[] = {
	"PRAGMA journal_mode = WAL",
	"PRAGMA synchronous = FULL",
	"PRAGMA foreign_keys = ON",
	"PRAGMA recursive_triggers = OFF",
	"PRAGMA cache_size = -16384",	/* 16 MiB: memory stays bounded */
	NULL,
};

int
lin_db_err(struct lin_reg *r, struct lin_err *e)
{
	int rc = sqlite3_extended_errcode(r->db);
	const char *m = sqlite3_errmsg(r->db);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return lin_errf(e, EBUSY, "the registry is busy: %s", m);
	case SQLITE_READONLY:
		return lin_errf(e, EROFS, "the registry is read-only: %s", m);
	case SQLITE_FULL:
		return lin_errf(e, ENOSPC, "the registry's disk is full");
	case SQLITE_NOMEM:
		return lin_errf(e, ENOMEM, "out of memory");
	case SQLITE_CONSTRAINT:
		return lin_errf(e, EINVAL, "the registry refused it: %s", m);
	case SQLITE_CANTOPEN:
		return lin_errf(e, ENOENT, "cannot open the registry: %s", m);
	default:
		return lin_errf(e, EIO, "registry error: %s", m);
	}
}

int
lin_exec(struct lin_reg *r, const char *sql, struct lin_err *e)
{
	if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return lin_db_err(r, e);
	return 0;
}

sqlite3_stmt *
lin_sql(struct lin_reg *r, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % LIN_STMT_CACHE;
	sqlite3_stmt *st;

	for (size_t n = 0; n < LIN_STMT_CACHE; n++) {
		size_t i = (h + n) % LIN_STMT_CACHE;

		if (r->cache[i].sql == sql) {
			st = r->cache[i].stmt;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
		if (r->cache[i].sql == NULL) {
			if (sqlite3_prepare_v3(r->db, sql, -1,
			    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
				goto bad;
			r->cache[i].sql = sql;
			r->cache[i].stmt = st;
			return st;
		}
	}
	/* Cache full: a statement the caller cannot free would leak, and
	 * there are fewer distinct statements than slots, so this is a bug. */
	abort();
bad:
#ifndef NDEBUG
	/* A statement that does not prepare is a bug in our SQL. */
	if (sqlite3_errcode(r->db) == SQLITE_ERROR) {
		fprintf(stderr, "lineage: bad SQL: %s\n%s\n",
		    sqlite3_errmsg(r->db), sql);
		abort();
	}
#endif
	return NULL;
}

int
lin_exec_stmt(struct lin_reg *r, sqlite3_stmt *st, struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		rc = lin_db_err(r, e);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

int
lin_query_int(struct lin_reg *r, sqlite3_stmt *st, int64_t *v,
    struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	rc = lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

int
lin_list_rows(struct lin_reg *r, sqlite3_stmt *st, lin_each_fn fn,
    void *ctx, struct lin_err *e)
{
	struct lin_entry ent;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ent.id = ent.cursor = sqlite3_column_int64(st, 0);
		ent.name = lin_col_text(st, 1);
		if ((rc = fn(ctx, &ent)) != 0) {
			sqlite3_reset(st);
			return rc;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

const char *
lin_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? (const char *)s : "";
}

int
lin_tx_begin(struct lin_reg *r, struct lin_err *e)
{
	if (r->flags & LIN_OPEN_RDONLY)
		return lin_errf(e, EROFS, "the registry is mounted read-only");
	bool waited = lin_gate_gave_up;
	int rc;

	if (r->tx_depth++ > 0)
		return 0;
	lin_gate_gave_up = false;
	if (waited)
		sqlite3_busy_timeout(r->db, 0);
	rc = sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (waited)
		sqlite3_busy_timeout(r->db, LIN_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		r->tx_depth = 0;
		return lin_db_err(r, e);
	}
	return 0;
}

int
lin_tx_end(struct lin_reg *r, int ok, struct lin_err *e)
{
	if (r->tx_depth <= 0)
		abort();
	if (--r->tx_depth > 0)
		return ok;
	if (ok < 0) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		return ok;
	}
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = lin_db_err(r, e);

		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return ok;
}

/* Version 2: the change feed the mounts follow to keep the kernel's
 * caches exact (change.c). */
static const char lin_schema_v2_sql[] =
	"CREATE TABLE changes ("
	"	seq  INTEGER PRIMARY KEY AUTOINCREMENT,"
	"	kind INTEGER NOT NULL,"
	"	id   INTEGER NOT NULL"
	");";

/* Version 3: a bucket remembers the highest version it ever gave, so a
 * number is never given twice, even after its iteration was deleted. */
static const char lin_schema_v3_sql[] =
	"ALTER TABLE buckets ADD COLUMN last_version INTEGER NOT NULL "
	"DEFAULT 0;"
	"UPDATE buckets SET last_version = (SELECT COALESCE(max(version), 0) "
	"FROM iterations WHERE bucket_id = buckets.id);";

/* Version 4 gives the change feed a name column: a name that went away
 * while its object stayed (an artifact's old id in artifacts/). */

/* Version 5: the indexes of revocations hold what the revocation in force
 * and a cascade's scans read (origin and time; the iteration), so those
 * lookups never visit the table, however many rows a cascade added. */
static const char lin_schema_v5_sql[] =
	"DROP INDEX revocations_iteration;"
	"CREATE INDEX revocations_iteration ON revocations (iteration_id, "
	"origin_id, at);"
	"DROP INDEX revocations_origin;"
	"CREATE INDEX revocations_origin ON revocations (origin_id, "
	"iteration_id);";

/* Version 6: the indexes of links hold the other end of each link, so a
 * recursive walk down (a cascade, descendants, tree) or up (ancestors,
 * cycle checks) reads only the index: a cascade of 100k descendants walks
 * a third faster.  The index of a channel's history holds where each
 * entry pointed, which is what a rollback looks for in it. */
static const char lin_schema_v6_sql[] =
	"DROP INDEX links_child;"
	"CREATE INDEX links_child ON links (child_id, parent_id);"
	"DROP INDEX links_parent;"
	"CREATE INDEX links_parent ON links (parent_id, child_id);"
	"DROP INDEX assignments_channel;"
	"CREATE INDEX assignments_channel ON assignments (bucket_id, channel, "
	"id, iteration_id);";

/* Bring the schema to LIN_SCHEMA_VERSION, one step per version: schema.sql
 * is version 1, and each later version adds its own step. */
static int
lin_migrate(struct lin_reg *r, struct lin_err *e)
{
	int64_t v;
	int rc;

	rc = lin_query_int(r, lin_sql(r, "PRAGMA user_version"), &v, e);
	if (rc)
		return rc;
	if (v == LIN_SCHEMA_VERSION)
		return 0;
	if (v > LIN_SCHEMA_VERSION)
		return lin_errf(e, EPROTO, "the registry's schema (version "
		    "%lld) is newer than this program's (%d)", (long long)v,
		    LIN_SCHEMA_VERSION);
	if (r->flags & LIN_OPEN_RDONLY)
		return lin_errf(e, EROFS, "the registry needs a schema "
		    "upgrade, which a read-only open cannot do");
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if (v < 1)
		rc = lin_exec(r, lin_schema_sql, e);
	if (rc == 0 && v < 2)
		rc = lin_exec(r, lin_schema_v2_sql, e);
	if (rc == 0 && v < 3)
		rc = lin_exec(r, lin_schema_v3_sql, e);
	if (rc == 0 && v < 4)
		rc = lin_exec(r, "ALTER TABLE changes ADD COLUMN name TEXT NOT "
		    "NULL DEFAULT ''", e);
	if (rc == 0 && v < 5)
		rc = lin_exec(r, lin_schema_v5_sql, e);
	if (rc == 0 && v < 6)
		rc = lin_exec(r, lin_schema_v6_sql, e);
	if (rc == 0)
		rc = lin_exec(r, "PRAGMA user_version = 6", e);
	return lin_tx_end(r, rc, e);
}

/*
 * Process-wide settings, made once before SQLite's first use: no memory
 * statistics, which SQLite would otherwise keep under a global mutex on
 * every allocation (a cascade's statements allocate a value per column of
 * each of 100k rows).  A library that some other code initialised first
 * keeps its settings (SQLITE_MISUSE, ignored).
 */
static pthread_once_t lin_sqlite_once = PTHREAD_ONCE_INIT;

static void
lin_sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* LINEAGE_SQL_PROFILE=MS: each statement that ran MS milliseconds or
 * more, with its time and virtual-machine steps, on standard error:
 * where a mutation spends its time, measured rather than guessed. */
static int
lin_profile(unsigned type, void *ctx, void *p, void *x)
{
	sqlite3_stmt *st = p;
	double ms = (double)*(sqlite3_int64 *)x / 1e6;

	if (type == SQLITE_TRACE_PROFILE && ms >= *(double *)ctx)
		fprintf(stderr, "lineage: sql %9.1f ms %10d steps  %.200s\n", ms,
		    sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0),
		    sqlite3_sql(st));
	return 0;
}

static void
lin_profile_setup(struct lin_reg *r)
{
	static double min_ms;
	const char *s = getenv("LINEAGE_SQL_PROFILE");

	if (s == NULL || *s == '\0')
		return;
	min_ms = atof(s);
	sqlite3_trace_v2(r->db, SQLITE_TRACE_PROFILE, lin_profile, &min_ms);
}

int
lin_reg_open(const char *path, int flags, struct lin_reg **out,
    struct lin_err *e)
{
	struct lin_reg *r;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return lin_errf(e, ENOMEM, "out of memory");
	r->flags = flags;
	pthread_mutex_init(&r->gate_lock, NULL);
	pthread_once(&lin_sqlite_once, lin_sqlite_setup);
	/* The file is opened read-write even for a read-only mount: WAL
	 * readers need the shared-memory index; EROFS comes from the engine. */
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = lin_db_err(r, e);
		goto fail;
	}
	/* SQLite's absolute name of the file, for the gate's connection:
	 * the daemon changes directory once in the background. */
	if ((r->path = strdup(sqlite3_db_filename(r->db, "main"))) == NULL) {
		rc = lin_errf(e, ENOMEM, "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, LIN_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(r->db, 1);
	lin_profile_setup(r);
	for (int i = 0; lin_pragmas[i]; i++)
		if ((rc = lin_exec(r, lin_pragmas[i], e)))
			goto fail;
	if ((rc = lin_migrate(r, e)))
		goto fail;
	if (!(flags & LIN_OPEN_RDONLY) && (rc = lin_reg_tick(r, e)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	lin_reg_close(r);
	return rc;
}

void
lin_reg_await_writer(struct lin_reg *r)
{
	lin_gate_gave_up = false;
	if (r->flags & LIN_OPEN_RDONLY)
		return;
	pthread_mutex_lock(&r->gate_lock);
	/* Another process that kept the lock for a whole timeout is not
	 * waited for again until a timeout has passed: requests that need no
	 * transaction (the pieces of an import) go on, and those that do
	 * fail at once if the lock is still held. */
	if (r->gate_gave_up_ms != 0 &&
	    lin_mono_ms() - r->gate_gave_up_ms < LIN_BUSY_TIMEOUT_MS) {
		lin_gate_gave_up = true;
		pthread_mutex_unlock(&r->gate_lock);
		return;
	}
	r->gate_gave_up_ms = 0;
	if (r->gate == NULL) {
		if (sqlite3_open_v2(r->path, &r->gate, SQLITE_OPEN_READWRITE |
		    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			sqlite3_close(r->gate);
			r->gate = NULL;
		} else {
			sqlite3_busy_timeout(r->gate, LIN_BUSY_TIMEOUT_MS);
		}
	}
	/* Taking the write lock and letting it go at once: the WAL's lock,
	 * no page read or written. */
	if (r->gate != NULL) {
		int rc = sqlite3_exec(r->gate, "BEGIN IMMEDIATE", NULL, NULL,
		    NULL);

		if (rc == SQLITE_OK)
			sqlite3_exec(r->gate, "ROLLBACK", NULL, NULL, NULL);
		else if ((rc & 0xff) == SQLITE_BUSY) {
			lin_gate_gave_up = true;
			r->gate_gave_up_ms = lin_mono_ms();
		}
	}
	pthread_mutex_unlock(&r->gate_lock);
}

void
lin_reg_close(struct lin_reg *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->gate);
	pthread_mutex_destroy(&r->gate_lock);
	free(r->path);
	for (size_t i = 0; i < LIN_STMT_CACHE; i++)
		if (r->cache[i].stmt)
			sqlite3_finalize(r->cache[i].stmt);
	sqlite3_close(r->db);
	free(r->mountpoint);
	free(r);
}

bool
lin_reg_readonly(const struct lin_reg *r)
{
	return (r->flags & LIN_OPEN_RDONLY) != 0;
}

void
lin_reg_set_mountpoint(struct lin_reg *r, const char *mountpoint)
{
	free(r->mountpoint);
	r->mountpoint = mountpoint ? strdup(mountpoint) : NULL;
}

const char *
lin_reg_mountpoint(const struct lin_reg *r)
{
	return r->mountpoint;
}

int
lin_reg_tick(struct lin_reg *r, struct lin_err *e)
{
	int64_t now = lin_now(), due;
	sqlite3_stmt *st;
	int rc;

	if (r->flags & LIN_OPEN_RDONLY)
		return 0;
	/* A cheap read first: most ticks find nothing to do and must not
	 * take the write lock that other mounts are waiting for. */
	st = lin_sql(r, "SELECT count(*) FROM revocations "
	    "WHERE applied = 0 AND origin_id IS NULL AND at <= ?");
	sqlite3_bind_int64(st, 1, now);
	if ((rc = lin_query_int(r, st, &due, e)))
		return rc;
	if (due == 0)
		return 0;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	rc = lin_revoke_apply_due_tx(r, now, e);
	return lin_tx_end(r, rc, e);
}

int64_t
lin_reg_next_due(struct lin_reg *r)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT min(at) FROM revocations "
	    "WHERE applied = 0 AND origin_id IS NULL");
	int64_t v = 0;

	if (lin_query_int(r, st, &v, NULL))
		return 0;
	return v;
}

int64_t
lin_reg_next_due_after(struct lin_reg *r, int64_t after)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT min(at) FROM revocations "
	    "WHERE applied = 0 AND origin_id IS NULL AND at > ?");
	int64_t v = 0;

	sqlite3_bind_int64(st, 1, after);
	if (lin_query_int(r, st, &v, NULL))
		return 0;
	return v;
}

int
lin_root_mode(struct lin_reg *r, mode_t *mode)
{
	int64_t v;

	if (lin_query_int(r, lin_sql(r, "SELECT CAST(value AS INTEGER) "
	    "FROM meta WHERE key = 'root_mode'"), &v, NULL) == 0)
		*mode = (mode_t)v & 07777;
	else
		*mode = 0755;
	return 0;
}

int
lin_root_chmod(struct lin_reg *r, mode_t mode, struct lin_err *e)
{
	sqlite3_stmt *st;
	char v[16];
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	snprintf(v, sizeof(v), "%u", (unsigned)(mode & 07777));
	st = lin_sql(r, "DELETE FROM meta WHERE key = 'root_mode'");
	rc = lin_exec_stmt(r, st, e);
	if (rc == 0) {
		st = lin_sql(r, "INSERT INTO meta (key, value) "
		    "VALUES ('root_mode', ?)");
		sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
		rc = lin_exec_stmt(r, st, e);
	}
	if (rc == 0)
		rc = lin_change(r, LIN_CH_GLOBAL, 0, e);
	return lin_tx_end(r, rc, e);
}

const char *
lin_sqlite_version(void)
{
	return sqlite3_libversion();
}
