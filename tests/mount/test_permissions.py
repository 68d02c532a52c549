#!/usr/bin/env python3
# test_permissions.py — mount tests for ownership and permissions (SPEC §10),
# with a second real user: nobody:nogroup, through setpriv, on a mount
# started with -o allow_other.  Buckets have an owner, a group and a mode,
# set with chown/chmod on their directory, kept in the registry and applied
# to everything inside; buckets/ may be made 1777 so that anyone can create
# buckets of their own; a path written into a control file is resolved with
# the writer's permissions; and revoking one's own image reaches descendants
# in other people's buckets.  Refusals made by the kernel's permission check
# never reach the daemon, so only the daemon's own EACCES (a path in a
# control write) is looked for in `errors`.

import errno
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

MANIFESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data',
                         'manifests')
NOBODY = lt.NOBODY_UID
NOGROUP = lt.NOBODY_GID

# Run by python3 as nobody in the mount root: a list of operations as JSON
# on stdin, one result each on stdout ({"ok": ...} or {"errno": "EACCES"}).
AS_OTHER = r'''
import errno, json, os, sys
os.umask(0o022)
def write(p, data):
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        n = os.write(fd, data.encode())
    finally:
        os.close(fd)
    return n
def read(p):
    with open(p, 'rb') as f:
        return f.read().decode('utf-8', 'replace')
def stat(p):
    st = os.lstat(p)
    return [st.st_uid, st.st_gid, st.st_mode]
def truncate(p):
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
ops = {'write': write, 'read': read, 'stat': stat, 'truncate': truncate,
       'mkdir': os.mkdir, 'rmdir': os.rmdir, 'unlink': os.unlink,
       'symlink': os.symlink, 'rename': os.rename, 'readlink': os.readlink,
       'listdir': lambda p: sorted(os.listdir(p)), 'chmod': os.chmod,
       'chown': os.chown}
out = []
for op in json.load(sys.stdin):
    try:
        out.append({'ok': ops[op[0]](*op[1:])})
    except OSError as e:
        out.append({'errno': errno.errorcode.get(e.errno, str(e.errno))})
print(json.dumps(out))
'''


def manifest(name):
    with open(os.path.join(MANIFESTS, name)) as f:
        return f.read()


def as_nobody(m, *ops):
    """Run ops (lists: name, args...) as nobody:nogroup in m's root; their
    results, in order."""
    setpriv = lt.require_tool('setpriv')
    r = subprocess.run([setpriv, '--reuid=nobody', '--regid=nogroup', '--clear-groups',
                        sys.executable, '-c', AS_OTHER], cwd=m.mnt, input=json.dumps(ops),
                       capture_output=True, text=True, timeout=lt.CMD_TIMEOUT)
    if r.returncode != 0:
        raise AssertionError('running as nobody failed: ' + r.stderr)
    return json.loads(r.stdout)


def one(m, *op):
    return as_nobody(m, list(op))[0]


class PermissionTestCase(MountTestCase):

    mount_options = ('allow_other',)

    def assertNobodyRefused(self, err, *op, logged=False):
        """nobody's op fails with exactly err and changes nothing (and,
        when logged, leaves a line with nobody's uid and err in errors)."""
        m = self.m
        before = m.export()
        errs = m.errors_lines()
        res = one(m, *op)
        self.assertEqual(res, {'errno': lt.errname(err)}, 'nobody: %r' % (op,))
        self.assertExportEqual(before, m.export(), 'nobody: %r' % (op,))
        if logged:
            added = lt.new_lines(errs, m.errors_lines())
            self.assertTrue(any('uid=%d ' % NOBODY in l and 'errno=%s ' % lt.errname(err) in l
                                for l in added),
                            'nobody: %r: no errors line for uid %d with %s: %r'
                            % (op, NOBODY, lt.errname(err), added))

    def assertNobodyMay(self, *op):
        res = one(self.m, *op)
        self.assertIn('ok', res, 'nobody: %r refused: %r' % (op, res))
        return res['ok']

    def bucket_row(self, name, m=None):
        for b in (m or self.m).export()['buckets']:
            if b['name'] == name:
                return b
        self.fail('bucket %s is not in the export' % name)

    def open_buckets(self):
        os.chmod(self.m.path('buckets'), 0o1777)


class BucketsDirectory(PermissionTestCase):

    def test_nobody_may_not_create_buckets_in_a_0755_buckets_dir(self):
        st = os.stat(self.m.path('buckets'))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777), (0, 0, 0o755))
        self.assertNobodyRefused(errno.EACCES, 'mkdir', 'buckets/mine')
        self.assertEqual(self.m.listdir('buckets'), [])

    def test_chmod_1777_lets_nobody_create_a_bucket_owned_by_nobody(self):
        m = self.m
        self.open_buckets()
        self.assertEqual(os.stat(m.path('buckets')).st_mode & 0o7777, 0o1777)
        self.assertNobodyMay('mkdir', 'buckets/mine')
        uid, gid, mode = self.assertNobodyMay('stat', 'buckets/mine')
        self.assertEqual((uid, gid, mode & 0o7777), (NOBODY, NOGROUP, 0o755))
        row = self.bucket_row('mine')
        self.assertEqual((row['uid'], row['gid'], row['mode']), (NOBODY, NOGROUP, 0o755))
        # and everything a bucket owner does, inside it
        it = it_path('mine', 'n1')
        ext = lt.unique_extid()
        for op in (['write', 'buckets/mine/description', 'mine, all mine\n'],
                   ['write', 'buckets/mine/labels/team', 'nobodies\n'],
                   ['mkdir', it], ['mkdir', it + '/builds/b1'],
                   ['write', it + '/builds/b1/platform', 'aws\n'],
                   ['write', it + '/builds/b1/artifacts/us-east-1', ext + '\n'],
                   ['write', it + '/complete', '1\n'],
                   ['symlink', '../iterations/n1', 'buckets/mine/channels/prod']):
            self.assertNobodyMay(*op)
        self.assertEqual(m.status('mine', 'n1'), 'active')
        self.assertEqual(m.channel('mine', 'prod'), 'n1')
        st = os.stat(m.path(it + '/builds/b1/artifacts/us-east-1'))
        self.assertEqual((st.st_uid, st.st_gid), (NOBODY, NOGROUP))
        mine = [e for _, e in m.events() if e.get('bucket') == 'mine']
        self.assertTrue(mine)
        self.assertEqual({e.get('by') for e in mine}, {'nobody'})

    def test_sticky_buckets_dir_keeps_others_from_deleting_roots_bucket(self):
        m = self.m
        m.mkbucket('roots')
        self.open_buckets()
        self.assertNobodyRefused(errno.EPERM, 'rmdir', 'buckets/roots')
        self.assertEqual(m.listdir('buckets'), ['roots'])

    def test_buckets_dir_mode_survives_a_remount(self):
        self.open_buckets()
        self.assertEqual(self.m.unmount(), [])
        m2 = self.mount(['allow_other'], share=self.m)
        self.assertEqual(os.stat(m2.path('buckets')).st_mode & 0o7777, 0o1777)
        self.m = m2
        self.assertNobodyMay('mkdir', 'buckets/later')

    def test_nobody_may_not_chmod_buckets_dir(self):
        self.assertNobodyRefused(errno.EPERM, 'chmod', 'buckets', 0o1777)
        self.assertEqual(os.stat(self.m.path('buckets')).st_mode & 0o7777, 0o755)


class Ownership(PermissionTestCase):

    def setUp(self):
        super().setUp()
        lt.populate(self.m)

    def modes_inside(self, m, bucket):
        """(uid, gid, mode) of a sample of everything inside a bucket."""
        out = {}
        fp = m.listdir('buckets/%s/iterations' % bucket)[0]
        it = it_path(bucket, fp)
        build = m.listdir(it + '/builds')[0]
        for rel in ['buckets/' + bucket, 'buckets/%s/description' % bucket,
                    'buckets/%s/created' % bucket, 'buckets/%s/import' % bucket,
                    'buckets/%s/iterations' % bucket, it, it + '/status', it + '/revoke',
                    it + '/restore', it + '/builds', it + '/builds/' + build,
                    it + '/builds/%s/platform' % build]:
            st = os.lstat(m.path(rel))
            out[rel] = (st.st_uid, st.st_gid, st.st_mode & 0o7777)
        return out

    def test_chown_and_chmod_are_kept_in_the_registry_and_applied_inside(self):
        m = self.m
        os.chown(m.path('buckets/app'), NOBODY, NOGROUP)
        os.chmod(m.path('buckets/app'), 0o750)
        row = self.bucket_row('app')
        self.assertEqual((row['uid'], row['gid'], row['mode']), (NOBODY, NOGROUP, 0o750))
        seen = self.modes_inside(m, 'app')
        for rel, (uid, gid, mode) in seen.items():
            self.assertEqual((uid, gid), (NOBODY, NOGROUP), rel)
        self.assertEqual(seen['buckets/app'][2], 0o750)
        self.assertEqual(seen['buckets/app/iterations'][2], 0o750)
        self.assertEqual(seen['buckets/app/description'][2], 0o640, 'rw: owner writes')
        self.assertEqual(seen['buckets/app/created'][2], 0o440, 'ro')
        it = [r for r in seen if r.endswith('/status')][0]
        self.assertEqual(seen[it][2], 0o440)
        self.assertEqual(seen[it[:-len('status')] + 'revoke'][2], 0o640)
        self.assertEqual(seen[it[:-len('status')] + 'restore'][2], 0o200, 'wo')
        # the other buckets keep theirs
        st = os.stat(m.path('buckets/base/description'))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777), (0, 0, 0o644))
        # kept in the registry: the same after a remount
        self.assertEqual(m.unmount(), [])
        m2 = self.mount(['allow_other'], share=m)
        self.assertEqual(self.modes_inside(m2, 'app'), seen)
        row = self.bucket_row('app', m2)
        self.assertEqual((row['uid'], row['gid'], row['mode']), (NOBODY, NOGROUP, 0o750))

    def test_the_new_owner_may_write_and_the_old_one_is_still_root(self):
        m = self.m
        self.assertNobodyRefused(errno.EACCES, 'write', 'buckets/app/description', 'mine\n')
        os.chown(m.path('buckets/app'), NOBODY, NOGROUP)
        self.assertNobodyMay('write', 'buckets/app/description', 'now mine\n')
        self.assertValueFile(m, 'buckets/app/description', 'now mine')
        self.assertNobodyMay('mkdir', 'buckets/app/iterations/by-nobody')
        self.assertEqual(os.stat(m.path(it_path('app', 'by-nobody'))).st_uid, NOBODY)

    def test_chown_by_the_owner_of_a_bucket_gives_it_away_only_as_root(self):
        m = self.m
        os.chown(m.path('buckets/app'), NOBODY, NOGROUP)
        # chown to someone else is root's: the kernel refuses the owner too
        self.assertNobodyRefused(errno.EPERM, 'chown', 'buckets/app', 0, 0)
        # but the owner may chmod
        self.assertNobodyMay('chmod', 'buckets/app', 0o700)
        self.assertEqual(self.bucket_row('app')['mode'], 0o700)
        # and nobody may not chmod root's bucket
        self.assertNobodyRefused(errno.EPERM, 'chmod', 'buckets/base', 0o777)
        self.assertNobodyRefused(errno.EPERM, 'chown', 'buckets/base', NOBODY, NOGROUP)

    def test_chmod_and_chown_are_recorded_as_events(self):
        m = self.m
        n = len(m.events())
        os.chown(m.path('buckets/app'), NOBODY, NOGROUP)
        os.chmod(m.path('buckets/app'), 0o700)
        actions = [e['action'] for _, e in m.events()[n:] if e.get('bucket') == 'app']
        self.assertIn('chown', actions)
        self.assertIn('chmod', actions)


class Reading(PermissionTestCase):

    def setUp(self):
        super().setUp()
        lt.populate(self.m)
        self.done = it_path('base', 'base-2026-01')

    def reads(self):
        d = self.done
        return [['listdir', 'buckets/base'], ['read', 'buckets/base/description'],
                ['read', 'buckets/base/labels/team'], ['listdir', 'buckets/base/iterations'],
                ['read', d + '/status'], ['read', d + '/revoke'], ['read', d + '/parent'],
                ['read', d + '/builds/linux-amd64/artifacts/us-east-1'],
                ['readlink', 'buckets/base/channels/production'],
                ['read', 'buckets/base/channels/production/version']]

    def test_0755_bucket_is_readable_by_others(self):
        res = as_nobody(self.m, *self.reads())
        for op, r in zip(self.reads(), res):
            self.assertIn('ok', r, 'nobody: %r: %r' % (op, r))
        self.assertEqual(res[1]['ok'], 'Golden base image\nmaintained by the platform team\n')
        self.assertEqual(res[4]['ok'], 'active\n')
        self.assertEqual(res[8]['ok'], '../iterations/base-2026-01')

    def test_0700_bucket_is_closed_to_others(self):
        m = self.m
        os.chmod(m.path('buckets/base'), 0o700)
        for op, r in zip(self.reads(), as_nobody(m, *self.reads())):
            self.assertEqual(r, {'errno': 'EACCES'}, 'nobody: %r' % (op,))
        # by-id and artifacts/ lead into it, and stop at its door
        u = m.ulid('base', 'base-2026-01')
        self.assertEqual(one(m, 'read', 'by-id/%s/status' % u), {'errno': 'EACCES'})
        # root reads on
        self.assertEqual(m.status('base', 'base-2026-01'), 'active')
        # and the other buckets stay open
        self.assertNobodyMay('read', 'buckets/app/description')

    def test_group_may_read_a_0750_bucket_and_others_may_not(self):
        m = self.m
        os.chown(m.path('buckets/base'), 0, NOGROUP)
        os.chmod(m.path('buckets/base'), 0o750)
        res = as_nobody(m, *self.reads())
        for op, r in zip(self.reads(), res):
            self.assertIn('ok', r, 'nobody in nogroup: %r: %r' % (op, r))
        # group members read but do not write (files are the owner's)
        self.assertNobodyRefused(errno.EACCES, 'write', 'buckets/base/description', 'x\n')
        os.chmod(m.path('buckets/base'), 0o705)
        self.assertEqual(one(m, 'read', 'buckets/base/description'), {'errno': 'EACCES'})


class Revoking(PermissionTestCase):
    """Taking access away works at once, whatever the kernel cached while
    it was allowed, in this mount and in another mount of the registry."""

    def setUp(self):
        super().setUp()
        lt.populate(self.m)
        self.reads = [['read', 'buckets/base/description'],
                      ['listdir', 'buckets/base/iterations'],
                      ['read', it_path('base', 'base-2026-01') + '/status'],
                      ['readlink', 'buckets/base/channels/production']]

    def assertClosed(self, m, limit=1.0 * lt.TIME_SCALE):
        ok, waited = lt.wait_until(lambda: all(r == {'errno': 'EACCES'} for r in
                                               as_nobody(m, *self.reads)), limit, 0.05)
        self.assertTrue(ok, 'nobody still reads %s after %.1f s: %r'
                        % (m.mnt, waited, as_nobody(m, *self.reads)))

    def test_chmod_0700_closes_a_bucket_nobody_was_reading(self):
        m = self.m
        m2 = self.mount(['allow_other'], share=m)
        for mm in (m, m2):
            for op, r in zip(self.reads, as_nobody(mm, *self.reads)):
                self.assertIn('ok', r, 'before: %r' % (op,))
        os.chmod(m.path('buckets/base'), 0o700)
        self.assertClosed(m)
        self.assertClosed(m2)

    def test_chown_back_takes_the_right_to_write_away(self):
        m = self.m
        m2 = self.mount(['allow_other'], share=m)
        os.chown(m.path('buckets/app'), NOBODY, NOGROUP)
        self.assertEqual(one(m2, 'write', 'buckets/app/description', 'mine\n'), {'ok': 5})
        os.chown(m.path('buckets/app'), 0, 0)
        ok, _ = lt.wait_until(lambda: one(m2, 'write', 'buckets/app/description',
                                          'still mine?\n') == {'errno': 'EACCES'}, 1.0, 0.05)
        self.assertTrue(ok, 'nobody still writes to a bucket given back to root')
        self.assertValueFile(m, 'buckets/app/description', 'mine')


class Changes(PermissionTestCase):
    """nobody changes nothing in root's 0755 buckets."""

    def setUp(self):
        super().setUp()
        lt.populate(self.m)

    def test_every_change_in_roots_bucket_is_eacces(self):
        run = it_path('app', 'app-2')
        done = it_path('base', 'base-2026-01')
        done2 = it_path('base', 'base-2026-02')
        ops = [
            ['write', 'buckets/base/description', 'defaced\n'],
            ['truncate', 'buckets/base/description'],
            ['write', 'buckets/base/labels/team', 'nobodies\n'],
            ['write', 'buckets/base/labels/new', 'x\n'],
            ['unlink', 'buckets/base/labels/team'],
            ['write', run + '/complete', '1\n'],
            ['write', run + '/parent', done2 + '\n'],
            ['unlink', run + '/parents/base@base-2026-02'],
            ['write', run + '/builds/linux-amd64/platform', 'gce\n'],
            ['write', run + '/builds/linux-amd64/artifacts/us-east-1', 'ami-0bad\n'],
            ['mkdir', run + '/builds/evil'],
            ['rmdir', run + '/builds/linux-amd64'],
            ['rmdir', run],
            ['write', done + '/revoke', 'nobody says so\n'],
            ['write', done + '/restore', 'x\n'],
            ['write', 'buckets/base/import', manifest('docker.json')],
            ['mkdir', 'buckets/base/iterations/evil'],
            ['symlink', '../iterations/base-2026-02', 'buckets/base/channels/evil'],
            ['unlink', 'buckets/base/channels/production'],
            ['rename', 'buckets/base/channels/production', 'buckets/base/channels/prod2'],
            ['rmdir', 'buckets/empty'],
            ['mkdir', 'buckets/evil'],
        ]
        for op in ops:
            self.assertNobodyRefused(errno.EACCES, *op)
        self.assertEqual(self.m.status('base', 'base-2026-01'), 'active')
        self.assertEqual(self.m.channel('base', 'production'), 'base-2026-01')

    def test_shell_users_see_permission_denied(self):
        r = self.m.sh('echo compromised > buckets/base/iterations/base-2026-01/revoke',
                      check=False, shell='bash', user='nobody')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Permission denied', r.stderr)
        self.assertEqual(self.m.status('base', 'base-2026-01'), 'active')


class WritersPermissions(PermissionTestCase):
    """A path in a control file is resolved with the writer's permissions."""

    def setUp(self):
        super().setUp()
        m = self.m
        m.complete_iteration('secret', 's1')
        m.assign('secret', 'prod', 's1')
        os.chmod(m.path('buckets/secret'), 0o700)
        self.open_buckets()
        self.assertNobodyMay('mkdir', 'buckets/mine')
        self.assertNobodyMay('mkdir', it_path('mine', 'n1'))
        self.child = it_path('mine', 'n1')

    def test_parent_in_a_0700_bucket_of_root_is_eacces(self):
        m = self.m
        u = m.ulid('secret', 's1')
        for path in ('buckets/secret/iterations/s1', 'secret/iterations/s1',
                     m.path('buckets/secret/iterations/s1'), 'buckets/secret/versions/v1',
                     'buckets/secret/channels/prod', 'buckets/secret/channels/latest',
                     'by-id/' + u):
            self.assertNobodyRefused(errno.EACCES, 'write', self.child + '/parent',
                                     path + '\n', logged=True)
        self.assertEqual(m.value(self.child + '/parent'), '')
        self.assertEqual(m.value(self.child + '/ancestry'), 'none')

    def test_the_same_parent_is_accepted_once_the_bucket_is_open(self):
        m = self.m
        self.assertNobodyRefused(errno.EACCES, 'write', self.child + '/parent',
                                 'buckets/secret/iterations/s1\n', logged=True)
        os.chmod(m.path('buckets/secret'), 0o755)
        self.assertNobodyMay('write', self.child + '/parent', 'buckets/secret/iterations/s1\n')
        self.assertEqual(m.lines(self.child + '/ancestors'), [it_path('secret', 's1')])

    def test_manifest_naming_a_parent_in_a_0700_bucket_is_eacces(self):
        doc = json.loads(manifest('docker.json'))
        for b in doc['builds']:
            b['custom_data'] = dict(b.get('custom_data') or {}, fingerprint='imp-1',
                                    parent='buckets/secret/iterations/s1')
        self.assertNobodyRefused(errno.EACCES, 'write', 'buckets/mine/import',
                                 json.dumps(doc), logged=True)
        self.assertEqual(self.m.listdir('buckets/mine/iterations'), ['n1'])

    def test_nobody_may_not_name_roots_private_iteration_by_guessing(self):
        # a name that does not exist and one that does look the same
        r1 = one(self.m, 'write', self.child + '/parent', 'buckets/secret/iterations/s1\n')
        r2 = one(self.m, 'write', self.child + '/parent', 'buckets/secret/iterations/s9\n')
        self.assertEqual(r1, {'errno': 'EACCES'})
        self.assertEqual(r2, {'errno': 'EACCES'}, 'a 0700 bucket tells nobody which of its '
                         'iterations exist')


class Cascade(PermissionTestCase):
    """Revoking one's own image reaches descendants in others' buckets."""

    def test_nobodys_revocation_cascades_into_roots_bucket(self):
        m = self.m
        self.open_buckets()
        nb = it_path('nbase', 'nb1')
        ext = lt.unique_extid()
        for op in (['mkdir', 'buckets/nbase'], ['mkdir', nb], ['mkdir', nb + '/builds/b'],
                   ['write', nb + '/builds/b/artifacts/us-east-1', ext + '\n'],
                   ['write', nb + '/complete', '1\n']):
            self.assertNobodyMay(*op)
        # root builds on nobody's image, in root's own bucket, and ships it
        m.complete_iteration('rapp', 'r1', parents=[nb])
        m.complete_iteration('rapp', 'r2', parents=[it_path('rapp', 'r1')])
        m.assign('rapp', 'prod', 'r2')
        self.assertEqual(os.stat(m.path('buckets/rapp')).st_uid, 0)
        # nobody may not touch root's iterations...
        self.assertNobodyRefused(errno.EACCES, 'write', it_path('rapp', 'r1') + '/revoke',
                                 'mine\n')
        # ...but revoking nobody's own image reaches them
        self.assertNobodyMay('write', nb + '/revoke', 'CVE-2026-4242: nobody\'s base\n')
        for fp in ('r1', 'r2'):
            self.assertEqual(m.status('rapp', fp), 'revoked', fp)
            rec = dict(m.record('rapp', fp))
            self.assertEqual(rec.get('type'), 'inherited', fp)
            self.assertEqual(rec.get('inherited-from'), nb, fp)
        self.assertEqual(dict(m.record('nbase', 'nb1')).get('by'), 'nobody')
        self.assertIsNone(m.channel('rapp', 'prod'), 'rollback removed the channel')
        inherited = [e for _, e in m.events() if e.get('action') == 'revoke' and
                     e.get('bucket') == 'rapp']
        self.assertEqual(sorted(e['iteration'] for e in inherited), ['r1', 'r2'])
        # root may not restore what is inherited; nobody restores the origin
        self.assertRefused(errno.EPERM, m.write, it_path('rapp', 'r2') + '/restore', 'x\n')
        self.assertNobodyMay('write', nb + '/restore', 'false alarm\n')
        for fp in ('r1', 'r2'):
            self.assertEqual(m.status('rapp', fp), 'active', fp)

    def test_nobody_may_not_restore_roots_revocation(self):
        m = self.m
        m.complete_iteration('rbase', 'x1')
        m.write(it_path('rbase', 'x1') + '/revoke', 'root says so\n')
        self.assertNobodyRefused(errno.EACCES, 'write', it_path('rbase', 'x1') + '/restore',
                                 'nobody disagrees\n')
        self.assertEqual(m.status('rbase', 'x1'), 'revoked')


if __name__ == '__main__':
    lt.main()
