/*
 * iteration.c — iterations: one build run of a bucket's image, identified
 * by a fingerprint in its bucket and a ULID in the registry.  Creating,
 * completing (SPEC §5.2), deleting (§5.6), looking up by every alias, the
 * status word, and the guard every change inside an iteration passes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

const char *
lin_status_word(enum lin_status s)
{
	switch (s) {
	case LIN_STATUS_RUNNING:
		return "running";
	case LIN_STATUS_ACTIVE:
		return "active";
	case LIN_STATUS_SCHEDULED:
		return "scheduled";
	case LIN_STATUS_REVOKED:
		return "revoked";
	}
	return "?";
}

/* The time of the revocation in force (SPEC §5.4: explicit before
 * inherited, then the earliest), or -ENOENT. */
static int
iteration_revocation_at(struct lin_reg *r, int64_t id, int64_t *at)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT at FROM revocations "
	    "WHERE iteration_id = ? ORDER BY "
	    "CASE WHEN origin_id IS NULL THEN 0 ELSE 1 END, at, id LIMIT 1");

	sqlite3_bind_int64(st, 1, id);
	return lin_query_int(r, st, at, NULL);
}

enum lin_status
lin_iteration_status_now(struct lin_reg *r, int64_t id, bool complete)
{
	int64_t at;

	if (iteration_revocation_at(r, id, &at) == 0)
		return at <= lin_now() ? LIN_STATUS_REVOKED :
		    LIN_STATUS_SCHEDULED;
	return complete ? LIN_STATUS_ACTIVE : LIN_STATUS_RUNNING;
}

bool
lin_iteration_revoked_now(struct lin_reg *r, int64_t id)
{
	int64_t at;

	return iteration_revocation_at(r, id, &at) == 0 && at <= lin_now();
}

void
lin_iteration_row(struct lin_reg *r, sqlite3_stmt *st,
    struct lin_iteration *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->bucket_id = sqlite3_column_int64(st, 1);
	strlcpy(out->bucket, lin_col_text(st, 2), sizeof(out->bucket));
	strlcpy(out->fingerprint, lin_col_text(st, 3),
	    sizeof(out->fingerprint));
	strlcpy(out->ulid, lin_col_text(st, 4), sizeof(out->ulid));
	out->version = sqlite3_column_int64(st, 5);
	out->created = sqlite3_column_int64(st, 6);
	out->completed = sqlite3_column_int64(st, 7);
	out->mtime = sqlite3_column_int64(st, 8);
}

static int
iteration_one(struct lin_reg *r, sqlite3_stmt *st, struct lin_iteration *out,
    const char *what, struct lin_err *e)
{
	struct lin_iteration it;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		lin_iteration_row(r, st, &it);
		sqlite3_reset(st);
		it.status = lin_iteration_status_now(r, it.id,
		    it.completed != 0);
		if (out)
			*out = it;
		return 0;
	}
	rc = rc == SQLITE_DONE ? lin_errf(e, ENOENT, "no iteration %s", what) :
	    lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

int
lin_iteration_get(struct lin_reg *r, int64_t id, struct lin_iteration *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " LIN_ITERATION_COLS
	    LIN_ITERATION_FROM "WHERE i.id = ?");

	sqlite3_bind_int64(st, 1, id);
	return iteration_one(r, st, out, "with that id", e);
}

int
lin_iteration_by_fingerprint(struct lin_reg *r, int64_t bucket_id,
    const char *fp, struct lin_iteration *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " LIN_ITERATION_COLS
	    LIN_ITERATION_FROM "WHERE i.bucket_id = ? AND i.fingerprint = ?");

	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	return iteration_one(r, st, out, fp, e);
}

int
lin_iteration_by_version(struct lin_reg *r, int64_t bucket_id,
    int64_t version, struct lin_iteration *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " LIN_ITERATION_COLS
	    LIN_ITERATION_FROM "WHERE i.bucket_id = ? AND i.version = ?");
	char what[32];

	if (version <= 0)
		return lin_errf(e, ENOENT, "no version v%lld",
		    (long long)version);
	snprintf(what, sizeof(what), "v%lld", (long long)version);
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_int64(st, 2, version);
	return iteration_one(r, st, out, what, e);
}

int
lin_iteration_by_ulid(struct lin_reg *r, const char *ulid,
    struct lin_iteration *out, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT " LIN_ITERATION_COLS
	    LIN_ITERATION_FROM "WHERE i.ulid = ?");

	sqlite3_bind_text(st, 1, ulid, -1, SQLITE_STATIC);
	return iteration_one(r, st, out, ulid, e);
}

/* Run a listing statement whose rows are (id, cursor, name). */
static int
iteration_each(struct lin_reg *r, sqlite3_stmt *st, const char *prefix,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	struct lin_entry ent;
	char name[64];
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ent.id = sqlite3_column_int64(st, 0);
		ent.cursor = sqlite3_column_int64(st, 1);
		if (prefix) {
			snprintf(name, sizeof(name), "%s%lld", prefix,
			    (long long)ent.cursor);
			ent.name = name;
		} else {
			ent.name = lin_col_text(st, 2);
		}
		if ((rc = fn(ctx, &ent)) != 0) {
			sqlite3_reset(st);
			return rc;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

int
lin_iteration_list(struct lin_reg *r, int64_t bucket_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, id, fingerprint "
	    "FROM iterations WHERE bucket_id = ? AND id > ? ORDER BY id");

	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_int64(st, 2, after);
	return iteration_each(r, st, NULL, fn, ctx, e);
}

int
lin_version_list(struct lin_reg *r, int64_t bucket_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, version FROM iterations "
	    "WHERE bucket_id = ? AND version > ? ORDER BY version");

	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_int64(st, 2, after > 0 ? after : 0);
	return iteration_each(r, st, "v", fn, ctx, e);
}

int
lin_ulid_list(struct lin_reg *r, int64_t after, lin_each_fn fn, void *ctx,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, id, ulid FROM iterations "
	    "WHERE id > ? ORDER BY id");

	sqlite3_bind_int64(st, 1, after);
	return iteration_each(r, st, NULL, fn, ctx, e);
}

int
lin_iteration_path(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(r, id, &it, e)))
		return rc;
	lin_buf_printf(out, "buckets/%s/iterations/%s", it.bucket,
	    it.fingerprint);
	return 0;
}

int
lin_touch_iteration(struct lin_reg *r, int64_t id, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "UPDATE iterations SET mtime = ? "
	    "WHERE id = ?");
	int rc;

	sqlite3_bind_int64(st, 1, lin_now());
	sqlite3_bind_int64(st, 2, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	return lin_change(r, LIN_CH_ITERATION, id, e);
}

int
lin_iteration_mutable(struct lin_reg *r, int64_t id, const char *what,
    struct lin_err *e)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(r, id, &it, e)))
		return rc;
	if (it.status == LIN_STATUS_REVOKED)
		return lin_errf(e, EKEYREVOKED, "iteration %s of %s is "
		    "revoked: restore it before changing it", it.fingerprint,
		    it.bucket);
	if (it.completed)
		return lin_errf(e, EPERM, "iteration %s of %s is complete: "
		    "its %s cannot change", it.fingerprint, it.bucket, what);
	return 0;
}

/* An event about one iteration: action bucket iteration version by. */
static int
iteration_event(struct lin_reg *r, const struct lin_actor *a,
    const char *action, int64_t id, const char *k, const char *v,
    struct lin_err *e)
{
	struct lin_buf b;
	char by[64];
	int rc;

	lin_actor_name(a->uid, by, sizeof(by));
	lin_buf_init(&b);
	lin_ev_start(&b, action);
	if ((rc = lin_ev_iteration(r, &b, id, e)) == 0) {
		if (k)
			lin_ev_kv(&b, k, v);
		lin_ev_kv(&b, "by", by);
		rc = lin_ev_commit(r, &b, lin_now(), e);
	}
	lin_buf_free(&b);
	return rc;
}

static void
iteration_new_ulid(char out[LIN_ULID_LEN + 1])
{
	unsigned char rnd[10];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	arc4random_buf(rnd, sizeof(rnd));
	lin_ulid_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, rnd,
	    out);
}

int
lin_iteration_create(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *fp, struct lin_iteration *out,
    struct lin_err *e)
{
	char ulid[LIN_ULID_LEN + 1];
	struct lin_bucket b;
	int64_t now = lin_now();
	sqlite3_stmt *st;
	int rc;

	if ((rc = lin_name_fingerprint(fp, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_bucket_get(r, bucket_id, &b, e)))
		goto out;
	if (lin_iteration_by_fingerprint(r, bucket_id, fp, NULL, NULL) == 0) {
		rc = lin_errf(e, EEXIST, "iteration %s already exists in "
		    "bucket %s", fp, b.name);
		goto out;
	}
	iteration_new_ulid(ulid);
	st = lin_sql(r, "INSERT INTO iterations (bucket_id, fingerprint, ulid, "
	    "created, mtime) VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ulid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	if ((rc = lin_iteration_by_fingerprint(r, bucket_id, fp, out ? out :
	    &(struct lin_iteration){0}, e)))
		goto out;
	if ((rc = lin_touch_bucket(r, bucket_id, e)))
		goto out;
	st = lin_sql(r, "SELECT id FROM iterations WHERE ulid = ?");
	sqlite3_bind_text(st, 1, ulid, -1, SQLITE_STATIC);
	{
		int64_t id;

		if ((rc = lin_query_int(r, st, &id, e)) == 0 &&
		    (rc = lin_change(r, LIN_CH_ITERATION, id, e)) == 0 &&
		    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)) == 0)
			rc = iteration_event(r, a, "iteration-create", id,
			    "id", ulid, e);
	}
out:
	return lin_tx_end(r, rc, e);
}

static int
iteration_count(struct lin_reg *r, const char *sql, int64_t id, int64_t *n,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, sql);

	sqlite3_bind_int64(st, 1, id);
	return lin_query_int(r, st, n, e);
}

int
lin_iteration_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, struct lin_err *e)
{
	struct lin_iteration it;
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_iteration_get(r, id, &it, e)))
		goto out;
	if (it.status != LIN_STATUS_RUNNING &&
	    it.status != LIN_STATUS_REVOKED) {
		rc = lin_errf(e, EBUSY, "iteration %s is %s: only running or "
		    "revoked iterations can be deleted", it.fingerprint,
		    lin_status_word(it.status));
		goto out;
	}
	if ((rc = iteration_count(r, "SELECT count(*) FROM links "
	    "WHERE parent_id = ?", id, &n, e)))
		goto out;
	if (n > 0) {
		rc = lin_errf(e, EBUSY, "iteration %s has %lld child(ren): "
		    "delete them first", it.fingerprint, (long long)n);
		goto out;
	}
	/* The event names what is about to go. */
	if ((rc = iteration_event(r, a, "iteration-delete", id, "id", it.ulid,
	    e)))
		goto out;
	/* A revoked iteration may still carry a channel that a scheduled
	 * rollback=no revocation left on it: the channel goes too. */
	{
		char by[64];

		lin_actor_name(a->uid, by, sizeof(by));
		st = lin_sql(r, "SELECT name FROM channels "
		    "WHERE iteration_id = ?");
		for (;;) {
			char name[LIN_BUCKET_MAX];

			sqlite3_bind_int64(st, 1, id);
			if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
				/* none left, or an error the delete must
				 * not go on after */
				rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
				sqlite3_reset(st);
				if (rc)
					goto out;
				break;
			}
			strlcpy(name, lin_col_text(st, 0), sizeof(name));
			sqlite3_reset(st);
			if ((rc = lin_channel_move(r, by, it.bucket_id, name,
			    0, "iteration-delete", e)))
				goto out;
		}
	}
	if ((rc = lin_change_artifacts_of(r, id, 0, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM labels WHERE owner_kind = 1 AND "
	    "owner_id IN (SELECT id FROM builds WHERE iteration_id = ?)");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM iterations WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_change(r, LIN_CH_ITERATION, id, e)) ||
	    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)) ||
	    (rc = lin_change(r, LIN_CH_VIEWS, 0, e)))
		goto out;
	rc = lin_touch_bucket(r, it.bucket_id, e);
out:
	return lin_tx_end(r, rc, e);
}

/* Completion's precondition: at least one build, each with an artifact. */
static int
iteration_completable(struct lin_reg *r, const struct lin_iteration *it,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if ((rc = iteration_count(r, "SELECT count(*) FROM builds "
	    "WHERE iteration_id = ?", it->id, &n, e)))
		return rc;
	if (n == 0)
		return lin_errf(e, EINVAL, "iteration %s has no build: "
		    "completing needs at least one", it->fingerprint);
	st = lin_sql(r, "SELECT b.name FROM builds b WHERE b.iteration_id = ? "
	    "AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.build_id = b.id "
	    "AND a.external_id <> '') ORDER BY b.id LIMIT 1");
	sqlite3_bind_int64(st, 1, it->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = lin_errf(e, EINVAL, "build %s of iteration %s has no "
		    "artifact: completing needs one in every build",
		    lin_col_text(st, 0), it->fingerprint);
	else
		rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

int
lin_iteration_complete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, const char *buf, size_t len, struct lin_err *e)
{
	struct lin_iteration it;
	sqlite3_stmt *st;
	int64_t v, now = lin_now();
	char *val;
	int rc;

	if ((rc = lin_value_parse(buf, len, LIN_VALUE_LINE, &val, e)))
		return rc;
	if (strcmp(val, "0") == 0)
		rc = lin_errf(e, EPERM, "an iteration cannot be made "
		    "incomplete");
	else if (strcmp(val, "1") != 0)
		rc = lin_errf(e, EINVAL, "complete takes 1 (or 0, refused)");
	free(val);
	if (rc)
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_iteration_get(r, id, &it, e)))
		goto out;
	if (it.status == LIN_STATUS_REVOKED) {
		rc = lin_iteration_mutable(r, id, "state", e);
		goto out;
	}
	if (it.completed)
		goto out;	/* already complete: writing 1 again is a no-op */
	if ((rc = iteration_completable(r, &it, e)))
		goto out;
	/* Never a number given before, even to a deleted iteration. */
	st = lin_sql(r, "SELECT max(COALESCE((SELECT max(version) FROM "
	    "iterations WHERE bucket_id = ?1), 0), (SELECT last_version FROM "
	    "buckets WHERE id = ?1)) + 1");
	sqlite3_bind_int64(st, 1, it.bucket_id);
	if ((rc = lin_query_int(r, st, &v, e)))
		goto out;
	st = lin_sql(r, "UPDATE buckets SET last_version = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_int64(st, 2, it.bucket_id);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	st = lin_sql(r, "UPDATE iterations SET version = ?, completed = ?, "
	    "mtime = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, id);
	if ((rc = lin_exec_stmt(r, st, e)))
		goto out;
	if ((rc = lin_touch_bucket(r, it.bucket_id, e)) ||
	    (rc = lin_change(r, LIN_CH_ITERATION, id, e)) ||
	    (rc = lin_change(r, LIN_CH_GLOBAL, 0, e)) ||
	    (rc = lin_change(r, LIN_CH_VIEWS, 0, e)))
		goto out;
	rc = iteration_event(r, a, "complete", id, NULL, NULL, e);
out:
	return lin_tx_end(r, rc, e);
}

/* May the actor search the bucket (x), as a path walk through the mount
 * would need? */
static int
ref_may(const struct lin_actor *a, const struct lin_bucket *b,
    struct lin_err *e)
{
	if (a == NULL || lin_actor_may(a, b->uid, b->gid, b->mode, 1))
		return 0;
	return lin_errf(e, EACCES, "permission denied to bucket %s", b->name);
}

int
lin_ref_resolve(struct lin_reg *r, const struct lin_actor *a,
    const struct lin_ref *ref, struct lin_iteration *out, struct lin_err *e)
{
	struct lin_iteration it;
	struct lin_channel ch;
	struct lin_bucket b;
	int rc;

	if (ref->kind == LIN_REF_ULID) {
		if ((rc = lin_iteration_by_ulid(r, ref->name, &it, e)))
			return rc;
		if ((rc = lin_bucket_get(r, it.bucket_id, &b, e)) ||
		    (rc = ref_may(a, &b, e)))
			return rc;
		*out = it;
		return 0;
	}
	if ((rc = lin_bucket_by_name(r, ref->bucket, &b, e)))
		return rc;
	if ((rc = ref_may(a, &b, e)))
		return rc;
	switch (ref->kind) {
	case LIN_REF_FINGERPRINT:
		return lin_iteration_by_fingerprint(r, b.id, ref->name, out, e);
	case LIN_REF_VERSION:
		return lin_iteration_by_version(r, b.id, ref->version, out, e);
	case LIN_REF_CHANNEL:
		if ((rc = lin_channel_get(r, b.id, ref->name, &ch, e)))
			return rc;
		return lin_iteration_get(r, ch.iteration_id, out, e);
	default:
		return lin_errf(e, EINVAL, "not an iteration path");
	}
}
