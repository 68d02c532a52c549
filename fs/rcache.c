/*
 * rcache.c — contents rendered for one request kept for the next.  A
 * listing renders every file it lists (st_size must be exact), and the
 * reads that follow would render them again: a small table of the last
 * renders, keyed by inode, lets the read take the listing's bytes.  The
 * kernel keeps what it reads, so a few hundred entries are enough.
 *
 * An entry is filled under the engine lock and dropped by the same
 * invalidation that drops the kernel's copy of the inode, which comes
 * after any change's commit: an entry is never older than what the kernel
 * may show.
 */
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define RC_SLOTS      512		/* a power of two */
#define RC_ENTRY_MAX  (8u << 20)	/* a bigger render is not kept */
#define RC_BYTES_MAX  (32u << 20)

struct rc_entry {
	fuse_ino_t ino;		/* 0: empty */
	char      *data;
	size_t     len;
	uint64_t   used;
};

static struct {
	pthread_mutex_t lock;
	struct rc_entry e[RC_SLOTS];
	size_t          bytes;
	uint64_t        clock;
} rc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t
rc_slot(fuse_ino_t ino)
{
	uint64_t x = ino * 0x9e3779b97f4a7c15ULL;

	return (size_t)(x >> 32) & (RC_SLOTS - 1);
}

static void
rc_free(struct rc_entry *e)
{
	rc.bytes -= e->len;
	free(e->data);
	memset(e, 0, sizeof(*e));
}

bool
fs_rcache_get(fuse_ino_t ino, struct lin_buf *out)
{
	struct rc_entry *e;
	bool hit = false;

	pthread_mutex_lock(&rc.lock);
	e = &rc.e[rc_slot(ino)];
	if (e->ino == ino) {
		lin_buf_add(out, e->data, e->len);
		e->used = ++rc.clock;
		hit = true;
	}
	pthread_mutex_unlock(&rc.lock);
	return hit;
}

void
fs_rcache_put(fuse_ino_t ino, const struct lin_buf *b)
{
	struct rc_entry *e;
	char *copy;

	if (b->len > RC_ENTRY_MAX)
		return;
	if ((copy = malloc(b->len ? b->len : 1)) == NULL)
		return;
	if (b->len)
		memcpy(copy, b->data, b->len);
	pthread_mutex_lock(&rc.lock);
	e = &rc.e[rc_slot(ino)];
	if (e->ino)
		rc_free(e);
	/* Over budget: drop the least recently used until it fits. */
	while (rc.bytes + b->len > RC_BYTES_MAX) {
		struct rc_entry *old = NULL;

		for (size_t i = 0; i < RC_SLOTS; i++)
			if (rc.e[i].ino && (old == NULL ||
			    rc.e[i].used < old->used))
				old = &rc.e[i];
		if (old == NULL)
			break;
		rc_free(old);
	}
	e->ino = ino;
	e->data = copy;
	e->len = b->len;
	e->used = ++rc.clock;
	rc.bytes += b->len;
	pthread_mutex_unlock(&rc.lock);
}

void
fs_rcache_drop(fuse_ino_t ino)
{
	fs_rcache_drop_all(&ino, 1);
}

/* The same for several inodes (an object's files) under one lock: an
 * invalidation of a cascade's 100k iterations drops 19 inodes each. */
void
fs_rcache_drop_all(const fuse_ino_t *inos, size_t n)
{
	pthread_mutex_lock(&rc.lock);
	for (size_t i = 0; i < n; i++) {
		struct rc_entry *e = &rc.e[rc_slot(inos[i])];

		if (e->ino == inos[i])
			rc_free(e);
	}
	pthread_mutex_unlock(&rc.lock);
}

void
fs_rcache_clear(void)
{
	pthread_mutex_lock(&rc.lock);
	for (size_t i = 0; i < RC_SLOTS; i++)
		if (rc.e[i].ino)
			rc_free(&rc.e[i]);
	pthread_mutex_unlock(&rc.lock);
}
