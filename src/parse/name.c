/*
 * name.c — the name rules of SPEC §3: buckets and channels, fingerprints,
 * and the keys that name builds, regions and labels.
 *
 * These names become directory entries, so every check also guards the
 * tree: none of the rules lets "." or ".." or a "/" through.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lineage/parse.h"

#define LIN_NAME_MAX 255 /* a directory entry, as NAME_MAX */

static bool
lin_is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

static bool
lin_is_bucket_char(unsigned char c)
{
	return lin_is_alnum(c) || c == '-';
}

static bool
lin_is_key_char(unsigned char c)
{
	return lin_is_alnum(c) || c == '.' || c == '_' || c == '-';
}

/* Length within [min, max], and every byte passes ok().  Past 255 bytes
 * the kernel's own answer for a name is ENAMETOOLONG, so ours is too. */
static int
lin_name_check(const char *s, size_t min, size_t max,
    bool (*ok)(unsigned char), const char *what, struct lin_err *e)
{
	size_t n, i;

	if (s == NULL)
		return lin_errf(e, EINVAL, "%s", what);
	n = strlen(s);
	if (n > LIN_NAME_MAX)
		return lin_errf(e, ENAMETOOLONG, "a name is at most 255 bytes");
	if (n < min || n > max)
		return lin_errf(e, EINVAL, "%s", what);
	for (i = 0; i < n; i++)
		if (!ok((unsigned char)s[i]))
			return lin_errf(e, EINVAL, "%s", what);
	return 0;
}

int
lin_name_bucket(const char *s, struct lin_err *e)
{
	return lin_name_check(s, 3, LIN_BUCKET_MAX - 1, lin_is_bucket_char,
	    "a bucket name is 3 to 36 letters, digits or dashes", e);
}

int
lin_name_channel(const char *s, struct lin_err *e)
{
	return lin_name_check(s, 3, LIN_BUCKET_MAX - 1, lin_is_bucket_char,
	    "a channel name is 3 to 36 letters, digits or dashes", e);
}

int
lin_name_fingerprint(const char *s, struct lin_err *e)
{
	static const char rule[] = "a fingerprint is 1 to 40 letters, digits, "
	    "dots, underscores or dashes, beginning and ending with a letter "
	    "or digit";
	size_t n;
	int rc;

	if ((rc = lin_name_check(s, 1, LIN_FP_MAX - 1, lin_is_key_char, rule,
	    e)) != 0)
		return rc;
	n = strlen(s);
	if (!lin_is_alnum((unsigned char)s[0]) ||
	    !lin_is_alnum((unsigned char)s[n - 1]))
		return lin_errf(e, EINVAL, "%s", rule);
	return 0;
}

int
lin_name_key(const char *s, struct lin_err *e)
{
	static const char rule[] = "a build, region or label name is 1 to 128 "
	    "letters, digits, dots, underscores or dashes, not beginning with "
	    "a dot";
	int rc;

	if ((rc = lin_name_check(s, 1, LIN_KEY_MAX - 1, lin_is_key_char, rule,
	    e)) != 0)
		return rc;
	if (s[0] == '.')
		return lin_errf(e, EINVAL, "%s", rule);
	return 0;
}
