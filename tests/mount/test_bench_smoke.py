#!/usr/bin/env python3
# test_bench_smoke.py — the benchmark (scripts/bench/run) at a tiny size:
# it must complete, write its table with every row present (walks of the
# four filesystems, channel resolution with and without the writer, each
# cascade, start-up, memory and every target), and leave nothing mounted.
# The figures themselves are for people at the real sizes, not checked here.

import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH = os.path.join(ROOT, 'scripts', 'bench', 'run')
BUILD = os.path.abspath(os.environ.get('LINEAGE_BUILD', 'build'))

CASCADES = (10, 100)
TIMEOUT = 300


def mounted_under(path):
    with open('/proc/self/mounts') as f:
        return [line.split()[1] for line in f
                if line.split()[1].startswith(path)]


class BenchSmoke(unittest.TestCase):

    def test_tiny_run_writes_every_row(self):
        with tempfile.TemporaryDirectory(prefix='bench-smoke.') as tmp:
            out = os.path.join(tmp, 'results.txt')
            work = os.path.join(tmp, 'work')
            os.mkdir(work)
            p = subprocess.run(
                [sys.executable, BENCH, '--iterations', '12',
                 '--resolve-iterations', '12', '--resolve-seconds', '0.5',
                 '--cascade', ','.join(str(n) for n in CASCADES),
                 '--build', BUILD, '--workdir', work, '--out', out],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=TIMEOUT, text=True)
            self.assertEqual(p.returncode, 0, p.stderr[-4000:])
            self.assertEqual(mounted_under(tmp), [])
            self.assertEqual(os.listdir(work), [], 'work files left')
            with open(out) as f:
                text = f.read()
        self.assertEqual(text, p.stdout)
        lines = text.splitlines()

        def row(prefix):
            hits = [l for l in lines if l.startswith(prefix)]
            self.assertTrue(hits, 'no row %r in:\n%s' % (prefix, text))
            return hits[0]

        for head in ('WALKS', 'CHANNEL RESOLUTION', 'CASCADE', 'START-UP',
                     'TARGETS', 'cp -a of the lineagefs mount',
                     'mksquashfs of the copy'):
            row(head)
        for fs in ('tmpfs', 'lineagefs', 'squashfuse_ll', 'bindfs'):
            # name, cold, warm, settled, three ratios, entries: all there
            self.assertRegex(text, r'(?m)^%s +[\d.]+ m?s +[\d.]+ m?s +'
                             r'[\d.]+ m?s +[\d.]+x +[\d.]+x +[\d.]+x +\d+'
                             % fs)
        # the daemon's counters for each lineagefs walk: a total, and the
        # settled walk's is a number (0 when every cache holds), followed
        # by how many of them were refetches when there were any
        walk_row = re.search(r'(?m)^lineagefs +[\d.]+ m?s .*$', text).group(0)
        self.assertRegex(walk_row, r' \d+ \(readdirplus \d+')
        self.assertRegex(walk_row, r' \d+ \((-|[a-z]+ \d+[^)]*)\)(; \d+ refetched)?$')
        for r in ('lineagefs, writing', 'lineagefs, no writer', 'tmpfs'):
            # ops/s, p50, p99
            self.assertRegex(text, r'(?m)^%s +\d+ +[\d.]+ ms +[\d.]+ ms' % r)
        for n in CASCADES:
            # descendants, registry, lineagefs, raw SQL, ratio, coherent
            self.assertRegex(text, r'(?m)^%d +\d+ +\d+ +[\d.]+ m?s +'
                             r'[\d.]+ m?s +[\d.]+x +(yes|NO) ' % n)
        for t in ('warm walk reaches the daemon with 0 requests',
                  'warm walk <= 2x tmpfs', 'cold walk <= 0.5x squashfuse_ll',
                  'resolution p99 < 1 ms while writing',
                  'cascade of ', 'cascade within 3x raw SQL',
                  'cascade coherent on return', 'start-up < 100 ms',
                  'daemon RSS < 64 MiB'):
            self.assertRegex(row(t), r'(met|MISSED)')
        self.assertTrue(re.search(r'^lineagefs\s+[\d.]+ MiB', text, re.M),
                        'no daemon RSS row')


if __name__ == '__main__':
    unittest.main(verbosity=2)
