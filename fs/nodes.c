/*
 * nodes.c — the node table: the whole visible tree of SPEC §2 as data.
 *
 * Each row is one kind of node: its name (fixed, or a pattern child such as
 * a bucket), its parent kind, its type and permission class, and the
 * handlers it needs.  Fixed children of an object directory share the
 * object's row id (an iteration's `status` is (NK_I_STATUS, iteration id)),
 * so a lookup is a table step plus at most one indexed query.  Adding a
 * file to iterations is one row and one handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define R (o->fs->reg)
#define E (&o->err)

/* ---- stat handlers: existence, mtime, owner ---- */

static int
st_top(struct op *o, int64_t id, struct nstat *st)
{
	st->mtime = o->fs->mounted;
	return 0;
}

static int
st_buckets(struct op *o, int64_t id, struct nstat *st)
{
	st->mtime = o->fs->mounted;
	return lin_root_mode(R, &st->bmode);
}

static int
st_events(struct op *o, int64_t id, struct nstat *st)
{
	st->mtime = lin_events_mtime(R);
	if (st->mtime == 0)
		st->mtime = o->fs->mounted;
	return 0;
}

static int
st_errors(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_buf b;

	lin_buf_init(&b);
	fs_errors_render(&b, &st->mtime);
	lin_buf_free(&b);
	if (st->mtime == 0)
		st->mtime = o->fs->mounted;
	return 0;
}

static int
bucket_owner(struct op *o, int64_t bid, struct nstat *st)
{
	struct lin_bucket b;
	int rc;

	if ((rc = lin_bucket_get(R, bid, &b, E)))
		return rc;
	st->bucket = b.id;
	st->uid = b.uid;
	st->gid = b.gid;
	st->bmode = b.mode;
	if (st->mtime == 0)
		st->mtime = b.mtime;
	return 0;
}

static int
st_bucket(struct op *o, int64_t id, struct nstat *st)
{
	return bucket_owner(o, id, st);
}

static int
st_bucket_created(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_bucket b;
	int rc;

	if ((rc = lin_bucket_get(R, id, &b, E)))
		return rc;
	st->mtime = b.created;
	return bucket_owner(o, id, st);
}

static int
st_blabel(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_label l;
	int rc;

	if ((rc = lin_label_by_id(R, LIN_OWNER_BUCKET, id, &l, NULL, E)))
		return rc;
	st->mtime = l.mtime;
	return bucket_owner(o, l.owner_id, st);
}

static int
iter_owner(struct op *o, int64_t iid, struct nstat *st, bool dir)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(R, iid, &it, E)))
		return rc;
	if (st->mtime == 0)
		st->mtime = dir ? it.created : it.mtime;
	return bucket_owner(o, it.bucket_id, st);
}

static int
st_iter_dir(struct op *o, int64_t id, struct nstat *st)
{
	return iter_owner(o, id, st, true);
}

static int
st_iter(struct op *o, int64_t id, struct nstat *st)
{
	return iter_owner(o, id, st, false);
}

static int
st_iter_created(struct op *o, int64_t id, struct nstat *st)
{
	return iter_owner(o, id, st, true);
}

static int
st_version_link(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(R, id, &it, E)))
		return rc;
	if (it.version == 0)
		return lin_errf(E, ENOENT, "not complete");
	st->mtime = it.completed;
	return bucket_owner(o, it.bucket_id, st);
}

static int
build_owner(struct op *o, int64_t bid, struct nstat *st)
{
	struct lin_build b;
	int rc;

	if ((rc = lin_build_get(R, bid, &b, E)))
		return rc;
	if (st->mtime == 0)
		st->mtime = b.mtime;
	return iter_owner(o, b.iteration_id, st, false);
}

static int
st_build(struct op *o, int64_t id, struct nstat *st)
{
	return build_owner(o, id, st);
}

static int
st_bdlabel(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_label l;
	int rc;

	if ((rc = lin_label_by_id(R, LIN_OWNER_BUILD, id, &l, NULL, E)))
		return rc;
	st->mtime = l.mtime;
	return build_owner(o, l.owner_id, st);
}

static int
st_artifact(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_artifact a;
	int rc;

	if ((rc = lin_artifact_get(R, id, &a, E)))
		return rc;
	st->mtime = a.mtime;
	return build_owner(o, a.build_id, st);
}

static int
st_latest(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_channel c;
	int rc;

	if ((rc = lin_latest(R, id, &c, E)))
		return rc;
	st->mtime = c.mtime;
	return bucket_owner(o, id, st);
}

static int
st_channel(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_channel c;
	int rc;

	if ((rc = lin_channel_by_id(R, id, &c, E)))
		return rc;
	st->mtime = c.mtime;
	return bucket_owner(o, c.bucket_id, st);
}

static int
st_link(struct op *o, int64_t id, struct nstat *st, bool parents)
{
	struct lin_link l;
	int rc;

	if ((rc = lin_link_get(R, id, &l, E)))
		return rc;
	if (l.parent_id == 0)
		return lin_errf(E, ENOENT, "untracked parent");
	st->mtime = l.mtime;
	return iter_owner(o, parents ? l.child_id : l.parent_id, st, false);
}

static int
st_plink(struct op *o, int64_t id, struct nstat *st)
{
	return st_link(o, id, st, true);
}

static int
st_clink(struct op *o, int64_t id, struct nstat *st)
{
	return st_link(o, id, st, false);
}

static int
st_byid(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(R, id, &it, E)))
		return rc;
	st->mtime = it.created;
	return 0;
}

static int
st_artlink(struct op *o, int64_t id, struct nstat *st)
{
	struct lin_artifact a, first;
	int rc;

	if ((rc = lin_artifact_get(R, id, &a, E)))
		return rc;
	if ((rc = lin_artifact_by_external_id(R, a.external_id, &first, E)))
		return rc;
	if (first.id != a.id)
		return lin_errf(E, ENOENT, "not the first artifact of its id");
	st->mtime = a.mtime;
	return 0;
}

/* ---- lookups and listings of pattern children ---- */

static int
lk_bucket(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_bucket b;
	int rc = lin_bucket_by_name(R, name, &b, E);

	*id = b.id;
	return rc;
}

static int
ls_bucket(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_bucket_list(R, after, fn, c, E);
}

static int
lk_blabel(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_label l;
	int rc = lin_label_get(R, LIN_OWNER_BUCKET, pid, name, &l, NULL, E);

	*id = l.id;
	return rc;
}

static int
ls_blabel(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_label_list(R, LIN_OWNER_BUCKET, pid, after, fn, c, E);
}

static int
lk_bdlabel(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_label l;
	int rc = lin_label_get(R, LIN_OWNER_BUILD, pid, name, &l, NULL, E);

	*id = l.id;
	return rc;
}

static int
ls_bdlabel(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_label_list(R, LIN_OWNER_BUILD, pid, after, fn, c, E);
}

static int
lk_iter(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_iteration it;
	int rc = lin_iteration_by_fingerprint(R, pid, name, &it, E);

	*id = it.id;
	return rc;
}

static int
ls_iter(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_iteration_list(R, pid, after, fn, c, E);
}

static int
lk_version(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_iteration it;
	const char *err = NULL;
	long long v;
	int rc;

	if (name[0] != 'v' || name[1] == '0')
		return lin_errf(E, ENOENT, "no version %s", name);
	v = strtonum(name + 1, 1, INT64_MAX, &err);
	if (err)
		return lin_errf(E, ENOENT, "no version %s", name);
	rc = lin_iteration_by_version(R, pid, v, &it, E);
	*id = it.id;
	return rc;
}

static int
ls_version(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_version_list(R, pid, after, fn, c, E);
}

static int
lk_channel(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_channel ch;
	int rc;

	if (strcmp(name, "latest") == 0)
		return -ENOENT;
	rc = lin_channel_get(R, pid, name, &ch, E);
	*id = ch.id;
	return rc;
}

static int
ls_channel(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_channel_list(R, pid, after, fn, c, E);
}

static int
lk_build(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_build b;
	int rc = lin_build_by_name(R, pid, name, &b, E);

	*id = b.id;
	return rc;
}

static int
ls_build(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_build_list(R, pid, after, fn, c, E);
}

static int
lk_artifact(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_artifact a;
	int rc = lin_artifact_by_region(R, pid, name, &a, E);

	*id = a.id;
	return rc;
}

static int
ls_artifact(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_artifact_list(R, pid, after, fn, c, E);
}

static int
lk_byid(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_iteration it;
	int rc = lin_iteration_by_ulid(R, name, &it, E);

	*id = it.id;
	return rc;
}

static int
ls_byid(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_ulid_list(R, after, fn, c, E);
}

static int
lk_artlink(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	struct lin_artifact a;
	struct lin_buf ext;
	int rc;

	lin_buf_init(&ext);
	if ((rc = lin_extid_unescape(name, &ext, E)) == 0)
		rc = lin_artifact_by_external_id(R, ext.data, &a, E);
	lin_buf_free(&ext);
	*id = a.id;
	return rc;
}

static int
ls_artlink(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	return lin_artifact_list_all(R, after, fn, c, E);
}

static int
lk_link(struct op *o, int64_t pid, const char *name, int64_t *id,
    bool parents)
{
	struct lin_link l;
	int rc = lin_link_by_name(R, pid, parents, name, &l, E);

	*id = l.id;
	return rc;
}

static int
lk_plink(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	return lk_link(o, pid, name, id, true);
}

static int
lk_clink(struct op *o, int64_t pid, const char *name, int64_t *id)
{
	return lk_link(o, pid, name, id, false);
}

/* Adapt a listing of links to entries named BUCKET@FP. */
struct link_ls {
	int64_t     after;
	lin_each_fn fn;
	void       *ctx;
};

static int
link_ls_one(void *c, const struct lin_link *l)
{
	struct link_ls *ls = c;
	struct lin_entry ent;
	char name[LIN_BUCKET_MAX + LIN_FP_MAX + 2];

	if (l->parent_id == 0 || l->id <= ls->after)
		return 0;
	snprintf(name, sizeof(name), "%s@%s", l->bucket, l->fingerprint);
	ent.id = ent.cursor = l->id;
	ent.name = name;
	return ls->fn(ls->ctx, &ent);
}

static int
ls_plink(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	struct link_ls ls = { after, fn, c };

	return lin_parent_links(R, pid, link_ls_one, &ls, E);
}

static int
ls_clink(struct op *o, int64_t pid, int64_t after, lin_each_fn fn, void *c)
{
	struct link_ls ls = { after, fn, c };

	return lin_child_links(R, pid, link_ls_one, &ls, E);
}

/* ---- up: a pattern child's parent id and name, for paths ---- */

static int
up_bucket(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_bucket b;
	int rc = lin_bucket_get(R, id, &b, E);

	*pid = 1;
	lin_buf_puts(n, b.name);
	return rc;
}

static int
up_label(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n,
    enum lin_owner ow)
{
	struct lin_label l;
	int rc = lin_label_by_id(R, ow, id, &l, NULL, E);

	*pid = l.owner_id;
	lin_buf_puts(n, l.key);
	return rc;
}

static int
up_blabel(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	return up_label(o, id, pid, n, LIN_OWNER_BUCKET);
}

static int
up_bdlabel(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	return up_label(o, id, pid, n, LIN_OWNER_BUILD);
}

static int
up_iter(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_iteration it;
	int rc = lin_iteration_get(R, id, &it, E);

	*pid = it.bucket_id;
	lin_buf_puts(n, it.fingerprint);
	return rc;
}

static int
up_version(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_iteration it;
	int rc = lin_iteration_get(R, id, &it, E);

	*pid = it.bucket_id;
	lin_buf_printf(n, "v%lld", (long long)it.version);
	return rc;
}

static int
up_build(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_build b;
	int rc = lin_build_get(R, id, &b, E);

	*pid = b.iteration_id;
	lin_buf_puts(n, b.name);
	return rc;
}

static int
up_artifact(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_artifact a;
	int rc = lin_artifact_get(R, id, &a, E);

	*pid = a.build_id;
	lin_buf_puts(n, a.region);
	return rc;
}

static int
up_channel(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_channel c;
	int rc = lin_channel_by_id(R, id, &c, E);

	*pid = c.bucket_id;
	lin_buf_puts(n, c.name);
	return rc;
}

static int
up_link(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n,
    bool parents)
{
	struct lin_iteration it;
	struct lin_link l;
	int rc;

	if ((rc = lin_link_get(R, id, &l, E)))
		return rc;
	/* The entry is named for the other end: the parent under parents/,
	 * the child under children/. */
	*pid = parents ? l.child_id : l.parent_id;
	if ((rc = lin_iteration_get(R, parents ? l.parent_id : l.child_id,
	    &it, E)))
		return rc;
	lin_buf_printf(n, "%s@%s", it.bucket, it.fingerprint);
	return 0;
}

static int
up_plink(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	return up_link(o, id, pid, n, true);
}

static int
up_clink(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	return up_link(o, id, pid, n, false);
}

static int
up_byid(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_iteration it;
	int rc = lin_iteration_get(R, id, &it, E);

	*pid = 1;
	lin_buf_puts(n, it.ulid);
	return rc;
}

static int
up_artlink(struct op *o, int64_t id, int64_t *pid, struct lin_buf *n)
{
	struct lin_artifact a;
	int rc = lin_artifact_get(R, id, &a, E);

	*pid = 1;
	lin_extid_escape(a.external_id, n);
	return rc;
}

/* ---- file contents ---- */

static void
put_line(struct lin_buf *out, const char *v)
{
	if (v[0] != '\0')
		lin_buf_printf(out, "%s\n", v);
}

static void
put_time(struct lin_buf *out, int64_t t)
{
	char s[LIN_TIME_MAX];

	lin_time_format(t, s);
	lin_buf_printf(out, "%s\n", s);
}

static int
rd_empty(struct op *o, int64_t id, struct lin_buf *out)
{
	return 0;
}

static int
rd_bdesc(struct op *o, int64_t id, struct lin_buf *out)
{
	char *v;
	int rc;

	if ((rc = lin_bucket_description(R, id, &v, E)))
		return rc;
	put_line(out, v);
	free(v);
	return 0;
}

static int
rd_bcreated(struct op *o, int64_t id, struct lin_buf *out)
{
	struct lin_bucket b;
	int rc;

	if ((rc = lin_bucket_get(R, id, &b, E)) == 0)
		put_time(out, b.created);
	return rc;
}

static int
rd_label(struct op *o, int64_t id, struct lin_buf *out, enum lin_owner ow)
{
	char *v;
	int rc;

	if ((rc = lin_label_by_id(R, ow, id, NULL, &v, E)))
		return rc;
	put_line(out, v);
	free(v);
	return 0;
}

static int
rd_blabel(struct op *o, int64_t id, struct lin_buf *out)
{
	return rd_label(o, id, out, LIN_OWNER_BUCKET);
}

static int
rd_bdlabel(struct op *o, int64_t id, struct lin_buf *out)
{
	return rd_label(o, id, out, LIN_OWNER_BUILD);
}

/* The files of an iteration that show one of its fields. */
static int
rd_iter_field(struct op *o, int64_t id, struct lin_buf *out, enum nk k)
{
	struct lin_iteration it;
	enum lin_ancestry an;
	int rc;

	if ((rc = lin_iteration_get(R, id, &it, E)))
		return rc;
	switch (k) {
	case NK_I_ID:
		lin_buf_printf(out, "%s\n", it.ulid);
		break;
	case NK_I_VERSION:
		lin_buf_printf(out, "v%lld\n", (long long)it.version);
		break;
	case NK_I_CREATED:
		put_time(out, it.created);
		break;
	case NK_I_COMPLETE:
		lin_buf_puts(out, it.completed ? "1\n" : "0\n");
		break;
	case NK_I_STATUS:
		lin_buf_printf(out, "%s\n", lin_status_word(it.status));
		break;
	case NK_I_ANCESTRY:
		if ((rc = lin_iteration_ancestry(R, id, &an, E)))
			return rc;
		lin_buf_printf(out, "%s\n", lin_ancestry_word(an));
		break;
	default:
		abort();
	}
	return 0;
}

#define RD_ITER(fn, kind) \
static int fn(struct op *o, int64_t id, struct lin_buf *out) \
{ return rd_iter_field(o, id, out, kind); }
RD_ITER(rd_iid, NK_I_ID)
RD_ITER(rd_iversion, NK_I_VERSION)
RD_ITER(rd_icreated, NK_I_CREATED)
RD_ITER(rd_icomplete, NK_I_COMPLETE)
RD_ITER(rd_istatus, NK_I_STATUS)
RD_ITER(rd_iancestry, NK_I_ANCESTRY)

/* Renderers of the engine that take (reg, id, out, err) as they are. */
#define RD_RENDER(fn, call) \
static int fn(struct op *o, int64_t id, struct lin_buf *out) \
{ return call(R, id, out, E); }
RD_RENDER(rd_iparent, lin_render_parent)
RD_RENDER(rd_iancestors, lin_render_ancestors)
RD_RENDER(rd_idescendants, lin_render_descendants)
RD_RENDER(rd_itree, lin_render_tree)
RD_RENDER(rd_ichannels, lin_channels_of)
RD_RENDER(rd_irevoke, lin_render_revocation)

static int
rd_graph(struct op *o, int64_t id, struct lin_buf *out)
{
	return lin_render_graph(R, out, E);
}

static int
rd_errors(struct op *o, int64_t id, struct lin_buf *out)
{
	int64_t t;

	fs_errors_render(out, &t);
	return 0;
}

static int
rd_build_field(struct op *o, int64_t id, struct lin_buf *out,
    enum lin_build_field f)
{
	char *v;
	int rc;

	if ((rc = lin_build_value(R, id, f, &v, E)))
		return rc;
	put_line(out, v);
	free(v);
	return 0;
}

static int
rd_platform(struct op *o, int64_t id, struct lin_buf *out)
{
	return rd_build_field(o, id, out, LIN_BUILD_PLATFORM);
}

static int
rd_source(struct op *o, int64_t id, struct lin_buf *out)
{
	return rd_build_field(o, id, out, LIN_BUILD_SOURCE);
}

static int
rd_artifact(struct op *o, int64_t id, struct lin_buf *out)
{
	struct lin_iteration it;
	struct lin_artifact a;
	struct lin_build b;
	int rc;

	if ((rc = lin_artifact_get(R, id, &a, E)))
		return rc;
	/* The content first: a refused read still has its true size. */
	put_line(out, a.external_id);
	if (o->fs->deny_revoked &&
	    (rc = lin_build_get(R, a.build_id, &b, E)) == 0 &&
	    (rc = lin_iteration_get(R, b.iteration_id, &it, E)) == 0 &&
	    it.status == LIN_STATUS_REVOKED)
		return lin_errf(E, EKEYREVOKED, "artifact %s belongs to a "
		    "revoked iteration and this mount denies revoked images",
		    a.external_id);
	return 0;
}

static int
sz_events(struct op *o, int64_t id, int64_t *size)
{
	return lin_events_size(R, size, E);
}

static int
pr_events(struct op *o, int64_t id, int64_t off, size_t len,
    struct lin_buf *out)
{
	return lin_events_read(R, off, len, out, E);
}

/* ---- writes ---- */

static int
wr_bdesc(struct op *o, int64_t id, const char *buf, size_t len)
{
	return lin_bucket_set_description(R, &o->actor, id, buf, len, E);
}

static int
wr_label(struct op *o, int64_t id, const char *buf, size_t len,
    enum lin_owner ow)
{
	struct lin_label l;
	int rc;

	if ((rc = lin_label_by_id(R, ow, id, &l, NULL, E)))
		return rc;
	return lin_label_set(R, &o->actor, ow, l.owner_id, l.key, buf, len,
	    NULL, E);
}

static int
wr_blabel(struct op *o, int64_t id, const char *buf, size_t len)
{
	return wr_label(o, id, buf, len, LIN_OWNER_BUCKET);
}

static int
wr_bdlabel(struct op *o, int64_t id, const char *buf, size_t len)
{
	return wr_label(o, id, buf, len, LIN_OWNER_BUILD);
}

static int
wr_import(struct op *o, int64_t id, const char *buf, size_t len)
{
	char *path = NULL;
	int rc;

	rc = lin_manifest_import(R, &o->actor, id, buf, len, &path, E);
	free(path);
	return rc;
}

#define WR_CALL(fn, call) \
static int fn(struct op *o, int64_t id, const char *buf, size_t len) \
{ return call(R, &o->actor, id, buf, len, E); }
WR_CALL(wr_complete, lin_iteration_complete)
WR_CALL(wr_parent, lin_parent_add)
WR_CALL(wr_revoke, lin_revoke)
WR_CALL(wr_restore, lin_restore)

static int
wr_platform(struct op *o, int64_t id, const char *buf, size_t len)
{
	return lin_build_set(R, &o->actor, id, LIN_BUILD_PLATFORM, buf, len, E);
}

static int
wr_source(struct op *o, int64_t id, const char *buf, size_t len)
{
	return lin_build_set(R, &o->actor, id, LIN_BUILD_SOURCE, buf, len, E);
}

static int
wr_artifact(struct op *o, int64_t id, const char *buf, size_t len)
{
	struct lin_artifact a;
	int rc;

	if ((rc = lin_artifact_get(R, id, &a, E)))
		return rc;
	return lin_artifact_set(R, &o->actor, a.build_id, a.region, buf, len,
	    NULL, E);
}

/* ---- symlink targets ---- */

static int
rl_iteration(struct op *o, int64_t iid, struct lin_buf *out,
    const char *prefix)
{
	struct lin_iteration it;
	int rc;

	if ((rc = lin_iteration_get(R, iid, &it, E)))
		return rc;
	if (prefix)
		lin_buf_printf(out, "%sbuckets/%s/iterations/%s", prefix,
		    it.bucket, it.fingerprint);
	else
		lin_buf_printf(out, "../iterations/%s", it.fingerprint);
	return 0;
}

static int
rl_version(struct op *o, int64_t id, struct lin_buf *out)
{
	return rl_iteration(o, id, out, NULL);
}

static int
rl_latest(struct op *o, int64_t id, struct lin_buf *out)
{
	struct lin_channel c;
	int rc;

	if ((rc = lin_latest(R, id, &c, E)))
		return rc;
	return rl_iteration(o, c.iteration_id, out, NULL);
}

static int
rl_channel(struct op *o, int64_t id, struct lin_buf *out)
{
	struct lin_channel c;
	int rc;

	if ((rc = lin_channel_by_id(R, id, &c, E)))
		return rc;
	return rl_iteration(o, c.iteration_id, out, NULL);
}

static int
rl_link(struct op *o, int64_t id, struct lin_buf *out, bool parents)
{
	struct lin_link l;
	int rc;

	if ((rc = lin_link_get(R, id, &l, E)))
		return rc;
	/* From buckets/B/iterations/FP/parents/ up to the root. */
	return rl_iteration(o, parents ? l.parent_id : l.child_id, out,
	    "../../../../../");
}

static int
rl_plink(struct op *o, int64_t id, struct lin_buf *out)
{
	return rl_link(o, id, out, true);
}

static int
rl_clink(struct op *o, int64_t id, struct lin_buf *out)
{
	return rl_link(o, id, out, false);
}

static int
rl_byid(struct op *o, int64_t id, struct lin_buf *out)
{
	return rl_iteration(o, id, out, "../");
}

static int
rl_artlink(struct op *o, int64_t id, struct lin_buf *out)
{
	struct lin_artifact a;
	struct lin_build b;
	int rc;

	if ((rc = lin_artifact_get(R, id, &a, E)) ||
	    (rc = lin_build_get(R, a.build_id, &b, E)) ||
	    (rc = rl_iteration(o, b.iteration_id, out, "../")))
		return rc;
	lin_buf_printf(out, "/builds/%s", b.name);
	return 0;
}

/* ---- creating and removing ---- */

static int
mk_bucket(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	struct lin_bucket b;
	int rc = lin_bucket_create(R, &o->actor, name, mode & 07777, &b, E);

	*id = b.id;
	return rc;
}

static int
mk_label(struct op *o, int64_t pid, const char *name, int64_t *id,
    enum lin_owner ow)
{
	return lin_label_set(R, &o->actor, ow, pid, name, NULL, 0, id, E);
}

static int
mk_blabel(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	return mk_label(o, pid, name, id, LIN_OWNER_BUCKET);
}

static int
mk_bdlabel(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	return mk_label(o, pid, name, id, LIN_OWNER_BUILD);
}

static int
mk_iter(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	struct lin_iteration it;
	int rc = lin_iteration_create(R, &o->actor, pid, name, &it, E);

	*id = it.id;
	return rc;
}

static int
mk_build(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	struct lin_build b;
	int rc = lin_build_create(R, &o->actor, pid, name, &b, E);

	*id = b.id;
	return rc;
}

static int
mk_artifact(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	struct lin_artifact a;
	int rc = lin_artifact_set(R, &o->actor, pid, name, NULL, 0, &a, E);

	*id = a.id;
	return rc;
}

static int
mk_channel(struct op *o, int64_t pid, const char *name, mode_t mode,
    const char *target, int64_t *id)
{
	struct lin_channel c;
	int rc;

	if (strcmp(name, "latest") != 0 &&
	    lin_channel_get(R, pid, name, NULL, NULL) == 0)
		return lin_errf(E, EEXIST, "channel %s exists: use ln -sfn to "
		    "move it", name);
	rc = lin_channel_assign(R, &o->actor, pid, name, target, &c, E);
	*id = c.id;
	return rc;
}

static int
ck_blabel(struct op *o, int64_t pid, const char *name)
{
	return lin_label_check_new(R, LIN_OWNER_BUCKET, pid, name, E);
}

static int
ck_bdlabel(struct op *o, int64_t pid, const char *name)
{
	return lin_label_check_new(R, LIN_OWNER_BUILD, pid, name, E);
}

static int
ck_artifact(struct op *o, int64_t pid, const char *name)
{
	return lin_artifact_check_new(R, pid, name, E);
}

static int
sn_blabel(struct op *o, int64_t pid, const char *name, const char *buf,
    size_t len, int64_t *id)
{
	return lin_label_set(R, &o->actor, LIN_OWNER_BUCKET, pid, name,
	    buf ? buf : "", len, id, E);
}

static int
sn_bdlabel(struct op *o, int64_t pid, const char *name, const char *buf,
    size_t len, int64_t *id)
{
	return lin_label_set(R, &o->actor, LIN_OWNER_BUILD, pid, name,
	    buf ? buf : "", len, id, E);
}

static int
sn_artifact(struct op *o, int64_t pid, const char *name, const char *buf,
    size_t len, int64_t *id)
{
	struct lin_artifact a;
	int rc = lin_artifact_set(R, &o->actor, pid, name, buf ? buf : "", len,
	    &a, E);

	*id = a.id;
	return rc;
}

static int
rm_bucket(struct op *o, int64_t id)
{
	return lin_bucket_delete(R, &o->actor, id, E);
}

static int
rm_label(struct op *o, int64_t id, enum lin_owner ow)
{
	struct lin_label l;
	int rc;

	if ((rc = lin_label_by_id(R, ow, id, &l, NULL, E)))
		return rc;
	return lin_label_delete(R, &o->actor, ow, l.owner_id, l.key, E);
}

static int
rm_blabel(struct op *o, int64_t id)
{
	return rm_label(o, id, LIN_OWNER_BUCKET);
}

static int
rm_bdlabel(struct op *o, int64_t id)
{
	return rm_label(o, id, LIN_OWNER_BUILD);
}

static int
rm_iter(struct op *o, int64_t id)
{
	return lin_iteration_delete(R, &o->actor, id, E);
}

static int
rm_build(struct op *o, int64_t id)
{
	return lin_build_delete(R, &o->actor, id, E);
}

static int
rm_artifact(struct op *o, int64_t id)
{
	struct lin_artifact a;
	int rc;

	if ((rc = lin_artifact_get(R, id, &a, E)))
		return rc;
	return lin_artifact_delete(R, &o->actor, a.build_id, a.region, E);
}

static int
rm_channel(struct op *o, int64_t id)
{
	struct lin_channel c;
	int rc;

	if ((rc = lin_channel_by_id(R, id, &c, E)))
		return rc;
	return lin_channel_delete(R, &o->actor, c.bucket_id, c.name, E);
}

static int
rm_latest(struct op *o, int64_t id)
{
	return lin_errf(E, EPERM, "latest is managed: it always points at "
	    "the newest valid version");
}

static int
rm_plink(struct op *o, int64_t id)
{
	struct lin_link l;
	int rc;

	if ((rc = lin_link_get(R, id, &l, E)))
		return rc;
	return lin_parent_remove(R, &o->actor, l.child_id, id, E);
}

static int
mv_channel(struct op *o, int64_t pid, const char *from, const char *to)
{
	return lin_channel_rename(R, &o->actor, pid, from, to, E);
}

/* ---- the table ---- */

#define DIR(n, p, st) \
	{ .name = n, .parent = p, .type = S_IFDIR, .perm = P_DIR, .stat = st }
#define RO(n, p, st, rd) \
	{ .name = n, .parent = p, .type = S_IFREG, .perm = P_RO, .stat = st, \
	  .read = rd }

const struct node fs_nodes[NK_COUNT] = {
	[NK_ROOT] = { .name = "", .parent = NK_ROOT, .type = S_IFDIR,
	    .perm = P_TOPDIR, .stat = st_top },
	[NK_BUCKETS] = { .name = "buckets", .parent = NK_ROOT,
	    .type = S_IFDIR, .perm = P_DIR, .stat = st_buckets },
	[NK_BYID] = { .name = "by-id", .parent = NK_ROOT, .type = S_IFDIR,
	    .perm = P_TOPDIR, .stat = st_top },
	[NK_ARTS] = { .name = "artifacts", .parent = NK_ROOT,
	    .type = S_IFDIR, .perm = P_TOPDIR, .stat = st_top },
	[NK_EVENTS] = { .name = "events", .parent = NK_ROOT, .type = S_IFREG,
	    .perm = P_TOPRO, .flags = NF_LOG, .stat = st_events,
	    .size = sz_events, .pread = pr_events },
	[NK_ERRORS] = { .name = "errors", .parent = NK_ROOT, .type = S_IFREG,
	    .perm = P_TOPRO, .stat = st_errors, .read = rd_errors },
	[NK_GRAPH] = { .name = "graph.dot", .parent = NK_ROOT,
	    .type = S_IFREG, .perm = P_TOPRO, .flags = NF_COSTLY,
	    .stat = st_top, .read = rd_graph },

	[NK_BUCKET] = { .parent = NK_BUCKETS, .type = S_IFDIR, .perm = P_DIR,
	    .stat = st_bucket, .lookup = lk_bucket, .list = ls_bucket,
	    .up = up_bucket, .make = mk_bucket, .remove = rm_bucket },
	[NK_B_DESC] = { .name = "description", .parent = NK_BUCKET,
	    .type = S_IFREG, .perm = P_RW, .flags = NF_CLEAR,
	    .stat = st_bucket, .read = rd_bdesc, .write = wr_bdesc },
	[NK_B_LABELS] = DIR("labels", NK_BUCKET, st_bucket),
	[NK_B_LABEL] = { .parent = NK_B_LABELS, .type = S_IFREG,
	    .perm = P_RW, .flags = NF_CLEAR, .stat = st_blabel,
	    .lookup = lk_blabel, .list = ls_blabel, .up = up_blabel,
	    .read = rd_blabel, .write = wr_blabel, .make = mk_blabel,
	    .remove = rm_blabel, .check_new = ck_blabel, .set_new = sn_blabel },
	[NK_B_CREATED] = RO("created", NK_BUCKET, st_bucket_created,
	    rd_bcreated),
	[NK_B_IMPORT] = { .name = "import", .parent = NK_BUCKET,
	    .type = S_IFREG, .perm = P_WO, .flags = NF_STREAM | NF_CONTROL,
	    .stat = st_bucket, .read = rd_empty, .write = wr_import },
	[NK_B_ITERS] = DIR("iterations", NK_BUCKET, st_bucket),
	[NK_B_VERSIONS] = DIR("versions", NK_BUCKET, st_bucket),
	[NK_B_CHANNELS] = DIR("channels", NK_BUCKET, st_bucket),

	[NK_ITER] = { .parent = NK_B_ITERS, .type = S_IFDIR, .perm = P_DIR,
	    .stat = st_iter_dir, .lookup = lk_iter, .list = ls_iter,
	    .up = up_iter, .make = mk_iter, .remove = rm_iter },
	[NK_I_ID] = RO("id", NK_ITER, st_iter_created, rd_iid),
	[NK_I_VERSION] = RO("version", NK_ITER, st_iter, rd_iversion),
	[NK_I_CREATED] = RO("created", NK_ITER, st_iter_created, rd_icreated),
	[NK_I_COMPLETE] = { .name = "complete", .parent = NK_ITER,
	    .type = S_IFREG, .perm = P_RW, .flags = NF_CONTROL,
	    .stat = st_iter, .read = rd_icomplete, .write = wr_complete },
	[NK_I_STATUS] = RO("status", NK_ITER, st_iter, rd_istatus),
	[NK_I_ANCESTRY] = RO("ancestry", NK_ITER, st_iter, rd_iancestry),
	[NK_I_PARENT] = { .name = "parent", .parent = NK_ITER,
	    .type = S_IFREG, .perm = P_RW, .flags = NF_CONTROL,
	    .stat = st_iter, .read = rd_iparent, .write = wr_parent },
	[NK_I_PARENTS] = { .name = "parents", .parent = NK_ITER,
	    .type = S_IFDIR, .perm = P_DIR, .stat = st_iter },
	[NK_I_CHILDREN] = { .name = "children", .parent = NK_ITER,
	    .type = S_IFDIR, .perm = P_DIR, .stat = st_iter },
	[NK_I_ANCESTORS] = RO("ancestors", NK_ITER, st_iter, rd_iancestors),
	[NK_I_DESCENDANTS] = RO("descendants", NK_ITER, st_iter,
	    rd_idescendants),
	[NK_I_TREE] = RO("tree", NK_ITER, st_iter, rd_itree),
	[NK_I_CHANNELS] = RO("channels", NK_ITER, st_iter, rd_ichannels),
	[NK_I_REVOKE] = { .name = "revoke", .parent = NK_ITER,
	    .type = S_IFREG, .perm = P_RW, .flags = NF_CONTROL,
	    .stat = st_iter, .read = rd_irevoke, .write = wr_revoke },
	[NK_I_RESTORE] = { .name = "restore", .parent = NK_ITER,
	    .type = S_IFREG, .perm = P_WO, .flags = NF_CONTROL,
	    .stat = st_iter, .read = rd_empty, .write = wr_restore },
	[NK_I_BUILDS] = DIR("builds", NK_ITER, st_iter),
	[NK_PARENT_LINK] = { .parent = NK_I_PARENTS, .type = S_IFLNK,
	    .perm = P_LNK, .stat = st_plink, .lookup = lk_plink,
	    .list = ls_plink, .up = up_plink, .readlink = rl_plink,
	    .remove = rm_plink },
	[NK_CHILD_LINK] = { .parent = NK_I_CHILDREN, .type = S_IFLNK,
	    .perm = P_LNK, .stat = st_clink, .lookup = lk_clink,
	    .list = ls_clink, .up = up_clink, .readlink = rl_clink },

	[NK_BUILD] = { .parent = NK_I_BUILDS, .type = S_IFDIR, .perm = P_DIR,
	    .stat = st_build, .lookup = lk_build, .list = ls_build,
	    .up = up_build, .make = mk_build, .remove = rm_build },
	[NK_BD_PLATFORM] = { .name = "platform", .parent = NK_BUILD,
	    .type = S_IFREG, .perm = P_RW, .flags = NF_CLEAR,
	    .stat = st_build, .read = rd_platform, .write = wr_platform },
	[NK_BD_SOURCE] = { .name = "source", .parent = NK_BUILD,
	    .type = S_IFREG, .perm = P_RW, .flags = NF_CLEAR,
	    .stat = st_build, .read = rd_source, .write = wr_source },
	[NK_BD_LABELS] = DIR("labels", NK_BUILD, st_build),
	[NK_BD_LABEL] = { .parent = NK_BD_LABELS, .type = S_IFREG,
	    .perm = P_RW, .flags = NF_CLEAR, .stat = st_bdlabel,
	    .lookup = lk_bdlabel, .list = ls_bdlabel, .up = up_bdlabel,
	    .read = rd_bdlabel, .write = wr_bdlabel, .make = mk_bdlabel,
	    .remove = rm_bdlabel, .check_new = ck_bdlabel,
	    .set_new = sn_bdlabel },
	[NK_BD_ARTS] = DIR("artifacts", NK_BUILD, st_build),
	[NK_ARTIFACT] = { .parent = NK_BD_ARTS, .type = S_IFREG,
	    .perm = P_RW, .flags = NF_CLEAR | NF_ARTIFACT,
	    .stat = st_artifact, .lookup = lk_artifact, .list = ls_artifact,
	    .up = up_artifact, .read = rd_artifact, .write = wr_artifact,
	    .make = mk_artifact, .remove = rm_artifact,
	    .check_new = ck_artifact, .set_new = sn_artifact },

	[NK_VERSION_LINK] = { .parent = NK_B_VERSIONS, .type = S_IFLNK,
	    .perm = P_LNK, .stat = st_version_link, .lookup = lk_version,
	    .list = ls_version, .up = up_version, .readlink = rl_version },
	[NK_LATEST_LINK] = { .name = "latest", .parent = NK_B_CHANNELS,
	    .type = S_IFLNK, .perm = P_LNK, .stat = st_latest,
	    .readlink = rl_latest, .remove = rm_latest },
	[NK_CHANNEL_LINK] = { .parent = NK_B_CHANNELS, .type = S_IFLNK,
	    .perm = P_LNK, .stat = st_channel, .lookup = lk_channel,
	    .list = ls_channel, .up = up_channel, .readlink = rl_channel,
	    .make = mk_channel, .remove = rm_channel, .rename = mv_channel },
	[NK_BYID_LINK] = { .parent = NK_BYID, .type = S_IFLNK,
	    .perm = P_LNK, .stat = st_byid, .lookup = lk_byid,
	    .list = ls_byid, .up = up_byid, .readlink = rl_byid },
	[NK_ART_LINK] = { .parent = NK_ARTS, .type = S_IFLNK, .perm = P_LNK,
	    .stat = st_artlink, .lookup = lk_artlink, .list = ls_artlink,
	    .up = up_artlink, .readlink = rl_artlink },
};

int
fs_node_path(struct op *o, enum nk k, int64_t id, struct lin_buf *out)
{
	const char *parts[16];
	struct lin_buf names[16];
	int n = 0, rc = 0;

	while (k != NK_ROOT && n < 16) {
		const struct node *nd = &fs_nodes[k];
		int64_t pid = id;

		lin_buf_init(&names[n]);
		if (nd->name == NULL) {
			if ((rc = nd->up(o, id, &pid, &names[n])) != 0) {
				n++;
				break;
			}
			parts[n] = names[n].data ? names[n].data : "";
		} else {
			parts[n] = nd->name;
			if (nd->parent == NK_ROOT || nd->parent == NK_BUCKETS ||
			    nd->parent == NK_BYID || nd->parent == NK_ARTS)
				pid = 1;
		}
		n++;
		id = pid;
		k = nd->parent;
	}
	for (int i = n - 1; rc == 0 && i >= 0; i--)
		lin_buf_printf(out, "%s%s", parts[i], i ? "/" : "");
	for (int i = 0; i < n; i++)
		lin_buf_free(&names[i]);
	return rc;
}
