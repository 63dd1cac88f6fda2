/** Kernel rules of the buddy core, each test named after the rule (Linux 6.1 mm/page_alloc.c). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallMachine } from './_machine.ts';
import { verify } from '../src/debug/verify.ts';
import { expand, freeOnePage, rmqueueSmallest, FPI_NONE } from '../src/buddy/buddy.ts';
import { delPageFromFreeList, getPageFromFreeArea } from '../src/buddy/free_area.ts';
import {
  GFP_ATOMIC, GFP_DMA, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_NOWAIT, __GFP_MEMALLOC, __GFP_NOWARN,
} from '../src/gfp/bits.ts';
import { ALLOC_HARDER, ALLOC_HIGH } from '../src/gfp/alloc_flags.ts';
import { effectiveMin } from '../src/zone/watermark.ts';
import {
  MAX_ORDER, MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, pageblock_nr_pages,
} from '../src/mm/constants.ts';
import { FAIL_WATERMARK } from '../src/alloc/page_alloc.ts';

test('expand_puts_upper_halves_back', () => {
  const a2 = smallMachine();
  const m2 = a2.mm;
  const big = getPageFromFreeArea(m2, 0, 10, MIGRATE_MOVABLE);
  const nr = a2.buddyinfo(0);
  delPageFromFreeList(m2, 0, big);
  expand(m2, 0, big, 0, 10, MIGRATE_MOVABLE);
  const after = a2.buddyinfo(0);
  for (let o = 0; o < 10; o++) {
    assert.equal(after[o], nr[o]! + 1, `order ${o} gained the upper half`);
    assert.equal(getPageFromFreeArea(m2, 0, o, MIGRATE_MOVABLE), big + (1 << o), `upper half of order ${o} at pfn + 2^${o}`);
  }
  assert.equal(after[10], nr[10]! - 1);
});

test('free_merges_buddies_up_to_max_order', () => {
  const a = smallMachine();
  const m = a.mm;
  const big = getPageFromFreeArea(m, 0, 10, MIGRATE_MOVABLE);
  const nr10 = a.nrFree(0, 10);
  // allocate the whole order-10 block page by page via the low-level primitive, then free them all
  assert.ok(a.takeFreeBlock(big, 0));
  for (let p = big + 1; p < big + 1024; p++) assert.ok(a.takeFreeBlock(p, 0), `pfn ${p} is the head of a free block after splitting`);
  assert.equal(a.nrFree(0, 10), nr10 - 1);
  verify(a);
  for (let p = big + 1023; p >= big; p--) a.freeBlock(p, 0);
  assert.equal(a.nrFree(0, 10), nr10, 'the 1024 pages merged back into one order-10 block');
  assert.equal(getPageFromFreeArea(m, 0, 10, MIGRATE_MOVABLE) >= 0, true);
  verify(a);
});

test('buddy_merge_likely_puts_block_at_tail', () => {
  const a = smallMachine();
  const m = a.mm;
  const big = getPageFromFreeArea(m, 0, 10, MIGRATE_MOVABLE);
  // split to order 0 pages: [big, big+1] and [big+2, big+3]
  for (let p = big; p < big + 1024; p++) a.takeFreeBlock(p, 0);
  // free big+2 then big+3: they merge into an order-1 block at big+2 whose order-2 buddy (big) is not free
  a.freeBlock(big + 2, 0);
  a.freeBlock(big + 3, 0);
  // free big: its buddy big+1 is allocated, so it stays order 0; but big's order-1 parent's buddy (big+2, order 1) is free
  a.freeBlock(big, 0);
  const head0 = getPageFromFreeArea(m, 0, 0, MIGRATE_MOVABLE);
  assert.notEqual(head0, big, 'a block whose higher buddy is free goes to the tail, not the head');
  verify(a);
});

test('lowmem_reserve_protects_dma', () => {
  const a = smallMachine({ dma32Pages: 8192, watermarkBoostFactor: 0 });
  const dma = 0;
  const wm = a.watermarks(dma);
  assert.ok(wm.lowmemReserve[2]! > 0, 'DMA keeps a reserve against Normal-capable requests');
  // GFP_KERNEL (highest zone Normal) eats DMA32, then DMA down to min + lowmem_reserve[Normal]
  let n = 0;
  while (a.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) >= 0) n++;
  assert.ok(n > 8000);
  const free = a.nrFreePages(dma);
  assert.ok(free > wm.min + wm.lowmemReserve[2]! - 1,
    `DMA free ${free} stays above min ${wm.min} + lowmem_reserve ${wm.lowmemReserve[2]}`);
  assert.equal(a.allocFailure().reason, FAIL_WATERMARK);
  // a GFP_DMA request (highest zone DMA, reserve 0) may still use those pages
  assert.ok(a.alloc_pages(GFP_DMA, 0) >= 0);
  verify(a);
});

test('gfp_kernel_stops_at_min_and_gfp_atomic_digs_to_three_eighths_of_min', () => {
  const a = smallMachine({ watermarkBoostFactor: 0 });
  const wm = a.watermarks(0);
  while (a.alloc_pages(GFP_KERNEL, 0) >= 0);
  assert.equal(a.nrFreePages(0), wm.min, 'GFP_KERNEL without reclaim fails once free reaches min');
  let atomic = 0;
  while (a.alloc_pages(GFP_ATOMIC, 0) >= 0) atomic++;
  const floor = effectiveMin(wm.min, ALLOC_HIGH | ALLOC_HARDER);
  assert.equal(a.nrFreePages(0), floor);
  assert.equal(floor, wm.min - Math.trunc(wm.min / 2) - Math.trunc((wm.min - Math.trunc(wm.min / 2)) / 4));
  assert.ok(Math.abs(floor - (3 * wm.min) / 8) < 2, `≈ 3/8 of min (${floor} vs ${wm.min})`);
  assert.equal(atomic, wm.min - floor);
  verify(a);
});

test('gfp_nowait_gets_no_atomic_reserve_in_6_1', () => {
  const a = smallMachine({ watermarkBoostFactor: 0 });
  const wm = a.watermarks(0);
  while (a.alloc_pages(GFP_KERNEL, 0) >= 0);
  assert.equal(a.alloc_pages(GFP_NOWAIT, 0), -1, 'GFP_NOWAIT has neither __GFP_HIGH nor __GFP_ATOMIC in 6.1');
  assert.equal(a.nrFreePages(0), wm.min);
});

test('gfp_memalloc_ignores_watermarks', () => {
  const a = smallMachine();
  while (a.alloc_pages(GFP_ATOMIC, 0) >= 0);
  const left = a.nrFreePages(0);
  assert.ok(left > 0);
  let n = 0;
  while (a.alloc_pages(GFP_KERNEL | __GFP_MEMALLOC, 0) >= 0) n++;
  assert.equal(n, left, '__GFP_MEMALLOC takes every last free page');
  assert.equal(a.nrFreePages(0), 0);
  verify(a);
});

test('fallback_steals_whole_pageblock_when_half_free', () => {
  const a = smallMachine();
  a.set_pageblock_migratetype(512, MIGRATE_UNMOVABLE);
  a.initFreeRuns([[512, 512 + 300]]);
  verify(a);
  const pfn = a.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
  assert.ok(pfn >= 512 && pfn < 1024);
  assert.equal(a.pageblockMigratetype(512), MIGRATE_MOVABLE, '300 free of 512 ≥ half: the pageblock changes owner');
  verify(a);
});

test('fallback_takes_free_pages_but_not_the_pageblock_when_less_than_half_free', () => {
  const a = smallMachine();
  a.set_pageblock_migratetype(512, MIGRATE_UNMOVABLE);
  a.initFreeRuns([[512, 512 + 200]]);
  a.setZoneWatermarks(0, { wmark: [1, 2, 3, 4], lowmemReserve: [0, 0, 0, 0, 0], pcpBatch: 1, pcpHigh: 4 });
  const pfn = a.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
  assert.ok(pfn >= 512 && pfn < 1024);
  assert.equal(a.pageblockMigratetype(512), MIGRATE_UNMOVABLE, '200 free (no movable pages) < 256: ownership stays');
  // 6.1 moved the block's free pages to the MOVABLE lists anyway
  let movable = 0;
  for (let o = 0; o < MAX_ORDER; o++) movable += a.nrFreeMt(0, o, MIGRATE_MOVABLE) << o;
  assert.ok(movable > 150);
  assert.equal(a.zoneGauges(0).watermarkBoost, pageblock_nr_pages, 'a fragmenting fallback boosts the watermark by a pageblock');
  verify(a);
});

test('movable_fallback_finds_smallest_when_it_cannot_steal', () => {
  const a = smallMachine();
  a.set_pageblock_migratetype(512, MIGRATE_UNMOVABLE);
  // free blocks of order 3 (8 pages at 512) and order 1 (2 pages at 600): order < pageblock_order/2, movable cannot steal
  a.initFreeRuns([[512, 520], [600, 602]]);
  a.setZoneWatermarks(0, { wmark: [0, 0, 0, 0], lowmemReserve: [0, 0, 0, 0, 0], pcpBatch: 1, pcpHigh: 4 });
  const pfn = a.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
  assert.equal(pfn, 600, 'splits the smallest fallback block, not the largest');
  assert.equal(a.pageblockMigratetype(512), MIGRATE_UNMOVABLE);
  verify(a);
});

test('highatomic_reserved_after_order_gt0_atomic', () => {
  const a = smallMachine({ dma32Pages: 8192 });
  while (a.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) >= 0);
  const pfn = a.alloc_pages(GFP_ATOMIC, 1);
  assert.ok(pfn >= 0, a.describeAllocFailure());
  const z = a.mm.pageZone(pfn);
  assert.equal(a.pageblockMigratetype(pfn), MIGRATE_HIGHATOMIC);
  assert.equal(a.zoneGauges(z).nrReservedHighatomic, pageblock_nr_pages);
  verify(a);
  // order-0 atomic requests do not reserve
  const b = smallMachine({ dma32Pages: 8192 });
  while (b.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) >= 0);
  assert.ok(b.alloc_pages(GFP_ATOMIC, 0) >= 0);
  assert.equal(b.zoneGauges(0).nrReservedHighatomic + b.zoneGauges(1).nrReservedHighatomic, 0);
  // unreserve gives the block back
  assert.ok(a.unreserve_highatomic_pageblock(2, MIGRATE_MOVABLE, true));
  assert.equal(a.zoneGauges(z).nrReservedHighatomic, 0);
  verify(a);
});

test('free_one_page_does_not_merge_highatomic_with_normal_pageblocks', () => {
  const a = smallMachine();
  const m = a.mm;
  // pfn 1024..2047 is one order-10 block of two pageblocks; make the upper one HIGHATOMIC
  const big = 1024;
  assert.equal(m.order[big]! & 0xf, 10, 'pfn 1024 heads an order-10 block at boot');
  const movable9 = a.nrFreeMt(0, 9, MIGRATE_MOVABLE);
  assert.ok(a.takeFreeBlock(big, 10));
  a.set_pageblock_migratetype(big + 512, MIGRATE_HIGHATOMIC);
  a.freeBlock(big + 512, 9);
  a.freeBlock(big, 9);
  assert.equal(a.nrFreeMt(0, 9, MIGRATE_HIGHATOMIC), 1);
  assert.equal(a.nrFreeMt(0, 9, MIGRATE_MOVABLE), movable9 + 1, 'two order-9 buddies stay apart across a HIGHATOMIC pageblock');
  verify(a);
  void freeOnePage; void FPI_NONE;
});

test('atomic_order0_ignores_watermark_boost_at_min', () => {
  const a = smallMachine();
  const wm = a.watermarks(0);
  while (a.alloc_pages(GFP_KERNEL, 0) >= 0);
  const boost = a.zoneGauges(0).watermarkBoost;
  assert.ok(boost > 0, 'the first unmovable fallback boosted the watermark');
  // order-1 atomic requests see the boosted mark (min + boost), reduced to 3/8
  const b = smallMachine();
  while (b.alloc_pages(GFP_KERNEL, 0) >= 0);
  while (b.alloc_pages(GFP_ATOMIC, 1) >= 0);
  const boostedFloor = effectiveMin(wm.min + boost, ALLOC_HIGH | ALLOC_HARDER);
  assert.ok(b.nrFreePages(0) <= boostedFloor + 2 && b.nrFreePages(0) > effectiveMin(wm.min, ALLOC_HIGH | ALLOC_HARDER) + 2);
  // order-0 __GFP_ATOMIC retries against the unboosted min (zone_watermark_fast, 6.1)
  while (a.alloc_pages(GFP_ATOMIC, 0) >= 0);
  assert.equal(a.nrFreePages(0), effectiveMin(wm.min, ALLOC_HIGH | ALLOC_HARDER));
  verify(a);
});
