/*
 * errors.c — the `errors` file (SPEC §9): this mount's most recent
 * refusals, each with who, what, the errno's name and the reason in words.
 * Kept in memory only: it is a help for the person at the terminal, while
 * the events log is the registry's durable record.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define ERRORS_KEPT 256

static struct {
	pthread_mutex_t lock;
	char           *line[ERRORS_KEPT];
	unsigned        next;
	int64_t         mtime;
} ring = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * A refused name may be any bytes: a value that is not clean UTF-8
 * without control characters is quoted with everything but printable
 * ASCII shown as \xNN, so `cat errors` can never drive a terminal and
 * always reads as UTF-8.  always: quote even a clean value.
 */
static void
errors_put(struct lin_buf *b, const char *v, bool always)
{
	if (lin_utf8_clean(v, strlen(v), false)) {
		if (always)
			lin_buf_putqq(b, v);
		else
			lin_buf_putq(b, v);
		return;
	}
	lin_buf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			lin_buf_printf(b, "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			lin_buf_add(b, p, 1);
		else
			lin_buf_printf(b, "\\x%02x", *p);
	}
	lin_buf_add(b, "\"", 1);
}

void
fs_errors_add(struct op *o, const char *opname, const char *path, int code)
{
	char t[LIN_TIME_MAX];
	struct lin_buf b;
	int64_t now = lin_now();

	lin_time_format(now, t);
	lin_buf_init(&b);
	lin_buf_printf(&b, "%s uid=%u op=%s path=", t, (unsigned)o->actor.uid,
	    opname);
	errors_put(&b, path, false);
	lin_buf_printf(&b, " errno=%s why=", lin_errno_name(code));
	/* why is always quoted, as SPEC §9 shows it. */
	errors_put(&b, o->err.msg[0] ? o->err.msg : "refused", true);
	lin_buf_puts(&b, "\n");
	pthread_mutex_lock(&ring.lock);
	free(ring.line[ring.next % ERRORS_KEPT]);
	ring.line[ring.next % ERRORS_KEPT] = lin_buf_steal(&b);
	ring.next++;
	ring.mtime = now;
	pthread_mutex_unlock(&ring.lock);
}

void
fs_errors_render(struct lin_buf *out, int64_t *mtime)
{
	unsigned first;

	pthread_mutex_lock(&ring.lock);
	first = ring.next > ERRORS_KEPT ? ring.next - ERRORS_KEPT : 0;
	for (unsigned i = first; i < ring.next; i++)
		lin_buf_puts(out, ring.line[i % ERRORS_KEPT]);
	*mtime = ring.mtime;
	pthread_mutex_unlock(&ring.lock);
}
