/*
 * inval.c — keeping the kernel's caches exact.  The mount lets the kernel
 * cache names, attributes, file pages, symlink targets and directory
 * listings for a day; in exchange, every change to the registry is turned
 * into notifications that drop exactly what it affected: the objects the
 * engine's change feed names, each mapped to its inodes through the node
 * table, and only those the kernel holds.
 *
 * A request that changed the registry processes the feed before it
 * replies, so its writer (and everyone else) reads the new values at once;
 * the ticker thread processes what other mounts and lineagectl wrote.
 * One lock serialises processing, so nobody returns while a change before
 * theirs is still being dropped.  Notifications never run under the engine
 * lock, and only drop inodes (never names), which takes no directory lock:
 * a name whose object went away answers ESTALE, and the kernel looks it up
 * again.
 *
 * The one lock a notification can wait for is a page's: the kernel locks
 * the page a write fills until we reply to the WRITE, and the page a read
 * or readlink fills until we reply to that.  So no such request ever waits
 * for inval_lock while its holder may be waiting for that page (it leaves
 * the dropping to after its reply instead), and an inode with a write in
 * flight is "busy": its attributes are dropped at once, its pages only
 * once the writer has replied, and a getattr of it waits for that (an open
 * asks for attributes first, so nobody reads the page in between).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs.h"

#define BATCH 65536

struct changes {
	struct { int kind; int64_t id; char *name; } *v;
	size_t n, cap;
};

static pthread_mutex_t inval_lock = PTHREAD_MUTEX_INITIALIZER;

/* Inodes with a write, read or readlink in flight (one per FUSE thread at
 * most): n counts writes, r reads; need says a notification for it was
 * cut down to its attributes meanwhile. */
#define BUSY_MAX 64
static struct {
	pthread_mutex_t lock;
	pthread_cond_t  done;
	fuse_ino_t      ino[BUSY_MAX];
	int             n[BUSY_MAX];
	int             r[BUSY_MAX];
	bool            need[BUSY_MAX];
} busy = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 },
	{ 0 }, { 0 }, { false } };
/* The inode a full notification is being sent for, or 0. */
static fuse_ino_t notifying;

#define BUSY_USED(i) (busy.n[i] + busy.r[i] > 0)

/* Is ino busy?  mark: remember that its pages are still to go. */
static bool
busy_has(fuse_ino_t ino, bool mark)
{
	bool has = false;

	pthread_mutex_lock(&busy.lock);
	for (int i = 0; i < BUSY_MAX; i++)
		if (BUSY_USED(i) && busy.ino[i] == ino) {
			has = true;
			if (mark)
				busy.need[i] = true;
		}
	pthread_mutex_unlock(&busy.lock);
	return has;
}

void
fs_inval_busy(fuse_ino_t ino, bool write)
{
	int slot = -1;

	pthread_mutex_lock(&busy.lock);
	for (int i = 0; i < BUSY_MAX && slot < 0; i++)
		if (BUSY_USED(i) && busy.ino[i] == ino)
			slot = i;
	for (int i = 0; i < BUSY_MAX && slot < 0; i++)
		if (!BUSY_USED(i)) {
			slot = i;
			busy.ino[i] = ino;
			busy.need[i] = false;
		}
	while (slot < 0) {		/* more requests than threads: wait */
		pthread_cond_wait(&busy.done, &busy.lock);
		for (int i = 0; i < BUSY_MAX && slot < 0; i++)
			if (!BUSY_USED(i)) {
				slot = i;
				busy.ino[i] = ino;
				busy.need[i] = false;
			}
	}
	if (write)
		busy.n[slot]++;
	else
		busy.r[slot]++;
	pthread_mutex_unlock(&busy.lock);
	/* Seen by a notifier that checks after setting `notifying`. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void
fs_inval_wait(fuse_ino_t ino)
{
	pthread_mutex_lock(&busy.lock);
	for (;;) {
		bool has = false;

		for (int i = 0; i < BUSY_MAX; i++)
			if (busy.n[i] && busy.ino[i] == ino)	/* writes only */
				has = true;
		if (!has)
			break;
		pthread_cond_wait(&busy.done, &busy.lock);
	}
	pthread_mutex_unlock(&busy.lock);
}

static int
collect(void *ctx, int kind, int64_t id, const char *name)
{
	struct changes *c = ctx;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		if ((c->v = realloc(c->v, c->cap * sizeof(*c->v))) == NULL)
			abort();
	}
	c->v[c->n].kind = kind;
	c->v[c->n].id = id;
	c->v[c->n].name = NULL;
	if (name[0] && (c->v[c->n].name = strdup(name)) == NULL)
		abort();
	c->n++;
	return 0;
}

/* Tell the kernel to drop ino's attributes (from offset -1) or its pages
 * too (0), and the inode table that its content is no longer given. */
static void
kernel_drop(struct fs *fs, fuse_ino_t ino, off_t off)
{
	fs_inode_dropped(ino);
	fuse_lowlevel_notify_inval_inode(fs->se, ino, off, 0);
}

/* Drop an inode's attributes and pages (only its attributes while a
 * write to it is in flight: its writer drops the pages after replying).
 * Under inval_lock, `notifying` tells a writer what the holder is on. */
static void
notify_as(struct fs *fs, fuse_ino_t ino, bool holder)
{
	fs_rcache_drop(ino);
	if (fs->se == NULL || !fs_inode_known(ino))
		return;
	if (holder)
		__atomic_store_n(&notifying, ino, __ATOMIC_SEQ_CST);
	kernel_drop(fs, ino, busy_has(ino, true) ? -1 : 0);
	if (holder)
		__atomic_store_n(&notifying, 0, __ATOMIC_SEQ_CST);
}

static void
notify(struct fs *fs, fuse_ino_t ino)
{
	notify_as(fs, ino, true);
}

/* notify() for each inode of an object (its kinds k under row id): the
 * rendered copies and the inode table are each asked once, under one lock,
 * and only what the kernel holds gets a notification. */
static void
notify_object(struct fs *fs, const enum nk *k, int64_t id)
{
	fuse_ino_t ino[NK_COUNT];
	size_t n = 0;

	for (; *k != NK_COUNT; k++)
		ino[n++] = *k == NK_ROOT ? FUSE_ROOT_ID : ino_make(*k, id);
	fs_rcache_drop_all(ino, n);
	if (fs->se == NULL)
		return;
	n = fs_inode_keep_known(ino, n);
	for (size_t i = 0; i < n; i++)
		notify(fs, ino[i]);
}

void
fs_inval_inode(struct fs *fs, fuse_ino_t ino)
{
	notify_as(fs, ino, false);
}

void
fs_inval_attr(struct fs *fs, fuse_ino_t ino)
{
	fs_rcache_drop(ino);
	if (fs->se != NULL && fs_inode_known(ino))
		kernel_drop(fs, ino, -1);
}

void
fs_inval_unbusy(struct fs *fs, fuse_ino_t ino, bool write)
{
	bool full = write, last = false;

	pthread_mutex_lock(&busy.lock);
	for (int i = 0; i < BUSY_MAX; i++)
		if (BUSY_USED(i) && busy.ino[i] == ino) {
			if (write)
				busy.n[i]--;
			else
				busy.r[i]--;
			full = full || busy.need[i];
			if ((last = !BUSY_USED(i)))
				busy.need[i] = false;
			break;
		}
	pthread_mutex_unlock(&busy.lock);
	/* Replied: the page is unlocked, and what a write left in it goes
	 * (the bytes written, not the file's new content), as does what a
	 * read filled while a change to it was cut down to attributes.
	 * (Still busy: the last to finish does it.) */
	if (full && !last)
		busy_has(ino, true);
	if (full && last) {
		fs_rcache_drop(ino);
		if (fs->se != NULL && fs_inode_known(ino))
			kernel_drop(fs, ino, 0);
	}
	pthread_mutex_lock(&busy.lock);
	pthread_cond_broadcast(&busy.done);
	pthread_mutex_unlock(&busy.lock);
}

/* The node kinds an object's inodes carry its row id under. */
static const enum nk kinds_global[] = { NK_ROOT, NK_BUCKETS, NK_BYID,
	NK_ARTS, NK_GRAPH, NK_COUNT };
static const enum nk kinds_bucket[] = { NK_BUCKET, NK_B_DESC, NK_B_LABELS,
	NK_B_CREATED, NK_B_IMPORT, NK_B_ITERS, NK_B_VERSIONS, NK_B_CHANNELS,
	NK_LATEST_LINK, NK_COUNT };
static const enum nk kinds_iteration[] = { NK_ITER, NK_I_ID, NK_I_VERSION,
	NK_I_CREATED, NK_I_COMPLETE, NK_I_STATUS, NK_I_ANCESTRY, NK_I_PARENT,
	NK_I_PARENTS, NK_I_CHILDREN, NK_I_ANCESTORS, NK_I_DESCENDANTS,
	NK_I_TREE, NK_I_CHANNELS, NK_I_REVOKE, NK_I_RESTORE, NK_I_BUILDS,
	NK_VERSION_LINK, NK_BYID_LINK, NK_COUNT };
static const enum nk kinds_build[] = { NK_BUILD, NK_BD_PLATFORM,
	NK_BD_SOURCE, NK_BD_LABELS, NK_BD_ARTS, NK_COUNT };
static const enum nk kinds_artifact[] = { NK_ARTIFACT, NK_ART_LINK,
	NK_COUNT };
static const enum nk kinds_blabel[] = { NK_B_LABEL, NK_COUNT };
static const enum nk kinds_bdlabel[] = { NK_BD_LABEL, NK_COUNT };
static const enum nk kinds_channel[] = { NK_CHANNEL_LINK, NK_COUNT };
static const enum nk kinds_link[] = { NK_PARENT_LINK, NK_CHILD_LINK,
	NK_COUNT };
/* What shows ancestry or state derived from other objects. */
static const enum nk kinds_views[] = { NK_I_ANCESTRY, NK_I_PARENT,
	NK_I_PARENTS, NK_I_CHILDREN, NK_I_ANCESTORS, NK_I_DESCENDANTS,
	NK_I_TREE, NK_I_CHANNELS, NK_GRAPH, NK_LATEST_LINK, NK_COUNT };

static const enum nk *
kinds_of(int kind)
{
	switch (kind) {
	case LIN_CH_GLOBAL:	return kinds_global;
	case LIN_CH_BUCKET:	return kinds_bucket;
	case LIN_CH_ITERATION:	return kinds_iteration;
	case LIN_CH_BUILD:	return kinds_build;
	case LIN_CH_ARTIFACT:	return kinds_artifact;
	case LIN_CH_BLABEL:	return kinds_blabel;
	case LIN_CH_BDLABEL:	return kinds_bdlabel;
	case LIN_CH_CHANNEL:	return kinds_channel;
	case LIN_CH_LINK:	return kinds_link;
	}
	return NULL;
}

/* Drop every known inode of the kinds in list (NULL: of every kind). */
static void
notify_scan(struct fs *fs, const enum nk *list)
{
	bool want[NK_COUNT] = { false };
	fuse_ino_t *inos;
	size_t n;

	for (; list && *list != NK_COUNT; list++)
		want[*list] = true;
	fs_rcache_clear();
	inos = fs_inode_select(list ? want : NULL, &n);
	for (size_t i = 0; i < n; i++)
		notify(fs, inos[i]);
	free(inos);
	if (!list)
		notify(fs, FUSE_ROOT_ID);
}

/* A name that left artifacts/ while its artifact stayed: the one name
 * dropped by name (no request holds artifacts/' lock: nothing is made or
 * removed there). */
static void
notify_extid(struct fs *fs, const char *extid)
{
	struct lin_buf name;

	lin_buf_init(&name);
	lin_extid_escape(extid, &name);
	if (name.len)
		fuse_lowlevel_notify_inval_entry(fs->se,
		    ino_make(NK_ARTS, 1), name.data, name.len);
	lin_buf_free(&name);
}

static const enum nk kinds_artifacts[] = { NK_ARTIFACT, NK_COUNT };
/* Where a bucket's latest shows: its link, and channels/ (present or not). */
static const enum nk kinds_latest[] = { NK_LATEST_LINK, NK_B_CHANNELS,
	NK_COUNT };

static void
apply(struct fs *fs, const struct changes *c)
{
	bool all = false, views = false, iters = false, latest = false;

	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].kind == LIN_CH_ALL)
			all = true;
		else if (c->v[i].kind == LIN_CH_VIEWS)
			views = true;
		else if (c->v[i].kind == LIN_CH_LATEST)
			latest = true;
		else if (c->v[i].kind == LIN_CH_ITERATION)
			iters = true;
	}
	if (all) {
		notify_scan(fs, NULL);
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		const enum nk *k = kinds_of(c->v[i].kind);
		int64_t id = c->v[i].kind == LIN_CH_GLOBAL ? 1 : c->v[i].id;

		/* The same object twice in a row is common (one mutation). */
		if (i > 0 && c->v[i].kind == c->v[i - 1].kind &&
		    c->v[i].id == c->v[i - 1].id && c->v[i].name == NULL &&
		    c->v[i - 1].name == NULL)
			continue;
		if (k != NULL)
			notify_object(fs, k, id);
		if (c->v[i].kind == LIN_CH_EXTID && c->v[i].name)
			notify_extid(fs, c->v[i].name);
	}
	if (views)
		notify_scan(fs, kinds_views);
	if (latest)
		notify_scan(fs, kinds_latest);
	/* deny_revoked: whether an artifact reads depends on its iteration's
	 * state, and a revocation names only the iterations. */
	if (iters && fs->deny_revoked)
		notify_scan(fs, kinds_artifacts);
	/* Every change writes an event. */
	notify(fs, ino_make(NK_EVENTS, 1));
}

/* A clear waiting for its writer (session.c): what it will change is
 * dropped now, so that every reader has to ask, and asking makes it. */
void
fs_inval_ahead(struct fs *fs, enum nk k)
{
	static const enum nk kinds_extid[] = { NK_ARTS, NK_ART_LINK,
		NK_COUNT };

	pthread_mutex_lock(&inval_lock);
	notify(fs, ino_make(NK_EVENTS, 1));
	if (k == NK_BD_SOURCE)		/* a parent link may go */
		notify_scan(fs, kinds_views);
	if (k == NK_ARTIFACT)		/* its name in artifacts/ goes */
		notify_scan(fs, kinds_extid);
	pthread_mutex_unlock(&inval_lock);
}

void
fs_inval_all(struct fs *fs)
{
	pthread_mutex_lock(&inval_lock);
	notify_scan(fs, NULL);
	pthread_mutex_unlock(&inval_lock);
}

static void
process_locked(struct fs *fs)
{
	struct changes c = { 0 };
	struct lin_err e = { 0 };
	int64_t last;
	int rc;

	for (;;) {
		c.n = 0;
		pthread_mutex_lock(&fs->lock);
		rc = lin_changes_since(fs->reg, fs->change_seq, BATCH, collect,
		    &c, &last, &e);
		if (rc == 0)
			fs->change_seq = last;
		pthread_mutex_unlock(&fs->lock);
		if (rc != 0 || c.n == 0)
			break;
		apply(fs, &c);
		for (size_t i = 0; i < c.n; i++)
			free(c.v[i].name);
		if (c.n < BATCH)
			break;
	}
	free(c.v);
}

void
fs_inval_process(struct fs *fs)
{
	pthread_mutex_lock(&inval_lock);
	process_locked(fs);
	pthread_mutex_unlock(&inval_lock);
}

bool
fs_inval_process_writing(struct fs *fs, fuse_ino_t ino)
{
	for (;;) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		if (pthread_mutex_timedlock(&inval_lock, &t) == 0)
			break;
		/* The holder waits for the page our reply unlocks. */
		if (__atomic_load_n(&notifying, __ATOMIC_SEQ_CST) == ino)
			return false;
	}
	process_locked(fs);
	pthread_mutex_unlock(&inval_lock);
	return true;
}
