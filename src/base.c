/*
 * base.c — the shared base of the lineagefs engine: errors that carry a
 * sentence for the user, the growable buffer every renderer writes into,
 * the actor (who is asking, and what the permission bits let them do) and
 * the clock.
 *
 * Nothing here knows about the registry or about FUSE; every other module
 * of the engine builds on it.
 */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lineage/base.h"

/* ---- errors ---- */

int
lin_errf(struct lin_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	if (e != NULL) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

/* Both signs are accepted, since engine functions return -errno. */
const char *
lin_errno_name(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case 0:			return "0";
	case EPERM:		return "EPERM";
	case ENOENT:		return "ENOENT";
	case ESRCH:		return "ESRCH";
	case EINTR:		return "EINTR";
	case EIO:		return "EIO";
	case ENXIO:		return "ENXIO";
	case E2BIG:		return "E2BIG";
	case EBADF:		return "EBADF";
	case EAGAIN:		return "EAGAIN";
	case ENOMEM:		return "ENOMEM";
	case EACCES:		return "EACCES";
	case EFAULT:		return "EFAULT";
	case EBUSY:		return "EBUSY";
	case EEXIST:		return "EEXIST";
	case EXDEV:		return "EXDEV";
	case ENODEV:		return "ENODEV";
	case ENOTDIR:		return "ENOTDIR";
	case EISDIR:		return "EISDIR";
	case EINVAL:		return "EINVAL";
	case ENFILE:		return "ENFILE";
	case EMFILE:		return "EMFILE";
	case EFBIG:		return "EFBIG";
	case ENOSPC:		return "ENOSPC";
	case ESPIPE:		return "ESPIPE";
	case EROFS:		return "EROFS";
	case EMLINK:		return "EMLINK";
	case ERANGE:		return "ERANGE";
	case EDEADLK:		return "EDEADLK";
	case ENAMETOOLONG:	return "ENAMETOOLONG";
	case ENOSYS:		return "ENOSYS";
	case ENOTEMPTY:		return "ENOTEMPTY";
	case ELOOP:		return "ELOOP";
	case ENODATA:		return "ENODATA";
	case EOVERFLOW:		return "EOVERFLOW";
	case ENOTSUP:		return "ENOTSUP";
	case ETIMEDOUT:		return "ETIMEDOUT";
	case EALREADY:		return "EALREADY";
	case ESTALE:		return "ESTALE";
	case ECANCELED:		return "ECANCELED";
	case EKEYREVOKED:	return "EKEYREVOKED";
	default:		return "E?";
	}
}

/* ---- buffers ---- */

static void *
lin_xrealloc(void *p, size_t n)
{
	void *q;

	if ((q = realloc(p, n)) == NULL)
		abort();
	return q;
}

/* Make room for n more bytes and the NUL. */
static void
lin_buf_grow(struct lin_buf *b, size_t n)
{
	size_t need, cap;

	if (n > SIZE_MAX - b->len - 1)
		abort();
	need = b->len + n + 1;
	if (b->data != NULL && need <= b->cap)
		return;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = lin_xrealloc(b->data, cap);
	b->cap = cap;
}

/*
 * The buffer owns memory from the start so that data is a valid empty
 * string even before anything is appended: renderers hand out b->data
 * without caring whether they wrote anything.
 */
void
lin_buf_init(struct lin_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	lin_buf_grow(b, 0);
	b->data[0] = '\0';
}

void
lin_buf_free(struct lin_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
lin_buf_reset(struct lin_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
lin_buf_add(struct lin_buf *b, const void *p, size_t n)
{
	lin_buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
lin_buf_puts(struct lin_buf *b, const char *s)
{
	lin_buf_add(b, s, strlen(s));
}

/* Print straight into the free space; only an overflow formats twice. */
void
lin_buf_printf(struct lin_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	lin_buf_grow(b, 64);
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n >= room) {
		lin_buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static int
lin_needs_quote(unsigned char c)
{
	return c == ' ' || c == '"' || c == '\\' || c < 0x20 || c == 0x7f;
}

/*
 * Events and records are lines of key=value fields, so a value must never
 * split a line or a field: anything with a space, quote, backslash or
 * control character is quoted, with escapes that keep it on one line.
 */
static void
lin_buf_quoted(struct lin_buf *b, const char *s)
{
	const unsigned char *p;

	lin_buf_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':	lin_buf_add(b, "\\\"", 2); break;
		case '\\':	lin_buf_add(b, "\\\\", 2); break;
		case '\n':	lin_buf_add(b, "\\n", 2); break;
		case '\t':	lin_buf_add(b, "\\t", 2); break;
		case '\r':	lin_buf_add(b, "\\r", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				lin_buf_printf(b, "\\x%02x", *p);
			else
				lin_buf_add(b, p, 1);
		}
	}
	lin_buf_add(b, "\"", 1);
}

void
lin_buf_putq(struct lin_buf *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (lin_needs_quote(*p))
			break;
	if (*p == '\0' && p != (const unsigned char *)s)
		lin_buf_puts(b, s);
	else
		lin_buf_quoted(b, s);
}

void
lin_buf_putqq(struct lin_buf *b, const char *s)
{
	lin_buf_quoted(b, s);
}

/* The buffer is left empty (data NULL) but usable: add and free work. */
char *
lin_buf_steal(struct lin_buf *b)
{
	char *p;

	if (b->data == NULL)
		lin_buf_init(b);
	p = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

/* ---- the actor ---- */

/*
 * The process's supplementary groups do not change while it runs, so they
 * are read once and shared by every actor lin_actor_self hands out.
 */
static gid_t *self_groups;
static int self_ngroups;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void
lin_self_groups_load(void)
{
	int n;

	if ((n = getgroups(0, NULL)) <= 0)
		return;
	self_groups = lin_xrealloc(NULL, (size_t)n * sizeof(gid_t));
	if ((n = getgroups(n, self_groups)) < 0)
		n = 0;
	self_ngroups = n;
}

struct lin_actor
lin_actor_self(void)
{
	struct lin_actor a;

	pthread_once(&self_once, lin_self_groups_load);
	a.uid = getuid();
	a.gid = getgid();
	a.groups = self_groups;
	a.ngroups = self_ngroups;
	return a;
}

void
lin_actor_name(uid_t uid, char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t len = 1024;
	int rc;

	if (outlen == 0)
		return;
	/* getpwuid_r says ERANGE when its scratch buffer is too small. */
	for (;;) {
		buf = lin_xrealloc(buf, len);
		rc = getpwuid_r(uid, &pw, buf, len, &res);
		if (rc != ERANGE || len >= 1 << 20)
			break;
		len *= 2;
	}
	if (rc == 0 && res != NULL && res->pw_name != NULL &&
	    res->pw_name[0] != '\0' && strlen(res->pw_name) < outlen)
		snprintf(out, outlen, "%s", res->pw_name);
	else
		snprintf(out, outlen, "uid:%lu", (unsigned long)uid);
	free(buf);
}

static int
lin_actor_in_group(const struct lin_actor *a, gid_t gid)
{
	int i;

	if (a->gid == gid)
		return 1;
	for (i = 0; i < a->ngroups; i++)
		if (a->groups[i] == gid)
			return 1;
	return 0;
}

/*
 * The classic Unix rule, as the kernel's default_permissions applies it:
 * exactly one class of bits counts (owner, else group, else other), so an
 * owner whose own bits deny is denied even when others are allowed.
 */
int
lin_actor_may(const struct lin_actor *a, uid_t uid, gid_t gid, mode_t mode,
    int want)
{
	mode_t bits;

	want &= R_OK | W_OK | X_OK;
	if (a->uid == 0)
		return 1;
	if (a->uid == uid)
		bits = (mode >> 6) & 7;
	else if (lin_actor_in_group(a, gid))
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	return ((int)bits & want) == want;
}

/* ---- the clock ---- */

#define LIN_OFFSET_MAX (10000LL * 366 * 86400) /* ten thousand years */

int64_t
lin_now(void)
{
	struct timespec ts;
	const char *s;
	char *end;
	long long off = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if ((s = getenv("LINEAGE_TIME_OFFSET")) != NULL && *s != '\0') {
		errno = 0;
		off = strtoll(s, &end, 10);
		/* A malformed or absurd offset is ignored rather than
		 * half-applied (and cannot overflow the sum). */
		if (errno != 0 || *end != '\0' || off > LIN_OFFSET_MAX ||
		    off < -LIN_OFFSET_MAX)
			off = 0;
	}
	return (int64_t)ts.tv_sec + (int64_t)off;
}
