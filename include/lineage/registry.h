/*
 * lineage/registry.h — the registry: opening a SQLite registry file, and
 * the objects of SPEC §2-§4 (buckets, labels, iterations, builds,
 * artifacts, channels, the events log).
 *
 * Objects are addressed by row ids that are never reused (the store uses
 * AUTOINCREMENT), so a front end may build stable handles (inode numbers)
 * from them.  Every mutation is one IMMEDIATE transaction that also appends
 * its events; it succeeds whole or returns a negative errno and changes
 * nothing.  Mutators take the raw bytes of one write(2) and apply the value
 * rules themselves, so the mount and lineagectl refuse the same input in the
 * same way.
 */
#ifndef LINEAGE_REGISTRY_H
#define LINEAGE_REGISTRY_H

#include <stdbool.h>
#include "lineage/base.h"
#include "lineage/parse.h"

struct lin_reg;

enum {
	LIN_OPEN_RDONLY = 1 << 0,  /* refuse every change with EROFS */
};

/* Open (creating an empty registry if path does not exist) and migrate the
 * schema to the current version.  Also applies scheduled revocations that
 * fell due while nobody had the registry open. */
int  lin_reg_open(const char *path, int flags, struct lin_reg **out,
    struct lin_err *e);
void lin_reg_close(struct lin_reg *r);
bool lin_reg_readonly(const struct lin_reg *r);
/* The mount point, for absolute paths written into control files (NULL
 * without a mount). */
void lin_reg_set_mountpoint(struct lin_reg *r, const char *mountpoint);
const char *lin_reg_mountpoint(const struct lin_reg *r);
/*
 * Wait (up to the busy timeout) until no other connection holds the
 * registry's write lock, then return; at once when none does, and
 * whatever the outcome, for the transaction that follows waits again
 * if it must.  Safe to call from any thread while another uses r: a
 * caller that serialises its use of r behind a lock of its own calls this
 * before taking that lock, so that while it waits for another process,
 * the other users of r do not wait behind it.
 */
void lin_reg_await_writer(struct lin_reg *r);
/* The version of the SQLite library in use, for --version. */
const char *lin_sqlite_version(void);
/* Apply scheduled revocations whose time has come (rollback, events).
 * Returns how many took effect, or a negative errno. */
int  lin_reg_tick(struct lin_reg *r, struct lin_err *e);
/* The time of the next scheduled revocation, or 0 if none. */
int64_t lin_reg_next_due(struct lin_reg *r);
/* The first time after `after` at which a scheduled revocation not yet
 * carried out falls due, or 0: a read-only mount, which carries nothing
 * out, still knows when statuses change. */
int64_t lin_reg_next_due_after(struct lin_reg *r, int64_t after);

/*
 * Listing: fn is called once per entry in cursor order with a cursor to
 * resume after; a non-zero return from fn stops the listing early (and is
 * returned).  Listing starts after `after` (0 for the beginning).
 */
struct lin_entry {
	int64_t     id;      /* row id of the object the entry names */
	int64_t     cursor;  /* pass as `after` to continue past this entry */
	const char *name;
};
typedef int (*lin_each_fn)(void *ctx, const struct lin_entry *ent);

/* ---- the root: buckets/ is owned by the mounter, its mode is kept ---- */
int lin_root_mode(struct lin_reg *r, mode_t *mode);
int lin_root_chmod(struct lin_reg *r, mode_t mode, struct lin_err *e);

/* ---- buckets ---- */
struct lin_bucket {
	int64_t id;
	char    name[LIN_BUCKET_MAX];
	int64_t created;
	int64_t mtime;   /* last change to the bucket or its direct contents */
	uid_t   uid;
	gid_t   gid;
	mode_t  mode;    /* permission bits only */
};
int lin_bucket_get(struct lin_reg *r, int64_t id, struct lin_bucket *out,
    struct lin_err *e);
int lin_bucket_by_name(struct lin_reg *r, const char *name,
    struct lin_bucket *out, struct lin_err *e);
int lin_bucket_list(struct lin_reg *r, int64_t after, lin_each_fn fn,
    void *ctx, struct lin_err *e);
int lin_bucket_create(struct lin_reg *r, const struct lin_actor *a,
    const char *name, mode_t mode, struct lin_bucket *out, struct lin_err *e);
/* -ENOTEMPTY while it holds iterations. */
int lin_bucket_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, struct lin_err *e);
int lin_bucket_description(struct lin_reg *r, int64_t id, char **out,
    struct lin_err *e);
int lin_bucket_set_description(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, const char *buf, size_t len, struct lin_err *e);
/* uid/gid of (uid_t)-1 / (gid_t)-1 leave that one unchanged. */
int lin_bucket_chown(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, uid_t uid, gid_t gid, struct lin_err *e);
int lin_bucket_chmod(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, mode_t mode, struct lin_err *e);

/* ---- labels, on buckets and on builds alike ---- */
enum lin_owner {
	LIN_OWNER_BUCKET,
	LIN_OWNER_BUILD,
};
struct lin_label {
	int64_t id;
	int64_t owner_id;
	char    key[LIN_KEY_MAX];
	int64_t mtime;
};
int lin_label_get(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    const char *key, struct lin_label *out, char **value, struct lin_err *e);
int lin_label_by_id(struct lin_reg *r, enum lin_owner o, int64_t label_id,
    struct lin_label *out, char **value, struct lin_err *e);
int lin_label_list(struct lin_reg *r, enum lin_owner o, int64_t owner_id,
    int64_t after, lin_each_fn fn, void *ctx, struct lin_err *e);
/* Create (if missing) and set; buf/len is one write(2) (an empty value is
 * allowed, for `touch`). */
int lin_label_set(struct lin_reg *r, const struct lin_actor *a,
    enum lin_owner o, int64_t owner_id, const char *key, const char *buf,
    size_t len, int64_t *label_id, struct lin_err *e);
int lin_label_delete(struct lin_reg *r, const struct lin_actor *a,
    enum lin_owner o, int64_t owner_id, const char *key, struct lin_err *e);
/* Would creating this label succeed (name, owner, mutability, not there
 * yet)?  Changes nothing. */
int lin_label_check_new(struct lin_reg *r, enum lin_owner o,
    int64_t owner_id, const char *key, struct lin_err *e);

/* ---- iterations ---- */
enum lin_status {
	LIN_STATUS_RUNNING,
	LIN_STATUS_ACTIVE,
	LIN_STATUS_SCHEDULED,
	LIN_STATUS_REVOKED,
};
const char *lin_status_word(enum lin_status s);

struct lin_iteration {
	int64_t id;
	int64_t bucket_id;
	char    bucket[LIN_BUCKET_MAX];
	char    fingerprint[LIN_FP_MAX];
	char    ulid[LIN_ULID_LEN + 1];
	int64_t version;    /* 0 while incomplete */
	int64_t created;
	int64_t completed;  /* 0 while incomplete */
	int64_t mtime;      /* last change to it or its direct contents */
	enum lin_status status;   /* as of the moment it was read */
};
int lin_iteration_get(struct lin_reg *r, int64_t id,
    struct lin_iteration *out, struct lin_err *e);
int lin_iteration_by_fingerprint(struct lin_reg *r, int64_t bucket_id,
    const char *fp, struct lin_iteration *out, struct lin_err *e);
int lin_iteration_by_version(struct lin_reg *r, int64_t bucket_id,
    int64_t version, struct lin_iteration *out, struct lin_err *e);
int lin_iteration_by_ulid(struct lin_reg *r, const char *ulid,
    struct lin_iteration *out, struct lin_err *e);
/* Entries named by fingerprint, in creation order. */
int lin_iteration_list(struct lin_reg *r, int64_t bucket_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e);
/* Complete iterations, entries named "vN", in version order. */
int lin_version_list(struct lin_reg *r, int64_t bucket_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e);
/* Every iteration, entries named by ULID (for by-id/). */
int lin_ulid_list(struct lin_reg *r, int64_t after, lin_each_fn fn,
    void *ctx, struct lin_err *e);
int lin_iteration_create(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *fp, struct lin_iteration *out,
    struct lin_err *e);
/* SPEC §5.6: only running or revoked, without children (-EBUSY). */
int lin_iteration_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, struct lin_err *e);
/* Write to `complete`: "1" completes (SPEC §5.2), "0" is -EPERM. */
int lin_iteration_complete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, const char *buf, size_t len, struct lin_err *e);
/* Resolve a reference to an iteration.  With an actor, each bucket on the
 * way must be searchable (x) and readable (r) by it (-EACCES).  *channel
 * is set to the channel's row id when the reference went through a user
 * channel (0 otherwise, and for `latest`). */
int lin_ref_resolve(struct lin_reg *r, const struct lin_actor *a,
    const struct lin_ref *ref, struct lin_iteration *out, struct lin_err *e);

/* ---- builds ---- */
struct lin_build {
	int64_t id;
	int64_t iteration_id;
	char    name[LIN_KEY_MAX];
	int64_t created;
	int64_t mtime;
};
enum lin_build_field {
	LIN_BUILD_PLATFORM,
	LIN_BUILD_SOURCE,
};
int lin_build_get(struct lin_reg *r, int64_t id, struct lin_build *out,
    struct lin_err *e);
int lin_build_by_name(struct lin_reg *r, int64_t iteration_id,
    const char *name, struct lin_build *out, struct lin_err *e);
int lin_build_list(struct lin_reg *r, int64_t iteration_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e);
/* -EPERM once the iteration is complete, -EKEYREVOKED if revoked. */
int lin_build_create(struct lin_reg *r, const struct lin_actor *a,
    int64_t iteration_id, const char *name, struct lin_build *out,
    struct lin_err *e);
int lin_build_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t id, struct lin_err *e);
int lin_build_value(struct lin_reg *r, int64_t id, enum lin_build_field f,
    char **out, struct lin_err *e);
/* Setting the source links the artifact's iteration as a parent when the
 * id is a registered artifact (SPEC §6). */
int lin_build_set(struct lin_reg *r, const struct lin_actor *a, int64_t id,
    enum lin_build_field f, const char *buf, size_t len, struct lin_err *e);

/* ---- artifacts ---- */
struct lin_artifact {
	int64_t id;
	int64_t build_id;
	char    region[LIN_KEY_MAX];
	char    external_id[LIN_VALUE_MAX + 1];  /* empty until written */
	int64_t mtime;
};
int lin_artifact_get(struct lin_reg *r, int64_t id, struct lin_artifact *out,
    struct lin_err *e);
int lin_artifact_by_region(struct lin_reg *r, int64_t build_id,
    const char *region, struct lin_artifact *out, struct lin_err *e);
/* The first-registered artifact with this external id (for artifacts/). */
int lin_artifact_by_external_id(struct lin_reg *r, const char *extid,
    struct lin_artifact *out, struct lin_err *e);
int lin_artifact_list(struct lin_reg *r, int64_t build_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e);
/* Every distinct non-empty external id once, entries named by the escaped
 * id (lin_extid_escape), ids of the first artifact that carries it. */
int lin_artifact_list_all(struct lin_reg *r, int64_t after, lin_each_fn fn,
    void *ctx, struct lin_err *e);
/* Create if missing (empty value for O_CREAT), and set from one write(2)
 * when buf is not NULL. */
int lin_artifact_set(struct lin_reg *r, const struct lin_actor *a,
    int64_t build_id, const char *region, const char *buf, size_t len,
    struct lin_artifact *out, struct lin_err *e);
int lin_artifact_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t build_id, const char *region, struct lin_err *e);
/* Would creating this artifact succeed?  Changes nothing. */
int lin_artifact_check_new(struct lin_reg *r, int64_t build_id,
    const char *region, struct lin_err *e);

/* ---- channels (SPEC §4) ---- */
struct lin_channel {
	int64_t id;            /* 0 for the managed `latest` */
	int64_t bucket_id;
	char    name[LIN_BUCKET_MAX];
	int64_t iteration_id;
	char    fingerprint[LIN_FP_MAX];
	int64_t mtime;
};
/* `latest` is answered too (computed); -ENOENT when a channel (or latest)
 * has no iteration. */
int lin_channel_get(struct lin_reg *r, int64_t bucket_id, const char *name,
    struct lin_channel *out, struct lin_err *e);
int lin_channel_by_id(struct lin_reg *r, int64_t id, struct lin_channel *out,
    struct lin_err *e);
int lin_latest(struct lin_reg *r, int64_t bucket_id, struct lin_channel *out,
    struct lin_err *e);
/* User channels only, in creation order. */
int lin_channel_list(struct lin_reg *r, int64_t bucket_id, int64_t after,
    lin_each_fn fn, void *ctx, struct lin_err *e);
/* Assign (create or move) the channel to the iteration that target names
 * (a symlink target, resolved against buckets/B/channels). */
int lin_channel_assign(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *name, const char *target,
    struct lin_channel *out, struct lin_err *e);
int lin_channel_delete(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *name, struct lin_err *e);
/* rename(2) in channels/: `to` takes `from`'s iteration (one assignment)
 * and `from` disappears, as GNU ln -sfn expects. */
int lin_channel_rename(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *from, const char *to, struct lin_err *e);
/* The names of the channels of the iteration's bucket that point at it,
 * one a line, `latest` included. */
int lin_channels_of(struct lin_reg *r, int64_t iteration_id,
    struct lin_buf *out, struct lin_err *e);

/* ---- the change feed: what each mutation changed, for caches ---- */
enum lin_change_kind {
	LIN_CH_ALL,        /* anything may have changed */
	LIN_CH_GLOBAL,     /* the top: buckets/, by-id/, artifacts/, graph */
	LIN_CH_BUCKET,     /* a bucket's files, listings and latest */
	LIN_CH_ITERATION,  /* an iteration's files and listings */
	LIN_CH_BUILD,      /* a build's files and listings */
	LIN_CH_ARTIFACT,   /* one artifact */
	LIN_CH_BLABEL,     /* one bucket label */
	LIN_CH_BDLABEL,    /* one build label */
	LIN_CH_CHANNEL,    /* one user channel */
	LIN_CH_VIEWS,      /* every derived view of ancestry and state */
	LIN_CH_LINK,       /* one parent link */
	LIN_CH_EXTID,      /* the name `name` left artifacts/ */
	LIN_CH_LATEST,     /* any bucket's latest: its link, channels/ */
};
typedef int (*lin_change_fn)(void *ctx, int kind, int64_t id,
    const char *name);
/* The newest change's sequence number (0 if none). */
int lin_changes_head(struct lin_reg *r, int64_t *seq, struct lin_err *e);
/* Changes after `after`, oldest first, at most max of them; *last is the
 * last one reported.  A reader that fell behind the feed's pruning gets
 * one LIN_CH_ALL. */
int lin_changes_since(struct lin_reg *r, int64_t after, size_t max,
    lin_change_fn fn, void *ctx, int64_t *last, struct lin_err *e);

/* ---- the events log (SPEC §8) ---- */
/* Size in bytes of the whole rendered log. */
int lin_events_size(struct lin_reg *r, int64_t *size, struct lin_err *e);
/* Append to out the bytes [off, off+len) of the rendered log. */
int lin_events_read(struct lin_reg *r, int64_t off, size_t len,
    struct lin_buf *out, struct lin_err *e);
/* mtime of the log: the time of its last event (0 if none). */
int64_t lin_events_mtime(struct lin_reg *r);

#endif
