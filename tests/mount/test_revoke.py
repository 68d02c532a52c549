#!/usr/bin/env python3
# test_revoke.py — mount tests for "Revocation" (SPEC.md §5 and §8):
# revoking through the `revoke` file with every option, inheritance by every
# descendant across buckets, channel rollback through each channel's own
# assignment history, `latest`, restoring, scheduled revocations that take
# effect on time, the revocation record, the revoke events, deleting
# iterations (§5.6), `-o deny_revoked`, and every refusal with its errno
# and an unchanged registry.

import errno
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

REASON = 'CVE-2026-1234: openssl in base image'


class RevokeCase(MountTestCase):

    def revoke(self, bucket, fp, text, shell=True):
        rel = it_path(bucket, fp) + '/revoke'
        if shell:
            self.m.sh("echo '%s' > %s" % (text.replace("'", "'\\''"), rel), shell='bash')
        else:
            self.m.write(rel, text + '\n')

    def restore(self, bucket, fp, comment='restored after review'):
        self.m.write(it_path(bucket, fp) + '/restore', comment + '\n')

    def assertStatus(self, want):
        """want: {(bucket, fp): status}"""
        got = {k: self.m.status(*k) for k in want}
        self.assertEqual(got, want)

    def assertChannels(self, want):
        """want: {(bucket, channel): fp or None}"""
        got = {k: self.m.channel(*k) for k in want}
        self.assertEqual(got, want)

    def assertRecord(self, bucket, fp, state, typ, reason, at=None, from_=None, by='root'):
        rec = self.m.record(bucket, fp)
        keys = [k for k, _ in rec]
        want_keys = ['state', 'at', 'reason', 'by', 'type']
        if typ == 'inherited':
            want_keys.append('inherited-from')
        self.assertEqual(keys, want_keys, 'revoke record of %s/%s: %r' % (bucket, fp, rec))
        d = dict(rec)
        self.assertEqual(d['state'], state)
        self.assertEqual(d['reason'], reason)
        self.assertEqual(d['by'], by)
        self.assertEqual(d['type'], typ)
        t = lt.parse_time(d['at'])
        if at is not None:
            self.assertEqual(t, at, 'at= of %s/%s' % (bucket, fp))
        if typ == 'inherited':
            self.assertEqual(d['inherited-from'], it_path(*from_))
        rel = it_path(bucket, fp) + '/revoke'
        self.assertEqual(os.stat(self.m.path(rel)).st_size, len(self.m.read(rel)))
        return t


class Family(RevokeCase):
    """Three levels over five buckets, with a multi-parent child:

        base/b1 ── app/a1 ── svc/s0
        base/b2 ── app/a2 ── svc/s1
                        └─── combo/c1 ── tools/x1 (second parent)
    Channel histories: base/production b1 then b2, base/beta b2 only,
    app/stable a1 then a2, app/edge a2 only, svc/prod s0 then s1,
    combo/prod c1 only."""

    def setUp(self):
        super().setUp()
        m = self.m
        m.complete_iteration('base', 'b1')
        m.assign('base', 'production', 'b1')
        m.complete_iteration('app', 'a1', parents=['buckets/base/channels/production'])
        m.assign('app', 'stable', 'a1')
        m.complete_iteration('svc', 's0', parents=['buckets/app/channels/stable'])
        m.assign('svc', 'prod', 's0')
        m.complete_iteration('base', 'b2')
        m.assign('base', 'production', 'b2')
        m.assign('base', 'beta', 'b2')
        m.complete_iteration('app', 'a2', parents=['buckets/base/channels/production'])
        m.assign('app', 'stable', 'a2')
        m.assign('app', 'edge', 'a2')
        m.complete_iteration('svc', 's1', parents=['buckets/app/channels/stable'])
        m.assign('svc', 'prod', 's1')
        m.complete_iteration('tools', 'x1')
        m.complete_iteration('combo', 'c1', parents=['buckets/app/iterations/a2',
                                                     'buckets/tools/iterations/x1'])
        m.assign('combo', 'prod', 'c1')

    REVOKED = [('base', 'b2'), ('app', 'a2'), ('svc', 's1'), ('combo', 'c1')]
    UNTOUCHED = [('base', 'b1'), ('app', 'a1'), ('svc', 's0'), ('tools', 'x1')]

    def test_revoking_a_base_revokes_every_descendant_and_rolls_back_channels(self):
        m = self.m
        n = len(m.events())
        t0 = time.time()
        self.revoke('base', 'b2', REASON)
        want = {k: 'revoked' for k in self.REVOKED}
        want.update({k: 'active' for k in self.UNTOUCHED})
        self.assertStatus(want)
        at = self.assertRecord('base', 'b2', 'revoked', 'manual', REASON)
        self.assertLessEqual(abs(at - t0), 5)
        for k in self.REVOKED[1:]:
            self.assertRecord(*k, 'revoked', 'inherited', REASON, at=at, from_=('base', 'b2'))
        for k in self.UNTOUCHED:
            self.assertValueFile(m, it_path(*k) + '/revoke', '')
        self.assertChannels({
            ('base', 'production'): 'b1', ('base', 'beta'): None, ('base', 'latest'): 'b1',
            ('app', 'stable'): 'a1', ('app', 'edge'): None, ('app', 'latest'): 'a1',
            ('svc', 'prod'): 's0', ('svc', 'latest'): 's0',
            ('combo', 'prod'): None, ('combo', 'latest'): None,
            ('tools', 'latest'): 'x1',
        })
        self.assertEqual(m.listdir('buckets/combo/channels'), [])
        revokes = [e for _, e in m.events()[n:] if e['action'] == 'revoke']
        self.assertEqual(sorted(e.get('iteration') for e in revokes),
                         sorted(fp for _, fp in self.REVOKED),
                         'one revoke event per revoked iteration: %r' % revokes)
        for e in revokes:
            if e['iteration'] == 'b2':
                self.assertEqual((e.get('bucket'), e.get('type'), e.get('by'),
                                  e.get('reason'), e.get('version')),
                                 ('base', 'manual', 'root', REASON, 'v2'))
            else:
                self.assertEqual(e.get('type'), 'inherited')
                self.assertIn('b2', e.get('inherited-from', ''))
        moved = {e.get('channel') for _, e in m.events()[n:]
                 if e['action'] in ('assign', 'unassign')}
        self.assertLessEqual({'production', 'beta', 'stable', 'edge', 'prod'}, moved,
                             'every rollback is kept in the channel history')

    def test_restoring_the_base_restores_every_inherited_revocation(self):
        m = self.m
        self.revoke('base', 'b2', REASON)
        n = len(m.events())
        self.restore('base', 'b2')
        self.assertStatus({k: 'active' for k in self.REVOKED + self.UNTOUCHED})
        for k in self.REVOKED:
            self.assertValueFile(m, it_path(*k) + '/revoke', '')
        # channels stay where the rollback put them; latest is recomputed
        self.assertChannels({
            ('base', 'production'): 'b1', ('base', 'beta'): None, ('base', 'latest'): 'b2',
            ('app', 'stable'): 'a1', ('app', 'edge'): None, ('app', 'latest'): 'a2',
            ('svc', 'prod'): 's0', ('svc', 'latest'): 's1',
            ('combo', 'prod'): None, ('combo', 'latest'): 'c1',
        })
        self.assertIn('restore', [e['action'] for _, e in m.events()[n:]])

    def test_explicitly_revoked_grandchild_stays_revoked_after_restore(self):
        m = self.m
        self.revoke('svc', 's1', 'svc: leaks credentials')
        self.revoke('base', 'b2', REASON)
        self.assertRecord('svc', 's1', 'revoked', 'manual', 'svc: leaks credentials')
        self.assertRecord('app', 'a2', 'revoked', 'inherited', REASON, from_=('base', 'b2'))
        self.restore('base', 'b2')
        self.assertStatus({('base', 'b2'): 'active', ('app', 'a2'): 'active',
                           ('combo', 'c1'): 'active', ('svc', 's1'): 'revoked'})
        self.assertRecord('svc', 's1', 'revoked', 'manual', 'svc: leaks credentials')

    def test_multi_parent_child_keeps_revocation_of_the_other_ancestor(self):
        m = self.m
        self.revoke('tools', 'x1', 'tools: bad compiler')
        at_x = self.assertRecord('combo', 'c1', 'revoked', 'inherited', 'tools: bad compiler',
                                 from_=('tools', 'x1'))
        time.sleep(1.1)
        self.revoke('base', 'b2', REASON)
        # several inherited revocations: the earliest wins
        self.assertRecord('combo', 'c1', 'revoked', 'inherited', 'tools: bad compiler',
                          at=at_x, from_=('tools', 'x1'))
        self.restore('tools', 'x1')
        self.assertRecord('combo', 'c1', 'revoked', 'inherited', REASON, from_=('base', 'b2'))
        self.restore('base', 'b2')
        self.assertStatus({('combo', 'c1'): 'active', ('tools', 'x1'): 'active'})

    def test_descendants_no_revokes_only_the_iteration(self):
        self.revoke('base', 'b2', 'descendants=no ' + REASON)
        self.assertStatus({('base', 'b2'): 'revoked', ('app', 'a2'): 'active',
                           ('svc', 's1'): 'active', ('combo', 'c1'): 'active'})
        self.assertRecord('base', 'b2', 'revoked', 'manual', REASON)
        self.assertChannels({('base', 'production'): 'b1', ('app', 'stable'): 'a2'})

    def test_restoring_an_inherited_revocation_is_eperm(self):
        self.revoke('base', 'b2', REASON)
        self.assertRefused(errno.EPERM, self.m.write, it_path('app', 'a2') + '/restore', 'x\n')
        self.assertRefused(errno.EPERM, self.m.write, it_path('svc', 's1') + '/restore', 'x\n')
        self.assertStatus({('app', 'a2'): 'revoked'})

    def test_revoking_an_inherited_revocation_again_is_ealready(self):
        self.revoke('base', 'b2', REASON)
        self.assertRefused(errno.EALREADY, self.m.write, it_path('app', 'a2') + '/revoke',
                           'again\n')


class Revoke(RevokeCase):

    def setUp(self):
        super().setUp()
        m = self.m
        m.complete_iteration('base', 'b1')
        m.complete_iteration('base', 'b2')
        m.assign('base', 'production', 'b1')
        m.assign('base', 'production', 'b2')
        m.complete_iteration('app', 'a2', parents=['buckets/base/iterations/b2'])

    def test_revoke_record_key_value_lines_exactly(self):
        t0 = time.time()
        self.revoke('base', 'b1', REASON)
        text = self.m.text(it_path('base', 'b1') + '/revoke')
        lines = text.split('\n')
        self.assertEqual(lines[-1], '', 'the record ends with a newline')
        self.assertEqual(len(lines), 6, text)
        self.assertEqual(lines[0], 'state=revoked')
        self.assertRegex(lines[1], r'^at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertLessEqual(abs(lt.parse_time(lines[1][3:]) - t0), 5)
        self.assertEqual(lines[2:5], ['reason=' + REASON, 'by=root', 'type=manual'])
        self.revoke('base', 'b2', 'second')
        text = self.m.text(it_path('app', 'a2') + '/revoke')
        lines = text.split('\n')
        self.assertEqual(len(lines), 7, text)
        self.assertEqual(lines[0], 'state=revoked')
        self.assertEqual(lines[2:6], ['reason=second', 'by=root', 'type=inherited',
                                      'inherited-from=buckets/base/iterations/b2'])

    def test_revoke_event_fields(self):
        n = len(self.m.events())
        self.revoke('base', 'b1', REASON)
        evs = [e for _, e in self.m.events()[n:] if e['action'] == 'revoke']
        self.assertEqual(len(evs), 1)
        e = evs[0]
        self.assertEqual((e.get('bucket'), e.get('iteration'), e.get('version'), e.get('by'),
                          e.get('type'), e.get('reason')),
                         ('base', 'b1', 'v1', 'root', 'manual', REASON))

    def test_rollback_skips_history_entries_that_are_revoked(self):
        m = self.m
        m.complete_iteration('base', 'b3')
        m.assign('base', 'production', 'b3')
        self.revoke('base', 'b2', 'descendants=no bad b2')
        self.assertChannels({('base', 'production'): 'b3'})
        self.revoke('base', 'b3', 'bad b3')
        self.assertChannels({('base', 'production'): 'b1', ('base', 'latest'): 'b1'})

    def test_channel_without_an_earlier_good_iteration_is_deleted(self):
        m = self.m
        os.symlink('../iterations/b2', m.path('buckets/base/channels/fresh'))
        self.revoke('base', 'b2', REASON)
        self.assertFalse(m.exists('buckets/base/channels/fresh'))
        self.assertEqual(m.listdir('buckets/base/channels'), ['latest', 'production'])

    def test_latest_moves_back_and_is_absent_when_nothing_is_left(self):
        m = self.m
        self.revoke('base', 'b2', REASON)
        self.assertChannels({('base', 'latest'): 'b1'})
        self.revoke('base', 'b1', REASON)
        self.assertChannels({('base', 'latest'): None, ('base', 'production'): None})
        self.assertEqual(m.listdir('buckets/base/channels'), [])

    def test_at_in_the_past_and_in_0s_are_immediate(self):
        self.revoke('base', 'b2', 'at=2020-01-01T00:00:00Z compromised')
        self.assertStatus({('base', 'b2'): 'revoked', ('app', 'a2'): 'revoked'})
        self.assertEqual(dict(self.m.record('base', 'b2'))['state'], 'revoked')
        self.assertChannels({('base', 'production'): 'b1'})
        self.revoke('base', 'b1', 'in=0s compromised too')
        self.assertStatus({('base', 'b1'): 'revoked'})

    def test_options_in_any_order_before_the_reason(self):
        self.revoke('base', 'b2', 'rollback=yes descendants=no in=0s ' + REASON)
        self.assertStatus({('base', 'b2'): 'revoked', ('app', 'a2'): 'active'})
        self.assertRecord('base', 'b2', 'revoked', 'manual', REASON)

    def test_reason_of_1024_bytes_accepted(self):
        reason = 'r' * 1024
        self.m.write(it_path('base', 'b2') + '/revoke', reason + '\n')
        self.assertRecord('base', 'b2', 'revoked', 'manual', reason)

    def test_rollback_no_with_a_channel_on_it_is_ebusy(self):
        self.assertRefused(errno.EBUSY, self.m.write, it_path('base', 'b2') + '/revoke',
                           'rollback=no ' + REASON + '\n')
        self.assertStatus({('base', 'b2'): 'active', ('app', 'a2'): 'active'})
        self.assertShRefused("echo 'rollback=no %s' > %s/revoke" % (REASON, it_path('base', 'b2')),
                             'Device or resource busy')

    def test_rollback_no_without_user_channels_revokes_and_moves_latest(self):
        m = self.m
        m.assign('base', 'production', 'b1')
        self.revoke('base', 'b2', 'rollback=no ' + REASON)
        self.assertStatus({('base', 'b2'): 'revoked', ('app', 'a2'): 'revoked'})
        self.assertChannels({('base', 'latest'): 'b1', ('base', 'production'): 'b1'})

    def test_revoking_twice_is_ealready(self):
        self.revoke('base', 'b2', REASON)
        self.assertRefused(errno.EALREADY, self.m.write, it_path('base', 'b2') + '/revoke',
                           'again\n')
        self.assertShRefused("echo again > %s/revoke" % it_path('base', 'b2'),
                             'Operation already in progress')

    def test_restoring_what_is_not_revoked_is_einval(self):
        m = self.m
        self.assertRefused(errno.EINVAL, m.write, it_path('base', 'b1') + '/restore', 'x\n')
        m.mkiter('base', 'wip')
        self.assertRefused(errno.EINVAL, m.write, it_path('base', 'wip') + '/restore', 'x\n')

    def test_echo_without_reason_fails_with_invalid_argument_and_says_why(self):
        m = self.m
        rel = it_path('base', 'b1') + '/revoke'
        r = self.assertShRefused('echo > ' + rel, 'Invalid argument')
        self.assertIn('Invalid argument', r.stderr)
        t, f = lt.parse_error_line(m.errors_tail()[0])
        self.assertEqual((f.get('op'), f.get('path'), f.get('errno')), ('write', rel, 'EINVAL'))
        self.assertIn('reason', f.get('why', '').lower(),
                      'the errors line says a reason is required: %r' % f)
        self.assertStatus({('base', 'b1'): 'active'})

    def test_malformed_revoke_lines_are_einval(self):
        rel = it_path('base', 'b2') + '/revoke'
        bad = [b'\n', b'in=2s\n', b'in=2x bad unit\n', b'in=abc reason\n',
               b'in=-5s reason\n', b'at=yesterday reason\n',
               b'at=2026-13-45T99:00:00Z reason\n', b'descendants=maybe reason\n',
               b'rollback=perhaps reason\n', b'colour=blue reason\n',
               b'in=1h at=2030-01-01T00:00:00Z reason\n', b'first line\nsecond line\n',
               b'reason with \x01 control\n', b'reason \xff\xfe\n', b'   \n',
               b'rollback=no\n', b'reason\x00nul\n']
        for line in bad:
            self.assertRefused(errno.EINVAL, self.m.write, rel, line)
        before = self.m.export()
        with self.assertRaises(OSError) as cm:
            self.m.write(rel, 'x' * 1025 + '\n')
        self.assertIn(cm.exception.errno, (errno.EINVAL, errno.EFBIG))
        self.assertExportEqual(before, self.m.export(), 'a reason of 1025 bytes')
        self.assertStatus({('base', 'b2'): 'active'})

    def test_parent_link_to_a_revoked_iteration_is_ekeyrevoked(self):
        m = self.m
        self.revoke('base', 'b2', REASON)
        m.mkiter('app', 'n1')
        self.assertRefused(errno.EKEYREVOKED, m.write, it_path('app', 'n1') + '/parent',
                           'buckets/base/iterations/b2\n')
        self.assertShRefused('echo buckets/base/versions/v2 > %s/parent' % it_path('app', 'n1'),
                             'Key has been revoked')
        self.assertEqual(m.listdir(it_path('app', 'n1') + '/parents'), [])

    def test_assigning_a_revoked_iteration_is_ekeyrevoked(self):
        m = self.m
        self.revoke('base', 'b2', REASON)
        self.assertRefused(errno.EKEYREVOKED, os.symlink, '../iterations/b2',
                           m.path('buckets/base/channels/qa-ring'))
        r = m.sh('ln -sfn ../iterations/b2 buckets/base/channels/production', check=False,
                 shell='bash')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Key has been revoked', r.stderr)
        self.assertChannels({('base', 'production'): 'b1', ('base', 'qa-ring'): None})

    def test_writes_into_a_revoked_iteration_are_ekeyrevoked(self):
        m = self.m
        m.mkiter('app', 'wip', builds={'linux': ('aws', {'us-east-1': lt.unique_extid()})},
                 parents=['buckets/base/iterations/b1'])
        self.revoke('base', 'b1', REASON)
        self.assertStatus({('app', 'wip'): 'revoked'})
        p = it_path('app', 'wip')
        self.assertRefused(errno.EKEYREVOKED, m.write, p + '/builds/linux/platform', 'gce\n')
        self.assertRefused(errno.EKEYREVOKED, m.write, p + '/builds/linux/artifacts/eu-west-1',
                           'ami-0new\n')
        self.assertRefused(errno.EKEYREVOKED, m.write, p + '/builds/linux/labels/os', 'x\n')
        self.assertRefused(errno.EKEYREVOKED, os.mkdir, m.path(p + '/builds/more'))
        self.assertRefused(errno.EKEYREVOKED, m.write, p + '/complete', '1\n')
        self.assertRefused(errno.EKEYREVOKED, m.write, p + '/parent',
                           'buckets/app/iterations/a2\n')
        self.assertRefused(errno.EKEYREVOKED, os.remove, m.path(p + '/parents/base@b1'))

    def test_child_linked_to_a_scheduled_parent_inherits_the_schedule(self):
        m = self.m
        self.revoke('base', 'b2', 'in=1h planned retirement')
        at = self.assertRecord('base', 'b2', 'scheduled', 'manual', 'planned retirement')
        self.assertLessEqual(abs(at - (time.time() + 3600)), 5)
        m.mkiter('app', 'n1', parents=['buckets/base/iterations/b2'])
        self.assertStatus({('app', 'n1'): 'scheduled', ('app', 'a2'): 'scheduled'})
        self.assertRecord('app', 'n1', 'scheduled', 'inherited', 'planned retirement',
                          at=at, from_=('base', 'b2'))

    def test_scheduled_revocation_keeps_channels_and_latest_until_due(self):
        m = self.m
        n = len(m.events())
        self.revoke('base', 'b2', 'in=30d planned retirement')
        self.assertStatus({('base', 'b2'): 'scheduled', ('app', 'a2'): 'scheduled'})
        self.assertChannels({('base', 'production'): 'b2', ('base', 'latest'): 'b2'})
        self.assertIn('schedule-revocation', [e['action'] for _, e in m.events()[n:]])
        at = lt.parse_time(dict(m.record('base', 'b2'))['at'])
        self.assertLessEqual(abs(at - (time.time() + 30 * 86400)), 5)
        # still valid until then: it can be assigned
        os.symlink('../iterations/b2', m.path('buckets/base/channels/qa-ring'))
        self.assertChannels({('base', 'qa-ring'): 'b2'})

    def test_several_explicit_revocations_the_earliest_wins(self):
        m = self.m
        self.revoke('base', 'b2', 'in=2h later')
        at2 = lt.parse_time(dict(m.record('base', 'b2'))['at'])
        self.revoke('base', 'b2', 'in=1h sooner')
        at1 = self.assertRecord('base', 'b2', 'scheduled', 'manual', 'sooner')
        self.assertLess(at1, at2)
        self.assertLessEqual(abs(at1 - (time.time() + 3600)), 5)
        self.revoke('base', 'b2', 'in=3h latest of all')
        self.assertRecord('base', 'b2', 'scheduled', 'manual', 'sooner', at=at1)
        self.revoke('base', 'b2', 'now')
        self.assertRecord('base', 'b2', 'revoked', 'manual', 'now')
        self.assertChannels({('base', 'production'): 'b1'})

    def test_explicit_revocation_outranks_a_scheduled_inherited_one(self):
        m = self.m
        self.revoke('base', 'b2', 'in=1h retire base')
        self.assertRecord('app', 'a2', 'scheduled', 'inherited', 'retire base',
                          from_=('base', 'b2'))
        self.assertRefused(errno.EPERM, m.write, it_path('app', 'a2') + '/restore', 'x\n')
        self.revoke('app', 'a2', 'app is broken')
        self.assertRecord('app', 'a2', 'revoked', 'manual', 'app is broken')
        self.assertStatus({('app', 'a2'): 'revoked', ('base', 'b2'): 'scheduled'})

    def test_cancelling_a_scheduled_revocation(self):
        m = self.m
        self.revoke('base', 'b2', 'in=2h45m maybe')
        n = len(m.events())
        self.restore('base', 'b2', 'not needed after all')
        self.assertStatus({('base', 'b2'): 'active', ('app', 'a2'): 'active'})
        self.assertValueFile(m, it_path('base', 'b2') + '/revoke', '')
        self.assertIn('cancel-revocation', [e['action'] for _, e in m.events()[n:]])

    def test_scheduled_in_2s_takes_effect_on_time_with_rollback(self):
        m = self.m
        self.revoke('base', 'b2', 'in=2s key rotation')
        rec = dict(m.record('base', 'b2'))
        self.assertEqual(rec['state'], 'scheduled')
        due = lt.parse_time(rec['at'])
        self.assertGreaterEqual(due - time.time(), 0.5)
        self.assertLessEqual(due - time.time(), 3)
        self.assertStatus({('base', 'b2'): 'scheduled', ('app', 'a2'): 'scheduled'})
        self.assertChannels({('base', 'production'): 'b2'})
        while time.time() < due + 3:
            st = m.status('base', 'b2')
            now = time.time()
            if st == 'revoked':
                break
            self.assertEqual(st, 'scheduled')
            time.sleep(0.05)
        self.assertEqual(st, 'revoked', 'still %s 3 s after it was due' % st)
        self.assertGreaterEqual(now, due - 0.1, 'revoked before its time')
        late = 0.3 + 1.0 * lt.TIME_SCALE
        self.assertLessEqual(now, due + late, 'revoked %.1f s after its time' % (now - due))
        ok, _ = lt.wait_until(lambda: m.channel('base', 'production') == 'b1',
                              max(0.1, due + late - time.time()))
        self.assertTrue(ok, 'production was not rolled back within 1 s of the due time')
        self.assertChannels({('base', 'latest'): 'b1'})
        self.assertStatus({('app', 'a2'): 'revoked'})
        self.assertEqual(dict(m.record('base', 'b2'))['state'], 'revoked')
        self.assertRecord('app', 'a2', 'revoked', 'inherited', 'key rotation', at=due,
                          from_=('base', 'b2'))


class DueWhileUnmounted(RevokeCase):

    def test_revocation_due_while_unmounted_takes_effect_on_the_next_mount(self):
        m = self.m
        m.complete_iteration('base', 'b1')
        m.complete_iteration('base', 'b2')
        m.assign('base', 'production', 'b1')
        m.assign('base', 'production', 'b2')
        self.revoke('base', 'b2', 'in=2s rotate')
        due = lt.parse_time(dict(m.record('base', 'b2'))['at'])
        self.assertEqual(m.unmount(), [])
        time.sleep(max(0.0, due + 0.5 - time.time()))
        again = self.mount(share=m)
        self.assertEqual(again.status('base', 'b2'), 'revoked')
        self.assertEqual(again.channel('base', 'production'), 'b1',
                         'the rollback happened when the registry was next mounted')
        self.assertEqual(again.channel('base', 'latest'), 'b1')
        revokes = [e for _, e in again.events() if e['action'] == 'revoke']
        self.assertEqual([e.get('iteration') for e in revokes], ['b2'])


class Delete(RevokeCase):

    def test_rmdir_of_a_running_iteration_deletes_it_with_its_builds(self):
        m = self.m
        ext = lt.unique_extid()
        m.mkiter('base', 'wip', builds={'linux': ('aws', {'us-east-1': ext})})
        u = m.ulid('base', 'wip')
        n = len(m.events())
        m.sh('rmdir buckets/base/iterations/wip')
        self.assertEqual(m.listdir('buckets/base/iterations'), [])
        self.assertNotIn(u, m.listdir('by-id'))
        self.assertNotIn(ext, m.listdir('artifacts'))
        self.assertIn('iteration-delete', [e['action'] for _, e in m.events()[n:]])
        os.rmdir(m.path('buckets/base'))

    def test_rmdir_of_a_revoked_iteration_deletes_it(self):
        m = self.m
        m.complete_iteration('base', 'b1')
        m.complete_iteration('base', 'b2')
        self.revoke('base', 'b2', REASON)
        os.rmdir(m.path(it_path('base', 'b2')))
        self.assertEqual(m.listdir('buckets/base/iterations'), ['b1'])
        self.assertEqual(m.listdir('buckets/base/versions'), ['v1'])
        self.assertChannels({('base', 'latest'): 'b1'})

    def test_a_deleted_version_number_is_never_given_again(self):
        m = self.m
        m.complete_iteration('base', 'b1')
        m.complete_iteration('base', 'b2')
        self.revoke('base', 'b2', REASON)
        os.rmdir(m.path(it_path('base', 'b2')))
        m.complete_iteration('base', 'b3')
        self.assertEqual(m.read(it_path('base', 'b3') + '/version'), b'v3\n')
        self.assertEqual(m.listdir('buckets/base/versions'), ['v1', 'v3'])
        self.assertChannels({('base', 'latest'): 'b3'})

    def test_rmdir_of_an_active_or_scheduled_iteration_is_ebusy(self):
        m = self.m
        m.complete_iteration('base', 'b1')
        self.assertRefused(errno.EBUSY, os.rmdir, m.path(it_path('base', 'b1')))
        self.assertShRefused('rmdir buckets/base/iterations/b1', 'Device or resource busy')
        self.revoke('base', 'b1', 'in=1h later')
        self.assertRefused(errno.EBUSY, os.rmdir, m.path(it_path('base', 'b1')))

    def test_rmdir_of_an_iteration_with_children_is_ebusy(self):
        m = self.m
        m.mkiter('base', 'wip')
        m.mkiter('app', 'child', parents=['buckets/base/iterations/wip'])
        self.assertRefused(errno.EBUSY, os.rmdir, m.path(it_path('base', 'wip')))
        m.complete_iteration('base', 'b1')
        m.complete_iteration('app', 'a1', parents=['buckets/base/iterations/b1'])
        self.revoke('base', 'b1', REASON)
        self.assertRefused(errno.EBUSY, os.rmdir, m.path(it_path('base', 'b1')))
        os.rmdir(m.path(it_path('app', 'a1')))
        os.rmdir(m.path(it_path('base', 'b1')))
        self.assertEqual(m.listdir('buckets/base/iterations'), ['wip'])


class DenyRevoked(RevokeCase):

    mount_options = ('deny_revoked',)

    def setUp(self):
        super().setUp()
        m = self.m
        self.good = lt.unique_extid()
        self.bad = lt.unique_extid()
        m.complete_iteration('base', 'b1', builds={'linux': ('aws', {'us-east-1': self.good})})
        m.complete_iteration('base', 'b2', builds={'linux': ('aws', {'us-east-1': self.bad})})
        m.complete_iteration('app', 'a2', parents=['buckets/base/iterations/b2'],
                             builds={'linux': ('aws', {'us-east-1': lt.unique_extid()})})

    def test_reading_an_artifact_of_a_revoked_iteration_is_ekeyrevoked(self):
        m = self.m
        self.revoke('base', 'b2', REASON)
        rel = it_path('base', 'b2') + '/builds/linux/artifacts/us-east-1'
        self.assertRefused(errno.EKEYREVOKED, m.read, rel)
        self.assertRefused(errno.EKEYREVOKED, m.read,
                           'artifacts/%s/artifacts/us-east-1' % self.bad)
        self.assertRefused(errno.EKEYREVOKED, m.read,
                           it_path('app', 'a2') + '/builds/linux/artifacts/us-east-1')
        r = m.sh('cat ' + rel, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Key has been revoked', r.stderr)
        self.assertValueFile(m, it_path('base', 'b1') + '/builds/linux/artifacts/us-east-1',
                             self.good)
        self.assertValueFile(m, it_path('base', 'b2') + '/status', 'revoked')
        self.assertValueFile(m, it_path('base', 'b2') + '/builds/linux/platform', 'aws')

    def test_scheduled_artifact_still_readable_and_plain_mount_reads_revoked(self):
        m = self.m
        self.revoke('base', 'b1', 'in=1h later')
        self.assertValueFile(m, it_path('base', 'b1') + '/builds/linux/artifacts/us-east-1',
                             self.good)
        self.revoke('base', 'b2', REASON)
        plain = self.mount(share=m)
        self.assertValueFile(plain, it_path('base', 'b2') + '/builds/linux/artifacts/us-east-1',
                             self.bad)


if __name__ == '__main__':
    lt.main()
