/*
 * build.c — builds: one per platform/builder of an iteration, with its
 * platform, its source (the image it started from, which may link a
 * parent, SPEC §6) and its artifacts and labels.  Builds freeze when their
 * iteration completes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/revocation.h"

#define BUILD_COLS "id, iteration_id, name, created, mtime"

static int build_relink_sources(struct lin_reg *, const struct lin_actor *,
    int64_t, struct lin_err *);

static int
build_one(struct lin_reg *r, sqlite3_stmt *st, struct lin_build *out,
    const char *what, struct lin_err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		if (out) {
			memset(out, 0, sizeof(*out));
			out->id = sqlite3_column_int64(st, 0);
			out->iteration_id = sqlite3_column_int64(st, 1);
			strlcpy(out->name, lin_col_text(st, 2),
			    sizeof(out->name));
			out->created = sqlite3_column_int64(st, 3);
			out->mtime = sqlite3_column_int64(st, 4);
		}
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = lin_errf(e, ENOENT, "no build %s", what);
	} else {
		rc = lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

int
lin_build_get(struct lin_reg *r, int64_t id, struct lin_build *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " BUILD_COLS
	    " FROM builds WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	return build_one(r, st, out, "with that id", e);
}

int
lin_build_by_name(struct lin_reg *r, int64_t iteration_id, const char *name,
    struct lin_build *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " BUILD_COLS
	    " FROM builds WHERE iteration_id = ? AND name = ?");

	sqlite3_bind_int64(st, 1, iteration_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return build_one(r, st, out, name, e);
}

int
lin_build_list(struct lin_reg *r, int64_t iteration_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, name FROM builds "
	    "WHERE iteration_id = ? AND id > ? ORDER BY id");

	sqlite3_bind_int64(st, 1, iteration_id);
	sqlite3_bind_int64(st, 2, after);
	return lin_list_rows(r, st, fn, ctx, e);
}

static int
build_event(struct lin_reg *r, const struct lin_actor *a, const char *action,
    int64_t iteration_id, const char *build, const char *k, const char *v,
    struct lin_err *e)
{
	struct lin_buf b;
	char by[64];
	int rc;

	lin_actor_name(a->uid, by, sizeof(by));
	lin_buf_init(&b);
	lin_ev_start(&b, action);
	if ((rc = lin_ev_iteration(r, &b, iteration_id, e)) == 0) {
		lin_ev_kv(&b, "build", build);
		if (k)
			lin_ev_kv(&b, k, v);
		lin_ev_kv(&b, "by", by);
		rc = lin_ev_commit(r, &b, lin_now(), e);
	}
	lin_buf_free(&b);
	return rc;
}

int
lin_build_create(struct lin_reg *r, const struct lin_actor *a,
    int64_t iteration_id, const char *name, struct lin_build *out,
    struct lin_err *e)
{
	int64_t now = lin_now();
	sqlite3_stmt *st;
	int rc;

	if ((rc = lin_name_key(name, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_iteration_mutable(r, iteration_id, "builds", e)))
		goto out;
	if (lin_build_by_name(r, iteration_id, name, NULL, NULL) == 0) {
		rc = lin_errf(e, EEXIST, "build %s already exists", name);
		goto out;
	}
	st = lin_sql(r, "INSERT INTO builds (iteration_id, name, created, "
	    "mtime) VALUES (?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, iteration_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_touch_iteration(r, iteration_id, e)) ||
	    (rc = build_event(r, a, "build-create", iteration_id, name, NULL,
	    NULL, e)))
		goto out;
	{
		struct lin_build nb;

		if ((rc = lin_build_by_name(r, iteration_id, name, &nb, e)) ||
		    (rc = lin_change(r, LIN_CH_BUILD, nb.id, e)))
			goto out;
		if (out)
			*out = nb;
	}
out:
	return lin_tx_end(r, rc, e);
}

int
lin_build_delete(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    struct lin_err *e)
{
	struct lin_build b;
	sqlite3_stmt *st;
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_build_get(r, id, &b, e)) ||
	    (rc = lin_iteration_mutable(r, b.iteration_id, "builds", e)))
		goto out;
	st = lin_sql(r, "DELETE FROM labels WHERE owner_kind = 1 AND "
	    "owner_id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	/* Artifacts and the links its source made go with it (cascade). */
	if ((rc = lin_change_artifacts_of(r, 0, id, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM builds WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = build_relink_sources(r, a, b.iteration_id, e)) ||
	    (rc = lin_touch_iteration(r, b.iteration_id, e)) ||
	    (rc = lin_change(r, LIN_CH_BUILD, id, e)))
		goto out;
	rc = build_event(r, a, "build-delete", b.iteration_id, b.name, NULL,
	    NULL, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_build_value(struct lin_reg *r, int64_t id, enum lin_build_field f,
    char **out, struct lin_err *e)
{
	sqlite3_stmt *st = f == LIN_BUILD_PLATFORM ?
	    lin_sql(r, "SELECT platform FROM builds WHERE id = ?") :
	    lin_sql(r, "SELECT source FROM builds WHERE id = ?");
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = strdup(lin_col_text(st, 0));
		rc = *out ? 0 : lin_errf(e, ENOMEM, "out of memory");
	} else {
		rc = rc == SQLITE_DONE ? lin_errf(e, ENOENT, "no such build") :
		    lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

/*
 * Sources decide parent links: after any source change, the iteration's
 * source links are derived again from all its builds (two builds from one
 * base give one parent, which stays while either still names it), and
 * revocations that only a dropped link passed down are taken back.
 */
static int
build_relink_sources(struct lin_reg *r, const struct lin_actor *a,
    int64_t iteration_id, struct lin_err *e)
{
	struct lin_artifact art;
	struct lin_build pb;
	sqlite3_stmt *st;
	char by[64];
	int rc;

	lin_actor_name(a->uid, by, sizeof(by));
	if ((rc = lin_change_source_links(r, iteration_id, e)))
		return rc;
	st = lin_sql(r, "DELETE FROM links WHERE child_id = ? AND "
	    "build_id IS NOT NULL");
	sqlite3_bind_int64(st, 1, iteration_id);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	for (int64_t after = 0;;) {
		char src[LIN_VALUE_MAX + 1];
		int64_t bid;

		st = lin_sql(r, "SELECT id, source FROM builds WHERE "
		    "iteration_id = ? AND id > ? AND source <> '' ORDER BY id "
		    "LIMIT 1");
		sqlite3_bind_int64(st, 1, iteration_id);
		sqlite3_bind_int64(st, 2, after);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			/* none left, or an error: not a link less */
			rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
			sqlite3_reset(st);
			break;
		}
		bid = after = sqlite3_column_int64(st, 0);
		strlcpy(src, lin_col_text(st, 1), sizeof(src));
		sqlite3_reset(st);
		if (lin_artifact_by_external_id(r, src, &art, NULL) == 0 &&
		    lin_build_get(r, art.build_id, &pb, NULL) == 0)
			rc = lin_link_add_tx(r, by, iteration_id,
			    pb.iteration_id, "", src, bid, e);
		else
			rc = lin_link_add_tx(r, by, iteration_id, 0, "", src,
			    bid, e);
		if (rc == -EEXIST)
			rc = 0;
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	return lin_rev_link_prune(r, by, iteration_id, lin_now(), e);
}

int
lin_build_set(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    enum lin_build_field f, const char *buf, size_t len, struct lin_err *e)
{
	const char *field = f == LIN_BUILD_PLATFORM ? "platform" : "source";
	struct lin_build b;
	sqlite3_stmt *st;
	char *v;
	int rc;

	if ((rc = lin_value_parse(buf, len, LIN_VALUE_LINE, &v, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		goto out;
	if ((rc = lin_build_get(r, id, &b, e)) ||
	    (rc = lin_iteration_mutable(r, b.iteration_id, "builds", e)))
		goto end;
	st = f == LIN_BUILD_PLATFORM ?
	    lin_sql(r, "UPDATE builds SET platform = ?, mtime = ? WHERE id = ?") :
	    lin_sql(r, "UPDATE builds SET source = ?, mtime = ? WHERE id = ?");
	sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lin_now());
	sqlite3_bind_int64(st, 3, id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_touch_iteration(r, b.iteration_id, e)) ||
	    (rc = lin_change(r, LIN_CH_BUILD, id, e)))
		goto end;
	if (f == LIN_BUILD_SOURCE &&
	    (rc = build_relink_sources(r, a, b.iteration_id, e)))
		goto end;
	rc = build_event(r, a, "set", b.iteration_id, b.name, field, v, e);
end:
	rc = lin_tx_end(r, rc, e);
out:
	free(v);
	return rc;
}
