#!/usr/bin/env python3
# test_examples.py — mount tests for the examples in scripts/examples/
# ("Packer in, configuration management out"): packer/import.sh fed with
# manifests shaped as Packer's manifest post-processor writes them,
# child-from-channel.sh building an application image from a base channel,
# and the Ansible playbook run for real with ansible-playbook, reading an
# AMI id through a channel before and after a revocation rolls the channel
# back.  The Terraform snippet is not run (Terraform needs its provider);
# its paths are read on a live mount instead.
#
# The scripts run with sh (dash on Debian), as POSIX sh scripts must.
# ansible-playbook comes from Debian's ansible-core package: when it is
# missing the tests install it with apt-get, and FAIL when that fails.

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineagefs_test as lt  # noqa: E402
from lineagefs_test import MountTestCase, it_path  # noqa: E402

EXAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         '..', '..', 'scripts', 'examples'))
IMPORT_SH = os.path.join(EXAMPLES, 'packer', 'import.sh')
TEMPLATE = os.path.join(EXAMPLES, 'packer', 'build.pkr.hcl')
CHILD_SH = os.path.join(EXAMPLES, 'child-from-channel.sh')
PLAYBOOK = os.path.join(EXAMPLES, 'ansible', 'playbook.yml')
INVENTORY = os.path.join(EXAMPLES, 'ansible', 'inventory.yml')
MAIN_TF = os.path.join(EXAMPLES, 'terraform', 'main.tf')

# ansible-playbook takes a few seconds to start; leave these tests room.
lt.TEST_TIMEOUT = max(lt.TEST_TIMEOUT, 150)
ANSIBLE_TIMEOUT = 120

# Variables the scripts read, removed from the environment they inherit.
SCRIPT_VARS = ('MNT', 'BUCKET', 'CHANNEL', 'BUILDS', 'FINGERPRINT', 'BASE',
               'BASE_CHANNEL', 'BUILD', 'PLATFORM')


# ---- manifests as Packer writes them ------------------------------------

def packer_build(name, builder, artifact_id, run, custom):
    """One entry of a manifest's builds, members in Packer's order."""
    return {'name': name, 'builder_type': builder, 'build_time': int(time.time()),
            'files': None, 'artifact_id': artifact_id, 'packer_run_uuid': run,
            'custom_data': dict(custom)}


def write_manifest(path, builds, run):
    """Write a manifest file the way Packer's manifest post-processor does
    (Go's json.MarshalIndent with two spaces)."""
    with open(path, 'w') as f:
        f.write(json.dumps({'builds': builds, 'last_run_uuid': run}, indent=2))


def ami():
    return lt.unique_extid('ami-')


def docker_id():
    return 'sha256:' + uuid.uuid4().hex + uuid.uuid4().hex


def amazon_artifact_id(amis):
    """artifact_id of an amazon-ebs build: region:ami pairs, commas between."""
    return ','.join('%s:%s' % (r, a) for r, a in amis.items())


# ---- running the examples -----------------------------------------------

def script_env(**kw):
    env = {k: v for k, v in os.environ.items() if k not in SCRIPT_VARS}
    env.update({k: v for k, v in kw.items() if v is not None})
    return env


def run_sh(script, args=(), cwd=None, **env):
    """Run an example script with sh; returns the CompletedProcess."""
    return subprocess.run(['sh', script] + list(args), cwd=cwd, env=script_env(**env),
                          capture_output=True, text=True, timeout=lt.CMD_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def ensure_ansible():
    """ansible-playbook, installed from Debian's ansible-core when missing;
    AssertionError when it cannot be had."""
    found = shutil.which('ansible-playbook')
    if found:
        return found
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    install = ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'ansible-core']
    out = []
    try:
        for cmd in (install, ['apt-get', 'update', '-q'], install):
            r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=900)
            out.append('$ %s -> %d\n%s%s' % (' '.join(cmd), r.returncode,
                                             r.stdout[-1500:], r.stderr[-1500:]))
            if cmd is install and r.returncode == 0:
                break
    except (OSError, subprocess.TimeoutExpired) as e:
        out.append(str(e))
    found = shutil.which('ansible-playbook')
    if not found:
        raise AssertionError('ansible-playbook is required by these tests and could not '
                             'be installed from the ansible-core package:\n'
                             + '\n'.join(out))
    return found


def registry_state(m):
    """The registry's export without its audit log (and the counters that
    number it)."""
    return {k: v for k, v in m.export().items() if k not in ('events', 'sequences')}


def without_mtimes(state):
    """A registry state without the mtimes of its rows, and those mtimes
    apart, keyed by (table, row id)."""
    rows, mtimes = {}, {}
    for table, value in state.items():
        if isinstance(value, list):
            rows[table] = []
            for row in value:
                if isinstance(row, dict) and 'mtime' in row:
                    mtimes[(table, row.get('id'))] = row['mtime']
                    row = {k: v for k, v in row.items() if k != 'mtime'}
                rows[table].append(row)
        else:
            rows[table] = value
    return rows, mtimes


class Pipeline:
    """The registry of the examples' story, built on a mount with the
    example scripts themselves: base imported from Packer manifests, web
    built from base's production channel by child-from-channel.sh, then web
    imported from the manifest that build.pkr.hcl makes."""

    def __init__(self, test, m):
        self.test, self.m = test, m
        self.dir = os.path.join(m.tmp, 'packer-run')
        os.makedirs(self.dir, exist_ok=True)
        self.manifest = os.path.join(self.dir, 'packer-manifest.json')
        self.ami = {}       # fingerprint -> {region: ami}
        self.docker = {}    # fingerprint -> image id

    def ok(self, r, what):
        self.test.assertEqual(r.returncode, 0, '%s failed with status %d\nstdout: %s\n'
                              'stderr: %s' % (what, r.returncode, r.stdout, r.stderr))
        return r

    def import_sh(self, bucket, channel=None, builds=None, manifest=None):
        return run_sh(IMPORT_SH, [manifest or self.manifest], cwd=self.dir,
                      MNT=self.m.mnt, BUCKET=bucket, CHANNEL=channel,
                      BUILDS=None if builds is None else str(builds))

    def base_builds(self, fp, run, regions=('us-east-1', 'eu-west-1', 'us-west-2'),
                    docker_region='global'):
        amis = {r: ami() for r in regions}
        self.ami[fp], self.docker[fp] = amis, docker_id()
        custom = {'fingerprint': fp, 'region': docker_region, 'os': 'debian-12'}
        return [packer_build('base', 'amazon-ebs', amazon_artifact_id(amis), run, custom),
                packer_build('base', 'docker', self.docker[fp], run, custom)]

    def web_builds(self, fp, run, parent='buckets/base/channels/production'):
        """The two builds that build.pkr.hcl makes, with its custom_data."""
        amis = {r: ami() for r in ('us-east-1', 'eu-west-1', 'us-west-2')}
        self.ami[fp], self.docker[fp] = amis, docker_id()
        custom = {'fingerprint': fp, 'parent': parent, 'region': 'global'}
        return [packer_build('web', 'amazon-ebs', amazon_artifact_id(amis), run, custom),
                packer_build('web', 'docker', self.docker[fp], run, custom)]

    def import_base(self, fp):
        run = str(uuid.uuid4())
        write_manifest(self.manifest, self.base_builds(fp, run), run)
        return self.ok(self.import_sh('base', 'production'), 'import.sh base ' + fp)

    def child(self, fp, bucket='web', **env):
        amis = {'us-east-1': ami(), 'eu-west-1': ami()}
        self.ami[fp] = amis
        args = ['%s=%s' % kv for kv in amis.items()]
        return run_sh(CHILD_SH, args, MNT=self.m.mnt, BUCKET=bucket, FINGERPRINT=fp, **env)

    def build(self):
        m = self.m
        m.mkbucket('base', 'Debian 12 golden image')
        m.mkbucket('web', 'The web application')
        self.import_base('base-1')
        self.ok(self.child('web-1', BUILD='amazon-ebs.web'), 'child-from-channel.sh web-1')
        self.import_base('base-2')
        run = str(uuid.uuid4())
        write_manifest(self.manifest, self.web_builds('web-2', run), run)
        self.ok(self.import_sh('web', 'production', builds=2), 'import.sh web web-2')
        t = self.test
        t.assertEqual(m.channel('base', 'production'), 'base-2')
        t.assertEqual(m.channel('web', 'production'), 'web-2')
        t.assertEqual(m.value(it_path('web', 'web-1') + '/ancestry'), 'out-of-date')
        t.assertEqual(m.value(it_path('web', 'web-2') + '/ancestry'), 'up-to-date')
        return self


# ---- import.sh ------------------------------------------------------------

class ImportScript(MountTestCase):

    def setUp(self):
        super().setUp()
        self.p = Pipeline(self, self.m)
        self.m.mkbucket('base')
        self.m.mkbucket('web')

    def assigns(self, bucket, channel):
        return [e for _, e in self.m.events()
                if e['action'] in ('assign', 'unassign') and e.get('bucket') == bucket
                and e.get('channel') == channel]

    def test_import_of_several_regions_moves_the_channel(self):
        m, p = self.m, self.p
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.base_builds('base-1', run, docker_region='eu-central-1'),
                       run)
        r = p.ok(p.import_sh('base', 'production'), 'import.sh')
        self.assertEqual(r.stdout, 'buckets/base/iterations/base-1\n')
        self.assertIn('imported', r.stderr)
        self.assertEqual(m.channel('base', 'production'), 'base-1')
        self.assertEqual(m.channel('base', 'latest'), 'base-1')
        self.assertEqual(m.status('base', 'base-1'), 'active')
        self.assertEqual(m.value(it_path('base', 'base-1') + '/version'), 'v1')
        builds = it_path('base', 'base-1') + '/builds'
        self.assertEqual(m.listdir(builds), ['amazon-ebs.base', 'docker.base'])
        self.assertEqual(m.listdir(builds + '/amazon-ebs.base/artifacts'),
                         sorted(p.ami['base-1']))
        for region, want in p.ami['base-1'].items():
            self.assertValueFile(m, '%s/amazon-ebs.base/artifacts/%s' % (builds, region), want)
        self.assertValueFile(m, builds + '/amazon-ebs.base/platform', 'aws')
        self.assertValueFile(m, builds + '/docker.base/artifacts/eu-central-1',
                             p.docker['base-1'])
        self.assertValueFile(m, builds + '/docker.base/labels/os', 'debian-12')
        # the AMIs read the same through the channel as consumers read them
        self.assertEqual(m.value('buckets/base/channels/production/builds/amazon-ebs.base/'
                                 'artifacts/us-west-2'), p.ami['base-1']['us-west-2'])
        evs = self.assigns('base', 'production')
        self.assertEqual([(e['action'], e['to']) for e in evs], [('assign', 'base-1')])

        # the next run moves it on, with one more assignment
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.base_builds('base-2', run), run)
        r = p.ok(p.import_sh('base', 'production'), 'import.sh, second run')
        self.assertEqual(r.stdout, 'buckets/base/iterations/base-2\n')
        self.assertEqual(m.channel('base', 'production'), 'base-2')
        evs = self.assigns('base', 'production')
        self.assertEqual([(e['action'], e.get('from'), e['to']) for e in evs],
                         [('assign', evs[0].get('from'), 'base-1'),
                          ('assign', 'base-1', 'base-2')])

    def test_import_records_the_parent_channel_of_custom_data(self):
        m, p = self.m, self.p
        p.import_base('base-1')
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.web_builds('web-1', run), run)
        r = p.ok(p.import_sh('web', 'production'), 'import.sh web')
        self.assertEqual(r.stdout, 'buckets/web/iterations/web-1\n')
        self.assertEqual(m.text(it_path('web', 'web-1') + '/parent'),
                         'buckets/base/iterations/base-1 channel=production '
                         'status=up-to-date\n')
        self.assertEqual(m.listdir(it_path('web', 'web-1') + '/builds'),
                         ['amazon-ebs.web', 'docker.web'])
        self.assertValueFile(m, it_path('web', 'web-1') + '/builds/docker.web/artifacts/global',
                             p.docker['web-1'])
        self.assertEqual(m.channel('web', 'production'), 'web-1')

    def test_the_last_run_of_an_appended_manifest_is_imported(self):
        m, p = self.m, self.p
        old, new = str(uuid.uuid4()), str(uuid.uuid4())
        builds = p.base_builds('base-0', old) + p.base_builds('base-1', new)
        write_manifest(p.manifest, builds, new)
        r = p.ok(p.import_sh('base', 'production'), 'import.sh')
        self.assertEqual(r.stdout, 'buckets/base/iterations/base-1\n')
        self.assertEqual(m.listdir('buckets/base/iterations'), ['base-1'])
        self.assertEqual(m.value(it_path('base', 'base-1') + '/builds/amazon-ebs.base/'
                                 'artifacts/us-east-1'), p.ami['base-1']['us-east-1'])

    def test_with_builds_it_imports_once_when_the_run_is_complete(self):
        m, p = self.m, self.p
        p.import_base('base-1')
        run = str(uuid.uuid4())
        aws, docker = p.web_builds('web-1', run)
        # an earlier run of the same template is in the file too
        earlier = p.web_builds('web-0', str(uuid.uuid4()))
        lock = p.manifest + '.import-lock'

        # the amazon-ebs build finished first: its post-processors run
        write_manifest(p.manifest, earlier + [aws], run)
        with self.assertUnchanged('import.sh with 1 of 2 builds'):
            r = p.ok(p.import_sh('web', 'production', builds=2), 'import.sh, 1 of 2')
        self.assertEqual(r.stdout, '')
        self.assertIn('1 of the 2 builds', r.stderr)
        self.assertFalse(os.path.exists(lock), 'import.sh left its lock behind')

        # then the docker build's
        write_manifest(p.manifest, earlier + [aws, docker], run)
        r = p.ok(p.import_sh('web', 'production', builds=2), 'import.sh, 2 of 2')
        self.assertEqual(r.stdout, 'buckets/web/iterations/web-1\n')
        self.assertEqual(m.listdir('buckets/web/iterations'), ['web-1'])
        self.assertEqual(m.listdir(it_path('web', 'web-1') + '/builds'),
                         ['amazon-ebs.web', 'docker.web'])
        self.assertEqual(m.channel('web', 'production'), 'web-1')
        self.assertFalse(os.path.exists(lock), 'import.sh left its lock behind')

        # both builds were in before either post-processor ran: the second
        # run of the script must not import again
        with self.assertUnchanged('import.sh of a run imported already'):
            r = p.ok(p.import_sh('web', 'production', builds=2), 'import.sh again')
        self.assertEqual(r.stdout, '')
        self.assertIn('imported already', r.stderr)

    def test_two_builds_finishing_together_import_once(self):
        m, p = self.m, self.p
        p.import_base('base-1')
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.web_builds('web-1', run), run)
        env = script_env(MNT=m.mnt, BUCKET='web', CHANNEL='production', BUILDS='2')
        procs = [subprocess.Popen(['sh', IMPORT_SH, p.manifest], cwd=p.dir, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, text=True)
                 for _ in range(2)]
        outs = [pr.communicate(timeout=lt.CMD_TIMEOUT) for pr in procs]
        self.assertEqual([pr.returncode for pr in procs], [0, 0], outs)
        self.assertEqual(sorted(o for o, _ in outs), ['', 'buckets/web/iterations/web-1\n'],
                         outs)
        self.assertEqual([e['action'] for _, e in m.events()].count('import'), 2)

    def test_a_refused_import_fails_with_the_shells_message(self):
        m, p = self.m, self.p
        p.import_base('base-1')
        # the same fingerprint again (a run that reused it)
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.base_builds('base-1', run), run)
        with self.assertUnchanged('a refused import.sh'):
            r = p.import_sh('base', 'production')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, '')
        self.assertIn('File exists', r.stderr)
        self.assertIn('errno=EEXIST', r.stderr)
        self.assertEqual(m.channel('base', 'production'), 'base-1')

        # a build without its artifact
        bad = p.base_builds('base-2', run)
        bad[1]['artifact_id'] = ''
        write_manifest(p.manifest, bad, run)
        with self.assertUnchanged('import.sh of a build without artifacts'):
            r = p.import_sh('base', 'production')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('Invalid argument', r.stderr)
        self.assertIn('errno=EINVAL', r.stderr)
        self.assertEqual(m.listdir('buckets/base/iterations'), ['base-1'])

        # a file that is not a manifest: it never becomes a whole document,
        # so the mount refuses it once cat has gone, in its errors file
        with open(p.manifest, 'w') as f:
            f.write('{"builds": [')
        with self.assertUnchanged('import.sh of truncated JSON'):
            r = p.import_sh('base', 'production')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('not a whole JSON document', r.stderr)
        self.assertIn('op=close path=buckets/base/import errno=EINVAL', r.stderr)

    def test_a_refused_channel_move_fails_after_the_import(self):
        m, p = self.m, self.p
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.base_builds('base-1', run), run)
        r = p.import_sh('base', 'latest')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, '')
        self.assertIn('Operation not permitted', r.stderr)
        self.assertIn('imported buckets/base/iterations/base-1', r.stderr)
        self.assertEqual(m.status('base', 'base-1'), 'active')
        self.assertEqual(m.listdir('buckets/base/channels'), ['latest'])

    def test_a_missing_bucket_or_manifest_is_an_error_that_changes_nothing(self):
        m, p = self.m, self.p
        run = str(uuid.uuid4())
        write_manifest(p.manifest, p.base_builds('base-1', run), run)
        cases = [
            (dict(BUCKET='nope'), 'no bucket nope'),
            (dict(BUCKET='../buckets/base'), 'not a bucket or channel name'),
            (dict(BUCKET='base', CHANNEL='a/b'), 'not a bucket or channel name'),
            (dict(BUCKET='base', BUILDS='two'), 'BUILDS must be a number'),
            (dict(BUCKET=None), 'set BUCKET'),
        ]
        for env, message in cases:
            with self.assertUnchanged('import.sh with %r' % env):
                r = run_sh(IMPORT_SH, [p.manifest], cwd=p.dir, MNT=m.mnt, **env)
            self.assertEqual(r.returncode, 1, (env, r.stderr))
            self.assertIn(message, r.stderr, env)
        with self.assertUnchanged('import.sh of a missing file'):
            r = run_sh(IMPORT_SH, [os.path.join(p.dir, 'absent.json')], MNT=m.mnt,
                       BUCKET='base')
        self.assertEqual(r.returncode, 1)
        self.assertIn('cannot read the manifest', r.stderr)
        self.assertFalse(m.exists('buckets/nope'))


# ---- child-from-channel.sh --------------------------------------------------

class ChildFromChannel(MountTestCase):

    def setUp(self):
        super().setUp()
        m = self.m
        self.p = Pipeline(self, m)
        self.base = {}
        for fp in ('base-1', 'base-2'):
            self.base[fp] = {'us-east-1': ami(), 'eu-west-1': ami()}
            m.complete_iteration('base', fp, builds={
                'amazon-ebs.base': ('aws', self.base[fp]),
                'docker.base': ('docker', {'global': docker_id()})})
        m.assign('base', 'production', 'base-1')
        m.mkbucket('web')

    def test_child_is_built_from_the_channel_and_moves_the_apps_channel(self):
        m, p = self.m, self.p
        r = p.ok(p.child('web-1'), 'child-from-channel.sh')
        self.assertEqual(r.stdout, 'buckets/web/iterations/web-1\n')
        it = it_path('web', 'web-1')
        self.assertEqual(m.status('web', 'web-1'), 'active')
        self.assertValueFile(m, it + '/version', 'v1')
        self.assertEqual(m.text(it + '/parent'), 'buckets/base/iterations/base-1 '
                         'channel=production status=up-to-date\n')
        self.assertEqual(m.listdir(it + '/parents'), ['base@base-1'])
        b = it + '/builds/amazon-ebs.web'
        self.assertEqual(m.listdir(it + '/builds'), ['amazon-ebs.web'])
        self.assertValueFile(m, b + '/platform', 'aws')
        self.assertValueFile(m, b + '/source', self.base['base-1']['us-east-1'])
        for region, want in p.ami['web-1'].items():
            self.assertValueFile(m, '%s/artifacts/%s' % (b, region), want)
        self.assertEqual(m.channel('web', 'production'), 'web-1')

        # base production moves on: web-1 is out of date, and the next child
        # is built from base-2 and takes web's channel
        m.assign('base', 'production', 'base-2')
        self.assertEqual(m.text(it + '/parent'), 'buckets/base/iterations/base-1 '
                         'channel=production status=out-of-date\n')
        r = p.ok(p.child('web-2'), 'child-from-channel.sh, second')
        self.assertValueFile(m, it_path('web', 'web-2') + '/builds/amazon-ebs.web/source',
                             self.base['base-2']['us-east-1'])
        self.assertEqual(m.listdir(it_path('web', 'web-2') + '/parents'), ['base@base-2'])
        self.assertEqual(m.channel('web', 'production'), 'web-2')
        self.assertValueFile(m, it_path('web', 'web-2') + '/version', 'v2')

    def test_a_refusal_removes_the_unfinished_iteration(self):
        m = self.m
        # the audit log keeps what happened; everything else is as before
        # but the script made and removed an iteration, so the directories
        # that listed it (web's iterations, base-1's children) may carry a
        # newer mtime, as on any filesystem; none may go back
        before, before_mtimes = without_mtimes(registry_state(m))
        r = run_sh(CHILD_SH, ['us-east-1=ami-' + 'f' * 1100], MNT=m.mnt, BUCKET='web',
                   FINGERPRINT='web-1')
        after, after_mtimes = without_mtimes(registry_state(m))
        self.assertExportEqual(before, after, 'a refused child-from-channel.sh')
        self.assertEqual(before_mtimes.keys(), after_mtimes.keys())
        for row, t in before_mtimes.items():
            self.assertGreaterEqual(after_mtimes[row], t, row)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, '')
        self.assertIn('File too large', r.stderr)
        self.assertIn('errno=EFBIG', r.stderr)
        self.assertIn('removed the unfinished buckets/web/iterations/web-1', r.stderr)
        self.assertEqual(m.listdir('buckets/web/iterations'), [])
        self.assertEqual(m.listdir(it_path('base', 'base-1') + '/children'), [])

    def test_an_existing_fingerprint_is_refused_and_left_alone(self):
        m = self.m
        m.mkiter('web', 'web-1')
        with self.assertUnchanged('child-from-channel.sh onto an existing iteration'):
            r = run_sh(CHILD_SH, ['us-east-1=' + ami()], MNT=m.mnt, BUCKET='web',
                       FINGERPRINT='web-1')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('File exists', r.stderr)
        self.assertNotIn('removed', r.stderr)
        self.assertEqual(m.status('web', 'web-1'), 'running')

    def test_a_missing_base_channel_creates_nothing(self):
        m = self.m
        with self.assertUnchanged('child-from-channel.sh from a missing channel'):
            r = run_sh(CHILD_SH, ['us-east-1=' + ami()], MNT=m.mnt, BUCKET='web',
                       FINGERPRINT='web-1', BASE_CHANNEL='staging')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('no channel buckets/base/channels/staging', r.stderr)

    def test_a_refused_channel_move_leaves_the_complete_child(self):
        m, p = self.m, self.p
        r = p.child('web-1', CHANNEL='latest')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('Operation not permitted', r.stderr)
        self.assertIn('is complete, but channel latest did not move', r.stderr)
        self.assertEqual(m.status('web', 'web-1'), 'active')
        self.assertEqual(m.channel('web', 'latest'), 'web-1')


# ---- consumers: Ansible, Terraform ------------------------------------------

class Consumers(MountTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ansible = ensure_ansible()

    def setUp(self):
        super().setUp()
        self.p = Pipeline(self, self.m).build()
        self.home = tempfile.mkdtemp(prefix='lineagefs-ansible-')
        self.addCleanup(shutil.rmtree, self.home, True)

    def playbook(self, check=True):
        env = dict(os.environ, HOME=self.home, LC_ALL='C.UTF-8', LANG='C.UTF-8',
                   ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.home, 'tmp'),
                   ANSIBLE_REMOTE_TEMP=os.path.join(self.home, 'tmp'),
                   ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_CONFIG=os.path.join(self.home, 'none.cfg'))
        r = subprocess.run([self.ansible, '-i', INVENTORY, PLAYBOOK,
                            '-e', 'mnt=' + self.m.mnt],
                           cwd=self.home, env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=ANSIBLE_TIMEOUT)
        if check:
            self.assertEqual(r.returncode, 0, 'ansible-playbook failed with status %d\n'
                             'stdout: %s\nstderr: %s' % (r.returncode, r.stdout, r.stderr))
        return r

    def assertDeploys(self, fp, version, not_fp=()):
        r = self.playbook()
        want = self.p.ami[fp]['us-east-1']
        self.assertIn('web/production is %s (active): %s in us-east-1' % (version, want),
                      r.stdout)
        for other in not_fp:
            self.assertNotIn(self.p.ami[other]['us-east-1'], r.stdout)
        return r

    def test_playbook_follows_the_channel_when_its_image_is_revoked(self):
        m = self.m
        self.assertDeploys('web-2', 'v2', not_fp=['web-1'])
        m.sh("echo 'CVE-2026-1234: openssl in the web image' > "
             "buckets/web/iterations/web-2/revoke")
        self.assertEqual(m.status('web', 'web-2'), 'revoked')
        self.assertEqual(m.channel('web', 'production'), 'web-1')
        self.assertDeploys('web-1', 'v1', not_fp=['web-2'])

    def test_playbook_follows_an_inherited_revocation_of_the_base(self):
        m = self.m
        m.sh("echo 'CVE-2026-4321: openssh in the golden image' > "
             "buckets/base/channels/production/revoke")
        self.assertEqual(m.status('base', 'base-2'), 'revoked')
        self.assertEqual(m.status('web', 'web-2'), 'revoked')
        self.assertEqual(m.channel('base', 'production'), 'base-1')
        self.assertEqual(m.channel('web', 'production'), 'web-1')
        self.assertDeploys('web-1', 'v1', not_fp=['web-2'])

    def test_playbook_refuses_a_channel_left_on_a_revoked_image(self):
        m = self.m
        # a scheduled revocation with rollback=no leaves the channel where it is
        m.sh("echo 'in=2s rollback=no end of support' > buckets/web/iterations/web-2/revoke")
        lt.wait_until(lambda: m.status('web', 'web-2') == 'revoked', 10)
        self.assertEqual(m.status('web', 'web-2'), 'revoked')
        self.assertEqual(m.channel('web', 'production'), 'web-2')
        r = self.playbook(check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('web/production points at a revoked image', r.stdout)

    def test_terraform_snippet_reads_the_channels_image(self):
        m = self.m
        with open(MAIN_TF) as f:
            tf = f.read()
        paths = re.findall(r'file\("\$\{var\.lineagefs\}/([^"]+)"\)', tf)
        self.assertTrue(paths, 'main.tf reads no file under var.lineagefs')
        values = {os.path.basename(p): m.value(p) for p in paths}
        self.assertEqual(values.get('us-east-1'), self.p.ami['web-2']['us-east-1'])
        self.assertEqual(values.get('version'), 'v2')
        self.assertEqual(values.get('status'), 'active')
        m.sh("echo 'bad build' > buckets/web/iterations/web-2/revoke")
        self.assertEqual(m.value(paths[0]), self.p.ami['web-1']['us-east-1'])


# ---- the Packer template and import.sh agree -------------------------------

class Template(MountTestCase):

    def test_template_runs_import_sh_with_its_sources_and_custom_data(self):
        with open(TEMPLATE) as f:
            hcl = f.read()
        sources = re.findall(r'^source "([^"]+)" "([^"]+)"', hcl, re.M)
        self.assertEqual(sorted(sources), [('amazon-ebs', 'web'), ('docker', 'web')])
        used = re.search(r'sources\s*=\s*\[([^\]]*)\]', hcl).group(1)
        self.assertEqual(sorted(re.findall(r'"source\.([^"]+)"', used)),
                         ['amazon-ebs.web', 'docker.web'])
        builds = re.search(r'"BUILDS=(\d+)"', hcl)
        self.assertIsNotNone(builds, 'the shell-local post-processor sets no BUILDS')
        self.assertEqual(int(builds.group(1)), len(sources))
        env = set(re.findall(r'"([A-Z_]+)=', hcl))
        self.assertEqual(env, {'MNT', 'BUCKET', 'CHANNEL', 'BUILDS'})
        custom = re.search(r'custom_data\s*=\s*\{([^}]*)\}', hcl).group(1)
        self.assertEqual(sorted(re.findall(r'^\s*(\w+)\s*=', custom, re.M)),
                         ['fingerprint', 'parent', 'region'])
        self.assertIn('import.sh', hcl)
        # the base build names the template reads are those an import gives
        p = Pipeline(self, self.m)
        self.m.mkbucket('base')
        p.import_base('base-1')
        for rel in re.findall(r'\$\{local\.base\}/(builds/[^"$]+)/artifacts/', hcl):
            self.assertTrue(self.m.exists('buckets/base/channels/production/' + rel), rel)


if __name__ == '__main__':
    lt.main()
