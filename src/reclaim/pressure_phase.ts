/**
 * The pressure phase of the real 512M capture (linux-6.1-qemu/512M, snap/06_pagecache → 07_after_pressure), as a
 * workload for the simulator: a task faults in anonymous memory in 1 MiB chunks (256 order-0 pages of
 * GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO, the 6.1 anon-fault mask seen in the trace) until MemAvailable is at
 * most 5 % of MemTotal, holds it 1 s, then frees the chunks in the order i·7919 mod n. Memory starts as at
 * 06_pagecache: 46843 clean block-device page-cache pages, 911 anon pages, the rest kernel memory.
 *
 * Machine-speed parameters (calibrated once on that capture, see docs/pressure.md): a fault costs 12.5 µs of
 * virtual time (41.7 k pages in the 0.52 s before kswapd first woke), reclaim scans a page in 0.8 µs.
 */
import { ALLOC_NO_WATERMARKS } from '../gfp/alloc_flags.ts';
import { GFP_DMA, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_ACCOUNT, __GFP_COMP, __GFP_ZERO } from '../gfp/bits.ts';
import { processContext } from '../alloc/context.ts';
import type { Pressure } from '../alloc/slowpath.ts';
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE } from './lru.ts';
import type { PageAllocatorPort } from './port.ts';

export const PRESSURE_GFP = GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO; // 0x140dca
/** GFP_PGTABLE_USER: a page-table page per 512 anon pages (unmovable: where fallback steals and boosts come from) */
export const PGTABLE_GFP = GFP_KERNEL | __GFP_ACCOUNT | __GFP_ZERO;

/** The counters the comparison uses, 06_pagecache → 07_after_pressure deltas of the real run. */
export const REAL_512M_PRESSURE_DELTAS: Readonly<Record<string, number>> = {
  pgscan_kswapd: 41642, pgsteal_kswapd: 41642, pgscan_direct: 159, pgsteal_direct: 159, allocstall_movable: 3,
  pageoutrun: 74, kswapd_low_wmark_hit_quickly: 72, kswapd_high_wmark_hit_quickly: 0, compact_stall: 0,
  compact_daemon_wake: 10, compact_migrate_scanned: 20239, compact_free_scanned: 26664, pgmigrate_success: 4352,
  oom_kill: 0,
};

export interface PressurePhaseOptions {
  faultNs?: number;
  /** 06_pagecache numbers */
  pageCachePages?: number;
  anonPages?: number;
  slabReclaimablePages?: number;
  /** pages the DMA zone has in use at 06_pagecache (managed − free) */
  dmaUsedPages?: number;
  /** DMA32 free pages at 06_pagecache */
  dma32FreePages?: number;
  memTotalKb?: number;
}

export interface PressurePhaseResult {
  chunks: number;
  pagesAllocated: number;
  endNs: number;
  /** counter deltas over the phase, by vmstat name */
  deltas: Record<string, number>;
  memAvailableStartKb: number;
  memAvailableEndKb: number;
  minFreeSeen: number;
}

/** si_mem_available (6.1) in pages. */
export function memAvailablePages(port: PageAllocatorPort, pagecache: number, slabReclaimable: number): number {
  let wmarkLow = 0, totalreserve = 0, free = 0;
  for (const z of port.zones) {
    wmarkLow += z.wmarkLow;
    let maxReserve = 0;
    for (let i = 0; i < 5; i++) maxReserve = Math.max(maxReserve, z.lowmemReserve(i));
    totalreserve += Math.min(maxReserve + z.wmarkHigh, z.managed);
    free += z.freePages;
  }
  let available = free - totalreserve;
  available += pagecache - Math.min(Math.floor(pagecache / 2), wmarkLow);
  available += slabReclaimable - Math.min(Math.floor(slabReclaimable / 2), wmarkLow);
  return Math.max(0, available);
}

/** Build the 06_pagecache state on `p`'s machine, run the pressure phase, and return the deltas. */
export function runPressurePhase(p: Pressure, o: PressurePhaseOptions = {}): PressurePhaseResult {
  const faultNs = o.faultNs ?? 12_500;
  const pageCache = o.pageCachePages ?? 46843;
  const anonStart = o.anonPages ?? 911;
  const slab = o.slabReclaimablePages ?? 2366;
  const memTotalKb = o.memTotalKb ?? 468404;
  const port = p.port;
  const clock = p.clock;
  const lru = p.reclaim.lru;
  // --- 06_pagecache ---
  const dma = port.zones.find((z) => z.zoneIdx === 0);
  if (dma) for (let i = 0; i < (o.dmaUsedPages ?? 32); i++) port.getPageFromFreelist(GFP_DMA, 0, ALLOC_NO_WATERMARKS);
  const dma32 = port.zones[port.zones.length - 1]!;
  const kernelPages = dma32.freePages - (o.dma32FreePages ?? 38768) - pageCache - anonStart;
  for (let i = 0; i < kernelPages; i++) port.getPageFromFreelist(GFP_KERNEL, 0, ALLOC_NO_WATERMARKS);
  for (let i = 0; i < anonStart; i++) p.reclaim.addPage(port.getPageFromFreelist(PRESSURE_GFP, 0, ALLOC_NO_WATERMARKS), 0, 'anon', false);
  for (let i = 0; i < pageCache; i++) p.reclaim.addPage(port.getPageFromFreelist(GFP_HIGHUSER_MOVABLE, 0, ALLOC_NO_WATERMARKS), 0, 'file', false);
  // the state was built by allocating at will; boot-time allocations do not leave watermark boosts behind
  for (const z of port.zones) z.watermarkBoost = 0;
  const pagecache = (): number => lru.lruSize(0, LRU_INACTIVE_FILE) + lru.lruSize(0, LRU_ACTIVE_FILE);
  const before = p.counters();
  const stopAt = Math.floor((memTotalKb * 5) / 100 / 4);
  const memAvailableStartKb = memAvailablePages(port, pagecache(), slab) * 4;
  // --- the workload ---
  const ctx = processContext(642, 'workload');
  const chunks: number[][] = [];
  let current: number[] = [];
  const pageTables: number[] = [];
  let minFree = Infinity;
  let done = false;
  let pagesAllocated = 0;
  let memAvailableEndKb = 0;
  const freeAll = (): void => {
    for (const pfn of pageTables) port.freePages(pfn, 0);
    const n = chunks.length;
    for (let i = 0; i < n; i++) {
      for (const h of chunks[(i * 7919) % n]!) {
        const pfn = lru.pfnOf(h);
        if (pfn >= 0) { p.reclaim.removePage(pfn); port.freePages(pfn, 0); } else lru.forgetHandle(h);
      }
    }
    done = true;
  };
  const next = (): void => {
    if (pagesAllocated % 512 === 0 && pageTables.length * 512 <= pagesAllocated) {
      // the fault first needs its page table
      p.allocSleeping(PGTABLE_GFP, 0, ctx, (pt) => {
        if (pt < 0) throw new Error('page-table allocation failed');
        pageTables.push(pt);
        next();
      });
      return;
    }
    p.allocSleeping(PRESSURE_GFP, 0, ctx, (pfn) => {
      if (pfn < 0) throw new Error('the pressure workload cannot fail: GFP_HIGHUSER_MOVABLE order-0 is too small to fail');
      pagesAllocated++;
      current.push(p.reclaim.addPage(pfn, 0, 'anon', false));
      let free = 0;
      for (const z of port.zones) free += z.freePages;
      if (free < minFree) minFree = free;
      if (current.length === 256) {
        chunks.push(current);
        current = [];
        const avail = memAvailablePages(port, pagecache(), slab);
        if (avail <= stopAt) {
          memAvailableEndKb = avail * 4;
          clock.after(1_000_000_000, freeAll);
          return;
        }
      }
      clock.after(faultNs, next);
    });
  };
  clock.after(0, next);
  while (!done && clock.pending > 0) clock.step();
  // let kswapd/kcompactd finish what they started
  clock.runUntil(clock.now + 2_000_000_000);
  const after = p.counters();
  const deltas: Record<string, number> = {};
  for (const k of Object.keys(after)) deltas[k] = after[k]! - (before[k] ?? 0);
  return { chunks: chunks.length, pagesAllocated, endNs: clock.now, deltas, memAvailableStartKb, memAvailableEndKb, minFreeSeen: minFree };
}
