/*
 * test_ancestry.c — the ancestry engine (SPEC §6) on real registries:
 * adding and removing parents with every errno and the order of the
 * checks, link status computed live from the recorded channel, the
 * ancestry word, the `parent` file, parents/ and children/ names, and the
 * transitive views (ancestors, descendants, tree, graph.dot).
 */
#include <sys/wait.h>

#include "regfix.h"
#include "store/store.h"

static int64_t base, app;

/* Two buckets: base with p1 (v1) and p2 (v2), app with a running child. */
static void
two_buckets(void)
{
	base = fx_bucket("base");
	app = fx_bucket("app");
	fx_active(base, "p1");
	fx_active(base, "p2");
}

START_TEST(test_words)
{
	ck_assert_str_eq(lin_link_status_word(LIN_LINK_UP_TO_DATE),
	    "up-to-date");
	ck_assert_str_eq(lin_link_status_word(LIN_LINK_OUT_OF_DATE),
	    "out-of-date");
	ck_assert_str_eq(lin_link_status_word(LIN_LINK_UNDETERMINED),
	    "undetermined");
	ck_assert_str_eq(lin_ancestry_word(LIN_ANCESTRY_NONE), "none");
	ck_assert_str_eq(lin_ancestry_word(LIN_ANCESTRY_UP_TO_DATE),
	    "up-to-date");
	ck_assert_str_eq(lin_ancestry_word(LIN_ANCESTRY_OUT_OF_DATE),
	    "out-of-date");
	ck_assert_str_eq(lin_ancestry_word(LIN_ANCESTRY_UNDETERMINED),
	    "undetermined");
}
END_TEST

static enum lin_ancestry
ancestry(int64_t id)
{
	enum lin_ancestry a;

	ck_assert_int_eq(lin_iteration_ancestry(R, id, &a, &E), 0);
	return a;
}

START_TEST(test_add_by_path)
{
	int64_t c;
	struct lin_link l;

	two_buckets();
	c = fx_running(app, "c1");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_NONE);
	ck_assert_str_eq(fx_render(lin_render_parent, c), "");
	fx_link(c, "buckets/base/iterations/p1\n");
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=- status=undetermined\n");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UNDETERMINED);
	/* parents/ and children/ names */
	ck_assert_int_eq(lin_link_by_name(R, c, true, "base@p1", &l, &E), 0);
	ck_assert_str_eq(l.bucket, "base");
	ck_assert_str_eq(l.fingerprint, "p1");
	ck_assert_str_eq(l.channel, "");
	ck_assert_int_eq(l.status, LIN_LINK_UNDETERMINED);
	ck_assert_int_eq(lin_link_by_name(R, l.parent_id, false, "app@c1", &l,
	    &E), 0);
	ck_assert_int_eq(l.child_id, c);
	ck_assert_str_eq(l.bucket, "app");
	ck_assert_int_eq(lin_link_by_name(R, c, true, "base@p2", &l, &E),
	    -ENOENT);
	ck_assert_int_eq(lin_link_by_name(R, c, true, "nonsense", &l, &E),
	    -ENOENT);
	ck_assert_int_eq(lin_link_by_name(R, c, false, "base@p1", &l, &E),
	    -ENOENT);
	/* the event */
	ck_assert_int_eq(fx_count_events("action=parent-add bucket=app "
	    "iteration=c1 version=v0 parent=buckets/base/iterations/p1 "
	    "channel=- by=", NULL, NULL), 1);
}
END_TEST

/* Every spelling of a path of SPEC §2 names the same parent. */
START_TEST(test_add_aliases)
{
	struct lin_iteration p1;
	int64_t c;
	char path[128];

	two_buckets();
	ck_assert_int_eq(lin_iteration_by_fingerprint(R, base, "p1", &p1, &E),
	    0);
	c = fx_running(app, "c1");
	fx_link(c, "base/versions/v1");
	ck_assert_int_eq(fx_parent(c, "buckets/base/iterations/p1/"), -EEXIST);
	snprintf(path, sizeof(path), "by-id/%s", p1.ulid);
	ck_assert_int_eq(fx_parent(c, path), -EEXIST);
	lin_reg_set_mountpoint(R, "/mnt/images");
	ck_assert_int_eq(fx_parent(c, "/mnt/images/buckets/base/versions/v1"),
	    -EEXIST);
	fx_link(c, "/mnt/images/buckets/base/iterations/p2");
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=- status=undetermined\n"
	    "buckets/base/iterations/p2 channel=- status=undetermined\n");
	/* outside the mount, or naming no iteration */
	ck_assert_int_eq(fx_parent(c, "/elsewhere/buckets/base/iterations/p1"),
	    -EINVAL);
	ck_assert_int_eq(fx_parent(c, "buckets/base"), -EINVAL);
	ck_assert_int_eq(fx_parent(c, ""), -EINVAL);
	ck_assert_int_eq(fx_parent(c, "base/iterations/p9"), -ENOENT);
	ck_assert_int_eq(fx_parent(c, "nobucket/iterations/p1"), -ENOENT);
	ck_assert_int_eq(fx_parent(c, "base/versions/v7"), -ENOENT);
	ck_assert_int_eq(fx_parent(c, "base/channels/nochannel"), -ENOENT);
}
END_TEST

/* The status follows the channel the link recorded, live. */
START_TEST(test_status_follows_channel)
{
	int64_t c;

	two_buckets();
	fx_assign(base, "production", "p1");
	c = fx_running(app, "c1");
	fx_link(c, "buckets/base/channels/production");
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=production "
	    "status=up-to-date\n");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UP_TO_DATE);
	ck_assert_int_eq(fx_count_events("action=parent-add",
	    "channel=production", NULL), 1);
	fx_assign(base, "production", "p2");
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=production "
	    "status=out-of-date\n");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_OUT_OF_DATE);
	fx_assign(base, "production", "p1");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UP_TO_DATE);
	ck_assert_int_eq(lin_channel_delete(R, &A, base, "production", &E), 0);
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=production "
	    "status=undetermined\n");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UNDETERMINED);
}
END_TEST

START_TEST(test_status_latest)
{
	int64_t c;

	two_buckets();
	c = fx_running(app, "c1");
	fx_link(c, "base/channels/latest");
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p2 channel=latest status=up-to-date\n");
	fx_active(base, "p3");
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p2 channel=latest status=out-of-date\n");
}
END_TEST

/* out-of-date wins over undetermined, which wins over up-to-date. */
START_TEST(test_ancestry_word)
{
	int64_t other, c;

	two_buckets();
	other = fx_bucket("other");
	fx_active(other, "o1");
	fx_active(other, "o2");
	fx_assign(base, "prod", "p1");
	fx_assign(other, "prod", "o1");
	c = fx_running(app, "c1");
	fx_link(c, "base/channels/prod");
	fx_link(c, "other/channels/prod");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UP_TO_DATE);
	fx_link(c, "base/iterations/p2");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UNDETERMINED);
	fx_assign(other, "prod", "o2");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_OUT_OF_DATE);
}
END_TEST

START_TEST(test_errors_in_order)
{
	int64_t c, d, x;

	two_buckets();
	c = fx_running(app, "c1");
	/* a complete child: EPERM, even for a self-parent */
	x = fx_active(app, "done");
	ck_assert_int_eq(fx_parent(x, "base/iterations/p1"), -EPERM);
	ck_assert_int_eq(fx_parent(x, "app/iterations/done"), -EPERM);
	/* self */
	ck_assert_int_eq(fx_parent(c, "app/iterations/c1"), -ELOOP);
	/* cycle: c1 -> d1 -> c1 */
	d = fx_running(app, "d1");
	fx_link(d, "app/iterations/c1");
	ck_assert_int_eq(fx_parent(c, "app/iterations/d1"), -ELOOP);
	ck_assert_int_ne(strlen(E.msg), 0);
	/* a longer cycle across buckets: c1 -> d1 -> e1 -> c1 */
	x = fx_running(base, "e1");
	fx_link(x, "app/iterations/d1");
	ck_assert_int_eq(fx_parent(c, "base/iterations/e1"), -ELOOP);
	/* duplicate */
	ck_assert_int_eq(fx_parent(d, "app/iterations/c1"), -EEXIST);
	/* a revoked parent: EKEYREVOKED */
	fx_link(c, "base/iterations/p1");
	ck_assert_int_eq(lin_revoke(R, &A, fx_running(base, "q1"),
	    "descendants=no gone", 19, &E), 0);
	ck_assert_int_eq(fx_parent(c, "base/iterations/q1"), -EKEYREVOKED);
	/* a revoked child: EKEYREVOKED */
	ck_assert_int_eq(lin_revoke(R, &A, d, "bad", 3, &E), 0);
	ck_assert_int_eq(fx_parent(d, "base/iterations/p2"), -EKEYREVOKED);
	/* nothing was linked by the refusals */
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=- status=undetermined\n");
	/* no such child */
	ck_assert_int_eq(fx_parent(9999, "base/iterations/p1"), -ENOENT);
}
END_TEST

START_TEST(test_duplicate_after_revoked_parent)
{
	int64_t c, p;

	two_buckets();
	c = fx_running(app, "c1");
	p = fx_running(base, "r1");
	fx_link(c, "base/iterations/r1");
	/* Revoking the parent with descendants=no leaves the child alone;
	 * linking it again is refused as revoked first, not as a duplicate. */
	ck_assert_int_eq(lin_revoke(R, &A, p, "descendants=no x", 16, &E), 0);
	ck_assert_int_eq(fx_parent(c, "base/iterations/r1"), -EKEYREVOKED);
}
END_TEST

START_TEST(test_eacces)
{
	struct lin_bucket b;
	struct lin_actor other = { .uid = 4242, .gid = 4242 };
	int64_t c;

	ck_assert_int_eq(lin_bucket_create(R, &A, "secret", 0700, &b, &E), 0);
	fx_active(b.id, "s1");
	app = fx_bucket("app");
	c = fx_running(app, "c1");
	ck_assert_int_eq(lin_parent_add(R, &other, c, "secret/iterations/s1",
	    20, &E), -EACCES);
	ck_assert_int_eq(lin_parent_add(R, &A, c, "secret/iterations/s1",
	    20, &E), 0);
}
END_TEST

START_TEST(test_erofs)
{
	struct lin_reg *ro;
	int64_t c;

	two_buckets();
	c = fx_running(app, "c1");
	ck_assert_int_eq(lin_reg_open(regpath, LIN_OPEN_RDONLY, &ro, &E), 0);
	ck_assert_int_eq(lin_parent_add(ro, &A, c, "base/iterations/p1", 18,
	    &E), -EROFS);
	ck_assert_int_eq(lin_parent_remove(ro, &A, c, 1, &E), -EROFS);
	lin_reg_close(ro);
}
END_TEST

static int
first_link(void *ctx, const struct lin_link *l)
{
	*(int64_t *)ctx = l->id;
	return 1;
}

START_TEST(test_remove)
{
	int64_t c, d, link = 0;

	two_buckets();
	c = fx_running(app, "c1");
	fx_link(c, "base/iterations/p1");
	fx_link(c, "base/channels/latest");
	ck_assert_int_eq(lin_parent_links(R, c, first_link, &link, &E), 1);
	d = fx_running(app, "d1");
	ck_assert_int_eq(lin_parent_remove(R, &A, d, link, &E), -ENOENT);
	ck_assert_int_eq(lin_parent_remove(R, &A, c, 99999, &E), -ENOENT);
	ck_assert_int_eq(lin_parent_remove(R, &A, c, link, &E), 0);
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p2 channel=latest status=up-to-date\n");
	ck_assert_int_eq(fx_count_events("action=parent-remove bucket=app "
	    "iteration=c1 version=v0 parent=buckets/base/iterations/p1 "
	    "channel=- by=", NULL, NULL), 1);
	/* complete: parents are frozen */
	ck_assert_int_eq(lin_parent_links(R, c, first_link, &link, &E), 1);
	fx_complete(c);
	ck_assert_int_eq(lin_parent_remove(R, &A, c, link, &E), -EPERM);
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UP_TO_DATE);
}
END_TEST

/* A parent may be running; a running parent's children are fine too. */
START_TEST(test_running_parent)
{
	int64_t a, b;

	app = fx_bucket("app");
	a = fx_running(app, "a1");
	b = fx_running(app, "b1");
	fx_link(b, "app/iterations/a1");
	ck_assert_str_eq(fx_render(lin_render_descendants, a),
	    "buckets/app/iterations/b1\n");
}
END_TEST

/* Build sources: a registered artifact links its iteration; anything
 * else is an untracked parent, shown by its source. */
START_TEST(test_untracked_source)
{
	struct lin_build b;
	int64_t c;

	two_buckets();
	c = fx_running(app, "c1");
	ck_assert_int_eq(lin_build_create(R, &A, c, "docker.x", &b, &E), 0);
	ck_assert_int_eq(lin_build_set(R, &A, b.id, LIN_BUILD_SOURCE,
	    "sha256:feed\n", 12, &E), 0);
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "source=sha256:feed channel=- status=undetermined\n");
	ck_assert_int_eq(ancestry(c), LIN_ANCESTRY_UNDETERMINED);
	ck_assert_str_eq(fx_render(lin_render_ancestors, c), "");
	ck_assert_int_eq(fx_count_events("action=parent-add",
	    "source=sha256:feed", "channel=-"), 1);
	/* the source is now p1's artifact: a tracked parent */
	ck_assert_int_eq(lin_build_set(R, &A, b.id, LIN_BUILD_SOURCE,
	    "ami-1", 5, &E), 0);
	ck_assert_str_eq(fx_render(lin_render_parent, c),
	    "buckets/base/iterations/p1 channel=- status=undetermined\n");
	ck_assert_str_eq(fx_render(lin_render_ancestors, c),
	    "buckets/base/iterations/p1\n");
}
END_TEST

/*
 *        r
 *      /   \
 *     a     b        (a, b in bucket mid; d in bucket top)
 *      \   / \
 *        d    e
 *        |
 *        f          plus a shortcut r -> f
 */
static int64_t r_, a_, b_, d_, e_, f_;

static void
diamond(void)
{
	int64_t lo = fx_bucket("low"), mid = fx_bucket("mid"),
	    top = fx_bucket("top");

	r_ = fx_running(lo, "r");
	a_ = fx_running(mid, "a");
	b_ = fx_running(mid, "b");
	d_ = fx_running(top, "d");
	e_ = fx_running(top, "e");
	f_ = fx_running(top, "f");
	fx_link(a_, "low/iterations/r");
	fx_link(b_, "low/iterations/r");
	fx_link(d_, "mid/iterations/b");
	fx_link(d_, "mid/iterations/a");
	fx_link(e_, "mid/iterations/b");
	fx_link(f_, "top/iterations/d");
	fx_link(f_, "low/iterations/r");
}

START_TEST(test_ancestors)
{
	diamond();
	/* depth 1: d (link), r (shortcut); depth 2: b, a by link id of the
	 * link that reached them (d -> b was linked before d -> a) */
	ck_assert_str_eq(fx_render(lin_render_ancestors, f_),
	    "buckets/top/iterations/d\n"
	    "buckets/low/iterations/r\n"
	    "buckets/mid/iterations/b\n"
	    "buckets/mid/iterations/a\n");
	ck_assert_str_eq(fx_render(lin_render_ancestors, d_),
	    "buckets/mid/iterations/b\n"
	    "buckets/mid/iterations/a\n"
	    "buckets/low/iterations/r\n");
	ck_assert_str_eq(fx_render(lin_render_ancestors, r_), "");
}
END_TEST

START_TEST(test_descendants)
{
	diamond();
	/* f is a child of r directly: depth 1, not 3; d once */
	ck_assert_str_eq(fx_render(lin_render_descendants, r_),
	    "buckets/mid/iterations/a\n"
	    "buckets/mid/iterations/b\n"
	    "buckets/top/iterations/f\n"
	    "buckets/top/iterations/d\n"
	    "buckets/top/iterations/e\n");
	ck_assert_str_eq(fx_render(lin_render_descendants, b_),
	    "buckets/top/iterations/d\n"
	    "buckets/top/iterations/e\n"
	    "buckets/top/iterations/f\n");
	ck_assert_str_eq(fx_render(lin_render_descendants, f_), "");
}
END_TEST

START_TEST(test_tree)
{
	diamond();
	ck_assert_str_eq(fx_render(lin_render_tree, f_),
	    "top v0 f [running]\n");
	ck_assert_str_eq(fx_render(lin_render_tree, r_),
	    "low v0 r [running]\n"
	    "├── mid v0 a [running]\n"
	    "│   └── top v0 d [running]\n"
	    "│       └── top v0 f [running]\n"
	    "├── mid v0 b [running]\n"
	    "│   ├── top v0 d [running] (see above)\n"
	    "│   └── top v0 e [running]\n"
	    "└── top v0 f [running] (see above)\n");
	/* states, and (inherited) on what a revocation reached */
	ck_assert_int_eq(lin_revoke(R, &A, b_, "in=1d cve", 9, &E), 0);
	ck_assert_int_eq(lin_revoke(R, &A, e_, "cve", 3, &E), 0);
	ck_assert_str_eq(fx_render(lin_render_tree, b_),
	    "mid v0 b [scheduled]\n"
	    "├── top v0 d [scheduled] (inherited)\n"
	    "│   └── top v0 f [scheduled] (inherited)\n"
	    "└── top v0 e [revoked]\n");
	ck_assert_int_eq(lin_render_tree(R, 9999, &(struct lin_buf){0}, &E),
	    -ENOENT);
}
END_TEST

START_TEST(test_tree_complete_versions)
{
	int64_t c;

	two_buckets();
	c = fx_running(app, "c1");
	fx_link(c, "base/iterations/p2");
	fx_complete(c);
	ck_assert_str_eq(fx_render(lin_render_tree, 2),
	    "base v2 p2 [active]\n"
	    "└── app v1 c1 [active]\n");
}
END_TEST

/* Run dot on the text; true when it renders. */
static bool
dot_renders(const char *text)
{
	FILE *p = popen("dot -Tsvg > /dev/null 2>&1", "w");
	int st;

	if (p == NULL)
		return false;
	fputs(text, p);
	st = pclose(p);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static char *
graph(void)
{
	static struct lin_buf b;

	lin_buf_free(&b);
	lin_buf_init(&b);
	ck_assert_int_eq(lin_render_graph(R, &b, &E), 0);
	lin_buf_add(&b, "", 0);
	return b.data;
}

/* The SQL steps the cached statements took since the last call. */
static long long
sql_steps(void)
{
	long long n = 0;

	for (size_t i = 0; i < LIN_STMT_CACHE; i++)
		if (R->cache[i].stmt)
			n += sqlite3_stmt_status(R->cache[i].stmt,
			    SQLITE_STMTSTATUS_VM_STEP, 1);
	return n;
}

/* A tree costs its subgraph, not the registry's whole link table: its
 * query once joined the set of descendants back to every link. */
START_TEST(test_tree_costs_its_subgraph)
{
	int64_t b = fx_bucket("many"), root, kid, p;
	char fp[32], path[64];
	long long small, big;

	ck_assert_int_eq(lin_tx_begin(R, &E), 0);
	root = fx_running(b, "root");
	kid = fx_running(b, "kid");
	fx_link(kid, "many/iterations/root");
	ck_assert_int_eq(lin_tx_end(R, 0, &E), 0);
	fx_render(lin_render_tree, root);
	sql_steps();
	fx_render(lin_render_tree, root);
	small = sql_steps();
	/* 2000 more links elsewhere */
	ck_assert_int_eq(lin_tx_begin(R, &E), 0);
	for (int i = 0; i < 2000; i++) {
		snprintf(fp, sizeof(fp), "p%d", i);
		p = fx_running(b, fp);
		(void)p;
		snprintf(path, sizeof(path), "many/iterations/p%d", i);
		snprintf(fp, sizeof(fp), "c%d", i);
		fx_link(fx_running(b, fp), path);
	}
	ck_assert_int_eq(lin_tx_end(R, 0, &E), 0);
	sql_steps();
	ck_assert_ptr_nonnull(strstr(fx_render(lin_render_tree, root), "kid"));
	big = sql_steps();
	ck_assert_msg(big < small * 2 + 100, "a tree of one edge took %lld "
	    "SQL steps with 2000 other links, %lld without", big, small);
}
END_TEST

START_TEST(test_graph)
{
	int64_t c, d;
	char *g;

	ck_assert_str_eq(graph(), "digraph lineage {\n"
	    "\tnode [shape=box, style=filled, fontname=\"Helvetica\"];\n}\n");
	ck_assert(dot_renders(graph()));
	two_buckets();
	fx_assign(base, "prod", "p1");
	c = fx_running(app, "c1");
	d = fx_running(app, "c-2.x");
	fx_link(c, "base/channels/prod");
	fx_link(d, "base/iterations/p2");
	ck_assert_int_eq(lin_revoke(R, &A, d, "in=2h soon", 10, &E), 0);
	g = graph();
	ck_assert_ptr_nonnull(strstr(g, "\ti1 [label=\"base\\nv1\", "
	    "tooltip=\"p1 active\", fillcolor=green];\n"));
	ck_assert_ptr_nonnull(strstr(g, "\ti3 [label=\"app\\nv0\", "
	    "tooltip=\"c1 running\", fillcolor=grey];\n"));
	ck_assert_ptr_nonnull(strstr(g, "tooltip=\"c-2.x scheduled\", "
	    "fillcolor=orange"));
	ck_assert_ptr_nonnull(strstr(g, "\ti1 -> i3;\n"));
	ck_assert_ptr_nonnull(strstr(g, "\ti2 -> i4;\n"));
	ck_assert(dot_renders(g));
	/* the channel moves on: that edge is drawn dashed */
	fx_assign(base, "prod", "p2");
	ck_assert_int_eq(lin_revoke(R, &A, 1, "old", 3, &E), 0);
	g = graph();
	ck_assert_ptr_nonnull(strstr(g, "\ti1 -> i3 [style=dashed];\n"));
	ck_assert_ptr_nonnull(strstr(g, "tooltip=\"p1 revoked\", "
	    "fillcolor=red"));
	ck_assert(dot_renders(g));
}
END_TEST

static Suite *
ancestry_suite(void)
{
	Suite *s = suite_create("ancestry");
	TCase *tc = tcase_create("links");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_add_by_path);
	tcase_add_test(tc, test_add_aliases);
	tcase_add_test(tc, test_status_follows_channel);
	tcase_add_test(tc, test_status_latest);
	tcase_add_test(tc, test_ancestry_word);
	tcase_add_test(tc, test_errors_in_order);
	tcase_add_test(tc, test_duplicate_after_revoked_parent);
	tcase_add_test(tc, test_eacces);
	tcase_add_test(tc, test_erofs);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_running_parent);
	tcase_add_test(tc, test_untracked_source);
	suite_add_tcase(s, tc);
	tc = tcase_create("views");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_ancestors);
	tcase_add_test(tc, test_descendants);
	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_tree_complete_versions);
	tcase_add_test(tc, test_tree_costs_its_subgraph);
	tcase_add_test(tc, test_graph);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ancestry_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
