/*
 * lineage/parse.h — the pure parsers of the lineagefs contract: names and
 * values (SPEC §3), times and durations, revoke lines (§5.3), ULIDs, and the
 * iteration paths that control files and symlinks accept (§2).
 *
 * Every parser is a pure function from bytes to a value or an error: no
 * registry, no I/O, no global state (the ULID generator takes its entropy
 * from the caller).  Each is unit-tested rule by rule and fuzzed.
 */
#ifndef LINEAGE_PARSE_H
#define LINEAGE_PARSE_H

#include <stdbool.h>
#include "lineage/base.h"

/* Lengths with room for the NUL. */
#define LIN_BUCKET_MAX      37   /* bucket and channel names: 3-36 */
#define LIN_FP_MAX          41   /* fingerprints: 1-40 */
#define LIN_KEY_MAX         129  /* builds, regions, label keys: 1-128 */
#define LIN_ULID_LEN        26
#define LIN_VALUE_MAX       1024
#define LIN_TEXT_MAX        4096 /* description */
#define LIN_REASON_MAX      1024

/*
 * Name rules.  Each returns 0, or -EINVAL (-ENAMETOOLONG past 255 bytes)
 * with the rule that was broken in e.
 */
int lin_name_bucket(const char *s, struct lin_err *e);      /* also channels */
int lin_name_channel(const char *s, struct lin_err *e);
int lin_name_fingerprint(const char *s, struct lin_err *e);
int lin_name_key(const char *s, struct lin_err *e);          /* BUILD, REGION, KEY */

/*
 * Values as written to a value file: buf/len is the whole of one write(2).
 * One trailing "\n" is dropped; the rest must be valid UTF-8 without control
 * characters (LIN_VALUE_TEXT also allows "\n" and "\t"), at most
 * LIN_VALUE_MAX (LIN_VALUE_TEXT: LIN_TEXT_MAX) bytes.  On success *out is a
 * malloc'd NUL-terminated copy (possibly empty).  Errors: -EINVAL (NUL,
 * control character, bad UTF-8), -EFBIG (too long).
 */
enum lin_value_kind {
	LIN_VALUE_LINE,  /* single line, 1024 bytes */
	LIN_VALUE_TEXT,  /* multi-line, 4096 bytes */
};
int lin_value_parse(const char *buf, size_t len, enum lin_value_kind kind,
    char **out, struct lin_err *e);
/* Is s (len bytes) valid UTF-8 without control characters, except that
 * newlines and tabs may pass when multiline is set? */
bool lin_utf8_clean(const char *s, size_t len, bool multiline);
/* Is s (len bytes) well-formed UTF-8, whatever the characters? */
bool lin_utf8_valid(const char *s, size_t len);
/* Is s (len bytes) exactly one JSON text (RFC 8259, UTF-8, nesting at
 * most 512 deep)?  A gate before SQLite's JSON functions, which accept
 * some malformed documents. */
bool lin_json_valid(const char *s, size_t len);

/*
 * Times: RFC 3339 in UTC, to the second ("2026-11-25T09:30:00Z").  Parsing
 * also accepts fractional seconds (dropped) and numeric offsets
 * ("+02:00"), which it converts to UTC.  Errors: -EINVAL.
 */
void lin_time_format(int64_t t, char out[LIN_TIME_MAX]);
int  lin_time_parse(const char *s, int64_t *t, struct lin_err *e);

/* Durations "30d", "2h45m", "90s", "1d12h" (units s m h d, each at most once,
 * in that descending order; "0s" is zero).  Errors: -EINVAL, -ERANGE never:
 * anything past 100 years is -EINVAL. */
int lin_duration_parse(const char *s, int64_t *secs, struct lin_err *e);

/*
 * A revoke line (SPEC §5.3):
 *   [in=DURATION | at=TIME] [descendants=yes|no] [rollback=yes|no] REASON...
 * buf/len is one write(2); one trailing "\n" is dropped; any other newline
 * makes it several lines (-EINVAL).  Options may come in any order before
 * the reason, each at most once; the reason is the rest of the line
 * (leading spaces skipped), 1-1024 bytes of printable UTF-8.  now resolves
 * in=: at = now + duration; no time, in=0s or a time not after now give
 * at = now and scheduled = false.
 */
struct lin_revoke_req {
	int64_t at;                          /* when it takes effect */
	bool    scheduled;                   /* at > now */
	bool    descendants;                 /* default true */
	bool    rollback;                    /* default true */
	char    reason[LIN_REASON_MAX + 1];
};
int lin_revoke_parse(const char *buf, size_t len, int64_t now,
    struct lin_revoke_req *r, struct lin_err *e);

/* A new ULID (26 Crockford base32 characters) from a time in milliseconds
 * and 10 bytes of randomness. */
void lin_ulid_format(int64_t ms, const unsigned char rnd[10],
    char out[LIN_ULID_LEN + 1]);
/* Is s a well-formed ULID (26 characters of Crockford base32, upper case)? */
bool lin_ulid_valid(const char *s);

/*
 * Iteration references (SPEC §2): the text written to `parent`, or the
 * target of a channel symlink, parsed to what it names, without looking
 * anything up.
 *
 * path is resolved against base, a directory path relative to the mount
 * root ("" for control files, "buckets/B/channels" for a symlink in
 * channels/): relative paths are joined to base, "." and ".." are folded
 * lexically, and an absolute path must lie inside mountpoint (which may be
 * NULL when there is no mount: then absolute paths are refused).  The
 * result must then be one of
 *     buckets/B/iterations/FP    buckets/B/versions/vN
 *     buckets/B/channels/NAME    by-id/ULID
 * where the leading "buckets/" may be dropped; one trailing "/" and one
 * trailing "\n" are allowed.  Errors: -EINVAL for what names no iteration
 * or leaves the mount (with the reason in e).
 */
enum lin_ref_kind {
	LIN_REF_FINGERPRINT,
	LIN_REF_VERSION,
	LIN_REF_CHANNEL,
	LIN_REF_ULID,
};
struct lin_ref {
	enum lin_ref_kind kind;
	char    bucket[LIN_BUCKET_MAX];     /* empty for LIN_REF_ULID */
	char    name[LIN_FP_MAX];           /* FP, channel name or ULID */
	int64_t version;                    /* LIN_REF_VERSION */
};
int lin_ref_parse(const char *path, size_t len, const char *base,
    const char *mountpoint, struct lin_ref *ref, struct lin_err *e);

/* The artifacts/ directory's name for an external id: "/" becomes "%2F" and
 * "%" becomes "%25"; and back (-EINVAL for a malformed escape). */
void lin_extid_escape(const char *id, struct lin_buf *out);
int  lin_extid_unescape(const char *name, struct lin_buf *out,
    struct lin_err *e);

#endif
