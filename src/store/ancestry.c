/*
 * ancestry.c — parent links between iterations, across buckets (SPEC §6):
 * adding and removing them, reading them with their status, and the
 * `parent` file.  The transitive views (ancestors, descendants, tree,
 * graph.dot) are in ancestry_render.c.
 *
 * A link's status is never stored: it is computed from the channel the
 * link recorded every time it is read, so moving a channel changes the
 * status of every child that came through it at once, with nothing to
 * update.  A link to a scheduled parent hands the schedule down (see
 * revoke.c), and removing a link takes back what only it had handed down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/revocation.h"

const char *
lin_link_status_word(enum lin_link_status s)
{
	switch (s) {
	case LIN_LINK_UP_TO_DATE:
		return "up-to-date";
	case LIN_LINK_OUT_OF_DATE:
		return "out-of-date";
	case LIN_LINK_UNDETERMINED:
		return "undetermined";
	}
	return "?";
}

const char *
lin_ancestry_word(enum lin_ancestry a)
{
	switch (a) {
	case LIN_ANCESTRY_NONE:
		return "none";
	case LIN_ANCESTRY_UP_TO_DATE:
		return "up-to-date";
	case LIN_ANCESTRY_OUT_OF_DATE:
		return "out-of-date";
	case LIN_ANCESTRY_UNDETERMINED:
		return "undetermined";
	}
	return "?";
}

/*
 * The status of a link from the channel it recorded, in the parent's
 * bucket: up-to-date while the channel still points at the parent.  No
 * channel, an untracked parent, or a channel that is gone: undetermined.
 */
int
lin_link_status_of(struct lin_reg *r, int64_t parent_id,
    int64_t parent_bucket, const char *channel, enum lin_link_status *out,
    struct lin_err *e)
{
	struct lin_channel ch;
	int rc;

	*out = LIN_LINK_UNDETERMINED;
	if (parent_id == 0 || channel[0] == '\0')
		return 0;
	if (strcmp(channel, "latest") == 0)
		rc = lin_latest(r, parent_bucket, &ch, e);
	else
		rc = lin_channel_get(r, parent_bucket, channel, &ch, e);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	*out = ch.iteration_id == parent_id ? LIN_LINK_UP_TO_DATE :
	    LIN_LINK_OUT_OF_DATE;
	return 0;
}

/*
 * Link rows: the link, then the bucket and fingerprint of the iteration at
 * the other end (the parent's for parents/, the child's for children/),
 * then the parent's bucket id, which the status needs.
 */
#define LINK_COLS \
	"SELECT l.id, COALESCE(l.parent_id, 0), l.child_id, l.channel, " \
	"l.source, l.created, COALESCE(b.name, ''), " \
	"COALESCE(o.fingerprint, ''), COALESCE(p.bucket_id, 0) FROM links l "
/* ... with the parent at the other end (untracked links too) */
#define LINK_TO_PARENT LINK_COLS \
	"LEFT JOIN iterations p ON p.id = l.parent_id " \
	"LEFT JOIN iterations o ON o.id = l.parent_id " \
	"LEFT JOIN buckets b ON b.id = o.bucket_id "
/* ... with the child at the other end */
#define LINK_TO_CHILD LINK_COLS \
	"JOIN iterations p ON p.id = l.parent_id " \
	"JOIN iterations o ON o.id = l.child_id " \
	"JOIN buckets b ON b.id = o.bucket_id "

static int
link_row(struct lin_reg *r, sqlite3_stmt *st, struct lin_link *l,
    struct lin_err *e)
{
	memset(l, 0, sizeof(*l));
	l->id = sqlite3_column_int64(st, 0);
	l->parent_id = sqlite3_column_int64(st, 1);
	l->child_id = sqlite3_column_int64(st, 2);
	snprintf(l->channel, sizeof(l->channel), "%s", lin_col_text(st, 3));
	snprintf(l->source, sizeof(l->source), "%s", lin_col_text(st, 4));
	l->mtime = sqlite3_column_int64(st, 5);
	snprintf(l->bucket, sizeof(l->bucket), "%s", lin_col_text(st, 6));
	snprintf(l->fingerprint, sizeof(l->fingerprint), "%s",
	    lin_col_text(st, 7));
	return lin_link_status_of(r, l->parent_id, sqlite3_column_int64(st, 8),
	    l->channel, &l->status, e);
}

/*
 * Call fn for each row.  The statement stays open while fn runs: fn may use
 * the engine, but must not list links of the same kind from inside (which
 * would restart this statement); a listing of 100k children should not
 * have to be copied first.
 */
static int
link_each(struct lin_reg *r, sqlite3_stmt *st, lin_link_fn fn, void *ctx,
    struct lin_err *e)
{
	struct lin_link l;
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = link_row(r, st, &l, e)) || (rc = fn(ctx, &l))) {
			sqlite3_reset(st);
			return rc;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static int
link_one(struct lin_reg *r, sqlite3_stmt *st, struct lin_link *out,
    const char *what, struct lin_err *e)
{
	int rc;

	if (st == NULL)
		return lin_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = link_row(r, st, out, e);
	else if (rc == SQLITE_DONE)
		rc = lin_errf(e, ENOENT, "no %s", what);
	else
		rc = lin_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

int
lin_parent_links(struct lin_reg *r, int64_t child_id, lin_link_fn fn,
    void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, LINK_TO_PARENT
	    "WHERE l.child_id = ?1 ORDER BY l.id");

	if (st)
		sqlite3_bind_int64(st, 1, child_id);
	return link_each(r, st, fn, ctx, e);
}

int
lin_child_links(struct lin_reg *r, int64_t parent_id, lin_link_fn fn,
    void *ctx, struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, LINK_TO_CHILD
	    "WHERE l.parent_id = ?1 ORDER BY l.id");

	if (st)
		sqlite3_bind_int64(st, 1, parent_id);
	return link_each(r, st, fn, ctx, e);
}

/* The parent is the other end: a link is read by id to remove a parent. */
int
lin_link_get(struct lin_reg *r, int64_t link_id, struct lin_link *out,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, LINK_TO_PARENT "WHERE l.id = ?1");

	if (st)
		sqlite3_bind_int64(st, 1, link_id);
	return link_one(r, st, out, "such parent link", e);
}

int
lin_link_by_name(struct lin_reg *r, int64_t iteration_id, bool parents,
    const char *name, struct lin_link *out, struct lin_err *e)
{
	char bucket[LIN_BUCKET_MAX];
	const char *at = strchr(name, '@');
	sqlite3_stmt *st;

	/* BUCKET@FINGERPRINT: neither part may hold an '@'. */
	if (at == NULL || (size_t)(at - name) >= sizeof(bucket))
		return lin_errf(e, ENOENT, "no link named %s", name);
	memcpy(bucket, name, (size_t)(at - name));
	bucket[at - name] = '\0';
	st = parents ?
	    lin_sql(r, LINK_TO_PARENT "WHERE l.child_id = ?1 AND "
	    "b.name = ?2 AND o.fingerprint = ?3") :
	    lin_sql(r, LINK_TO_CHILD "WHERE l.parent_id = ?1 AND "
	    "b.name = ?2 AND o.fingerprint = ?3");
	if (st) {
		sqlite3_bind_int64(st, 1, iteration_id);
		sqlite3_bind_text(st, 2, bucket, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, at + 1, -1, SQLITE_TRANSIENT);
	}
	return link_one(r, st, out, parents ? "such parent" : "such child",
	    e);
}

/* ---- the ancestry word and the `parent` file ---- */

static int
ancestry_fold(void *ctx, const struct lin_link *l)
{
	enum lin_ancestry *a = ctx;

	if (l->status == LIN_LINK_OUT_OF_DATE)
		*a = LIN_ANCESTRY_OUT_OF_DATE;
	else if (l->status == LIN_LINK_UNDETERMINED &&
	    *a != LIN_ANCESTRY_OUT_OF_DATE)
		*a = LIN_ANCESTRY_UNDETERMINED;
	else if (*a == LIN_ANCESTRY_NONE)
		*a = LIN_ANCESTRY_UP_TO_DATE;
	return 0;
}

int
lin_iteration_ancestry(struct lin_reg *r, int64_t id, enum lin_ancestry *out,
    struct lin_err *e)
{
	*out = LIN_ANCESTRY_NONE;
	return lin_parent_links(r, id, ancestry_fold, out, e);
}

/*
 * One line per link.  An untracked parent (a build's source that is no
 * artifact of the registry) has no path to show: its line starts with
 * source=EXTERNAL-ID instead, quoted like an event value if it holds a
 * space, and its status is always undetermined.
 */
static int
parent_line(void *ctx, const struct lin_link *l)
{
	struct lin_buf *out = ctx;

	if (l->parent_id == 0) {
		lin_buf_puts(out, "source=");
		lin_buf_putq(out, l->source);
	} else {
		lin_buf_printf(out, "buckets/%s/iterations/%s", l->bucket,
		    l->fingerprint);
	}
	lin_buf_printf(out, " channel=%s status=%s\n",
	    l->channel[0] ? l->channel : "-", lin_link_status_word(l->status));
	return 0;
}

int
lin_render_parent(struct lin_reg *r, int64_t id, struct lin_buf *out,
    struct lin_err *e)
{
	return lin_parent_links(r, id, parent_line, out, e);
}

/* ---- adding and removing links ---- */

/* Would child -> parent close a cycle?  Walking down from the child is
 * the cheap direction: a child being linked is new and has few
 * descendants, while a base image may have many ancestors' worth of
 * history above it. */
static int
link_acyclic(struct lin_reg *r, int64_t child_id, int64_t parent_id,
    struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t hit;
	int rc;

	if (child_id == parent_id)
		return lin_errf(e, ELOOP, "an iteration cannot be its own "
		    "parent");
	st = lin_sql(r, "WITH RECURSIVE d(id) AS (SELECT CAST(?1 AS INTEGER) "
	    "UNION SELECT l.child_id FROM d JOIN links l ON l.parent_id = d.id) "
	    "SELECT 1 FROM d WHERE d.id = ?2 LIMIT 1");
	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, child_id);
	sqlite3_bind_int64(st, 2, parent_id);
	rc = lin_query_int(r, st, &hit, e);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = lin_errf(e, ELOOP, "a parent link here would make a "
		    "cycle: that iteration already descends from this one");
	return rc;
}

static int
link_unique(struct lin_reg *r, int64_t child_id, int64_t parent_id,
    const char *source, struct lin_err *e)
{
	sqlite3_stmt *st;
	int64_t hit;
	int rc;

	if (parent_id != 0) {
		st = lin_sql(r, "SELECT 1 FROM links WHERE child_id = ?1 AND "
		    "parent_id = ?2");
		sqlite3_bind_int64(st, 2, parent_id);
	} else {
		st = lin_sql(r, "SELECT 1 FROM links WHERE child_id = ?1 AND "
		    "parent_id IS NULL AND source = ?2");
		sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 1, child_id);
	rc = lin_query_int(r, st, &hit, e);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = lin_errf(e, EEXIST, parent_id ? "that iteration is "
		    "already a parent of this one" : "that source is already "
		    "a parent of this iteration");
	return rc;
}

static int
link_insert(struct lin_reg *r, int64_t child_id, int64_t parent_id,
    const char *channel, const char *source, int64_t build_id, int64_t now,
    struct lin_err *e)
{
	sqlite3_stmt *st = lin_sql(r, "INSERT INTO links (child_id, parent_id, "
	    "channel, source, build_id, created) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6)");

	if (st == NULL)
		return lin_db_err(r, e);
	sqlite3_bind_int64(st, 1, child_id);
	if (parent_id)
		sqlite3_bind_int64(st, 2, parent_id);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	if (build_id)
		sqlite3_bind_int64(st, 5, build_id);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, now);
	return lin_exec_stmt(r, st, e);
}

/* parent-add / parent-remove: the child, then the parent's path (or the
 * untracked source), the recorded channel and who. */
static int
link_event(struct lin_reg *r, const char *action, const char *by,
    int64_t child_id, int64_t parent_id, const char *channel,
    const char *source, int64_t now, struct lin_err *e)
{
	struct lin_buf b, path;
	int rc;

	lin_buf_init(&b);
	lin_buf_init(&path);
	lin_ev_start(&b, action);
	if ((rc = lin_ev_iteration(r, &b, child_id, e)))
		goto out;
	if (parent_id) {
		if ((rc = lin_iteration_path(r, parent_id, &path, e)))
			goto out;
		lin_ev_kv(&b, "parent", path.data);
	}
	if (source[0] != '\0')
		lin_ev_kv(&b, "source", source);
	lin_ev_kv(&b, "channel", channel[0] ? channel : "-");
	lin_ev_kv(&b, "by", by);
	rc = lin_ev_commit(r, &b, now, e);
out:
	lin_buf_free(&path);
	lin_buf_free(&b);
	return rc;
}

static int
link_touch(struct lin_reg *r, int64_t child_id, int64_t parent_id,
    struct lin_err *e)
{
	int rc = lin_touch_iteration(r, child_id, e);

	if (rc == 0 && parent_id)
		rc = lin_touch_iteration(r, parent_id, e);
	if (rc == 0)
		rc = lin_change(r, LIN_CH_VIEWS, 0, e);
	return rc;
}

int
lin_link_add_tx(struct lin_reg *r, const char *by, int64_t child_id,
    int64_t parent_id, const char *channel, const char *source,
    int64_t build_id, struct lin_err *e)
{
	int64_t now = lin_now();
	int rc;

	channel = channel ? channel : "";
	source = source ? source : "";
	if ((rc = lin_iteration_mutable(r, child_id, "parents", e)))
		return rc;
	if (parent_id != 0) {
		if ((rc = lin_iteration_get(r, parent_id, NULL, e)) ||
		    (rc = link_acyclic(r, child_id, parent_id, e)) ||
		    (rc = lin_rev_link_check(r, parent_id, now, e)))
			return rc;
	} else if (source[0] == '\0') {
		return lin_errf(e, EINVAL, "an untracked parent needs a "
		    "source");
	}
	if ((rc = link_unique(r, child_id, parent_id, source, e)) ||
	    (rc = link_insert(r, child_id, parent_id, channel, source,
	    build_id, now, e)) ||
	    (rc = link_event(r, "parent-add", by, child_id, parent_id, channel,
	    source, now, e)))
		return rc;
	if (parent_id != 0 &&
	    (rc = lin_rev_link_inherit(r, child_id, parent_id, now, e)))
		return rc;
	return link_touch(r, child_id, parent_id, e);
}

static int
parent_add_tx(struct lin_reg *r, const struct lin_actor *a, int64_t child_id,
    const char *buf, size_t len, struct lin_err *e)
{
	struct lin_iteration p;
	struct lin_ref ref;
	char by[64];
	int rc;

	if ((rc = lin_ref_parse(buf, len, "", lin_reg_mountpoint(r), &ref, e)))
		return rc;
	if ((rc = lin_iteration_get(r, child_id, NULL, e)))
		return rc;
	if ((rc = lin_ref_resolve(r, a, &ref, &p, e)))
		return rc;
	lin_actor_name(a->uid, by, sizeof(by));
	/* Written as a channel (latest too), the link remembers it, so its
	 * status can say later whether the channel moved on. */
	return lin_link_add_tx(r, by, child_id, p.id,
	    ref.kind == LIN_REF_CHANNEL ? ref.name : "", "", 0, e);
}

int
lin_parent_add(struct lin_reg *r, const struct lin_actor *a, int64_t child_id,
    const char *buf, size_t len, struct lin_err *e)
{
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	rc = parent_add_tx(r, a, child_id, buf, len, e);
	return lin_tx_end(r, rc, e);
}

static int
parent_remove_tx(struct lin_reg *r, const struct lin_actor *a,
    int64_t child_id, int64_t link_id, struct lin_err *e)
{
	struct lin_link l;
	sqlite3_stmt *st;
	int64_t now = lin_now();
	char by[64];
	int rc;

	if ((rc = lin_link_get(r, link_id, &l, e)))
		return rc;
	if (l.child_id != child_id)
		return lin_errf(e, ENOENT, "no such parent link");
	if ((rc = lin_iteration_mutable(r, child_id, "parents", e)))
		return rc;
	lin_actor_name(a->uid, by, sizeof(by));
	if ((rc = link_event(r, "parent-remove", by, child_id, l.parent_id,
	    l.channel, l.source, now, e)))
		return rc;
	if ((rc = lin_change(r, LIN_CH_LINK, link_id, e)))
		return rc;
	st = lin_sql(r, "DELETE FROM links WHERE id = ?1");
	sqlite3_bind_int64(st, 1, link_id);
	if ((rc = lin_exec_stmt(r, st, e)) ||
	    (rc = lin_rev_link_prune(r, by, child_id, now, e)))
		return rc;
	return link_touch(r, child_id, l.parent_id, e);
}

int
lin_parent_remove(struct lin_reg *r, const struct lin_actor *a,
    int64_t child_id, int64_t link_id, struct lin_err *e)
{
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	rc = parent_remove_tx(r, a, child_id, link_id, e);
	return lin_tx_end(r, rc, e);
}
