/*
 * generate.c — synthetic registries for benchmarks and tests: buckets in
 * ancestry levels (golden bases, runtimes built on them, services built
 * on those), complete iterations with builds and artifacts in several
 * clouds, parent links, a few revocations inherited down the tree, and
 * channels with an assignment history.
 *
 * The result depends only on the parameters and the seed (its own PRNG,
 * splitmix64, and a fixed calendar ending 2026-01-01), so a benchmark can
 * be re-run on the same registry.  It must build a million iterations in
 * reasonable time, so it writes rows with its own prepared statements in
 * one transaction instead of going through the public mutators, and logs
 * one `generate` event instead of one per row.  What it writes keeps every
 * invariant lin_check() tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define GEN_END      1767225600LL       /* 2026-01-01T00:00:00Z */
#define GEN_HISTORY  (2 * 365 * 86400LL)
#define GEN_MAX_ITER 100000000LL        /* iterations in all */
#define GEN_CACHE_KIB "524288"          /* 512 MiB, while generating */

/* The statements, in the order of gen_sql. */
enum {
	S_BUCKET, S_BLABEL, S_ITER, S_BUILD, S_ART, S_LINK, S_REV, S_CHAN,
	S_ASSIGN, S_NSTMT,
};

static const char *const gen_sql[S_NSTMT] = {
	[S_BUCKET] = "INSERT INTO buckets (name, description, created, mtime, "
	    "uid, gid, mode) VALUES (?, ?, ?, ?, ?, ?, 493)",
	[S_BLABEL] = "INSERT INTO labels (owner_kind, owner_id, key, value, "
	    "mtime) VALUES (?, ?, ?, ?, ?)",
	[S_ITER] = "INSERT INTO iterations (bucket_id, fingerprint, ulid, "
	    "version, created, completed, mtime) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[S_BUILD] = "INSERT INTO builds (iteration_id, name, platform, "
	    "created, mtime) VALUES (?, ?, ?, ?, ?)",
	[S_ART] = "INSERT INTO artifacts (build_id, region, external_id, "
	    "mtime) VALUES (?, ?, ?, ?)",
	[S_LINK] = "INSERT INTO links (child_id, parent_id, channel, created) "
	    "VALUES (?, ?, ?, ?)",
	[S_REV] = "INSERT INTO revocations (iteration_id, at, created, reason, "
	    "by_name, descendants, rollback, applied) "
	    "VALUES (?, ?, ?, ?, ?, 1, 1, 1)",
	[S_CHAN] = "INSERT INTO channels (bucket_id, name, iteration_id, "
	    "mtime) VALUES (?, ?, ?, ?)",
	[S_ASSIGN] = "INSERT INTO assignments (bucket_id, channel, "
	    "iteration_id, at, by_name) VALUES (?, ?, ?, ?, ?)",
};

/* Words for bucket names, by level: bases, runtimes, services. */
static const char *const gen_bases[] = {
	"ubuntu", "debian", "rhel", "rocky", "alpine", "amazonlinux",
	"windows", "fedora", "suse", "flatcar", NULL,
};
static const char *const gen_runtimes[] = {
	"java", "python", "node", "golang", "dotnet", "ruby", "php", "rust",
	"erlang", "perl", NULL,
};
static const char *const gen_services[] = {
	"api", "web", "worker", "billing", "search", "auth", "payments",
	"gateway", "ingest", "reports", "notify", "catalog", "cart", "ledger",
	"mailer", "scheduler", NULL,
};
static const char *const gen_channels[] = {
	"production", "staging", "development", "qa", "canary", "hotfix",
	"beta", "nightly", NULL,
};
static const char *const gen_teams[] = {
	"platform", "security", "payments", "search", "data", "web", NULL,
};
static const char *const gen_packages[] = {
	"openssl", "glibc", "openssh", "sudo", "curl", "zlib", "systemd",
	"xz", NULL,
};

/* Builders and their regions. */
struct gen_builder {
	const char        *type;
	const char        *platform;
	const char *const *regions;
};
static const char *const gen_aws[] = {
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1",
	"eu-west-2", "eu-central-1", "ap-southeast-1", "ap-southeast-2",
	"ap-northeast-1", "sa-east-1", "ca-central-1", NULL,
};
static const char *const gen_azure[] = {
	"eastus", "westus2", "westeurope", "northeurope", "southeastasia",
	"japaneast", "australiaeast", "uksouth", NULL,
};
static const char *const gen_gce[] = {
	"us-central1", "us-east1", "europe-west1", "europe-west4",
	"asia-east1", "asia-northeast1", NULL,
};
static const char *const gen_docker[] = {
	"docker.io", "ghcr.io", "quay.io", NULL,
};
static const char *const gen_dc[] = {
	"dc1", "dc2", "dc3", NULL,
};
static const struct gen_builder gen_builders[] = {
	{ "amazon-ebs", "aws", gen_aws },
	{ "azure-arm", "azure", gen_azure },
	{ "googlecompute", "gce", gen_gce },
	{ "docker", "docker", gen_docker },
	{ "vsphere-iso", "vsphere-iso", gen_dc },
	{ "qemu", "qemu", gen_dc },
};
#define GEN_NBUILDERS (sizeof(gen_builders) / sizeof(gen_builders[0]))

struct gen {
	struct lin_reg               *r;
	const struct lin_gen_params  *p;
	uint64_t      rng;
	uint64_t      fpkey;        /* fingerprints: mix(fpkey + n), distinct */
	int64_t       t0, step, lag;
	int           nlev;
	int          *lev_start;    /* buckets are numbered level by level */
	int          *lev_size;
	int          *level;        /* of each bucket */
	int64_t      *bucket_id;
	char        (*bname)[LIN_BUCKET_MAX];
	const char  **word;         /* the bucket's word: ubuntu, python... */
	int64_t      *it_id;        /* iteration j of bucket b: [j * B + b] */
	int64_t      *it_time;
	bool         *revoked;
	sqlite3_stmt *st[S_NSTMT];
	char          by[64];
	int64_t       n_builds, n_artifacts, n_links, n_revocations;
	int64_t       n_channels, n_assignments;
};

/* ---- randomness ---- */

static uint64_t
gen_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
gen_rand(struct gen *g)
{
	g->rng += 0x9e3779b97f4a7c15ULL;
	return gen_mix(g->rng);
}

/* Uniform in [0, n) (n > 0); the bias is below 2^-32 for our n. */
static int64_t
gen_below(struct gen *g, int64_t n)
{
	return (int64_t)(gen_rand(g) % (uint64_t)n);
}

static void
gen_hex(struct gen *g, char *out, int n)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < n; i++)
		out[i] = digits[gen_rand(g) & 15];
	out[n] = '\0';
}

static int
gen_count(const char *const *list)
{
	int n = 0;

	while (list[n])
		n++;
	return n;
}

/* The k-th name of a list, numbered past its end: us-east-1, ...,
 * us-east-1-2. */
static void
gen_nth(const char *const *list, int k, char *out, size_t outsz)
{
	int n = gen_count(list);

	if (k < n)
		strlcpy(out, list[k], outsz);
	else
		snprintf(out, outsz, "%s-%d", list[k % n], k / n + 1);
}

/* ---- statements ---- */

static int
gen_step(struct gen *g, int s, struct lin_err *e)
{
	sqlite3_stmt *st = g->st[s];
	int rc = sqlite3_step(st);

	rc = rc == SQLITE_DONE ? 0 : lin_db_err(g->r, e);
	sqlite3_reset(st);
	return rc;
}

static int
gen_prepare(struct gen *g, struct lin_err *e)
{
	for (int s = 0; s < S_NSTMT; s++)
		if (sqlite3_prepare_v3(g->r->db, gen_sql[s], -1,
		    SQLITE_PREPARE_PERSISTENT, &g->st[s], NULL) != SQLITE_OK)
			return lin_db_err(g->r, e);
	return 0;
}

static void
gen_free(struct gen *g)
{
	for (int s = 0; s < S_NSTMT; s++)
		sqlite3_finalize(g->st[s]);
	free(g->lev_start);
	free(g->lev_size);
	free(g->level);
	free(g->bucket_id);
	free(g->bname);
	free(g->word);
	free(g->it_id);
	free(g->it_time);
	free(g->revoked);
}

static void *
gen_alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		abort();	/* as lin_buf does */
	return p;
}

/* ---- shape ---- */

static int
gen_params_ok(const struct lin_gen_params *p, struct lin_err *e)
{
	if (p->buckets < 1 || p->buckets > 100000)
		return lin_errf(e, EINVAL, "buckets must be 1 to 100000");
	if (p->iterations < 1 ||
	    (int64_t)p->iterations * p->buckets > GEN_MAX_ITER)
		return lin_errf(e, EINVAL, "iterations must be at least 1, and "
		    "at most %lld in all", GEN_MAX_ITER);
	if (p->builds < 1 || p->builds > 64 || p->regions < 1 ||
	    p->regions > 64)
		return lin_errf(e, EINVAL, "builds and regions must be 1 to 64");
	if (p->depth < 1 || p->depth > p->buckets || p->depth > 32)
		return lin_errf(e, EINVAL, "depth must be 1 to 32, and at most "
		    "the number of buckets");
	if (p->fanout < 1 || p->fanout > 1000)
		return lin_errf(e, EINVAL, "fanout must be 1 to 1000");
	if (p->channels < 0 || p->channels > 64)
		return lin_errf(e, EINVAL, "channels must be 0 to 64");
	return 0;
}

/*
 * How many buckets each level gets.  A child has 1.3 parents on average,
 * and its first parent is spread evenly over the level above, so for each
 * parent iteration to get about `fanout` children, each level is about
 * fanout / 1.3 times the one above it.
 */
static void
gen_levels(struct gen *g)
{
	const struct lin_gen_params *p = g->p;
	double ratio = p->fanout / 1.3, w = 1, sum = 0;
	int left = p->buckets;

	g->nlev = p->depth;
	g->lev_start = gen_alloc((size_t)g->nlev, sizeof(int));
	g->lev_size = gen_alloc((size_t)g->nlev, sizeof(int));
	for (int k = 0; k < g->nlev; k++, w *= ratio)
		sum += w;
	w = 1;
	for (int k = 0; k < g->nlev; k++, w *= ratio) {
		int want = (int)(p->buckets * w / sum + 0.5);
		int room = left - (g->nlev - k - 1);	/* 1 for each below */

		if (want < 1)
			want = 1;
		if (want > room || k == g->nlev - 1)
			want = k == g->nlev - 1 ? left : room;
		g->lev_start[k] = p->buckets - left;
		g->lev_size[k] = want;
		left -= want;
	}
}

static void
gen_bucket_name(struct gen *g, int b, int k, int idx)
{
	static const char *const suffix[] = { "base", "runtime", "svc" };
	const char *const *words = k == 0 ? gen_bases : k == 1 ?
	    gen_runtimes : gen_services;
	int n = gen_count(words);
	char sfx[16], rep[16] = "";

	if (k < 3)
		strlcpy(sfx, suffix[k], sizeof(sfx));
	else
		snprintf(sfx, sizeof(sfx), "tier%d", k);
	if (idx >= n)
		snprintf(rep, sizeof(rep), "-%d", idx / n + 1);
	g->word[b] = words[idx % n];
	snprintf(g->bname[b], LIN_BUCKET_MAX, "%s-%s%s", words[idx % n], sfx,
	    rep);
}

/* The time iteration j of bucket b was created: versions come every
 * `step`, and each level a quarter step after the one above, so parents
 * exist before their children. */
static int64_t
gen_time(struct gen *g, int b, int64_t j)
{
	int64_t phase = (int64_t)(gen_mix(g->fpkey ^ (uint64_t)b) %
	    (uint64_t)(g->step / 8 + 1));

	return g->t0 + j * g->step + g->level[b] * g->lag + phase;
}

/* ---- rows ---- */

static int
gen_label(struct gen *g, int kind, int64_t owner, const char *key,
    const char *value, int64_t t, struct lin_err *e)
{
	sqlite3_stmt *st = g->st[S_BLABEL];

	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t);
	return gen_step(g, S_BLABEL, e);
}

static int
gen_bucket(struct gen *g, int b, struct lin_err *e)
{
	static const char *const kinds[] = {
		"Golden base image", "Language runtime image", "Service image",
	};
	sqlite3_stmt *st = g->st[S_BUCKET];
	struct lin_actor a = lin_actor_self();
	int k = g->level[b];
	char desc[128];
	int64_t t = g->t0 - 86400;
	int rc;

	if (lin_bucket_by_name(g->r, g->bname[b], NULL, NULL) == 0)
		return lin_errf(e, EEXIST, "bucket %s already exists: generate "
		    "into a new registry", g->bname[b]);
	snprintf(desc, sizeof(desc), "%s: %s (generated)",
	    kinds[k < 2 ? k : 2], g->word[b]);
	sqlite3_bind_text(st, 1, g->bname[b], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, desc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t);
	sqlite3_bind_int64(st, 4, t);
	sqlite3_bind_int64(st, 5, a.uid);
	sqlite3_bind_int64(st, 6, a.gid);
	if ((rc = gen_step(g, S_BUCKET, e)))
		return rc;
	g->bucket_id[b] = sqlite3_last_insert_rowid(g->r->db);
	rc = gen_label(g, LIN_OWNER_BUCKET, g->bucket_id[b], "team",
	    gen_teams[gen_below(g, gen_count(gen_teams))], t, e);
	if (rc == 0)
		rc = gen_label(g, LIN_OWNER_BUCKET, g->bucket_id[b], "tier",
		    k == 0 ? "base" : k == 1 ? "runtime" : "service", t, e);
	return rc;
}

static int
gen_buckets(struct gen *g, struct lin_err *e)
{
	int B = g->p->buckets, rc;

	g->level = gen_alloc((size_t)B, sizeof(int));
	g->bucket_id = gen_alloc((size_t)B, sizeof(int64_t));
	g->bname = gen_alloc((size_t)B, sizeof(*g->bname));
	g->word = gen_alloc((size_t)B, sizeof(*g->word));
	for (int k = 0; k < g->nlev; k++)
		for (int i = 0; i < g->lev_size[k]; i++) {
			int b = g->lev_start[k] + i;

			g->level[b] = k;
			gen_bucket_name(g, b, k, i);
			if ((rc = gen_bucket(g, b, e)))
				return rc;
		}
	return 0;
}

/* An external id as the builder would print it. */
static void
gen_external_id(struct gen *g, const struct gen_builder *bt, int b,
    int64_t version, char *out, size_t outsz)
{
	char hex[72], sub[40];

	if (strcmp(bt->platform, "aws") == 0) {
		gen_hex(g, hex, 17);
		snprintf(out, outsz, "ami-%s", hex);
	} else if (strcmp(bt->platform, "azure") == 0) {
		gen_hex(g, sub, 32);
		gen_hex(g, hex, 6);
		snprintf(out, outsz, "/subscriptions/%.8s-%.4s-%.4s-%.4s-%.12s/"
		    "resourceGroups/images/providers/Microsoft.Compute/images/"
		    "%s-v%lld-%s", sub, sub + 8, sub + 12, sub + 16, sub + 20,
		    g->bname[b], (long long)version, hex);
	} else if (strcmp(bt->platform, "gce") == 0) {
		gen_hex(g, hex, 10);
		snprintf(out, outsz, "%s-v%lld-%s", g->bname[b],
		    (long long)version, hex);
	} else if (strcmp(bt->platform, "docker") == 0) {
		gen_hex(g, hex, 64);
		snprintf(out, outsz, "sha256:%s", hex);
	} else {
		gen_hex(g, hex, 16);
		snprintf(out, outsz, "%s-%s", bt->platform, hex);
	}
}

static int
gen_build(struct gen *g, int b, int64_t it, int n, int64_t version,
    int64_t t, struct lin_err *e)
{
	const struct gen_builder *bt = &gen_builders[n % GEN_NBUILDERS];
	char name[LIN_KEY_MAX], region[LIN_KEY_MAX], ext[LIN_VALUE_MAX];
	sqlite3_stmt *st = g->st[S_BUILD];
	int64_t build;
	int rc;

	if (n < (int)GEN_NBUILDERS)
		snprintf(name, sizeof(name), "%s.%s", bt->type, g->word[b]);
	else
		snprintf(name, sizeof(name), "%s.%s-%d", bt->type, g->word[b],
		    n / (int)GEN_NBUILDERS + 1);
	sqlite3_bind_int64(st, 1, it);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, bt->platform, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t);
	sqlite3_bind_int64(st, 5, t);
	if ((rc = gen_step(g, S_BUILD, e)))
		return rc;
	build = sqlite3_last_insert_rowid(g->r->db);
	g->n_builds++;
	st = g->st[S_ART];
	for (int k = 0; k < g->p->regions; k++) {
		gen_nth(bt->regions, k, region, sizeof(region));
		gen_external_id(g, bt, b, version, ext, sizeof(ext));
		sqlite3_bind_int64(st, 1, build);
		sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ext, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, t);
		if ((rc = gen_step(g, S_ART, e)))
			return rc;
		g->n_artifacts++;
	}
	snprintf(ext, sizeof(ext), "1.%d.%d", 9 + (int)(version / 40 % 3),
	    (int)(version % 7));
	return gen_label(g, LIN_OWNER_BUILD, build, "packer_version", ext, t,
	    e);
}

static int
gen_link(struct gen *g, int64_t child, int64_t parent, int64_t t,
    struct lin_err *e)
{
	sqlite3_stmt *st = g->st[S_LINK];
	/* Most builds take their base from a channel (status up-to-date or
	 * out-of-date); some name the iteration itself (undetermined). */
	const char *ch = g->p->channels > 0 && gen_below(g, 10) < 7 ?
	    gen_channels[0] : "";

	sqlite3_bind_int64(st, 1, child);
	sqlite3_bind_int64(st, 2, parent);
	sqlite3_bind_text(st, 3, ch, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t);
	g->n_links++;
	return gen_step(g, S_LINK, e);
}

/*
 * Parents of iteration j of bucket b (level k > 0): the first parent
 * bucket is the one above in proportion (so child buckets spread evenly
 * over the level above), the second, for 3 in 10, any other bucket there.
 * The parent iteration is the same step's, or the one before for 1 in 3
 * (a child built on an image that had meanwhile been superseded).
 */
static int
gen_parents(struct gen *g, int b, int64_t j, int64_t child, int64_t t,
    struct lin_err *e)
{
	int k = g->level[b], B = g->p->buckets;
	int up = g->lev_size[k - 1], idx = b - g->lev_start[k];
	int p1 = g->lev_start[k - 1] + (int)((int64_t)idx * up /
	    g->lev_size[k]);
	int p2 = -1, rc;

	if (up > 1 && gen_below(g, 10) < 3) {
		p2 = g->lev_start[k - 1] + (int)gen_below(g, up - 1);
		if (p2 >= p1)
			p2++;
	}
	for (int i = 0; i < 2; i++) {
		int pb = i == 0 ? p1 : p2;
		int64_t pj = j;

		if (pb < 0)
			break;
		if (pj > 0 && gen_below(g, 3) == 0)
			pj--;
		if ((rc = gen_link(g, child, g->it_id[pj * B + pb], t, e)))
			return rc;
	}
	return 0;
}

static int
gen_iteration(struct gen *g, int b, int64_t j, struct lin_err *e)
{
	sqlite3_stmt *st = g->st[S_ITER];
	int64_t idx = j * g->p->buckets + b, t = gen_time(g, b, j), done;
	char fp[20], ulid[LIN_ULID_LEN + 1];
	unsigned char rnd[10];
	uint64_t x;
	int rc;

	snprintf(fp, sizeof(fp), "%016llx",
	    (unsigned long long)gen_mix(g->fpkey + (uint64_t)idx));
	x = gen_rand(g);
	memcpy(rnd, &x, 8);
	x = gen_rand(g);
	memcpy(rnd + 8, &x, 2);
	lin_ulid_format(t * 1000 + gen_below(g, 1000), rnd, ulid);
	done = t + 600 + gen_below(g, 1800);	/* a build takes a while */
	sqlite3_bind_int64(st, 1, g->bucket_id[b]);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ulid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, j + 1);
	sqlite3_bind_int64(st, 5, t);
	sqlite3_bind_int64(st, 6, done);
	sqlite3_bind_int64(st, 7, done);
	if ((rc = gen_step(g, S_ITER, e)))
		return rc;
	g->it_id[idx] = sqlite3_last_insert_rowid(g->r->db);
	g->it_time[idx] = done;
	for (int n = 0; n < g->p->builds; n++)
		if ((rc = gen_build(g, b, g->it_id[idx], n, j + 1, t, e)))
			return rc;
	if (g->level[b] > 0)
		return gen_parents(g, b, j, g->it_id[idx], t, e);
	return 0;
}

/* In time order, level by level, so ids and ULIDs grow with time and
 * every parent is written before its children. */
static int
gen_iterations(struct gen *g, struct lin_err *e)
{
	size_t n = (size_t)g->p->iterations * (size_t)g->p->buckets;
	int rc;

	g->it_id = gen_alloc(n, sizeof(int64_t));
	g->it_time = gen_alloc(n, sizeof(int64_t));
	for (int64_t j = 0; j < g->p->iterations; j++)
		for (int b = 0; b < g->p->buckets; b++)
			if ((rc = gen_iteration(g, b, j, e)))
				return rc;
	return 0;
}

/* ---- revocations ---- */

/*
 * A few old iterations were revoked for a CVE, with descendants: one in
 * 25 of the bases, one in 50 elsewhere, drawn from the older 70% of the
 * history, so that the recent versions the channels use stay valid.
 */
static int
gen_revoke(struct gen *g, int b, int64_t j, struct lin_err *e)
{
	sqlite3_stmt *st = g->st[S_REV];
	int64_t idx = j * g->p->buckets + b;
	int64_t at = g->it_time[idx] + 86400 + gen_below(g, 30 * 86400);
	char reason[128];

	snprintf(reason, sizeof(reason), "CVE-%lld-%05lld: %s in %s image",
	    (long long)(2023 + gen_below(g, 3)),
	    (long long)(1000 + gen_below(g, 50000)),
	    gen_packages[gen_below(g, gen_count(gen_packages))], g->word[b]);
	if (at > g->t0 + g->step * g->p->iterations)
		at = g->t0 + g->step * g->p->iterations;
	sqlite3_bind_int64(st, 1, g->it_id[idx]);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, "secops", -1, SQLITE_STATIC);
	g->n_revocations++;
	return gen_step(g, S_REV, e);
}

/* Every descendant of each new explicit revocation gets its inherited
 * copy, in one recursive statement, as revoking does: a copy holds only
 * its iteration, origin and time; the rest is read from the origin. */
#define GEN_INHERIT_SQL \
	"INSERT INTO revocations (iteration_id, origin_id, at, created, " \
	"reason, by_name, descendants, rollback, applied) " \
	"WITH RECURSIVE d (rev, it) AS (" \
	" SELECT id, iteration_id FROM revocations" \
	" WHERE origin_id IS NULL AND id > ?1" \
	" UNION" \
	" SELECT d.rev, l.child_id FROM d JOIN links l ON l.parent_id = d.it)" \
	" SELECT d.it, o.id, o.at, o.created, '', '', 0, 0, 0" \
	" FROM d JOIN revocations o ON o.id = d.rev" \
	" WHERE d.it <> o.iteration_id ORDER BY d.rev, d.it"

static int
gen_revocations(struct gen *g, struct lin_err *e)
{
	int64_t first = 0, I = g->p->iterations;
	size_t n = (size_t)I * (size_t)g->p->buckets;
	sqlite3_stmt *st;
	int rc;

	rc = lin_query_int(g->r, lin_sql(g->r, "SELECT coalesce(max(id), 0) "
	    "FROM revocations"), &first, e);
	for (int b = 0; rc == 0 && b < g->p->buckets; b++) {
		int64_t every = g->level[b] == 0 ? 25 : 50;

		for (int64_t j = 0; rc == 0 && j < I * 7 / 10; j++)
			if (gen_below(g, every) == 0)
				rc = gen_revoke(g, b, j, e);
	}
	if (rc)
		return rc;
	st = lin_sql(g->r, GEN_INHERIT_SQL);
	sqlite3_bind_int64(st, 1, first);
	if ((rc = lin_exec_stmt(g->r, st, e)))
		return rc;
	/* Which iterations are revoked now, for the channels. */
	g->revoked = gen_alloc(n, sizeof(bool));
	st = lin_sql(g->r, "SELECT DISTINCT iteration_id FROM revocations "
	    "WHERE id > ?");
	sqlite3_bind_int64(st, 1, first);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		size_t lo = 0, hi = n;

		/* it_id grows with the index: binary search. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (g->it_id[mid] < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && g->it_id[lo] == id)
			g->revoked[lo] = true;
	}
	sqlite3_reset(st);
	return 0;
}

/* ---- channels ---- */

/* The newest unrevoked iteration of bucket b at or below step j, or -1. */
static int64_t
gen_usable(struct gen *g, int b, int64_t j)
{
	for (; j >= 0; j--)
		if (!g->revoked[j * g->p->buckets + b])
			return j;
	return -1;
}

static int
gen_assign(struct gen *g, int b, const char *name, int64_t j,
    struct lin_err *e)
{
	sqlite3_stmt *st = g->st[S_ASSIGN];
	int64_t idx = j * g->p->buckets + b;

	sqlite3_bind_int64(st, 1, g->bucket_id[b]);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, g->it_id[idx]);
	sqlite3_bind_int64(st, 4, g->it_time[idx] + 3600);
	sqlite3_bind_text(st, 5, g->by, -1, SQLITE_STATIC);
	g->n_assignments++;
	return gen_step(g, S_ASSIGN, e);
}

/*
 * Channel c of a bucket: production one version behind the newest,
 * staging on the newest, the others spread over the last few; each with
 * up to five earlier assignments, so rollback has a history to use.
 */
static int
gen_channel(struct gen *g, int b, int c, struct lin_err *e)
{
	int64_t I = g->p->iterations, lag = c == 1 ? 0 : c == 0 ? 1 : c % 3;
	int64_t target = gen_usable(g, b, I - 1 - lag < 0 ? 0 : I - 1 - lag);
	int64_t stride = I / 10;
	sqlite3_stmt *st = g->st[S_CHAN];
	char name[LIN_BUCKET_MAX];
	int rc;

	if (target < 0)
		return 0;
	if (stride < 1)
		stride = 1;
	gen_nth(gen_channels, c, name, sizeof(name));
	for (int64_t h = 5; h > 0; h--) {
		int64_t old = target - h * stride;

		if (old >= 0 && (old = gen_usable(g, b, old)) >= 0 &&
		    (rc = gen_assign(g, b, name, old, e)))
			return rc;
	}
	if ((rc = gen_assign(g, b, name, target, e)))
		return rc;
	sqlite3_bind_int64(st, 1, g->bucket_id[b]);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, g->it_id[target * g->p->buckets + b]);
	sqlite3_bind_int64(st, 4, g->it_time[target * g->p->buckets + b] +
	    3600);
	g->n_channels++;
	return gen_step(g, S_CHAN, e);
}

static int
gen_all_channels(struct gen *g, struct lin_err *e)
{
	int rc;

	for (int b = 0; b < g->p->buckets; b++)
		for (int c = 0; c < g->p->channels; c++)
			if ((rc = gen_channel(g, b, c, e)))
				return rc;
	return 0;
}

/* ---- the whole ---- */

static int
gen_event(struct gen *g, struct lin_err *e)
{
	struct lin_buf b;
	int rc;

	lin_buf_init(&b);
	lin_ev_start(&b, "generate");
	lin_ev_kvi(&b, "buckets", g->p->buckets);
	lin_ev_kvi(&b, "iterations", (int64_t)g->p->buckets *
	    g->p->iterations);
	lin_ev_kvi(&b, "builds", g->n_builds);
	lin_ev_kvi(&b, "artifacts", g->n_artifacts);
	lin_ev_kvi(&b, "links", g->n_links);
	lin_ev_kvi(&b, "revocations", g->n_revocations);
	lin_ev_kvi(&b, "channels", g->n_channels);
	lin_ev_kvi(&b, "depth", g->p->depth);
	lin_ev_kvi(&b, "fanout", g->p->fanout);
	lin_buf_printf(&b, " seed=%llu", (unsigned long long)g->p->seed);
	lin_ev_kv(&b, "by", g->by);
	rc = lin_ev_commit(g->r, &b, lin_now(), e);
	lin_buf_free(&b);
	return rc;
}

static int
gen_run(struct gen *g, struct lin_err *e)
{
	int rc;

	gen_levels(g);
	if ((rc = gen_prepare(g, e)) || (rc = gen_buckets(g, e)) ||
	    (rc = gen_iterations(g, e)) || (rc = gen_revocations(g, e)) ||
	    (rc = gen_all_channels(g, e)))
		return rc;
	return gen_event(g, e);
}

int
lin_generate(struct lin_reg *r, const struct lin_gen_params *p,
    struct lin_err *e)
{
	struct gen g;
	int64_t cache;
	int rc;

	if ((rc = gen_params_ok(p, e)))
		return rc;
	memset(&g, 0, sizeof(g));
	g.r = r;
	g.p = p;
	g.rng = gen_mix(p->seed ^ 0x6c696e6561676566ULL);
	g.fpkey = gen_mix(g.rng ^ 0x66696e6765727072ULL);
	g.step = GEN_HISTORY / p->iterations;
	if (g.step < 60)
		g.step = 60;
	g.lag = g.step / 4;
	/* The calendar is fixed, but never in the future: a revocation in
	 * the generated past must already be in force. */
	g.t0 = (lin_now() < GEN_END ? lin_now() : GEN_END) -
	    g.step * p->iterations;
	lin_actor_name(lin_actor_self().uid, g.by, sizeof(g.by));
	/* The indexes on random keys (ULIDs, external ids) touch pages all
	 * over the file: a bigger page cache for the bulk load keeps that
	 * from going to disk, and is given back afterwards. */
	if ((rc = lin_query_int(r, lin_sql(r, "PRAGMA cache_size"), &cache,
	    e)))
		return rc;
	if ((rc = lin_exec(r, "PRAGMA cache_size = -" GEN_CACHE_KIB, e)))
		return rc;
	if ((rc = lin_tx_begin(r, e)) == 0) {
		rc = gen_run(&g, e);
		/* Mounts of this registry drop everything they cached. */
		if (rc == 0)
			rc = lin_change(r, LIN_CH_ALL, 0, e);
		rc = lin_tx_end(r, rc, e);
	}
	gen_free(&g);
	{
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld",
		    (long long)cache);
		sqlite3_exec(r->db, sql, NULL, NULL, NULL);
	}
	return rc;
}
