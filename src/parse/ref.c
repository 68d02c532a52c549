/*
 * ref.c — references to an iteration (SPEC §2, §4, §6): the path written
 * to `parent`, in a manifest's custom_data.parent, or as the target of a
 * channel symlink, reduced to what it names without looking anything up.
 *
 * The path is folded lexically, as a person reading it would: relative
 * paths are joined to the directory they are written in (the mount root
 * for control files, buckets/B/channels for symlinks), "." is dropped and
 * ".." removes the component before it.  Nothing is dereferenced, so a
 * channel in the middle of a path is not followed: only the four canonical
 * shapes below name an iteration.  Whether a named bucket, channel or
 * version exists, and whether the writer may see it, is for the caller
 * (lin_ref_resolve) to decide.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/parse.h"

#define LIN_REF_PATH_MAX 4096	/* PATH_MAX */
#define LIN_REF_COMP_MAX 255	/* NAME_MAX */

struct lin_comp {
	const char *p;
	size_t      n;
};

/* A stack of path components, pointing into the strings it came from. */
struct lin_comps {
	struct lin_comp *v;
	size_t           n;
};

static bool
lin_comp_is(struct lin_comp c, const char *s)
{
	return c.n == strlen(s) && memcmp(c.p, s, c.n) == 0;
}

static size_t
lin_count_slashes(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += s[i] == '/';
	return k;
}

/*
 * Push the components of s[0..n) onto c, folding "." and "..".  A ".."
 * with nothing left to remove returns false, unless clamp is set: an
 * absolute path stays at "/" as the kernel's lookup does.
 */
static bool
lin_comps_push(struct lin_comps *c, const char *s, size_t n, bool clamp)
{
	struct lin_comp w;
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && s[j] != '/'; j++)
			continue;
		w.p = s + i;
		w.n = j - i;
		i = j + 1;
		if (w.n == 0 || lin_comp_is(w, "."))
			continue;
		if (!lin_comp_is(w, "..")) {
			c->v[c->n++] = w;
			continue;
		}
		if (c->n > 0)
			c->n--;
		else if (!clamp)
			return false;
	}
	return true;
}

/* Strip the mount point's components from the front of an absolute path. */
static int
lin_ref_unmount(struct lin_comps *c, const char *mountpoint,
    struct lin_err *e)
{
	struct lin_comps m;
	size_t mlen = strlen(mountpoint), i;
	bool inside;

	m.v = calloc(lin_count_slashes(mountpoint, mlen) + 1, sizeof(*m.v));
	if (m.v == NULL)
		abort();
	m.n = 0;
	lin_comps_push(&m, mountpoint, mlen, true);
	inside = m.n <= c->n;
	for (i = 0; inside && i < m.n; i++)
		inside = m.v[i].n == c->v[i].n &&
		    memcmp(m.v[i].p, c->v[i].p, m.v[i].n) == 0;
	if (inside) {
		memmove(c->v, c->v + m.n, (c->n - m.n) * sizeof(*c->v));
		c->n -= m.n;
	}
	free(m.v);
	if (!inside)
		return lin_errf(e, EINVAL, "the path is outside the mount");
	return 0;
}

/* Copy a component to a C string (it is at most 255 bytes). */
static void
lin_comp_str(struct lin_comp c, char out[LIN_REF_COMP_MAX + 1])
{
	memcpy(out, c.p, c.n);
	out[c.n] = '\0';
}

/* "v" and a positive decimal without leading zeros. */
static int
lin_ref_version(const char *s, int64_t *v, struct lin_err *e)
{
	static const char rule[] = "a version is v and a number, like v3";
	int64_t n = 0;
	size_t i;

	if (s[0] != 'v' || s[1] < '1' || s[1] > '9' || strlen(s) > 19)
		return lin_errf(e, EINVAL, "%s", rule);
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return lin_errf(e, EINVAL, "%s", rule);
		n = n * 10 + (s[i] - '0');
	}
	*v = n;
	return 0;
}

/* The name part of buckets/B/KIND/NAME. */
static int
lin_ref_named(struct lin_comp kind, const char *name, struct lin_ref *ref,
    struct lin_err *e)
{
	int rc;

	if (lin_comp_is(kind, "iterations")) {
		ref->kind = LIN_REF_FINGERPRINT;
		rc = lin_name_fingerprint(name, e);
	} else if (lin_comp_is(kind, "versions")) {
		ref->kind = LIN_REF_VERSION;
		return lin_ref_version(name, &ref->version, e);
	} else if (lin_comp_is(kind, "channels")) {
		ref->kind = LIN_REF_CHANNEL;
		rc = lin_name_channel(name, e);
	} else
		return lin_errf(e, EINVAL, "the path names no iteration");
	if (rc == 0)
		strlcpy(ref->name, name, sizeof(ref->name));
	return rc;
}

/* Classify the folded path, relative to the mount root. */
static int
lin_ref_classify(struct lin_comps *c, struct lin_ref *ref, struct lin_err *e)
{
	char a[LIN_REF_COMP_MAX + 1], b[LIN_REF_COMP_MAX + 1];
	struct lin_comp *v = c->v;
	size_t n = c->n, i;
	int rc;

	for (i = 0; i < n; i++)
		if (v[i].n > LIN_REF_COMP_MAX)
			return lin_errf(e, EINVAL, "the path names no iteration");
	if (n == 2 && lin_comp_is(v[0], "by-id")) {
		lin_comp_str(v[1], b);
		if (!lin_ulid_valid(b))
			return lin_errf(e, EINVAL, "by-id/ holds ULIDs, 26 "
			    "characters of upper-case base32");
		ref->kind = LIN_REF_ULID;
		strlcpy(ref->name, b, sizeof(ref->name));
		return 0;
	}
	/* With four components the first must be buckets/; with three it
	 * was dropped (and a bucket may itself be called "buckets"). */
	if (n == 4 && lin_comp_is(v[0], "buckets")) {
		v++;
		n--;
	}
	if (n != 3)
		return lin_errf(e, EINVAL, "the path names no iteration");
	lin_comp_str(v[0], a);
	lin_comp_str(v[2], b);
	if ((rc = lin_name_bucket(a, e)) != 0)
		return rc;
	strlcpy(ref->bucket, a, sizeof(ref->bucket));
	return lin_ref_named(v[1], b, ref, e);
}

int
lin_ref_parse(const char *path, size_t len, const char *base,
    const char *mountpoint, struct lin_ref *ref, struct lin_err *e)
{
	struct lin_comps c;
	struct lin_ref r;
	size_t blen = base != NULL ? strlen(base) : 0;
	bool abs;
	int rc = 0;

	if (len > 0 && path[len - 1] == '\n')
		len--;
	if (len == 0)
		return lin_errf(e, EINVAL, "an empty path names no iteration");
	if (len > LIN_REF_PATH_MAX)
		return lin_errf(e, EINVAL, "a path is at most 4096 bytes");
	if (memchr(path, '\0', len) != NULL || memchr(path, '\n', len) != NULL)
		return lin_errf(e, EINVAL, "a path is one line");
	abs = path[0] == '/';
	if (abs && mountpoint == NULL)
		return lin_errf(e, EINVAL, "an absolute path needs a mount");
	c.v = calloc(lin_count_slashes(path, len) + lin_count_slashes(base ?
	    base : "", blen) + 2, sizeof(*c.v));
	if (c.v == NULL)
		abort();
	c.n = 0;
	if (!abs && !lin_comps_push(&c, base != NULL ? base : "", blen, false))
		rc = lin_errf(e, EINVAL, "the path leaves the mount");
	else if (!lin_comps_push(&c, path, len, abs))
		rc = lin_errf(e, EINVAL, "the path leaves the mount");
	else if (abs)
		rc = lin_ref_unmount(&c, mountpoint, e);
	memset(&r, 0, sizeof(r));
	if (rc == 0 && (rc = lin_ref_classify(&c, &r, e)) == 0)
		*ref = r;
	free(c.v);
	/* Names too long for the tree still name no iteration. */
	if (rc != 0 && rc != -EINVAL)
		rc = lin_errf(e, EINVAL, "the path names no iteration");
	return rc;
}
