/** mempool (mm/mempool.c 6.1) semantics, with plain elements and with exclusive pages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mempool, exclusiveMempool } from './mempool.ts';
import { Labyrinths } from './domain.ts';
import { ExclusiveKey } from './exclusive.ts';
import { ArrayBufferPageBytes } from './page_bytes.ts';
import { smallMachine } from '../../test/_machine.ts';
import {
  GFP_ATOMIC, GFP_KERNEL, GFP_NOIO, __GFP_DIRECT_RECLAIM, __GFP_EXCL, __GFP_IO, __GFP_NOMEMALLOC, __GFP_NORETRY,
  __GFP_NOWARN, __GFP_ZERO,
} from '../gfp/bits.ts';
import { PAGE_SIZE } from '../mm/constants.ts';

test('mempool_create_preallocates_min_nr_with_gfp_kernel', () => {
  const seen: number[] = [];
  let n = 0;
  const pool = new Mempool<number>(3, (gfp) => { seen.push(gfp); return ++n; }, () => {});
  assert.equal(pool.currNr, 3);
  assert.deepEqual(seen, [GFP_KERNEL, GFP_KERNEL, GFP_KERNEL]);
  let left = 2;
  assert.throws(() => new Mempool<number>(3, () => (left-- > 0 ? 1 : null), () => {}), /allocator failed after 2/);
});

test('mempool_alloc_tries_the_allocator_first_without_reclaim_then_the_pool_then_the_full_mask', () => {
  const asked: number[] = [];
  let fail = false;
  let n = 100;
  const freed: number[] = [];
  const pool = new Mempool<number>(2, (gfp) => { asked.push(gfp); return fail ? null : ++n; }, (e) => freed.push(e));
  asked.length = 0;
  const e1 = pool.alloc(GFP_KERNEL);
  assert.equal(e1, 103);
  const extra = __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN;
  assert.deepEqual(asked, [((GFP_KERNEL | extra) & ~(__GFP_DIRECT_RECLAIM | __GFP_IO)) >>> 0]);
  fail = true;
  asked.length = 0;
  assert.equal(pool.alloc(GFP_KERNEL), 102, 'LIFO from the pool');
  assert.equal(pool.alloc(GFP_KERNEL), 101);
  assert.equal(pool.fromPool, 2);
  asked.length = 0;
  assert.equal(pool.alloc(GFP_KERNEL), null, 'empty pool: the kernel would sleep; nothing sleeps here');
  assert.deepEqual(asked, [((GFP_KERNEL | extra) & ~(__GFP_DIRECT_RECLAIM | __GFP_IO)) >>> 0, (GFP_KERNEL | extra) >>> 0]);
  assert.equal(pool.waits, 1);
  asked.length = 0;
  assert.equal(pool.alloc(GFP_ATOMIC), null);
  assert.equal(asked.length, 1, 'an atomic mask differs only by bits it lacks: one try');
  assert.equal(pool.failures, 1);
  assert.equal(pool.alloc(GFP_NOIO) === null, true);
  assert.throws(() => pool.alloc(GFP_KERNEL | __GFP_ZERO), /__GFP_ZERO/);
  // mempool_free refills the pool first, then frees
  pool.free(101);
  pool.free(102);
  pool.free(103);
  assert.equal(pool.currNr, 2);
  assert.deepEqual(freed, [103]);
  pool.free(null);
  assert.equal(pool.resize(1), true);
  assert.deepEqual(freed, [103, 102]);
  fail = false;
  assert.equal(pool.resize(3), true);
  assert.equal(pool.currNr, 3);
  pool.destroy();
  assert.equal(pool.currNr, 0);
  assert.throws(() => pool.alloc(GFP_KERNEL), /destroyed/);
});

test('exclusive_mempool_serves_atomic_callers_under_pressure_with_wiped_pages', () => {
  const alloc = smallMachine({ dmaPages: 4095 });
  const bytes = new ArrayBufferPageBytes(alloc.mm.nrPfn);
  const labs = new Labyrinths(alloc, { bytes });
  const t = labs.create('enclave').spawn('crypto');
  const pool = exclusiveMempool(t, 2);
  assert.equal(t.lab.current, 2);
  // exhaust the machine
  const held: number[] = [];
  for (let p = alloc.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0); p >= 0; p = alloc.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0)) held.push(p);
  const direct = t.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 0);
  assert.ok(!(direct instanceof ExclusiveKey), 'the allocator itself fails');
  const k1 = pool.alloc(GFP_ATOMIC | __GFP_EXCL);
  const k2 = pool.alloc(GFP_ATOMIC | __GFP_EXCL);
  assert.ok(k1 instanceof ExclusiveKey && k2 instanceof ExclusiveKey);
  assert.equal(pool.alloc(GFP_ATOMIC | __GFP_EXCL), null);
  t.write(k1, 0, new Uint8Array([1, 2, 3]));
  const pfn1 = t.info(k1).pfn;
  pool.free(k1);
  assert.deepEqual(bytes.physRead(pfn1 * PAGE_SIZE, 3), new Uint8Array(3), 'wiped when kept by the pool');
  const k3 = pool.alloc(GFP_ATOMIC | __GFP_EXCL);
  assert.equal(k3, k1, 'the pooled element (same key) comes back');
  assert.deepEqual(t.read(k3!, 0, 3), new Uint8Array(3));
  pool.free(k2);
  pool.free(k3);
  for (const p of held) alloc.__free_pages(p, 0);
  pool.destroy();
  assert.equal(t.lab.current, 0);
  labs.verify();
});
