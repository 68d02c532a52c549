/*
 * bucket.c — buckets: the top-level catalogue entries (one per image
 * family), with their description, owner, group and mode (SPEC §2, §10).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define BUCKET_COLS "id, name, created, mtime, uid, gid, mode"

static void
bucket_row(sqlite3_stmt *st, struct lin_bucket *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	strlcpy(out->name, lin_col_text(st, 1), sizeof(out->name));
	out->created = sqlite3_column_int64(st, 2);
	out->mtime = sqlite3_column_int64(st, 3);
	out->uid = (uid_t)sqlite3_column_int64(st, 4);
	out->gid = (gid_t)sqlite3_column_int64(st, 5);
	out->mode = (mode_t)sqlite3_column_int64(st, 6) & 07777;
}

static int
bucket_one(struct lin_reg *r, sqlite3_stmt *st, struct lin_bucket *out,
    const char *what, struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (out)
			bucket_row(st, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = lin_errf(e, ENOENT, "no bucket %s", what);
	} else {
		rc = lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

int
lin_bucket_get(struct lin_reg *r, int64_t id, struct lin_bucket *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " BUCKET_COLS
	    " FROM buckets WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	return bucket_one(r, st, out, "with that id", e);
}

int
lin_bucket_by_name(struct lin_reg *r, const char *name,
    struct lin_bucket *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " BUCKET_COLS
	    " FROM buckets WHERE name = ?");

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return bucket_one(r, st, out, name, e);
}

int
lin_bucket_list(struct lin_reg *r, int64_t after, lin_each_fn fn,
    void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, name FROM buckets "
	    "WHERE id > ? ORDER BY id");

	sqlite3_bind_int64(st, 1, after);
	return lin_list_rows(r, st, fn, ctx, e);
}

int
lin_touch_bucket(struct lin_reg *r, int64_t id, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "UPDATE buckets SET mtime = ? "
	    "WHERE id = ?");
	int rc;

	sqlite3_bind_int64(st, 1, lin_now());
	sqlite3_bind_int64(st, 2, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	return lin_change(r, LIN_CH_BUCKET, id, e);
}

static int
bucket_event(struct lin_reg *r, const struct lin_actor *a,
    const char *action, const char *name, const char *k, const char *v,
    struct lin_err *e)
{
	struct lin_buf b;
	char by[64];
	int rc;

	lin_actor_name(a->uid, by, sizeof(by));
	lin_buf_init(&b);
	lin_ev_start(&b, action);
	lin_ev_kv(&b, "bucket", name);
	if (k)
		lin_ev_kv(&b, k, v);
	lin_ev_kv(&b, "by", by);
	rc = lin_ev_commit(r, &b, lin_now(), e);
	lin_buf_free(&b);
	return rc;
}

int
lin_bucket_create(struct lin_reg *r, const struct lin_actor *a,
    const char *name, mode_t mode, struct lin_bucket *out, struct lin_err *e)
{
	int64_t now = lin_now();
	sqlite3_stmt *st;
	int rc;

	if ((rc = lin_name_bucket(name, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if (lin_bucket_by_name(r, name, NULL, NULL) == 0) {
		rc = lin_errf(e, EEXIST, "bucket %s already exists", name);
		goto out;
	}
	st = lin_sql(r, "INSERT INTO buckets (name, created, mtime, uid, gid, "
	    "mode) VALUES (?, ?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, a->uid);
	sqlite3_bind_int64(st, 5, a->gid);
	sqlite3_bind_int64(st, 6, mode & 07777);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	if ((rc = bucket_event(r, a, "bucket-create", name, NULL, NULL, e)))
		goto out;
	{
		struct lin_bucket nb;

		if ((rc = lin_bucket_by_name(r, name, &nb, e)) ||
		    (rc = lin_change(r, LIN_CH_BUCKET, nb.id, e)) ||
		    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)))
			goto out;
		if (out)
			*out = nb;
	}
out:
	return lin_tx_end(r, rc, e);
}

int
lin_bucket_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, struct lin_err *e)
{
	struct lin_bucket b;
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_bucket_get(r, id, &b, e)))
		goto out;
	st = lin_sql(r, "SELECT count(*) FROM iterations WHERE bucket_id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_query_int(r, st, &n, e)))
		goto out;
	if (n > 0) {
		rc = lin_errf(e, ENOTEMPTY, "bucket %s still holds %lld "
		    "iteration(s)", b.name, (long long)n);
		goto out;
	}
	/* Channels cannot exist without iterations; labels and the
	 * assignment history go with the bucket. */
	st = lin_sql(r, "DELETE FROM labels WHERE owner_kind = 0 AND "
	    "owner_id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM assignments WHERE bucket_id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM buckets WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_change(r, LIN_CH_BUCKET, id, e)) ||
	    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)))
		goto out;
	rc = bucket_event(r, a, "bucket-delete", b.name, NULL, NULL, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_bucket_description(struct lin_reg *r, int64_t id, char **out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT description FROM buckets "
	    "WHERE id = ?");
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = strdup(lin_col_text(st, 0));
		rc = *out ? 0 : lin_errf(e, ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = lin_errf(e, ENOENT, "no such bucket");
	} else {
		rc = lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

int
lin_bucket_set_description(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, const char *buf, size_t len, struct lin_err *e)
{
	struct lin_bucket b;
	sqlite3_stmt *st;
	char *v;
	int rc;

	if ((rc = lin_value_parse(buf, len, LIN_VALUE_TEXT, &v, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		goto out;
	if ((rc = lin_bucket_get(r, id, &b, e)) == 0) {
		st = lin_sql(r, "UPDATE buckets SET description = ?, "
		    "mtime = ? WHERE id = ?");
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, lin_now());
		sqlite3_bind_int64(st, 3, id);
		if ((rc = lin_exec_stmt(r, st, e)) == 0)
			rc = lin_change(r, LIN_CH_BUCKET, id, e);
	}
	if (rc == 0)
		rc = bucket_event(r, a, "set", b.name, "field", "description",
		    e);
	rc = lin_tx_end(r, rc, e);
out:
	free(v);
	return rc;
}

static int
bucket_set_owner(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    int64_t uid, int64_t gid, int64_t mode, struct lin_err *e)
{
	struct lin_bucket b;
	sqlite3_stmt *st;
	char v[64];
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_bucket_get(r, id, &b, e)))
		goto out;
	st = lin_sql(r, "UPDATE buckets SET uid = ?, gid = ?, mode = ?, "
	    "mtime = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, uid >= 0 ? uid : (int64_t)b.uid);
	sqlite3_bind_int64(st, 2, gid >= 0 ? gid : (int64_t)b.gid);
	sqlite3_bind_int64(st, 3, mode >= 0 ? mode : (int64_t)b.mode);
	sqlite3_bind_int64(st, 4, lin_now());
	sqlite3_bind_int64(st, 5, id);
	/* Every node inside the bucket shows its owner and mode. */
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_change(r, LIN_CH_ALL, 0, e)))
		goto out;
	if (mode >= 0)
		snprintf(v, sizeof(v), "%04o", (unsigned)mode);
	else
		snprintf(v, sizeof(v), "%lld:%lld",
		    (long long)(uid >= 0 ? uid : (int64_t)b.uid),
		    (long long)(gid >= 0 ? gid : (int64_t)b.gid));
	rc = bucket_event(r, a, mode >= 0 ? "chmod" : "chown", b.name,
	    mode >= 0 ? "mode" : "owner", v, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_bucket_chown(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    uid_t uid, gid_t gid, struct lin_err *e)
{
	return bucket_set_owner(r, a, id,
	    uid == (uid_t)-1 ? -1 : (int64_t)uid,
	    gid == (gid_t)-1 ? -1 : (int64_t)gid, -1, e);
}

int
lin_bucket_chmod(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    mode_t mode, struct lin_err *e)
{
	return bucket_set_owner(r, a, id, -1, -1, mode & 07777, e);
}
