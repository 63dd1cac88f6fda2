/**
 * Replay without a start state: the trace's requests drive the core allocator on a freshly booted machine
 * built like the traced one, and the allocator chooses the pages. Each mm_page_alloc becomes
 * alloc_pages(gfp, order); each mm_page_free of a page allocated in the trace becomes __free_pages of the
 * page the allocator chose for it. Frees of pages allocated before the trace began are skipped (counted).
 * The result is the fragmentation the same request stream causes on Labyrinth's allocator, phase by phase.
 */
import type { PageAllocator } from '../alloc/page_alloc.ts';
import { parseGfp } from '../gfp/format.ts';
import * as ev from './events.ts';
import type { TraceEvents } from './events.ts';
import { weightedUnusableIndex } from './kmem_stat.ts';

const EV_PAGE_ALLOC = ev.EV_PAGE_ALLOC, EV_PAGE_FREE = ev.EV_PAGE_FREE;

export interface PlacementPoint {
  row: number;
  zones: Array<{ zone: string; counts: number[] }>;
  /** free-page-weighted unusable free index per order */
  unusable: number[];
  allocFailures: number;
}

export interface PlacementResult {
  points: PlacementPoint[];
  allocs: number;
  allocFailures: number;
  frees: number;
  /** frees of pages allocated before the trace began (no simulated page to free) */
  freesUnmatched: number;
  /** allocations whose gfp text could not be read (replayed as GFP_KERNEL) */
  gfpUnreadable: number;
  /** frees the allocator refused (order larger than allocated, or a misuse it reports) */
  freesRejected: number;
}

/** GFP_KERNEL: the fallback for gfp text the layout does not know. */
const GFP_KERNEL = 0xcc0;

export function replayPlacement(e: TraceEvents, alloc: PageAllocator, points: number[], kernel?: string): PlacementResult {
  const masks = new Float64Array(e.gfps.length);
  let unreadable = 0;
  const bad = new Uint8Array(e.gfps.length);
  e.gfps.forEach((g, k) => {
    try { masks[k] = g === 'none' ? 0 : parseGfp(g, kernel); } catch { masks[k] = GFP_KERNEL; bad[k] = 1; }
  });
  const wanted = [...new Set(points)].sort((a, b) => a - b);
  const slots: number[] = [];
  for (let z = 0; z < alloc.nrZones; z++) if (alloc.zone(z).spanned > 0) slots.push(z);
  const res: PlacementResult = { points: [], allocs: 0, allocFailures: 0, frees: 0, freesUnmatched: 0, gfpUnreadable: 0, freesRejected: 0 };
  const record = (row: number): void => {
    const zones = slots.map((z) => ({ zone: alloc.zone(z).name, counts: alloc.buddyinfo(z) }));
    res.points.push({ row, zones, unusable: weightedUnusableIndex(zones.map((z) => z.counts)), allocFailures: res.allocFailures });
  };
  const placed = new Map<number, number>(); // traced pfn → simulated pfn * 16 + order
  let pi = 0;
  while (pi < wanted.length && wanted[pi]! < 0) record(wanted[pi++]!);
  const type = e.type, pfn = e.pfn, order = e.order, gfp = e.gfp;
  for (let i = 0; i < e.length; i++) {
    const t = type[i]!;
    if (t === EV_PAGE_ALLOC && pfn[i]! >= 0 && order[i]! <= 10) {
      const g = gfp[i]!;
      if (g >= 0 && bad[g] === 1) unreadable++;
      const sim = alloc.alloc_pages(g < 0 ? GFP_KERNEL : masks[g]!, order[i]!);
      res.allocs++;
      if (sim < 0) res.allocFailures++;
      else placed.set(pfn[i]!, sim * 16 + order[i]!);
    } else if (t === EV_PAGE_FREE && order[i]! <= 10) {
      const p = pfn[i]!;
      const o = order[i]!;
      const packed = placed.get(p);
      if (packed === undefined) { res.freesUnmatched++; continue; }
      const sim = Math.floor(packed / 16);
      const po = packed % 16;
      placed.delete(p);
      try {
        if (o < po) {
          // the caller split the block (split_page) and frees it piece by piece
          alloc.split_page(sim, po);
          for (let k = 1 << o; k < 1 << po; k++) placed.set(p + k, (sim + k) * 16);
          for (let k = 1; k < 1 << o; k++) alloc.__free_pages(sim + k, 0);
          alloc.__free_pages(sim, 0);
        } else if (o === po) alloc.__free_pages(sim, o);
        else { res.freesRejected++; continue; }
        res.frees++;
      } catch {
        res.freesRejected++;
      }
    }
    while (pi < wanted.length && wanted[pi] === i) record(wanted[pi++]!);
  }
  while (pi < wanted.length) record(wanted[pi++]!);
  res.gfpUnreadable = unreadable;
  return res;
}
