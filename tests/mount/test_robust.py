#!/usr/bin/env python3
# test_robust.py — mount tests for "nothing lost, nobody let in": the daemon
# never crashes, hangs, corrupts or loses anything, whatever it is given.
#
#   BadInput        every case of the corpus tests/data/bad-input/cases.json
#                   (bad names, values, revoke lines, parent paths, channel
#                   targets, manifests, writes at offsets, huge writes, NUL
#                   bytes, invalid UTF-8...) against a populated mount: the
#                   exact errno, an unchanged `lineagectl export`, a new line
#                   in `errors` where the daemon sees the request, and at the
#                   end `lineagectl check` passes and the daemon still runs.
#   CrashSmoke      a short run of scripts/stress/crash (SIGKILL under a
#                   write-heavy workload, every acknowledged write verified).
#   ConcurrencySmoke  a short run of scripts/stress/concurrency (two mounts
#                   and lineagectl writing at once).
#   WriteLock       a writer waiting for another process's write lock holds
#                   up no reader of the mount.
#   Regressions     bugs these tests found, kept: refusals that must change
#                   nothing and reach the writer, an `errors` file that stays
#                   clean UTF-8, an integrity check that agrees with `status`.
#
# The full-length stress runs (100 crash rounds, 60 s of concurrency) are
# run by hand: scripts/stress/crash, scripts/stress/concurrency.

import base64
import errno
import importlib.machinery
import importlib.util
import json
import shlex
import os
import sqlite3
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, 'tests', 'data', 'bad-input', 'cases.json')
CRASH = os.path.join(ROOT, 'scripts', 'stress', 'crash')
CONCURRENCY = os.path.join(ROOT, 'scripts', 'stress', 'concurrency')

RUN = it_path('app', 'app-2')
RUNB = RUN + '/builds/linux-amd64'


def populate_bad_input(m):
    """The registry every corpus case runs against: lt.populate's, plus a
    revoked iteration (base/revoked-1, v3) with a running descendant that
    inherited the revocation (app/doomed), a complete base/base-root (v4)
    whose child app/app-child a user channel `stable` points at, a running
    base/base-running, a running app/app-3 whose parent is app-2 (a cycle
    in waiting), and existing values on running builds (so that bad values
    are written over something rather than create it)."""
    lt.populate(m)
    m.complete_iteration('base', 'revoked-1')
    m.mkiter('app', 'doomed', builds={'b1': ('aws', {'us-east-1': lt.unique_extid()})},
             parents=[it_path('base', 'revoked-1')])
    m.write(it_path('base', 'revoked-1') + '/revoke', 'superseded by base-2026-02\n')
    m.complete_iteration('base', 'base-root')
    m.complete_iteration('app', 'app-child', parents=[it_path('base', 'base-root')])
    m.assign('app', 'stable', 'app-child')
    m.mkiter('base', 'base-running', builds={})
    m.mkiter('app', 'app-3', builds={'b1': ('aws', {'us-east-1': lt.unique_extid()})},
             parents=[RUN])
    m.write(RUNB + '/labels/os', 'debian\n')
    m.write(RUNB + '/source', 'ami-0123456789abcdef0\n')
    assert m.status('app', 'doomed') == 'revoked'
    assert m.value('buckets/base/versions/v3/status') == 'revoked'


def load_corpus():
    with open(CORPUS) as f:
        doc = json.load(f)
    return doc['cases']


def _field(c, name):
    """A text field, its *_b64 bytes, or None."""
    if name + '_b64' in c:
        return base64.b64decode(c[name + '_b64'])
    return c.get(name)


class Case:
    """One corpus case, made concrete for a mount."""

    PLACEHOLDER = re.compile(r'\{(MNT|OUTSIDE|ULID|ULIDLOWER|EXTID)(?::([^}]*))?\}')

    def __init__(self, c, m):
        self.c = c
        self.m = m
        self.id = c['id']
        self.op = c['op']
        self.errno = c['errno']
        self.logged = c.get('logged', True)

    def subst(self, s):
        def one(mo):
            kind, arg = mo.group(1), mo.group(2)
            if kind == 'MNT':
                return self.m.mnt
            if kind == 'OUTSIDE':
                return os.path.join(self.m.tmp, 'elsewhere')
            b, fp = arg.split('/')
            if kind == 'EXTID':
                return self.m.artifact_of(b, fp).replace('%', '%25').replace('/', '%2F')
            u = self.m.ulid(b, fp)
            return u.lower() if kind == 'ULIDLOWER' else u
        return self.PLACEHOLDER.sub(one, s)

    def text(self, name):
        v = _field(self.c, name)
        if isinstance(v, str):
            v = self.subst(v)
        return v

    def path(self, name='path'):
        v = self.text(name)
        if isinstance(v, bytes):
            return os.fsencode(self.m.mnt) + b'/' + v
        return os.path.join(self.m.mnt, v)

    def data(self):
        d = self.text('data') or b''
        if isinstance(d, str):
            d = d.encode('utf-8')
        if 'repeat' in self.c:
            unit, n = self.c['repeat']
            d += unit.encode('utf-8') * n
        tail = self.c.get('tail', '')
        return d + tail.encode('utf-8')

    def run(self):
        """Do the operation; the errno name it failed with, or 'success'
        (or a note on a short write)."""
        try:
            return self._run() or 'success'
        except OSError as e:
            return lt.errname(e.errno)

    def _run(self):
        op, p = self.op, self.path()
        if op == 'write':
            return self._write(p)
        if op == 'pwrite':
            fd = os.open(p, os.O_WRONLY)
            try:
                os.pwrite(fd, self.data(), self.c['offset'])
            finally:
                os.close(fd)
        elif op == 'mkdir':
            os.mkdir(p)
        elif op == 'symlink':
            target = self.text('target')
            if isinstance(target, bytes) or isinstance(p, bytes):
                target, p = os.fsencode(target), os.fsencode(p)
            os.symlink(target, p)
        elif op == 'rename':
            to = self.path('to')
            if isinstance(to, bytes) or isinstance(p, bytes):
                to, p = os.fsencode(to), os.fsencode(p)
            os.rename(p, to)
        elif op == 'unlink':
            os.unlink(p)
        elif op == 'rmdir':
            os.rmdir(p)
        elif op == 'mkfifo':
            os.mkfifo(p)
        elif op == 'chmod':
            os.chmod(p, self.c['mode'])
        elif op == 'chown':
            os.chown(p, self.c['uid'], self.c['gid'])
        else:
            raise ValueError('unknown op %r in case %s' % (op, self.id))
        return None

    def undo(self):
        """Remove what a case that wrongly succeeded made, if it can."""
        try:
            if self.op == 'mkdir':
                os.rmdir(self.path())
            elif self.op == 'symlink':
                os.unlink(self.path())
        except OSError:
            pass

    def _write(self, p):
        data = self.data()
        flags = os.O_WRONLY | (os.O_APPEND if self.c.get('append') else
                               os.O_CREAT | os.O_TRUNC)
        chunk = self.c.get('chunk') or len(data) or 1
        fd = os.open(p, flags, 0o644)
        written = 0
        try:
            while written < len(data):
                n = os.write(fd, data[written:written + chunk])
                if n < min(chunk, len(data) - written):
                    os.close(fd)
                    return 'a short write (%d of %d bytes) and a successful close' % (
                        written + n, len(data))
                written += n
        except OSError:
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        os.close(fd)
        return None


def errors_bytes(m):
    """The lines of `errors`, as bytes (a refused name need not be UTF-8)."""
    return m.read('errors').splitlines()


class BadInput(MountTestCase):
    """Each group of the corpus on a freshly populated mount."""

    CASES = load_corpus()

    def setUp(self):
        super().setUp()
        populate_bad_input(self.m)

    def run_group(self, group):
        cases = [c for c in self.CASES if c['group'] == group]
        self.assertGreater(len(cases), 0, 'no case in group ' + group)
        m = self.m
        before = m.export()
        for c in cases:
            # errors keeps the last 256 lines: start afresh before it wraps
            if len(errors_bytes(m)) > 240:
                self.assertEqual(m.unmount(), [], 'unmounting to empty errors')
                m = self.m = self.mount(share=m)
            case = Case(c, m)
            with self.subTest(case=case.id):
                errs = errors_bytes(m)
                got = case.run()
                added = lt.new_lines(errs, errors_bytes(m))
                if got == 'success':
                    case.undo()     # so that one wrong answer does not spoil the next
                prev, before = before, m.export()
                self.assertEqual(got, case.errno, '%s (%s): expected %s, got %s'
                                 % (case.id, c['why'], case.errno, got))
                self.assertExportEqual(prev, before, 'case %s' % case.id)
                if case.logged:
                    want = ('errno=%s ' % case.errno).encode()
                    self.assertTrue(any(want in l for l in added),
                                    '%s: no line with errno=%s was added to errors; new '
                                    'lines: %r' % (case.id, case.errno, added))
        self.assertTrue(m._alive(), 'the daemon died during the %s cases:\n%s'
                        % (group, m.daemon_log()))
        self.assertTrue(m.mounted())
        r = m.ctl('check', m.registry, check=False)
        self.assertEqual(r.returncode, 0, 'lineagectl check after the %s cases:\n%s%s'
                         % (group, r.stdout.decode('utf-8', 'replace'),
                            r.stderr.decode('utf-8', 'replace')))
        # the mount still serves: a read of every kind of file works
        self.assertEqual(m.status('base', 'base-2026-01'), 'active')
        self.assertEqual(m.channel('base', 'production'), 'base-2026-01')
        self.assertEqual(os.stat(m.path('graph.dot')).st_size, len(m.read('graph.dot')))

    def test_corpus_is_large_and_well_formed(self):
        cases = self.CASES
        self.assertGreaterEqual(len(cases), 200)
        ids = [c['id'] for c in cases]
        self.assertEqual(len(ids), len(set(ids)), 'case ids are unique')
        for c in cases:
            self.assertIn(c['errno'], errno.__dict__, c['id'])
            self.assertTrue(c.get('why'), c['id'] + ' says why')
            self.assertIn(c['group'], GROUPS, c['id'])
        kinds = {c['op'] for c in cases}
        self.assertLessEqual({'write', 'pwrite', 'mkdir', 'symlink', 'rename'}, kinds)

    def test_names(self):
        self.run_group('names')

    def test_values(self):
        self.run_group('values')

    def test_revoke_lines(self):
        self.run_group('revoke')

    def test_parent_paths(self):
        self.run_group('parent')

    def test_channel_targets(self):
        self.run_group('channels')

    def test_manifests(self):
        self.run_group('manifests')

    def test_tree(self):
        self.run_group('tree')

    def test_writes_at_offsets(self):
        self.run_group('writes')


GROUPS = ('names', 'values', 'revoke', 'parent', 'channels', 'manifests', 'tree', 'writes')


def load_script(path, name):
    """A stress script (no .py suffix) as a module, for its verifier."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class CrashSmoke(MountTestCase):
    """scripts/stress/crash for a few rounds."""

    ROUNDS = 5

    def setUp(self):
        self._arm_timeout()

    def test_sigkill_loses_nothing_acknowledged(self):
        r = subprocess.run([sys.executable, CRASH, '--rounds', str(self.ROUNDS), '--build',
                            lt.BUILD, '--max-delay', '1.0', '--quiet'],
                           capture_output=True, text=True, timeout=lt.TEST_TIMEOUT - 5)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, 'scripts/stress/crash failed:\n' + out[-6000:])
        m = re.search(r'crash: (\d+) rounds, (\d+) operations acknowledged, (\d+) operations '
                      r'verified, (\d+) failures', out)
        self.assertIsNotNone(m, 'no summary line in:\n' + out[-2000:])
        rounds, acked, verified, failures = map(int, m.groups())
        self.assertEqual(rounds, self.ROUNDS)
        self.assertEqual(failures, 0)
        self.assertGreater(acked, 50, 'the workload hardly ran')
        self.assertGreaterEqual(verified, acked)

    def test_the_verifier_notices_what_is_missing(self):
        crash = load_script(CRASH, 'lineagefs_crash')
        with lt.Mount() as m:
            m.complete_iteration('base', 'fp1')
            m.complete_iteration('base', 'fp2', parents=[it_path('base', 'fp1')])
            m.assign('base', 'prod', 'fp2')
            m.write(it_path('base', 'fp1') + '/revoke', 'lost?\n')
            doc = m.export()
        recs = [
            {'st': 'ok', 'n': 1, 'op': 'mkbucket', 'bucket': 'base'},
            {'st': 'ok', 'n': 2, 'op': 'complete', 'bucket': 'base', 'fp': 'fp1'},
            {'st': 'ok', 'n': 3, 'op': 'parent', 'bucket': 'base', 'fp': 'fp2',
             'pbucket': 'base', 'pfp': 'fp1'},
            {'st': 'ok', 'n': 4, 'op': 'assign', 'bucket': 'base', 'fp': 'fp2',
             'channel': 'prod'},
            {'st': 'ok', 'n': 5, 'op': 'revoke', 'bucket': 'base', 'fp': 'fp1',
             'reason': 'lost?', 'scheduled': False},
        ]
        n, fails = crash.verify(recs, crash.Registry(doc, lt.parse_event), None)
        self.assertEqual(fails, [], 'the intact registry passes')
        self.assertGreaterEqual(n, 6, 'five operations and one cascade checked')
        # each loss, alone, is reported
        for what, cut in (('bucket', lambda d: d['buckets'].clear()),
                          ('link', lambda d: d['links'].clear()),
                          ('assignment', lambda d: d['assignments'].clear()),
                          ('cascade', lambda d: d['revocations'].__setitem__(
                              slice(None), [v for v in d['revocations']
                                            if v['origin_id'] is None])),
                          ('revoke event', lambda d: d['events'].__setitem__(
                              slice(None), [e for e in d['events']
                                            if 'action=revoke' not in e['line']]))):
            broken = json.loads(json.dumps(doc))
            cut(broken)
            _, fails = crash.verify(recs, crash.Registry(broken, lt.parse_event), None)
            self.assertNotEqual(fails, [], 'a registry without its %s passed' % what)
        # an error before the kill that no operation may meet is a failure
        bad = recs + [{'st': 'err', 'n': 6, 'op': 'mkbucket', 'bucket': 'x', 'errno': 'EIO',
                       't': 1.0}]
        _, fails = crash.verify(bad, crash.Registry(doc, lt.parse_event), 2.0)
        self.assertEqual(len(fails), 1)
        self.assertIn('EIO', fails[0])


class ConcurrencySmoke(MountTestCase):
    """scripts/stress/concurrency for a few seconds."""

    SECONDS = 10

    def setUp(self):
        self._arm_timeout()

    def test_two_mounts_and_lineagectl_lose_nothing(self):
        r = subprocess.run([sys.executable, CONCURRENCY, '--seconds', str(self.SECONDS),
                            '--build', lt.BUILD,
                            '--visibility-limit', str(1.0 * lt.TIME_SCALE)],
                           capture_output=True, text=True,
                           timeout=lt.TEST_TIMEOUT - 5)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, 'scripts/stress/concurrency failed:\n' + out[-6000:])
        m = re.search(r'concurrency: \S+ s, (\d+) operations acknowledged \(\d+/s\), (\d+) '
                      r'verified, (\d+) failures', out)
        self.assertIsNotNone(m, 'no summary line in:\n' + out[-2000:])
        acked, verified, failures = map(int, m.groups())
        self.assertEqual(failures, 0)
        self.assertGreater(acked, 100, 'the writers hardly ran')
        self.assertEqual(verified, acked)
        for writer in ('one', 'two', 'ctl', 'mover1', 'mover2', 'probe'):
            self.assertRegex(out, r'by writer: .*\b%s [1-9]' % writer,
                             writer + ' acknowledged nothing')
        v = re.search(r'visibility over (\d+) probes: median ([\d.]+) s, max ([\d.]+) s', out)
        self.assertIsNotNone(v, 'no visibility line')
        self.assertGreater(int(v.group(1)), 3)
        self.assertLessEqual(float(v.group(3)), 1.0 * lt.TIME_SCALE)


class WriteLock(MountTestCase):
    """Another process holding the registry's write lock (lineagectl, a
    second mount in a long cascade) makes this mount's writers wait for it,
    and only them: reads that reach the daemon, and what other processes
    change, go on being served meanwhile."""

    HOLD = 3.0

    def test_a_waiting_writer_stalls_no_reader(self):
        m = self.m
        m.mkbucket('base')
        m.mkiter('base', 'one')
        held = sqlite3.connect(m.registry, isolation_level=None, timeout=10)
        held.execute('BEGIN IMMEDIATE')
        box = {}

        def writer():
            t0 = time.monotonic()
            try:
                m.write('buckets/base/description', 'Waited\n')
                box['rc'] = 0
            except OSError as ex:
                box['rc'] = ex.errno
            box['took'] = time.monotonic() - t0
        t = threading.Thread(target=writer)
        try:
            t.start()
            time.sleep(0.5)
            self.assertTrue(t.is_alive(), 'the writer did not wait for the lock')
            # Requests that reach the daemon while its writer waits: a
            # name never looked up, a file never read.
            t0 = time.monotonic()
            self.assertFalse(m.exists('buckets/nothing-%d' % os.getpid()))
            self.assertIn('iteration-create', m.text('events'))
            self.assertEqual(m.listdir('buckets/base/iterations'), ['one'])
            took = time.monotonic() - t0
            self.assertLess(took, 1.0 * lt.TIME_SCALE,
                            'reads waited %.2f s behind a writer waiting for '
                            'the lock' % took)
            time.sleep(self.HOLD - 0.5 - took)
            self.assertTrue(t.is_alive(), 'the writer did not wait for the lock')
        finally:
            held.execute('ROLLBACK')
            held.close()
            t.join(lt.CMD_TIMEOUT)
        self.assertEqual(box.get('rc'), 0, box)
        self.assertGreaterEqual(box['took'], self.HOLD - 0.1, box)
        self.assertEqual(m.read('buckets/base/description'), b'Waited\n')


class Regressions(MountTestCase):
    """Bugs the tests above found, each kept as a test of its own:
    refusals that left something behind or did not reach the writer, a
    refused name copied raw into `errors`, and an integrity check that
    disagreed with `status`."""

    # A value file opened with O_CREAT under a new name (labels/KEY,
    # artifacts/REGION) comes into being with its first accepted write: a
    # refused write leaves nothing behind, not even an event ("otherwise
    # EINVAL / EFBIG and nothing changes", SPEC §3).
    def test_refused_value_under_a_new_label_key_creates_nothing(self):
        lt.populate(self.m)
        self.assertRefused(errno.EINVAL, self.m.write, 'buckets/base/labels/newkey',
                           b'bad\x01value\n')
        self.assertFalse(self.m.exists('buckets/base/labels/newkey'))

    def test_refused_value_under_a_new_build_label_creates_nothing(self):
        lt.populate(self.m)
        self.assertRefused(errno.EFBIG, self.m.write, RUNB + '/labels/newkey', 'x' * 2000)

    def test_refused_value_under_a_new_region_creates_no_artifact(self):
        lt.populate(self.m)
        self.assertRefused(errno.EINVAL, self.m.write, RUNB + '/artifacts/ap-east-1',
                           b'ami-\xff\n')
        self.assertEqual(self.m.listdir(RUNB + '/artifacts'), [])

    # `errors` must never copy a refused name raw: invalid UTF-8 and C1
    # controls (U+009B is CSI, a terminal escape) would let `cat errors`
    # drive the reader's terminal, and UTF-8 readers would choke on it.
    def test_errors_stays_clean_utf8_whatever_the_name(self):
        m = self.m
        for name in (b'ab\xff', b'ab\xc0\xaf', 'ab\u009b2J'.encode(), 'x\u0085y'.encode()):
            self.assertRefused(errno.EINVAL, os.mkdir, os.fsencode(m.path('buckets/')) + name,
                               logged=False)
        raw = m.read('errors')
        self.assertEqual(len(raw.splitlines()), 4, 'one line per refusal')
        text = raw.decode('utf-8')      # fails on raw invalid bytes
        self.assertFalse(re.search('[\u0080-\u009f]', text),
                         'errors holds C1 control characters: %r' % text)

    # A manifest larger than one FUSE request written in ONE write(2) is
    # imported when its last piece arrives; when the import is refused, the
    # kernel reports the pieces already taken as a short write, and the
    # writer's retry of the rest (as cat, dd and every full-write loop
    # make) gets the refusal's errno.  (No close(2) reaches the mount.)
    def test_refused_large_import_fails_the_writers_retry(self):
        m = self.m
        m.complete_iteration('base', 'fp-big')
        with open(os.path.join(ROOT, 'tests', 'data', 'manifests',
                               'amazon-ebs-regions.json')) as f:
            doc = json.load(f)
        doc['builds'][0]['custom_data']['fingerprint'] = 'fp-big'
        text = json.dumps(doc, indent=2)
        big = (text[:-1] + ' ' * (3 << 20) + '}').encode()
        before = m.export()
        fd = os.open(m.path('buckets/base/import'), os.O_WRONLY | os.O_TRUNC)
        got, done, shorts = None, 0, 0
        try:
            while done < len(big):
                n = os.write(fd, big[done:])
                self.assertGreater(n, 0)
                shorts += done + n < len(big)
                done += n
        except OSError as e:
            got = e.errno
        finally:
            os.close(fd)
        self.assertExportEqual(before, m.export(), 'a refused 3 MiB import')
        self.assertEqual(got, errno.EEXIST, 'all %d bytes taken (%d short writes): '
                         'the EEXIST was lost' % (done, shorts))
        r = subprocess.run('cat > %s' % shlex.quote(m.path('buckets/base/import')),
                           shell=True, input=big, capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b'File exists', r.stderr)
        self.assertExportEqual(before, m.export(), 'a refused 3 MiB import by cat')

    # Regression (was a hang): the kernel holds a page locked while a READ
    # or a WRITE of it waits for the daemon, and a notification that drops
    # that page waits for the lock.  A reader whose READ made another
    # process's waiting clear dropped its own page and never replied; the
    # writer's next truncation then waited for that page forever.  Writers
    # (`open(w)`: a truncation, then a write) and readers of one file,
    # through two mounts, must all finish, and the value must be one of
    # those written.
    def test_writers_and_readers_of_one_file_never_hang(self):
        m = self.m
        m2 = self.mount(share=m)
        m.mkbucket('busy')
        rel = 'buckets/busy/description'
        code = r"""
import os, sys, threading, time
stop = time.time() + float(sys.argv[3])
def writer(mnt, tag):
    i = 0
    while time.time() < stop:
        i += 1
        with open(os.path.join(mnt, sys.argv[4]), 'w') as f:
            f.write('%s %d\n' % (tag, i))
def reader(mnt):
    while time.time() < stop:
        with open(os.path.join(mnt, sys.argv[4])) as f:
            f.read()
ts = [threading.Thread(target=writer, args=(sys.argv[1], 'a')),
      threading.Thread(target=writer, args=(sys.argv[1], 'c')),
      threading.Thread(target=writer, args=(sys.argv[2], 'b')),
      threading.Thread(target=reader, args=(sys.argv[1],)),
      threading.Thread(target=reader, args=(sys.argv[2],))]
for t in ts: t.start()
for t in ts: t.join()
print('done')
"""
        r = subprocess.run([sys.executable, '-c', code, m.mnt, m2.mnt, '4', rel],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, 'done\n'), r.stderr)
        self.assertRegex(m.read(rel).decode(), r'^[abc] \d+\n$')
        self.assertTrue(m._alive() and m2._alive())

    # No OPEN reaches the mount, so the truncation of `echo v > FILE` comes
    # as a SETATTR before the write: it must wait for that write and make
    # one change with it, and, the write refused, none at all; `: > FILE`
    # (no write follows) clears, seen at once by another process.
    def test_a_redirection_and_its_write_are_one_change(self):
        m = self.m
        m.mkbucket('one', 'first')
        rel = 'buckets/one/description'
        n = len(m.events())
        m.sh('echo second > %s' % rel)
        self.assertEqual(m.read(rel), b'second\n')
        new = m.events()[n:]
        self.assertEqual([e['action'] for _, e in new], ['set'], new)
        before = m.export()
        self.assertErrno(errno.EFBIG, m.write, rel, 'x' * 5000 + '\n')
        self.assertEqual(m.read(rel), b'second\n')
        self.assertExportEqual(before, m.export(), 'a refused echo > FILE')
        self.assertEqual(len(m.events()), n + 1, 'the refused write added events')
        m.sh(': > %s' % rel)
        self.assertEqual(m.read(rel), b'')
        self.assertEqual(os.stat(m.path(rel)).st_size, 0)
        self.assertEqual([e['action'] for _, e in m.events()[n + 1:]], ['set'])

    # A document cut short never becomes whole, and no close(2) reaches the
    # mount: once its writer has exited, it is refused with a line in
    # errors (op=close), within a second, and nothing is created.
    def test_a_document_cut_short_is_refused_when_its_writer_exits(self):
        m = self.m
        m.mkbucket('cut')
        before = m.export()
        errs = m.errors_lines()
        r = subprocess.run([sys.executable, '-c', 'import os, sys\n'
                            'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)\n'
                            'os.write(fd, b\'{"builds": [\')\n'
                            'os.close(fd)\n', m.path('buckets/cut/import')],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.time() + 2.0
        while True:
            added = lt.new_lines(errs, m.errors_lines())
            hit = [l for l in added if 'op=close path=buckets/cut/import errno=EINVAL' in l]
            if hit or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(hit), 1, 'errors gained %r' % added)
        self.assertExportEqual(before, m.export(), 'a document cut short')

    # `lineagectl check` must judge a channel by the revocation in force:
    # an iteration holding its own (explicit) scheduled revocation and an
    # immediate one inherited from an ancestor is scheduled, since the
    # explicit one outranks the inherited one (SPEC §5.4), so rollback
    # rightly left the channel on it.
    def test_check_accepts_a_channel_on_a_scheduled_iteration(self):
        m = self.m
        m.complete_iteration('base', 'x')
        m.complete_iteration('app', 'c', parents=[it_path('base', 'x')])
        m.assign('app', 'prod', 'c')
        m.write(it_path('app', 'c') + '/revoke', 'in=30d planned retirement\n')
        m.write(it_path('base', 'x') + '/revoke', 'compromised\n')
        self.assertEqual(m.status('base', 'x'), 'revoked')
        self.assertEqual(m.status('app', 'c'), 'scheduled')
        self.assertEqual(m.channel('app', 'prod'), 'c')
        r = m.ctl('check', m.registry, check=False)
        self.assertEqual(r.returncode, 0, 'lineagectl check: %s'
                         % r.stdout.decode('utf-8', 'replace'))

    # Found by scripts/stress/crash: an iteration C with a scheduled
    # revocation of its own stays `scheduled` when an ancestor is revoked
    # at once (the explicit one outranks the inherited one), and rightly
    # keeps its channels.  Cancelling C's own revocation (restore) lets the
    # ancestor's immediate revocation take over, and it must be carried out
    # on C then: a revoke event for C, its channel rolled back, and
    # `lineagectl check` content.
    def test_cancelling_a_schedule_carries_out_the_inherited_revocation(self):
        m = self.m
        m.complete_iteration('base', 'x')
        m.complete_iteration('app', 'c0')
        m.complete_iteration('app', 'c', parents=[it_path('base', 'x')])
        m.assign('app', 'prod', 'c0')
        m.assign('app', 'prod', 'c')
        m.write(it_path('app', 'c') + '/revoke', 'in=30d planned retirement\n')
        m.write(it_path('base', 'x') + '/revoke', 'compromised\n')
        self.assertEqual(m.status('app', 'c'), 'scheduled')
        self.assertEqual(m.channel('app', 'prod'), 'c')
        n = len(m.events())
        m.write(it_path('app', 'c') + '/restore', 'cancel the plan\n')
        self.assertEqual(m.status('app', 'c'), 'revoked')
        rec = dict(m.record('app', 'c'))
        self.assertEqual((rec.get('type'), rec.get('inherited-from')),
                         ('inherited', it_path('base', 'x')))
        revokes = [e for _, e in m.events()[n:] if e.get('action') == 'revoke'
                   and e.get('iteration') == 'c']
        self.assertEqual(len(revokes), 1, 'one revoke event for c, inherited from x')
        self.assertEqual(m.channel('app', 'prod'), 'c0', 'prod is rolled back off c')
        r = m.ctl('check', m.registry, check=False)
        self.assertEqual(r.returncode, 0, 'lineagectl check: %s'
                         % r.stdout.decode('utf-8', 'replace'))


if __name__ == '__main__':
    lt.main()
