/**
 * Exclusive pages in real memory (src/memory's MemoryAllocator over an ArrayBuffer): the allocator's
 * `bytes(addr)` refuses them without their key, a wrong or revoked key is refused through its gate, and after
 * free — by the holder, by an OOM kill, by destroying the labyrinth — the memory reads as zeros.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAllocator } from '../src/memory/memory_allocator.ts';
import { ExclusiveAccessError, MemoryAccessError } from '../src/memory/errors.ts';
import { Labyrinths } from '../src/labyrinth/domain.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { BackingPageBytes } from '../src/labyrinth/page_bytes.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_KERNEL_ACCOUNT, __GFP_EXCL } from '../src/gfp/bits.ts';
import { PAGE_SIZE } from '../src/mm/constants.ts';

function setup() {
  const mm = createAllocator({ memory: '64M' });
  const bytes = new BackingPageBytes(mm.backing);
  const labs = new Labyrinths(mm.kernel, { bytes });
  mm.setExclusiveGate(labs.exclusive.gate());
  const a = labs.create('a');
  const b = labs.create('b');
  return { mm, bytes, labs, a, b, ta: a.spawn('ta'), tb: b.spawn('tb') };
}

const SECRET = new TextEncoder().encode('correct horse battery staple');

test('real_memory: exclusive bytes are reachable only through their live key', () => {
  const { mm, bytes, labs, ta, tb } = setup();
  const k = ta.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 1);
  assert.ok(k instanceof ExclusiveKey);
  ta.write(k, 10, SECRET);
  const { pfn } = ta.info(k);
  const addr = mm.base + pfn * PAGE_SIZE;
  assert.throws(() => mm.bytes(addr, 64), ExclusiveAccessError);
  assert.throws(() => mm.bytes(addr + PAGE_SIZE, 64), ExclusiveAccessError, 'the tail page too');
  const other = tb.allocExclusive(GFP_KERNEL, 0);
  assert.ok(other instanceof ExclusiveKey);
  assert.throws(() => mm.bytes(addr, 64, other), ExclusiveAccessError, 'another labyrinth\'s key');
  assert.throws(() => mm.bytes(addr, 64, {}), ExclusiveAccessError, 'a forged key');
  assert.deepEqual(mm.bytes(addr + 10, SECRET.length, k), SECRET, 'the live key opens the real bytes');
  // transfer revokes the old key in the memory layer too
  const k2 = ta.transfer(k, tb);
  assert.throws(() => mm.bytes(addr, 64, k), ExclusiveAccessError);
  assert.deepEqual(mm.bytes(addr + 10, SECRET.length, k2), SECRET);
  tb.freeExclusive(k2);
  assert.throws(() => mm.bytes(addr, 64, k2), MemoryAccessError, 'use after free is refused');
  assert.deepEqual(bytes.physRead(pfn * PAGE_SIZE, 2 * PAGE_SIZE), new Uint8Array(2 * PAGE_SIZE), 'freed exclusive memory reads as zeros');
  labs.verify();
});

test('real_memory: an OOM kill inside a labyrinth and its destruction wipe the bytes', () => {
  const { mm, bytes, labs, a, b, ta, tb } = setup();
  a.setMax(8);
  const hog = a.spawn('hog');
  const k = hog.allocExclusive(GFP_KERNEL, 2);
  assert.ok(k instanceof ExclusiveKey);
  hog.write(k, 0, SECRET);
  const pfn = hog.info(k).pfn;
  for (let i = 0; i < 4; i++) hog.allocPages(GFP_KERNEL_ACCOUNT, 0);
  const kb = tb.allocExclusive(GFP_KERNEL, 0);
  assert.ok(kb instanceof ExclusiveKey);
  tb.write(kb, 0, SECRET);
  // ta needs room: the hog (8 pages) is the biggest task in a, and the only one killed
  assert.ok(ta.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  assert.equal(hog.alive, false);
  assert.equal(tb.alive, true);
  assert.deepEqual(bytes.physRead(pfn * PAGE_SIZE, 4 * PAGE_SIZE), new Uint8Array(4 * PAGE_SIZE));
  const pb = tb.info(kb).pfn;
  assert.deepEqual(mm.bytes(mm.base + pb * PAGE_SIZE, SECRET.length, kb), SECRET, 'the other labyrinth is untouched');
  b.destroy();
  assert.deepEqual(bytes.physRead(pb * PAGE_SIZE, PAGE_SIZE), new Uint8Array(PAGE_SIZE));
  labs.verify();
  mm.verify();
});
