/**
 * The debugfs extfrag indices (mm/vmstat.c) from real buddyinfo/pagetypeinfo captures, checked against
 * values computed by hand from the counts (the arithmetic is in the comments).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './_shared.ts';
import {
  fillContigPageInfo, formatIndex, fragmentationFromText, fragmentationIndex, unusableFreeIndex,
} from '../src/report/fragmentation.ts';
import { BadInputError } from '../src/errors.ts';

const proc = (f: string) => readFileSync(path.join(FIXTURES, 'procfs', f), 'utf8');

test('007-buddyinfo Normal (315 154 97 86 160 71 35 23 14 8 35): hand-computed indices', () => {
  const f = fragmentationFromText(proc('007-buddyinfo.txt'));
  const n = f.zones.find((z) => z.zone === 'Normal')!;
  // free pages = 315 + 154·2 + 97·4 + 86·8 + 160·16 + 71·32 + 35·64 + 23·128 + 14·256 + 8·512 + 35·1024 = 55235
  assert.equal(n.freePages, 55235);
  // order 1: suitable = (55235 − 315)/2 = 27460 blocks; (55235 − 54920)·1000/55235 = 5.70 → 5
  assert.equal(n.unusable[1], 5);
  // order 10: suitable = 35; (55235 − 35840)·1000/55235 = 351.1 → 351
  assert.equal(n.unusable[10], 351);
  assert.equal(n.unusable[0], 0);
  assert.ok(n.extfrag.every((v) => v === -1000)); // a block of every order exists
  assert.match(f.unusableIndexText, /^Node 0, zone   Normal 0\.000 0\.005 .* 0\.351 $/m);
  assert.match(f.extfragIndexText, /^Node 0, zone   Normal -1\.000 /m);
});

test('004-buddyinfo DMA32 (31577 88 2 0 …, wrapped by a mail client): order 3 fails for fragmentation', () => {
  const f = fragmentationFromText(proc('004-buddyinfo.txt'));
  assert.deepEqual(f.zones.map((z) => `${z.node}:${z.zone}`), ['0:DMA', '0:DMA32', '0:Normal', '1:Normal']);
  const d = f.zones[1]!;
  // free pages = 31577 + 176 + 8 = 31761; blocks = 31667; no block of order ≥ 3
  assert.equal(d.freePages, 31761);
  assert.equal(d.unusable[3], 1000);
  // extfrag(3) = 1000 − (1000 + 31761000/8)/31667 = 1000 − ⌊3971125/31667⌋ = 1000 − 125 = 875
  assert.equal(d.extfrag[3], 875);
  // extfrag(2) = −1000 (2 blocks of order 2 exist)
  assert.equal(d.extfrag[2], -1000);
  // order 1: suitable = 88 + 2·2 = 92 → (31761 − 184)·1000/31761 = 994.2 → 994
  assert.equal(d.unusable[1], 994);
  assert.match(f.extfragIndexText, /^Node 0, zone    DMA32 -1\.000 -1\.000 -1\.000  0\.875 /m);
});

test('pagetypeinfo (001, wrapped at 72 columns): free counts summed over migratetypes', () => {
  const f = fragmentationFromText(proc('001-pagetypeinfo.txt'));
  assert.equal(f.source, 'pagetypeinfo');
  const n = f.zones.find((z) => z.zone === 'Normal')!;
  // order 9 = 0 + 0 + 0 + 0 (+ Isolate 0); order 10 likewise: the zone has nothing at orders 9 and 10
  assert.deepEqual(n.nrFree.slice(8), [141 + 2 + 1, 0, 0]);
  assert.equal(n.unusable[9], 1000);
  assert.ok(n.extfrag[9]! > 900); // fails for fragmentation, not for lack of memory
  // order 0 = 39 + 1087 + 1 + 1 + 0
  assert.equal(n.nrFree[0], 1128);
});

test('the kernel\'s formulas on edge cases and its print format', () => {
  assert.equal(unusableFreeIndex(0, fillContigPageInfo([0, 0, 0], 0)), 1000);
  assert.equal(fragmentationIndex(2, fillContigPageInfo([0, 0, 0], 2)), 0);
  // all memory in order-0 pages, order-1 request: 1000 − (1000 + 4·1000/2)/4 = 1000 − 750 = 250
  assert.equal(fragmentationIndex(1, fillContigPageInfo([4], 1)), 250);
  assert.equal(formatIndex(-1000, true), '-1.000');
  assert.equal(formatIndex(875, true), ' 0.875');
  assert.equal(formatIndex(875, false), '0.875');
  assert.equal(formatIndex(1000, false), '1.000');
  // 5.13 prints extfrag_index with %d, 6.1 with %2d
  assert.match(fragmentationFromText(proc('004-buddyinfo.txt'), { kernel: '5.10' }).extfragIndexText, /-1\.000 0\.875 /);
});

test('a report\'s per-order lines serve as input; unreadable input is a typed error', () => {
  const f = fragmentationFromText(readFileSync(path.join(FIXTURES, 'reports', '004.txt'), 'utf8'));
  assert.equal(f.source, 'report');
  const n = f.zones.find((z) => z.zone === 'Normal')!;
  assert.equal(n.unusable[4], 1000); // no block of order ≥ 4 in Normal
  assert.throws(() => fragmentationFromText('garbage\n'), BadInputError);
  assert.throws(() => fragmentationFromText(readFileSync(path.join(FIXTURES, 'reports', '012.txt'), 'utf8')), BadInputError);
});
