/*
 * export.c — the whole registry as one JSON document, and loading such a
 * document into an empty registry (backup and restore).
 *
 * The document holds every row of every table with its id, plus the
 * AUTOINCREMENT counters, so a restored registry never reuses a row id
 * that the original had handed out (the mount makes inode numbers from
 * them).  Rows come in primary-key order, one a line, members in column
 * order, so two exports of one registry are byte-identical and a diff of
 * two exports reads well.
 *
 * Columns are taken from the schema itself (pragma_table_info) rather than
 * listed here, so a column added by a migration is exported and loaded
 * without touching this file.  JSON is built and read by SQLite's JSON
 * functions; this file and manifest.c are the only places that use them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define EX_FORMAT   "lineagefs-export"
#define EX_MAX_COLS 24

/* Every table, parents before children (the order rows are loaded in). */
static const char *const ex_tables[] = {
	"meta", "buckets", "labels", "iterations", "builds", "artifacts",
	"channels", "assignments", "links", "revocations", "events", NULL,
};

struct ex_col {
	char name[64];
	char kind;      /* 'i' integer, 't' text, '?' anything */
	bool nullable;
	int  pk;        /* position in the primary key, 0 if not part */
};

struct ex_table {
	const char   *name;
	struct ex_col col[EX_MAX_COLS];
	int           ncol;
	const char   *order;    /* the primary key column */
};

/* Prepare one statement built at run time (table and column names): not
 * for lin_sql's cache, which keys statements by a static string. */
static sqlite3_stmt *
ex_prepare(struct lin_reg *r, const char *sql, struct lin_err *e)
{
	sqlite3_stmt *st = NULL;

	if (sql == NULL) {
		lin_errf(e, ENOMEM, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		lin_db_err(r, e);
		st = NULL;
	}
	return st;
}

static int
ex_columns(struct lin_reg *r, const char *table, struct ex_table *t,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(t, 0, sizeof(*t));
	t->name = table;
	st = lin_sql(r, "SELECT name, upper(type), \"notnull\", pk "
	    "FROM pragma_table_info(?) ORDER BY cid");
	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && t->ncol < EX_MAX_COLS) {
		struct ex_col *c = &t->col[t->ncol++];
		const char *type = lin_col_text(st, 1);

		strlcpy(c->name, lin_col_text(st, 0), sizeof(c->name));
		c->kind = strstr(type, "INT") ? 'i' : strstr(type, "TEXT") ?
		    't' : '?';
		c->pk = sqlite3_column_int(st, 3);
		/* A primary key is never NULL, whatever its declaration. */
		c->nullable = !sqlite3_column_int(st, 2) && c->pk == 0;
		if (c->pk == 1)
			t->order = c->name;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return lin_db_err(r, e);
	if (t->ncol == 0 || t->ncol == EX_MAX_COLS || t->order == NULL)
		return lin_errf(e, EIO, "table %s has an unexpected shape",
		    table);
	return 0;
}

/* ---- export ---- */

/* The version of the tables' shape (the registry, open, is migrated to
 * this program's schema). */
static int
ex_schema_version(struct lin_reg *r, int64_t *v, struct lin_err *e)
{
	*v = LIN_EXPORT_SCHEMA;
	return 0;
}

/* The AUTOINCREMENT counter of a table (0 before its first row). */
static int
ex_sequence(struct lin_reg *r, const char *table, int64_t *seq,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT seq FROM sqlite_sequence "
	    "WHERE name = ?");
	int rc;

	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = lin_query_int(r, st, seq, e);
	if (rc == -ENOENT) {
		*seq = 0;
		rc = 0;
	}
	return rc;
}

static int
ex_sequences(struct lin_reg *r, struct lin_buf *out, struct lin_err *e)
{
	const char *sep = "";
	int64_t seq;
	int rc;

	lin_buf_puts(out, "\"sequences\":{");
	for (int i = 1; ex_tables[i]; i++) {
		if ((rc = ex_sequence(r, ex_tables[i], &seq, e)))
			return rc;
		lin_buf_printf(out, "%s\"%s\":%lld", sep, ex_tables[i],
		    (long long)seq);
		sep = ",";
	}
	lin_buf_puts(out, "}");
	return 0;
}

/* SELECT json_object('c1', "c1", ...) FROM "t" ORDER BY "pk" */
static char *
ex_select_sql(const struct ex_table *t)
{
	struct lin_buf b;

	lin_buf_init(&b);
	lin_buf_puts(&b, "SELECT json_object(");
	for (int i = 0; i < t->ncol; i++) {
		char *q = sqlite3_mprintf("%s%Q, \"%w\"", i ? ", " : "",
		    t->col[i].name, t->col[i].name);

		lin_buf_puts(&b, q);
		sqlite3_free(q);
	}
	{
		char *q = sqlite3_mprintf(") FROM \"%w\" ORDER BY \"%w\"",
		    t->name, t->order);

		lin_buf_puts(&b, q);
		sqlite3_free(q);
	}
	return lin_buf_steal(&b);
}

static int
ex_rows(struct lin_reg *r, const struct ex_table *t, struct lin_buf *out,
    struct lin_err *e)
{
	char *sql = ex_select_sql(t);
	sqlite3_stmt *st = ex_prepare(r, sql, e);
	const char *sep = "\n";
	int rc;

	free(sql);
	if (st == NULL)
		return -(e ? e->code : EIO);
	lin_buf_printf(out, ",\n\"%s\":[", t->name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		lin_buf_puts(out, sep);
		lin_buf_add(out, sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		sep = ",\n";
	}
	if (*sep == ',')
		lin_buf_puts(out, "\n");
	lin_buf_puts(out, "]");
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_finalize(st);
	return rc;
}

static int
ex_document(struct lin_reg *r, struct lin_buf *out, struct lin_err *e)
{
	struct ex_table t;
	int64_t v;
	int rc;

	if ((rc = ex_schema_version(r, &v, e)))
		return rc;
	lin_buf_printf(out, "{\"format\":\"%s\",\"schema\":%lld,\n",
	    EX_FORMAT, (long long)v);
	if ((rc = ex_sequences(r, out, e)))
		return rc;
	for (int i = 0; ex_tables[i]; i++)
		if ((rc = ex_columns(r, ex_tables[i], &t, e)) ||
		    (rc = ex_rows(r, &t, out, e)))
			return rc;
	lin_buf_puts(out, "\n}\n");
	return 0;
}

int
lin_export(struct lin_reg *r, struct lin_buf *out, struct lin_err *e)
{
	size_t mark = out->len;
	int rc;

	/* One read transaction: a mount writing meanwhile cannot tear the
	 * document.  A savepoint nests inside a caller's transaction. */
	if ((rc = lin_exec(r, "SAVEPOINT lin_export", e)))
		return rc;
	rc = ex_document(r, out, e);
	{
		int end = lin_exec(r, "RELEASE lin_export", rc ? NULL : e);

		if (rc == 0)
			rc = end;
	}
	if (rc) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	return rc;
}

/* ---- load ---- */

/*
 * The document split into its members once: SQLite's JSON functions parse
 * their argument on every call, so each table's statements get only that
 * table's array, not the whole document again.
 */
enum { LD_FORMAT, LD_SCHEMA, LD_SEQUENCES, LD_TABLES };
#define LD_NTABLES (sizeof(ex_tables) / sizeof(ex_tables[0]) - 1)

struct ld_doc {
	char  *text[LD_TABLES + LD_NTABLES];   /* JSON text of each member */
	char   type[LD_TABLES + LD_NTABLES][8];
	size_t len[LD_TABLES + LD_NTABLES];
	int    extra;                          /* members we do not know */
};

static void
ld_doc_free(struct ld_doc *d)
{
	for (size_t i = 0; i < LD_TABLES + LD_NTABLES; i++)
		free(d->text[i]);
}

static int
ld_slot(const char *key)
{
	static const char *const head[] = { "format", "schema", "sequences" };

	for (int i = 0; i < LD_TABLES; i++)
		if (strcmp(key, head[i]) == 0)
			return i;
	for (int i = 0; ex_tables[i]; i++)
		if (strcmp(key, ex_tables[i]) == 0)
			return LD_TABLES + i;
	return -1;
}

static int
ld_split(struct lin_reg *r, const char *json, size_t len, struct ld_doc *d,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t v;
	int rc;

	st = lin_sql(r, "SELECT CASE WHEN json_valid(?1) "
	    "THEN json_type(?1) = 'object' ELSE 0 END");
	sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
	if ((rc = lin_query_int(r, st, &v, e)))
		return rc;
	if (!v)
		return lin_errf(e, EINVAL, "the document is not a JSON object");
	st = lin_sql(r, "SELECT key, type, CASE type WHEN 'text' "
	    "THEN json_quote(value) ELSE value END FROM json_each(?1)");
	sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = ld_slot(lin_col_text(st, 0));

		if (k < 0 || d->text[k] != NULL) {
			d->extra++;
			continue;
		}
		strlcpy(d->type[k], lin_col_text(st, 1), sizeof(d->type[k]));
		d->len[k] = (size_t)sqlite3_column_bytes(st, 2);
		if ((d->text[k] = strndup(lin_col_text(st, 2), d->len[k])) ==
		    NULL)
			abort();	/* as lin_buf does */
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

/* The envelope: the format, the schema version of this program, the
 * sequences, and each table as an array, nothing else. */
static int
ld_envelope(struct lin_reg *r, const struct ld_doc *d, struct lin_err *e)
{
	int64_t v;
	int rc;

	if (d->text[LD_FORMAT] == NULL ||
	    strcmp(d->text[LD_FORMAT], "\"" EX_FORMAT "\"") != 0)
		return lin_errf(e, EINVAL, "the document is not a lineagefs "
		    "export");
	if ((rc = ex_schema_version(r, &v, e)))
		return rc;
	if (strcmp(d->type[LD_SCHEMA], "integer") != 0 ||
	    strtoll(d->text[LD_SCHEMA], NULL, 10) > v ||
	    strtoll(d->text[LD_SCHEMA], NULL, 10) < LIN_EXPORT_SCHEMA_OLDEST)
		return lin_errf(e, EINVAL, "the export is of another schema "
		    "version than this program's (%d to %lld)",
		    LIN_EXPORT_SCHEMA_OLDEST, (long long)v);
	if (strcmp(d->type[LD_SEQUENCES], "object") != 0)
		return lin_errf(e, EINVAL, "the export has no sequences");
	for (size_t i = 0; i < LD_NTABLES; i++)
		if (strcmp(d->type[LD_TABLES + i], "array") != 0)
			return lin_errf(e, EINVAL, "the export has no array of "
			    "%s", ex_tables[i]);
	if (d->extra)
		return lin_errf(e, EINVAL, "the export has members this "
		    "program does not know");
	return 0;
}

static int
ld_empty(struct lin_reg *r, struct lin_err *e)
{
	for (int i = 1; ex_tables[i]; i++) {
		char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"",
		    ex_tables[i]);
		sqlite3_stmt *st = ex_prepare(r, sql, e);
		int64_t n = 0;
		int rc;

		sqlite3_free(sql);
		if (st == NULL)
			return -(e ? e->code : EIO);
		rc = lin_query_int(r, st, &n, e);
		sqlite3_finalize(st);
		if (rc)
			return rc;
		if (n)
			return lin_errf(e, ENOTEMPTY, "the registry is not "
			    "empty (table %s has rows): load into a new one",
			    ex_tables[i]);
	}
	return 0;
}

/* The JSON type names a column accepts. */
static const char *
ld_types(const struct ex_col *c)
{
	switch (c->kind) {
	case 'i':
		return c->nullable ? "'integer','null'" : "'integer'";
	case 't':
		return c->nullable ? "'text','null'" : "'text'";
	default:
		return "'integer','real','text','null'";
	}
}

/* SELECT r.key FROM json_each(?1) r WHERE <row is not exactly the table's
 * columns with their types> ORDER BY r.key LIMIT 1 */
static char *
ld_check_sql(const struct ex_table *t)
{
	struct lin_buf b;
	char *q;

	lin_buf_init(&b);
	/* The alias keeps the inner json_each's own value column from
	 * shadowing the row's. */
	lin_buf_printf(&b, "SELECT r.key FROM json_each(?1) r WHERE "
	    "json_type(r.value) IS NOT 'object' OR "
	    "(SELECT count(*) FROM json_each(r.value)) <> %d", t->ncol);
	for (int i = 0; i < t->ncol; i++) {
		q = sqlite3_mprintf(" OR coalesce(json_type(r.value, '$.%q'), "
		    "'missing') NOT IN (%s)", t->col[i].name,
		    ld_types(&t->col[i]));
		lin_buf_puts(&b, q);
		sqlite3_free(q);
	}
	lin_buf_puts(&b, " ORDER BY r.key LIMIT 1");
	return lin_buf_steal(&b);
}

/* INSERT INTO "t" ("c1", ...) SELECT json_extract(value, '$.c1'), ...
 * FROM json_each(?1) ORDER BY key */
static char *
ld_insert_sql(const struct ex_table *t)
{
	struct lin_buf b;
	char *q;

	lin_buf_init(&b);
	q = sqlite3_mprintf("INSERT INTO \"%w\" (", t->name);
	lin_buf_puts(&b, q);
	sqlite3_free(q);
	for (int i = 0; i < t->ncol; i++) {
		q = sqlite3_mprintf("%s\"%w\"", i ? ", " : "", t->col[i].name);
		lin_buf_puts(&b, q);
		sqlite3_free(q);
	}
	lin_buf_puts(&b, ") SELECT ");
	for (int i = 0; i < t->ncol; i++) {
		q = sqlite3_mprintf("%sjson_extract(value, '$.%q')",
		    i ? ", " : "", t->col[i].name);
		lin_buf_puts(&b, q);
		sqlite3_free(q);
	}
	lin_buf_puts(&b, " FROM json_each(?1) ORDER BY key");
	return lin_buf_steal(&b);
}

/* Run sql (freed here) with ?1 bound to json; *found tells whether it
 * gave a row, whose first column goes to row. */
static int
ld_run(struct lin_reg *r, char *sql, const char *json, size_t len,
    char *row, size_t rowsz, bool *found, struct lin_err *e)
{
	sqlite3_stmt *st = ex_prepare(r, sql, e);
	int rc;

	free(sql);
	if (st == NULL)
		return -(e ? e->code : EIO);
	sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		strlcpy(row, lin_col_text(st, 0), rowsz);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_finalize(st);
	return rc;
}

static int
ld_table(struct lin_reg *r, const char *table, const char *json, size_t len,
    struct lin_err *e)
{
	struct ex_table t;
	char row[32];
	bool bad;
	int rc;

	if ((rc = ex_columns(r, table, &t, e)))
		return rc;
	if ((rc = ld_run(r, ld_check_sql(&t), json, len, row, sizeof(row),
	    &bad, e)))
		return rc;
	if (bad)
		return lin_errf(e, EINVAL, "row %s of %s does not have the "
		    "columns of the table, with their types", row, table);
	if (strcmp(table, "meta") == 0 &&
	    (rc = lin_exec(r, "DELETE FROM meta", e)))
		return rc;
	rc = ld_run(r, ld_insert_sql(&t), json, len, row, sizeof(row), &bad,
	    e);
	if (rc && e) {
		char why[LIN_ERR_MAX];

		strlcpy(why, e->msg, sizeof(why));
		lin_errf(e, -rc, "loading %s: %s", table, why);
	}
	return rc;
}

/* Set the AUTOINCREMENT counters to the exported ones (never below the
 * highest id loaded, or a new row would take an id already used). */
static int
ld_sequence(struct lin_reg *r, const char *table, const struct ld_doc *d,
    struct lin_err *e)
{
	char path[64], *sql;
	sqlite3_stmt *st;
	int64_t seq, max = 0;
	int rc;

	snprintf(path, sizeof(path), "$.%s", table);
	st = lin_sql(r, "SELECT CASE json_type(?1, ?2) WHEN 'integer' "
	    "THEN json_extract(?1, ?2) ELSE -1 END");
	sqlite3_bind_text(st, 1, d->text[LD_SEQUENCES],
	    (int)d->len[LD_SEQUENCES], SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if ((rc = lin_query_int(r, st, &seq, e)))
		return rc;
	sql = sqlite3_mprintf("SELECT coalesce(max(rowid), 0) FROM \"%w\"",
	    table);
	st = ex_prepare(r, sql, e);
	sqlite3_free(sql);
	if (st == NULL)
		return -(e ? e->code : EIO);
	rc = lin_query_int(r, st, &max, e);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (seq < max)
		return lin_errf(e, EINVAL, "the export's sequence of %s is "
		    "missing or below its highest id", table);
	if (seq == 0)
		return 0;
	st = lin_sql(r, "DELETE FROM sqlite_sequence WHERE name = ?");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	st = lin_sql(r, "INSERT INTO sqlite_sequence (name, seq) "
	    "VALUES (?, ?)");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	return lin_exec_stmt(r, st, e);
}

static int
ld_sequences_known(struct lin_reg *r, const struct ld_doc *d,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	st = lin_sql(r, "SELECT count(*) FROM json_each(?1)");
	sqlite3_bind_text(st, 1, d->text[LD_SEQUENCES],
	    (int)d->len[LD_SEQUENCES], SQLITE_STATIC);
	if ((rc = lin_query_int(r, st, &n, e)))
		return rc;
	if (n != (int64_t)LD_NTABLES - 1)
		return lin_errf(e, EINVAL, "the export's sequences do not "
		    "match the tables");
	return 0;
}

static int
ld_document(struct lin_reg *r, const char *json, size_t len,
    struct lin_err *e)
{
	struct ld_doc d;
	int rc;

	memset(&d, 0, sizeof(d));
	if ((rc = ld_split(r, json, len, &d, e)) ||
	    (rc = ld_envelope(r, &d, e)) || (rc = ld_empty(r, e)) ||
	    (rc = ld_sequences_known(r, &d, e)))
		goto out;
	for (size_t i = 0; i < LD_NTABLES && rc == 0; i++)
		rc = ld_table(r, ex_tables[i], d.text[LD_TABLES + i],
		    d.len[LD_TABLES + i], e);
	for (size_t i = 1; i < LD_NTABLES && rc == 0; i++)
		rc = ld_sequence(r, ex_tables[i], &d, e);
out:
	ld_doc_free(&d);
	return rc;
}

int
lin_export_load(struct lin_reg *r, const char *json, size_t len,
    struct lin_err *e)
{
	int rc;

	if (json == NULL || len == 0)
		return lin_errf(e, EINVAL, "the document is empty");
	if (memchr(json, '\0', len) != NULL)
		return lin_errf(e, EINVAL, "the document contains a NUL byte");
	/* SQLite's JSON functions are not to be trusted with malformed
	 * documents (parse/json.c). */
	if (!lin_json_valid(json, len))
		return lin_errf(e, EINVAL, "the document is not valid JSON");
	if (len > INT32_MAX)
		return lin_errf(e, EFBIG, "the document is too large");
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	/* No event: the restored log must read exactly as the original. */
	rc = ld_document(r, json, len, e);
	if (rc == 0)
		rc = lin_change(r, LIN_CH_ALL, 0, e);
	return lin_tx_end(r, rc, e);
}
