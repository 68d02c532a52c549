/*
 * label.c — labels: free key/value pairs on buckets and on builds, one file
 * each under labels/.  Build labels belong to the build's iteration and
 * freeze with it once it is complete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* For a build label: the build's iteration must still be mutable. */
static int
label_guard(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    struct lin_err *e)
{
	struct lin_build b;
	int rc;

	if (o == LIN_OWNER_BUCKET)
		return lin_bucket_get(r, owner_id, NULL, e);
	if ((rc = lin_build_get(r, owner_id, &b, e)))
		return rc;
	return lin_iteration_mutable(r, b.iteration_id, "build labels", e);
}

static int
label_fetch(struct lin_reg *r, sqlite3_stmt *st, struct lin_label *out,
    char **value, struct lin_err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		if (out) {
			memset(out, 0, sizeof(*out));
			out->id = sqlite3_column_int64(st, 0);
			strlcpy(out->key, lin_col_text(st, 1),
			    sizeof(out->key));
			out->mtime = sqlite3_column_int64(st, 3);
			out->owner_id = sqlite3_column_int64(st, 4);
		}
		rc = 0;
		if (value && (*value = strdup(lin_col_text(st, 2))) == NULL)
			rc = lin_errf(e, ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = lin_errf(e, ENOENT, "no such label");
	} else {
		rc = lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

int
lin_label_get(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    const char *key, struct lin_label *out, char **value, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, key, value, mtime, owner_id "
	    "FROM labels WHERE owner_kind = ? AND owner_id = ? AND key = ?");

	sqlite3_bind_int(st, 1, (int)o);
	sqlite3_bind_int64(st, 2, owner_id);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	return label_fetch(r, st, out, value, e);
}

int
lin_label_by_id(struct lin_reg *r, enum lin_owner o, int64_t label_id,
    struct lin_label *out, char **value, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, key, value, mtime, owner_id "
	    "FROM labels WHERE id = ? AND owner_kind = ?");

	sqlite3_bind_int64(st, 1, label_id);
	sqlite3_bind_int(st, 2, (int)o);
	return label_fetch(r, st, out, value, e);
}

int
lin_label_list(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    int64_t after, lin_each_fn fn, void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, key FROM labels "
	    "WHERE owner_kind = ? AND owner_id = ? AND id > ? ORDER BY id");

	sqlite3_bind_int(st, 1, (int)o);
	sqlite3_bind_int64(st, 2, owner_id);
	sqlite3_bind_int64(st, 3, after);
	return lin_list_rows(r, st, fn, ctx, e);
}

/* label-set / label-delete events name the owner: bucket=B, or the
 * iteration and build=NAME for a build label. */
static int
label_event(struct lin_reg *r, const struct lin_actor *a, enum lin_owner o,
    int64_t owner_id, const char *action, const char *key, const char *val,
    struct lin_err *e)
{
	struct lin_buf b;
	char by[64];
	int rc = 0;

	lin_actor_name(a->uid, by, sizeof(by));
	lin_buf_init(&b);
	lin_ev_start(&b, action);
	if (o == LIN_OWNER_BUCKET) {
		struct lin_bucket bk;

		if ((rc = lin_bucket_get(r, owner_id, &bk, e)) == 0)
			lin_ev_kv(&b, "bucket", bk.name);
	} else {
		struct lin_build bd;

		if ((rc = lin_build_get(r, owner_id, &bd, e)) == 0 &&
		    (rc = lin_ev_iteration(r, &b, bd.iteration_id, e)) == 0)
			lin_ev_kv(&b, "build", bd.name);
	}
	if (rc == 0) {
		lin_ev_kv(&b, "key", key);
		if (val)
			lin_ev_kv(&b, "value", val);
		lin_ev_kv(&b, "by", by);
		rc = lin_ev_commit(r, &b, lin_now(), e);
	}
	lin_buf_free(&b);
	return rc;
}

static int
label_touch_owner(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    struct lin_err *e)
{
	sqlite3_stmt *st;

	int rc;

	if (o == LIN_OWNER_BUCKET)
		return lin_touch_bucket(r, owner_id, e);
	st = lin_sql(r, "UPDATE builds SET mtime = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, lin_now());
	sqlite3_bind_int64(st, 2, owner_id);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	return lin_change(r, LIN_CH_BUILD, owner_id, e);
}

int
lin_label_set(struct lin_reg *r, const struct lin_actor *a,
    enum lin_owner o, int64_t owner_id, const char *key, const char *buf,
    size_t len, int64_t *label_id, struct lin_err *e)
{
	struct lin_label l;
	sqlite3_stmt *st;
	char *v = NULL;
	int rc, exists;

	if ((rc = lin_name_key(key, e)))
		return rc;
	if ((rc = lin_value_parse(buf ? buf : "", buf ? len : 0,
	    LIN_VALUE_LINE, &v, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		goto out;
	if ((rc = label_guard(r, o, owner_id, e)))
		goto end;
	exists = lin_label_get(r, o, owner_id, key, &l, NULL, NULL) == 0;
	if (exists && buf == NULL)
		goto end;	/* O_CREAT of an existing label: nothing */
	if (exists)
		st = lin_sql(r, "UPDATE labels SET value = ?, mtime = ? "
		    "WHERE owner_kind = ? AND owner_id = ? AND key = ?");
	else
		st = lin_sql(r, "INSERT INTO labels (value, mtime, owner_kind, "
		    "owner_id, key) VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lin_now());
	sqlite3_bind_int(st, 3, (int)o);
	sqlite3_bind_int64(st, 4, owner_id);
	sqlite3_bind_text(st, 5, key, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto end;
	if ((rc = label_touch_owner(r, o, owner_id, e)))
		goto end;
	if ((rc = lin_label_get(r, o, owner_id, key, &l, NULL, e)) ||
	    (rc = lin_change(r, o == LIN_OWNER_BUCKET ? LIN_CH_BLABEL :
	    LIN_CH_BDLABEL, l.id, e)))
		goto end;
	rc = label_event(r, a, o, owner_id, "label-set", key, v, e);
end:
	rc = lin_tx_end(r, rc, e);
	if (rc == 0 && label_id)
		*label_id = l.id;
out:
	free(v);
	return rc;
}

int
lin_label_delete(struct lin_reg *r, const struct lin_actor *a,
    enum lin_owner o, int64_t owner_id, const char *key, struct lin_err *e)
{
	struct lin_label l;
	sqlite3_stmt *st;
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = label_guard(r, o, owner_id, e)))
		goto out;
	if ((rc = lin_label_get(r, o, owner_id, key, &l, NULL, e)) ||
	    (rc = lin_change(r, o == LIN_OWNER_BUCKET ? LIN_CH_BLABEL :
	    LIN_CH_BDLABEL, l.id, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM labels WHERE owner_kind = ? AND "
	    "owner_id = ? AND key = ?");
	sqlite3_bind_int(st, 1, (int)o);
	sqlite3_bind_int64(st, 2, owner_id);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	if ((rc = label_touch_owner(r, o, owner_id, e)))
		goto out;
	rc = label_event(r, a, o, owner_id, "label-delete", key, NULL, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_label_check_new(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    const char *key, struct lin_err *e)
{
	int rc;

	if ((rc = lin_name_key(key, e)) || (rc = label_guard(r, o, owner_id, e)))
		return rc;
	if (lin_label_get(r, o, owner_id, key, NULL, NULL, NULL) == 0)
		return lin_errf(e, EEXIST, "label %s exists", key);
	return 0;
}
