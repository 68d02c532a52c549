# lineagefs_test.py — the fixture library of the lineagefs mount tests.
#
# The mount tests run the real daemon on a temporary mountpoint and drive it
# the way users do: sh and coreutils for the everyday commands, and Python's
# os module where a test must see the exact errno of one system call.  This
# module holds what every test file shares:
#
#   Mount            one lineagefs daemon on a fresh temporary registry (or
#                    on another mount's registry), with helpers to read and
#                    write files in ONE write(2), to export the registry
#                    through lineagectl, to read the `errors` and `events`
#                    files, and to build buckets, iterations, builds and
#                    channels; it always unmounts and removes what it made.
#   MountTestCase    a unittest.TestCase that starts a Mount in setUp, gives
#                    every test a hard timeout (a hung daemon fails the test
#                    instead of hanging CI), and adds assertions such as
#                    assertRefused: "this operation fails with exactly this
#                    errno, changes nothing in the registry, and leaves a
#                    line in `errors`".
#
# The build directory comes from LINEAGE_BUILD (meson sets it) and defaults
# to ./build.  A missing binary makes the tests FAIL with a message that says
# so: they never skip.

import calendar
import contextlib
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BUILD = os.path.abspath(os.environ.get('LINEAGE_BUILD', 'build'))
LINEAGEFS = os.path.join(BUILD, 'fs', 'lineagefs')
LINEAGECTL = os.path.join(BUILD, 'src', 'cli', 'lineagectl')

# Seconds a single test may take before the daemon is killed and the test
# fails; subprocesses get their own, shorter limit.
TEST_TIMEOUT = int(os.environ.get('LINEAGE_TEST_TIMEOUT', '60'))
CMD_TIMEOUT = 30
# The spec's latencies (another mount sees a change within 1 s) are
# checked as they are on an optimised build.  A sanitized build runs
# several times slower, so scripts/test-sanitize scales the latency limits
# of its run by LINEAGE_TIME_SCALE; what is checked stays the same.
TIME_SCALE = float(os.environ.get('LINEAGE_TIME_SCALE', '1'))
MOUNT_WAIT = 5.0
# Keep the temporary directories (registry, daemon log) for inspection.
KEEP = os.environ.get('LINEAGE_KEEP_TMP') == '1'

NOBODY_UID = 65534
NOBODY_GID = 65534

TIME_RE = re.compile(r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z')
CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
ULID_RE = re.compile(r'[0-9A-HJKMNP-TV-Z]{26}\Z')

# Keys of an export that may legitimately differ between two exports of an
# unchanged registry (the moment of the export itself).
VOLATILE_EXPORT_KEYS = ('exported', 'exported_at', 'export_time',
                        'generated', 'generated_at', 'now')

DEFAULT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC   # as sh's `>`


class TestTimeout(AssertionError):
    """A test ran past TEST_TIMEOUT."""


# ---- small pure helpers ------------------------------------------------

def parse_time(s):
    """Seconds since the epoch of an RFC 3339 UTC time as the spec writes
    it (2026-11-25T09:30:00Z); ValueError for anything else."""
    if not TIME_RE.match(s):
        raise ValueError('not an RFC 3339 UTC time: %r' % (s,))
    return calendar.timegm(time.strptime(s, '%Y-%m-%dT%H:%M:%SZ'))


def ulid_time(u):
    """The creation time (seconds, float) encoded in a ULID."""
    ms = 0
    for c in u[:10]:
        ms = ms * 32 + CROCKFORD.index(c)
    return ms / 1000.0


_FIELD_RE = re.compile(r'([A-Za-z][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|[^ "]*)')


def _unquote(v):
    if v.startswith('"'):
        out, i, body = [], 0, v[1:-1]
        while i < len(body):
            c = body[i]
            if c == '\\' and i + 1 < len(body):
                n = body[i + 1]
                out.append({'n': '\n', 't': '\t'}.get(n, n))
                i += 2
            else:
                out.append(c)
                i += 1
        return ''.join(out)
    return v


def parse_fields(text):
    """key=value fields separated by single spaces (values with spaces
    double-quoted) -> dict; ValueError when malformed."""
    fields, pos = {}, 0
    while pos < len(text):
        m = _FIELD_RE.match(text, pos)
        if not m:
            raise ValueError('malformed field at %d in %r' % (pos, text))
        fields[m.group(1)] = _unquote(m.group(2))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ' ':
                raise ValueError('no space after field at %d in %r' % (pos, text))
            pos += 1
    return fields


def parse_event(line):
    """One line of `events` -> (time in seconds, dict of fields)."""
    t, _, rest = line.partition(' ')
    return parse_time(t), parse_fields(rest)


def parse_error_line(line):
    """One line of `errors` -> (time in seconds, dict of fields)."""
    return parse_event(line)


def it_path(bucket, fp):
    """The mount-relative path of an iteration."""
    return 'buckets/%s/iterations/%s' % (bucket, fp)


def errname(code):
    return errno.errorcode.get(code, str(code))


def new_lines(before, after):
    """Lines of a log that appeared between two reads of it (the log may
    be a bounded ring: then compare from the end)."""
    if len(after) > len(before) and after[:len(before)] == before:
        return after[len(before):]
    if after == before:
        return []
    # rotated: everything after the last line we had seen
    if before and before[-1] in after:
        idx = len(after) - 1 - after[::-1].index(before[-1])
        return after[idx + 1:]
    return after


def normalize_export(doc):
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k not in VOLATILE_EXPORT_KEYS}
    return doc


def wait_until(pred, timeout, interval=0.05):
    """Call pred until it returns a true value or timeout seconds pass;
    returns (value, seconds waited)."""
    start = time.monotonic()
    while True:
        v = pred()
        if v:
            return v, time.monotonic() - start
        if time.monotonic() - start >= timeout:
            return v, time.monotonic() - start
        time.sleep(interval)


def require_program(path, what):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError(
            '%s not found at %s: build the project (meson setup build && '
            'ninja -C build) or set LINEAGE_BUILD to the build directory'
            % (what, path))


def require_tool(name):
    p = shutil.which(name)
    if p is None:
        raise AssertionError('%s is required by this test and is not installed' % name)
    return p


def _mountinfo_has(mnt):
    try:
        with open('/proc/self/mountinfo') as f:
            for line in f:
                parts = line.split()
                if len(parts) > 4 and parts[4].replace('\\040', ' ') == mnt:
                    return True
    except OSError:
        pass
    return False


_counter = [0]


def unique_extid(prefix='ami-'):
    """A fresh artifact external id (like an AMI id)."""
    _counter[0] += 1
    return '%s%05x%012x' % (prefix, os.getpid() & 0xfffff, _counter[0])


def errors_tail(m, n=1):
    """The last n lines of a mount's `errors` file."""
    return m.errors_tail(n)


# ---- the mount ----------------------------------------------------------

_live_mounts = set()
_live_lock = threading.Lock()
_timeout_armed = [False]   # a MountTestCase's SIGALRM handler is installed


def kill_all_daemons():
    """Kill every daemon the tests started and that still runs: a hung
    request then fails (ENOTCONN) instead of blocking the test forever."""
    with _live_lock:
        mounts = list(_live_mounts)
    for m in mounts:
        m.kill()


class Mount:
    """One lineagefs daemon mounted on a temporary mountpoint.

    Mount(options) makes a fresh temporary directory holding the registry
    path and the mountpoint; Mount(options, share=other) mounts other's
    registry on a second mountpoint in other's directory.  start() runs
    `lineagefs -f [-o OPTS] REGISTRY MNT` and waits until the mount is live;
    close() unmounts (fusermount3 -u, then -uz), stops the daemon, removes
    the directory.  Usable as a context manager.
    """

    def __init__(self, options=(), share=None, registry=None, env=None,
                 name=None):
        require_program(LINEAGEFS, 'the lineagefs daemon')
        self.options = list(options)
        if share is not None:
            self.tmp = share.tmp
            self.own_tmp = False
            self.registry = registry or share.registry
        else:
            self.tmp = tempfile.mkdtemp(prefix='lineagefs-test-')
            # other users (allow_other tests) must be able to reach the mount
            os.chmod(self.tmp, 0o755)
            self.own_tmp = True
            self.registry = registry or os.path.join(self.tmp, 'registry.db')
        if name is None:
            n = 0
            while os.path.exists(os.path.join(self.tmp, 'mnt%d' % n)):
                n += 1
            name = 'mnt%d' % n
        self.mnt = os.path.join(self.tmp, name)
        os.mkdir(self.mnt)
        os.chmod(self.mnt, 0o755)
        self.log = os.path.join(self.tmp, name + '.log')
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.pid = None          # daemon pid when started through mount.fuse3
        self.killed = False
        self.closed = False
        self.children = []       # long-running helpers (tail -f) to stop

    # -- life cycle --

    def __enter__(self):
        if self.proc is None and self.pid is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def daemon_log(self):
        try:
            with open(self.log, 'rb') as f:
                data = f.read()
        except OSError:
            return ''
        return data[-4000:].decode('utf-8', 'replace')

    def start(self):
        args = [LINEAGEFS, '-f']
        if self.options:
            args += ['-o', ','.join(self.options)]
        args += [self.registry, self.mnt]
        logf = open(self.log, 'ab')
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=logf,
                                         env=self.env, start_new_session=True)
        finally:
            logf.close()
        with _live_lock:
            _live_mounts.add(self)
        self._wait_live(' '.join(args))
        return self

    def start_via_helper(self, options=('defaults',), fstype='lineagefs'):
        """Mount as /etc/fstab does: mount.fuse3 REGISTRY MNT -o OPTS -t
        TYPE, with the daemon's directory on PATH.  The daemon forks into
        the background; its pid is found by its command line."""
        helper = require_tool('mount.fuse3')
        env = dict(self.env)
        env['PATH'] = os.path.dirname(LINEAGEFS) + os.pathsep + env.get('PATH', '')
        args = [helper, self.registry, self.mnt, '-o', ','.join(options),
                '-t', fstype]
        with _live_lock:
            _live_mounts.add(self)
        r = subprocess.run(args, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=CMD_TIMEOUT)
        if r.returncode != 0:
            raise AssertionError('%s failed with status %d: %s%s'
                                 % (' '.join(args), r.returncode, r.stdout, r.stderr))
        self.pid = self._find_daemon_pid()
        self._wait_live(' '.join(args))
        return r

    def _find_daemon_pid(self):
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % d, 'rb') as f:
                    argv = f.read().split(b'\0')
            except OSError:
                continue
            if (self.mnt.encode() in argv and self.registry.encode() in argv
                    and any(a.endswith(b'lineagefs') for a in argv)):
                return int(d)
        return None

    def _alive(self):
        if self.proc is not None:
            return self.proc.poll() is None
        if self.pid is not None:
            return os.path.exists('/proc/%d' % self.pid)
        return False

    def _wait_live(self, what):
        deadline = time.monotonic() + MOUNT_WAIT
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                rc = self.proc.returncode
                with _live_lock:
                    _live_mounts.discard(self)
                raise AssertionError('%s exited with status %s before the mount '
                                     'was live; its output:\n%s'
                                     % (what, rc, self.daemon_log()))
            if _mountinfo_has(self.mnt) and os.path.ismount(self.mnt):
                return
            time.sleep(0.02)
        log = self.daemon_log()
        self.kill()
        raise AssertionError('%s: the mount was not live after %.0f s; output:\n%s'
                             % (what, MOUNT_WAIT, log))

    def mounted(self):
        return _mountinfo_has(self.mnt)

    def kill(self):
        """SIGKILL the daemon (from the timeout watchdog)."""
        self.killed = True
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
            elif self.pid is not None:
                os.kill(self.pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass

    def _stop_children(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdout, p.stderr):
                if f is not None:
                    f.close()
        self.children = []

    def unmount(self):
        """Unmount and wait for the daemon to exit; returns a list of
        problems seen (the daemon crashed, exited non-zero, or hung)."""
        problems = []
        self._stop_children()
        if self.mounted():
            r = subprocess.run(['fusermount3', '-u', self.mnt],
                               capture_output=True, text=True, timeout=15)
            if r.returncode != 0 and self.mounted():
                subprocess.run(['fusermount3', '-uz', self.mnt],
                               capture_output=True, timeout=15)
        if self.proc is not None:
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
                self.proc.wait()
                problems.append('the daemon did not exit within 10 s of the unmount')
            else:
                if not self.killed and rc != 0:
                    if rc < 0:
                        problems.append('the daemon died of signal %d' % -rc)
                    else:
                        problems.append('the daemon exited with status %d' % rc)
        elif self.pid is not None:
            wait_until(lambda: not os.path.exists('/proc/%d' % self.pid), 10)
            if os.path.exists('/proc/%d' % self.pid):
                self.kill()
                problems.append('the daemon did not exit within 10 s of the unmount')
        with _live_lock:
            _live_mounts.discard(self)
        return problems

    def close(self):
        if self.closed:
            return
        self.closed = True
        # leave teardown time of its own even when the test used its budget
        if _timeout_armed[0] and threading.current_thread() is threading.main_thread():
            signal.alarm(30)
        problems = []
        try:
            problems = self.unmount()
        finally:
            log = self.daemon_log() if problems else ''
            if self.own_tmp and not KEEP:
                if not self.mounted():
                    shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise AssertionError('%s (registry %s); daemon output:\n%s'
                                 % ('; '.join(problems), self.registry, log))

    # -- paths, reads and writes --

    def path(self, rel=''):
        return os.path.join(self.mnt, rel) if rel else self.mnt

    def write(self, rel, data, flags=DEFAULT_FLAGS, mode=0o644):
        """Write data to a file in ONE write(2), as echo and printf do.
        Returns the count written; raises OSError with the errno of the
        open, the write or the close."""
        if isinstance(data, str):
            data = data.encode('utf-8')
        fd = os.open(self.path(rel), flags, mode)
        try:
            n = os.write(fd, data)
        except OSError:
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        os.close(fd)
        if n != len(data):
            raise AssertionError('short write to %s: %d of %d bytes' % (rel, n, len(data)))
        return n

    def read(self, rel):
        fd = os.open(self.path(rel), os.O_RDONLY)
        try:
            chunks = []
            while True:
                b = os.read(fd, 65536)
                if not b:
                    break
                chunks.append(b)
        finally:
            os.close(fd)
        return b''.join(chunks)

    def text(self, rel):
        return self.read(rel).decode('utf-8')

    def lines(self, rel):
        return self.text(rel).splitlines()

    def value(self, rel):
        """A value file's value (its one trailing newline removed)."""
        t = self.text(rel)
        return t[:-1] if t.endswith('\n') else t

    def listdir(self, rel=''):
        return sorted(os.listdir(self.path(rel)))

    def readlink(self, rel):
        return os.readlink(self.path(rel))

    def exists(self, rel):
        return os.path.lexists(self.path(rel))

    def realpath(self, rel):
        return os.path.realpath(self.path(rel))

    def files(self, rel=''):
        """Every regular file under rel (symlinks not followed), relative
        to the mount root, in walk order."""
        out = []
        for d, dirs, files in os.walk(self.path(rel)):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(d, f)
                if os.path.isfile(p) and not os.path.islink(p):
                    out.append(os.path.relpath(p, self.mnt))
        return out

    # -- processes --

    def sh(self, cmd, check=True, shell='sh', user=None, timeout=CMD_TIMEOUT,
           input=None):
        """Run cmd with sh (or bash) in the mount root; returns the
        CompletedProcess (text).  user='nobody' runs it as nobody:nogroup
        through setpriv."""
        argv = [shell, '-c', cmd]
        if user == 'nobody':
            argv = [require_tool('setpriv'), '--reuid=nobody', '--regid=nogroup',
                    '--clear-groups'] + argv
        elif user is not None:
            raise ValueError(user)
        r = subprocess.run(argv, cwd=self.mnt, capture_output=True, text=True,
                           timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError('`%s` failed with status %d\nstdout: %s\nstderr: %s'
                                 % (cmd, r.returncode, r.stdout, r.stderr))
        return r

    def spawn(self, argv):
        """Start a long-running helper (tail -f) stopped at unmount."""
        p = subprocess.Popen(argv, cwd=self.mnt, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.children.append(p)
        return p

    def ctl(self, *args, check=True):
        require_program(LINEAGECTL, 'lineagectl')
        r = subprocess.run([LINEAGECTL] + list(args), capture_output=True,
                           timeout=CMD_TIMEOUT, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError('lineagectl %s failed with status %d: %s'
                                 % (' '.join(args), r.returncode,
                                    r.stderr.decode('utf-8', 'replace')))
        return r

    def export(self):
        """The whole registry, parsed from `lineagectl export REGISTRY`."""
        r = self.ctl('export', self.registry)
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError('lineagectl export printed no valid JSON (%s): %r'
                                 % (e, r.stdout[:400]))

    def errors_lines(self):
        return self.lines('errors')

    def errors_tail(self, n=1):
        """The last n lines of MNT/errors."""
        return self.errors_lines()[-n:]

    def events(self):
        """Every event as (time, fields), oldest first."""
        return [parse_event(l) for l in self.lines('events')]

    # -- building the registry --

    def mkbucket(self, name, description=None):
        os.mkdir(self.path('buckets/' + name))
        if description is not None:
            self.write('buckets/%s/description' % name, description + '\n')
        return 'buckets/' + name

    def mkiter(self, bucket, fp, builds=None, parents=(), complete=False):
        """An iteration: mkdir (and the bucket when missing), builds with a
        platform and artifacts, parents written to `parent`, and
        `echo 1 > complete` when asked.  builds maps BUILD -> (platform,
        {REGION: external id}); by default one aws build with a fresh
        artifact in us-east-1.  Returns its mount-relative path."""
        if not os.path.isdir(self.path('buckets/' + bucket)):
            self.mkbucket(bucket)
        p = it_path(bucket, fp)
        os.mkdir(self.path(p))
        if builds is None:
            builds = {'linux-amd64': ('aws', {'us-east-1': unique_extid()})}
        for b, (platform, arts) in builds.items():
            self.add_build(bucket, fp, b, platform, arts)
        for parent in parents:
            self.write(p + '/parent', parent + '\n')
        if complete:
            self.complete(bucket, fp)
        return p

    def add_build(self, bucket, fp, build, platform='aws', artifacts=None):
        bp = '%s/builds/%s' % (it_path(bucket, fp), build)
        os.mkdir(self.path(bp))
        if platform is not None:
            self.write(bp + '/platform', platform + '\n')
        for region, extid in (artifacts or {}).items():
            self.write('%s/artifacts/%s' % (bp, region), extid + '\n')
        return bp

    def complete(self, bucket, fp):
        self.write(it_path(bucket, fp) + '/complete', '1\n')

    def complete_iteration(self, bucket, fp, parents=(), builds=None):
        """mkdir iteration, mkdir build, platform, artifacts/REGION,
        parents, then echo 1 > complete."""
        return self.mkiter(bucket, fp, builds=builds, parents=parents, complete=True)

    def artifact_of(self, bucket, fp):
        """The external id of the first artifact of the first build."""
        bp = it_path(bucket, fp) + '/builds'
        b = self.listdir(bp)[0]
        r = self.listdir('%s/%s/artifacts' % (bp, b))[0]
        return self.value('%s/%s/artifacts/%s' % (bp, b, r))

    def assign(self, bucket, channel, fp):
        """Point a user channel at an iteration: ln -s when new, the GNU
        `ln -sfn` (temporary name + rename) when it exists."""
        link = 'buckets/%s/channels/%s' % (bucket, channel)
        target = '../iterations/' + fp
        if self.exists(link):
            self.sh('ln -sfn %s %s' % (target, link))
        else:
            os.symlink(target, self.path(link))

    def channel(self, bucket, channel):
        """The fingerprint a channel points at, or None when absent."""
        try:
            t = self.readlink('buckets/%s/channels/%s' % (bucket, channel))
        except FileNotFoundError:
            return None
        prefix = '../iterations/'
        if not t.startswith(prefix):
            raise AssertionError('channel %s/%s reads %r, not ../iterations/FP'
                                 % (bucket, channel, t))
        return t[len(prefix):]

    def status(self, bucket, fp):
        return self.value(it_path(bucket, fp) + '/status')

    def ulid(self, bucket, fp):
        return self.value(it_path(bucket, fp) + '/id')

    def record(self, bucket, fp):
        """The revoke file as an ordered list of (key, value)."""
        out = []
        for l in self.lines(it_path(bucket, fp) + '/revoke'):
            k, sep, v = l.partition('=')
            if not sep:
                raise AssertionError('revoke record line without "=": %r' % l)
            out.append((k, v))
        return out


def populate(m):
    """A small but varied registry, built through the mount: two buckets,
    a multi-line description, labels, complete and running iterations,
    builds on several platforms, artifacts whose ids need escaping, a user
    channel and a parent link through it.  Returns what it made."""
    info = {
        'base_ami_1': unique_extid(), 'base_ami_2': unique_extid(),
        'base_image': 'projects/acme/global/images/base-%d' % os.getpid(),
        'app_ami': unique_extid(),
    }
    m.mkbucket('base', 'Golden base image\nmaintained by the platform team')
    m.write('buckets/base/labels/team', 'platform\n')
    m.mkiter('base', 'base-2026-01', builds={
        'linux-amd64': ('aws', {'us-east-1': info['base_ami_1'],
                                'eu-west-1': info['base_ami_2']}),
        'gcp': ('gce', {'global': info['base_image']}),
    })
    m.write(it_path('base', 'base-2026-01') + '/builds/linux-amd64/labels/os',
            'ubuntu-24.04\n')
    m.complete('base', 'base-2026-01')
    m.complete_iteration('base', 'base-2026-02')
    m.assign('base', 'production', 'base-2026-01')
    m.mkbucket('app', 'Web application')
    m.complete_iteration('app', 'app-1', parents=['buckets/base/channels/production'],
                         builds={'docker': ('docker', {'global': info['app_ami']})})
    m.mkiter('app', 'app-2', builds={'linux-amd64': ('aws', {})},
             parents=['buckets/base/iterations/base-2026-02'])
    m.mkbucket('empty')
    return info


# ---- the test case --------------------------------------------------------

class MountTestCase(unittest.TestCase):
    """A test with a fresh mount in self.m (options from mount_options), a
    hard timeout, and assertions about refusals."""

    mount_options = ()
    maxDiff = 8000

    def setUp(self):
        self._arm_timeout()
        self.m = self.mount(self.mount_options)

    def _arm_timeout(self):
        """A hard limit of TEST_TIMEOUT seconds.  SIGALRM fails a test that
        is busy in Python; a test blocked inside a FUSE request cannot run
        the Python handler, so a watchdog thread then kills the daemons
        (the request fails with ENOTCONN) and the timeout is reported from
        the cleanup.  Either way the mount is still torn down."""
        name = self.id()
        state = {'in_test': True, 'expired': False, 'raised': False}
        self._timeout_state = state

        def expire():
            state['expired'] = True
            kill_all_daemons()

        def on_alarm(signum, frame):
            if state['expired'] or not state['in_test']:
                # late (the watchdog already acted) or in teardown: never
                # raise outside the test body
                kill_all_daemons()
                return
            state['expired'] = state['raised'] = True
            kill_all_daemons()
            raise TestTimeout('%s did not finish within %d s; the daemon was '
                              'killed' % (name, TEST_TIMEOUT))

        old = signal.signal(signal.SIGALRM, on_alarm)
        _timeout_armed[0] = True
        signal.alarm(TEST_TIMEOUT)
        watchdog = threading.Timer(TEST_TIMEOUT + 2, expire)
        watchdog.daemon = True
        watchdog.start()

        def disarm():
            signal.alarm(0)
            _timeout_armed[0] = False
            watchdog.cancel()
            signal.signal(signal.SIGALRM, old)
            if state['expired'] and not state['raised']:
                raise TestTimeout('%s did not finish within %d s; the daemon was '
                                  'killed' % (name, TEST_TIMEOUT))
        self.addCleanup(disarm)

    def tearDown(self):
        state = getattr(self, '_timeout_state', None)
        if state is not None:
            state['in_test'] = False
        super().tearDown()

    def mount(self, options=(), share=None, registry=None, env=None, start=True):
        m = Mount(options, share=share, registry=registry, env=env)
        self.addCleanup(m.close)
        if start:
            m.start()
        return m

    # -- assertions --

    def assertExportEqual(self, before, after, what):
        b, a = normalize_export(before), normalize_export(after)
        if b != a:
            import difflib
            bl = json.dumps(b, indent=1, sort_keys=True).splitlines()
            al = json.dumps(a, indent=1, sort_keys=True).splitlines()
            diff = '\n'.join(list(difflib.unified_diff(bl, al, 'before', 'after',
                                                       lineterm=''))[:80])
            self.fail('%s changed the registry:\n%s' % (what, diff))

    @contextlib.contextmanager
    def assertUnchanged(self, what, m=None):
        """The registry export is the same after the block as before."""
        m = m or self.m
        before = m.export()
        yield
        self.assertExportEqual(before, m.export(), what)

    def assertErrno(self, err, fn, *args, **kw):
        """fn(*args) raises OSError with exactly errno err."""
        what = getattr(fn, '__name__', 'operation') + repr(args)[:200]
        try:
            fn(*args, **kw)
        except OSError as e:
            self.assertEqual(e.errno, err, '%s: expected %s, got %s (%s)'
                             % (what, errname(err), errname(e.errno), e))
            return e
        self.fail('%s succeeded; expected %s' % (what, errname(err)))

    def assertRefused(self, err, fn, *args, m=None, logged=True, **kw):
        """fn(*args) fails with exactly errno err, the registry export is
        the same before and after, and (when logged) the mount's `errors`
        file gained a line naming that errno."""
        m = m or self.m
        before = m.export()
        errs = m.errors_lines() if logged else None
        e = self.assertErrno(err, fn, *args, **kw)
        what = '%s%s refused with %s' % (getattr(fn, '__name__', 'operation'),
                                         repr(args)[:200], errname(err))
        self.assertExportEqual(before, m.export(), what)
        if logged:
            added = new_lines(errs, m.errors_lines())
            self.assertTrue(any(('errno=%s' % errname(err)) in l for l in added),
                            '%s: no line with errno=%s was added to errors; new '
                            'lines: %r' % (what, errname(err), added))
        return e

    def assertShRefused(self, cmd, message, m=None, shell='bash', user=None):
        """A shell command fails, prints the shell's own message for the
        errno (e.g. "Invalid argument") on stderr, and changes nothing."""
        m = m or self.m
        before = m.export()
        r = m.sh(cmd, check=False, shell=shell, user=user)
        self.assertNotEqual(r.returncode, 0, '`%s` succeeded; expected "%s"'
                            % (cmd, message))
        self.assertIn(message, r.stderr, '`%s`: stderr does not say "%s"'
                      % (cmd, message))
        self.assertExportEqual(before, m.export(), '`%s`' % cmd)
        return r

    def assertValueFile(self, m, rel, value):
        """Reading rel gives value and one newline (or nothing for an
        empty value), and st_size is exact."""
        data = m.read(rel)
        want = (value + '\n').encode() if value != '' else b''
        self.assertEqual(data, want, rel)
        self.assertEqual(os.stat(m.path(rel)).st_size, len(data),
                         'st_size of %s is not its length' % rel)

    def assertTimeNear(self, text, when=None, slack=10, what='time'):
        when = time.time() if when is None else when
        try:
            t = parse_time(text)
        except ValueError as e:
            self.fail('%s: %s' % (what, e))
        self.assertLessEqual(abs(t - when), slack,
                             '%s %s is not near %s' % (what, text,
                                                       time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                                                     time.gmtime(when))))
        return t

    def assertLinkTo(self, m, rel, target):
        self.assertEqual(m.readlink(rel), target, 'readlink ' + rel)


def main():
    unittest.main(verbosity=2)
