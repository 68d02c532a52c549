/*
 * lineagectl — the lineagefs registry without a mount: backups (export,
 * load), Packer manifest import, the integrity check, the synthetic
 * registry generator, and the mount's control operations (revoke, restore,
 * assign) for hosts without FUSE.
 *
 * This file parses arguments and prints; everything else is the engine's,
 * reached through include/lineage/, so a refusal here is the same refusal,
 * with the same errno and sentence, as a write(2) in the mount.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineage/lineage.h"

/* Exit statuses: 1 for a refusal or a problem found, 2 for bad usage. */
#define EXIT_USAGE 2

struct cmd {
	const char *name;
	const char *args;       /* after REGISTRY */
	const char *about;      /* one line for the list */
	const char *help;       /* the rest of `help COMMAND` */
	int         min, max;   /* arguments after REGISTRY; max -1: any */
	int         open;       /* how to open: see below */
	int       (*run)(struct lin_reg *, char **, int);
};

enum {
	OPEN_EXISTING,  /* the registry must exist */
	OPEN_READ,      /* must exist; read-only */
	OPEN_CREATE,    /* created when missing */
};

static const struct cmd *cur;   /* the command running, for messages */

/* ---- output and errors ---- */

static void __attribute__((noreturn))
fail(int rc, const struct lin_err *e)
{
	int code = e->code ? e->code : -rc;

	errx(1, "%s: %s: %s", cur->name, lin_errno_name(code),
	    e->msg[0] ? e->msg : strerror(code));
}

static void
out_write(const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, stdout) != n)
		err(1, "%s: stdout", cur->name);
}

static void
out_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "%s: stdout", cur->name);
}

/* The whole of a file, or of standard input for "-". */
static void
slurp(const char *path, struct lin_buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char chunk[65536];
	size_t n;

	if (f == NULL)
		err(1, "%s: %s", cur->name, path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		lin_buf_add(b, chunk, n);
	if (ferror(f))
		err(1, "%s: %s", cur->name, path);
	if (f != stdin)
		fclose(f);
}

/* The words of argv joined by single spaces, as one line. */
static void
join(char **argv, int argc, struct lin_buf *b)
{
	for (int i = 0; i < argc; i++) {
		if (i)
			lin_buf_puts(b, " ");
		lin_buf_puts(b, argv[i]);
	}
}

/* An iteration named as in the mount: buckets/B/iterations/FP, or an
 * alias (versions/vN, channels/C, by-id/ULID). */
static void
resolve(struct lin_reg *r, const char *path, struct lin_iteration *it)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e = { 0 };
	struct lin_ref ref;
	int rc;

	if ((rc = lin_ref_parse(path, strlen(path), "", NULL, &ref, &e)) ||
	    (rc = lin_ref_resolve(r, &a, &ref, it, &e)))
		fail(rc, &e);
}

static int64_t
bucket_id(struct lin_reg *r, const char *name)
{
	struct lin_err e = { 0 };
	struct lin_bucket b;
	int rc;

	if ((rc = lin_bucket_by_name(r, name, &b, &e)))
		fail(rc, &e);
	return b.id;
}

/* ---- commands ---- */

static int
cmd_export(struct lin_reg *r, char **argv, int argc)
{
	struct lin_err e = { 0 };
	struct lin_buf b;
	int rc;

	lin_buf_init(&b);
	if ((rc = lin_export(r, &b, &e)))
		fail(rc, &e);
	out_write(b.data, b.len);
	lin_buf_free(&b);
	return 0;
}

static int
cmd_load(struct lin_reg *r, char **argv, int argc)
{
	struct lin_err e = { 0 };
	struct lin_buf b;
	int rc;

	lin_buf_init(&b);
	slurp(argv[0], &b);
	rc = lin_export_load(r, b.data, b.len, &e);
	lin_buf_free(&b);
	if (rc)
		fail(rc, &e);
	return 0;
}

static int
cmd_import(struct lin_reg *r, char **argv, int argc)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e = { 0 };
	int64_t bucket = bucket_id(r, argv[0]);
	struct lin_buf b;
	char *path;
	int rc;

	lin_buf_init(&b);
	slurp(argv[1], &b);
	rc = lin_manifest_import(r, &a, bucket, b.data, b.len, &path, &e);
	lin_buf_free(&b);
	if (rc)
		fail(rc, &e);
	printf("%s\n", path);
	free(path);
	return 0;
}

static int
cmd_check(struct lin_reg *r, char **argv, int argc)
{
	struct lin_err e = { 0 };
	struct lin_buf b;
	int n;

	lin_buf_init(&b);
	if ((n = lin_check(r, &b, &e)) < 0)
		fail(n, &e);
	if (n == 0)
		printf("ok\n");
	else
		out_write(b.data, b.len);
	lin_buf_free(&b);
	return n == 0 ? 0 : 1;
}

static int
cmd_revoke(struct lin_reg *r, char **argv, int argc)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e = { 0 };
	struct lin_iteration it;
	struct lin_buf line;
	int rc;

	resolve(r, argv[0], &it);
	lin_buf_init(&line);
	join(argv + 1, argc - 1, &line);
	rc = lin_revoke(r, &a, it.id, line.data, line.len, &e);
	lin_buf_free(&line);
	if (rc)
		fail(rc, &e);
	return 0;
}

static int
cmd_restore(struct lin_reg *r, char **argv, int argc)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e = { 0 };
	struct lin_iteration it;
	struct lin_buf comment;
	int rc;

	resolve(r, argv[0], &it);
	lin_buf_init(&comment);
	join(argv + 1, argc - 1, &comment);
	rc = lin_restore(r, &a, it.id, comment.data, comment.len, &e);
	lin_buf_free(&comment);
	if (rc)
		fail(rc, &e);
	return 0;
}

static int
cmd_assign(struct lin_reg *r, char **argv, int argc)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e = { 0 };
	int64_t bucket = bucket_id(r, argv[0]);
	struct lin_iteration it;
	struct lin_channel ch;
	struct lin_buf target;
	int rc;

	/* PATH is relative to the mount root; the engine takes a symlink
	 * target relative to the channels directory. */
	resolve(r, argv[2], &it);
	lin_buf_init(&target);
	lin_buf_printf(&target, "../../%s/iterations/%s", it.bucket,
	    it.fingerprint);
	rc = lin_channel_assign(r, &a, bucket, argv[1], target.data, &ch, &e);
	lin_buf_free(&target);
	if (rc)
		fail(rc, &e);
	return 0;
}

static int
cmd_mkbucket(struct lin_reg *r, char **argv, int argc)
{
	struct lin_actor a = lin_actor_self();
	struct lin_err e = { 0 };
	struct lin_bucket b;
	int rc;

	if ((rc = lin_bucket_create(r, &a, argv[0], 0755, &b, &e)))
		fail(rc, &e);
	return 0;
}

static int
cmd_events(struct lin_reg *r, char **argv, int argc)
{
	struct lin_err e = { 0 };
	int64_t size, off = 0;
	struct lin_buf b;
	int rc;

	if ((rc = lin_events_size(r, &size, &e)))
		fail(rc, &e);
	lin_buf_init(&b);
	while (off < size) {
		lin_buf_reset(&b);
		if ((rc = lin_events_read(r, off, 1 << 20, &b, &e)))
			fail(rc, &e);
		if (b.len == 0)
			break;
		out_write(b.data, b.len);
		off += (int64_t)b.len;
	}
	lin_buf_free(&b);
	return 0;
}

/* gen's options were parsed before the registry was opened. */
static struct lin_gen_params gen_params = {
	.buckets = 12, .iterations = 20, .builds = 2, .regions = 3,
	.depth = 3, .fanout = 3, .channels = 2, .seed = 1,
};

static int
cmd_gen(struct lin_reg *r, char **argv, int argc)
{
	struct lin_err e = { 0 };
	int rc;

	if ((rc = lin_generate(r, &gen_params, &e)))
		fail(rc, &e);
	printf("generated %d buckets, %lld iterations\n", gen_params.buckets,
	    (long long)gen_params.buckets * gen_params.iterations);
	return 0;
}

static const struct cmd cmds[] = {
	{ "export", "", "print the whole registry as JSON",
	  "Writes every row of the registry, with its id, as one JSON\n"
	  "document to standard output: a backup that `load' restores.\n",
	  0, 0, OPEN_READ, cmd_export },
	{ "load", "FILE|-", "restore an export into a new registry",
	  "Loads a document written by `export' into REGISTRY, which must be\n"
	  "new or empty; exporting it again gives the same bytes.\n",
	  1, 1, OPEN_CREATE, cmd_load },
	{ "import", "BUCKET MANIFEST|-", "import a Packer manifest",
	  "Imports the JSON of Packer's manifest post-processor as one\n"
	  "complete iteration of BUCKET and prints its path.\n",
	  2, 2, OPEN_EXISTING, cmd_import },
	{ "check", "", "check integrity and invariants",
	  "Prints one line per problem and exits 1, or prints `ok'.\n",
	  0, 0, OPEN_READ, cmd_check },
	{ "gen", "[--buckets N] [--iterations N] [--builds N] [--regions N]\n"
	  "                      [--depth N] [--fanout N] [--channels N] "
	  "[--seed N]",
	  "generate a synthetic registry",
	  "Fills REGISTRY with N buckets in DEPTH ancestry levels, ITERATIONS\n"
	  "complete iterations each, BUILDS builds of REGIONS artifacts per\n"
	  "iteration, CHANNELS channels per bucket, parents chosen so each\n"
	  "gets about FANOUT children.  The same SEED gives the same registry.\n"
	  "Defaults: 12 buckets, 20 iterations, 2 builds, 3 regions, depth 3,\n"
	  "fanout 3, 2 channels, seed 1.\n",
	  0, 0, OPEN_CREATE, cmd_gen },
	{ "revoke", "PATH REASON-LINE...", "revoke an iteration",
	  "Revokes the iteration PATH names, as writing the words of\n"
	  "REASON-LINE to its revoke file does:\n"
	  "  [in=DURATION | at=TIME] [descendants=yes|no] [rollback=yes|no]"
	  " REASON\n",
	  2, -1, OPEN_EXISTING, cmd_revoke },
	{ "restore", "PATH [COMMENT...]", "restore a revoked iteration",
	  "Restores the iteration PATH names, or cancels its scheduled\n"
	  "revocation, as writing COMMENT to its restore file does.\n",
	  1, -1, OPEN_EXISTING, cmd_restore },
	{ "assign", "BUCKET CHANNEL PATH", "point a channel at an iteration",
	  "Creates or moves channel CHANNEL of BUCKET to the iteration PATH\n"
	  "names.\n",
	  3, 3, OPEN_EXISTING, cmd_assign },
	{ "mkbucket", "BUCKET", "create a bucket",
	  "Creates BUCKET, owned by the caller, mode 0755.\n",
	  1, 1, OPEN_CREATE, cmd_mkbucket },
	{ "events", "", "print the events log",
	  "Prints the events log, oldest first, as the events file reads.\n",
	  0, 0, OPEN_READ, cmd_events },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};

/* ---- usage ---- */

static void
cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: lineagectl %s REGISTRY%s%s\n", c->name,
	    c->args[0] ? " " : "", c->args);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: lineagectl COMMAND REGISTRY [ARGS]\n"
	    "       lineagectl help [COMMAND]\n\ncommands:\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->about);
	fprintf(f, "\nPATH names an iteration as in the mount: "
	    "buckets/B/iterations/FP,\nbuckets/B/versions/vN, "
	    "buckets/B/channels/C or by-id/ULID.\n");
}

static const struct cmd *
find(const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int
help(const struct cmd *c)
{
	cmd_usage(stdout, c);
	printf("\n%s", c->help);
	return 0;
}

static void __attribute__((noreturn))
bad_usage(const char *why)
{
	if (why)
		warnx("%s%s%s", cur ? cur->name : "", cur ? ": " : "", why);
	if (cur)
		cmd_usage(stderr, cur);
	else
		usage(stderr);
	exit(EXIT_USAGE);
}

/* ---- arguments ---- */

static int
gen_number(const char *s, const char *what, long long max)
{
	const char *errstr;
	long long v = strtonum(s, what[0] == 'c' ? 0 : 1, max, &errstr);

	if (errstr) {
		warnx("gen: --%s %s: %s", what, s, errstr);
		bad_usage(NULL);
	}
	return (int)v;
}

static void
gen_options(int *argc, char ***argv)
{
	static const struct option opts[] = {
		{ "buckets", required_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "builds", required_argument, NULL, 'B' },
		{ "regions", required_argument, NULL, 'r' },
		{ "depth", required_argument, NULL, 'd' },
		{ "fanout", required_argument, NULL, 'f' },
		{ "channels", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lin_gen_params *p = &gen_params;
	const char *errstr;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(*argc, *argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': p->buckets = gen_number(optarg, "buckets", 100000);
			break;
		case 'i': p->iterations = gen_number(optarg, "iterations",
			    100000000);
			break;
		case 'B': p->builds = gen_number(optarg, "builds", 64);
			break;
		case 'r': p->regions = gen_number(optarg, "regions", 64);
			break;
		case 'd': p->depth = gen_number(optarg, "depth", 32);
			break;
		case 'f': p->fanout = gen_number(optarg, "fanout", 1000);
			break;
		case 'c': p->channels = gen_number(optarg, "channels", 64);
			break;
		case 's':
			p->seed = (uint64_t)strtonum(optarg, 0, LLONG_MAX,
			    &errstr);
			if (errstr) {
				warnx("gen: --seed %s: %s", optarg, errstr);
				bad_usage(NULL);
			}
			break;
		case 'h':
			exit(help(cur));
		case ':':
			warnx("gen: %s needs a value", (*argv)[optind - 1]);
			bad_usage(NULL);
		default:
			warnx("gen: unknown option %s", (*argv)[optind - 1]);
			bad_usage(NULL);
		}
	}
	*argc -= optind;
	*argv += optind;
}

/* Other commands take no options: --help anywhere asks for help, a word
 * beginning with "-" before the registry is a mistake, and "--" ends all
 * that, so that a reason may begin with "-". */
static void
plain_options(int *argc, char ***argv)
{
	char **v = *argv;
	bool positional = false, ended = false;
	int n = 0;

	for (int i = 1; i < *argc; i++) {
		const char *a = v[i];

		if (!ended && strcmp(a, "--") == 0) {
			ended = true;
			continue;
		}
		if (!ended && (strcmp(a, "--help") == 0 ||
		    (!positional && strcmp(a, "-h") == 0)))
			exit(help(cur));
		if (!ended && !positional && a[0] == '-' && a[1] != '\0')
			bad_usage("unknown option");
		positional = true;
		v[n++] = v[i];
	}
	*argc = n;
}

/* gen's options may come before or after REGISTRY (getopt_long moves the
 * other words to the end); the other commands take only --help. */
static void
command_args(int *argc, char ***argv)
{
	if (cur->run == cmd_gen)
		gen_options(argc, argv);
	else
		plain_options(argc, argv);
}

static struct lin_reg *
open_registry(const char *path)
{
	struct lin_err e = { 0 };
	struct lin_reg *r;
	int rc;

	if (cur->open != OPEN_CREATE && access(path, F_OK) != 0)
		err(1, "%s: %s", cur->name, path);
	rc = lin_reg_open(path, cur->open == OPEN_READ ? LIN_OPEN_RDONLY : 0,
	    &r, &e);
	if (rc)
		fail(rc, &e);
	return r;
}

/* A load that fails must not leave a half-made registry file behind. */
static const char *made_registry;
static bool done;

static void
remove_registry(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[4096];

	if (made_registry == NULL || done)
		return;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", made_registry, sfx[i]);
		unlink(p);
	}
}

int
main(int argc, char **argv)
{
	struct lin_reg *r;
	int rc;

	if (argc < 2)
		bad_usage(NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    (strcmp(argv[1], "help") == 0 && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 3 || (cur = find(argv[2])) == NULL) {
			cur = NULL;
			bad_usage("help: no such command");
		}
		return help(cur);
	}
	if ((cur = find(argv[1])) == NULL) {
		warnx("%s: no such command", argv[1]);
		bad_usage(NULL);
	}
	argc--;
	argv++;
	command_args(&argc, &argv);
	if (argc < 1)
		bad_usage("a registry is needed");
	if (argc - 1 < cur->min || (cur->max >= 0 && argc - 1 > cur->max))
		bad_usage(argc - 1 < cur->min ? "too few arguments" :
		    "too many arguments");
	if (cur->run == cmd_load && access(argv[0], F_OK) != 0) {
		made_registry = argv[0];
		atexit(remove_registry);
	}
	r = open_registry(argv[0]);
	rc = cur->run(r, argv + 1, argc - 1);
	lin_reg_close(r);
	out_flush();
	done = true;
	return rc;
}
