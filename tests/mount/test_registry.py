#!/usr/bin/env python3
# test_registry.py — mount tests for "A mountable registry": the tree of
# SPEC.md §2 (buckets, iterations, builds, artifacts, versions, channels,
# by-id, artifacts/, events, errors), the name and value rules of §3, the
# channels of §4, completion (§5.2), the errors of §9 and the program
# options of §1 (ro, several mounts of one registry, mount.fuse3).  Every
# refusal is checked for its exact errno and for an unchanged registry.

import errno
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

ITERATION_FILES = {'id', 'version', 'created', 'complete', 'status', 'ancestry',
                   'parent', 'ancestors', 'descendants', 'tree', 'channels',
                   'revoke', 'restore'}
ITERATION_DIRS = {'parents', 'children', 'builds'}


class Root(MountTestCase):

    def test_root_holds_buckets_by_id_artifacts_events_errors_graph(self):
        names = set(self.m.listdir())
        self.assertLessEqual({'buckets', 'by-id', 'artifacts', 'events', 'errors',
                              'graph.dot'}, names)
        for d in ('buckets', 'by-id', 'artifacts'):
            self.assertTrue(os.path.isdir(self.m.path(d)), d + ' is a directory')
        for f in ('events', 'errors', 'graph.dot'):
            self.assertTrue(os.path.isfile(self.m.path(f)), f + ' is a file')

    def test_missing_registry_is_created_empty(self):
        with open(self.m.registry, 'rb') as f:
            self.assertEqual(f.read(16), b'SQLite format 3\0',
                             'the registry file is a SQLite database')
        self.assertEqual(self.m.listdir('buckets'), [])
        self.assertEqual(self.m.listdir('by-id'), [])
        self.assertEqual(self.m.listdir('artifacts'), [])
        self.assertEqual(self.m.read('errors'), b'')

    def test_registry_survives_remount(self):
        self.m.complete_iteration('base', 'fp1')
        ulid = self.m.ulid('base', 'fp1')
        self.assertEqual(self.m.unmount(), [])
        m2 = self.mount(share=self.m)
        self.assertEqual(m2.ulid('base', 'fp1'), ulid)
        self.assertEqual(m2.value(it_path('base', 'fp1') + '/version'), 'v1')


class Options(MountTestCase):

    def mount_options_of(self, m):
        with open('/proc/self/mounts') as f:
            for l in f:
                parts = l.split()
                if parts[1] == m.mnt:
                    return parts[2], parts[3].split(',')
        self.fail('%s is not in /proc/self/mounts' % m.mnt)

    def test_default_permissions_is_always_on(self):
        fstype, opts = self.mount_options_of(self.m)
        self.assertTrue(fstype.startswith('fuse'), fstype)
        self.assertIn('default_permissions', opts)

    def test_without_allow_other_other_users_are_kept_out(self):
        r = self.m.sh('ls buckets', user='nobody', check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Permission denied', r.stderr)


class AllowOther(MountTestCase):

    mount_options = ('allow_other',)

    def test_other_users_may_read_but_are_held_to_file_permissions(self):
        m = self.m
        m.mkbucket('base', 'root owns this')
        r = m.sh('ls buckets; cat buckets/base/description', user='nobody')
        self.assertEqual(r.stdout, 'base\nroot owns this\n')
        self.assertShRefused('echo mine > buckets/base/description', 'Permission denied',
                             user='nobody')
        self.assertShRefused('mkdir buckets/nobodys', 'Permission denied', user='nobody')
        self.assertValueFile(m, 'buckets/base/description', 'root owns this')


class Buckets(MountTestCase):

    def test_mkdir_creates_bucket_with_its_files(self):
        self.m.sh('mkdir buckets/base')
        self.assertEqual(self.m.listdir('buckets'), ['base'])
        names = set(self.m.listdir('buckets/base'))
        self.assertLessEqual({'description', 'labels', 'created', 'import',
                              'iterations', 'versions', 'channels'}, names)
        for d in ('labels', 'iterations', 'versions', 'channels'):
            self.assertTrue(os.path.isdir(self.m.path('buckets/base/' + d)), d)
            self.assertEqual(self.m.listdir('buckets/base/' + d), [], d + ' starts empty')
        for f in ('description', 'created', 'import'):
            self.assertTrue(os.path.isfile(self.m.path('buckets/base/' + f)), f)
        self.assertValueFile(self.m, 'buckets/base/description', '')

    def test_bucket_created_is_rfc3339_utc_now(self):
        t0 = time.time()
        self.m.mkbucket('base')
        self.assertTimeNear(self.m.value('buckets/base/created'), t0, 5, 'created')
        self.assertValueFile(self.m, 'buckets/base/created',
                             self.m.value('buckets/base/created'))

    def test_bucket_belongs_to_creator_with_mode_0755(self):
        self.m.mkbucket('base')
        st = os.stat(self.m.path('buckets/base'))
        self.assertEqual((st.st_uid, st.st_gid), (0, 0))
        self.assertEqual(st.st_mode & 0o7777, 0o755)

    def test_description_roundtrip_multiline_and_clear(self):
        self.m.mkbucket('base')
        d = 'buckets/base/description'
        self.m.sh('echo "Golden base image" > ' + d)
        self.assertValueFile(self.m, d, 'Golden base image')
        self.m.write(d, 'line one\nline two\n')
        self.assertValueFile(self.m, d, 'line one\nline two')
        self.m.sh(': > ' + d)
        self.assertValueFile(self.m, d, '')

    def test_a_value_written_one_line_per_write_is_set_whole(self):
        self.m.mkbucket('base')
        d = self.m.path('buckets/base/description')
        fd = os.open(d, os.O_WRONLY | os.O_TRUNC)
        try:
            self.assertEqual(os.write(fd, b'one\n'), 4)
            self.assertEqual(os.write(fd, b'two\n'), 4)
        finally:
            os.close(fd)
        self.assertValueFile(self.m, 'buckets/base/description', 'one\ntwo')
        # A write that does not go on where the last one ended is refused.
        fd = os.open(d, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, b'first\n')
            with self.assertRaises(OSError) as cm:
                os.pwrite(fd, b'gap\n', 100)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        finally:
            os.close(fd)
        self.assertValueFile(self.m, 'buckets/base/description', 'first')

    def test_description_4096_bytes_ok_4097_efbig(self):
        self.m.mkbucket('base')
        d = 'buckets/base/description'
        self.m.write(d, 'x' * 4096 + '\n')
        self.assertValueFile(self.m, d, 'x' * 4096)
        self.assertRefused(errno.EFBIG, self.m.write, d, 'y' * 4097 + '\n')
        self.assertValueFile(self.m, d, 'x' * 4096)

    def test_labels_create_write_list_rm(self):
        self.m.mkbucket('base')
        self.m.sh('echo platform > buckets/base/labels/team')
        self.assertEqual(self.m.listdir('buckets/base/labels'), ['team'])
        self.assertValueFile(self.m, 'buckets/base/labels/team', 'platform')
        self.m.write('buckets/base/labels/team', 'security\n')
        self.assertValueFile(self.m, 'buckets/base/labels/team', 'security')
        self.m.write('buckets/base/labels/cost-center', '42\n')
        self.assertEqual(self.m.listdir('buckets/base/labels'), ['cost-center', 'team'])
        self.m.sh('rm buckets/base/labels/team')
        self.assertEqual(self.m.listdir('buckets/base/labels'), ['cost-center'])
        self.assertFalse(self.m.exists('buckets/base/labels/team'))

    def test_bad_label_keys_are_einval(self):
        self.m.mkbucket('base')
        for key in ('.hidden', 'a b', 'a@b', 'k\u00e9y', 'x' * 129):
            self.assertRefused(errno.EINVAL, self.m.write,
                               'buckets/base/labels/' + key, 'v\n')
        self.m.write('buckets/base/labels/' + 'k' * 128, 'v\n')
        self.m.write('buckets/base/labels/_under.score-9', 'v\n')
        self.assertEqual(len(self.m.listdir('buckets/base/labels')), 2)

    def test_rmdir_empty_bucket_deletes_it(self):
        self.m.mkbucket('base')
        self.m.sh('rmdir buckets/base')
        self.assertEqual(self.m.listdir('buckets'), [])
        self.assertFalse(self.m.exists('buckets/base'))
        self.assertIn('bucket-delete', [e['action'] for _, e in self.m.events()])

    def test_rmdir_bucket_with_description_and_labels_but_no_iterations(self):
        self.m.mkbucket('base', 'described')
        self.m.write('buckets/base/labels/team', 'platform\n')
        os.rmdir(self.m.path('buckets/base'))
        self.assertEqual(self.m.listdir('buckets'), [])

    def test_rmdir_bucket_holding_iterations_is_enotempty(self):
        self.m.mkiter('base', 'fp1')
        self.assertRefused(errno.ENOTEMPTY, os.rmdir, self.m.path('buckets/base'))
        self.assertEqual(self.m.listdir('buckets'), ['base'])
        self.m.complete('base', 'fp1')
        self.assertRefused(errno.ENOTEMPTY, os.rmdir, self.m.path('buckets/base'))

    def test_mkdir_existing_bucket_is_eexist(self):
        self.m.mkbucket('base')
        self.assertRefused(errno.EEXIST, os.mkdir, self.m.path('buckets/base'),
                           logged=False)

    def test_bad_bucket_names_are_einval(self):
        for name in ('ab', 'x' * 37, 'a_b', 'a.b', 'a b', 'b\u00e4se', 'a@b', 'a:b'):
            self.assertRefused(errno.EINVAL, os.mkdir, self.m.path('buckets/' + name))
        self.assertEqual(self.m.listdir('buckets'), [])

    def test_bucket_name_past_255_bytes_is_enametoolong(self):
        self.assertRefused(errno.EINVAL, os.mkdir, self.m.path('buckets/' + 'a' * 255))
        self.assertRefused(errno.ENAMETOOLONG, os.mkdir,
                           self.m.path('buckets/' + 'a' * 256), logged=False)

    def test_bucket_names_of_3_and_36_characters_accepted(self):
        for name in ('abc', 'x' * 36, 'Base-1', '123'):
            os.mkdir(self.m.path('buckets/' + name))
        self.assertEqual(self.m.listdir('buckets'), sorted(['abc', 'x' * 36, 'Base-1', '123']))


class Iterations(MountTestCase):

    def test_mkdir_iteration_starts_running_v0(self):
        self.m.mkbucket('base')
        t0 = time.time()
        self.m.sh('mkdir buckets/base/iterations/fp1')
        p = it_path('base', 'fp1')
        self.assertEqual(self.m.listdir('buckets/base/iterations'), ['fp1'])
        names = set(self.m.listdir(p))
        self.assertLessEqual(ITERATION_FILES | ITERATION_DIRS, names)
        for d in ITERATION_DIRS:
            self.assertTrue(os.path.isdir(self.m.path(p + '/' + d)), d)
            self.assertEqual(self.m.listdir(p + '/' + d), [], d + ' starts empty')
        self.assertValueFile(self.m, p + '/status', 'running')
        self.assertValueFile(self.m, p + '/version', 'v0')
        self.assertValueFile(self.m, p + '/complete', '0')
        self.assertValueFile(self.m, p + '/ancestry', 'none')
        for f in ('parent', 'ancestors', 'descendants', 'channels', 'revoke', 'restore'):
            self.assertValueFile(self.m, p + '/' + f, '')
        self.assertTimeNear(self.m.value(p + '/created'), t0, 5, 'created')
        self.assertEqual(self.m.listdir('buckets/base/versions'), [])

    def test_id_is_a_ulid_of_its_creation_time_and_unique(self):
        t0 = time.time()
        self.m.mkiter('base', 'fp1')
        self.m.mkiter('base', 'fp2')
        self.m.mkiter('other', 'fp1')
        ids = [self.m.ulid('base', 'fp1'), self.m.ulid('base', 'fp2'),
               self.m.ulid('other', 'fp1')]
        for u in ids:
            self.assertRegex(u, lt.ULID_RE)
            self.assertLess(abs(lt.ulid_time(u) - t0), 60,
                            'the ULID %s does not carry the creation time' % u)
        self.assertEqual(len(set(ids)), 3, 'ids are unique in the registry')
        self.assertValueFile(self.m, it_path('base', 'fp1') + '/id', ids[0])

    def test_by_id_links_every_iteration(self):
        self.m.mkiter('base', 'fp1')
        self.m.complete_iteration('app', 'fp2')
        u1, u2 = self.m.ulid('base', 'fp1'), self.m.ulid('app', 'fp2')
        self.assertEqual(self.m.listdir('by-id'), sorted([u1, u2]))
        self.assertLinkTo(self.m, 'by-id/' + u1, '../buckets/base/iterations/fp1')
        self.assertLinkTo(self.m, 'by-id/' + u2, '../buckets/app/iterations/fp2')
        self.assertEqual(self.m.realpath('by-id/' + u2),
                         self.m.path('buckets/app/iterations/fp2'))
        self.assertEqual(self.m.value('by-id/%s/version' % u2), 'v1')

    def test_complete_gives_versions_in_completion_order(self):
        self.m.mkiter('base', 'first-made')
        self.m.mkiter('base', 'second-made')
        self.m.sh('echo 1 > buckets/base/iterations/second-made/complete')
        self.m.sh('echo 1 > buckets/base/iterations/first-made/complete')
        self.assertValueFile(self.m, it_path('base', 'second-made') + '/version', 'v1')
        self.assertValueFile(self.m, it_path('base', 'first-made') + '/version', 'v2')
        for fp in ('first-made', 'second-made'):
            self.assertValueFile(self.m, it_path('base', fp) + '/complete', '1')
            self.assertValueFile(self.m, it_path('base', fp) + '/status', 'active')

    def test_complete_adds_versions_link_and_moves_latest(self):
        self.m.complete_iteration('base', 'fp1')
        self.assertEqual(self.m.listdir('buckets/base/versions'), ['v1'])
        self.assertLinkTo(self.m, 'buckets/base/versions/v1', '../iterations/fp1')
        self.assertEqual(self.m.channel('base', 'latest'), 'fp1')
        self.m.complete_iteration('base', 'fp2')
        self.assertEqual(self.m.listdir('buckets/base/versions'), ['v1', 'v2'])
        self.assertLinkTo(self.m, 'buckets/base/versions/v2', '../iterations/fp2')
        self.assertEqual(self.m.channel('base', 'latest'), 'fp2')
        self.assertEqual(self.m.realpath('buckets/base/versions/v1'),
                         self.m.path(it_path('base', 'fp1')))

    def test_complete_without_builds_is_einval(self):
        self.m.mkiter('base', 'fp1', builds={})
        self.assertRefused(errno.EINVAL, self.m.write,
                           it_path('base', 'fp1') + '/complete', '1\n')
        self.assertValueFile(self.m, it_path('base', 'fp1') + '/status', 'running')

    def test_complete_with_build_without_artifacts_is_einval(self):
        self.m.mkiter('base', 'fp1', builds={'b1': ('aws', {})})
        self.assertRefused(errno.EINVAL, self.m.write,
                           it_path('base', 'fp1') + '/complete', '1\n')

    def test_complete_with_one_of_two_builds_lacking_artifacts_is_einval(self):
        self.m.mkiter('base', 'fp1', builds={'b1': ('aws', {'us-east-1': lt.unique_extid()}),
                                             'b2': ('gce', {})})
        self.assertRefused(errno.EINVAL, self.m.write,
                           it_path('base', 'fp1') + '/complete', '1\n')
        self.assertShRefused('echo 1 > %s/complete' % it_path('base', 'fp1'),
                             'Invalid argument')

    def test_writing_0_to_complete_is_eperm(self):
        self.m.complete_iteration('base', 'done')
        self.assertRefused(errno.EPERM, self.m.write, it_path('base', 'done') + '/complete', '0\n')
        self.assertValueFile(self.m, it_path('base', 'done') + '/complete', '1')
        self.m.mkiter('base', 'running')
        self.assertRefused(errno.EPERM, self.m.write,
                           it_path('base', 'running') + '/complete', '0\n')

    def test_writing_other_than_0_or_1_to_complete_is_einval(self):
        self.m.mkiter('base', 'fp1')
        for v in ('2\n', 'yes\n', '1 1\n'):
            self.assertRefused(errno.EINVAL, self.m.write, it_path('base', 'fp1') + '/complete', v)

    def test_complete_iteration_is_immutable(self):
        p = it_path('base', 'fp1')
        self.m.mkiter('base', 'fp1', builds={'b1': ('aws', {'us-east-1': lt.unique_extid()})})
        self.m.write(p + '/builds/b1/labels/os', 'ubuntu\n')
        self.m.mkiter('base', 'other')
        self.m.complete('base', 'fp1')
        b = p + '/builds/b1'
        m = self.m
        self.assertRefused(errno.EPERM, os.mkdir, m.path(p + '/builds/b2'))
        self.assertRefused(errno.EPERM, os.rmdir, m.path(b))
        self.assertRefused(errno.EPERM, m.write, b + '/platform', 'gce\n')
        self.assertRefused(errno.EPERM, m.write, b + '/source', lt.unique_extid() + '\n')
        self.assertRefused(errno.EPERM, m.write, b + '/artifacts/us-east-1', 'ami-0other\n')
        self.assertRefused(errno.EPERM, m.write, b + '/artifacts/eu-west-1', 'ami-0new\n')
        self.assertRefused(errno.EPERM, os.remove, m.path(b + '/artifacts/us-east-1'))
        self.assertRefused(errno.EPERM, m.write, b + '/labels/os', 'debian\n')
        self.assertRefused(errno.EPERM, m.write, b + '/labels/new', 'x\n')
        self.assertRefused(errno.EPERM, os.remove, m.path(b + '/labels/os'))
        self.assertRefused(errno.EPERM, m.write, p + '/parent', it_path('base', 'other') + '\n')
        self.assertValueFile(m, b + '/platform', 'aws')

    def test_bad_fingerprints_are_einval(self):
        self.m.mkbucket('base')
        for fp in ('.abc', 'abc.', '-abc', 'abc-', '_abc', 'abc_', 'a b', 'a@b',
                   'f\u00fc', 'x' * 41):
            self.assertRefused(errno.EINVAL, os.mkdir,
                               self.m.path('buckets/base/iterations/' + fp))
        self.assertEqual(self.m.listdir('buckets/base/iterations'), [])

    def test_fingerprint_past_255_bytes_is_enametoolong(self):
        self.m.mkbucket('base')
        self.assertRefused(errno.ENAMETOOLONG, os.mkdir,
                           self.m.path('buckets/base/iterations/' + 'f' * 300), logged=False)

    def test_good_fingerprints_accepted(self):
        self.m.mkbucket('base')
        good = ['a', '9', 'x' * 40, 'A.b_c-9', '01JD7XKQ4M2V3T5Y6Z8A9B0C1D']
        for fp in good:
            os.mkdir(self.m.path('buckets/base/iterations/' + fp))
        self.assertEqual(self.m.listdir('buckets/base/iterations'), sorted(good))

    def test_mkdir_existing_fingerprint_is_eexist(self):
        self.m.mkiter('base', 'fp1')
        self.assertRefused(errno.EEXIST, os.mkdir, self.m.path(it_path('base', 'fp1')),
                           logged=False)

    def test_same_fingerprint_in_two_buckets_is_two_iterations(self):
        self.m.mkiter('base', 'fp1')
        self.m.mkiter('app', 'fp1')
        self.assertNotEqual(self.m.ulid('base', 'fp1'), self.m.ulid('app', 'fp1'))

    def test_iteration_dir_mtime_is_creation_time_and_ls_t_newest_first(self):
        self.m.mkiter('base', 'oldest')
        time.sleep(1.1)
        self.m.mkiter('base', 'middle')
        time.sleep(1.1)
        self.m.mkiter('base', 'newest')
        # a later change to the oldest must not move it in `ls -t`
        self.m.complete('base', 'oldest')
        out = self.m.sh('ls -t buckets/base/iterations').stdout.split()
        self.assertEqual(out, ['newest', 'middle', 'oldest'])
        for fp in ('oldest', 'middle', 'newest'):
            created = lt.parse_time(self.m.value(it_path('base', fp) + '/created'))
            self.assertEqual(int(os.stat(self.m.path(it_path('base', fp))).st_mtime), created,
                             'mtime of iteration %s is its creation time' % fp)

    def test_value_file_mtime_follows_its_data(self):
        self.m.mkbucket('base')
        time.sleep(1.1)
        t0 = int(time.time())
        self.m.write('buckets/base/description', 'changed\n')
        mt = int(os.stat(self.m.path('buckets/base/description')).st_mtime)
        self.assertGreaterEqual(mt, t0)
        self.assertLessEqual(mt, int(time.time()) + 1)

    def test_read_only_files_refuse_writes_and_change_nothing(self):
        self.m.complete_iteration('base', 'fp1')
        p = it_path('base', 'fp1')
        for rel in [p + '/' + f for f in ('id', 'version', 'created', 'status', 'ancestry',
                                          'ancestors', 'descendants', 'tree', 'channels')] + \
                ['buckets/base/created', 'events', 'errors', 'graph.dot']:
            with self.assertUnchanged('writing ' + rel):
                with self.assertRaises(OSError, msg='writing ' + rel) as cm:
                    self.m.write(rel, 'x\n')
            self.assertIn(cm.exception.errno, (errno.EACCES, errno.EPERM),
                          'writing %s: %s' % (rel, cm.exception))

    def test_file_modes_follow_read_only_and_read_write(self):
        self.m.complete_iteration('base', 'fp1')
        p = it_path('base', 'fp1')
        for f in ('id', 'version', 'created', 'status', 'ancestry', 'ancestors',
                  'descendants', 'tree', 'channels'):
            mode = os.stat(self.m.path(p + '/' + f)).st_mode
            self.assertEqual(mode & 0o222, 0, '%s is read-only: mode %o' % (f, mode))
        for f in ('complete', 'parent', 'revoke', 'restore'):
            mode = os.stat(self.m.path(p + '/' + f)).st_mode
            self.assertTrue(mode & 0o200, '%s is writable by its owner: mode %o' % (f, mode))
        mode = os.stat(self.m.path('buckets/base/description')).st_mode
        self.assertTrue(mode & 0o200)


class Builds(MountTestCase):

    def test_build_files_platform_source_labels_artifacts(self):
        self.m.mkiter('base', 'fp1', builds={})
        b = it_path('base', 'fp1') + '/builds/linux-amd64'
        self.m.sh('mkdir ' + b)
        self.assertEqual(self.m.listdir(it_path('base', 'fp1') + '/builds'), ['linux-amd64'])
        self.assertLessEqual({'platform', 'source', 'labels', 'artifacts'},
                             set(self.m.listdir(b)))
        self.assertValueFile(self.m, b + '/platform', '')
        self.assertValueFile(self.m, b + '/source', '')
        self.m.sh('echo aws > %s/platform' % b)
        self.assertValueFile(self.m, b + '/platform', 'aws')
        self.m.sh('echo ubuntu-24.04 > %s/labels/os' % b)
        self.assertEqual(self.m.listdir(b + '/labels'), ['os'])
        self.assertValueFile(self.m, b + '/labels/os', 'ubuntu-24.04')
        self.m.sh('echo ami-0abc123 > %s/artifacts/us-east-1' % b)
        self.m.sh('echo ami-0def456 > %s/artifacts/eu-west-1' % b)
        self.assertEqual(self.m.listdir(b + '/artifacts'), ['eu-west-1', 'us-east-1'])
        self.assertValueFile(self.m, b + '/artifacts/us-east-1', 'ami-0abc123')
        self.m.sh('rm %s/artifacts/eu-west-1 %s/labels/os' % (b, b))
        self.assertEqual(self.m.listdir(b + '/artifacts'), ['us-east-1'])
        self.assertEqual(self.m.listdir(b + '/labels'), [])
        self.m.sh('rmdir ' + b)
        self.assertEqual(self.m.listdir(it_path('base', 'fp1') + '/builds'), [])

    def test_bad_build_region_and_label_names_are_einval(self):
        self.m.mkiter('base', 'fp1', builds={'b1': ('aws', {})})
        p = it_path('base', 'fp1') + '/builds'
        for name in ('.hidden', 'a b', 'a@b', 'b\u00fcild', 'x' * 129):
            self.assertRefused(errno.EINVAL, os.mkdir, self.m.path(p + '/' + name))
            self.assertRefused(errno.EINVAL, self.m.write, p + '/b1/artifacts/' + name,
                               'ami-1\n')
            self.assertRefused(errno.EINVAL, self.m.write, p + '/b1/labels/' + name, 'v\n')
        self.assertRefused(errno.ENAMETOOLONG, os.mkdir, self.m.path(p + '/' + 'b' * 256),
                           logged=False)

    def test_build_and_region_names_up_to_128_accepted(self):
        self.m.mkiter('base', 'fp1', builds={})
        p = it_path('base', 'fp1') + '/builds'
        for name in ('b' * 128, '_x', '-x', 'a.b'):
            os.mkdir(self.m.path(p + '/' + name))
        self.m.write(p + '/_x/artifacts/' + 'r' * 128, 'ami-1\n')
        self.assertEqual(self.m.listdir(p + '/_x/artifacts'), ['r' * 128])

    def test_artifacts_dir_links_each_external_id_to_its_build(self):
        a1, a2 = lt.unique_extid(), lt.unique_extid()
        self.m.complete_iteration('base', 'fp1', builds={
            'linux-amd64': ('aws', {'us-east-1': a1, 'eu-west-1': a2})})
        self.assertEqual(self.m.listdir('artifacts'), sorted([a1, a2]))
        for a in (a1, a2):
            self.assertLinkTo(self.m, 'artifacts/' + a,
                              '../buckets/base/iterations/fp1/builds/linux-amd64')
            self.assertEqual(self.m.realpath('artifacts/' + a),
                             self.m.path(it_path('base', 'fp1') + '/builds/linux-amd64'))
        self.assertEqual(self.m.sh('cat artifacts/%s/platform' % a1).stdout, 'aws\n')

    def test_artifacts_dir_escapes_slash_and_percent(self):
        img = 'projects/acme/global/images/base-1'
        dock = 'acme/app:1.0%beta'
        self.m.complete_iteration('base', 'fp1', builds={
            'gcp': ('gce', {'global': img}), 'ctr': ('docker', {'global': dock})})
        self.assertEqual(self.m.listdir('artifacts'),
                         sorted(['projects%2Facme%2Fglobal%2Fimages%2Fbase-1',
                                 'acme%2Fapp:1.0%25beta']))
        self.assertLinkTo(self.m, 'artifacts/projects%2Facme%2Fglobal%2Fimages%2Fbase-1',
                          '../buckets/base/iterations/fp1/builds/gcp')
        self.assertLinkTo(self.m, 'artifacts/acme%2Fapp:1.0%25beta',
                          '../buckets/base/iterations/fp1/builds/ctr')
        self.assertValueFile(self.m, it_path('base', 'fp1') + '/builds/gcp/artifacts/global', img)


class Values(MountTestCase):

    def setUp(self):
        super().setUp()
        self.m.mkiter('base', 'fp1', builds={'b1': ('aws', {})})
        self.f = it_path('base', 'fp1') + '/builds/b1/platform'

    def test_one_trailing_newline_is_dropped(self):
        self.m.write(self.f, 'azure\n')
        self.assertValueFile(self.m, self.f, 'azure')
        self.m.write(self.f, 'gce')
        self.assertValueFile(self.m, self.f, 'gce')
        self.m.sh('printf docker > ' + self.f)
        self.assertValueFile(self.m, self.f, 'docker')

    def test_two_trailing_newlines_or_inner_newline_are_einval(self):
        for v in (b'aws\n\n', b'a\nb\n', b'a\nb'):
            self.assertRefused(errno.EINVAL, self.m.write, self.f, v)
        self.assertValueFile(self.m, self.f, 'aws')

    def test_1024_bytes_accepted_1025_efbig(self):
        self.m.write(self.f, 'p' * 1024 + '\n')
        self.assertValueFile(self.m, self.f, 'p' * 1024)
        self.m.write(self.f, 'q' * 1024)
        self.assertValueFile(self.m, self.f, 'q' * 1024)
        self.assertRefused(errno.EFBIG, self.m.write, self.f, 'r' * 1025 + '\n')
        self.assertRefused(errno.EFBIG, self.m.write, self.f, 'r' * 1025)
        self.assertValueFile(self.m, self.f, 'q' * 1024)

    def test_control_characters_are_einval(self):
        for v in (b'a\x01b\n', b'a\tb\n', b'\x1b[31mred\n', b'a\x7fb\n', b'a\rb\n'):
            self.assertRefused(errno.EINVAL, self.m.write, self.f, v)
        self.assertValueFile(self.m, self.f, 'aws')

    def test_invalid_utf8_is_einval(self):
        for v in (b'\xff\xfe\n', b'caf\xc3\n', b'\xc0\xaf\n', b'\xed\xa0\x80\n',
                  b'\xf8\x88\x80\x80\x80\n'):
            self.assertRefused(errno.EINVAL, self.m.write, self.f, v)
        self.assertValueFile(self.m, self.f, 'aws')

    def test_nul_is_einval(self):
        self.assertRefused(errno.EINVAL, self.m.write, self.f, b'a\x00b\n')
        self.assertRefused(errno.EINVAL, self.m.write, self.f, b'\x00')
        self.assertValueFile(self.m, self.f, 'aws')

    def test_utf8_text_accepted_byte_for_byte(self):
        v = 'z\u00fcrich-\u6771\u4eac-\U0001f680'
        self.m.write(self.f, v + '\n')
        self.assertValueFile(self.m, self.f, v)

    def test_description_allows_newlines_but_not_other_controls(self):
        d = 'buckets/base/description'
        self.m.write(d, 'one\ntwo\n\nfour\n')
        self.assertValueFile(self.m, d, 'one\ntwo\n\nfour')
        self.assertRefused(errno.EINVAL, self.m.write, d, 'bell\x07\n')
        self.assertRefused(errno.EINVAL, self.m.write, d, b'bad \xff\n')

    def test_colon_redirect_clears_optional_values(self):
        src = it_path('base', 'fp1') + '/builds/b1/source'
        self.m.write(src, 'ami-0123\n')
        self.m.write('buckets/base/description', 'something\n')
        self.m.sh(': > %s; : > %s; : > buckets/base/description' % (self.f, src))
        self.assertValueFile(self.m, self.f, '')
        self.assertValueFile(self.m, src, '')
        self.assertValueFile(self.m, 'buckets/base/description', '')

    def test_echo_of_nothing_clears_optional_value(self):
        self.m.sh('echo > ' + self.f)
        self.assertValueFile(self.m, self.f, '')

    def test_refused_shell_write_keeps_old_value(self):
        self.assertShRefused('echo "$(printf "a%.0s" $(seq 1100))" > ' + self.f,
                             'File too large')
        self.assertValueFile(self.m, self.f, 'aws')
        self.assertShRefused("echo -e 'a\\x01b' > " + self.f, 'Invalid argument')
        self.assertValueFile(self.m, self.f, 'aws')

    def test_write_only_control_files_read_empty(self):
        for rel in (it_path('base', 'fp1') + '/restore', 'buckets/base/import'):
            self.assertEqual(self.m.read(rel), b'', rel)
            self.assertEqual(os.stat(self.m.path(rel)).st_size, 0, rel)
            self.assertEqual(self.m.sh('cat ' + rel).stdout, '')

class Channels(MountTestCase):

    def setUp(self):
        super().setUp()
        self.m.complete_iteration('bkt', 'fp1')
        self.m.mkiter('bkt', 'running')
        self.ch = 'buckets/bkt/channels/'

    def test_ln_s_creates_channel_and_readlink_is_canonical(self):
        self.m.sh('ln -s ../iterations/fp1 buckets/bkt/channels/prod')
        self.assertEqual(self.m.listdir('buckets/bkt/channels'), ['latest', 'prod'])
        self.assertLinkTo(self.m, self.ch + 'prod', '../iterations/fp1')
        self.assertEqual(self.m.value(self.ch + 'prod/version'), 'v1')
        self.assertIn('prod', self.m.lines(it_path('bkt', 'fp1') + '/channels'))

    def test_every_target_form_reads_back_canonical(self):
        m = self.m
        u = m.ulid('bkt', 'fp1')
        os.symlink('../iterations/fp1', m.path(self.ch + 'prod'))
        forms = [
            '../iterations/fp1',
            m.path('buckets/bkt/iterations/fp1'),
            '../versions/v1',
            m.path('buckets/bkt/versions/v1'),
            '../channels/prod',
            m.path('buckets/bkt/channels/prod'),
            '../channels/latest',
            '../../../by-id/' + u,
            m.path('by-id/' + u),
        ]
        for i, target in enumerate(forms):
            name = 'form-%d' % i
            os.symlink(target, m.path(self.ch + name))
            self.assertLinkTo(m, self.ch + name, '../iterations/fp1')
        self.assertEqual(sorted(m.listdir('buckets/bkt/channels')),
                         sorted(['latest', 'prod'] + ['form-%d' % i for i in range(len(forms))]))

    def test_ln_sfn_moves_channel_leaving_one_name_and_one_assignment(self):
        self.m.complete_iteration('bkt', 'fp2')
        os.symlink('../iterations/fp1', self.m.path(self.ch + 'prod'))
        before = self.m.events()
        self.m.sh('ln -sfn ../iterations/fp2 buckets/bkt/channels/prod')
        self.assertLinkTo(self.m, self.ch + 'prod', '../iterations/fp2')
        self.assertEqual(self.m.listdir('buckets/bkt/channels'), ['latest', 'prod'])
        added = [e for _, e in self.m.events()[len(before):]]
        self.assertEqual([e.get('action') for e in added], ['assign'],
                         'ln -sfn must record exactly one assignment: %r' % added)
        self.assertEqual(added[0].get('channel'), 'prod')

    def test_rename_over_moves_channel(self):
        self.m.complete_iteration('bkt', 'fp2')
        os.symlink('../iterations/fp1', self.m.path(self.ch + 'prod'))
        os.symlink('../iterations/fp2', self.m.path(self.ch + 'next'))
        os.rename(self.m.path(self.ch + 'next'), self.m.path(self.ch + 'prod'))
        self.assertEqual(self.m.listdir('buckets/bkt/channels'), ['latest', 'prod'])
        self.assertLinkTo(self.m, self.ch + 'prod', '../iterations/fp2')
        self.m.sh('mv -T buckets/bkt/channels/prod buckets/bkt/channels/staging')
        self.assertEqual(self.m.listdir('buckets/bkt/channels'), ['latest', 'staging'])
        self.assertLinkTo(self.m, self.ch + 'staging', '../iterations/fp2')

    def test_rm_deletes_channel(self):
        os.symlink('../iterations/fp1', self.m.path(self.ch + 'prod'))
        self.m.sh('rm buckets/bkt/channels/prod')
        self.assertEqual(self.m.listdir('buckets/bkt/channels'), ['latest'])
        self.assertNotIn('prod', self.m.lines(it_path('bkt', 'fp1') + '/channels'))
        with self.assertRaises(FileNotFoundError):
            self.m.readlink(self.ch + 'prod')

    def test_readlink_f_of_channel_is_the_iteration_dir(self):
        os.symlink(self.m.path('buckets/bkt/versions/v1'), self.m.path(self.ch + 'prod'))
        out = self.m.sh('readlink -f buckets/bkt/channels/prod').stdout.strip()
        self.assertEqual(out, self.m.path(it_path('bkt', 'fp1')))
        self.assertEqual(self.m.sh('cat buckets/bkt/channels/prod/status').stdout, 'active\n')

    def test_channels_file_lists_user_channels_pointing_at_it(self):
        self.m.complete_iteration('bkt', 'fp2')
        os.symlink('../iterations/fp1', self.m.path(self.ch + 'prod'))
        os.symlink('../iterations/fp1', self.m.path(self.ch + 'beta'))
        lines = self.m.lines(it_path('bkt', 'fp1') + '/channels')
        self.assertLessEqual({'prod', 'beta'}, set(lines))
        self.m.assign('bkt', 'prod', 'fp2')
        self.assertNotIn('prod', self.m.lines(it_path('bkt', 'fp1') + '/channels'))
        self.assertIn('prod', self.m.lines(it_path('bkt', 'fp2') + '/channels'))
        self.assertValueFile(self.m, it_path('bkt', 'running') + '/channels', '')

    def test_assigning_an_incomplete_iteration_is_einval(self):
        self.assertRefused(errno.EINVAL, os.symlink, '../iterations/running',
                           self.m.path(self.ch + 'prod'))
        os.symlink('../iterations/fp1', self.m.path(self.ch + 'prod'))
        self.assertShRefused('ln -sfn ../iterations/running buckets/bkt/channels/prod',
                             'Invalid argument')
        self.assertLinkTo(self.m, self.ch + 'prod', '../iterations/fp1')

    def test_target_in_another_bucket_is_einval(self):
        self.m.complete_iteration('other', 'ofp')
        u = self.m.ulid('other', 'ofp')
        for target in ('../../other/iterations/ofp',
                       self.m.path('buckets/other/iterations/ofp'),
                       '../../other/versions/v1',
                       '../../other/channels/latest',
                       self.m.path('by-id/' + u)):
            self.assertRefused(errno.EINVAL, os.symlink, target, self.m.path(self.ch + 'prod'))

    def test_target_outside_the_mount_is_einval(self):
        elsewhere = os.path.join(self.m.tmp, 'elsewhere', 'buckets', 'bkt', 'iterations', 'fp1')
        for target in ('/etc', '/tmp', elsewhere, '../../../../iterations/fp1',
                       '../../../../../../../../etc', '../description', '..'):
            self.assertRefused(errno.EINVAL, os.symlink, target, self.m.path(self.ch + 'prod'))

    def test_target_naming_no_iteration_is_enoent(self):
        self.assertRefused(errno.ENOENT, os.symlink, '../iterations/nosuch',
                           self.m.path(self.ch + 'prod'))
        self.assertRefused(errno.ENOENT, os.symlink, '../versions/v9',
                           self.m.path(self.ch + 'prod'))

    def test_bad_channel_names_are_einval(self):
        for name in ('ab', 'a_b', 'a.b', 'x' * 37, 'pr\u00f6d'):
            self.assertRefused(errno.EINVAL, os.symlink, '../iterations/fp1',
                               self.m.path(self.ch + name))
        self.assertRefused(errno.ENAMETOOLONG, os.symlink, '../iterations/fp1',
                           self.m.path(self.ch + 'c' * 256), logged=False)

    def test_latest_is_absent_until_an_iteration_completes(self):
        self.m.mkiter('fresh', 'fp1')
        self.assertEqual(self.m.listdir('buckets/fresh/channels'), [])
        with self.assertRaises(FileNotFoundError):
            self.m.readlink('buckets/fresh/channels/latest')
        self.m.complete('fresh', 'fp1')
        self.assertEqual(self.m.listdir('buckets/fresh/channels'), ['latest'])
        self.assertLinkTo(self.m, 'buckets/fresh/channels/latest', '../iterations/fp1')

    def test_latest_follows_the_highest_version(self):
        self.assertEqual(self.m.channel('bkt', 'latest'), 'fp1')
        self.m.complete_iteration('bkt', 'fp2')
        self.assertEqual(self.m.channel('bkt', 'latest'), 'fp2')
        self.m.add_build('bkt', 'running', 'b1', 'aws', {'us-east-1': lt.unique_extid()})
        self.m.complete('bkt', 'running')
        self.assertEqual(self.m.channel('bkt', 'latest'), 'running')
        self.assertValueFile(self.m, it_path('bkt', 'running') + '/version', 'v3')

    def test_latest_is_managed_eperm(self):
        m = self.m
        os.symlink('../iterations/fp1', m.path(self.ch + 'prod'))
        self.assertRefused(errno.EPERM, os.remove, m.path(self.ch + 'latest'))
        self.assertRefused(errno.EPERM, os.rename, m.path(self.ch + 'prod'),
                           m.path(self.ch + 'latest'))
        self.assertRefused(errno.EPERM, os.rename, m.path(self.ch + 'latest'),
                           m.path(self.ch + 'mine'))
        m.mkiter('fresh', 'fp1')
        self.assertRefused(errno.EPERM, os.symlink, '../iterations/fp1',
                           m.path('buckets/fresh/channels/latest'))
        r = m.sh('ln -sfn ../iterations/fp1 buckets/bkt/channels/latest', check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Operation not permitted', r.stderr)
        self.assertEqual(m.channel('bkt', 'latest'), 'fp1')
        self.assertEqual(m.listdir('buckets/bkt/channels'), ['latest', 'prod'])


class Events(MountTestCase):

    def test_events_record_actions_in_order_with_increasing_seq(self):
        t0 = time.time()
        m = self.m
        m.mkbucket('gone')
        os.rmdir(m.path('buckets/gone'))
        m.mkiter('evt', 'fp1')
        m.complete('evt', 'fp1')
        os.symlink('../iterations/fp1', m.path('buckets/evt/channels/prod'))
        os.remove(m.path('buckets/evt/channels/prod'))
        m.mkiter('evt', 'tmp')
        os.rmdir(m.path(it_path('evt', 'tmp')))
        raw = m.lines('events')
        evs = m.events()
        for line in raw:
            self.assertRegex(line, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ seq=\d+ ')
        seqs = [int(e['seq']) for _, e in evs]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs), 'seq numbers are unique')
        for t, e in evs:
            self.assertLessEqual(abs(t - t0), 30, 'event time %r' % e)
            self.assertIn('action', e)
        want = ['bucket-create', 'bucket-delete', 'bucket-create', 'iteration-create',
                'complete', 'assign', 'unassign', 'iteration-create', 'iteration-delete']
        actions = [e['action'] for _, e in evs if e['action'] in set(want)]
        self.assertEqual(actions, want)
        creates = [e for _, e in evs if e['action'] == 'bucket-create']
        self.assertEqual([e.get('bucket') for e in creates], ['gone', 'evt'])
        comp = [e for _, e in evs if e['action'] == 'complete'][0]
        self.assertEqual((comp.get('bucket'), comp.get('iteration'), comp.get('version')),
                         ('evt', 'fp1', 'v1'))

    def test_assign_and_unassign_events_carry_channel_from_to_and_user(self):
        m = self.m
        m.complete_iteration('evt', 'fp1')
        m.complete_iteration('evt', 'fp2')
        n = len(m.events())
        os.symlink('../iterations/fp1', m.path('buckets/evt/channels/prod'))
        m.assign('evt', 'prod', 'fp2')
        os.remove(m.path('buckets/evt/channels/prod'))
        evs = [e for _, e in m.events()[n:]]
        self.assertEqual([e['action'] for e in evs], ['assign', 'assign', 'unassign'])
        for e in evs:
            self.assertEqual(e.get('channel'), 'prod')
            self.assertIn('from', e)
            self.assertIn('to', e)
            self.assertEqual(e.get('by'), 'root')
        self.assertIn('fp1', evs[0]['to'])
        self.assertIn('fp1', evs[1]['from'])
        self.assertIn('fp2', evs[1]['to'])
        self.assertIn('fp2', evs[2]['from'])

    def test_values_with_spaces_are_double_quoted(self):
        self.m.complete_iteration('evt', 'fp1')
        self.m.write(it_path('evt', 'fp1') + '/revoke', 'bad image: do not use\n')
        raw = [l for l in self.m.lines('events') if 'action=revoke' in l]
        self.assertEqual(len(raw), 1)
        self.assertIn('reason="bad image: do not use"', raw[0])

    def test_tail_f_follows_new_events(self):
        m = self.m
        m.mkbucket('first')
        p = m.spawn(['tail', '-f', 'events'])
        q = queue.Queue()

        def pump():
            for line in iter(p.stdout.readline, b''):
                q.put(line.decode('utf-8', 'replace'))
        threading.Thread(target=pump, daemon=True).start()
        time.sleep(0.5)
        m.mkbucket('followed')
        deadline = time.monotonic() + 5
        seen = []
        while time.monotonic() < deadline:
            try:
                line = q.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if 'action=bucket-create' in line and 'bucket=followed' in line:
                return
        self.fail('tail -f events did not show the new bucket-create within 5 s; saw %r'
                  % seen)


class Errors(MountTestCase):

    ERR_RE = (r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ uid=\d+ op=\S+ path=\S+ '
              r'errno=E[A-Z]+ why="[^"]+"$')

    def test_refused_mkdir_adds_errors_line_with_errno_and_why(self):
        self.assertRefused(errno.EINVAL, os.mkdir, self.m.path('buckets/a_b'))
        line = self.m.errors_tail()[0]
        self.assertRegex(line, self.ERR_RE)
        t, f = lt.parse_error_line(line)
        self.assertLessEqual(abs(t - time.time()), 10)
        self.assertEqual(f['uid'], '0')
        self.assertEqual(f['op'], 'mkdir')
        self.assertEqual(f['path'], 'buckets/a_b')
        self.assertEqual(f['errno'], 'EINVAL')
        self.assertTrue(f['why'].strip())

    def test_refused_write_adds_errors_line(self):
        self.m.mkbucket('base')
        self.assertRefused(errno.EFBIG, self.m.write, 'buckets/base/description',
                           'd' * 5000 + '\n')
        line = self.m.errors_tail()[0]
        self.assertRegex(line, self.ERR_RE)
        _, f = lt.parse_error_line(line)
        self.assertEqual((f['op'], f['path'], f['errno']),
                         ('write', 'buckets/base/description', 'EFBIG'))

    def test_errors_keeps_one_line_per_refusal_in_order(self):
        self.m.mkbucket('base')
        before = self.m.errors_lines()
        for name in ('x_1', 'x_2', 'x_3'):
            self.assertErrno(errno.EINVAL, os.mkdir, self.m.path('buckets/' + name))
        added = lt.new_lines(before, self.m.errors_lines())
        self.assertEqual([lt.parse_error_line(l)[1]['path'] for l in added],
                         ['buckets/x_1', 'buckets/x_2', 'buckets/x_3'])
        self.assertEqual(os.stat(self.m.path('errors')).st_size, len(self.m.read('errors')))


class Robustness(MountTestCase):

    def test_garbage_writes_never_crash_hang_or_corrupt(self):
        m = self.m
        lt.populate(m)
        rng = random.Random(20261125)
        run = it_path('app', 'app-2')
        done = it_path('base', 'base-2026-02')
        targets = [run + '/parent', run + '/complete', run + '/revoke', run + '/restore',
                   done + '/revoke', done + '/restore', done + '/complete',
                   run + '/builds/linux-amd64/platform', run + '/builds/linux-amd64/source',
                   'buckets/base/description', 'buckets/base/labels/team',
                   'buckets/empty/import']
        alphabet = (b'in=at=descendants=rollback=yes no 0123456789smhdTZ:-./'
                    b'buckets/base/iterations/channels/versions/by-id/{}[]",\n'
                    b'\x00\x01\xff\xfe\xc3\t\r ')
        for i in range(300):
            rel = rng.choice(targets)
            n = rng.choice([0, 1, 2, 5, 20, 100, 1030, 5000])
            data = bytes(rng.choice(alphabet) for _ in range(n))
            try:
                m.write(rel, data)
            except OSError as e:
                self.assertNotIn(e.errno, (errno.ENOTCONN, errno.ECONNABORTED, errno.EIO),
                                 'writing %r to %s: %s' % (data[:60], rel, e))
        self.assertIn('base', m.listdir('buckets'))
        for rel in m.files():
            self.assertEqual(os.stat(m.path(rel)).st_size, len(m.read(rel)), rel)
        r = m.ctl('check', m.registry, check=False)
        self.assertEqual(r.returncode, 0, 'lineagectl check after garbage writes:\n%s%s'
                         % (r.stdout.decode('utf-8', 'replace'),
                            r.stderr.decode('utf-8', 'replace')))


class RealClients(MountTestCase):

    def setUp(self):
        super().setUp()
        self.info = lt.populate(self.m)
        self.dst = os.path.join(self.m.tmp, 'copy')
        os.mkdir(self.dst)

    def reference(self):
        """What cat shows for every regular file."""
        ref = {}
        for rel in self.m.files():
            r = subprocess.run(['cat', self.m.path(rel)], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, 'cat %s: %s' % (rel, r.stderr))
            ref[rel] = r.stdout
        return ref

    def links(self, root):
        out = {}
        for d, dirs, files in os.walk(root):
            for n in dirs + files:
                p = os.path.join(d, n)
                if os.path.islink(p):
                    out[os.path.relpath(p, root)] = os.readlink(p)
        return out

    def assertCopyFaithful(self, dst):
        ref = self.reference()
        copied = {}
        for d, dirs, files in os.walk(dst):
            for f in files:
                p = os.path.join(d, f)
                if not os.path.islink(p):
                    with open(p, 'rb') as fh:
                        copied[os.path.relpath(p, dst)] = fh.read()
        self.assertEqual(sorted(copied), sorted(ref), 'the copy has the same files')
        for rel, data in ref.items():
            self.assertEqual(copied[rel], data, 'copy of %s differs from cat' % rel)
        self.assertEqual(self.links(dst), self.links(self.m.mnt), 'symlinks copied')

    def test_every_file_st_size_is_exact(self):
        self.m.write('buckets/app/description', 'caf\u00e9 \u2615\nsecond line\n')
        files = self.m.files()
        self.assertGreater(len(files), 50)
        for rel in files:
            data = self.m.read(rel)
            self.assertEqual(os.stat(self.m.path(rel)).st_size, len(data),
                             'st_size of %s is not the length of its content' % rel)

    def test_cp_a_copies_every_byte(self):
        r = subprocess.run(['cp', '-a', self.m.mnt + '/.', self.dst], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, 'cp -a failed: ' + r.stderr)
        self.assertCopyFaithful(self.dst)

    def test_tar_roundtrip_copies_every_byte(self):
        archive = os.path.join(self.m.tmp, 'tree.tar')
        r = subprocess.run(['tar', '-C', self.m.mnt, '-cf', archive, '.'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, 'tar -c failed: ' + r.stderr)
        self.assertEqual(r.stderr, '', 'tar -c warned')
        r = subprocess.run(['tar', '-C', self.dst, '-xf', archive], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, 'tar -x failed: ' + r.stderr)
        self.assertCopyFaithful(self.dst)

    def test_find_exec_cat_shows_every_byte(self):
        order = self.m.sh('find . -type f').stdout.splitlines()
        self.assertGreater(len(order), 50)
        want = b''.join(subprocess.run(['cat', self.m.path(p)], capture_output=True,
                                       timeout=30).stdout for p in order)
        r = subprocess.run(['find', '.', '-type', 'f', '-exec', 'cat', '{}', ';'],
                           cwd=self.m.mnt, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, want)

    def test_grep_r_finds_artifact_ids(self):
        out = self.m.sh('grep -rh ami- buckets/base/iterations/base-2026-01/builds').stdout
        self.assertEqual(sorted(out.splitlines()),
                         sorted([self.info['base_ami_1'], self.info['base_ami_2']]))


class TwoMounts(MountTestCase):

    LIMIT = 1.3   # the spec's 1 s, with a little room for scheduling

    def assertSeen(self, pred, what):
        ok, waited = lt.wait_until(pred, self.LIMIT, 0.02)
        self.assertTrue(ok, '%s not visible in the other mount within %.1f s'
                        % (what, self.LIMIT))

    def test_changes_in_one_mount_are_visible_in_the_other_within_1s(self):
        m1 = self.m
        m2 = self.mount(share=m1)
        m1.complete_iteration('base', 'fp1')
        m1.complete_iteration('base', 'fp2')
        os.symlink('../iterations/fp1', m1.path('buckets/base/channels/prod'))
        # prime the second mount's caches
        self.assertSeen(lambda: 'base' in m2.listdir('buckets'), 'bucket')
        m2.read('buckets/base/description')
        self.assertSeen(lambda: m2.channel('base', 'prod') == 'fp1', 'channel')
        m2.listdir('buckets/base/labels')

        m1.mkbucket('shared')
        self.assertSeen(lambda: 'shared' in m2.listdir('buckets'), 'new bucket')
        m1.write('buckets/base/description', 'from the first mount\n')
        self.assertSeen(lambda: m2.read('buckets/base/description') ==
                        b'from the first mount\n', 'new description')
        self.assertEqual(os.stat(m2.path('buckets/base/description')).st_size, 21)
        m1.assign('base', 'prod', 'fp2')
        self.assertSeen(lambda: m2.channel('base', 'prod') == 'fp2', 'moved channel')
        self.assertSeen(lambda: m2.channel('base', 'latest') == 'fp2', 'latest')
        m2.write('buckets/shared/labels/from', 'second\n')
        self.assertSeen(lambda: m1.exists('buckets/shared/labels/from'), 'label')
        os.remove(m1.path('buckets/shared/labels/from'))
        self.assertSeen(lambda: not m2.exists('buckets/shared/labels/from'), 'deleted label')
        os.rmdir(m2.path('buckets/shared'))
        self.assertSeen(lambda: 'shared' not in m1.listdir('buckets'), 'deleted bucket')

    def test_lineagectl_import_is_visible_in_a_running_mount_within_1s(self):
        m = self.m
        m.mkbucket('base')
        self.assertEqual(m.listdir('buckets/base/iterations'), [])
        run = '6a0e3c52-1d43-4bb1-9f4e-0a4f1c2b3d4e'
        manifest = {'builds': [{
            'name': 'ubuntu', 'builder_type': 'amazon-ebs', 'build_time': 1767225600,
            'files': None, 'artifact_id': 'us-east-1:%s' % lt.unique_extid(),
            'packer_run_uuid': run, 'custom_data': {'fingerprint': 'imported-1'}}],
            'last_run_uuid': run}
        path = os.path.join(m.tmp, 'packer-manifest.json')
        with open(path, 'w') as f:
            json.dump(manifest, f)
        r = m.ctl('import', m.registry, 'base', path)
        self.assertIn('buckets/base/iterations/imported-1', r.stdout.decode())
        self.assertSeen(lambda: m.listdir('buckets/base/iterations') == ['imported-1'],
                        'an iteration imported by lineagectl')
        self.assertSeen(lambda: m.channel('base', 'latest') == 'imported-1', 'latest')
        self.assertEqual(m.status('base', 'imported-1'), 'active')
        self.assertIn('import', [e['action'] for _, e in m.events()])

    def test_lineagectl_sees_changes_made_through_the_mount(self):
        self.m.complete_iteration('base', 'fp1')
        doc = self.m.export()
        self.assertIn('fp1', repr(doc))
        self.assertIn(self.m.ulid('base', 'fp1'), repr(doc))
        r = self.m.ctl('check', self.m.registry, check=False)
        self.assertEqual(r.returncode, 0, 'lineagectl check on a healthy registry: %s'
                         % r.stdout.decode('utf-8', 'replace'))


class ReadOnly(MountTestCase):

    def setUp(self):
        super().setUp()
        m = self.m
        lt.populate(m)
        m.write('buckets/app/iterations/app-2/builds/linux-amd64/platform', 'aws\n')
        self.assertEqual(m.unmount(), [], 'unmounting the writable mount')
        self.ro = self.mount(['ro'], share=m)

    def test_ro_mount_reads_everything(self):
        files = self.ro.files()
        self.assertGreater(len(files), 50)
        for rel in files:
            data = self.ro.read(rel)
            self.assertEqual(os.stat(self.ro.path(rel)).st_size, len(data), rel)
        self.assertEqual(self.ro.channel('base', 'production'), 'base-2026-01')
        self.assertEqual(self.ro.channel('base', 'latest'), 'base-2026-02')
        self.assertValueFile(self.ro, 'buckets/base/labels/team', 'platform')

    def test_ro_mount_refuses_every_change_with_erofs(self):
        ro = self.ro
        p = lambda rel: ro.path(rel)  # noqa: E731
        base1 = it_path('base', 'base-2026-01')
        run = it_path('app', 'app-2')
        ops = [
            (os.mkdir, p('buckets/new')),
            (os.rmdir, p('buckets/empty')),
            (ro.write, 'buckets/base/description', 'changed\n'),
            (ro.write, 'buckets/base/labels/team', 'other\n'),
            (ro.write, 'buckets/base/labels/newkey', 'v\n'),
            (os.remove, p('buckets/base/labels/team')),
            (os.truncate, p('buckets/base/description'), 0),
            (os.chmod, p('buckets/base'), 0o700),
            (os.mkdir, p('buckets/base/iterations/new')),
            (os.rmdir, p(run)),
            (ro.write, run + '/complete', '1\n'),
            (ro.write, run + '/parent', base1 + '\n'),
            (os.mkdir, p(run + '/builds/new')),
            (ro.write, run + '/builds/linux-amd64/platform', 'gce\n'),
            (ro.write, run + '/builds/linux-amd64/artifacts/us-east-1', 'ami-1\n'),
            (os.symlink, '../iterations/base-2026-02', p('buckets/base/channels/new')),
            (os.remove, p('buckets/base/channels/production')),
            (os.rename, p('buckets/base/channels/production'), p('buckets/base/channels/p2')),
            (ro.write, base1 + '/revoke', 'compromised\n'),
            (ro.write, base1 + '/restore', 'ok\n'),
            (ro.write, 'buckets/base/import', '{"builds": []}'),
        ]
        for op in ops:
            self.assertRefused(errno.EROFS, op[0], *op[1:], m=ro, logged=False)
        # the kernel knows the mount is read-only, so scripts that ask
        # first (test -w) get the truth before they try
        self.assertFalse(os.access(p('buckets/base/description'), os.W_OK))
        self.assertFalse(os.access(p('buckets/base'), os.W_OK))
        self.assertTrue(os.access(p('buckets/base/description'), os.R_OK))


class Fstab(MountTestCase):

    def setUp(self):
        self._arm_timeout()

    def test_mount_fuse3_helper_mounts_with_defaults(self):
        m = self.mount(start=False)
        m.start_via_helper(('defaults',), fstype='lineagefs')
        self.assertTrue(m.mounted())
        self.assertIsNotNone(m.pid, 'the daemon started by mount.fuse3 is running')
        m.mkbucket('base')
        self.assertEqual(m.listdir('buckets'), ['base'])
        self.assertTrue(os.path.exists(m.registry), 'the registry was created')
        self.assertEqual(m.unmount(), [])
        self.assertFalse(m.mounted())

    def test_fstab_line_with_allow_other(self):
        m = self.mount(start=False)
        m.start_via_helper(('defaults', 'allow_other'), fstype='lineagefs')
        r = m.sh('ls buckets', user='nobody', check=False)
        self.assertEqual(r.returncode, 0, 'another user may use an allow_other mount: '
                         + r.stderr)


if __name__ == '__main__':
    lt.main()
