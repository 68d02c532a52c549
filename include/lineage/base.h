/*
 * lineage/base.h — the small types every part of the lineagefs engine shares:
 * errors with a message for the caller, a growable byte buffer for rendered
 * files, the actor (who is asking) and the clock.
 *
 * Engine functions return 0 (or a count) on success and a negative errno on
 * failure, with a human sentence in the struct lin_err the caller passed (the
 * sentence that ends up in the mount's `errors` file).  Nothing inside the
 * engine prints.
 */
#ifndef LINEAGE_BASE_H
#define LINEAGE_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LIN_ERR_MAX 256

struct lin_err {
	int  code;              /* positive errno of the last failure, 0 if none */
	char msg[LIN_ERR_MAX];  /* why, in words, without a trailing newline */
};

/* Fill e (which may be NULL) and return -code. */
int lin_errf(struct lin_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The symbolic name of an errno ("EINVAL"), or "E?" for an unknown one. */
const char *lin_errno_name(int code);

/* A growable, always NUL-terminated byte buffer. */
struct lin_buf {
	char  *data;
	size_t len;
	size_t cap;
};

void lin_buf_init(struct lin_buf *b);
void lin_buf_free(struct lin_buf *b);
void lin_buf_reset(struct lin_buf *b);
/* Appenders abort on out-of-memory, like SQLite's and OpenBSD's xmalloc. */
void lin_buf_add(struct lin_buf *b, const void *p, size_t n);
void lin_buf_puts(struct lin_buf *b, const char *s);
void lin_buf_printf(struct lin_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as an event/record field value: bare when it has no space, quote,
 * backslash or control character, else double-quoted with \" \\ \n escapes. */
void lin_buf_putq(struct lin_buf *b, const char *s);
/* The same, always quoted (the `why` of an errors line). */
void lin_buf_putqq(struct lin_buf *b, const char *s);
/* Take ownership of the data (the buffer is left empty). */
char *lin_buf_steal(struct lin_buf *b);

/* Who is asking: the uid/gid of the calling process (from the FUSE request,
 * or getuid() for lineagectl) and its supplementary groups. */
struct lin_actor {
	uid_t        uid;
	gid_t        gid;
	const gid_t *groups;
	int          ngroups;
};

/* The actor of the current process. */
struct lin_actor lin_actor_self(void);
/* User name of uid for `by=` fields: the login name, else "uid:N". */
void lin_actor_name(uid_t uid, char *out, size_t outlen);
/* May a access a file owned by uid/gid with mode, for want (R_OK|W_OK|X_OK)?
 * Root may always, as the kernel's default_permissions allows. */
int lin_actor_may(const struct lin_actor *a, uid_t uid, gid_t gid,
    mode_t mode, int want);

/* Wall-clock time in seconds since the epoch.  The environment variable
 * LINEAGE_TIME_OFFSET (seconds, may be negative) shifts it, for tests of
 * scheduled revocations. */
int64_t lin_now(void);

#define LIN_TIME_MAX 32 /* "2026-11-25T09:30:00Z" and a NUL, with room */

#endif
