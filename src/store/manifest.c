/*
 * manifest.c — importing the JSON that Packer's `manifest` post-processor
 * writes (SPEC §7) as one complete iteration of a bucket.
 *
 * The document is read with SQLite's JSON functions (json_valid,
 * json_type, json_extract, json_each), so there is no JSON parser of our
 * own to get wrong.  Everything that can be checked without the registry
 * (types, names, the artifact_id grammar) is checked first; then the
 * iteration is made through the public mutators inside one transaction,
 * so the value rules, permissions and events are exactly those of the
 * mount, and any refusal rolls the whole import back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* A manifest is a few kilobytes; this only stops a runaway writer. */
#define MF_MAX_BYTES (16 * 1024 * 1024)

struct mf_label {
	char *key;
	char *value;
};

struct mf_artifact {
	char *region;
	char *id;
};

struct mf_build {
	int64_t             index;      /* position in the manifest's builds */
	char               *name;       /* registry name of the build */
	const char         *platform;   /* points into builder or a constant */
	char               *builder;
	char               *artifact_id;
	char               *run;        /* packer_run_uuid, NULL if absent */
	char               *region;     /* custom_data.region */
	char               *source;     /* custom_data.source_image */
	char               *parent;     /* custom_data.parent */
	char               *fingerprint;/* custom_data.fingerprint */
	bool                custom;     /* has a custom_data object */
	struct mf_artifact *art;
	size_t              nart;
	struct mf_label    *lab;
	size_t              nlab;
};

struct mf {
	const char      *json;
	size_t           len;
	char            *last_run;      /* NULL if absent */
	char            *fingerprint;   /* the iteration's */
	struct mf_build *b;
	size_t           n;
};

static char *
mf_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		abort();	/* as lin_buf does: out of memory is fatal */
	return d;
}

static void
mf_build_free(struct mf_build *b)
{
	free(b->name);
	free(b->builder);
	free(b->artifact_id);
	free(b->run);
	free(b->region);
	free(b->source);
	free(b->parent);
	free(b->fingerprint);
	for (size_t j = 0; j < b->nart; j++) {
		free(b->art[j].region);
		free(b->art[j].id);
	}
	free(b->art);
	for (size_t j = 0; j < b->nlab; j++) {
		free(b->lab[j].key);
		free(b->lab[j].value);
	}
	free(b->lab);
}

static void
mf_free(struct mf *m)
{
	for (size_t i = 0; i < m->n; i++)
		mf_build_free(&m->b[i]);
	free(m->b);
	free(m->last_run);
	free(m->fingerprint);
}

/* A name rule broken inside a manifest is a malformed manifest: the
 * import refuses it with EINVAL even where a direct mkdir would say
 * ENAMETOOLONG, so that one errno means "fix the document". */
static int
mf_name(int rc, struct lin_err *e)
{
	if (rc == -ENAMETOOLONG) {
		if (e)
			e->code = EINVAL;
		return -EINVAL;
	}
	return rc;
}

/* Put context in front of the message the engine gave. */
static int
mf_context(int rc, struct lin_err *e, const char *what)
{
	char msg[2 * LIN_ERR_MAX];

	if (rc >= 0 || e == NULL)
		return rc;
	snprintf(msg, sizeof(msg), "%s: %s", what, e->msg);
	strlcpy(e->msg, msg, sizeof(e->msg));
	return rc;
}

/* Bind the document to ?1 of st (and leave it bound). */
static sqlite3_stmt *
mf_stmt(struct lin_reg *r, const struct mf *m, const char *sql)
{
	sqlite3_stmt *st = lin_sql(r, sql);

	if (st)
		sqlite3_bind_text(st, 1, m->json, (int)m->len, SQLITE_STATIC);
	return st;
}

/* SQLite's JSON functions fail a whole statement on a malformed value
 * that json_valid let through (bytes that are not UTF-8 inside a string):
 * that is the manifest's fault, EINVAL, not the registry's. */
static int
mf_db_err(struct lin_reg *r, struct lin_err *e)
{
	if (strstr(sqlite3_errmsg(r->db), "JSON") != NULL)
		return lin_errf(e, EINVAL, "the manifest is not valid JSON");
	return lin_db_err(r, e);
}

/* The top level: a JSON object with a builds array, last_run_uuid text. */
static int
mf_top(struct lin_reg *r, struct mf *m, struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc;

	/* JSON is UTF-8 (RFC 8259), and SQLite's JSON functions are not to be
	 * trusted with anything else: found by fuzzing, they can fail a
	 * statement, or worse, on bytes that are not. */
	if (!lin_utf8_valid(m->json, m->len))
		return lin_errf(e, EINVAL, "the manifest is not UTF-8 text");
	if (!lin_json_valid(m->json, m->len))
		return lin_errf(e, EINVAL, "the manifest is not valid JSON");
	st = mf_stmt(r, m, "SELECT json_valid(?1)");
	if (st == NULL)
		return mf_db_err(r, e);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = mf_db_err(r, e);
		sqlite3_reset(st);
		return rc;
	}
	rc = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (!rc)
		return lin_errf(e, EINVAL, "the manifest is not valid JSON");

	st = mf_stmt(r, m, "SELECT json_type(?1), json_type(?1, '$.builds'), "
	    "json_type(?1, '$.last_run_uuid'), "
	    "json_extract(?1, '$.last_run_uuid'), "
	    "json_array_length(?1, '$.builds')");
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = mf_db_err(r, e);
		sqlite3_reset(st);
		return rc;
	}
	if (strcmp(lin_col_text(st, 0), "object") != 0)
		rc = lin_errf(e, EINVAL, "the manifest is not a JSON object");
	else if (sqlite3_column_type(st, 1) == SQLITE_NULL)
		rc = lin_errf(e, EINVAL, "the manifest has no builds");
	else if (strcmp(lin_col_text(st, 1), "array") != 0)
		rc = lin_errf(e, EINVAL, "the manifest's builds is not an array");
	else if (sqlite3_column_int64(st, 4) == 0)
		rc = lin_errf(e, EINVAL, "the manifest has no builds");
	else if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
	    strcmp(lin_col_text(st, 2), "text") != 0 &&
	    strcmp(lin_col_text(st, 2), "null") != 0)
		rc = lin_errf(e, EINVAL, "the manifest's last_run_uuid is not "
		    "a string");
	else {
		rc = 0;
		if (strcmp(lin_col_text(st, 2), "text") == 0)
			m->last_run = mf_strdup(lin_col_text(st, 3));
	}
	sqlite3_reset(st);
	return rc;
}

/* Is the JSON type t (NULL when the member is absent) one of want, or
 * absent/null when optional? */
static bool
mf_type_ok(const char *t, const char *want, bool optional)
{
	if (t == NULL || strcmp(t, "null") == 0)
		return optional;
	return strcmp(t, want) == 0;
}

static const char *
mf_col_type(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL :
	    lin_col_text(st, col);
}

static const char *
mf_noun(const char *type)
{
	if (strcmp(type, "text") == 0)
		return "a string";
	if (strcmp(type, "integer") == 0)
		return "an integer";
	if (strcmp(type, "object") == 0)
		return "an object";
	if (strcmp(type, "array") == 0)
		return "an array";
	return type;
}

/* The members of a build, with their types (columns of mf_builds). */
static int
mf_build_types(sqlite3_stmt *st, int64_t i, struct lin_err *e)
{
	static const struct {
		int         col;
		const char *name;
		const char *type;
		bool        optional;
	} want[] = {
		{ 2, "name", "text", false },
		{ 4, "builder_type", "text", false },
		{ 6, "artifact_id", "text", false },
		{ 8, "packer_run_uuid", "text", true },
		{ 10, "custom_data", "object", true },
		{ 11, "build_time", "integer", true },
		{ 12, "files", "array", true },
	};

	if (strcmp(lin_col_text(st, 1), "object") != 0)
		return lin_errf(e, EINVAL, "build %lld of the manifest is not "
		    "an object", (long long)i);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		const char *t = mf_col_type(st, want[k].col);

		if (t == NULL && !want[k].optional)
			return lin_errf(e, EINVAL, "build %lld of the manifest "
			    "has no %s", (long long)i, want[k].name);
		if (!mf_type_ok(t, want[k].type, want[k].optional))
			return lin_errf(e, EINVAL, "build %lld of the manifest: "
			    "%s should be %s, not %s", (long long)i,
			    want[k].name, mf_noun(want[k].type), mf_noun(t));
	}
	return 0;
}

/* SPEC §7: platform from the builder type. */
static const char *
mf_platform(const char *builder)
{
	if (strncmp(builder, "amazon-", 7) == 0)
		return "aws";
	if (strncmp(builder, "azure-", 6) == 0)
		return "azure";
	if (strcmp(builder, "googlecompute") == 0)
		return "gce";
	if (strcmp(builder, "docker") == 0)
		return "docker";
	return builder;
}

/* BUILDER_TYPE.NAME, or NAME when it already starts with the type. */
static char *
mf_build_name(const char *builder, const char *name)
{
	struct lin_buf b;

	if (strncmp(name, builder, strlen(builder)) == 0)
		return mf_strdup(name);
	lin_buf_init(&b);
	lin_buf_printf(&b, "%s.%s", builder, name);
	return lin_buf_steal(&b);
}

/* Read every build (all of them are type-checked, selected or not). */
static int
mf_builds(struct lin_reg *r, struct mf *m, struct lin_err *e)
{
	sqlite3_stmt *st;
	int rc = 0, step;

	st = mf_stmt(r, m, "SELECT key, json_type(value), "
	    "json_type(value, '$.name'), json_extract(value, '$.name'), "
	    "json_type(value, '$.builder_type'), "
	    "json_extract(value, '$.builder_type'), "
	    "json_type(value, '$.artifact_id'), "
	    "json_extract(value, '$.artifact_id'), "
	    "json_type(value, '$.packer_run_uuid'), "
	    "json_extract(value, '$.packer_run_uuid'), "
	    "json_type(value, '$.custom_data'), "
	    "json_type(value, '$.build_time'), "
	    "json_type(value, '$.files') "
	    "FROM json_each(?1, '$.builds') ORDER BY key");
	if (st == NULL)
		return mf_db_err(r, e);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(st, 0);
		struct mf_build *b;

		if ((rc = mf_build_types(st, i, e)))
			break;
		m->b = reallocarray(m->b, m->n + 1, sizeof(*m->b));
		if (m->b == NULL)
			abort();
		b = &m->b[m->n++];
		memset(b, 0, sizeof(*b));
		b->index = i;
		b->builder = mf_strdup(lin_col_text(st, 5));
		b->name = mf_build_name(b->builder, lin_col_text(st, 3));
		b->artifact_id = mf_strdup(lin_col_text(st, 7));
		if (mf_type_ok(mf_col_type(st, 8), "text", false))
			b->run = mf_strdup(lin_col_text(st, 9));
		b->custom = mf_type_ok(mf_col_type(st, 10), "object", false);
		if (lin_col_text(st, 3)[0] == '\0' || b->builder[0] == '\0') {
			rc = lin_errf(e, EINVAL, "build %lld of the manifest "
			    "has an empty name or builder_type", (long long)i);
			break;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = mf_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static bool
mf_in_last_run(const struct mf *m, const struct mf_build *b)
{
	return b->run != NULL && strcmp(b->run, m->last_run) == 0;
}

/* Keep only the builds of the last run, unless that selects none (a
 * manifest written by an old Packer, or edited by hand). */
static void
mf_select(struct mf *m)
{
	size_t keep = 0;

	if (m->last_run == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		keep += mf_in_last_run(m, &m->b[i]);
	if (keep == 0)
		return;
	keep = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (mf_in_last_run(m, &m->b[i]))
			m->b[keep++] = m->b[i];
		else
			mf_build_free(&m->b[i]);
	}
	m->n = keep;
}

/* A custom_data value as text: strings as they are, anything else as its
 * JSON text. */
#define MF_CUSTOM_SQL \
	"SELECT key, type, CASE type WHEN 'text' THEN value " \
	"WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' " \
	"WHEN 'null' THEN 'null' WHEN 'integer' THEN json_quote(value) " \
	"WHEN 'real' THEN json_quote(value) ELSE value END " \
	"FROM json_each(?1, ?2) ORDER BY id"

/* A reserved custom_data key: it must be a string. */
static int
mf_reserved(struct mf_build *b, const char *key, const char *type,
    const char *value, struct lin_err *e)
{
	static const char *const keys[] = {
		"fingerprint", "parent", "source_image", "region", NULL,
	};
	char **slot[] = { &b->fingerprint, &b->parent, &b->source,
	    &b->region };

	for (int k = 0; keys[k]; k++) {
		if (strcmp(key, keys[k]) != 0)
			continue;
		if (strcmp(type, "null") == 0)
			return 1;	/* absent, as Packer leaves unset ones */
		if (strcmp(type, "text") != 0)
			return lin_errf(e, EINVAL, "build %s: custom_data.%s "
			    "should be a string", b->name, key);
		free(*slot[k]);
		*slot[k] = mf_strdup(value);
		return 1;
	}
	return 0;
}

static int
mf_custom(struct lin_reg *r, struct mf *m, struct mf_build *b,
    struct lin_err *e)
{
	char path[64];
	sqlite3_stmt *st;
	int rc = 0, step;

	if (!b->custom)
		return 0;
	snprintf(path, sizeof(path), "$.builds[%lld].custom_data",
	    (long long)b->index);
	st = mf_stmt(r, m, MF_CUSTOM_SQL);
	if (st == NULL)
		return mf_db_err(r, e);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = lin_col_text(st, 0);

		rc = mf_reserved(b, key, lin_col_text(st, 1),
		    lin_col_text(st, 2), e);
		if (rc < 0)
			break;
		if (rc == 1) {
			rc = 0;
			continue;
		}
		b->lab = reallocarray(b->lab, b->nlab + 1, sizeof(*b->lab));
		if (b->lab == NULL)
			abort();
		b->lab[b->nlab].key = mf_strdup(key);
		b->lab[b->nlab++].value = mf_strdup(lin_col_text(st, 2));
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = mf_db_err(r, e);
	sqlite3_reset(st);
	return rc;
}

static int
mf_add_artifact(struct mf_build *b, const char *region, size_t rlen,
    const char *id, size_t idlen, struct lin_err *e)
{
	struct mf_artifact *a;
	int rc;

	if (rlen == 0 || idlen == 0)
		return lin_errf(e, EINVAL, "build %s: artifact_id should be "
		    "region:id pairs separated by commas", b->name);
	b->art = reallocarray(b->art, b->nart + 1, sizeof(*b->art));
	if (b->art == NULL)
		abort();
	a = &b->art[b->nart++];
	a->region = strndup(region, rlen);
	a->id = strndup(id, idlen);
	if (a->region == NULL || a->id == NULL)
		abort();
	if ((rc = mf_name(lin_name_key(a->region, e), e)))
		return mf_context(rc, e, b->name);
	for (size_t i = 0; i + 1 < b->nart; i++)
		if (strcmp(b->art[i].region, a->region) == 0)
			return lin_errf(e, EINVAL, "build %s: region %s appears "
			    "twice in artifact_id", b->name, a->region);
	return 0;
}

/* amazon-*: "region:ami-1,region:ami-2"; others: one artifact. */
static int
mf_artifacts(struct mf_build *b, struct lin_err *e)
{
	const char *s = b->artifact_id, *end, *colon;
	int rc;

	if (*s == '\0')
		return lin_errf(e, EINVAL, "build %s has no artifact",
		    b->name);
	if (strncmp(b->builder, "amazon-", 7) != 0) {
		const char *region = b->region ? b->region : "global";

		return mf_add_artifact(b, region, strlen(region), s,
		    strlen(s), e);
	}
	for (;;) {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		colon = memchr(s, ':', (size_t)(end - s));
		if (colon == NULL)
			return lin_errf(e, EINVAL, "build %s: artifact_id "
			    "should be region:id pairs separated by commas",
			    b->name);
		if ((rc = mf_add_artifact(b, s, (size_t)(colon - s), colon + 1,
		    (size_t)(end - colon - 1), e)))
			return rc;
		if (*end == '\0')
			return 0;
		s = end + 1;
	}
}

/* Everything about the document that needs no registry. */
static int
mf_read(struct lin_reg *r, struct mf *m, struct lin_err *e)
{
	int rc;

	if (m->json == NULL || m->len == 0)
		return lin_errf(e, EINVAL, "the manifest is empty");
	if (m->len > MF_MAX_BYTES)
		return lin_errf(e, EFBIG, "the manifest is larger than %d "
		    "bytes", MF_MAX_BYTES);
	if (memchr(m->json, '\0', m->len) != NULL)
		return lin_errf(e, EINVAL, "the manifest contains a NUL byte");
	if ((rc = mf_top(r, m, e)) || (rc = mf_builds(r, m, e)))
		return rc;
	mf_select(m);
	for (size_t i = 0; i < m->n; i++) {
		struct mf_build *b = &m->b[i];

		b->platform = mf_platform(b->builder);
		if ((rc = mf_name(lin_name_key(b->name, e), e)))
			return mf_context(rc, e, "build name");
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->b[j].name, b->name) == 0)
				return lin_errf(e, EINVAL, "build %s appears "
				    "twice in the manifest's run", b->name);
		if ((rc = mf_custom(r, m, b, e)) || (rc = mf_artifacts(b, e)))
			return rc;
		if (b->fingerprint == NULL)
			continue;
		if (m->fingerprint == NULL)
			m->fingerprint = mf_strdup(b->fingerprint);
		else if (strcmp(m->fingerprint, b->fingerprint) != 0)
			return lin_errf(e, EINVAL, "the builds name different "
			    "fingerprints (%s, %s)", m->fingerprint,
			    b->fingerprint);
	}
	if (m->fingerprint == NULL) {
		if (m->last_run == NULL)
			return lin_errf(e, EINVAL, "the manifest names no "
			    "fingerprint: neither custom_data.fingerprint nor "
			    "last_run_uuid");
		m->fingerprint = mf_strdup(m->last_run);
	}
	return mf_name(lin_name_fingerprint(m->fingerprint, e), e);
}

/* Parent paths of every build, each iteration once (two builds of one run
 * usually start from the same base). */
static int
mf_parents(struct lin_reg *r, const struct lin_actor *a, const struct mf *m,
    int64_t child, struct lin_err *e)
{
	int64_t *done = calloc(m->n + 1, sizeof(*done));
	size_t ndone = 0;
	int rc = 0;

	if (done == NULL)
		abort();
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		const char *p = m->b[i].parent;
		struct lin_iteration pit;
		struct lin_ref ref;
		bool seen = false;

		if (p == NULL || *p == '\0')
			continue;
		rc = lin_ref_parse(p, strlen(p), "", lin_reg_mountpoint(r),
		    &ref, e);
		if (rc == 0)
			rc = lin_ref_resolve(r, a, &ref, &pit, e);
		if (rc)
			break;
		for (size_t j = 0; j < ndone; j++)
			seen |= done[j] == pit.id;
		if (seen)
			continue;
		done[ndone++] = pit.id;
		rc = lin_parent_add(r, a, child, p, strlen(p), e);
	}
	free(done);
	return mf_context(rc, e, "custom_data.parent");
}

static int
mf_make_build(struct lin_reg *r, const struct lin_actor *a,
    const struct mf_build *mb, int64_t iteration, struct lin_err *e)
{
	struct lin_build b;
	int rc;

	if ((rc = lin_build_create(r, a, iteration, mb->name, &b, e)))
		return rc;
	rc = lin_build_set(r, a, b.id, LIN_BUILD_PLATFORM, mb->platform,
	    strlen(mb->platform), e);
	if (rc == 0 && mb->source && *mb->source)
		rc = lin_build_set(r, a, b.id, LIN_BUILD_SOURCE, mb->source,
		    strlen(mb->source), e);
	for (size_t i = 0; rc == 0 && i < mb->nart; i++)
		rc = lin_artifact_set(r, a, b.id, mb->art[i].region,
		    mb->art[i].id, strlen(mb->art[i].id), NULL, e);
	for (size_t i = 0; rc == 0 && i < mb->nlab; i++)
		rc = lin_label_set(r, a, LIN_OWNER_BUILD, b.id, mb->lab[i].key,
		    mb->lab[i].value, strlen(mb->lab[i].value), NULL, e);
	return mf_context(mf_name(rc, e), e, mb->name);
}

static int
mf_event(struct lin_reg *r, const struct lin_actor *a, const struct mf *m,
    int64_t id, struct lin_err *e)
{
	struct lin_buf b;
	char by[64];
	int rc;

	lin_actor_name(a->uid, by, sizeof(by));
	lin_buf_init(&b);
	lin_ev_start(&b, "import");
	if ((rc = lin_ev_iteration(r, &b, id, e)) == 0) {
		lin_ev_kv(&b, "by", by);
		lin_ev_kvi(&b, "builds", (int64_t)m->n);
		if (m->last_run)
			lin_ev_kv(&b, "run", m->last_run);
		rc = lin_ev_commit(r, &b, lin_now(), e);
	}
	lin_buf_free(&b);
	return rc;
}

/* The registry half: one transaction around the public mutators. */
static int
mf_apply(struct lin_reg *r, const struct lin_actor *a, int64_t bucket_id,
    const struct mf *m, char **path, struct lin_err *e)
{
	struct lin_iteration it;
	struct lin_buf p;
	int rc;

	if ((rc = lin_tx_begin(r, e)))
		return rc;
	lin_buf_init(&p);
	rc = lin_iteration_create(r, a, bucket_id, m->fingerprint, &it, e);
	if (rc == -EEXIST) {
		struct lin_bucket b;

		if (lin_bucket_get(r, bucket_id, &b, NULL) == 0)
			rc = lin_errf(e, EEXIST, "fingerprint %s already "
			    "exists in bucket %s", m->fingerprint, b.name);
	}
	if (rc == 0)
		rc = mf_parents(r, a, m, it.id, e);
	for (size_t i = 0; rc == 0 && i < m->n; i++)
		rc = mf_make_build(r, a, &m->b[i], it.id, e);
	if (rc == 0)
		rc = lin_iteration_complete(r, a, it.id, "1", 1, e);
	if (rc == 0)
		rc = mf_event(r, a, m, it.id, e);
	if (rc == 0)
		rc = lin_iteration_path(r, it.id, &p, e);
	rc = lin_tx_end(r, rc, e);
	if (rc == 0)
		*path = lin_buf_steal(&p);
	lin_buf_free(&p);
	return rc;
}

int
lin_manifest_import(struct lin_reg *r, const struct lin_actor *a,
    int64_t bucket_id, const char *json, size_t len, char **path,
    struct lin_err *e)
{
	struct mf m = { .json = json, .len = len };
	int rc;

	*path = NULL;
	if (lin_reg_readonly(r))
		return lin_errf(e, EROFS, "the registry is read-only");
	if ((rc = mf_read(r, &m, e)) == 0)
		rc = mf_apply(r, a, bucket_id, &m, path, e);
	mf_free(&m);
	return rc;
}
