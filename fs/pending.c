/*
 * pending.c — files made by create(2) that exist only once written.
 *
 * `echo ami-1 > artifacts/us-east-1` is a create and then a write; if the
 * create made the artifact, a refused write would leave an empty one (and
 * its event) behind, and a refused write must change nothing.  So create
 * only checks that the file could be made and hands the kernel a pending
 * inode; the first write makes it, with its value, in one transaction, and
 * a last close with no write makes it empty (`touch`).  A pending inode
 * answers ESTALE once it is made or dropped, so the kernel looks its name
 * up again and finds the real one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

struct pending {
	fuse_ino_t   ino;
	enum nk      kind;
	int64_t      pid;
	char        *name;
	struct nstat ns;
};

static struct {
	pthread_mutex_t lock;
	struct pending *v;
	size_t          n, cap;
	int64_t         next;
} tab = { .lock = PTHREAD_MUTEX_INITIALIZER };

fuse_ino_t
fs_pending_add(enum nk kind, int64_t pid, const char *name,
    const struct nstat *ns)
{
	struct pending *p;
	fuse_ino_t ino;

	pthread_mutex_lock(&tab.lock);
	if (tab.n == tab.cap) {
		tab.cap = tab.cap ? tab.cap * 2 : 16;
		if ((tab.v = realloc(tab.v, tab.cap * sizeof(*tab.v))) == NULL)
			abort();
	}
	ino = ino_make(kind, FS_PENDING_BASE + ++tab.next);
	p = &tab.v[tab.n++];
	p->ino = ino;
	p->kind = kind;
	p->pid = pid;
	if ((p->name = strdup(name)) == NULL)
		abort();
	p->ns = *ns;
	pthread_mutex_unlock(&tab.lock);
	return ino;
}

bool
fs_pending_get(fuse_ino_t ino, int64_t *pid, struct lin_buf *name,
    struct nstat *ns)
{
	bool found = false;

	pthread_mutex_lock(&tab.lock);
	for (size_t i = 0; i < tab.n; i++) {
		if (tab.v[i].ino != ino)
			continue;
		if (pid)
			*pid = tab.v[i].pid;
		if (name)
			lin_buf_puts(name, tab.v[i].name);
		if (ns)
			*ns = tab.v[i].ns;
		found = true;
		break;
	}
	pthread_mutex_unlock(&tab.lock);
	return found;
}

void
fs_pending_drop(fuse_ino_t ino)
{
	pthread_mutex_lock(&tab.lock);
	for (size_t i = 0; i < tab.n; i++) {
		if (tab.v[i].ino != ino)
			continue;
		free(tab.v[i].name);
		tab.v[i] = tab.v[--tab.n];
		break;
	}
	pthread_mutex_unlock(&tab.lock);
}
