/*
 * main.c — lineagefs(1): mount a lineagefs registry.
 *
 *	lineagefs [-f] [-d] [-o OPT[,OPT...]] REGISTRY MOUNTPOINT
 *
 * Opens (or creates) the SQLite registry, mounts it with the low-level
 * FUSE API and serves requests on several threads.  A ticker thread makes
 * scheduled revocations take effect on time.  Works from /etc/fstab
 * through mount.fuse3, which runs it without -f.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

struct opts {
	char *registry;
	char *mountpoint;
	int   foreground;
	int   debug;
	int   ro;
	int   deny_revoked;
	int   help;
	int   version;
	int   single;
	int   timeout;
};

#define OPT(t, p) { t, offsetof(struct opts, p), 1 }
static const struct fuse_opt opt_spec[] = {
	OPT("-f", foreground),
	OPT("-d", debug),
	OPT("debug", debug),
	OPT("-s", single),
	OPT("ro", ro),
	OPT("deny_revoked", deny_revoked),
	{ "timeout=%d", offsetof(struct opts, timeout), 0 },
	OPT("-h", help),
	OPT("--help", help),
	OPT("-V", version),
	OPT("--version", version),
	FUSE_OPT_KEY("rw", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("default_permissions", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

static int
opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct opts *o = data;

	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;	/* a FUSE option: keep it */
	if (o->registry == NULL) {
		o->registry = strdup(arg);
		return 0;
	}
	if (o->mountpoint == NULL) {
		o->mountpoint = strdup(arg);
		return 0;
	}
	errx(2, "too many arguments: %s", arg);
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: lineagefs [-f] [-d] [-o OPT[,OPT...]] REGISTRY MOUNTPOINT\n"
"\n"
"Mount the lineagefs registry REGISTRY (a SQLite file, created empty if it\n"
"does not exist) on MOUNTPOINT: buckets, iterations, builds, artifacts and\n"
"channels as directories, files and symlinks; writing to an iteration's\n"
"revoke file revokes it and every image built from it.\n"
"\n"
"  -f                 stay in the foreground\n"
"  -d, -o debug       print every FUSE request (implies -f)\n"
"  -s                 serve requests on one thread\n"
"  -o ro              read-only: every change fails with EROFS\n"
"  -o deny_revoked    reading an artifact of a revoked iteration fails\n"
"                     with EKEYREVOKED\n"
"  -o timeout=SECONDS how long the kernel may cache names, attributes\n"
"                     and contents (default 86400; every change drops\n"
"                     what it affected at once; 0: names, attributes\n"
"                     and listings are asked for every time)\n"
"  -o allow_other     let other users use the mount (permissions are\n"
"                     always enforced: default_permissions is always on)\n"
"  -h, --help         this help\n"
"  -V, --version      the version\n"
"\n"
"SIGUSR1 prints the requests served so far, by operation, on stderr\n"
"(refetch_OP: those for content the kernel dropped by itself).\n"
"\n"
"Other -o options are FUSE's own (see mount.fuse3(8)).  Unmount with\n"
"fusermount3 -u MOUNTPOINT.  See lineagefs(1) for the tree and the\n"
"grammar of every control file.\n");
}

static volatile sig_atomic_t ticker_stop;
static volatile sig_atomic_t stats_wanted;

static void
on_usr1(int sig)
{
	stats_wanted = 1;
}

/* SIGUSR1: the requests served so far, by operation, on stderr. */
static void
stats_print(void)
{
	struct lin_buf b;

	lin_buf_init(&b);
	fs_stats_render(&b);
	fputs(b.data, stderr);
	fflush(stderr);
	lin_buf_free(&b);
}

/* Sleep a quarter of a second, or less when a scheduled revocation falls
 * due sooner, so it takes effect (and caches drop) on time. */
static void
ticker_sleep(struct fs *fs)
{
	struct timespec ts = { 0, 250 * 1000 * 1000 }, now;
	int64_t due;

	pthread_mutex_lock(&fs->lock);
	due = lin_reg_next_due_after(fs->reg, fs->due_seen);
	pthread_mutex_unlock(&fs->lock);
	clock_gettime(CLOCK_REALTIME, &now);
	if (due > 0 && due <= lin_now() + 1) {
		int64_t ns = (due - lin_now()) * 1000000000LL - now.tv_nsec;

		if (ns < 1000000)
			ns = 1000000;
		if (ns < 250000000LL)
			ts.tv_nsec = ns;
	}
	nanosleep(&ts, NULL);
}

/* Scheduled revocations take effect within a second of their time. */
static void *
ticker(void *arg)
{
	struct fs *fs = arg;
	int64_t due = 0;

	while (!ticker_stop) {
		struct lin_err e = { 0 };

		ticker_sleep(fs);
		if (stats_wanted) {
			stats_wanted = 0;
			stats_print();
		}
		/* A revocation falling due is a write: wait for another
		 * process's outside the mount's lock, as requests do. */
		if (!fs->ro && due > 0 && due <= lin_now())
			lin_reg_await_writer(fs->reg);
		pthread_mutex_lock(&fs->lock);
		if (lin_reg_tick(fs->reg, &e) < 0)
			fprintf(stderr, "lineagefs: scheduled revocations: "
			    "%s\n", e.msg);
		due = lin_reg_next_due_after(fs->reg, fs->due_seen);
		pthread_mutex_unlock(&fs->lock);
		/* A read-only mount carries nothing out, yet statuses change
		 * when a revocation falls due: drop what the kernel holds. */
		if (due > 0 && due <= lin_now()) {
			fs->due_seen = due;
			if (fs->ro)
				fs_inval_all(fs);
		}
		/* Ours (a scheduled revocation taking effect) and what other
		 * mounts and lineagectl changed. */
		fs_sessions_tick(fs);
		fs_inval_process(fs);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_loop_config *lc;
	/* Static: what the options hold stays reachable whatever the exit. */
	static struct opts op = { .timeout = -1 };
	struct lin_err e = { 0 };
	struct fs fs = { 0 };
	char mnt[PATH_MAX], reg[PATH_MAX];
	pthread_t tick;
	int rc;

	if (fuse_opt_parse(&args, &op, opt_spec, opt_proc) == -1)
		return 2;
	if (op.help) {
		usage(stdout);
		return 0;
	}
	if (op.version) {
		printf("lineagefs %s (libfuse %s, SQLite %s)\n", LINEAGE_VERSION,
		    fuse_pkgversion(), lin_sqlite_version());
		return 0;
	}
	if (op.registry == NULL || op.mountpoint == NULL) {
		usage(stderr);
		return 2;
	}
	if (realpath(op.mountpoint, mnt) == NULL)
		err(1, "%s", op.mountpoint);
	if (op.debug) {
		op.foreground = 1;
		fuse_opt_add_arg(&args, "-odebug");
	}
	fuse_opt_add_arg(&args, "-odefault_permissions");
	fuse_opt_add_arg(&args, "-osubtype=lineagefs");
	/* atime would make every read cost a GETATTR on the next stat. */
	fuse_opt_add_arg(&args, "-onoatime");
	/* A read-only mount is one for the kernel too: it refuses changes
	 * without asking, and on a read-only superblock it stops dropping an
	 * inode's atime after every read that reached us, so a second walk
	 * sends no GETATTR either. */
	if (op.ro)
		fuse_opt_add_arg(&args, "-oro");
	{
		char fsname[PATH_MAX + 16];

		snprintf(fsname, sizeof(fsname), "-ofsname=%s", op.registry);
		fuse_opt_add_arg(&args, fsname);
	}

	/* Open once to report a bad registry on the terminal, then close:
	 * SQLite's locks do not survive the fork into the background, so the
	 * daemon opens it again once it is there. */
	if (lin_reg_open(op.registry, op.ro ? LIN_OPEN_RDONLY : 0, &fs.reg,
	    &e) < 0)
		errx(1, "%s: %s", op.registry, e.msg);
	lin_reg_close(fs.reg);
	fs.reg = NULL;
	if (realpath(op.registry, reg) == NULL)
		err(1, "%s", op.registry);
	pthread_mutex_init(&fs.lock, NULL);
	fs.mountpoint = mnt;
	fs.uid = getuid();
	fs.gid = getgid();
	fs.mounted = lin_now();
	fs.due_seen = fs.mounted - 1;
	fs.ro = op.ro;
	fs.deny_revoked = op.deny_revoked;
	fs.timeout = op.timeout >= 0 ? op.timeout : 86400;

	fs.se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (fs.se == NULL)
		errx(1, "cannot start a FUSE session (bad -o option?)");
	if (fuse_set_signal_handlers(fs.se) != 0)
		errx(1, "cannot set signal handlers");
	if (fuse_session_mount(fs.se, mnt) != 0)
		errx(1, "cannot mount on %s", mnt);
	fuse_daemonize(op.foreground);
	if (lin_reg_open(reg, op.ro ? LIN_OPEN_RDONLY : 0, &fs.reg, &e) < 0) {
		fprintf(stderr, "lineagefs: %s: %s\n", reg, e.msg);
		fuse_session_unmount(fs.se);
		return 1;
	}
	lin_reg_set_mountpoint(fs.reg, mnt);
	if (lin_changes_head(fs.reg, &fs.change_seq, &e) < 0)
		fs.change_seq = 0;
	signal(SIGUSR1, on_usr1);
	if (pthread_create(&tick, NULL, ticker, &fs) != 0)
		errx(1, "cannot start the ticker thread");

	if (op.single) {
		rc = fuse_session_loop(fs.se);
	} else {
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_max_threads(lc, 16);
		rc = fuse_session_loop_mt(fs.se, lc);
		fuse_loop_cfg_destroy(lc);
	}

	ticker_stop = 1;
	pthread_join(tick, NULL);
	fs_sessions_finish(&fs);
	fuse_session_unmount(fs.se);
	fuse_remove_signal_handlers(fs.se);
	fuse_session_destroy(fs.se);
	lin_reg_close(fs.reg);
	fs_handles_free_all();
	fuse_opt_free_args(&args);
	free(op.registry);
	free(op.mountpoint);
	return rc ? 1 : 0;
}
