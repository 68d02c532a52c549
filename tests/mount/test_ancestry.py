#!/usr/bin/env python3
# test_ancestry.py — mount tests for "Ancestry" (SPEC.md §6): parent links
# written as paths or through a build's `source`, the link status computed
# from the recorded channel, the `ancestry` summary, parents/ and children/,
# the transitive views (ancestors, descendants, tree, graph.dot), and the
# refusals (ELOOP, ENOENT, EPERM, EACCES, EKEYREVOKED is in test_revoke.py).
# The first test follows the HCP Packer story of a golden base image and
# the application images built from it.

import errno
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

SVG = '{http://www.w3.org/2000/svg}'


def line(bucket, fp, channel='-', status='undetermined'):
    """One line of a `parent` file."""
    return '%s channel=%s status=%s' % (it_path(bucket, fp), channel, status)


class Story(MountTestCase):

    APPS = ('web', 'api', 'worker')

    def parent_of(self, bucket, fp):
        return self.m.text(it_path(bucket, fp) + '/parent')

    def test_golden_image_story_out_of_date_then_up_to_date(self):
        m = self.m
        m.complete_iteration('base', 'base-v1')
        m.sh('ln -s ../iterations/base-v1 buckets/base/channels/production')
        for app in self.APPS:
            m.mkiter(app, app + '-1')
            m.sh('echo buckets/base/channels/production > buckets/%s/iterations/%s-1/parent'
                 % (app, app))
            m.complete(app, app + '-1')
        m.mkiter('pinned', 'pinned-1')
        m.sh('echo buckets/base/iterations/base-v1 > buckets/pinned/iterations/pinned-1/parent')
        m.complete('pinned', 'pinned-1')

        for app in self.APPS:
            self.assertEqual(self.parent_of(app, app + '-1'),
                             line('base', 'base-v1', 'production', 'up-to-date') + '\n')
            self.assertValueFile(m, it_path(app, app + '-1') + '/ancestry', 'up-to-date')
        self.assertEqual(self.parent_of('pinned', 'pinned-1'),
                         line('base', 'base-v1') + '\n')
        self.assertValueFile(m, it_path('pinned', 'pinned-1') + '/ancestry', 'undetermined')
        self.assertEqual(m.listdir(it_path('base', 'base-v1') + '/children'),
                         sorted(['%s@%s-1' % (a, a) for a in self.APPS] + ['pinned@pinned-1']))

        # a new golden image is built and promoted
        m.complete_iteration('base', 'base-v2')
        m.sh('ln -sfn ../iterations/base-v2 buckets/base/channels/production')
        for app in self.APPS:
            self.assertEqual(self.parent_of(app, app + '-1'),
                             line('base', 'base-v1', 'production', 'out-of-date') + '\n')
            self.assertValueFile(m, it_path(app, app + '-1') + '/ancestry', 'out-of-date')
            self.assertEqual(os.stat(m.path(it_path(app, app + '-1') + '/parent')).st_size,
                             len(line('base', 'base-v1', 'production', 'out-of-date')) + 1)
        self.assertEqual(self.parent_of('pinned', 'pinned-1'), line('base', 'base-v1') + '\n')
        self.assertValueFile(m, it_path('pinned', 'pinned-1') + '/ancestry', 'undetermined')

        # rolled back by hand: the children are current again
        m.sh('ln -sfn ../iterations/base-v1 buckets/base/channels/production')
        for app in self.APPS:
            self.assertEqual(self.parent_of(app, app + '-1'),
                             line('base', 'base-v1', 'production', 'up-to-date') + '\n')
            self.assertValueFile(m, it_path(app, app + '-1') + '/ancestry', 'up-to-date')

        # the channel is deleted: nobody can tell any more
        m.sh('rm buckets/base/channels/production')
        for app in self.APPS:
            self.assertEqual(self.parent_of(app, app + '-1'),
                             line('base', 'base-v1', 'production', 'undetermined') + '\n')
            self.assertValueFile(m, it_path(app, app + '-1') + '/ancestry', 'undetermined')

    def test_parent_add_event(self):
        m = self.m
        m.complete_iteration('base', 'b1')
        n = len(m.events())
        m.mkiter('app', 'a1', parents=['buckets/base/iterations/b1'])
        adds = [e for _, e in m.events()[n:] if e['action'] == 'parent-add']
        self.assertEqual(len(adds), 1)
        self.assertIn('a1', ' '.join(adds[0].values()))
        self.assertIn('b1', ' '.join(adds[0].values()))


class Links(MountTestCase):

    def setUp(self):
        super().setUp()
        self.m.complete_iteration('base', 'b1')
        os.symlink('../iterations/b1', self.m.path('buckets/base/channels/production'))

    def test_parent_accepts_every_path_form(self):
        m = self.m
        u = m.ulid('base', 'b1')
        forms = [
            ('buckets/base/iterations/b1', '-'),
            ('base/iterations/b1', '-'),
            (m.path('buckets/base/iterations/b1'), '-'),
            ('buckets/base/versions/v1', '-'),
            ('base/versions/v1', '-'),
            ('by-id/' + u, '-'),
            (m.path('by-id/' + u), '-'),
            ('buckets/base/channels/production', 'production'),
            ('base/channels/production', 'production'),
            (m.path('buckets/base/channels/production'), 'production'),
        ]
        for i, (path, channel) in enumerate(forms):
            fp = 'c%d' % i
            m.mkiter('app', fp)
            m.write(it_path('app', fp) + '/parent', path + '\n')
            status = 'up-to-date' if channel != '-' else 'undetermined'
            self.assertEqual(m.text(it_path('app', fp) + '/parent'),
                             line('base', 'b1', channel, status) + '\n', 'written as ' + path)

    def test_parents_and_children_symlinks_resolve_to_the_iterations(self):
        m = self.m
        m.mkiter('app', 'a1', parents=['buckets/base/iterations/b1'])
        self.assertEqual(m.listdir(it_path('app', 'a1') + '/parents'), ['base@b1'])
        self.assertEqual(m.listdir(it_path('base', 'b1') + '/children'), ['app@a1'])
        self.assertTrue(os.path.islink(m.path(it_path('app', 'a1') + '/parents/base@b1')))
        self.assertEqual(m.realpath(it_path('app', 'a1') + '/parents/base@b1'),
                         m.path(it_path('base', 'b1')))
        self.assertEqual(m.realpath(it_path('base', 'b1') + '/children/app@a1'),
                         m.path(it_path('app', 'a1')))
        self.assertEqual(m.value(it_path('app', 'a1') + '/parents/base@b1/version'), 'v1')

    def test_rm_parent_while_incomplete_removes_the_link(self):
        m = self.m
        m.mkiter('app', 'a1', parents=['buckets/base/channels/production'])
        n = len(m.events())
        m.sh('rm buckets/app/iterations/a1/parents/base@b1')
        self.assertEqual(m.listdir(it_path('app', 'a1') + '/parents'), [])
        self.assertValueFile(m, it_path('app', 'a1') + '/parent', '')
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestry', 'none')
        self.assertEqual(m.listdir(it_path('base', 'b1') + '/children'), [])
        self.assertIn('parent-remove', [e['action'] for _, e in m.events()[n:]])

    def test_complete_child_keeps_its_parents_eperm(self):
        m = self.m
        m.complete_iteration('base', 'b2')
        m.complete_iteration('app', 'a1', parents=['buckets/base/iterations/b1'])
        self.assertRefused(errno.EPERM, os.remove,
                           m.path(it_path('app', 'a1') + '/parents/base@b1'))
        self.assertRefused(errno.EPERM, m.write, it_path('app', 'a1') + '/parent',
                           'buckets/base/iterations/b2\n')
        self.assertShRefused('echo buckets/base/iterations/b2 > %s/parent' % it_path('app', 'a1'),
                             'Operation not permitted')
        self.assertEqual(m.listdir(it_path('app', 'a1') + '/parents'), ['base@b1'])

    def test_build_source_of_a_registered_artifact_links_its_iteration(self):
        m = self.m
        ami = m.artifact_of('base', 'b1')
        m.mkiter('app', 'a1', builds={'linux': ('aws', {'us-east-1': lt.unique_extid()})})
        m.sh('echo %s > %s/builds/linux/source' % (ami, it_path('app', 'a1')))
        self.assertValueFile(m, it_path('app', 'a1') + '/builds/linux/source', ami)
        self.assertEqual(m.listdir(it_path('app', 'a1') + '/parents'), ['base@b1'])
        self.assertEqual(m.text(it_path('app', 'a1') + '/parent'), line('base', 'b1') + '\n')
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestry', 'undetermined')
        self.assertEqual(m.listdir(it_path('base', 'b1') + '/children'), ['app@a1'])
        m.complete('app', 'a1')
        self.assertEqual(m.lines(it_path('app', 'a1') + '/ancestors'), [it_path('base', 'b1')])

    def test_build_source_of_an_unknown_id_is_kept_untracked(self):
        m = self.m
        m.mkiter('app', 'a1', builds={'linux': ('aws', {'us-east-1': lt.unique_extid()})})
        m.write(it_path('app', 'a1') + '/builds/linux/source', 'ami-0notinregistry\n')
        self.assertValueFile(m, it_path('app', 'a1') + '/builds/linux/source',
                             'ami-0notinregistry')
        self.assertEqual(m.listdir(it_path('app', 'a1') + '/parents'), [])
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestors', '')
        self.assertEqual(m.listdir(it_path('base', 'b1') + '/children'), [])
        m.complete('app', 'a1')
        self.assertValueFile(m, it_path('app', 'a1') + '/builds/linux/source',
                             'ami-0notinregistry')

    def test_latest_recorded_as_channel_goes_out_of_date_when_base_completes(self):
        m = self.m
        m.mkiter('app', 'a1', parents=['buckets/base/channels/latest'])
        self.assertEqual(m.text(it_path('app', 'a1') + '/parent'),
                         line('base', 'b1', 'latest', 'up-to-date') + '\n')
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestry', 'up-to-date')
        m.complete_iteration('base', 'b2')
        self.assertEqual(m.text(it_path('app', 'a1') + '/parent'),
                         line('base', 'b1', 'latest', 'out-of-date') + '\n')
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestry', 'out-of-date')

    def test_multi_parent_child_of_two_bases(self):
        m = self.m
        m.complete_iteration('tools', 't1')
        os.symlink('../iterations/t1', m.path('buckets/tools/channels/production'))
        m.mkiter('app', 'a1', parents=['buckets/base/channels/production',
                                       'buckets/tools/iterations/t1'])
        self.assertEqual(sorted(m.lines(it_path('app', 'a1') + '/parent')),
                         sorted([line('base', 'b1', 'production', 'up-to-date'),
                                 line('tools', 't1')]))
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestry', 'undetermined')
        self.assertEqual(m.listdir(it_path('app', 'a1') + '/parents'), ['base@b1', 'tools@t1'])
        self.assertEqual(sorted(m.lines(it_path('app', 'a1') + '/ancestors')),
                         sorted([it_path('base', 'b1'), it_path('tools', 't1')]))
        for b, fp in (('base', 'b1'), ('tools', 't1')):
            self.assertEqual(m.listdir(it_path(b, fp) + '/children'), ['app@a1'])
        m.complete_iteration('base', 'b2')
        m.assign('base', 'production', 'b2')
        self.assertValueFile(m, it_path('app', 'a1') + '/ancestry', 'out-of-date')
        m.assign('base', 'production', 'b1')
        m.mkiter('app', 'a2', parents=['buckets/base/channels/production',
                                       'buckets/tools/channels/production'])
        self.assertValueFile(m, it_path('app', 'a2') + '/ancestry', 'up-to-date')


class Graph(MountTestCase):
    """top -> left, right -> bottom (a diamond), across four buckets."""

    def setUp(self):
        super().setUp()
        m = self.m
        m.complete_iteration('top', 't1')
        m.complete_iteration('left', 'l1', parents=['buckets/top/iterations/t1'])
        m.complete_iteration('right', 'r1', parents=['buckets/top/iterations/t1'])
        m.complete_iteration('bottom', 'x1', parents=['buckets/left/iterations/l1',
                                                      'buckets/right/iterations/r1'])

    def test_multi_level_ancestors_nearest_first(self):
        m = self.m
        m.complete_iteration('leaf', 'f1', parents=['buckets/bottom/iterations/x1'])
        anc = m.lines(it_path('leaf', 'f1') + '/ancestors')
        self.assertEqual(len(anc), 4, anc)
        self.assertEqual(anc[0], it_path('bottom', 'x1'))
        self.assertEqual(sorted(anc[1:3]), sorted([it_path('left', 'l1'), it_path('right', 'r1')]))
        self.assertEqual(anc[3], it_path('top', 't1'))
        self.assertEqual(m.lines(it_path('left', 'l1') + '/ancestors'), [it_path('top', 't1')])

    def test_descendants_breadth_first_diamond_listed_once(self):
        m = self.m
        desc = m.lines(it_path('top', 't1') + '/descendants')
        self.assertEqual(len(desc), 3, desc)
        self.assertEqual(sorted(desc[:2]), sorted([it_path('left', 'l1'), it_path('right', 'r1')]))
        self.assertEqual(desc[2], it_path('bottom', 'x1'))
        self.assertEqual(m.lines(it_path('left', 'l1') + '/descendants'), [it_path('bottom', 'x1')])
        self.assertValueFile(m, it_path('bottom', 'x1') + '/descendants', '')
        anc = m.lines(it_path('bottom', 'x1') + '/ancestors')
        self.assertEqual(len(anc), 3, 'the shared ancestor is listed once: %r' % anc)
        self.assertEqual(anc[2], it_path('top', 't1'))

    def test_tree_mentions_bucket_version_fingerprint_and_state_of_each_node(self):
        m = self.m
        m.mkiter('extra', 'e1', parents=['buckets/bottom/iterations/x1'])
        tree = m.lines(it_path('top', 't1') + '/tree')
        nodes = [('top', 't1', 'v1', 'active'), ('left', 'l1', 'v1', 'active'),
                 ('right', 'r1', 'v1', 'active'), ('bottom', 'x1', 'v1', 'active'),
                 ('extra', 'e1', 'v0', 'running')]
        for bucket, fp, version, state in nodes:
            self.assertTrue(any(bucket in l and fp in l and version in l and state in l
                                for l in tree),
                            'no line of tree names %s %s %s %s:\n%s'
                            % (bucket, fp, version, state, '\n'.join(tree)))
        self.assertEqual(os.stat(m.path(it_path('top', 't1') + '/tree')).st_size,
                         len(m.read(it_path('top', 't1') + '/tree')))

    def svg(self):
        dot = lt.require_tool('dot')
        r = subprocess.run([dot, '-Tsvg', self.m.path('graph.dot')], capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, 'dot -Tsvg graph.dot failed: %s'
                         % r.stderr.decode('utf-8', 'replace'))
        return ET.fromstring(r.stdout)

    @staticmethod
    def groups(root, cls):
        return [g for g in root.iter(SVG + 'g') if g.get('class') == cls]

    @staticmethod
    def texts(g):
        return ' '.join((t.text or '') for t in g.iter(SVG + 'text'))

    @staticmethod
    def colours(g):
        out = []
        for el in g.iter():
            if el.tag in (SVG + 'ellipse', SVG + 'polygon', SVG + 'path', SVG + 'rect',
                          SVG + 'text'):
                out.append((el.get('fill'), el.get('stroke')))
        return tuple(out)

    @staticmethod
    def dashed(g):
        return any(el.get('stroke-dasharray') for el in g.iter(SVG + 'path'))

    def test_graph_dot_renders_one_node_per_iteration_one_edge_per_link(self):
        m = self.m
        m.mkiter('extra', 'e1', parents=['buckets/bottom/iterations/x1'])
        root = self.svg()
        nodes = self.groups(root, 'node')
        edges = self.groups(root, 'edge')
        self.assertEqual(len(nodes), len(m.listdir('by-id')), 'one node per iteration')
        self.assertEqual(len(edges), 5, 'one edge per parent link')
        for bucket, version in (('top', 'v1'), ('left', 'v1'), ('right', 'v1'),
                                ('bottom', 'v1'), ('extra', 'v0')):
            self.assertTrue(any(bucket in self.texts(n) and version in self.texts(n)
                                for n in nodes),
                            'no node labelled with %s and %s' % (bucket, version))
        self.assertFalse(any(self.dashed(e) for e in edges),
                         'no link is out of date, yet an edge is dashed')

    def test_graph_dot_dashes_out_of_date_links_and_colours_by_state(self):
        m = self.m
        os.symlink('../iterations/t1', m.path('buckets/top/channels/production'))
        m.complete_iteration('app', 'a1', parents=['buckets/top/channels/production'])
        m.complete_iteration('top', 't2')
        m.assign('top', 'production', 't2')
        m.mkiter('wip', 'w1')
        m.complete_iteration('gone', 'g1')
        m.write(it_path('gone', 'g1') + '/revoke', 'withdrawn\n')
        root = self.svg()
        edges = self.groups(root, 'edge')
        self.assertEqual(len(edges), 5)
        self.assertEqual(sum(1 for e in edges if self.dashed(e)), 1,
                         'exactly the one out-of-date link is dashed')
        nodes = self.groups(root, 'node')
        by_label = {}
        for n in nodes:
            t = self.texts(n)
            for bucket in ('wip', 'left', 'gone'):
                if bucket in t:
                    by_label[bucket] = self.colours(n)
        self.assertEqual(set(by_label), {'wip', 'left', 'gone'})
        self.assertEqual(len(set(by_label.values())), 3,
                         'running, active and revoked iterations are coloured apart: %r'
                         % by_label)


class Refusals(MountTestCase):

    def setUp(self):
        super().setUp()
        self.m.complete_iteration('base', 'b1')

    def test_self_parent_is_eloop(self):
        m = self.m
        m.mkiter('app', 'a1')
        self.assertRefused(errno.ELOOP, m.write, it_path('app', 'a1') + '/parent',
                           it_path('app', 'a1') + '\n')
        self.assertShRefused('echo buckets/app/iterations/a1 > buckets/app/iterations/a1/parent',
                             'Too many levels of symbolic links')

    def test_cycle_is_eloop(self):
        m = self.m
        m.mkiter('one', 'p1')
        m.mkiter('two', 'p2', parents=[it_path('one', 'p1')])
        m.mkiter('three', 'p3', parents=[it_path('two', 'p2')])
        self.assertRefused(errno.ELOOP, m.write, it_path('one', 'p1') + '/parent',
                           it_path('two', 'p2') + '\n')
        self.assertRefused(errno.ELOOP, m.write, it_path('one', 'p1') + '/parent',
                           it_path('three', 'p3') + '\n')
        self.assertValueFile(m, it_path('one', 'p1') + '/parent', '')

    def test_path_naming_nothing_is_enoent(self):
        m = self.m
        m.mkiter('app', 'a1')
        for path in ('buckets/base/iterations/nosuch', 'buckets/nobucket/iterations/b1',
                     'by-id/01ARZ3NDEKTSV4RRFFQ69G5FAV', 'buckets/base/channels/nochan',
                     'buckets/base/versions/v7'):
            self.assertRefused(errno.ENOENT, m.write, it_path('app', 'a1') + '/parent',
                               path + '\n')
        self.assertShRefused('echo buckets/base/iterations/nosuch > %s/parent'
                             % it_path('app', 'a1'), 'No such file or directory')

    def test_parent_outside_the_mount_is_einval(self):
        m = self.m
        m.mkiter('app', 'a1')
        elsewhere = os.path.join(m.tmp, 'other', 'buckets', 'base', 'iterations', 'b1')
        for path in (elsewhere, '/etc/passwd', '../buckets/base/iterations/b1'):
            self.assertRefused(errno.EINVAL, m.write, it_path('app', 'a1') + '/parent',
                               path + '\n')


class Permissions(MountTestCase):

    mount_options = ('allow_other',)

    def test_parent_in_a_bucket_the_writer_may_not_read_is_eacces(self):
        m = self.m
        m.complete_iteration('secret', 's1')
        os.chmod(m.path('buckets/secret'), 0o700)
        m.complete_iteration('public', 'p1')
        m.mkiter('app', 'c1')
        os.chown(m.path('buckets/app'), lt.NOBODY_UID, lt.NOBODY_GID)
        parent = it_path('app', 'c1') + '/parent'
        st = os.stat(m.path(parent))
        self.assertEqual((st.st_uid, st.st_gid), (lt.NOBODY_UID, lt.NOBODY_GID),
                         'files inside a bucket belong to its owner')
        for path in ('buckets/secret/iterations/s1', m.path('buckets/secret/versions/v1'),
                     'by-id/' + m.ulid('secret', 's1')):
            errs = m.errors_lines()
            self.assertShRefused('echo %s > %s' % (path, parent), 'Permission denied',
                                 user='nobody')
            added = lt.new_lines(errs, m.errors_lines())
            self.assertTrue(any('errno=EACCES' in l and 'uid=%d' % lt.NOBODY_UID in l
                                for l in added), added)
        m.sh('echo buckets/public/iterations/p1 > ' + parent, user='nobody')
        self.assertEqual(m.lines(parent), [line('public', 'p1')])


if __name__ == '__main__':
    lt.main()
