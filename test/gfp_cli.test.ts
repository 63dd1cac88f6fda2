import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/labyrinth.mjs', 'gfp', ...args], { encoding: 'utf8' });

test('labyrinth gfp: valid mask exits 0 and prints the kernel string first', () => {
  const r = run('0x400dc0', '--kernel', '6.1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.split('\n')[0]!, /^0x400dc0\(GFP_KERNEL_ACCOUNT\|__GFP_ZERO\)/);
  assert.match(r.stdout, /__GFP_ACCOUNT/);
  assert.match(r.stdout, /zone\s+Normal/);
});

test('labyrinth gfp: an error-severity problem exits 1', () => {
  const r = run('GFP_ATOMIC|GFP_KERNEL');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /GFP_ATOMIC\|GFP_KERNEL is incoherent: a request cannot both forbid and allow sleeping/);
});

test('labyrinth gfp: bad input exits 2 with one line', () => {
  for (const args of [['GFP_BOGUS'], ['0xzz'], ['GFP_KERNEL', '--kernel', 'banana'], ['0x400cc0(GFP_KERNEL)']]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('labyrinth gfp: a newer kernel uses the nearest older layout with a warning on stderr', () => {
  const r = run('0x820', '--kernel', '7.3.1-custom', '--json');
  assert.equal(r.status, 0);
  assert.match(r.stderr, /warning: .*7\.3.*nearest older layout/);
  assert.equal(JSON.parse(r.stdout).names, 'GFP_ATOMIC');
});

test('labyrinth gfp --json: the documented keys, the extension marked', () => {
  const r = run('GFP_ATOMIC|__GFP_EXCL', '--kernel', '6.1', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['mask', 'names', 'kernel', 'zone', 'migratetype', 'mayBlock', 'allocFlags', 'problems', 'extension']) assert.ok(k in j, k);
  assert.equal(j.mask, '0x40000a20');
  assert.equal(j.names, 'GFP_ATOMIC|__GFP_EXCL');
  assert.equal(j.mayBlock, false);
  assert.equal(j.extension[0].name, '__GFP_EXCL');
  assert.ok(j.allocFlags.includes('ALLOC_HARDER'));
  for (const p of j.problems) assert.deepEqual(Object.keys(p).sort(), ['code', 'message', 'severity']);
});
