/*
 * extid.c — names in the artifacts/ directory (SPEC §2): an external id
 * (an AMI id, an image URL, a docker digest) becomes one directory entry,
 * with "/" written "%2F" and "%" written "%25".
 *
 * Unescaping accepts exactly the two escapes escaping produces, in upper
 * case, so that every external id has one name and no other name reaches
 * it.
 */
#include <errno.h>
#include <string.h>

#include "lineage/parse.h"

void
lin_extid_escape(const char *id, struct lin_buf *out)
{
	const char *p;

	for (p = id; *p != '\0'; p++) {
		if (*p == '/')
			lin_buf_add(out, "%2F", 3);
		else if (*p == '%')
			lin_buf_add(out, "%25", 3);
		else
			lin_buf_add(out, p, 1);
	}
}

int
lin_extid_unescape(const char *name, struct lin_buf *out, struct lin_err *e)
{
	const char *p;

	for (p = name; *p != '\0'; p++) {
		if (*p == '/')
			return lin_errf(e, EINVAL,
			    "an artifact name cannot hold a slash");
		if (*p != '%') {
			lin_buf_add(out, p, 1);
			continue;
		}
		if (strncmp(p, "%2F", 3) == 0)
			lin_buf_add(out, "/", 1);
		else if (strncmp(p, "%25", 3) == 0)
			lin_buf_add(out, "%", 1);
		else
			return lin_errf(e, EINVAL, "in an artifact name, %% "
			    "starts %%2F or %%25");
		p += 2;
	}
	return 0;
}
