/*
 * fs.h — the FUSE front of lineagefs: the mount's shared state, the node
 * table that describes the whole visible tree (SPEC §2) as data, inode
 * numbers computed from (node kind, row id), and the refusals log.
 *
 * The front holds no copy of the tree: every lookup is a table step plus
 * one indexed query in the engine.  It knows nothing of SQL.
 */
#ifndef LINEAGEFS_FS_H
#define LINEAGEFS_FS_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "lineage/lineage.h"

/* Node kinds: one per row of the node table (nodes.c). */
enum nk {
	NK_ROOT,
	NK_BUCKETS, NK_BYID, NK_ARTS, NK_EVENTS, NK_ERRORS, NK_GRAPH,
	NK_BUCKET,
	NK_B_DESC, NK_B_LABELS, NK_B_LABEL, NK_B_CREATED, NK_B_IMPORT,
	NK_B_ITERS, NK_B_VERSIONS, NK_B_CHANNELS,
	NK_ITER,
	NK_I_ID, NK_I_VERSION, NK_I_CREATED, NK_I_COMPLETE, NK_I_STATUS,
	NK_I_ANCESTRY, NK_I_PARENT, NK_I_PARENTS, NK_I_CHILDREN,
	NK_I_ANCESTORS, NK_I_DESCENDANTS, NK_I_TREE, NK_I_CHANNELS,
	NK_I_REVOKE, NK_I_RESTORE, NK_I_BUILDS,
	NK_PARENT_LINK, NK_CHILD_LINK,
	NK_BUILD,
	NK_BD_PLATFORM, NK_BD_SOURCE, NK_BD_LABELS, NK_BD_LABEL, NK_BD_ARTS,
	NK_ARTIFACT,
	NK_VERSION_LINK, NK_LATEST_LINK, NK_CHANNEL_LINK,
	NK_BYID_LINK, NK_ART_LINK,
	NK_COUNT
};

/* Inode numbers: kind in the top 16 bits, row id below.  The root is
 * (NK_ROOT, 1) == FUSE_ROOT_ID; row ids are never reused by the store. */
#define INO_SHIFT 48
static inline fuse_ino_t
ino_make(enum nk k, int64_t id)
{
	return ((fuse_ino_t)k << INO_SHIFT) | ((fuse_ino_t)id &
	    (((fuse_ino_t)1 << INO_SHIFT) - 1));
}
static inline enum nk ino_kind(fuse_ino_t ino) { return (enum nk)(ino >> INO_SHIFT); }
static inline int64_t ino_id(fuse_ino_t ino) { return (int64_t)(ino & (((fuse_ino_t)1 << INO_SHIFT) - 1)); }

struct fs {
	struct lin_reg   *reg;
	pthread_mutex_t   lock;        /* the engine is used by one thread at a time */
	struct fuse_session *se;
	const char       *mountpoint;
	uid_t             uid;         /* who mounted: owns the top of the tree */
	gid_t             gid;
	int64_t           mounted;     /* time of the mount: mtime of fixed dirs */
	bool              ro;
	bool              deny_revoked;
	double            timeout;     /* entry and attribute timeout */
	int64_t           change_seq;  /* the change feed, processed up to */
	int64_t           due_seen;    /* scheduled revocations seen due */
};

/* One operation in progress: who asks, and the refusal's reason. */
struct op {
	struct fs       *fs;
	struct lin_actor actor;
	gid_t            groups[64];
	struct lin_err   err;
};

/* What a node's stat handler reports; the front derives the rest. */
struct nstat {
	int64_t mtime;
	int64_t bucket;     /* owning bucket's id, 0 for the mounter's nodes */
	uid_t   uid;
	gid_t   gid;
	mode_t  bmode;      /* the bucket's (or buckets/') permission bits */
};

/* Permission classes: the node's mode is derived from its bucket's. */
enum perm { P_DIR, P_RW, P_RO, P_WO, P_LNK, P_TOPDIR, P_TOPRO };

/* Flags of a node. */
#define NF_CLEAR   0x01   /* `: > FILE` (open O_TRUNC, no write) clears it */
#define NF_STREAM  0x02   /* written in pieces (import): one document */
#define NF_CONTROL 0x04   /* a control write: O_TRUNC does nothing */
#define NF_LOG     0x08   /* read at offsets from the engine (events) */
#define NF_ARTIFACT 0x10  /* an artifact's value: deny_revoked applies */
#define NF_COSTLY  0x20   /* whole-registry content: no attributes in listings */

struct node {
	const char *name;        /* fixed name, or NULL for a pattern child */
	enum nk     parent;
	mode_t      type;        /* S_IFDIR, S_IFREG or S_IFLNK */
	enum perm   perm;
	int         flags;
	/* Pattern children: name -> id, and the listing. */
	int (*lookup)(struct op *o, int64_t pid, const char *name, int64_t *id);
	int (*list)(struct op *o, int64_t pid, int64_t after, lin_each_fn fn,
	    void *ctx);
	/* The parent's id and this node's name (pattern children). */
	int (*up)(struct op *o, int64_t id, int64_t *pid, struct lin_buf *name);
	/* Existence, mtime and owner. */
	int (*stat)(struct op *o, int64_t id, struct nstat *st);
	int (*read)(struct op *o, int64_t id, struct lin_buf *out);
	int (*size)(struct op *o, int64_t id, int64_t *size);
	int (*pread)(struct op *o, int64_t id, int64_t off, size_t len,
	    struct lin_buf *out);
	int (*write)(struct op *o, int64_t id, const char *buf, size_t len);
	int (*readlink)(struct op *o, int64_t id, struct lin_buf *out);
	/* Creating a pattern child in directory pid (mkdir, create, symlink:
	 * target is the symlink's). */
	int (*make)(struct op *o, int64_t pid, const char *name, mode_t mode,
	    const char *target, int64_t *id);
	int (*remove)(struct op *o, int64_t id);
	/* Files that create(2) makes pending: could it be made, and make it
	 * with its first value (buf NULL: empty). */
	int (*check_new)(struct op *o, int64_t pid, const char *name);
	int (*set_new)(struct op *o, int64_t pid, const char *name,
	    const char *buf, size_t len, int64_t *id);
	int (*rename)(struct op *o, int64_t pid, const char *from,
	    const char *to);
};

extern const struct node fs_nodes[NK_COUNT];

/* What one writer has written to one file: the document an import is
 * building, or the value a write at the start set (which a write that goes
 * on where it ended extends). */
struct fs_wstate {
	struct lin_buf doc;
	bool           wrote;
	bool           done;     /* NF_STREAM: the document was imported */
	int            err;      /* NF_STREAM: the import's refusal */
	size_t         tail;     /* NF_STREAM: where the last piece began */
	int64_t        at;       /* when the last write was taken (ms) */
	struct {                 /* NF_STREAM: how far the document is read */
		size_t  at;
		int     depth;
		bool    str, esc, seen;
	} scan;
};
void fs_wstate_reset(struct fs_wstate *w);
int64_t fs_now_ms(void);	/* CLOCK_MONOTONIC */

/* session.c: writes that come without an open (the kernel sends none),
 * keyed by inode and writing process; all under fs->lock. */
struct fs_session {
	fuse_ino_t         ino;
	pid_t              pid;
	uid_t              uid;
	gid_t              gid;
	struct fs_wstate   w;
	bool               clear;   /* truncated to 0, waiting for a write */
	int64_t            used;    /* CLOCK_MONOTONIC ms */
	struct fs_session *next;
};
struct fs_session *fs_session_find(fuse_ino_t ino, pid_t pid);
struct fs_session *fs_session_open(struct op *o, fuse_ino_t ino, pid_t pid);
void fs_session_close(struct fs_session *s);
void fs_session_set_clear(struct fs_session *s, bool clear);
bool fs_session_clearing(fuse_ino_t ino, pid_t pid);
/* Make the clears processes other than pid left waiting.  Takes fs->lock;
 * drops the caches they affect before returning, unless that would wait
 * for the page of `paged` the kernel holds locked for this request: then
 * it returns true, and the caller calls fs_inval_process once it has
 * replied. */
bool fs_sessions_flush(struct fs *fs, pid_t pid, fuse_ino_t paged);
/* The ticker: make the clears that are due, give up idle sessions. */
void fs_sessions_tick(struct fs *fs);
void fs_sessions_finish(struct fs *fs);

/* rcache.c: contents rendered for one request (a listing's sizes) kept
 * for the next (the reads that follow), until the inode is invalidated. */
bool fs_rcache_get(fuse_ino_t ino, struct lin_buf *out);
void fs_rcache_put(fuse_ino_t ino, const struct lin_buf *b);
void fs_rcache_drop(fuse_ino_t ino);
void fs_rcache_drop_all(const fuse_ino_t *inos, size_t n);
void fs_rcache_clear(void);

/* nodes.c: path of a node relative to the mount root. */
int fs_node_path(struct op *o, enum nk k, int64_t id, struct lin_buf *out);

/* inode.c: the inodes the kernel holds. */
void        fs_inode_ref(fuse_ino_t ino);
void        fs_inode_forget(fuse_ino_t ino, uint64_t n);
bool        fs_inode_known(fuse_ino_t ino);
/* Keep of inos[0..n) those the kernel holds, in place; how many. */
size_t      fs_inode_keep_known(fuse_ino_t *inos, size_t n);
size_t      fs_inode_count(void);
fuse_ino_t *fs_inode_select(const bool *want, size_t *count);
/* Was ino's content given to the kernel and not dropped since?  give:
 * it is now (the kernel holds all of it).  false for an inode the kernel
 * does not hold. */
bool        fs_inode_given(fuse_ino_t ino, bool give);
/* The kernel no longer holds ino's content: we told it to drop it, or it
 * drops it itself (a write or truncate of a file, a change to a
 * directory's entries). */
void        fs_inode_dropped(fuse_ino_t ino);

/* pending.c: files create(2) made that exist only once written.  Their
 * inodes carry ids from FS_PENDING_BASE up, which no row ever reaches. */
#define FS_PENDING_BASE ((int64_t)1 << 47)
static inline bool ino_pending(fuse_ino_t ino) { return ino_id(ino) >= FS_PENDING_BASE; }
fuse_ino_t fs_pending_add(enum nk kind, int64_t pid, const char *name,
    const struct nstat *ns);
bool       fs_pending_get(fuse_ino_t ino, int64_t *pid, struct lin_buf *name,
    struct nstat *ns);
void       fs_pending_drop(fuse_ino_t ino);

/* inval.c: turn the change feed into kernel cache invalidations. */
void fs_inval_process(struct fs *fs);
/* Drop now what a waiting clear of a file of kind k will change. */
void fs_inval_ahead(struct fs *fs, enum nk k);
/* Drop everything the kernel holds (time alone changed what reads). */
void fs_inval_all(struct fs *fs);
/* Drop one inode's cached attributes and pages, if the kernel holds it. */
void fs_inval_inode(struct fs *fs, fuse_ino_t ino);
/* Drop only its attributes (never waits for a page). */
void fs_inval_attr(struct fs *fs, fuse_ino_t ino);
/* A write (or read, readlink) of ino is in flight: the kernel may hold its
 * page locked until we reply, so until fs_inval_unbusy its pages are not
 * dropped (only its attributes; unbusy drops them after the reply: always
 * for a write, for a read if a change came meanwhile), and getattr waits
 * for the writes (fs_inval_wait). */
void fs_inval_busy(fuse_ino_t ino, bool write);
void fs_inval_unbusy(struct fs *fs, fuse_ino_t ino, bool write);
void fs_inval_wait(fuse_ino_t ino);
/* fs_inval_process for a request the kernel holds ino's page locked for
 * (WRITE, READ, READLINK): false when it could not wait (a notification is
 * stuck on that page until the reply): then reply first and call
 * fs_inval_process. */
bool fs_inval_process_writing(struct fs *fs, fuse_ino_t ino);

/* errors.c: the mount's recent refusals (SPEC §9). */
void fs_errors_add(struct op *o, const char *opname, const char *path,
    int code);
void fs_errors_render(struct lin_buf *out, int64_t *mtime);

/* Requests served, by operation, so caching is measured, not guessed
 * (printed on SIGUSR1). */
enum fs_req {
	FS_R_LOOKUP, FS_R_FORGET, FS_R_GETATTR, FS_R_SETATTR, FS_R_READLINK,
	FS_R_MKNOD, FS_R_MKDIR, FS_R_UNLINK, FS_R_RMDIR, FS_R_SYMLINK,
	FS_R_RENAME, FS_R_OPEN, FS_R_READ, FS_R_WRITE, FS_R_FLUSH,
	FS_R_RELEASE, FS_R_OPENDIR, FS_R_READDIR, FS_R_READDIRPLUS,
	FS_R_RELEASEDIR, FS_R_STATFS, FS_R_CREATE, FS_R_IOCTL,
	FS_R_COUNT
};
void fs_count(enum fs_req r);
/* A READ, READLINK or READDIR(PLUS) of ino was answered.  asked: it
 * asked for the content from its start, a refetch when the kernel had
 * been given that content and never told to drop it; gave: the kernel
 * now holds the whole of it (a listing: once it reached its end). */
void fs_count_content(struct fs *fs, enum fs_req r, fuse_ino_t ino,
    bool asked, bool gave);
void fs_stats_render(struct lin_buf *out);

/* ops.c */
extern const struct fuse_lowlevel_ops fs_ops;
void fs_op_init(struct op *o, struct fs *fs, fuse_req_t req, bool change);
/* At exit: free the handles of files still open when the mount went. */
void fs_handles_free_all(void);

#endif
