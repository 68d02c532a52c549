/*
 * regfix.h — a fixture for engine tests that need a real registry: a
 * fresh SQLite file per test, and short helpers that build buckets,
 * iterations (running or complete), links and channels through the public
 * API, failing the test on any unexpected error.
 *
 * Helpers are static inline (a test need not use them all): each test
 * program includes this once.
 */
#ifndef LINEAGE_TEST_REGFIX_H
#define LINEAGE_TEST_REGFIX_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineage/lineage.h"

static struct lin_reg *R;
static struct lin_actor A;
static struct lin_err E;
static char regpath[64];

static inline void
fx_setup(void)
{
	int fd;

	unsetenv("LINEAGE_TIME_OFFSET");
	snprintf(regpath, sizeof(regpath), "/tmp/lineage-unit-XXXXXX");
	fd = mkstemp(regpath);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(regpath);	/* lin_reg_open creates it */
	A = lin_actor_self();
	memset(&E, 0, sizeof(E));
	ck_assert_msg(lin_reg_open(regpath, 0, &R, &E) == 0, "open: %s",
	    E.msg);
}

static inline void
fx_teardown(void)
{
	char p[96];

	lin_reg_close(R);
	R = NULL;
	unlink(regpath);
	snprintf(p, sizeof(p), "%s-wal", regpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", regpath);
	unlink(p);
	unsetenv("LINEAGE_TIME_OFFSET");
}

/* Move the clock: LINEAGE_TIME_OFFSET seconds from now. */
static inline void
fx_clock(long long offset)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", offset);
	setenv("LINEAGE_TIME_OFFSET", v, 1);
}

static inline int64_t
fx_bucket(const char *name)
{
	struct lin_bucket b;

	ck_assert_msg(lin_bucket_create(R, &A, name, 0755, &b, &E) == 0,
	    "bucket %s: %s", name, E.msg);
	return b.id;
}

static inline int64_t
fx_running(int64_t bucket, const char *fp)
{
	struct lin_iteration it;

	ck_assert_msg(lin_iteration_create(R, &A, bucket, fp, &it, &E) == 0,
	    "iteration %s: %s", fp, E.msg);
	return it.id;
}

/* Give a running iteration a build with an artifact, and complete it. */
static inline void
fx_complete(int64_t id)
{
	struct lin_artifact art;
	struct lin_build b;
	char ext[64];

	snprintf(ext, sizeof(ext), "ami-%lld", (long long)id);
	ck_assert_msg(lin_build_create(R, &A, id, "amazon-ebs.main", &b,
	    &E) == 0, "build: %s", E.msg);
	ck_assert_msg(lin_artifact_set(R, &A, b.id, "us-east-1", ext,
	    strlen(ext), &art, &E) == 0, "artifact: %s", E.msg);
	ck_assert_msg(lin_iteration_complete(R, &A, id, "1\n", 2, &E) == 0,
	    "complete: %s", E.msg);
}

static inline int64_t
fx_active(int64_t bucket, const char *fp)
{
	int64_t id = fx_running(bucket, fp);

	fx_complete(id);
	return id;
}

/* Write a path to the child's `parent` file; returns the engine's result. */
static inline int
fx_parent(int64_t child, const char *path)
{
	memset(&E, 0, sizeof(E));
	return lin_parent_add(R, &A, child, path, strlen(path), &E);
}

static inline void
fx_link(int64_t child, const char *path)
{
	ck_assert_msg(fx_parent(child, path) == 0, "parent %s: %s", path,
	    E.msg);
}

static inline void
fx_assign(int64_t bucket, const char *channel, const char *fp)
{
	struct lin_channel ch;
	char target[96];

	snprintf(target, sizeof(target), "../iterations/%s", fp);
	ck_assert_msg(lin_channel_assign(R, &A, bucket, channel, target, &ch,
	    &E) == 0, "assign %s: %s", channel, E.msg);
}

/* The fingerprint a channel points at, or "" when it does not exist. */
static inline const char *
fx_channel(int64_t bucket, const char *channel)
{
	static char fp[LIN_FP_MAX];
	struct lin_channel ch;

	if (lin_channel_get(R, bucket, channel, &ch, NULL) != 0)
		return "";
	snprintf(fp, sizeof(fp), "%s", ch.fingerprint);
	return fp;
}

static inline enum lin_status
fx_status(int64_t id)
{
	struct lin_iteration it;

	ck_assert_msg(lin_iteration_get(R, id, &it, &E) == 0, "get: %s",
	    E.msg);
	return it.status;
}

static inline const char *
fx_word(int64_t id)
{
	return lin_status_word(fx_status(id));
}

/* Render with one of the lin_render_* functions into a static-lifetime
 * string that the next call replaces. */
typedef int (*fx_render_fn)(struct lin_reg *, int64_t, struct lin_buf *,
    struct lin_err *);
static inline char *
fx_render(fx_render_fn fn, int64_t id)
{
	static struct lin_buf b;

	lin_buf_free(&b);
	lin_buf_init(&b);
	ck_assert_msg(fn(R, id, &b, &E) == 0, "render: %s", E.msg);
	lin_buf_add(&b, "", 0);
	return b.data ? b.data : (char *)"";
}

/* The whole events log. */
static inline char *
fx_events(void)
{
	static struct lin_buf b;
	int64_t size;

	lin_buf_free(&b);
	lin_buf_init(&b);
	ck_assert_int_eq(lin_events_size(R, &size, &E), 0);
	ck_assert_int_eq(lin_events_read(R, 0, (size_t)size, &b, &E), 0);
	ck_assert_uint_eq(b.len, (size_t)size);
	lin_buf_add(&b, "", 0);
	return b.data ? b.data : (char *)"";
}

/* How many lines of the log contain every one of the given fragments. */
static inline int
fx_count_events(const char *f1, const char *f2, const char *f3)
{
	char *log = fx_events(), *line, *save = NULL;
	int n = 0;

	log = strdup(log);
	for (line = strtok_r(log, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, f1) && (!f2 || strstr(line, f2)) &&
		    (!f3 || strstr(line, f3)))
			n++;
	free(log);
	return n;
}

#endif
