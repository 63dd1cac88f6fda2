import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainGfp } from './index.ts';

test('explainGfp: GFP_KERNEL on 6.1 sleeps, reclaims, does I/O and FS, uses no reserves', () => {
  const e = explainGfp('GFP_KERNEL', { kernel: '6.1' });
  assert.equal(e.mask, '0xcc0');
  assert.equal(e.names, 'GFP_KERNEL');
  assert.equal(e.zone, 'Normal');
  assert.equal(e.migratetype, 'Unmovable');
  assert.equal(e.mayBlock, true);
  assert.equal(e.wakesKswapd, true);
  assert.equal(e.mayStartIo, true);
  assert.equal(e.mayEnterFs, true);
  assert.equal(e.slowPath.depth, 'min');
  assert.deepEqual(e.problems, []);
  assert.deepEqual(e.extension, []);
});

test('explainGfp: GFP_ATOMIC on 6.1 never sleeps and digs to 3/8 of min; GFP_NOIO starts no I/O', () => {
  const a = explainGfp(0xa20, { kernel: '6.1' });
  assert.equal(a.mayBlock, false);
  assert.deepEqual(a.slowPath.fraction, [3, 8]);
  const n = explainGfp('GFP_NOIO', { kernel: '6.1' });
  assert.equal(n.mayBlock, true);
  assert.equal(n.mayStartIo, false);
  assert.equal(n.mayEnterFs, false);
});

test('explainGfp: pre-4.6 kernels print no names in reports; GFP_ATOMIC|GFP_KERNEL written out is still caught', () => {
  const e = explainGfp('GFP_ATOMIC|GFP_KERNEL', { kernel: '3.3' });
  assert.equal(e.reportNames, false);
  assert.equal(e.mode, '0xf0');
  assert.ok(e.problems.some((p) => p.code === 'ATOMIC_WITH_DIRECT_RECLAIM' && p.severity === 'error'));
  const g = explainGfp('0x8020', { kernel: '2.6.31' });
  assert.equal(g.wakesKswapd, true);
  assert.equal(g.mayBlock, false);
});

test('explainGfp: __GFP_EXCL is listed as an extension', () => {
  const e = explainGfp('GFP_KERNEL|__GFP_EXCL', { kernel: '6.19' });
  assert.equal(e.extension.length, 1);
  assert.equal(e.bits.find((b) => b.name === '__GFP_EXCL')?.extension, true);
  assert.ok(!e.problems.some((p) => p.severity === 'error'));
});
