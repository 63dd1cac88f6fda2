import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, QEMU, ROOT } from './_shared.ts';

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'labyrinth.mjs'), ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 26 });

test('replay --help describes the command', () => {
  const r = run('replay', '--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--start <kpageflags>/);
  assert.match(r.stdout, /--like <zoneinfo>/);
  assert.match(r.stdout, /--snapshots <dir>/);
});

test('replay of a malformed trace exits 2 with the line number; --tolerant counts and goes on', () => {
  const f = path.join(FIXTURES, 'traces', '001.txt');
  const bad = run('replay', f);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^labyrinth: line 2: Cannot parse trace line: no \[cpu\] field/);
  const ok = run('replay', f, '--tolerant', '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  assert.equal(j.parse.malformed, 1);
  assert.equal(j.kmem.freeRequests, 1);
  assert.equal(j.kmem.freePages, 4);
  assert.deepEqual(j.points, []);
});

test('replay of a missing file exits 2', () => {
  const r = run('replay', '/no/such/trace.txt');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no such file/);
});

test('replay without a start state prints the perf kmem page summary', () => {
  const r = run('replay', path.join(ROOT, 'test', 'fixtures', 'trace', 'perf-callchain.txt'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /SUMMARY \(page allocator\)/);
  assert.match(r.stdout, /Total allocation requests\s+:\s+2\s+\[\s+20 KB \]/);
  assert.match(r.stdout, /kmalloc_large_node/);
  assert.match(r.stdout, /00040cc0 \| GFP_KERNEL\|__GFP_COMP/);
});

test('replay --start --like --snapshots on the head of the real 512M trace: start state exact, text and JSON', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'labyrinth-replay-'));
  try {
    const q = path.join(QEMU, '512M');
    execSync(`xz -dc ${path.join(q, 'trace.txt.xz')} | head -n 20000 > ${path.join(dir, 'trace.txt')}`);
    mkdirSync(path.join(dir, 'snaps', '01_pre'), { recursive: true });
    copyFileSync(path.join(q, 'snap', '01_pre', 'buddyinfo'), path.join(dir, 'snaps', '01_pre', 'buddyinfo'));
    writeFileSync(path.join(dir, 'note'), 'head of the 512M trace');
    const args = ['replay', path.join(dir, 'trace.txt'), '--start', path.join(q, 'kpageflags.pre.xz'),
      '--like', path.join(q, 'snap', '01_pre', 'zoneinfo'), '--snapshots', path.join(dir, 'snaps')];
    const j = JSON.parse(run(...args, '--json').stdout);
    assert.equal(j.points[0].at, 'start');
    assert.equal(j.points[0].snapshot, '01_pre');
    assert.equal(j.points[0].exact, true);
    assert.equal(j.points.at(-1).at, 'end');
    assert.equal(j.start.freeRuns, 8);
    const t = run(...args);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /start state\s+01_pre\s+DMA32\s+0\s+0\s+exact/);
    assert.match(t.stdout, /anomaly counters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
