/*
 * ops.c — the FUSE low-level operations, all answered through the node
 * table: attributes derived from the owning bucket, listings from the
 * engine's cursors, file contents rendered when the kernel's cache does not
 * hold them, and writes handed whole to the engine so that a refusal fails
 * the write(2) that caused it.
 *
 * OPEN and FLUSH are answered ENOSYS (as OPENDIR is): the kernel then asks
 * nothing to open, read or close a file whose pages it holds, which is
 * what makes a warm walk free.  Writes come with no handle and are tied
 * together per writing process (session.c); only create(2) opens a file
 * of ours, with a handle, to make a new label or artifact by its first
 * write (pending.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/statvfs.h>

#include "fs.h"

#define NAME_MAX_BYTES 255
#define CONTINUE_MS    200	/* a value's next line comes within this */
#define DIR_OFF_PATTERN 64	/* readdir offsets past the fixed entries */

/* A file create(2) opened. */
struct handle {
	struct lin_buf data;     /* the snapshot read(2) serves */
	struct fs_wstate w;      /* what this open wrote */
	bool           loaded;   /* data holds the rendered content */
	enum nk        kind;     /* what the file is: for a pending file, */
	int64_t        id;       /* id stays 0 until its first write */
	fuse_ino_t     pending;  /* the pending inode create(2) gave, or 0 */
	int64_t        pid;      /* a pending file's directory and name */
	char          *name;
	bool           refused;  /* a write was refused */
	struct handle *prev, *next;  /* every open handle, for the exit */
};

/* The open handles: a file still open when the mount goes away gets no
 * release, so they are freed at exit (fs_handles_free_all). */
static struct {
	pthread_mutex_t lock;
	struct handle  *head;
} handles = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct handle *
handle_new(void)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	lin_buf_init(&h->data);
	lin_buf_init(&h->w.doc);
	pthread_mutex_lock(&handles.lock);
	h->next = handles.head;
	if (h->next)
		h->next->prev = h;
	handles.head = h;
	pthread_mutex_unlock(&handles.lock);
	return h;
}

static unsigned long long fs_counts[FS_R_COUNT];
static const char *const fs_count_names[FS_R_COUNT] = {
	"lookup",
	"forget",
	"getattr",
	"setattr",
	"readlink",
	"mknod",
	"mkdir",
	"unlink",
	"rmdir",
	"symlink",
	"rename",
	"open",
	"read",
	"write",
	"flush",
	"release",
	"opendir",
	"readdir",
	"readdirplus",
	"releasedir",
	"statfs",
	"create",
	"ioctl",
};

void
fs_count(enum fs_req r)
{
	__atomic_add_fetch(&fs_counts[r], 1, __ATOMIC_RELAXED);
}

/* Of the requests for content, those for what the kernel was given and
 * never told to drop: it dropped that itself (memory reclaim), which
 * no invalidation of ours caused. */
static unsigned long long fs_refetches[FS_R_COUNT];
static const enum fs_req fs_content_reqs[] = { FS_R_READ, FS_R_READLINK,
	FS_R_READDIR, FS_R_READDIRPLUS };

void
fs_count_content(struct fs *fs, enum fs_req r, fuse_ino_t ino, bool asked,
    bool gave)
{
	/* With no caching (timeout 0) the kernel asks every time. */
	if (fs->timeout <= 0 || !(asked || gave))
		return;
	if (fs_inode_given(ino, gave) && asked)
		__atomic_add_fetch(&fs_refetches[r], 1, __ATOMIC_RELAXED);
}

void
fs_stats_render(struct lin_buf *out)
{
	unsigned long long total = 0;

	lin_buf_puts(out, "requests:");
	for (int i = 0; i < FS_R_COUNT; i++) {
		unsigned long long n = __atomic_load_n(&fs_counts[i],
		    __ATOMIC_RELAXED);

		total += n;
		lin_buf_printf(out, " %s=%llu", fs_count_names[i], n);
	}
	lin_buf_printf(out, " total=%llu", total);
	for (size_t i = 0; i < sizeof(fs_content_reqs) /
	    sizeof(fs_content_reqs[0]); i++) {
		enum fs_req r = fs_content_reqs[i];

		lin_buf_printf(out, " refetch_%s=%llu", fs_count_names[r],
		    __atomic_load_n(&fs_refetches[r], __ATOMIC_RELAXED));
	}
	lin_buf_puts(out, "\n");
}

void
fs_op_init(struct op *o, struct fs *fs, fuse_req_t req, bool change)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	int n;

	memset(o, 0, sizeof(*o));
	o->fs = fs;
	o->actor.uid = c->uid;
	o->actor.gid = c->gid;
	o->actor.groups = o->groups;
	/* Supplementary groups cost a read of /proc: only a change resolves
	 * paths with the writer's permissions. */
	if (change) {
		n = fuse_req_getgroups(req, 64, o->groups);
		o->actor.ngroups = n < 0 ? 0 : (n > 64 ? 64 : n);
	}
}

static struct fs *
req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Take the mount's lock; for a request that may change the registry,
 * once no other process holds its write lock, so that while this one
 * waits for another's transaction, the mount's other requests, and its
 * ticker, do not wait behind it. */
static void
fs_lock(struct fs *fs, bool change)
{
	if (change && !fs->ro)
		lin_reg_await_writer(fs->reg);
	pthread_mutex_lock(&fs->lock);
}

/* A clear another process left waiting is made before anything of the
 * request can see the value.  A READ, READLINK or WRITE comes while the
 * kernel holds a page of its inode locked: `paged` names that inode, so
 * that dropping caches never waits for that page, and deferred_ says the
 * caches are to be dropped once the request is answered (SETTLE_LATE). */
#define BEGIN_AS(req, change, paged) \
	struct op op_, *o = &op_; \
	bool deferred_ = fs_sessions_flush(req_fs(req), \
	    fuse_req_ctx(req)->pid, paged); \
	(void)deferred_; \
	fs_op_init(o, req_fs(req), req, change); \
	fs_lock(o->fs, change)
#define BEGIN_PAGED(req, ino) \
	fuse_ino_t paged_ = (fs_inval_busy(ino, false), ino); \
	BEGIN_AS(req, false, ino)
#define SETTLE_LATE() do { \
	if (deferred_) \
		fs_inval_process(o->fs); \
	fs_inval_unbusy(o->fs, paged_, false); \
} while (0)
#define BEGIN(req) BEGIN_AS(req, false, 0)
/* A request that may change the registry. */
#define BEGIN_CHANGE(req) BEGIN_AS(req, true, 0)
#define END() pthread_mutex_unlock(&o->fs->lock)

/* Reply with an error; refusals of changes (and of reads that are not a
 * plain "no such name") get a line in `errors`. */
static void
refuse(fuse_req_t req, struct op *o, const char *opname, enum nk k,
    int64_t id, const char *name, int rc)
{
	int code = rc < 0 ? -rc : EIO;

	if (code != ENOENT || strcmp(opname, "lookup") != 0) {
		struct lin_buf path;

		lin_buf_init(&path);
		if (fs_node_path(o, k, id, &path) != 0)
			lin_buf_reset(&path);
		if (name)
			lin_buf_printf(&path, "%s%s", path.len ? "/" : "", name);
		if (o->err.code != code)
			lin_errf(&o->err, code, "%s", strerror(code));
		fs_errors_add(o, opname, path.data ? path.data : "", code);
		lin_buf_free(&path);
		END();
		/* errors grew: drop its cached size and pages (not under the
		 * engine lock, which a reader of errors may be waiting for). */
		fs_inval_inode(o->fs, ino_make(NK_ERRORS, 1));
	} else {
		END();
	}
	fuse_reply_err(req, code);
}

static mode_t
node_mode(const struct node *nd, const struct nstat *ns)
{
	mode_t b = ns->bmode;

	switch (nd->perm) {
	case P_DIR:
		return S_IFDIR | b;
	case P_TOPDIR:
		return S_IFDIR | 0555;
	case P_TOPRO:
		return S_IFREG | 0444;
	case P_RW:
		return S_IFREG | (b & 0444) | (b & 0200);
	case P_RO:
		return S_IFREG | (b & 0444);
	case P_WO:
		return S_IFREG | (b & 0200);
	case P_LNK:
		return S_IFLNK | 0777;
	}
	return 0;
}

/* Attributes of a pending file: empty, owned like its directory. */
static void
pending_attr(struct op *o, fuse_ino_t ino, const struct nstat *ns,
    struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = node_mode(&fs_nodes[ino_kind(ino)], ns);
	st->st_nlink = 1;
	st->st_uid = ns->uid;
	st->st_gid = ns->gid;
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec =
	    lin_now();
	st->st_blksize = 4096;
}

/* Render a file's whole content (or a symlink's target). */
static int
node_content(struct op *o, enum nk k, int64_t id, struct lin_buf *out)
{
	const struct node *nd = &fs_nodes[k];

	if (nd->readlink)
		return nd->readlink(o, id, out);
	if (nd->read)
		return nd->read(o, id, out);
	return 0;
}

static int
node_attr(struct op *o, enum nk k, int64_t id, struct stat *st)
{
	const struct node *nd = &fs_nodes[k];
	struct nstat ns = { 0 };
	int rc;

	ns.uid = o->fs->uid;
	ns.gid = o->fs->gid;
	ns.bmode = 0755;
	if ((rc = nd->stat(o, id, &ns)))
		return rc;
	memset(st, 0, sizeof(*st));
	st->st_ino = ino_make(k, id);
	st->st_mode = node_mode(nd, &ns);
	st->st_nlink = nd->type == S_IFDIR ? 2 : 1;
	st->st_uid = ns.uid;
	st->st_gid = ns.gid;
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = ns.mtime;
	st->st_blksize = 4096;
	if (nd->type == S_IFDIR) {
		st->st_size = 4096;
	} else if (nd->size) {
		int64_t sz;

		if ((rc = nd->size(o, id, &sz)))
			return rc;
		st->st_size = sz;
	} else {
		struct lin_buf b;

		lin_buf_init(&b);
		/* A file deny_revoked refuses still has its true size. */
		rc = node_content(o, k, id, &b);
		st->st_size = (off_t)b.len;
		/* The read that follows a listing takes these bytes. */
		if (rc == 0 && nd->read)
			fs_rcache_put(st->st_ino, &b);
		lin_buf_free(&b);
		if (rc && rc != -EKEYREVOKED)
			return rc;
	}
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

/* Find the child `name` of directory (k, id). */
static int
node_lookup(struct op *o, enum nk k, int64_t id, const char *name,
    enum nk *ck, int64_t *cid)
{
	enum nk pattern = NK_COUNT;
	struct nstat ns = { 0 };
	int rc;

	if (strlen(name) > NAME_MAX_BYTES)
		return lin_errf(&o->err, ENAMETOOLONG, "name too long");
	for (int i = 1; i < NK_COUNT; i++) {
		const struct node *nd = &fs_nodes[i];

		if (nd->parent != k || i == NK_ROOT)
			continue;
		if (nd->name == NULL) {
			pattern = (enum nk)i;
			continue;
		}
		if (strcmp(nd->name, name) != 0)
			continue;
		/* Fixed children of the tree's top share id 1. */
		*ck = (enum nk)i;
		*cid = (k == NK_ROOT || k == NK_BUCKETS) ? 1 : id;
		if ((rc = nd->stat(o, *cid, &ns)))
			return rc;
		return 0;
	}
	if (pattern == NK_COUNT)
		return lin_errf(&o->err, ENOENT, "no such file");
	*ck = pattern;
	return fs_nodes[pattern].lookup(o, id, name, cid);
}

static void settle(struct op *o);

static void
entry_reply(fuse_req_t req, struct op *o, enum nk k, int64_t id,
    bool changed)
{
	struct fuse_entry_param ep;
	int rc;

	memset(&ep, 0, sizeof(ep));
	if ((rc = node_attr(o, k, id, &ep.attr))) {
		refuse(req, o, "lookup", k, id, NULL, rc);
		return;
	}
	ep.ino = ep.attr.st_ino;
	ep.generation = 1;
	ep.attr_timeout = o->fs->timeout;
	ep.entry_timeout = o->fs->timeout;
	END();
	if (changed)
		settle(o);
	/* Counted before the reply, so a forget cannot overtake it. */
	fs_inode_ref(ep.ino);
	if (fuse_reply_entry(req, &ep) != 0)
		fs_inode_forget(ep.ino, 1);
}

/* An inode whose object went away: ESTALE makes the kernel look its name
 * up again (the name may now stand for a new object). */
static int
gone(int rc)
{
	return rc == -ENOENT ? -ESTALE : rc;
}

/* After a change: drop what it affected from the kernel's caches before
 * replying, so the caller reads the new values at once. */
static void
settle(struct op *o)
{
	fs_inval_process(o->fs);
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_count(FS_R_LOOKUP);
	enum nk ck;
	int64_t cid;
	int rc;
	BEGIN(req);

	rc = node_lookup(o, ino_kind(parent), ino_id(parent), name, &ck, &cid);
	if (rc) {
		END();
		fuse_reply_err(req, -rc);
		return;
	}
	entry_reply(req, o, ck, cid, false);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_count(FS_R_GETATTR);
	struct stat st;
	int rc;

	/* A write in flight: its pages go once it is answered; an open asks
	 * for attributes first, so waiting here keeps readers off them. */
	fs_inval_wait(ino);
	BEGIN(req);

	if (ino_kind(ino) >= NK_COUNT) {
		END();
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (ino_pending(ino)) {
		struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh :
		    NULL;
		struct nstat ns;

		if (h && h->id) {
			rc = node_attr(o, h->kind, h->id, &st);
			st.st_ino = ino;
		} else if (fs_pending_get(ino, NULL, NULL, &ns)) {
			pending_attr(o, ino, &ns, &st);
			rc = 0;
		} else {
			rc = -ENOENT;	/* made or dropped: ESTALE below */
		}
		END();
		if (rc)
			fuse_reply_err(req, -gone(rc));
		else
			fuse_reply_attr(req, &st, 0);
		return;
	}
	rc = node_attr(o, ino_kind(ino), ino_id(ino), &st);
	if (rc == 0 && fs_session_clearing(ino, fuse_req_ctx(req)->pid)) {
		/* Its own truncation, as its process sees it. */
		st.st_size = st.st_blocks = 0;
		END();
		fuse_reply_attr(req, &st, 0);
		return;
	}
	END();
	if (rc)
		fuse_reply_err(req, -gone(rc));
	else
		fuse_reply_attr(req, &st, o->fs->timeout);
}

/* Truncating a value file to 0 clears it; a control file ignores it.
 * Without a handle (open(2) with O_TRUNC: the kernel sends no OPEN), the
 * clear waits for the same process's first write (session.c): *clearing
 * says so. */
static int
node_truncate(struct op *o, fuse_ino_t ino, enum nk k, int64_t id,
    off_t size, pid_t pid, bool *clearing)
{
	const struct node *nd = &fs_nodes[k];

	if (nd->type != S_IFREG)
		return lin_errf(&o->err, EISDIR, "not a file");
	if (o->fs->ro)
		return lin_errf(&o->err, EROFS, "the mount is read-only");
	if (nd->write == NULL)
		return lin_errf(&o->err, EACCES, "read-only file");
	if ((nd->flags & NF_STREAM) && pid) {
		/* A new open for writing: a new document. */
		struct fs_session *s = fs_session_find(ino, pid);

		if (s)
			fs_wstate_reset(&s->w);
	}
	if (!(nd->flags & NF_CLEAR) || size != 0)
		return 0;
	if (pid) {
		struct fs_session *s = fs_session_open(o, ino, pid);

		fs_wstate_reset(&s->w);
		fs_session_set_clear(s, true);
		*clearing = true;
		return 0;
	}
	return nd->write(o, id, "", 0);
}

static int
node_chmod_chown(struct op *o, enum nk k, int64_t id, struct stat *attr,
    int to_set)
{
	struct lin_err *e = &o->err;

	if (k == NK_BUCKETS && (to_set & FUSE_SET_ATTR_MODE) &&
	    !(to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		return lin_root_chmod(o->fs->reg, attr->st_mode & 07777, e);
	if (k != NK_BUCKET)
		return lin_errf(e, EPERM, "owner and mode are kept per bucket: "
		    "chown or chmod the bucket's directory");
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		int rc = lin_bucket_chown(o->fs->reg, &o->actor, id,
		    (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
		    (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1, e);

		if (rc)
			return rc;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		return lin_bucket_chmod(o->fs->reg, &o->actor, id,
		    attr->st_mode & 07777, e);
	return 0;
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	fs_count(FS_R_SETATTR);
	if (to_set & FUSE_SET_ATTR_SIZE)
		fs_inode_dropped(ino);
	enum nk k = ino_kind(ino);
	int64_t id = ino_id(ino);
	struct stat st;
	bool clearing = false;
	int rc = 0;
	BEGIN_CHANGE(req);

	if (ino_pending(ino)) {
		struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh :
		    NULL;
		struct nstat ns;

		/* Not made yet (touch's times, ftruncate to 0): nothing to
		 * change; made since: it is the real file's now. */
		if (h && h->id) {
			k = h->kind;
			id = h->id;
		} else if (fs_pending_get(ino, NULL, NULL, &ns)) {
			pending_attr(o, ino, &ns, &st);
			END();
			fuse_reply_attr(req, &st, 0);
			return;
		} else {
			END();
			fuse_reply_err(req, ESTALE);
			return;
		}
	}
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
	    FUSE_SET_ATTR_GID))
		rc = node_chmod_chown(o, k, id, attr, to_set);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		rc = node_truncate(o, ino, k, id, attr->st_size,
		    fi && fi->fh ? 0 : fuse_req_ctx(req)->pid, &clearing);
	/* Times follow the data: touch(1) is accepted and changes nothing. */
	if (rc == 0)
		rc = node_attr(o, k, id, &st);
	if (rc) {
		refuse(req, o, "setattr", k, id, NULL, gone(rc));
		return;
	}
	END();
	if (clearing) {
		/* Empty, as the truncating process sees it (and only it: the
		 * attributes are not to be kept).  What the clear will change
		 * is dropped now, so that nobody reads it from the kernel's
		 * cache without a request, which makes the clear first. */
		fs_inval_ahead(o->fs, k);
		st.st_size = st.st_blocks = 0;
		fuse_reply_attr(req, &st, 0);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
	    FUSE_SET_ATTR_GID | FUSE_SET_ATTR_SIZE))
		settle(o);
	fuse_reply_attr(req, &st, o->fs->timeout);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	fs_count(FS_R_READLINK);
	struct lin_buf b;
	int rc;
	BEGIN_PAGED(req, ino);

	lin_buf_init(&b);
	if (fs_nodes[ino_kind(ino)].readlink == NULL)
		rc = -EINVAL;
	else
		rc = fs_nodes[ino_kind(ino)].readlink(o, ino_id(ino), &b);
	END();
	if (rc) {
		fuse_reply_err(req, -gone(rc));
	} else {
		fuse_reply_readlink(req, b.data ? b.data : "");
		fs_count_content(o->fs, FS_R_READLINK, ino, true, true);
	}
	lin_buf_free(&b);
	SETTLE_LATE();
}

/* The pattern child kind of directory kind k with type t. */
static enum nk
pattern_child(enum nk k, mode_t t)
{
	for (int i = 1; i < NK_COUNT; i++)
		if (fs_nodes[i].parent == k && fs_nodes[i].name == NULL &&
		    fs_nodes[i].type == t)
			return (enum nk)i;
	return NK_COUNT;
}

/* mkdir, create and symlink: make a pattern child. */
static int
node_make(struct op *o, fuse_ino_t parent, const char *name, mode_t t,
    mode_t mode, const char *target, enum nk *ck, int64_t *cid)
{
	enum nk k = ino_kind(parent);

	if (strlen(name) > NAME_MAX_BYTES)
		return lin_errf(&o->err, ENAMETOOLONG, "name too long");
	if (o->fs->ro)
		return lin_errf(&o->err, EROFS, "the mount is read-only");
	for (int i = 1; i < NK_COUNT; i++)
		if (fs_nodes[i].parent == k && fs_nodes[i].name &&
		    strcmp(fs_nodes[i].name, name) == 0)
			return lin_errf(&o->err, k == NK_B_CHANNELS ? EPERM :
			    EEXIST, k == NK_B_CHANNELS ? "latest is managed: "
			    "it always points at the newest valid version" :
			    "%s is a fixed file", name);
	*ck = pattern_child(k, t);
	if (*ck == NK_COUNT || fs_nodes[*ck].make == NULL)
		return lin_errf(&o->err, EPERM, "nothing of that kind can be "
		    "created here");
	return fs_nodes[*ck].make(o, ino_id(parent), name, mode, target, cid);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	fs_count(FS_R_MKDIR);
	/* The kernel drops the listing it held of a directory it changes. */
	fs_inode_dropped(parent);
	enum nk ck;
	int64_t cid;
	int rc;
	BEGIN_CHANGE(req);

	rc = node_make(o, parent, name, S_IFDIR, mode, NULL, &ck, &cid);
	if (rc) {
		refuse(req, o, "mkdir", ino_kind(parent), ino_id(parent), name,
		    rc);
		return;
	}
	entry_reply(req, o, ck, cid, true);
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	fs_count(FS_R_SYMLINK);
	fs_inode_dropped(parent);
	enum nk ck;
	int64_t cid;
	int rc;
	BEGIN_CHANGE(req);

	rc = node_make(o, parent, name, S_IFLNK, 0777, target, &ck, &cid);
	if (rc) {
		refuse(req, o, "symlink", ino_kind(parent), ino_id(parent),
		    name, rc);
		return;
	}
	entry_reply(req, o, ck, cid, true);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	fs_count(FS_R_MKNOD);
	fs_inode_dropped(parent);
	enum nk ck;
	int64_t cid;
	int rc;
	BEGIN_CHANGE(req);

	if (!S_ISREG(mode))
		rc = lin_errf(&o->err, EPERM, "only regular files here");
	else
		rc = node_make(o, parent, name, S_IFREG, mode, NULL, &ck, &cid);
	if (rc) {
		refuse(req, o, "mknod", ino_kind(parent), ino_id(parent), name,
		    rc);
		return;
	}
	entry_reply(req, o, ck, cid, true);
}

static void
node_remove(fuse_req_t req, fuse_ino_t parent, const char *name,
    const char *opname)
{
	enum nk ck;
	int64_t cid;
	int rc;
	BEGIN_CHANGE(req);

	rc = node_lookup(o, ino_kind(parent), ino_id(parent), name, &ck, &cid);
	if (rc == 0 && o->fs->ro)
		rc = lin_errf(&o->err, EROFS, "the mount is read-only");
	if (rc == 0 && fs_nodes[ck].remove == NULL)
		rc = lin_errf(&o->err, EPERM, "%s cannot be removed", name);
	if (rc == 0)
		rc = fs_nodes[ck].remove(o, cid);
	if (rc) {
		refuse(req, o, opname, ino_kind(parent), ino_id(parent), name,
		    rc);
		return;
	}
	END();
	settle(o);
	fuse_reply_err(req, 0);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_count(FS_R_UNLINK);
	fs_inode_dropped(parent);
	node_remove(req, parent, name, "unlink");
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_count(FS_R_RMDIR);
	fs_inode_dropped(parent);
	node_remove(req, parent, name, "rmdir");
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	fs_count(FS_R_RENAME);
	fs_inode_dropped(parent);
	fs_inode_dropped(newparent);
	enum nk k = ino_kind(parent), ck;
	int64_t cid;
	int rc = 0;
	BEGIN_CHANGE(req);

	if (o->fs->ro)
		rc = lin_errf(&o->err, EROFS, "the mount is read-only");
	else if (flags & RENAME_EXCHANGE)
		rc = lin_errf(&o->err, EINVAL, "exchanging is not supported");
	else if (parent != newparent)
		rc = lin_errf(&o->err, EXDEV, "only channels can be renamed, "
		    "within their bucket");
	else if (strlen(newname) > NAME_MAX_BYTES)
		rc = lin_errf(&o->err, ENAMETOOLONG, "name too long");
	else if ((flags & RENAME_NOREPLACE) &&
	    node_lookup(o, k, ino_id(parent), newname, &ck, &cid) == 0)
		rc = lin_errf(&o->err, EEXIST, "%s exists", newname);
	else if ((rc = node_lookup(o, k, ino_id(parent), name, &ck, &cid)) ==
	    0 && fs_nodes[ck].rename == NULL)
		rc = lin_errf(&o->err, ck == NK_LATEST_LINK ? EPERM : EPERM,
		    ck == NK_LATEST_LINK ? "latest is managed: it always "
		    "points at the newest valid version" : "only channels "
		    "can be renamed");
	if (rc == 0)
		rc = fs_nodes[ck].rename(o, ino_id(parent), name, newname);
	if (rc) {
		refuse(req, o, "rename", k, ino_id(parent), name, rc);
		return;
	}
	END();
	settle(o);
	fuse_reply_err(req, 0);
}

static void
handle_free(struct handle *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&handles.lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		handles.head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&handles.lock);
	lin_buf_free(&h->data);
	lin_buf_free(&h->w.doc);
	free(h->name);
	free(h);
}

void
fs_handles_free_all(void)
{
	while (handles.head)
		handle_free(handles.head);
}

/* The handle create(2) gives a file it made: written directly, so that the
 * engine's answer is the file's content and a refusal fails write(2). */
static int
handle_open(struct op *o, enum nk k, int64_t id, struct fuse_file_info *fi,
    struct handle **hp)
{
	struct handle *h;

	if ((h = handle_new()) == NULL)
		return lin_errf(&o->err, ENOMEM, "out of memory");
	h->kind = k;
	h->id = id;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	*hp = h;
	return 0;
}

/* No open state: ENOSYS tells the kernel never to ask again, and to keep
 * the pages of every file until we drop them.  What an open would check
 * is checked by the request that acts (setattr for O_TRUNC, write, read). */
static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_count(FS_R_OPEN);
	fuse_reply_err(req, ENOSYS);
}

/* create(2) of a label or an artifact: checked now, made by the first
 * write (or, never written, by the last close), so a refused write leaves
 * nothing behind (pending.c). */
static void
pending_create(fuse_req_t req, struct op *o, fuse_ino_t parent,
    const char *name, enum nk ck, struct fuse_file_info *fi)
{
	const struct node *nd = &fs_nodes[ck];
	struct fuse_entry_param ep;
	struct nstat ns = { 0 };
	struct handle *h;
	int64_t pid = ino_id(parent);
	int rc;

	ns.uid = o->fs->uid;
	ns.gid = o->fs->gid;
	ns.bmode = 0755;
	if ((rc = nd->check_new(o, pid, name)) == 0)
		rc = fs_nodes[nd->parent].stat(o, pid, &ns);
	if (rc == 0 && (h = handle_new()) == NULL)
		rc = lin_errf(&o->err, ENOMEM, "out of memory");
	if (rc) {
		refuse(req, o, "create", ino_kind(parent), pid, name, rc);
		return;
	}
	h->kind = ck;
	h->pid = pid;
	if ((h->name = strdup(name)) == NULL)
		abort();
	h->pending = fs_pending_add(ck, pid, name, &ns);
	h->loaded = true;		/* empty until written */
	memset(&ep, 0, sizeof(ep));
	pending_attr(o, h->pending, &ns, &ep.attr);
	ep.ino = h->pending;
	ep.generation = 1;
	/* Short-lived: once made, the name leads to the real inode. */
	ep.attr_timeout = ep.entry_timeout = 0;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	END();
	fs_inode_ref(ep.ino);
	if (fuse_reply_create(req, &ep, fi) != 0) {
		fs_inode_forget(ep.ino, 1);
		fs_pending_drop(h->pending);
		handle_free(h);
	}
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	fs_count(FS_R_CREATE);
	fs_inode_dropped(parent);
	struct fuse_entry_param ep;
	struct handle *h;
	enum nk ck;
	int64_t cid;
	int rc;
	BEGIN_CHANGE(req);

	ck = pattern_child(ino_kind(parent), S_IFREG);
	if (ck != NK_COUNT && fs_nodes[ck].set_new && !o->fs->ro &&
	    strlen(name) <= NAME_MAX_BYTES) {
		pending_create(req, o, parent, name, ck, fi);
		return;
	}
	rc = node_make(o, parent, name, S_IFREG, mode, NULL, &ck, &cid);
	if (rc == 0)
		rc = node_attr(o, ck, cid, &ep.attr);
	if (rc == 0)
		rc = handle_open(o, ck, cid, fi, &h);
	if (rc) {
		refuse(req, o, "create", ino_kind(parent), ino_id(parent), name,
		    rc);
		return;
	}
	memset(&ep, 0, sizeof(ep));
	node_attr(o, ck, cid, &ep.attr);
	ep.ino = ep.attr.st_ino;
	ep.generation = 1;
	ep.attr_timeout = ep.entry_timeout = o->fs->timeout;
	END();
	settle(o);
	fs_inode_ref(ep.ino);
	if (fuse_reply_create(req, &ep, fi) != 0)
		fs_inode_forget(ep.ino, 1);
}

/* Slice [off, off + size) of b into a copy the reply can send once the
 * engine lock is released. */
static int
slice(const struct lin_buf *b, off_t off, size_t *size, char **copy)
{
	*copy = NULL;
	if (off < 0 || (size_t)off >= b->len) {
		*size = 0;
		return 0;
	}
	if (*size > b->len - (size_t)off)
		*size = b->len - (size_t)off;
	if ((*copy = malloc(*size)) == NULL)
		return -ENOMEM;
	memcpy(*copy, b->data + off, *size);
	return 0;
}

/* A read the kernel's cache did not answer: render the content (or take
 * the render a listing just made) and send the part asked for. */
static int
node_read(struct op *o, fuse_ino_t ino, pid_t pid, off_t off, size_t *size,
    char **copy)
{
	const struct node *nd = &fs_nodes[ino_kind(ino)];
	struct lin_buf b;
	int rc = 0;

	*copy = NULL;
	if (nd->type != S_IFREG)
		return lin_errf(&o->err, EISDIR, "not a file");
	if (fs_session_clearing(ino, pid)) {	/* truncated by this reader */
		*size = 0;
		return 0;
	}
	lin_buf_init(&b);
	if (!fs_rcache_get(ino, &b) && nd->read) {
		rc = nd->read(o, ino_id(ino), &b);
		if (rc == 0)
			fs_rcache_put(ino, &b);
	}
	if (rc == 0)
		rc = slice(&b, off, size, copy);
	lin_buf_free(&b);
	return rc;
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	fs_count(FS_R_READ);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	const struct node *nd = &fs_nodes[ino_kind(ino)];
	char *copy = NULL;
	int rc;
	BEGIN_PAGED(req, ino);

	if (nd->pread && h == NULL) {
		struct lin_buf b;

		lin_buf_init(&b);
		rc = nd->pread(o, ino_id(ino), off, size, &b);
		END();
		if (rc) {
			fuse_reply_err(req, -rc);
		} else {
			fuse_reply_buf(req, b.data, b.len);
			fs_count_content(o->fs, FS_R_READ, ino, off == 0,
			    off == 0);
		}
		lin_buf_free(&b);
		SETTLE_LATE();
		return;
	}
	if (h == NULL) {
		rc = node_read(o, ino, fuse_req_ctx(req)->pid, off, &size,
		    &copy);
		if (rc) {	/* e.g. deny_revoked's EKEYREVOKED */
			refuse(req, o, "read", ino_kind(ino), ino_id(ino), NULL,
			    gone(rc));
			SETTLE_LATE();
			return;
		}
	} else {
		/* A file create(2) opened: what it holds now. */
		rc = 0;
		if (!h->loaded) {
			lin_buf_reset(&h->data);
			rc = nd->read && h->id ? nd->read(o, h->id, &h->data) :
			    0;
			h->loaded = rc == 0;
		}
		if (rc == 0)
			rc = slice(&h->data, off, &size, &copy);
	}
	END();
	if (rc) {
		fuse_reply_err(req, -gone(rc));
	} else {
		fuse_reply_buf(req, copy, size);
		if (h == NULL)
			fs_count_content(o->fs, FS_R_READ, ino, off == 0,
			    off == 0);
	}
	free(copy);
	SETTLE_LATE();
}

/* Is the document a whole JSON value yet (balanced outside strings)?  Only
 * to know when to import: the engine parses it properly.  Each write scans
 * only its own bytes, so a document in many pieces costs linear time.  One
 * that does not open with { or [ can never be a manifest: it is handed
 * over at once, for the engine to refuse. */
static bool
doc_complete(struct fs_wstate *w)
{
	for (; w->scan.at < w->doc.len; w->scan.at++) {
		char c = w->doc.data[w->scan.at];

		if (!w->scan.seen && !w->scan.str && c != '{' && c != '[' &&
		    c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return true;

		if (w->scan.str) {
			if (w->scan.esc)
				w->scan.esc = false;
			else if (c == '\\')
				w->scan.esc = true;
			else if (c == '"')
				w->scan.str = false;
			continue;
		}
		if (c == '"') {
			w->scan.str = true;
		} else if (c == '{' || c == '[') {
			w->scan.depth++;
			w->scan.seen = true;
		} else if (c == '}' || c == ']') {
			w->scan.depth--;
		}
	}
	return w->scan.seen && w->scan.depth <= 0 && !w->scan.str;
}

static int
stream_write(struct op *o, enum nk k, int64_t id, struct fs_wstate *w,
    const char *buf, size_t size, off_t off)
{
	int rc;

	/* A write at the start begins a new document. */
	if (off == 0 && (w->done || w->doc.len))
		fs_wstate_reset(w);
	/* A write where the imported document ended (e.g. the rest of a
	 * write(2) the kernel split, which the writer sends again) gets the
	 * import's answer; a write anywhere else begins anew. */
	if (w->done && (size_t)off >= w->tail && (size_t)off <= w->doc.len &&
	    w->err)
		return w->err;
	if (w->done && (size_t)off >= w->tail && (size_t)off <= w->doc.len)
		return lin_errf(&o->err, EINVAL, "the document was already "
		    "imported: write it again from the start");
	if (w->done)
		fs_wstate_reset(w);
	if ((size_t)off != w->doc.len)
		return lin_errf(&o->err, EINVAL, "a document is written "
		    "from the start, in order");
	if (w->doc.len + size > 64u << 20)
		return lin_errf(&o->err, EFBIG, "a manifest is at most 64 MiB");
	w->tail = w->doc.len;
	lin_buf_add(&w->doc, buf, size);
	if (!doc_complete(w))
		return 0;
	w->done = true;
	rc = fs_nodes[k].write(o, id, w->doc.data, w->doc.len);
	w->err = rc;
	return rc;
}

/*
 * A value is one write(2) at offset 0.  A shell's builtin echo or printf
 * may hand a multi-line value over one line per write: a write that goes
 * on exactly where this writer's last accepted write ended sets the value
 * to everything written so far, checked whole again.  A pending file (h)
 * comes into being with its first value.
 */
static int
value_write(struct op *o, enum nk k, int64_t id, struct fs_wstate *w,
    struct handle *h, const char *buf, size_t size, off_t off)
{
	bool append = off != 0;
	struct lin_buf v;
	int rc;

	if (append && !((fs_nodes[k].flags & NF_CLEAR) && w->wrote &&
	    (size_t)off == w->doc.len))
		return lin_errf(&o->err, EINVAL, "a value is written whole, in "
		    "one write at the start of the file");
	lin_buf_init(&v);
	if (append)
		lin_buf_add(&v, w->doc.data, w->doc.len);
	lin_buf_add(&v, buf, size);
	if (h && h->pending && h->id == 0) {
		rc = fs_nodes[k].set_new(o, h->pid, h->name, v.data, v.len,
		    &h->id);
		if (rc == 0)
			fs_pending_drop(h->pending);
	} else {
		rc = fs_nodes[k].write(o, id, v.data, v.len);
	}
	if (rc == 0) {
		lin_buf_free(&w->doc);
		w->doc = v;
		w->wrote = true;
	} else {
		lin_buf_free(&v);
	}
	return rc;
}

/* A write without a handle: this process's session on the file carries
 * the document or the value it extends, and the clear its O_TRUNC left
 * waiting, which the write makes needless (or, refused, forgotten). */
static int
session_write(struct op *o, fuse_ino_t ino, pid_t pid, int flags,
    const char *buf, size_t size, off_t off)
{
	enum nk k = ino_kind(ino);
	const struct node *nd = &fs_nodes[k];
	struct fs_session *s;
	int rc;

	if (k >= NK_COUNT || ino_pending(ino))
		return -ESTALE;
	if (nd->type != S_IFREG)
		return lin_errf(&o->err, EISDIR, "not a file");
	if (nd->write == NULL)
		return lin_errf(&o->err, EACCES, "read-only file");
	{
		struct nstat ns = { 0 };

		/* Gone meanwhile: ESTALE sends the kernel to look it up. */
		if ((rc = nd->stat(o, ino_id(ino), &ns)))
			return gone(rc);
	}
	/* `>>` lands where the kernel last saw the end, which may be 0 when
	 * the file is not: the value as it is now decides. */
	if ((flags & O_APPEND) && off == 0 && !fs_session_clearing(ino, pid)) {
		struct stat st;

		if ((rc = node_attr(o, k, ino_id(ino), &st)))
			return gone(rc);
		if (st.st_size > 0)
			return lin_errf(&o->err, EINVAL, "a value is written "
			    "whole, in one write at the start of the file");
	}
	s = fs_session_open(o, ino, pid);
	if (nd->flags & NF_STREAM) {
		rc = stream_write(o, k, ino_id(ino), &s->w, buf, size, off);
	} else {
		/* Only a write that follows at once (a shell's builtin echo,
		 * one line after the other) goes on with the value; never
		 * `>>`, which opens anew. */
		if (off == 0 || (flags & O_APPEND) ||
		    fs_now_ms() - s->w.at > CONTINUE_MS)
			s->w.wrote = false;
		rc = value_write(o, k, ino_id(ino), &s->w, NULL, buf, size,
		    off);
		if (rc == 0)
			s->w.at = fs_now_ms();
	}
	fs_session_set_clear(s, false);
	if (!(nd->flags & NF_STREAM) && !(nd->flags & NF_CLEAR))
		fs_session_close(s);	/* nothing to go on with */
	return rc;
}

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	fs_count(FS_R_WRITE);
	/* The kernel writes through its pages, and truncates them. */
	fs_inode_dropped(ino);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct fs *fs = req_fs(req);
	pid_t pid = fuse_req_ctx(req)->pid;
	enum nk k = h ? h->kind : ino_kind(ino);
	int64_t id = h ? h->id : ino_id(ino);
	bool waited, deferred;
	int rc;

	/* The kernel may hold the written page locked until the reply. */
	fs_inval_busy(ino, true);
	deferred = fs_sessions_flush(fs, pid, ino);
	{
		struct op op_, *o = &op_;

		fs_op_init(o, fs, req, true);
		fs_lock(fs, true);
		if (fs->ro)
			rc = lin_errf(&o->err, EROFS, "the mount is read-only");
		else if (h == NULL)
			rc = session_write(o, ino, pid, fi->flags, buf, size,
			    off);
		else if (fs_nodes[k].flags & NF_STREAM)
			rc = stream_write(o, k, id, &h->w, buf, size, off);
		else
			rc = value_write(o, k, id, &h->w, h, buf, size, off);
		if (rc) {
			if (h)
				h->refused = true;
			if (h && h->pending && h->id == 0)
				refuse(req, o, "write", fs_nodes[k].parent,
				    h->pid, h->name, rc);
			else
				refuse(req, o, "write", k, id, NULL, rc);
			if (deferred)
				fs_inval_process(fs);
			fs_inval_unbusy(fs, ino, true);
			return;
		}
		END();
	}
	waited = fs_inval_process_writing(fs, ino);
	fuse_reply_write(req, size);
	if (!waited || deferred)
		fs_inval_process(fs);
	fs_inval_unbusy(fs, ino, true);
}

/* close(2) needs nothing of us (a document is imported when whole, a
 * pending file made at release): ENOSYS, and the kernel stops asking. */
static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_count(FS_R_FLUSH);
	fuse_reply_err(req, ENOSYS);
}

/* The last close of a file create(2) opened: never written, it is made
 * empty now (`touch labels/KEY`); refused, nothing was made. */
static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_count(FS_R_RELEASE);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	const struct node *nd = h ? &fs_nodes[h->kind] : NULL;
	bool make = h && h->pending && h->id == 0 && !h->refused;
	int rc = 0;

	if (h && h->pending && h->id == 0 && !make)
		fs_pending_drop(h->pending);	/* refused: nothing made */
	if (make) {
		BEGIN_CHANGE(req);
		if (o->fs->ro)
			rc = lin_errf(&o->err, EROFS, "the mount is read-only");
		else
			rc = nd->set_new(o, h->pid, h->name, NULL, 0, &h->id);
		fs_pending_drop(h->pending);
		/* release cannot fail: a refusal is only logged. */
		if (rc)
			fs_errors_add(o, "create", h->name, -rc);
		END();
		if (rc)
			fs_inval_inode(o->fs, ino_make(NK_ERRORS, 1));
		else
			settle(o);
	}
	handle_free(h);
	fuse_reply_err(req, 0);
}

/* ---- directories ---- */

struct dirfill {
	fuse_req_t  req;
	struct op  *o;
	char       *buf;
	size_t      size;
	size_t      len;
	bool        plus;
	enum nk     kind;
};

/* Add one entry; returns 1 when the reply buffer is full. */
static int
dir_add(struct dirfill *d, const char *name, enum nk k, int64_t id,
    off_t next)
{
	struct fuse_entry_param ep;
	size_t n;

	memset(&ep, 0, sizeof(ep));
	if (d->plus && (fs_nodes[k].flags & NF_COSTLY)) {
		/* Rendered only when asked for: a listing gives the name, and
		 * ino 0 tells the kernel to look it up if it is ever used. */
		ep.attr.st_ino = ino_make(k, id);
		ep.attr.st_mode = fs_nodes[k].type;
		n = fuse_add_direntry_plus(d->req, d->buf + d->len,
		    d->size - d->len, name, &ep, next);
	} else if (d->plus) {
		if (node_attr(d->o, k, id, &ep.attr) != 0)
			return 0;	/* vanished meanwhile: skip it */
		ep.ino = ep.attr.st_ino;
		ep.generation = 1;
		ep.attr_timeout = ep.entry_timeout = d->o->fs->timeout;
		n = fuse_add_direntry_plus(d->req, d->buf + d->len,
		    d->size - d->len, name, &ep, next);
		/* The kernel takes a reference on each entry but . and .. */
		if (n <= d->size - d->len && strcmp(name, ".") != 0 &&
		    strcmp(name, "..") != 0)
			fs_inode_ref(ep.ino);
	} else {
		ep.attr.st_ino = ino_make(k, id);
		ep.attr.st_mode = fs_nodes[k].type;
		n = fuse_add_direntry(d->req, d->buf + d->len,
		    d->size - d->len, name, &ep.attr, next);
	}
	if (n > d->size - d->len)
		return 1;
	d->len += n;
	return 0;
}

static int
dir_pattern_one(void *ctx, const struct lin_entry *ent)
{
	struct dirfill *d = ctx;

	return dir_add(d, ent->name, d->kind, ent->id,
	    DIR_OFF_PATTERN + ent->cursor);
}

static void
dir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	enum nk k = ino_kind(ino), pattern = NK_COUNT;
	int64_t id = ino_id(ino);
	struct dirfill d = { req, NULL, NULL, size, 0, plus, NK_COUNT };
	struct nstat ns = { 0 };
	int rc = 0, slot = 1;
	BEGIN(req);

	d.o = o;
	if ((d.buf = malloc(size)) == NULL) {
		END();
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Offsets: 1 ".", 2 "..", 3.. fixed children, then pattern cursors. */
	if (off < 1 && dir_add(&d, ".", k, id, 1))
		goto full;
	if (off < 2 && dir_add(&d, "..", NK_ROOT, 1, 2))
		goto full;
	for (int i = 1; i < NK_COUNT; i++) {
		const struct node *nd = &fs_nodes[i];
		int64_t cid = (k == NK_ROOT || k == NK_BUCKETS) ? 1 : id;

		if (nd->parent != k)
			continue;
		if (nd->name == NULL) {
			pattern = (enum nk)i;
			continue;
		}
		slot++;
		if (off >= slot)
			continue;
		if (nd->stat(o, cid, &ns) != 0)	/* e.g. latest absent */
			continue;
		if (dir_add(&d, nd->name, (enum nk)i, cid, slot))
			goto full;
	}
	if (pattern != NK_COUNT) {
		int64_t after = off > DIR_OFF_PATTERN ? off - DIR_OFF_PATTERN :
		    0;

		d.kind = pattern;
		rc = fs_nodes[pattern].list(o, id, after, dir_pattern_one, &d);
		if (rc < 0) {
			END();
			free(d.buf);
			fuse_reply_err(req, -rc);
			return;
		}
	}
full:
	END();
	fuse_reply_buf(req, d.buf, d.len);
	free(d.buf);
	/* The kernel holds the listing once it has read to its end. */
	fs_count_content(o->fs, plus ? FS_R_READDIRPLUS : FS_R_READDIR, ino,
	    off == 0, d.len == 0);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	fs_count(FS_R_READDIR);
	dir_read(req, ino, size, off, false);
}

static void
op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	fs_count(FS_R_READDIRPLUS);
	dir_read(req, ino, size, off, true);
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_count(FS_R_FORGET);
	fs_inode_forget(ino, nlookup);
	if (ino_pending(ino))
		fs_pending_drop(ino);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *forgets)
{
	fs_count(FS_R_FORGET);
	for (size_t i = 0; i < count; i++)
		fs_inode_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Directories need no open state: ENOSYS tells the kernel to stop asking
 * and to keep listings cached (until we drop them). */
static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);

	fs_count(FS_R_OPENDIR);
	if (fs->timeout > 0)
		fuse_reply_err(req, ENOSYS);
	else
		fuse_reply_open(req, fi);
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_count(FS_R_RELEASEDIR);
	fuse_reply_err(req, 0);
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	fs_count(FS_R_STATFS);
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = NAME_MAX_BYTES;
	fuse_reply_statfs(req, &sv);
}

/* No file here has an ioctl.  The kernel asks for every one (no answer
 * makes it stop, unlike open's ENOSYS), so each costs a round trip:
 * Python's open() sends a TCGETS on every file it opens, for isatty. */
static void
op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
    struct fuse_file_info *fi, unsigned flags, const void *in_buf,
    size_t in_bufsz, size_t out_bufsz)
{
	fs_count(FS_R_IOCTL);
	fuse_reply_err(req, ENOTTY);
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* No OPEN is answered, so O_TRUNC must come as a SETATTR. */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/* Always plus: a walk gets every child's attributes with the list. */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Pages are dropped when we say so, not on every mtime change. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/* Refused writes must fail in write(2): no writeback cache. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.opendir = op_opendir,
	.releasedir = op_releasedir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.statfs = op_statfs,
	.create = op_create,
	.ioctl = op_ioctl,
};
