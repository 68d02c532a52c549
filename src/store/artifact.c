/*
 * artifact.c — artifacts: the external id (an AMI, an image digest...) a
 * build produced in one region, and the registry-wide index of them that
 * artifacts/ shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define ARTIFACT_COLS "id, build_id, region, external_id, mtime"

static int
artifact_one(struct lin_reg *r, sqlite3_stmt *st, struct lin_artifact *out,
    const char *what, struct lin_err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		if (out) {
			memset(out, 0, sizeof(*out));
			out->id = sqlite3_column_int64(st, 0);
			out->build_id = sqlite3_column_int64(st, 1);
			strlcpy(out->region, lin_col_text(st, 2),
			    sizeof(out->region));
			strlcpy(out->external_id, lin_col_text(st, 3),
			    sizeof(out->external_id));
			out->mtime = sqlite3_column_int64(st, 4);
		}
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = lin_errf(e, ENOENT, "no artifact %s", what);
	} else {
		rc = lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

int
lin_artifact_get(struct lin_reg *r, int64_t id, struct lin_artifact *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " ARTIFACT_COLS
	    " FROM artifacts WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	return artifact_one(r, st, out, "with that id", e);
}

int
lin_artifact_by_region(struct lin_reg *r, int64_t build_id,
    const char *region, struct lin_artifact *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " ARTIFACT_COLS
	    " FROM artifacts WHERE build_id = ? AND region = ?");

	sqlite3_bind_int64(st, 1, build_id);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	return artifact_one(r, st, out, region, e);
}

int
lin_artifact_by_external_id(struct lin_reg *r, const char *extid,
    struct lin_artifact *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " ARTIFACT_COLS
	    " FROM artifacts WHERE external_id = ? ORDER BY id LIMIT 1");

	if (extid[0] == '\0')
		return lin_errf(e, ENOENT, "no artifact with an empty id");
	sqlite3_bind_text(st, 1, extid, -1, SQLITE_STATIC);
	return artifact_one(r, st, out, extid, e);
}

static int
artifact_each(struct lin_reg *r, sqlite3_stmt *st, bool escape,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	struct lin_entry ent;
	struct lin_buf name;
	int rc;

	lin_buf_init(&name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ent.id = ent.cursor = sqlite3_column_int64(st, 0);
		if (escape) {
			lin_buf_reset(&name);
			lin_extid_escape(lin_col_text(st, 1), &name);
			ent.name = name.data;
		} else {
			ent.name = lin_col_text(st, 1);
		}
		if ((rc = fn(ctx, &ent)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
out:
	sqlite3_reset(st);
	lin_buf_free(&name);
	return rc;
}

int
lin_artifact_list(struct lin_reg *r, int64_t build_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, region FROM artifacts "
	    "WHERE build_id = ? AND id > ? ORDER BY id");

	sqlite3_bind_int64(st, 1, build_id);
	sqlite3_bind_int64(st, 2, after);
	return artifact_each(r, st, false, fn, ctx, e);
}

int
lin_artifact_list_all(struct lin_reg *r, int64_t after, lin_each_fn fn,
    void *ctx, struct lin_err *e)
{
	/* The first artifact of each external id stands for it. */
	sqlite3_stmt *st = lin_sql(r, "SELECT a.id, a.external_id "
	    "FROM artifacts a WHERE a.id > ? AND a.external_id <> '' AND "
	    "NOT EXISTS (SELECT 1 FROM artifacts p WHERE "
	    "p.external_id = a.external_id AND p.id < a.id) ORDER BY a.id");

	sqlite3_bind_int64(st, 1, after);
	return artifact_each(r, st, true, fn, ctx, e);
}

static int
artifact_event(struct lin_reg *r, const struct lin_actor *a,
    const char *action, const struct lin_build *b, const char *region,
    const char *v, struct lin_err *e)
{
	struct lin_buf ev;
	char by[64];
	int rc;

	lin_actor_name(a->uid, by, sizeof(by));
	lin_buf_init(&ev);
	lin_ev_start(&ev, action);
	if ((rc = lin_ev_iteration(r, &ev, b->iteration_id, e)) == 0) {
		lin_ev_kv(&ev, "build", b->name);
		lin_ev_kv(&ev, "region", region);
		if (v)
			lin_ev_kv(&ev, "artifact", v);
		lin_ev_kv(&ev, "by", by);
		rc = lin_ev_commit(r, &ev, lin_now(), e);
	}
	lin_buf_free(&ev);
	return rc;
}

int
lin_artifact_set(struct lin_reg *r, const struct lin_actor *a,
    int64_t build_id, const char *region, const char *buf, size_t len,
    struct lin_artifact *out, struct lin_err *e)
{
	struct lin_artifact old;
	struct lin_build b;
	sqlite3_stmt *st;
	char *v = NULL;
	int rc, exists;

	if ((rc = lin_name_key(region, e)))
		return rc;
	if (buf && (rc = lin_value_parse(buf, len, LIN_VALUE_LINE, &v, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		goto out;
	if ((rc = lin_build_get(r, build_id, &b, e)) ||
	    (rc = lin_iteration_mutable(r, b.iteration_id, "artifacts", e)))
		goto end;
	exists = lin_artifact_by_region(r, build_id, region, &old, NULL) == 0;
	if (exists && v == NULL)
		goto found;	/* O_CREAT of an existing artifact */
	/* Its old id leaves artifacts/ (unless unchanged). */
	if (exists && strcmp(old.external_id, v) != 0 &&
	    (rc = lin_change_extid(r, old.external_id, e)))
		goto end;
	if (exists)
		st = lin_sql(r, "UPDATE artifacts SET external_id = ?, "
		    "mtime = ? WHERE build_id = ? AND region = ?");
	else
		st = lin_sql(r, "INSERT INTO artifacts (external_id, mtime, "
		    "build_id, region) VALUES (?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, v ? v : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lin_now());
	sqlite3_bind_int64(st, 3, build_id);
	sqlite3_bind_text(st, 4, region, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_touch_iteration(r, b.iteration_id, e)))
		goto end;
	st = lin_sql(r, "UPDATE builds SET mtime = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, lin_now());
	sqlite3_bind_int64(st, 2, build_id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_change(r, LIN_CH_BUILD, build_id, e)) ||
	    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)) ||
	    (rc = artifact_event(r, a, "artifact-set", &b, region, v ? v : "",
	    e)))
		goto end;
found:
	{
		struct lin_artifact na;

		if ((rc = lin_artifact_by_region(r, build_id, region, &na, e)) ||
		    (rc = lin_change(r, LIN_CH_ARTIFACT, na.id, e)))
			goto end;
		if (out)
			*out = na;
	}
end:
	rc = lin_tx_end(r, rc, e);
out:
	free(v);
	return rc;
}

int
lin_artifact_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t build_id, const char *region, struct lin_err *e)
{
	struct lin_artifact old;
	struct lin_build b;
	sqlite3_stmt *st;
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_build_get(r, build_id, &b, e)) ||
	    (rc = lin_iteration_mutable(r, b.iteration_id, "artifacts", e)) ||
	    (rc = lin_artifact_by_region(r, build_id, region, &old, e)) ||
	    (rc = lin_change(r, LIN_CH_ARTIFACT, old.id, e)) ||
	    (rc = lin_change_extid(r, old.external_id, e)) ||
	    (rc = lin_change(r, LIN_CH_BUILD, build_id, e)) ||
	    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM artifacts WHERE build_id = ? AND "
	    "region = ?");
	sqlite3_bind_int64(st, 1, build_id);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_touch_iteration(r, b.iteration_id, e)))
		goto out;
	rc = artifact_event(r, a, "artifact-delete", &b, region, NULL, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_artifact_check_new(struct lin_reg *r, int64_t build_id,
    const char *region, struct lin_err *e)
{
	struct lin_build b;
	int rc;

	if ((rc = lin_name_key(region, e)) ||
	    (rc = lin_build_get(r, build_id, &b, e)) ||
	    (rc = lin_iteration_mutable(r, b.iteration_id, "artifacts", e)))
		return rc;
	if (lin_artifact_by_region(r, build_id, region, NULL, NULL) == 0)
		return lin_errf(e, EEXIST, "artifact %s exists", region);
	return 0;
}
