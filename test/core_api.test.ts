/** The kernel-named API and its facade: refcounts, compound and split pages, addresses, misuse, pcp, tracing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallMachine } from './_machine.ts';
import { verify } from '../src/debug/verify.ts';
import { BadPageStateError } from '../src/errors.ts';
import {
  GFP_ATOMIC, GFP_DMA32, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_COMP,
} from '../src/gfp/bits.ts';
import { PG_head, PG_tail } from '../src/mm/page_flags.ts';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../src/mm/constants.ts';
import { createPageAllocator } from '../src/alloc/allocator.ts';
import { KmemTracer } from '../src/trace/kmem_out.ts';
import type { PageAllocator } from '../src/alloc/page_alloc.ts';

function sameState(a: PageAllocator, fn: () => void): BadPageStateError {
  const before = new Uint8Array(a.snapshot());
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof BadPageStateError, `expected BadPageStateError, got ${String(err)}`);
  const after = new Uint8Array(a.snapshot());
  assert.equal(Buffer.compare(before, after), 0, 'every byte of state is unchanged after the error');
  return err;
}

test('bad_page_state_on_misuse_changes_nothing', () => {
  const a = smallMachine({ dma32Pages: 4096 });
  const p0 = a.alloc_pages(GFP_KERNEL, 0);
  const p2 = a.alloc_pages(GFP_KERNEL, 2);
  const c = a.alloc_pages(GFP_KERNEL | __GFP_COMP, 3);
  a.__free_pages(p0, 0);
  let e = sameState(a, () => a.__free_pages(p0, 0));
  assert.match(e.message, /^BUG: Bad page state in process labyrinth {2}pfn:[0-9a-f]{5}/);
  assert.match(e.message, /refcount:0/);
  assert.match(e.message, /page dumped because: double free/);
  e = sameState(a, () => a.__free_pages(p2, 1));
  assert.match(e.message, /wrong order/);
  e = sameState(a, () => a.__free_pages(c + 1, 0));
  assert.match(e.message, /tail page/);
  e = sameState(a, () => a.__free_pages(p2 + 1, 0));
  assert.match(e.message, /never allocated|refcount/);
  e = sameState(a, () => a.__free_pages(a.mm.nrPfn + 5, 0));
  assert.match(e.message, /out of range/);
  e = sameState(a, () => a.__free_pages(-1, 0));
  e = sameState(a, () => a.put_page(p0));
  assert.match(e.message, /refcount|underflow/);
  e = sameState(a, () => a.get_page(p0));
  // a page on a buddy free list (never allocated)
  let freePfn = -1;
  for (let p = 4096; p < 8192; p++) if (a.page(p).flagNames === 'buddy') { freePfn = p; break; }
  assert.ok(freePfn > 0);
  e = sameState(a, () => a.__free_pages(freePfn, a.page(freePfn).order));
  assert.match(e.message, /already free/);
  verify(a);
});

test('compound_pages_mark_head_and_tails_and_free_whole', () => {
  const a = smallMachine({ dma32Pages: 4096 });
  const c = a.alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
  assert.equal(a.mm.flags[c], PG_head);
  for (let t = c + 1; t < c + 4; t++) {
    assert.equal(a.mm.flags[t], PG_tail);
    assert.equal(a.compound_head(t), c);
  }
  a.get_page(c + 2); // reference through a tail goes to the head
  assert.equal(a.page_count(c), 2);
  a.put_page(c + 3);
  assert.equal(a.page_count(c), 1);
  verify(a);
  const before = a.nrFreePages(a.mm.pageZone(c)) + a.freePcp(a.mm.pageZone(c));
  a.put_page(c + 1);
  assert.equal(a.nrFreePages(a.mm.pageZone(c)) + a.freePcp(a.mm.pageZone(c)), before + 4, 'last put frees the whole compound page');
  for (let t = c; t < c + 4; t++) assert.notEqual(a.mm.flags[t]! & (PG_head | PG_tail), PG_tail);
  verify(a);
});

test('split_page_gives_independent_order0_pages', () => {
  const a = smallMachine({ dma32Pages: 4096 });
  const p = a.alloc_pages(GFP_KERNEL, 3);
  const g = a.pageGeneration(p);
  a.split_page(p, 3);
  const gens = new Set<number>();
  for (let i = 0; i < 8; i++) {
    assert.equal(a.page_count(p + i), 1);
    gens.add(a.pageGeneration(p + i));
  }
  assert.equal(gens.size, 8, 'each piece has its own generation');
  assert.ok(gens.has(g));
  verify(a);
  for (let i = 7; i >= 0; i--) a.__free_pages(p + i, 0);
  verify(a);
  sameState(a, () => a.split_page(p, 3));
});

test('free_pages_with_extra_reference_frees_the_rest_and_keeps_the_first_page', () => {
  const a = smallMachine({ dma32Pages: 4096 });
  const p = a.alloc_pages(GFP_KERNEL, 2);
  a.get_page(p);
  a.__free_pages(p, 2);
  assert.equal(a.page_count(p), 1);
  assert.equal(a.page(p).order, 0, 'the first page stays as an order-0 page');
  verify(a);
  a.put_page(p);
  verify(a);
});

test('generation_detects_stale_handles', () => {
  const a = smallMachine({ dma32Pages: 4096 });
  const p = a.alloc_pages(GFP_KERNEL, 0);
  const g = a.pageGeneration(p);
  assert.ok(g !== 0);
  a.__free_pages(p, 0);
  assert.equal(a.pageGeneration(p), 0);
  const q = a.alloc_pages(GFP_KERNEL, 0);
  assert.equal(q, p, 'pcp LIFO hands the same page back');
  assert.notEqual(a.pageGeneration(q), g);
});

test('zonelist_falls_back_normal_dma32_dma', () => {
  const a = smallMachine({ dma32Pages: 2048, normalPages: 4096, watermarkBoostFactor: 0 });
  const types = a.zonelist(0).map((z) => a.zone(z).type);
  assert.deepEqual(types, [ZONE_NORMAL, ZONE_DMA32, ZONE_DMA]);
  const first = a.alloc_pages(GFP_KERNEL, 0);
  assert.equal(a.zone(a.mm.pageZone(first)).type, ZONE_NORMAL);
  const d32 = a.alloc_pages(GFP_DMA32, 0);
  assert.equal(a.zone(a.mm.pageZone(d32)).type, ZONE_DMA32);
  const seen = new Set<number>();
  for (let i = 0; i < 20000; i++) {
    const p = a.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    if (p < 0) break;
    seen.add(a.zone(a.mm.pageZone(p)).type);
  }
  assert.ok(seen.has(ZONE_NORMAL) && seen.has(ZONE_DMA32), 'spills from Normal to DMA32');
  assert.ok(a.vmEvents().pgalloc_normal! > 0 && a.vmEvents().pgalloc_dma32! > 0);
  verify(a);
});

test('addresses_above_4GiB_round_trip', () => {
  const a = smallMachine({ dma32Pages: 2048, normalPages: 4096 });
  const addr = a.__get_free_pages(GFP_KERNEL, 1);
  assert.ok(addr >= 2 ** 32, `address ${addr} above 4 GiB`);
  assert.equal(addr % 4096, 0);
  const pfn = a.virt_to_page(addr);
  assert.equal(a.page_address(pfn), addr);
  a.free_pages(addr, 1);
  a.free_pages(0, 3); // free_pages(0) is a no-op
  const z = a.get_zeroed_page(GFP_KERNEL);
  assert.ok(z > 0);
  a.free_pages(z, 0);
  verify(a);
});

test('pcp_refill_takes_batch_and_free_drains_above_high', () => {
  const mm = createPageAllocator({ mem: '1G' });
  const a = mm.kernel;
  const z = a.zonelist(0)[0]!;
  const { batch, high } = a.pcp(z, 0);
  assert.equal(batch, 63, 'zone_batchsize of a ≥1 GiB zone');
  const p = a.alloc_pages(GFP_KERNEL, 0);
  assert.ok(p >= 0);
  assert.equal(a.pcp(z, 0).count, batch - 1, 'rmqueue_bulk refilled one batch, one page handed out');
  const held: number[] = [p];
  for (let i = 0; i < high + batch; i++) held.push(a.alloc_pages(GFP_KERNEL, 0));
  for (const q of held) a.__free_pages(q, 0);
  assert.ok(a.pcp(z, 0).count < high, 'free_pcppages_bulk kept pcp->count below high');
  verify(a);
  a.drain_all_pages();
  assert.equal(a.pcp(z, 0).count, 0);
  verify(a);
});

test('kmem_tracepoints_print_6_1_ftrace_lines', () => {
  const a = smallMachine({ dma32Pages: 4096 });
  const lines: string[] = [];
  a.setTracer(new KmemTracer((l) => lines.push(l)));
  const p = a.alloc_pages(GFP_KERNEL, 0);
  a.__free_pages(p, 0);
  a.drain_all_pages();
  while (a.alloc_pages(GFP_ATOMIC, 0) >= 0);
  a.setTracer(null);
  a.alloc_pages(GFP_KERNEL, 0);
  const body = lines.map((l) => l.replace(/^.*?: (mm_\w+): /, '$1: '));
  assert.ok(body.some((l) => /^mm_page_alloc_zone_locked: page=\(____ptrval____\) pfn=0x[0-9a-f]+ order=0 migratetype=0 percpu_refill=1$/.test(l)));
  assert.ok(body.some((l) => /^mm_page_alloc: page=\(____ptrval____\) pfn=0x[0-9a-f]+ order=0 migratetype=0 gfp_flags=GFP_KERNEL$/.test(l)));
  assert.ok(body.some((l) => /^mm_page_free: page=\(____ptrval____\) pfn=0x[0-9a-f]+ order=0$/.test(l)));
  assert.ok(body.some((l) => /^mm_page_pcpu_drain: page=\(____ptrval____\) pfn=0x[0-9a-f]+ order=0 migratetype=0$/.test(l)));
  assert.ok(body.some((l) => /^mm_page_alloc_extfrag: page=\(____ptrval____\) pfn=0x[0-9a-f]+ alloc_order=0 fallback_order=\d+ pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=[01] change_ownership=[01]$/.test(l)));
  assert.equal(body[body.length - 1], 'mm_page_alloc: page=(____ptrval____) pfn=0x0 order=0 migratetype=0 gfp_flags=GFP_ATOMIC',
    'a failed allocation traces pfn 0');
  assert.match(lines[0]!, /^ +labyrinth-1 +\[000\] \.{5} +\d+\.\d{6}: mm_page_/);
  const n = lines.length;
  assert.equal(lines.length, n, 'nothing traced after setTracer(null)');
});

test('facade_builds_64G_at_12_bytes_per_page', () => {
  const mm = createPageAllocator({ mem: '64G' });
  const { perPage } = mm.kernel.metadataBytes();
  assert.ok(perPage <= 12.1, `${perPage} bytes per page`);
  const addr = mm.getFreePages(GFP_KERNEL, 10);
  assert.ok(addr >= 2 ** 32, `order-10 block from Normal at ${addr}`);
  mm.freePagesAddr(addr, 10);
});

test('shared_buffer_attach_sees_the_same_state', async () => {
  const { attachPageAllocator } = await import('../src/alloc/allocator.ts');
  const mm = createPageAllocator({ mem: '1G', shared: true });
  assert.ok(mm.buffer instanceof SharedArrayBuffer);
  const p = mm.allocPages(GFP_KERNEL, 3);
  const other = attachPageAllocator(mm.buffer);
  assert.equal(other.kernel.page_count(p), 1);
  other.freePages(p, 3);
  assert.equal(mm.kernel.page_count(p), 0);
  mm.verify();
});
