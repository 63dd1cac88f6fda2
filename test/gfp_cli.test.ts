/** `labyrinth gfp` end to end. The CLI processes are spawned once, concurrently, and each test reads its result. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

interface Run { status: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/labyrinth.mjs', 'gfp', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ status, stdout, stderr });
    });
  });
}

const runs = {
  valid: run('0x400dc0', '--kernel', '6.1'),
  incoherent: run('GFP_ATOMIC|GFP_KERNEL', '--json'),
  unknownFlag: run('GFP_BOGUS'),
  newerExcl: run('GFP_ATOMIC|__GFP_EXCL', '--kernel', '7.3.1-custom', '--json'),
};

test('labyrinth gfp: valid mask exits 0 and prints the kernel string first', async () => {
  const r = await runs.valid;
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.split('\n')[0]!, /^0x400dc0\(GFP_KERNEL_ACCOUNT\|__GFP_ZERO\)/);
  assert.match(r.stdout, /__GFP_ACCOUNT/);
  assert.match(r.stdout, /zone\s+Normal/);
  assert.match(r.stdout, /problems: none/);
});

test('labyrinth gfp: an error-severity problem exits 1', async () => {
  const r = await runs.incoherent;
  assert.equal(r.status, 1);
  const j = JSON.parse(r.stdout);
  const p = j.problems.find((x: { code: string }) => x.code === 'ATOMIC_WITH_DIRECT_RECLAIM');
  assert.equal(p.severity, 'error');
  assert.match(p.message, /GFP_ATOMIC\|GFP_KERNEL is incoherent: a request cannot both forbid and allow sleeping/);
});

test('labyrinth gfp: bad input exits 2 with one line on stderr and nothing on stdout', async () => {
  const r = await runs.unknownFlag;
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /GFP_BOGUS/);
  assert.equal(r.stdout, '');
});

test('labyrinth gfp --json on a newer kernel: nearest older layout with a warning; documented keys; extension marked', async () => {
  const r = await runs.newerExcl;
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: .*7\.3.*nearest older layout/);
  const j = JSON.parse(r.stdout);
  for (const k of ['mask', 'names', 'kernel', 'zone', 'migratetype', 'mayBlock', 'allocFlags', 'problems', 'extension']) assert.ok(k in j, k);
  assert.equal(j.mask, '0x40000820');
  assert.equal(j.names, 'GFP_ATOMIC|__GFP_EXCL');
  assert.equal(j.mayBlock, false);
  assert.equal(j.extension[0].name, '__GFP_EXCL');
  assert.ok(j.allocFlags.includes('ALLOC_NON_BLOCK'));
  assert.ok(!j.problems.some((p: { severity: string }) => p.severity === 'error'));
  for (const p of j.problems) assert.deepEqual(Object.keys(p).sort(), ['code', 'message', 'severity']);
});
