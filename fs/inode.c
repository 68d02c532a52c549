/*
 * inode.c — the inodes the kernel holds: a hash table of inode number to
 * lookup count, kept from every entry we hand the kernel (lookup, mkdir,
 * create, symlink, readdirplus) and every forget it sends back.  It holds
 * no names and no data, so it costs a few bytes per cached inode however
 * large the registry; invalidation asks it which inodes are worth a
 * notification.
 *
 * One bit more per inode says that its content (file data, link target,
 * listing) was given to the kernel and we have not told it to drop that
 * since: a request for it again is the kernel's own doing (memory
 * reclaim), which the request counters report apart from the rest.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

struct slot {
	fuse_ino_t ino;		/* 0: empty */
	uint64_t   n;		/* lookups, and GIVEN */
};

/* The content was given and not dropped since (never a lookup count). */
#define GIVEN	(1ULL << 63)

static struct {
	pthread_mutex_t lock;
	struct slot    *slot;
	size_t          cap;	/* a power of two */
	size_t          used;
} tab = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t
hash(fuse_ino_t ino)
{
	uint64_t x = ino;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static void
grow(void)
{
	struct slot *old = tab.slot;
	size_t oldcap = tab.cap;

	tab.cap = oldcap ? oldcap * 2 : 1024;
	if ((tab.slot = calloc(tab.cap, sizeof(*tab.slot))) == NULL)
		abort();
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].ino == 0)
			continue;
		for (j = hash(old[i].ino) & (tab.cap - 1); tab.slot[j].ino;
		    j = (j + 1) & (tab.cap - 1))
			;
		tab.slot[j] = old[i];
	}
	free(old);
}

static struct slot *
find(fuse_ino_t ino)
{
	if (tab.cap == 0)
		return NULL;
	for (size_t j = hash(ino) & (tab.cap - 1);; j = (j + 1) & (tab.cap - 1)) {
		if (tab.slot[j].ino == ino)
			return &tab.slot[j];
		if (tab.slot[j].ino == 0)
			return NULL;
	}
}

void
fs_inode_ref(fuse_ino_t ino)
{
	struct slot *s;

	if (ino == FUSE_ROOT_ID)
		return;		/* the root is never forgotten */
	pthread_mutex_lock(&tab.lock);
	if ((s = find(ino)) != NULL) {
		s->n++;
	} else {
		size_t j;

		/* Full up to 7/8: the table is the daemon's largest
		 * allocation (16 bytes an inode the kernel holds), and while it
		 * grows the old one is alive too.  Probes stay short at that
		 * load for lookups, which find what they probe for. */
		if ((tab.used + 1) * 8 > tab.cap * 7)
			grow();
		for (j = hash(ino) & (tab.cap - 1); tab.slot[j].ino;
		    j = (j + 1) & (tab.cap - 1))
			;
		tab.slot[j].ino = ino;
		tab.slot[j].n = 1;
		tab.used++;
	}
	pthread_mutex_unlock(&tab.lock);
}

/* Remove slot i, shifting back the entries that probed past it. */
static void
erase(size_t i)
{
	size_t j = i, mask = tab.cap - 1;

	tab.slot[i].ino = 0;
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (tab.slot[j].ino == 0)
			break;
		k = hash(tab.slot[j].ino) & mask;
		/* Leave it if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		tab.slot[i] = tab.slot[j];
		tab.slot[j].ino = 0;
		i = j;
	}
	tab.used--;
}

void
fs_inode_forget(fuse_ino_t ino, uint64_t n)
{
	struct slot *s;

	pthread_mutex_lock(&tab.lock);
	if ((s = find(ino)) != NULL) {
		if ((s->n & ~GIVEN) > n)
			s->n -= n;
		else
			erase((size_t)(s - tab.slot));
	}
	pthread_mutex_unlock(&tab.lock);
}

bool
fs_inode_given(fuse_ino_t ino, bool give)
{
	struct slot *s;
	bool was = false;

	pthread_mutex_lock(&tab.lock);
	if ((s = find(ino)) != NULL) {
		was = (s->n & GIVEN) != 0;
		if (give)
			s->n |= GIVEN;
	}
	pthread_mutex_unlock(&tab.lock);
	return was;
}

void
fs_inode_dropped(fuse_ino_t ino)
{
	struct slot *s;

	pthread_mutex_lock(&tab.lock);
	if ((s = find(ino)) != NULL)
		s->n &= ~GIVEN;
	pthread_mutex_unlock(&tab.lock);
}

bool
fs_inode_known(fuse_ino_t ino)
{
	bool known;

	if (ino == FUSE_ROOT_ID)
		return true;
	pthread_mutex_lock(&tab.lock);
	known = find(ino) != NULL;
	pthread_mutex_unlock(&tab.lock);
	return known;
}

size_t
fs_inode_keep_known(fuse_ino_t *inos, size_t n)
{
	size_t kept = 0;

	pthread_mutex_lock(&tab.lock);
	for (size_t i = 0; i < n; i++)
		if (inos[i] == FUSE_ROOT_ID || find(inos[i]) != NULL)
			inos[kept++] = inos[i];
	pthread_mutex_unlock(&tab.lock);
	return kept;
}

size_t
fs_inode_count(void)
{
	size_t n;

	pthread_mutex_lock(&tab.lock);
	n = tab.used;
	pthread_mutex_unlock(&tab.lock);
	return n;
}

/* The known inodes whose kind passes want (all when want is NULL), copied
 * out so the caller notifies without holding the table. */
fuse_ino_t *
fs_inode_select(const bool *want, size_t *count)
{
	fuse_ino_t *out;
	size_t n = 0;

	pthread_mutex_lock(&tab.lock);
	if ((out = malloc((tab.used + 1) * sizeof(*out))) == NULL)
		abort();
	for (size_t i = 0; i < tab.cap; i++) {
		fuse_ino_t ino = tab.slot[i].ino;

		if (ino && ino_kind(ino) < NK_COUNT &&
		    (want == NULL || want[ino_kind(ino)]))
			out[n++] = ino;
	}
	pthread_mutex_unlock(&tab.lock);
	*count = n;
	return out;
}
