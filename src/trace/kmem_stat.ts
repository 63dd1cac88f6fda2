/**
 * What `perf kmem --page stat` reports about a trace, from mm_page_alloc and mm_page_free events:
 * requests and pages, alloc+freed / alloc-only / free-only pairs by pfn, failures, the order × migratetype
 * table, and the top gfp masks, callsites (perf -g callchains) and tasks.
 * Migratetypes are named by the traced kernel's numbering (4.x+: 0 Unmovable, 1 Movable, 2 Reclaimable,
 * 3 HighAtomic, 4 Isolate); perf's own table still uses the pre-4.x order, see docs/replay.md.
 * Gfp texts are read into masks with the given kernel version's layout (default: the newest).
 * Also the unusable free space index (debugfs extfrag/unusable_index) for buddyinfo counts.
 * @kernel tools/perf/builtin-kmem.c (page analysis), mm/vmstat.c unusable_free_index
 */
import { parseGfp } from '../gfp/format.ts';
import * as ev from './events.ts';
import type { TraceEvents } from './events.ts';

const EV_PAGE_ALLOC = ev.EV_PAGE_ALLOC, EV_PAGE_FREE = ev.EV_PAGE_FREE;

export interface KmemGroup {
  key: string;
  hits: number;
  pages: number;
  /** gfp groups: the mask as a number (perf prints it in hex), when the text reads in the newest layout or is hex */
  mask?: number;
}

export interface KmemStat {
  allocRequests: number;
  allocPages: number;
  freeRequests: number;
  freePages: number;
  allocFreedRequests: number;
  allocFreedPages: number;
  allocOnlyRequests: number;
  allocOnlyPages: number;
  freeOnlyRequests: number;
  freeOnlyPages: number;
  allocFailures: number;
  allocFailurePages: number;
  /** hits per [order][migratetype] (migratetype 0..4; 5 = unknown) */
  orderMigratetype: number[][];
  byGfp: KmemGroup[];
  byCallsite: KmemGroup[];
  byTask: KmemGroup[];
}

function group(map: Map<string, KmemGroup>, key: string, pages: number): void {
  const g = map.get(key);
  if (g === undefined) map.set(key, { key, hits: 1, pages });
  else { g.hits++; g.pages += pages; }
}

/** The page allocator summary of `perf kmem --page stat` over rows [from, to). */
export function kmemStat(e: TraceEvents, from = 0, to = e.length, kernel?: string): KmemStat {
  const s: KmemStat = {
    allocRequests: 0, allocPages: 0, freeRequests: 0, freePages: 0, allocFreedRequests: 0, allocFreedPages: 0,
    allocOnlyRequests: 0, allocOnlyPages: 0, freeOnlyRequests: 0, freeOnlyPages: 0, allocFailures: 0, allocFailurePages: 0,
    orderMigratetype: Array.from({ length: 11 }, () => new Array<number>(6).fill(0)), byGfp: [], byCallsite: [], byTask: [],
  };
  const live = new Map<number, number>(); // pfn → order + 1 of an allocation not yet freed
  const gfpHits = new Int32Array(e.gfps.length + 1);
  const gfpPages = new Float64Array(e.gfps.length + 1);
  const taskHits = new Int32Array(e.comms.length);
  const taskPages = new Float64Array(e.comms.length);
  const callsites = new Map<string, KmemGroup>();
  const type = e.type, pfn = e.pfn, order = e.order, mt = e.mt;
  for (let i = from; i < to; i++) {
    const t = type[i]!;
    if (t !== EV_PAGE_ALLOC && t !== EV_PAGE_FREE) continue;
    const o = order[i]!;
    const n = 2 ** o;
    if (t === EV_PAGE_ALLOC) {
      const p = pfn[i]!;
      if (p < 0) { s.allocFailures++; s.allocFailurePages += n; continue; }
      s.allocRequests++;
      s.allocPages += n;
      live.set(p, o + 1);
      const m = mt[i]! < 0 || mt[i]! > 4 ? 5 : mt[i]!;
      if (o < s.orderMigratetype.length) s.orderMigratetype[o]![m]!++;
      const g = e.gfp[i]! + 1;
      gfpHits[g]!++;
      gfpPages[g]! += n;
      taskHits[e.comm[i]!]!++;
      taskPages[e.comm[i]!]! += n;
      const cs = e.callsites.get(i);
      if (cs !== undefined) group(callsites, cs, n);
    } else {
      s.freeRequests++;
      s.freePages += n;
      const p = pfn[i]!;
      if (live.has(p)) {
        const lo = live.get(p)! - 1;
        live.delete(p);
        s.allocFreedRequests++;
        s.allocFreedPages += 2 ** lo;
      } else {
        s.freeOnlyRequests++;
        s.freeOnlyPages += n;
      }
    }
  }
  s.allocOnlyRequests = s.allocRequests - s.allocFreedRequests;
  s.allocOnlyPages = s.allocPages - s.allocFreedPages;
  for (let g = 0; g < gfpHits.length; g++) {
    if (gfpHits[g]! > 0) {
      const key = g === 0 ? '(none)' : e.gfps[g - 1]!;
      const group: KmemGroup = { key, hits: gfpHits[g]!, pages: gfpPages[g]! };
      if (g > 0) {
        try { group.mask = key === 'none' ? 0 : parseGfp(key, kernel); } catch { /* a name this layout does not know */ }
      }
      s.byGfp.push(group);
    }
  }
  for (let c = 0; c < taskHits.length; c++) if (taskHits[c]! > 0) s.byTask.push({ key: e.comms[c]!, hits: taskHits[c]!, pages: taskPages[c]! });
  s.byCallsite = [...callsites.values()];
  const byHits = (a: KmemGroup, b: KmemGroup): number => b.hits - a.hits || b.pages - a.pages || (a.key < b.key ? -1 : 1);
  s.byGfp.sort(byHits);
  s.byTask.sort(byHits);
  s.byCallsite.sort(byHits);
  return s;
}

/**
 * Unusable free space index per order: the fraction of free pages that cannot serve an allocation of that
 * order, (free − Σ_{i≥order} 2^i·n_i) / free; 0 when nothing is free.
 * @kernel mm/vmstat.c unusable_free_index (the kernel prints it ×1000, as 0.xxx)
 */
export function unusableIndex(counts: readonly number[]): number[] {
  let free = 0;
  for (let i = 0; i < counts.length; i++) free += counts[i]! * 2 ** i;
  const out: number[] = [];
  let suitable = free;
  for (let j = 0; j < counts.length; j++) {
    out.push(free === 0 ? 0 : (free - suitable) / free);
    suitable -= counts[j]! * 2 ** j;
  }
  return out;
}

/** The unusable index of several zones together, each zone weighted by its free pages. */
export function weightedUnusableIndex(zones: ReadonlyArray<readonly number[]>): number[] {
  const n = Math.max(0, ...zones.map((z) => z.length));
  const sum = new Array<number>(n).fill(0);
  for (const z of zones) for (let i = 0; i < z.length; i++) sum[i]! += z[i]!;
  // blocks of each order add up across zones, so the free-page weighting is the index of the summed counts
  return unusableIndex(sum);
}
