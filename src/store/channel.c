/*
 * channel.c — channels (SPEC §4): named pointers from a bucket to one of
 * its complete iterations, each move kept in the assignment history and
 * the events log, and the managed `latest`, which is computed on every
 * read rather than stored, so it can never be stale.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* "Revoked now" of SPEC §5.4 in SQL: a revocation in effect, explicit, or
 * inherited while no explicit one outranks it. */
#define REVOKED_NOW(it) \
	"EXISTS (SELECT 1 FROM revocations v WHERE v.iteration_id = " it \
	" AND v.at <= ? AND (v.origin_id IS NULL OR NOT EXISTS (SELECT 1 " \
	"FROM revocations x WHERE x.iteration_id = " it \
	" AND x.origin_id IS NULL)))"

int
lin_latest(struct lin_reg *r, int64_t bucket_id, struct lin_channel *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT i.id, i.fingerprint, "
	    "i.completed FROM iterations i WHERE i.bucket_id = ? AND "
	    "i.version > 0 AND NOT " REVOKED_NOW("i.id")
	    " ORDER BY i.version DESC LIMIT 1");
	int rc;

	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_int64(st, 2, lin_now());
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->bucket_id = bucket_id;
		strlcpy(out->name, "latest", sizeof(out->name));
		out->iteration_id = sqlite3_column_int64(st, 0);
		strlcpy(out->fingerprint, lin_col_text(st, 1),
		    sizeof(out->fingerprint));
		out->mtime = sqlite3_column_int64(st, 2);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? lin_errf(e, ENOENT, "latest points "
		    "nowhere: the bucket has no valid complete iteration") :
		    lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

static int
channel_one(struct lin_reg *r, sqlite3_stmt *st, struct lin_channel *out,
    const char *what, struct lin_err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		if (out) {
			memset(out, 0, sizeof(*out));
			out->id = sqlite3_column_int64(st, 0);
			out->bucket_id = sqlite3_column_int64(st, 1);
			strlcpy(out->name, lin_col_text(st, 2),
			    sizeof(out->name));
			out->iteration_id = sqlite3_column_int64(st, 3);
			strlcpy(out->fingerprint, lin_col_text(st, 4),
			    sizeof(out->fingerprint));
			out->mtime = sqlite3_column_int64(st, 5);
		}
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? lin_errf(e, ENOENT, "no channel %s",
		    what) : lin_db_err(r, e);
	}
	sqlite3_reset(st);
	return rc;
}

int
lin_channel_get(struct lin_reg *r, int64_t bucket_id, const char *name,
    struct lin_channel *out, struct lin_err *e)
{
	sqlite3_stmt *st;

	if (strcmp(name, "latest") == 0) {
		struct lin_channel tmp;

		return lin_latest(r, bucket_id, out ? out : &tmp, e);
	}
	st = lin_sql(r, "SELECT c.id, c.bucket_id, c.name, c.iteration_id, "
	    "i.fingerprint, c.mtime FROM channels c JOIN iterations i ON "
	    "i.id = c.iteration_id WHERE c.bucket_id = ? AND c.name = ?");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return channel_one(r, st, out, name, e);
}

int
lin_channel_by_id(struct lin_reg *r, int64_t id, struct lin_channel *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT c.id, c.bucket_id, c.name, "
	    "c.iteration_id, i.fingerprint, c.mtime FROM channels c JOIN "
	    "iterations i ON i.id = c.iteration_id WHERE c.id = ?");

	sqlite3_bind_int64(st, 1, id);
	return channel_one(r, st, out, "with that id", e);
}

int
lin_channel_list(struct lin_reg *r, int64_t bucket_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "SELECT id, name FROM channels "
	    "WHERE bucket_id = ? AND id > ? ORDER BY id");

	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_int64(st, 2, after);
	return lin_list_rows(r, st, fn, ctx, e);
}

/* The fingerprint of an iteration for from=/to= fields ("-" for none). */
static void
channel_fp(struct lin_reg *r, int64_t id, char out[LIN_FP_MAX])
{
	struct lin_iteration it;

	if (id == 0 || lin_iteration_get(r, id, &it, NULL))
		strlcpy(out, "-", LIN_FP_MAX);
	else
		strlcpy(out, it.fingerprint, LIN_FP_MAX);
}

int
lin_channel_record(struct lin_reg *r, const char *by, int64_t bucket_id,
    const char *channel, int64_t from, int64_t to, const char *why,
    struct lin_err *e)
{
	char ffp[LIN_FP_MAX], tfp[LIN_FP_MAX];
	struct lin_bucket b;
	struct lin_buf ev;
	sqlite3_stmt *st;
	int64_t now = lin_now();
	int rc;

	st = lin_sql(r, "INSERT INTO assignments (bucket_id, channel, "
	    "iteration_id, at, by_name) VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	if (to)
		sqlite3_bind_int64(st, 3, to);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, by, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_bucket_get(r, bucket_id, &b, e)))
		return rc;
	channel_fp(r, from, ffp);
	channel_fp(r, to, tfp);
	lin_buf_init(&ev);
	lin_ev_start(&ev, to ? "assign" : "unassign");
	lin_ev_kv(&ev, "bucket", b.name);
	lin_ev_kv(&ev, "channel", channel);
	lin_ev_kv(&ev, "from", ffp);
	lin_ev_kv(&ev, "to", tfp);
	lin_ev_kv(&ev, "by", by);
	if (why && why[0])
		lin_ev_kv(&ev, "via", why);
	rc = lin_ev_commit(r, &ev, now, e);
	lin_buf_free(&ev);
	return rc;
}

int
lin_channel_move(struct lin_reg *r, const char *by, int64_t bucket_id,
    const char *channel, int64_t to, const char *why, struct lin_err *e)
{
	struct lin_channel cur;
	sqlite3_stmt *st;
	int64_t from = 0;
	int rc;

	if (lin_channel_get(r, bucket_id, channel, &cur, NULL) == 0)
		from = cur.iteration_id;
	if (to == 0 && from == 0)
		return 0;
	if (to == 0) {
		st = lin_sql(r, "DELETE FROM channels WHERE bucket_id = ? AND "
		    "name = ?");
		sqlite3_bind_int64(st, 1, bucket_id);
		sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	} else if (from) {
		st = lin_sql(r, "UPDATE channels SET iteration_id = ?, "
		    "mtime = ? WHERE bucket_id = ? AND name = ?");
		sqlite3_bind_int64(st, 1, to);
		sqlite3_bind_int64(st, 2, lin_now());
		sqlite3_bind_int64(st, 3, bucket_id);
		sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
	} else {
		st = lin_sql(r, "INSERT INTO channels (iteration_id, mtime, "
		    "bucket_id, name) VALUES (?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, to);
		sqlite3_bind_int64(st, 2, lin_now());
		sqlite3_bind_int64(st, 3, bucket_id);
		sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
	}
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_touch_bucket(r, bucket_id, e)) ||
	    (rc = lin_change(r, LIN_CH_VIEWS, 0, e)))
		return rc;
	if (from && (rc = lin_change(r, LIN_CH_CHANNEL, cur.id, e)))
		return rc;
	if (to && lin_channel_get(r, bucket_id, channel, &cur, NULL) == 0 &&
	    (rc = lin_change(r, LIN_CH_CHANNEL, cur.id, e)))
		return rc;
	return lin_channel_record(r, by, bucket_id, channel, from, to, why, e);
}

static int
channel_managed(const char *name, struct lin_err *e)
{
	if (strcmp(name, "latest") == 0)
		return lin_errf(e, EPERM, "latest is managed: it always "
		    "points at the newest valid version");
	return 0;
}

/* May this iteration be put on a channel (SPEC §4)? */
static int
channel_assignable(const struct lin_iteration *it, struct lin_err *e)
{
	if (it->status == LIN_STATUS_REVOKED)
		return lin_errf(e, EKEYREVOKED, "iteration %s is revoked: "
		    "it cannot be put on a channel", it->fingerprint);
	if (!it->completed)
		return lin_errf(e, EINVAL, "iteration %s is not complete: "
		    "only complete iterations can be put on a channel",
		    it->fingerprint);
	return 0;
}

int
lin_channel_assign(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *name, const char *target,
    struct lin_channel *out, struct lin_err *e)
{
	struct lin_iteration it;
	struct lin_bucket b;
	struct lin_ref ref;
	char base[LIN_BUCKET_MAX + 32], by[64];
	int rc;

	if ((rc = channel_managed(name, e)) || (rc = lin_name_channel(name, e)))
		return rc;
	if ((rc = lin_bucket_get(r, bucket_id, &b, e)))
		return rc;
	snprintf(base, sizeof(base), "buckets/%s/channels", b.name);
	if ((rc = lin_ref_parse(target, strlen(target), base,
	    lin_reg_mountpoint(r), &ref, e)))
		return rc;
	if (ref.kind != LIN_REF_ULID && strcmp(ref.bucket, b.name) != 0)
		return lin_errf(e, EINVAL, "a channel of %s can only point "
		    "into %s, not into %s", b.name, b.name, ref.bucket);
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_ref_resolve(r, a, &ref, &it, e)))
		goto out;
	if (it.bucket_id != bucket_id) {
		rc = lin_errf(e, EINVAL, "a channel of %s can only point "
		    "into %s, not into %s", b.name, b.name, it.bucket);
		goto out;
	}
	if ((rc = channel_assignable(&it, e)))
		goto out;
	lin_actor_name(a->uid, by, sizeof(by));
	if ((rc = lin_channel_move(r, by, bucket_id, name, it.id, NULL, e)))
		goto out;
	rc = lin_channel_get(r, bucket_id, name, out, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_channel_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *name, struct lin_err *e)
{
	char by[64];
	int rc;

	if ((rc = channel_managed(name, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_channel_get(r, bucket_id, name, NULL, e)) == 0) {
		lin_actor_name(a->uid, by, sizeof(by));
		rc = lin_channel_move(r, by, bucket_id, name, 0, NULL, e);
	}
	return lin_tx_end(r, rc, e);
}

/*
 * GNU ln -sfn makes a link under a temporary name and renames it over the
 * channel: to the user that is one assignment.  When the temporary channel
 * was just created (its creation is its only assignment and the newest
 * event of the log), its creation is withdrawn, so the history shows the
 * one move.  Returns 1 when withdrawn, 0 when the channel had a life of
 * its own (then its history stays and gets a closing row).
 */
static int
channel_withdraw_fresh(struct lin_reg *r, int64_t bucket_id,
    const char *name, struct lin_err *e)
{
	struct lin_bucket b;
	struct lin_buf want;
	sqlite3_stmt *st;
	int64_t n, seq = 0;
	bool fresh = false;
	int rc;

	st = lin_sql(r, "SELECT count(*) FROM assignments WHERE bucket_id = ? "
	    "AND channel = ?");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((rc = lin_query_int(r, st, &n, e)) || n != 1)
		return rc;
	if ((rc = lin_bucket_get(r, bucket_id, &b, e)))
		return rc;
	lin_buf_init(&want);
	lin_buf_printf(&want, " action=assign bucket=%s channel=%s from=- ",
	    b.name, name);
	st = lin_sql(r, "SELECT seq, line FROM events ORDER BY seq DESC "
	    "LIMIT 1");
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *line = lin_col_text(st, 1);
		const char *nl = strchr(line, '\n');

		/* one line (a row of a set-based append holds many) */
		seq = sqlite3_column_int64(st, 0);
		fresh = strstr(line, want.data) != NULL && nl != NULL &&
		    nl[1] == '\0';
	}
	sqlite3_reset(st);
	lin_buf_free(&want);
	if (!fresh)
		return 0;
	st = lin_sql(r, "DELETE FROM events WHERE seq = ?");
	sqlite3_bind_int64(st, 1, seq);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	st = lin_sql(r, "DELETE FROM assignments WHERE bucket_id = ? AND "
	    "channel = ?");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((rc = lin_exec_stmt(r, st, e)))
		return rc;
	return 1;
}

int
lin_channel_rename(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *from, const char *to, struct lin_err *e)
{
	struct lin_channel src;
	struct lin_iteration it;
	sqlite3_stmt *st;
	char by[64], via[LIN_BUCKET_MAX + 16];
	int rc, withdrawn;

	if ((rc = channel_managed(from, e)) || (rc = channel_managed(to, e)) ||
	    (rc = lin_name_channel(to, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)))
		return rc;
	if ((rc = lin_channel_get(r, bucket_id, from, &src, e)))
		goto out;
	if (strcmp(from, to) == 0)
		goto out;
	if ((rc = lin_iteration_get(r, src.iteration_id, &it, e)) ||
	    (rc = channel_assignable(&it, e)))
		goto out;
	/* One assignment for `to`; `from` (ln -sfn's temporary name) goes
	 * away with it. */
	if ((withdrawn = channel_withdraw_fresh(r, bucket_id, from, e)) < 0) {
		rc = withdrawn;
		goto out;
	}
	lin_actor_name(a->uid, by, sizeof(by));
	snprintf(via, sizeof(via), "rename:%s", from);
	if ((rc = lin_channel_move(r, by, bucket_id, to, it.id, via, e)))
		goto out;
	st = lin_sql(r, "DELETE FROM channels WHERE id = ?");
	sqlite3_bind_int64(st, 1, src.id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_change(r, LIN_CH_CHANNEL, src.id, e)) || withdrawn)
		goto out;
	st = lin_sql(r, "INSERT INTO assignments (bucket_id, channel, "
	    "iteration_id, at, by_name) VALUES (?, ?, NULL, ?, ?)");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, lin_now());
	sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
	rc = lin_exec_stmt(r, st, e);
out:
	return lin_tx_end(r, rc, e);
}

int
lin_channels_of(struct lin_reg *r, int64_t iteration_id, struct lin_buf *out,
    struct lin_err *e)
{
	struct lin_iteration it;
	struct lin_channel latest;
	sqlite3_stmt *st;
	bool has_latest, put = false;
	int rc;

	if ((rc = lin_iteration_get(r, iteration_id, &it, e)))
		return rc;
	has_latest = lin_latest(r, it.bucket_id, &latest, NULL) == 0 &&
	    latest.iteration_id == iteration_id;
	st = lin_sql(r, "SELECT name FROM channels WHERE iteration_id = ? "
	    "ORDER BY name");
	sqlite3_bind_int64(st, 1, iteration_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = lin_col_text(st, 0);

		if (has_latest && !put && strcmp(n, "latest") > 0) {
			lin_buf_puts(out, "latest\n");
			put = true;
		}
		lin_buf_printf(out, "%s\n", n);
	}
	if (has_latest && !put)
		lin_buf_puts(out, "latest\n");
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}
