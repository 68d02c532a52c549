/*
 * session.c — writes that come without an open.  The mount answers OPEN
 * with ENOSYS, so that the kernel serves every read of a cached file
 * without asking us; a write then reaches us with no handle, only the
 * inode and the writing process.  A session, keyed by the two, carries
 * what an open would have: the document an import is building, the value
 * a multi-line `echo` is extending, and a truncation to zero (the `>` of
 * `echo v > FILE`) waiting for that process's first write, so that the
 * redirection and the write make one change, or, the write refused, none.
 *
 * A waiting clear is what its own process sees (getattr and read answer
 * as if made).  It is made for real, as `: > FILE` asks, before any other
 * process's request is served, and by the ticker once its process has
 * gone or it has waited half a second (other mounts see it within 1 s).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs.h"

#define SESSION_MAX    1024
#define CLEAR_WAIT_MS  500	/* a clear no write followed is made */
#define IDLE_MS        5000	/* an unfinished document is given up */

static struct fs_session *sessions;
static size_t nsessions;
static int nclears;		/* read without fs->lock: atomic */
/* Inodes to drop from the kernel once fs->lock is released (a
 * notification under it could wait for a read that waits for it). */
static fuse_ino_t after[64];
static size_t nafter;
static bool after_all;

static void
later(fuse_ino_t ino)
{
	for (size_t i = 0; i < nafter; i++)
		if (after[i] == ino)
			return;
	if (nafter < sizeof(after) / sizeof(after[0]))
		after[nafter++] = ino;
	else
		after_all = true;
}

/* After fs->lock is released: the feed, then what it does not name.
 * paged: an inode whose page the kernel holds locked for this request,
 * which must not be waited for (true: the feed is left for the caller to
 * process once it has replied). */
static bool
notify_after(struct fs *fs, fuse_ino_t paged)
{
	bool deferred = false;
	fuse_ino_t v[64];
	size_t n;
	bool all;

	pthread_mutex_lock(&fs->lock);
	n = nafter;
	memcpy(v, after, n * sizeof(v[0]));
	all = after_all;
	nafter = 0;
	after_all = false;
	pthread_mutex_unlock(&fs->lock);
	if (paged)
		deferred = !fs_inval_process_writing(fs, paged);
	else
		fs_inval_process(fs);
	if (all && !paged) {
		fs_inval_all(fs);
	} else if (all) {		/* the ticker's, then */
		pthread_mutex_lock(&fs->lock);
		after_all = true;
		pthread_mutex_unlock(&fs->lock);
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] == paged)
			fs_inval_attr(fs, v[i]);
		else
			fs_inval_inode(fs, v[i]);
	}
	return deferred;
}

int64_t
fs_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
fs_wstate_reset(struct fs_wstate *w)
{
	lin_buf_free(&w->doc);
	memset(w, 0, sizeof(*w));
	lin_buf_init(&w->doc);
}

struct fs_session *
fs_session_find(fuse_ino_t ino, pid_t pid)
{
	for (struct fs_session *s = sessions; s; s = s->next)
		if (s->ino == ino && s->pid == pid)
			return s;
	return NULL;
}

void
fs_session_set_clear(struct fs_session *s, bool clear)
{
	if (s->clear != clear)
		__atomic_add_fetch(&nclears, clear ? 1 : -1, __ATOMIC_SEQ_CST);
	s->clear = clear;
}

void
fs_session_close(struct fs_session *s)
{
	struct fs_session **pp;

	for (pp = &sessions; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = s->next;
	nsessions--;
	fs_session_set_clear(s, false);
	lin_buf_free(&s->w.doc);
	free(s);
}

/* Make a session's waiting clear; a refusal is only logged (nobody is
 * left to tell), and nothing changes. */
/* Hand the engine what a session's writer left, as that writer; a
 * refusal is only logged (nobody is left to tell), and nothing changes. */
static int
session_write(struct fs *fs, struct fs_session *s, const char *buf,
    size_t len, const char *opname)
{
	enum nk k = ino_kind(s->ino);
	struct op op;
	int rc;

	memset(&op, 0, sizeof(op));
	op.fs = fs;
	op.actor.uid = s->uid;
	op.actor.gid = s->gid;
	op.actor.groups = op.groups;
	rc = fs_nodes[k].write(&op, ino_id(s->ino), buf, len);
	if (rc) {
		struct lin_buf path;

		lin_buf_init(&path);
		fs_node_path(&op, k, ino_id(s->ino), &path);
		if (op.err.code != -rc)
			lin_errf(&op.err, -rc, "%s", strerror(-rc));
		fs_errors_add(&op, opname, path.data ? path.data : "", -rc);
		lin_buf_free(&path);
		later(ino_make(NK_ERRORS, 1));
	}
	return rc;
}

/* Make a session's waiting clear. */
static void
session_clear(struct fs *fs, struct fs_session *s)
{
	fs_session_set_clear(s, false);
	/* Refused: the kernel took the clear as made, and must ask again. */
	if (session_write(fs, s, "", 0, "truncate"))
		later(s->ino);
}

/* An unfinished import whose writer went: its error goes to `errors`. */
static void
session_abandon(struct fs *fs, struct fs_session *s)
{
	if (!(fs_nodes[ino_kind(s->ino)].flags & NF_STREAM) || s->w.done ||
	    s->w.doc.len == 0)
		return;
	session_write(fs, s, s->w.doc.data, s->w.doc.len, "close");
}

struct fs_session *
fs_session_open(struct op *o, fuse_ino_t ino, pid_t pid)
{
	struct fs_session *s = fs_session_find(ino, pid);

	if (s) {
		s->used = fs_now_ms();
		return s;
	}
	/* Bounded: the oldest (last in the list) makes way. */
	if (nsessions >= SESSION_MAX) {
		struct fs_session *last = sessions;

		while (last->next)
			last = last->next;
		if (last->clear)
			session_clear(o->fs, last);
		session_abandon(o->fs, last);
		fs_session_close(last);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		abort();
	s->ino = ino;
	s->pid = pid;
	s->uid = o->actor.uid;
	s->gid = o->actor.gid;
	lin_buf_init(&s->w.doc);
	s->used = fs_now_ms();
	s->next = sessions;
	sessions = s;
	nsessions++;
	return s;
}

static bool
pid_gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* Under fs->lock: make the clears selected, give up what is idle. */
static void
sessions_sweep(struct fs *fs, pid_t pid, bool due_only, bool all)
{
	int64_t t = fs_now_ms();
	struct fs_session *s, *next;

	for (s = sessions; s; s = next) {
		bool gone, due;

		next = s->next;
		gone = all || pid_gone(s->pid);
		if (s->clear) {
			due = gone || t - s->used >= CLEAR_WAIT_MS;
			if (due_only ? due : s->pid != pid)
				session_clear(fs, s);
		}
		if (due_only && (gone || t - s->used >= IDLE_MS)) {
			session_abandon(fs, s);
			fs_session_close(s);
		}
	}
}

bool
fs_sessions_flush(struct fs *fs, pid_t pid, fuse_ino_t paged)
{
	if (__atomic_load_n(&nclears, __ATOMIC_SEQ_CST) == 0)
		return false;
	pthread_mutex_lock(&fs->lock);
	sessions_sweep(fs, pid, false, false);
	pthread_mutex_unlock(&fs->lock);
	return notify_after(fs, paged);
}

void
fs_sessions_tick(struct fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	if (sessions)
		sessions_sweep(fs, 0, true, false);
	pthread_mutex_unlock(&fs->lock);
	notify_after(fs, 0);
}

void
fs_sessions_finish(struct fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	sessions_sweep(fs, 0, true, true);
	while (sessions)
		fs_session_close(sessions);
	pthread_mutex_unlock(&fs->lock);
}

bool
fs_session_clearing(fuse_ino_t ino, pid_t pid)
{
	struct fs_session *s;

	if (__atomic_load_n(&nclears, __ATOMIC_SEQ_CST) == 0)
		return false;
	s = fs_session_find(ino, pid);
	return s && s->clear;
}
