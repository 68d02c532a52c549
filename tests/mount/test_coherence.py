#!/usr/bin/env python3
# test_coherence.py — mount tests for the kernel cache (DESIGN.md, the
# front; lineagefs(1), -o timeout): the daemon lets the kernel keep
# names, attributes, file pages, symlink targets and listings for a day, and
# every change must drop what it affected before anyone can read it.
#
# Every test here follows one pattern: build a registry; read every file,
# listing and link that a change will affect, twice, so that the kernel
# surely holds it; make the change; read again.  Through the mount that made
# the change the new value must be there at once (no sleep); through a second
# mount of the same registry, or after a change made by lineagectl, within
# 1 second (SPEC §1).  The kinds of change: description, labels, buckets,
# iterations (create, delete, recreate), builds and artifacts, completion,
# channels, a revocation cascade and its restore, a scheduled revocation
# taking effect, parent links, chmod/chown, `errors`, imports.  Then
# -o timeout=0, and the request counts the daemon prints on SIGUSR1: once
# warm, a walk costs no request, and after a change only what it touched is
# asked for again.  Known stale reads are at the end, one test per bug.

import contextlib
import errno
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

SOON = 1.0 * lt.TIME_SCALE  # SPEC §1: another mount or lineagectl, within 1 s
# A mount reads the change feed every quarter of a second: before warming
# its caches, a test waits this long so that no earlier change's
# invalidation arrives after the warm reads (it would hide a stale read).
CATCH_UP = 0.4
REASON = 'CVE-2026-4242: stale openssl'


# ---- what a user sees -------------------------------------------------------

def observe(m, key):
    """What reading key through mount m shows.  key is a mount-relative
    path: a directory gives its sorted listing, a symlink '-> TARGET', a
    file its text (or ('st_size', N, text) when st_size is not the length
    read), and a missing name None (os.lstat said ENOENT).  ('stat', path)
    gives (mode, uid, gid); ('ls', dir) gives {name: size} as `ls -ln`
    prints them."""
    if isinstance(key, tuple):
        how, rel = key
        if how == 'stat':
            st = os.lstat(m.path(rel))
            return (oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid)
        if how == 'ls':
            return ls_sizes(m, rel)
        raise ValueError(how)
    p = m.path(key)
    try:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            return '-> ' + os.readlink(p)
        if stat.S_ISDIR(st.st_mode):
            return sorted(os.listdir(p))
        data = m.read(key)
    except FileNotFoundError:
        return None
    text = data.decode('utf-8', 'replace')
    if st.st_size != len(data):
        return ('st_size', st.st_size, text)
    return text


def ls_sizes(m, rel):
    """{name: size} of the entries of directory rel, from `ls -ln`."""
    r = subprocess.run(['ls', '-ln', '--time-style=+%s', rel], cwd=m.mnt,
                       capture_output=True, text=True, timeout=lt.CMD_TIMEOUT)
    if r.returncode != 0:
        return ('ls failed', r.stderr.strip())
    out = {}
    for line in r.stdout.splitlines()[1:]:
        f = line.split(None, 6)
        out[f[6].split(' -> ')[0]] = int(f[4])
    return out


class Pred:
    """An expected value given as a test on what is seen."""

    def __init__(self, what, fn):
        self.what, self.fn = what, fn

    def __call__(self, v):
        try:
            return bool(self.fn(v))
        except (TypeError, ValueError, KeyError, AttributeError):
            return False

    def __repr__(self):
        return '<%s>' % self.what


def matches(want, got):
    return want(got) if callable(want) else want == got


def lines_set(*lines):
    """A file whose lines are exactly these, in any order."""
    want = sorted(lines)
    return Pred('the lines %r in any order' % (want,),
                lambda v: isinstance(v, str) and sorted(v.splitlines()) == want)


def record(state, typ, origin=None):
    """A revoke record in this state, of this type, inherited from origin."""
    def ok(v):
        d = dict(l.split('=', 1) for l in v.splitlines())
        return (list(d)[:1] == ['state'] and d['state'] == state and d['type'] == typ
                and d['reason'] == REASON and lt.parse_time(d['at']) > 0
                and d.get('inherited-from') == (it_path(*origin) if origin else None))
    return Pred('a %s %s record%s' % (state, typ, ' from %s/%s' % origin if origin else ''), ok)


def tree_states(**counts):
    """A `tree` drawing with exactly these numbers of each [state]."""
    def ok(v):
        return all(v.count('[%s]' % s) == n for s, n in counts.items()) and \
            sum(v.count('[%s]' % s) for s in ('active', 'running', 'scheduled',
                                                 'revoked')) == sum(counts.values())
    return Pred('a tree with %r' % (counts,), ok)


_NODE_RE = re.compile(r'^\s*(i\d+) \[.*tooltip="(\S+) (\w+)"', re.M)
_EDGE_RE = re.compile(r'^\s*(i\d+) -> (i\d+)', re.M)


def graph(text):
    """graph.dot -> ({fingerprint: state}, {(parent fp, child fp)})."""
    names = {}
    states = {}
    for node, fp, st in _NODE_RE.findall(text):
        names[node] = fp
        states[fp] = st
    edges = {(names[a], names[b]) for a, b in _EDGE_RE.findall(text)}
    return states, edges


def graph_with(edges=None, states=None):
    """graph.dot with exactly these edges and these states (of the
    fingerprints named)."""
    def ok(v):
        s, e = graph(v)
        if edges is not None and e != set(edges):
            return False
        return all(s.get(fp) == st for fp, st in (states or {}).items())
    return Pred('a graph with edges %r and states %r' % (sorted(edges or ()), states), ok)


def grew(before, test=None, what='grew'):
    """A log that kept every line it had and gained some that pass test
    (given the new lines)."""
    def ok(v):
        return (isinstance(v, str) and len(v) > len(before) and v.startswith(before)
                and (test is None or test(v[len(before):].splitlines())))
    return Pred('the log %s' % what, ok)


def actions(lines):
    """New event lines -> [(action, bucket, iteration or channel)]."""
    out = []
    for l in lines:
        f = lt.parse_event(l)[1]
        out.append((f.get('action'), f.get('bucket'), f.get('iteration', f.get('channel'))))
    return out


def link(*parts):
    return '-> ' + '/'.join(parts)


def request_counts(m):
    """Send SIGUSR1 to m's daemon and return its `requests:` line as a
    dict of counts (the daemon prints it on stderr, into m's log)."""
    pid = m.proc.pid if m.proc is not None else m.pid

    def lines():
        with open(m.log, errors='replace') as f:
            return [l for l in f.read().splitlines() if l.startswith('requests:')]
    n = len(lines())
    os.kill(pid, signal.SIGUSR1)
    got, _ = lt.wait_until(lambda: len(lines()) > n and lines()[-1], 5.0, 0.02)
    if not got:
        raise AssertionError('the daemon printed no requests: line within 5 s of SIGUSR1; '
                             'log:\n%s' % m.daemon_log())
    return {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', got)}


def refetches(m):
    """m's refetches so far (0 for a mount no longer running)."""
    if m.closed or (m.proc is not None and m.proc.poll() is not None):
        return 0
    return sum(v for k, v in request_counts(m).items() if k.startswith('refetch_'))


def delta(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if b[k] != a.get(k, 0)}


LISTING_REQUESTS = ('readdir', 'readdirplus', 'lookup', 'getattr')

# The kernel empties its caches when told to (/proc/sys/vm/drop_caches:
# scripts/bench does it for its cold runs), when short of memory, or when
# a proactive reclaimer (DAMON's pageout) finds pages it thinks idle.  That
# only makes reads fresher, but a test that counts requests, or that shows
# a stale read, is then measuring nothing: it runs again.  The first two
# show in these counters; the daemon itself counts the third, as
# refetch_OP: the requests for content it had given the kernel and never
# told it to drop.
CACHE_DROPS = ('drop_pagecache', 'drop_slab', 'pgsteal_kswapd', 'pgsteal_direct',
               'pginodesteal', 'kswapd_inodesteal')


def cache_drops():
    out = {}
    with open('/proc/vmstat') as f:
        for line in f:
            k, _, v = line.partition(' ')
            if k in CACHE_DROPS:
                out[k] = int(v)
    return out


# ---- the pattern ---------------------------------------------------------------

class CoherenceCase(MountTestCase):

    def mount(self, *args, **kw):
        m = super().mount(*args, **kw)
        self.__dict__.setdefault('mounts', []).append(m)
        return m

    def second(self):
        """A second mount of self.m's registry."""
        return self.mount(share=self.m)

    def see(self, m, want, how):
        got = {k: observe(m, k) for k in want}
        bad = ['  %r:\n    expected %r\n    seen     %r' % (k, want[k], got[k])
               for k in want if not matches(want[k], got[k])]
        if bad:
            self.fail('%s (%s):\n%s' % (how, m.mnt, '\n'.join(bad)))

    def warm(self, mounts, want):
        """Read every key twice through each mount (so the kernel holds
        it), checking the values each time."""
        for m in mounts:
            for n in (1, 2):
                self.see(m, want, 'before the change, read %d' % n)

    def now(self, m, want, how='through the mount that made the change, at once'):
        self.see(m, want, how)

    def soon(self, m, want, how='through another mount', limit=SOON):
        """The values are seen within limit seconds (polled)."""
        lt.wait_until(lambda: all(matches(w, observe(m, k)) for k, w in want.items()),
                      limit, 0.02)
        self.see(m, want, '%s, within %.1f s' % (how, limit))

    def undisturbed(self, attempt, tries=5):
        """attempt() again until the kernel dropped no cache meanwhile
        (see CACHE_DROPS); returns what it returned.  An attempt that
        fails fails the test at once: a dropped cache never makes a read
        staler."""
        for _ in range(tries):
            before = cache_drops()
            mounts = list(self.mounts)
            fetched = [refetches(m) for m in mounts]
            v = attempt()
            if cache_drops() != before:
                continue
            if all(refetches(m) == n for m, n in zip(mounts, fetched)) and \
                    all(refetches(m) == 0 for m in self.mounts[len(mounts):]):
                return v
        self.fail('the kernel dropped its caches (or a part of them: refetches) during '
                  'each of %d attempts: nothing was measured' % tries)

    def step(self, writer, readers, before, change, after):
        """The pattern: warm `before` on every mount, change, then `after`
        at once through the writer (None: lineagectl, no mount wrote) and
        within 1 s through the readers."""
        self.assertEqual(set(before), set(after), 'before and after name the same keys')
        mounts = ([writer] if writer is not None else []) + list(readers)
        time.sleep(CATCH_UP)
        self.warm(mounts, before)
        change()
        if writer is not None:
            self.now(writer, after)
        for m in readers:
            self.soon(m, after, 'through a mount that did not make the change'
                      if writer is not None else 'after a change by lineagectl')


# ---- the registry's objects ---------------------------------------------------------

B = 'buckets/base/'
A1 = it_path('app', 'app-1')
A2 = it_path('app', 'app-2')
P1 = it_path('base', 'base-2026-01')
P2 = it_path('base', 'base-2026-02')


def family(m):
    """Three generations in three buckets, with channel histories that a
    revocation of base/b1 rolls back:
        base:  b0 (v1)  b1 (v2, latest)        prod: b0 then b1
        mid:   m0 (v1)  m1 (v2, parent b1 through base/prod)
                        m2 (v3, latest, parent b1)
                                               stable: m0 then m1; edge: m2
        leaf:  l1 (v1, parent m1)  l2 (v2, latest, parents m2 and m0)
               l3 (running, parent m1 through mid/stable)"""
    m.complete_iteration('base', 'b0')
    m.complete_iteration('base', 'b1')
    m.assign('base', 'prod', 'b0')
    m.assign('base', 'prod', 'b1')
    m.complete_iteration('mid', 'm0')
    m.complete_iteration('mid', 'm1', parents=['buckets/base/channels/prod'])
    m.complete_iteration('mid', 'm2', parents=['buckets/base/iterations/b1'])
    m.assign('mid', 'stable', 'm0')
    m.assign('mid', 'stable', 'm1')
    m.assign('mid', 'edge', 'm2')
    m.complete_iteration('leaf', 'l1', parents=['buckets/mid/iterations/m1'])
    m.complete_iteration('leaf', 'l2', parents=['buckets/mid/iterations/m2',
                                                'buckets/mid/iterations/m0'])
    m.mkiter('leaf', 'l3', parents=['buckets/mid/channels/stable'])


REVOKED = [('base', 'b1'), ('mid', 'm1'), ('mid', 'm2'), ('leaf', 'l1'), ('leaf', 'l2'),
           ('leaf', 'l3')]
SPARED = [('base', 'b0'), ('mid', 'm0')]


def family_views(revoked):
    """What the family shows with b1 revoked (True) or not (False)."""
    w = {}
    for b, fp in REVOKED:
        if revoked:
            w[it_path(b, fp) + '/status'] = 'revoked\n'
            w[it_path(b, fp) + '/revoke'] = (record('revoked', 'manual') if fp == 'b1' else
                                             record('revoked', 'inherited', ('base', 'b1')))
        else:
            w[it_path(b, fp) + '/status'] = 'running\n' if fp == 'l3' else 'active\n'
            w[it_path(b, fp) + '/revoke'] = ''
    for b, fp in SPARED:
        w[it_path(b, fp) + '/status'] = 'active\n'
        w[it_path(b, fp) + '/revoke'] = ''
    w[it_path('base', 'b1') + '/tree'] = (tree_states(revoked=6) if revoked else
                                          tree_states(active=5, running=1))
    w[it_path('base', 'b1') + '/descendants'] = lines_set(
        *[it_path(b, fp) for b, fp in REVOKED[1:]])
    w['graph.dot'] = graph_with(
        edges={('b1', 'm1'), ('b1', 'm2'), ('m1', 'l1'), ('m2', 'l2'), ('m0', 'l2'),
               ('m1', 'l3')},
        states={fp: ('revoked' if revoked else ('running' if fp == 'l3' else 'active'))
                for _, fp in REVOKED})
    return w


# ---- the tests ---------------------------------------------------------------------

class Values(CoherenceCase):

    def test_description_and_bucket_labels_create_change_rm(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        desc = 'Golden base image\nmaintained by the platform team\n'
        self.step(m, [m2], {B + 'description': desc},
                  lambda: m.write(B + 'description', 'Golden base image, second edition\n'),
                  {B + 'description': 'Golden base image, second edition\n'})
        # cleared (`: > description`) through the second mount
        self.step(m2, [m], {B + 'description': 'Golden base image, second edition\n'},
                  lambda: m2.sh(': > ' + B + 'description'),
                  {B + 'description': ''})
        # a label created, changed and removed, alternately by each mount
        self.step(m, [m2], {B + 'labels': ['team'], B + 'labels/tier': None},
                  lambda: m.write(B + 'labels/tier', 'gold\n'),
                  {B + 'labels': ['team', 'tier'], B + 'labels/tier': 'gold\n'})
        self.step(m2, [m], {B + 'labels/tier': 'gold\n', B + 'labels/team': 'platform\n'},
                  lambda: m2.write(B + 'labels/tier', 'platinum-plus\n'),
                  {B + 'labels/tier': 'platinum-plus\n', B + 'labels/team': 'platform\n'})
        self.step(m, [m2], {B + 'labels': ['team', 'tier'], B + 'labels/tier': 'platinum-plus\n'},
                  lambda: os.remove(m.path(B + 'labels/tier')),
                  {B + 'labels': ['team'], B + 'labels/tier': None})
        # the same name again is a new label with its own value
        self.step(m2, [m], {B + 'labels': ['team'], B + 'labels/tier': None},
                  lambda: m2.write(B + 'labels/tier', 'bronze\n'),
                  {B + 'labels': ['team', 'tier'], B + 'labels/tier': 'bronze\n'})

    def test_buckets_create_and_delete(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        self.step(m, [m2], {'buckets': ['app', 'base', 'empty'], 'buckets/new': None},
                  lambda: m.mkbucket('new', 'fresh'),
                  {'buckets': ['app', 'base', 'empty', 'new'],
                   'buckets/new': ['channels', 'created', 'description', 'import',
                                   'iterations', 'labels', 'versions']})
        self.step(m2, [m], {'buckets': ['app', 'base', 'empty', 'new'],
                            'buckets/new/description': 'fresh\n'},
                  lambda: os.rmdir(m2.path('buckets/new')),
                  {'buckets': ['app', 'base', 'empty'], 'buckets/new/description': None})
        # lineagectl creates one; both mounts list it within 1 s
        self.step(None, [m, m2], {'buckets': ['app', 'base', 'empty'],
                                  'buckets/ctl/iterations': None},
                  lambda: m.ctl('mkbucket', m.registry, 'ctl'),
                  {'buckets': ['app', 'base', 'ctl', 'empty'],
                   'buckets/ctl/iterations': []})

    def test_errors_grows_with_exact_size_after_a_refusal(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        m.sh('mkdir buckets/x', check=False)           # EINVAL: a bad bucket name
        before = m.text('errors')
        others = m2.text('errors')

        def refuse():
            self.assertErrno(errno.EPERM, m.write, A1 + '/complete', '0\n')
        self.step(m, [], {'errors': before}, refuse,
                  {'errors': grew(before, lambda new: len(new) == 1 and
                                  'errno=EPERM' in new[0] and A1 + '/complete' in new[0],
                                  'gained one line naming the EPERM refusal')})
        # the refusal is the refusing mount's own: the other's log has not
        # gained it (read twice more, it stays as it was)
        self.warm([m2], {'errors': others})


class Iterations(CoherenceCase):

    def test_iteration_create_shows_in_listings_and_by_id(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        ids = sorted(os.listdir(m.path('by-id')))
        self.step(m, [m2], {'buckets/app/iterations': ['app-1', 'app-2'], 'by-id': ids},
                  lambda: os.mkdir(m.path(it_path('app', 'app-3'))),
                  {'buckets/app/iterations': ['app-1', 'app-2', 'app-3'],
                   'by-id': Pred('one more id', lambda v: len(v) == len(ids) + 1 and
                                 set(ids) < set(v))})
        new = m.ulid('app', 'app-3')
        self.assertRegex(new, lt.ULID_RE)
        for mm in (m, m2):
            self.see(mm, {'by-id/' + new: link('..', A1.replace('app-1', 'app-3')),
                          it_path('app', 'app-3') + '/status': 'running\n',
                          it_path('app', 'app-3') + '/version': 'v0\n'}, 'the new iteration')
        # created through the second mount
        ids = sorted(ids + [new])
        self.step(m2, [m], {'buckets/base/iterations': ['base-2026-01', 'base-2026-02'],
                            'by-id': ids},
                  lambda: os.mkdir(m2.path(it_path('base', 'base-2026-03'))),
                  {'buckets/base/iterations': ['base-2026-01', 'base-2026-02', 'base-2026-03'],
                   'by-id': Pred('one more id', lambda v: len(v) == len(ids) + 1)})

    def _delete_and_recreate(self, writer, reader):
        """rmdir an iteration through writer, then mkdir the same
        fingerprint again, while reader still holds the old one."""
        fp = 'app-9'
        p = it_path('app', fp)
        writer.mkiter('app', fp)
        old = writer.ulid('app', fp)
        names = sorted(os.listdir(writer.path('buckets/app/iterations')))
        ids = sorted(os.listdir(writer.path('by-id')))
        held = {'buckets/app/iterations': names, 'by-id': ids, p + '/id': old + '\n',
                p + '/status': 'running\n', 'by-id/' + old: link('..', p),
                p + '/builds': ['linux-amd64']}
        time.sleep(CATCH_UP)
        self.warm([writer, reader], held)
        os.rmdir(writer.path(p))
        gone = {'buckets/app/iterations': [n for n in names if n != fp],
                'by-id': [i for i in ids if i != old], p + '/id': None, p + '/status': None,
                'by-id/' + old: None, p + '/builds': None}
        self.now(writer, gone)
        for rel in (p, p + '/id', 'by-id/' + old):
            self.assertErrno(errno.ENOENT, os.stat, writer.path(rel))
        # the reader still holds the old names: it is not asked again
        # before the fingerprint is back, as a new iteration
        os.mkdir(writer.path(p))
        new = writer.ulid('app', fp)
        self.assertNotEqual(new, old)
        again = {'buckets/app/iterations': names,
                 'by-id': sorted([i for i in ids if i != old] + [new]),
                 p + '/id': new + '\n', p + '/status': 'running\n', p + '/builds': [],
                 'by-id/' + old: None, 'by-id/' + new: link('..', p)}
        self.now(writer, again)
        self.soon(reader, again, 'through the mount that held the deleted iteration')
        self.assertErrno(errno.ENOENT, os.stat, reader.path('by-id/' + old))
        return new

    def test_iteration_delete_and_recreate_through_either_mount(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        self._delete_and_recreate(m, m2)
        os.rmdir(m.path(it_path('app', 'app-9')))
        self._delete_and_recreate(m2, m)

    def test_deleting_a_revoked_iteration_drops_its_version_link(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        m.complete_iteration('empty', 'solo')
        m.write(it_path('empty', 'solo') + '/revoke', REASON + '\n')
        v = 'buckets/empty/versions/'
        self.step(m, [m2], {v[:-1]: ['v1'], v + 'v1': link('..', 'iterations', 'solo'),
                            'buckets/empty/channels': [], 'buckets/empty/iterations': ['solo']},
                  lambda: os.rmdir(m.path(it_path('empty', 'solo'))),
                  {v[:-1]: [], v + 'v1': None, 'buckets/empty/channels': [],
                   'buckets/empty/iterations': []})


class BuildsAndArtifacts(CoherenceCase):

    def test_builds_artifacts_and_the_artifacts_directory(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        bd = A2 + '/builds/'
        top = sorted(os.listdir(m.path('artifacts')))
        self.step(m, [m2], {A2 + '/builds': ['linux-amd64'], bd + 'arm64': None},
                  lambda: m.add_build('app', 'app-2', 'arm64', 'aws'),
                  {A2 + '/builds': ['arm64', 'linux-amd64'],
                   bd + 'arm64': ['artifacts', 'labels', 'platform', 'source']})
        self.step(m2, [m], {bd + 'arm64/platform': 'aws\n', bd + 'arm64/labels': []},
                  lambda: (m2.write(bd + 'arm64/platform', 'docker\n'),
                           m2.write(bd + 'arm64/labels/arch', 'aarch64\n')),
                  {bd + 'arm64/platform': 'docker\n', bd + 'arm64/labels': ['arch']})
        self.step(m, [m2], {bd + 'arm64/labels/arch': 'aarch64\n'},
                  lambda: m.write(bd + 'arm64/labels/arch', 'arm64-v8\n'),
                  {bd + 'arm64/labels/arch': 'arm64-v8\n'})
        e1, e2 = lt.unique_extid(), lt.unique_extid()
        target = link('..', A2, 'builds', 'arm64')
        self.step(m, [m2], {bd + 'arm64/artifacts': [], 'artifacts': top,
                            'artifacts/' + e1: None},
                  lambda: m.write(bd + 'arm64/artifacts/us-west-2', e1 + '\n'),
                  {bd + 'arm64/artifacts': ['us-west-2'], 'artifacts': sorted(top + [e1]),
                   'artifacts/' + e1: target})
        # a new value: the file, the top listing and the new link
        self.step(m2, [m], {bd + 'arm64/artifacts/us-west-2': e1 + '\n',
                            'artifacts': sorted(top + [e1]), 'artifacts/' + e2: None},
                  lambda: m2.write(bd + 'arm64/artifacts/us-west-2', e2 + '\n'),
                  {bd + 'arm64/artifacts/us-west-2': e2 + '\n',
                   'artifacts': sorted(top + [e2]), 'artifacts/' + e2: target})
        self.step(m, [m2], {bd + 'arm64/artifacts': ['us-west-2'],
                            'artifacts': sorted(top + [e2]), 'artifacts/' + e2: target},
                  lambda: os.remove(m.path(bd + 'arm64/artifacts/us-west-2')),
                  {bd + 'arm64/artifacts': [], 'artifacts': top, 'artifacts/' + e2: None})
        # a build label removed through the other mount
        self.step(m2, [m], {bd + 'arm64/labels': ['arch'], bd + 'arm64/labels/arch': 'arm64-v8\n'},
                  lambda: os.remove(m2.path(bd + 'arm64/labels/arch')),
                  {bd + 'arm64/labels': [], bd + 'arm64/labels/arch': None})


class Completion(CoherenceCase):

    def test_complete_moves_version_status_versions_and_latest(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        ext = lt.unique_extid()
        m.write(A2 + '/builds/linux-amd64/artifacts/us-east-1', ext + '\n')
        v = 'buckets/app/versions'
        before = {A2 + '/version': 'v0\n', A2 + '/status': 'running\n', A2 + '/complete': '0\n',
                  A2 + '/channels': '', A1 + '/channels': 'latest\n',
                  v: ['v1'], v + '/v2': None, 'buckets/app/channels': ['latest'],
                  'buckets/app/channels/latest': link('..', 'iterations', 'app-1'),
                  'buckets/app/channels/latest/version': 'v1\n',
                  ('ls', A2): Pred('ls -l sizes of the running iteration',
                                   lambda s: s['version'] == 3 and s['status'] == 8 and
                                   s['complete'] == 2 and s['channels'] == 0)}
        after = {A2 + '/version': 'v2\n', A2 + '/status': 'active\n', A2 + '/complete': '1\n',
                 A2 + '/channels': 'latest\n', A1 + '/channels': '',
                 v: ['v1', 'v2'], v + '/v2': link('..', 'iterations', 'app-2'),
                 'buckets/app/channels': ['latest'],
                 'buckets/app/channels/latest': link('..', 'iterations', 'app-2'),
                 'buckets/app/channels/latest/version': 'v2\n',
                 ('ls', A2): Pred('ls -l sizes of the complete iteration',
                                  lambda s: s['version'] == 3 and s['status'] == 7 and
                                  s['complete'] == 2 and s['channels'] == 7)}
        self.step(m, [m2], before, lambda: m.complete('app', 'app-2'), after)

    def test_import_through_the_mount_and_through_lineagectl(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()

        def manifest(fp):
            run = 'run-' + fp
            return json.dumps({'builds': [{
                'name': 'ubuntu', 'builder_type': 'amazon-ebs', 'build_time': 1767225600,
                'files': None, 'artifact_id': 'us-east-1:%s' % lt.unique_extid(),
                'packer_run_uuid': run, 'custom_data': {'fingerprint': fp}}],
                'last_run_uuid': run})
        I = 'buckets/empty/'
        ids = sorted(os.listdir(m.path('by-id')))
        self.step(m, [m2], {I + 'iterations': [], I + 'versions': [], I + 'channels': [],
                            I + 'channels/latest': None, 'by-id': ids},
                  lambda: m.write(I + 'import', manifest('imp-1')),
                  {I + 'iterations': ['imp-1'], I + 'versions': ['v1'], I + 'channels': ['latest'],
                   I + 'channels/latest': link('..', 'iterations', 'imp-1'),
                   'by-id': Pred('one more id', lambda v: len(v) == len(ids) + 1)})
        path = os.path.join(m.tmp, 'manifest.json')
        with open(path, 'w') as f:
            f.write(manifest('imp-2'))
        self.step(None, [m, m2], {I + 'iterations': ['imp-1'], I + 'versions': ['v1'],
                                  I + 'channels/latest': link('..', 'iterations', 'imp-1'),
                                  it_path('empty', 'imp-1') + '/channels': 'latest\n'},
                  lambda: m.ctl('import', m.registry, 'empty', path),
                  {I + 'iterations': ['imp-1', 'imp-2'], I + 'versions': ['v1', 'v2'],
                   I + 'channels/latest': link('..', 'iterations', 'imp-2'),
                   it_path('empty', 'imp-1') + '/channels': ''})
        for mm in (m, m2):
            self.see(mm, {it_path('empty', 'imp-2') + '/status': 'active\n'}, 'imported')


class Channels(CoherenceCase):

    def test_channel_create_move_rename_over_and_remove(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        C = B + 'channels/'
        to1 = link('..', 'iterations', 'base-2026-01')
        to2 = link('..', 'iterations', 'base-2026-02')
        id1, id2 = m.ulid('base', 'base-2026-01') + '\n', m.ulid('base', 'base-2026-02') + '\n'
        # ln -s: a new channel; reading through it
        self.step(m, [m2], {C[:-1]: ['latest', 'production'], C + 'staging': None,
                            P2 + '/channels': 'latest\n'},
                  lambda: m.sh('ln -s ../iterations/base-2026-02 %sstaging' % C),
                  {C[:-1]: ['latest', 'production', 'staging'], C + 'staging': to2,
                   P2 + '/channels': 'latest\nstaging\n'})
        # ln -sfn: production moves; readlink and a file read through it
        self.step(m, [m2], {C + 'production': to1, C + 'production/id': id1,
                            C[:-1]: ['latest', 'production', 'staging'],
                            P1 + '/channels': 'production\n',
                            P2 + '/channels': 'latest\nstaging\n'},
                  lambda: m.sh('ln -sfn ../iterations/base-2026-02 %sproduction' % C),
                  {C + 'production': to2, C + 'production/id': id2,
                   C[:-1]: ['latest', 'production', 'staging'], P1 + '/channels': '',
                   P2 + '/channels': lines_set('latest', 'production', 'staging')})
        # the other mount moves it back the same way
        self.step(m2, [m], {C + 'production': to2, C + 'production/id': id2},
                  lambda: m2.sh('ln -sfn ../iterations/base-2026-01 %sproduction' % C),
                  {C + 'production': to1, C + 'production/id': id1})
        # rename over: staging replaces production, and its own name goes
        self.step(m2, [m], {C[:-1]: ['latest', 'production', 'staging'], C + 'staging': to2,
                            C + 'production': to1, C + 'production/id': id1,
                            P1 + '/channels': 'production\n'},
                  lambda: os.rename(m2.path(C + 'staging'), m2.path(C + 'production')),
                  {C[:-1]: ['latest', 'production'], C + 'staging': None,
                   C + 'production': to2, C + 'production/id': id2, P1 + '/channels': ''})
        self.assertErrno(errno.ENOENT, os.lstat, m.path(C + 'staging'))
        # rm
        self.step(m, [m2], {C[:-1]: ['latest', 'production'], C + 'production': to2},
                  lambda: os.remove(m.path(C + 'production')),
                  {C[:-1]: ['latest'], C + 'production': None})
        # lineagectl makes it again
        self.step(None, [m, m2], {C[:-1]: ['latest'], C + 'production': None,
                                  P1 + '/channels': ''},
                  lambda: m.ctl('assign', m.registry, 'base', 'production',
                                'buckets/base/iterations/base-2026-01'),
                  {C[:-1]: ['latest', 'production'], C + 'production': to1,
                   P1 + '/channels': 'production\n'})

    def test_channel_move_makes_children_out_of_date(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        up = 'buckets/base/iterations/base-2026-01 channel=production status=up-to-date\n'
        out = 'buckets/base/iterations/base-2026-01 channel=production status=out-of-date\n'
        self.step(m, [m2], {A1 + '/parent': up, A1 + '/ancestry': 'up-to-date\n',
                            'graph.dot': graph_with(edges={('base-2026-01', 'app-1'),
                                                           ('base-2026-02', 'app-2')})},
                  lambda: m.assign('base', 'production', 'base-2026-02'),
                  {A1 + '/parent': out, A1 + '/ancestry': 'out-of-date\n',
                   'graph.dot': graph_with(edges={('base-2026-01', 'app-1'),
                                                  ('base-2026-02', 'app-2')})})
        # lineagectl moves it back: up to date again everywhere
        self.step(None, [m, m2], {A1 + '/parent': out, A1 + '/ancestry': 'out-of-date\n'},
                  lambda: m.ctl('assign', m.registry, 'base', 'production',
                                'buckets/base/iterations/base-2026-01'),
                  {A1 + '/parent': up, A1 + '/ancestry': 'up-to-date\n'})
        # the channel deleted: undetermined
        self.step(m2, [m], {A1 + '/parent': up, A1 + '/ancestry': 'up-to-date\n'},
                  lambda: os.remove(m2.path(B + 'channels/production')),
                  {A1 + '/parent': up.replace('up-to-date', 'undetermined'),
                   A1 + '/ancestry': 'undetermined\n'})


class Revocation(CoherenceCase):

    def test_cascade_through_three_buckets_with_rollback(self):
        m = self.m
        family(m)
        m2 = self.second()
        events = m.text('events')
        before = family_views(False)
        before.update({
            'events': events,
            'buckets/base/channels/prod': link('..', 'iterations', 'b1'),
            'buckets/base/channels/latest': link('..', 'iterations', 'b1'),
            'buckets/mid/channels': ['edge', 'latest', 'stable'],
            'buckets/mid/channels/stable': link('..', 'iterations', 'm1'),
            'buckets/mid/channels/edge': link('..', 'iterations', 'm2'),
            'buckets/mid/channels/latest': link('..', 'iterations', 'm2'),
            'buckets/leaf/channels': ['latest'],
            'buckets/leaf/channels/latest': link('..', 'iterations', 'l2'),
            'buckets/mid/channels/stable/id': m.ulid('mid', 'm1') + '\n',
            it_path('mid', 'm1') + '/ancestry': 'up-to-date\n',
            it_path('leaf', 'l3') + '/ancestry': 'up-to-date\n',
            it_path('base', 'b0') + '/channels': '',
        })

        def cascade(new):
            acts = actions(new)
            revoked = {(b, fp) for a, b, fp in acts if a == 'revoke'}
            return (revoked == set(REVOKED) and len([a for a in acts if a[0] == 'revoke']) == 6
                    and ('assign', 'base', 'prod') in acts and ('assign', 'mid', 'stable') in acts
                    and ('unassign', 'mid', 'edge') in acts)
        after = family_views(True)
        after.update({
            'events': grew(events, cascade, 'gained a revoke event for each of the six '
                           'and the three rollbacks'),
            'buckets/base/channels/prod': link('..', 'iterations', 'b0'),
            'buckets/base/channels/latest': link('..', 'iterations', 'b0'),
            'buckets/mid/channels': ['latest', 'stable'],
            'buckets/mid/channels/stable': link('..', 'iterations', 'm0'),
            'buckets/mid/channels/edge': None,
            'buckets/mid/channels/latest': link('..', 'iterations', 'm0'),
            'buckets/leaf/channels': [],
            'buckets/leaf/channels/latest': None,
            'buckets/mid/channels/stable/id': m.ulid('mid', 'm0') + '\n',
            it_path('mid', 'm1') + '/ancestry': 'out-of-date\n',
            it_path('leaf', 'l3') + '/ancestry': 'out-of-date\n',
            it_path('base', 'b0') + '/channels': lines_set('latest', 'prod'),
        })
        self.step(m, [m2], before, lambda: m.write(it_path('base', 'b1') + '/revoke',
                                                   REASON + '\n'), after)

    def test_restore_by_lineagectl_is_seen_by_both_mounts(self):
        m = self.m
        family(m)
        m2 = self.second()
        m.write(it_path('base', 'b1') + '/revoke', REASON + '\n')
        events = m.text('events')
        before = family_views(True)
        before.update({
            'events': events,
            'buckets/base/channels/latest': link('..', 'iterations', 'b0'),
            'buckets/mid/channels/latest': link('..', 'iterations', 'm0'),
            'buckets/leaf/channels': [],
            'buckets/leaf/channels/latest': None,
            'buckets/base/channels/prod': link('..', 'iterations', 'b0'),
        })
        after = family_views(False)
        after.update({
            'events': grew(events, lambda new: {(b, fp) for a, b, fp in actions(new)
                                                if a == 'restore'} == set(REVOKED),
                           'gained a restore event for each of the six'),
            # latest is recomputed; user channels stay where rollback left them
            'buckets/base/channels/latest': link('..', 'iterations', 'b1'),
            'buckets/mid/channels/latest': link('..', 'iterations', 'm2'),
            'buckets/leaf/channels': ['latest'],
            'buckets/leaf/channels/latest': link('..', 'iterations', 'l2'),
            'buckets/base/channels/prod': link('..', 'iterations', 'b0'),
        })
        self.step(None, [m, m2], before,
                  lambda: m.ctl('restore', m.registry, 'buckets/base/iterations/b1', 'reviewed'),
                  after)

    def test_revoke_by_lineagectl_is_seen_by_both_mounts(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        self.step(None, [m, m2], {P1 + '/status': 'active\n', A1 + '/status': 'active\n',
                                  A1 + '/revoke': '', B + 'channels/production': link(
                                      '..', 'iterations', 'base-2026-01'),
                                  'buckets/app/channels': ['latest']},
                  lambda: m.ctl('revoke', m.registry, P1, REASON),
                  {P1 + '/status': 'revoked\n', A1 + '/status': 'revoked\n',
                   A1 + '/revoke': record('revoked', 'inherited', ('base', 'base-2026-01')),
                   B + 'channels/production': None, 'buckets/app/channels': []})

    def test_scheduled_revocation_takes_effect_with_no_write(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        m.write(P2 + '/revoke', 'in=2s ' + REASON + '\n')
        sched = {P2 + '/status': 'scheduled\n', A2 + '/status': 'scheduled\n',
                 P2 + '/revoke': record('scheduled', 'manual'),
                 A2 + '/revoke': record('scheduled', 'inherited', ('base', 'base-2026-02')),
                 B + 'channels/latest': link('..', 'iterations', 'base-2026-02'),
                 B + 'channels/latest/status': 'scheduled\n',
                 P2 + '/tree': tree_states(scheduled=2)}
        time.sleep(CATCH_UP)
        self.warm([m, m2], sched)
        at = dict(l.split('=', 1) for l in m.lines(P2 + '/revoke'))['at']
        due = lt.parse_time(at)
        self.assertGreater(due, time.time(), 'the revocation is still to come')
        time.sleep(due + 0.2 - time.time())
        revoked = {P2 + '/status': 'revoked\n', A2 + '/status': 'revoked\n',
                   P2 + '/revoke': record('revoked', 'manual'),
                   A2 + '/revoke': record('revoked', 'inherited', ('base', 'base-2026-02')),
                   B + 'channels/latest': link('..', 'iterations', 'base-2026-01'),
                   B + 'channels/latest/status': 'active\n',
                   P2 + '/tree': tree_states(revoked=2)}
        self.now(m, revoked, '0.2 s after the revocation time, with no write since')
        self.soon(m2, revoked, 'through the second mount',
                  limit=max(0.0, due + SOON - time.time()))


class Ancestry(CoherenceCase):

    def test_parent_remove_and_add_through_parent_and_source(self):
        m = self.m
        info = lt.populate(m)
        m2 = self.second()
        L1 = 'buckets/base/iterations/base-2026-01 channel=production status=up-to-date'
        L2 = 'buckets/base/iterations/base-2026-02 channel=- status=undetermined'
        # remove: rm parents/LINK
        self.step(m, [m2], {A2 + '/parent': L2 + '\n', A2 + '/ancestry': 'undetermined\n',
                            A2 + '/parents': ['base@base-2026-02'],
                            A2 + '/ancestors': P2 + '\n',
                            P2 + '/children': ['app@app-2'], P2 + '/descendants': A2 + '\n',
                            P2 + '/tree': tree_states(active=1, running=1),
                            'graph.dot': graph_with(edges={('base-2026-01', 'app-1'),
                                                           ('base-2026-02', 'app-2')})},
                  lambda: os.remove(m.path(A2 + '/parents/base@base-2026-02')),
                  {A2 + '/parent': '', A2 + '/ancestry': 'none\n', A2 + '/parents': [],
                   A2 + '/ancestors': '', P2 + '/children': [], P2 + '/descendants': '',
                   P2 + '/tree': tree_states(active=1),
                   'graph.dot': graph_with(edges={('base-2026-01', 'app-1')})})
        # add: a channel path written to `parent`, by the other mount
        self.step(m2, [m], {A2 + '/parent': '', A2 + '/ancestry': 'none\n', A2 + '/parents': [],
                            P1 + '/children': ['app@app-1'], P1 + '/descendants': A1 + '\n',
                            'graph.dot': graph_with(edges={('base-2026-01', 'app-1')})},
                  lambda: m2.write(A2 + '/parent', 'buckets/base/channels/production\n'),
                  {A2 + '/parent': L1 + '\n', A2 + '/ancestry': 'up-to-date\n',
                   A2 + '/parents': ['base@base-2026-01'],
                   P1 + '/children': ['app@app-1', 'app@app-2'],
                   P1 + '/descendants': lines_set(A1, A2),
                   'graph.dot': graph_with(edges={('base-2026-01', 'app-1'),
                                                  ('base-2026-01', 'app-2')})})
        self.see(m, {A2 + '/parents/base@base-2026-01': link('..', '..', '..', '..', '..', P1)},
                 'the new parent link')
        # add: a build's source naming a registered artifact
        self.step(m, [m2], {A2 + '/parents': ['base@base-2026-01'], P2 + '/children': [],
                            A2 + '/ancestry': 'up-to-date\n'},
                  lambda: m.write(A2 + '/builds/linux-amd64/source',
                                  m.value(P2 + '/builds/linux-amd64/artifacts/us-east-1') + '\n'),
                  {A2 + '/parents': ['base@base-2026-01', 'base@base-2026-02'],
                   P2 + '/children': ['app@app-2'], A2 + '/ancestry': 'undetermined\n'})


class Ownership(CoherenceCase):

    def test_chmod_and_chown_of_a_bucket_reach_every_file_inside(self):
        m = self.m
        lt.populate(m)
        m2 = self.second()
        keys = {'buckets/app': 'dir', 'buckets/app/description': 'rw',
                'buckets/app/import': 'wo', A1 + '/status': 'ro', A1 + '/revoke': 'rw',
                A1 + '/builds/docker/platform': 'rw', 'buckets/app/iterations': 'dir',
                A1 + '/builds/docker/artifacts/global': 'rw'}

        def modes(bmode, uid, gid):
            perm = {'dir': bmode, 'rw': (bmode & 0o444) | (bmode & 0o200),
                    'ro': bmode & 0o444, 'wo': bmode & 0o200}
            return {('stat', k): (oct(perm[c]), uid, gid) for k, c in keys.items()}
        self.step(m, [m2], modes(0o755, 0, 0),
                  lambda: os.chmod(m.path('buckets/app'), 0o750), modes(0o750, 0, 0))
        self.step(m2, [m], modes(0o750, 0, 0),
                  lambda: os.chown(m2.path('buckets/app'), lt.NOBODY_UID, lt.NOBODY_GID),
                  modes(0o750, lt.NOBODY_UID, lt.NOBODY_GID))
        # buckets/ itself
        self.step(m, [m2], {('stat', 'buckets'): ('0o755', 0, 0)},
                  lambda: os.chmod(m.path('buckets'), 0o1777),
                  {('stat', 'buckets'): ('0o1777', 0, 0)})


class NoCache(CoherenceCase):
    """-o timeout=0: nothing is kept, every read asks the daemon."""

    mount_options = ('timeout=0',)

    def test_timeout_zero_reads_and_changes(self):
        m = self.m
        lt.populate(m)
        self.step(m, [], {B + 'description': 'Golden base image\nmaintained by the platform '
                          'team\n', P1 + '/status': 'active\n',
                          B + 'channels/production': link('..', 'iterations', 'base-2026-01'),
                          'buckets/app/iterations': ['app-1', 'app-2']},
                  lambda: (m.write(B + 'description', 'uncached\n'),
                           m.write(P1 + '/revoke', REASON + '\n'),
                           os.mkdir(m.path(it_path('app', 'app-3')))),
                  {B + 'description': 'uncached\n', P1 + '/status': 'revoked\n',
                   B + 'channels/production': None,
                   'buckets/app/iterations': ['app-1', 'app-2', 'app-3']})
        # the option works: a repeated walk asks again (lookups and
        # attributes are not kept), unlike a cached mount's
        walk = ['ls', '-lR', '.']
        subprocess.run(walk, cwd=m.mnt, capture_output=True, timeout=lt.CMD_TIMEOUT)
        c0 = request_counts(m)
        subprocess.run(walk, cwd=m.mnt, capture_output=True, timeout=lt.CMD_TIMEOUT)
        d = delta(c0, request_counts(m))
        self.assertGreater(d.get('lookup', 0), 20, 'a walk of an uncached mount: %r' % d)
        self.assertGreater(d.get('readdirplus', 0) + d.get('readdir', 0), 5, d)


class Requests(CoherenceCase):

    def walk(self, rel='.'):
        return self.walk_of(self.m, rel)

    def walk_of(self, m, rel='.'):
        r = subprocess.run(['ls', '-lR', '--time-style=+%s', rel], cwd=m.mnt,
                           capture_output=True, text=True, timeout=lt.CMD_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def cat_all(self):
        """Read every regular file; return how many bytes that was."""
        return sum(len(self.m.read(rel)) for rel in self.m.files())

    def counted(self, prepare, action):
        """prepare(), then (what action() returns, the requests it sent),
        measured again if the kernel dropped caches meanwhile."""
        def attempt():
            prepare()
            c0 = request_counts(self.m)
            out = action()
            return out, delta(c0, request_counts(self.m))
        return self.undisturbed(attempt)

    def assertNone(self, d, kinds, what):
        self.assertEqual({k: d.get(k, 0) for k in kinds}, {k: 0 for k in kinds},
                         '%s sent requests: %r' % (what, d))

    def test_a_warm_walk_sends_no_request_and_a_change_only_what_it_touched(self):
        m = self.m
        lt.populate(m)
        # What populate changed through lineagectl reaches this mount by
        # its ticker (a quarter second): let it land before measuring.
        time.sleep(1.0)
        # The cold walk is measured once: what it asks for is a floor that
        # a cache dropped meanwhile only raises (and a second try would be
        # warm).
        c0 = request_counts(m)
        cold = self.walk()
        d_cold = delta(c0, request_counts(m))
        dirs = len(re.findall(r'^\S.*:$', cold, re.M))
        self.assertGreater(dirs, 40, cold)
        self.assertGreaterEqual(d_cold.get('readdirplus', 0) + d_cold.get('readdir', 0), dirs,
                                d_cold)
        # The second walk lists, looks up and reads links from the cache.
        # Its only requests are one GETATTR per directory at most: the
        # kernel drops a directory's atime when it reads the listing from
        # the daemon, and ls fstat()s each directory it opens.
        out, d = self.counted(self.walk, self.walk)
        self.assertEqual(out, cold, 'the second walk shows the same tree')
        self.assertNone(d, ('readdir', 'readdirplus', 'lookup', 'readlink'),
                        'a second identical ls -lR')
        self.assertLessEqual(d.get('getattr', 0), dirs, d)
        # From then on a walk costs nothing at all.
        out, d = self.counted(lambda: (self.walk(), self.walk()), self.walk)
        self.assertEqual(out, cold, 'the third walk shows the same tree')
        self.assertNone(d, LISTING_REQUESTS + ('readlink',), 'a third identical ls -lR')
        # Every file read twice (a READ from the daemon drops the file's
        # atime too, so the next full stat of it, os.walk's, costs one
        # GETATTR; ls -l does not ask for atime), then a walk and a read of
        # everything again: not one request, not even to open or close a
        # file (OPEN and FLUSH are answered ENOSYS once, so the kernel
        # stops asking), though cat opened and read every file.
        files = []
        out, d = self.counted(lambda: (self.walk(), self.walk(), self.cat_all(),
                                       self.cat_all()),
                              lambda: (self.walk(), files.append(self.cat_all()))[0])
        self.assertEqual(out, cold)
        self.assertGreater(files[0], 1000, 'cat read every file')
        self.assertEqual(sum(d.values()), 0, 'walking and reading every file again: %r' % d)

        # A change to one bucket: walking the rest costs nothing; walking
        # that bucket asks again for what the change touched only, far less
        # than a cold walk, and without a single lookup (names are kept).
        tries = iter(range(1, 10))

        def change_then_walk():
            self.walk()
            self.walk()
            value = 'Web application, changed %d\n' % next(tries)
            c0 = request_counts(m)
            m.write('buckets/app/description', value)
            c1 = request_counts(m)
            for rel in ('buckets/base', 'buckets/empty', 'by-id', 'artifacts'):
                self.walk(rel)
            c2 = request_counts(m)
            out = self.walk('buckets/app')
            return value, delta(c0, c1), delta(c1, c2), delta(c2, request_counts(m)), out
        value, d_write, d_rest, d_app, out = self.undisturbed(change_then_walk)
        self.assertEqual(d_write.get('write', 0), 1, d_write)
        self.assertNone(d_rest, LISTING_REQUESTS + ('readlink',),
                        'walking what the change did not touch')
        self.assertRegex(out, r'\n-rw-r--r-- 1 \S+ \S+ +%d \d+ description\n' % len(value))
        asked = sum(d_app.get(k, 0) for k in LISTING_REQUESTS)
        self.assertGreater(asked, 0, 'the changed bucket was not asked again: %r' % d_app)
        self.assertLess(asked, sum(d_cold.get(k, 0) for k in LISTING_REQUESTS) / 4,
                        'walking the changed bucket: %r; cold walk of everything: %r'
                        % (d_app, d_cold))
        self.assertEqual(d_app.get('lookup', 0), 0, 'names were not dropped, only what '
                         'they show: %r' % d_app)


# ---- known stale reads ---------------------------------------------------------------

    def test_refetches_count_what_the_kernel_dropped_by_itself(self):
        m = self.m
        lt.populate(m)
        time.sleep(1.0)

        def everything():
            return self.walk(), self.cat_all()
        everything()
        everything()
        # The kernel drops every page it holds (file data, link targets,
        # listings) but keeps inodes and names: all it asks for again is
        # what the daemon gave it and never told it to drop.
        c0 = request_counts(m)
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('1\n')
        out, _ = everything()
        d = delta(c0, request_counts(m))
        for op in ('read', 'readlink'):
            self.assertGreater(d.get(op, 0), 10, 'after drop_caches: %r' % d)
            self.assertEqual(d.get('refetch_' + op, 0), d[op],
                             'every %s after drop_caches was a refetch: %r' % (op, d))
        # A listing is refetched once, from its start, though it takes
        # two READDIRPLUS at least (the second finds its end); the root,
        # which the kernel never forgets, is not counted.
        dirs = len(re.findall(r'^\S.*:$', out, re.M))
        self.assertGreater(dirs, 40, out)
        self.assertGreaterEqual(d.get('readdirplus', 0), 2 * dirs, d)
        self.assertEqual(d.get('refetch_readdirplus', 0), dirs - 1,
                         'every listing after drop_caches was refetched: %r' % d)
        # What a change dropped is asked for again, and is no refetch.
        everything()
        c1 = request_counts(m)
        m.write('buckets/app/description', 'Changed\n')
        self.assertEqual(m.read('buckets/app/description'), b'Changed\n')
        self.walk('buckets/app')
        d = delta(c1, request_counts(m))
        self.assertGreaterEqual(d.get('read', 0), 1, d)
        self.assertGreaterEqual(d.get('readdirplus', 0), 1, d)
        self.assertEqual({k: v for k, v in d.items() if k.startswith('refetch_')}, {},
                         'a change is no refetch: %r' % d)

    def test_a_read_only_mount_walks_and_reads_again_without_a_request(self):
        m = self.m
        lt.populate(m)
        ro = self.mount(['ro'], share=m)
        with open('/proc/self/mounts') as f:
            flags = [l.split()[3].split(',') for l in f if l.split()[1] == ro.mnt]
        self.assertEqual(len(flags), 1, 'one mount at %s' % ro.mnt)
        self.assertIn('ro', flags[0], 'the kernel mounted it read-only: %r' % flags)

        def everything():
            out = self.walk_of(ro)
            return out, sum(len(ro.read(rel)) for rel in ro.files())

        def attempt():
            everything()
            c0 = request_counts(ro)
            got = everything()
            return got, delta(c0, request_counts(ro))
        # On a read-only superblock the kernel keeps an inode's atime
        # after a read that reached the daemon, so even the first walk
        # after reading everything (a full stat of every file, os.walk's)
        # costs nothing: a writable mount needs one GETATTR per file.
        (out, n), d = self.undisturbed(attempt)
        self.assertGreater(n, 1000, 'every file was read')
        self.assertEqual(sum(d.values()), 0, 'the second walk and read of a read-only '
                         'mount: %r' % d)
        self.assertIn('production -> ../iterations/', out)


class Regressions(CoherenceCase):
    """Changes that leave a name or a listing in the kernel's cache: each
    test is one precise bug (see the comment above it).  Each attempt
    starts from a registry of its own, so that one disturbed by a dropped
    cache can be made again."""

    def fresh(self):
        """Two mounts of a new populated registry, and populate's info."""
        m = self.mount()
        info = lt.populate(m)
        return m, self.mount(share=m), info

    # Regression (was stale): changing an artifact's value renames its artifacts/ link, but
    # the link keeps its inode (NK_ART_LINK, artifact id: src/store/
    # artifact.c updates the row in place) and the daemon drops inodes,
    # never names: artifacts/OLD-ID still resolves (lstat, readlink) through
    # every mount that had looked it up, though `ls artifacts` no longer
    # shows it.
    def test_old_artifact_id_is_gone_after_a_new_value(self):
        def attempt():
            m, m2, _ = self.fresh()
            art = A2 + '/builds/linux-amd64/artifacts/us-east-1'
            old, new = lt.unique_extid(), lt.unique_extid()
            m.write(art, old + '\n')
            target = link('..', A2, 'builds', 'linux-amd64')
            self.step(m, [m2], {'artifacts/' + old: target, 'artifacts/' + new: None,
                                art: old + '\n'},
                      lambda: m.write(art, new + '\n'),
                      {'artifacts/' + old: None, 'artifacts/' + new: target, art: new + '\n'})
        self.undisturbed(attempt)

    # Regression (was stale): rmdir of an iteration deletes its builds' artifacts, but the
    # change feed names only the iteration (src/store/iteration.c,
    # lin_iteration_delete: no LIN_CH_ARTIFACT for them), so the kernel
    # keeps artifacts/EXT-ID's attributes and target: it still resolves
    # (lstat, readlink) through every mount that had looked it up, though
    # `ls artifacts` no longer shows it.
    def test_deleted_iteration_takes_its_artifact_links(self):
        def attempt():
            m, m2, _ = self.fresh()
            ext = lt.unique_extid()
            m.write(A2 + '/builds/linux-amd64/artifacts/us-east-1', ext + '\n')
            top = sorted(os.listdir(m.path('artifacts')))
            self.step(m, [m2], {'artifacts/' + ext: link('..', A2, 'builds', 'linux-amd64'),
                                'artifacts': top},
                      lambda: os.rmdir(m.path(A2)),
                      {'artifacts/' + ext: None, 'artifacts': [e for e in top if e != ext]})
        self.undisturbed(attempt)

    # Regression (was stale): rmdir of a build (of a running iteration) deletes its artifacts
    # by the foreign keys' cascade, but the change feed names only the build
    # and its iteration (src/store/build.c, lin_build_delete: no
    # LIN_CH_GLOBAL, no LIN_CH_ARTIFACT): the top artifacts/ listing keeps
    # the deleted ids and artifacts/EXT-ID still resolves, through the mount
    # that made the change and every other.
    def test_deleted_build_takes_its_artifacts_from_the_top_listing(self):
        def attempt():
            m, m2, _ = self.fresh()
            ext = lt.unique_extid()
            m.add_build('app', 'app-2', 'extra', 'aws', {'r1': ext})
            top = sorted(os.listdir(m.path('artifacts')))
            self.step(m, [m2], {'artifacts': top,
                                'artifacts/' + ext: link('..', A2, 'builds', 'extra')},
                      lambda: os.rmdir(m.path(A2 + '/builds/extra')),
                      {'artifacts': [e for e in top if e != ext], 'artifacts/' + ext: None})
        self.undisturbed(attempt)

    # Regression (was stale): clearing a build's `source` drops the parent link
    # it had made (src/store/build.c, build_relink_sources deletes the links
    # and feeds LIN_CH_VIEWS only when it adds one back), so only the
    # child's own files are refreshed: the parent's children/ listing,
    # descendants and graph.dot keep showing the child, through the mount
    # that made the change and every other.
    def test_cleared_source_drops_the_child_from_the_parents_views(self):
        def attempt():
            m, m2, info = self.fresh()
            src = A2 + '/builds/linux-amd64/source'
            m.write(src, info['base_ami_1'] + '\n')
            edges = {('base-2026-01', 'app-1'), ('base-2026-02', 'app-2')}
            self.step(m, [m2], {A2 + '/parents': ['base@base-2026-01', 'base@base-2026-02'],
                                P1 + '/children': ['app@app-1', 'app@app-2'],
                                P1 + '/descendants': lines_set(A1, A2),
                                'graph.dot': graph_with(edges=edges | {('base-2026-01',
                                                                        'app-2')})},
                      lambda: m.write(src, '\n'),
                      {A2 + '/parents': ['base@base-2026-02'],
                       P1 + '/children': ['app@app-1'], P1 + '/descendants': A1 + '\n',
                       'graph.dot': graph_with(edges=edges)})
        self.undisturbed(attempt)

    # Regression (was stale): `: > FILE` clears a value when the file is released (fs/ops.c,
    # op_release: not at flush, which the shell sends before echo writes),
    # but the kernel sends RELEASE in the background after close(2) has
    # returned (only fuseblk mounts wait for it): right after `: > source`
    # the iteration's parents/ and parent still show the link the clearing
    # removed, for a moment, through the very mount that cleared it.
    def test_clearing_a_value_with_truncate_is_seen_at_once(self):
        def attempt():
            m, _, info = self.fresh()
            src = A2 + '/builds/linux-amd64/source'
            L2 = 'buckets/base/iterations/base-2026-02 channel=- status=undetermined\n'
            L1 = 'buckets/base/iterations/base-2026-01 channel=- status=undetermined\n'
            for _ in range(5):
                m.write(src, info['base_ami_1'] + '\n')
                self.step(m, [], {A2 + '/parents': ['base@base-2026-01', 'base@base-2026-02'],
                                  A2 + '/parent': L2 + L1, src: info['base_ami_1'] + '\n'},
                          lambda: m.sh(': > ' + src),
                          {A2 + '/parents': ['base@base-2026-02'], A2 + '/parent': L2,
                           src: ''})
        self.undisturbed(attempt)

    # Regression (was stale): removing a parent link deletes the link row whose id names both
    # parents/PARENT and the parent's children/CHILD (NK_PARENT_LINK,
    # NK_CHILD_LINK), but no change kind ever drops those inodes
    # (fs/inval.c has them in no list): children/CHILD keeps resolving
    # (lstat, readlink) through the mount that removed the link, and both
    # names through every other mount, though the listings are right.
    def test_removed_parent_link_leaves_no_name_behind(self):
        def attempt():
            m, m2, _ = self.fresh()
            plink = A2 + '/parents/base@base-2026-02'
            clink = P2 + '/children/app@app-2'
            self.step(m, [m2], {plink: link('..', '..', '..', '..', '..', P2),
                                clink: link('..', '..', '..', '..', '..', A2)},
                      lambda: os.remove(m.path(plink)),
                      {plink: None, clink: None})
        self.undisturbed(attempt)

    # Regression (was stale): a read-only mount never processes due revocations (src/store/
    # db.c, lin_reg_tick returns at once for LIN_OPEN_RDONLY), so when no
    # read-write mount runs nothing feeds the change and the kernel keeps
    # `status` and channels/latest as they were before the revocation's
    # time: "status is right at every moment regardless" (SPEC §5.4) does
    # not hold on a consumer host's ro mount.
    def test_read_only_mount_alone_sees_a_scheduled_revocation_take_effect(self):
        n = iter(range(10))

        def attempt():
            reg = os.path.join(self.m.tmp, 'alone-%d.db' % next(n))
            w = self.mount(registry=reg)
            lt.populate(w)
            w.close()
            self.m.ctl('revoke', reg, P2, 'in=2s', REASON)
            r = self.mount(['ro'], registry=reg)
            self.warm([r], {P2 + '/status': 'scheduled\n', A2 + '/status': 'scheduled\n',
                            B + 'channels/latest': link('..', 'iterations', 'base-2026-02')})
            due = lt.parse_time(dict(l.split('=', 1) for l in r.lines(P2 + '/revoke'))['at'])
            time.sleep(max(0.0, due + 0.2 - time.time()))
            self.now(r, {P2 + '/status': 'revoked\n', A2 + '/status': 'revoked\n',
                         B + 'channels/latest': link('..', 'iterations', 'base-2026-01')},
                     'through a read-only mount, 0.2 s after the revocation time')
        self.undisturbed(attempt)

    # Regression (was stale): a change feed longer than one batch of the
    # mount's reader (FEED_BATCH changes; this cascade of 44k descendants
    # feeds 82k) could not be read: lin_changes_since (src/store/change.c)
    # took the end of a full batch for an error, the mount never advanced
    # past it, and every later change, by lineagectl or by another mount,
    # stayed unseen until the feed was pruned, 200k changes later.
    def test_a_feed_longer_than_a_batch(self):
        FEED_BATCH = 65536      # fs/inval.c, BATCH
        n = iter(range(10))
        root = it_path('ubuntu-base', '23201a1638cf4f10')

        def fed(reg):
            with contextlib.closing(sqlite3.connect(reg)) as c:
                return c.execute('SELECT max(seq) FROM changes').fetchone()[0]

        def attempt():
            reg = os.path.join(self.m.tmp, 'big-%d.db' % next(n))
            self.m.ctl('gen', reg, '--buckets', '26000', '--iterations', '3',
                       '--builds', '1', '--regions', '1', '--depth', '3',
                       '--fanout', '200', '--channels', '1', '--seed', '1')
            m = self.mount(registry=reg)
            m2 = self.mount(share=m)
            d = m.lines(root + '/descendants')[-1]
            head = fed(reg)
            self.step(m, [m2], {root + '/status': 'active\n', d + '/status': 'active\n'},
                      lambda: m.write(root + '/revoke', REASON + '\n'),
                      {root + '/status': 'revoked\n', d + '/status': 'revoked\n'})
            self.assertGreater(fed(reg) - head, FEED_BATCH,
                               'the cascade fed more changes than one batch of a mount')
            # after it, a change by lineagectl, then one by the other mount
            later = 'buckets/zz-after-the-cascade/description'
            self.step(None, [m, m2], {later: None},
                      lambda: self.m.ctl('mkbucket', reg, 'zz-after-the-cascade'),
                      {later: ''})
            desc = 'buckets/ubuntu-base/description'
            old = m.text(desc)
            self.step(m2, [m], {desc: old},
                      lambda: m2.write(desc, 'after the cascade\n'),
                      {desc: 'after the cascade\n'})
        self.undisturbed(attempt)


if __name__ == '__main__':
    lt.main()
