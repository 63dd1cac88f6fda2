/**
 * The /proc views of a machine: plain snapshot objects (src/stats/*) built from a MachineSpec, its computed
 * ZoneSetup and the free state of each zone. The free state comes either from the allocator's read-only hooks
 * or, for a machine nobody has allocated from yet, from `bootFreeState` (every managed page free, in the
 * largest aligned blocks its geometry allows).
 * @kernel mm/vmstat.c frag_show_print, pagetypeinfo_showfree_print, pagetypeinfo_showblockcount_print,
 *         zoneinfo_show_print (6.1); mm/mm_init.c memmap_init_range (pageblocks start MOVABLE)
 */
import {
  MAX_ORDER, MIGRATE_MOVABLE, MIGRATE_TYPES, MIGRATE_UNMOVABLE, MIGRATETYPE_NAMES, PAGE_SHIFT, ZONE_NAMES,
  pageblock_nr_pages, pageblock_order,
} from '../mm/constants.ts';
import type { Buddyinfo } from '../stats/buddyinfo.ts';
import type { Pagetypeinfo } from '../stats/pagetypeinfo.ts';
import { VMSTAT_NAMES_6_1, vmstatFromCounters, type Vmstat } from '../stats/vmstat.ts';
import type { ProcStat, Zoneinfo, ZoneinfoZone } from '../stats/zoneinfo.ts';
import type { ZoneSetup } from './setup.ts';
import type { MachineSpec, ZoneSpec } from './types.ts';

/** What the views read from one zone's allocator state. */
export interface ZoneFreeState {
  /** free_area[order].nr_free split by list: freeBlocks[order][migratetype] */
  freeBlocks: number[][];
  /** pageblocks per migratetype, counted as pagetypeinfo counts them */
  pageblocks: number[];
  /** pcp->count of each CPU */
  pcpCount: number[];
  /** watermark_boost */
  boost: number;
}

/** Counters the vmstat view prints (pgalloc_*, pgfree …); absent ones print 0. */
export type VmCounters = Readonly<Record<string, number>>;

const PAGES_PER_SECTION = 1 << (27 - PAGE_SHIFT);

/** Free [start, end) ranges of a zone: its span minus `unavailable` (or minus its first spanned−managed pages). */
export function freeRanges(z: ZoneSpec): Array<[number, number]> {
  const end = z.startPfn + z.spanned;
  const un = z.unavailable ?? (z.spanned > z.managed ? [[z.startPfn, z.startPfn + z.spanned - z.managed] as [number, number]] : []);
  const out: Array<[number, number]> = [];
  let cur = z.startPfn;
  for (const [a, b] of [...un].sort((x, y) => x[0] - y[0])) {
    if (a > cur) out.push([cur, Math.min(a, end)]);
    cur = Math.max(cur, b);
  }
  if (cur < end) out.push([cur, end]);
  return out.filter(([a, b]) => b > a);
}

/**
 * Split a free range into the buddy blocks freeing it page by page would merge into: at each pfn the largest
 * order its alignment allows that still fits. Calls `add(pfn, order)` per block.
 * @kernel mm/memblock.c __free_pages_memory (same decomposition)
 */
export function forEachMaxBlock(start: number, end: number, add: (pfn: number, order: number) => void): void {
  let pfn = start;
  while (pfn < end) {
    let order = MAX_ORDER - 1;
    while (order > 0 && (pfn % (1 << order) !== 0 || pfn + (1 << order) > end)) order--;
    add(pfn, order);
    pfn += 1 << order;
  }
}

function sectionOnline(z: ZoneSpec, pfn: number): boolean {
  if (z.holes === undefined) return true;
  const s0 = Math.floor(pfn / PAGES_PER_SECTION) * PAGES_PER_SECTION;
  const s1 = s0 + PAGES_PER_SECTION;
  // online if any pfn of the section inside the zone's span is not a hole
  const lo = Math.max(s0, z.startPfn), hi = Math.min(s1, z.startPfn + z.spanned);
  let covered = 0;
  for (const [a, b] of z.holes) covered += Math.max(0, Math.min(b, hi) - Math.max(a, lo));
  return hi > lo && covered < hi - lo;
}

function isPresent(z: ZoneSpec, pfn: number): boolean {
  if (pfn < z.startPfn || pfn >= z.startPfn + z.spanned) return false;
  if (z.holes === undefined) return true;
  return !z.holes.some(([a, b]) => pfn >= a && pfn < b);
}

/**
 * "Number of blocks type" of a zone: one step per pageblock from the zone's first pfn, skipping pfns in
 * memory sections that are not online, each counted under the migratetype of its pageblock.
 * @kernel mm/vmstat.c pagetypeinfo_showblockcount_print
 */
export function pageblockCountsOf(z: ZoneSpec, migratetypeOf: (pfn: number) => number): number[] {
  const out = new Array<number>(MIGRATE_TYPES).fill(0);
  const end = z.startPfn + z.spanned;
  for (let pfn = z.startPfn; pfn < end; pfn += pageblock_nr_pages) {
    if (!sectionOnline(z, pfn)) continue;
    out[migratetypeOf(pfn)]!++;
  }
  return out;
}

/**
 * A freshly booted zone before any allocation: every managed page free in maximal blocks, all pageblocks
 * MOVABLE where memmap_init_range marked them (their aligned first pfn is memory), UNMOVABLE (0) otherwise,
 * empty per-CPU lists.
 */
export function bootFreeState(spec: MachineSpec, zoneIndex: number): ZoneFreeState {
  const z = spec.zones[zoneIndex]!;
  const freeBlocks = Array.from({ length: MAX_ORDER }, () => new Array<number>(MIGRATE_TYPES).fill(0));
  const pageblocks = new Array<number>(MIGRATE_TYPES).fill(0);
  if (z.present > 0) {
    for (const [a, b] of freeRanges(z)) forEachMaxBlock(a, b, (_pfn, order) => { freeBlocks[order]![MIGRATE_MOVABLE]!++; });
    const counted = pageblockCountsOf(z, (pfn) => {
      const aligned = pfn - (pfn % pageblock_nr_pages);
      return isPresent(z, aligned) ? MIGRATE_MOVABLE : MIGRATE_UNMOVABLE;
    });
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) pageblocks[mt] = counted[mt]!;
  }
  return { freeBlocks, pageblocks, pcpCount: new Array<number>(spec.nrCpus).fill(0), boost: 0 };
}

/** NR_FREE_PAGES of a zone: pages in its buddy free lists (per-CPU lists are not counted). */
export function nrFreePages(s: ZoneFreeState): number {
  let n = 0;
  s.freeBlocks.forEach((row, order) => { for (const c of row) n += c * (1 << order); });
  return n;
}

const populated = (z: ZoneSpec): boolean => z.present > 0;

/** /proc/buddyinfo of the machine: populated zones only. */
export function buddyinfoView(spec: MachineSpec, state: readonly ZoneFreeState[]): Buddyinfo {
  return {
    zones: spec.zones.flatMap((z, k) => populated(z)
      ? [{ node: z.node, zone: ZONE_NAMES[z.zoneIdx]!, nrFree: state[k]!.freeBlocks.map((row) => row.reduce((a, b) => a + b, 0)) }]
      : []),
  };
}

/** /proc/pagetypeinfo of the machine (6.1 without CMA: Unmovable, Movable, Reclaimable, HighAtomic, Isolate). */
export function pagetypeinfoView(spec: MachineSpec, state: readonly ZoneFreeState[]): Pagetypeinfo {
  const free: Pagetypeinfo['free'] = [];
  const blocks: Pagetypeinfo['blocks'] = [];
  spec.zones.forEach((z, k) => {
    if (!populated(z)) return;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      free.push({ node: z.node, zone: ZONE_NAMES[z.zoneIdx]!, type: MIGRATETYPE_NAMES[mt]!, counts: state[k]!.freeBlocks.map((row) => row[mt]!) });
    }
    blocks.push({ node: z.node, zone: ZONE_NAMES[z.zoneIdx]!, counts: [...state[k]!.pageblocks] });
  });
  return {
    pageblockOrder: pageblock_order, pagesPerBlock: pageblock_nr_pages,
    orders: Array.from({ length: MAX_ORDER }, (_, i) => i), free, blockTypes: [...MIGRATETYPE_NAMES], blocks,
  };
}

const sliceNames = (from: string, to: string): string[] =>
  VMSTAT_NAMES_6_1.slice(VMSTAT_NAMES_6_1.indexOf(from), VMSTAT_NAMES_6_1.indexOf(to) + 1);
/** Zone counters zoneinfo prints per populated zone (6.1), then the NUMA events. */
export const ZONE_STAT_NAMES_6_1 = sliceNames('nr_free_pages', 'nr_free_cma');
export const NUMA_EVENT_NAMES = sliceNames('numa_hit', 'numa_other');
/** Node counters printed under "per-node stats" (6.1). */
export const NODE_STAT_NAMES_6_1 = sliceNames('nr_inactive_anon', 'pgpromote_candidate');

/**
 * /proc/zoneinfo of the machine. Counters the allocator does not model (LRU sizes, slab, NUMA hits …) are
 * taken from `counters` when given and print as 0 otherwise.
 */
export function zoneinfoView(
  spec: MachineSpec, setup: ZoneSetup, state: readonly ZoneFreeState[], counters: VmCounters = {},
): Zoneinfo {
  const firstPopulated = new Map<number, number>();
  spec.zones.forEach((z, k) => { if (populated(z) && !firstPopulated.has(z.node)) firstPopulated.set(z.node, k); });
  const zones = spec.zones.map((z, k): ZoneinfoZone => {
    const w = setup.zones[k]!;
    const s = state[k]!;
    const free = nrFreePages(s);
    const out: ZoneinfoZone = {
      node: z.node, zone: ZONE_NAMES[z.zoneIdx]!, free, boost: s.boost,
      min: w.wmark[0], low: w.wmark[1], high: w.wmark[2], spanned: z.spanned, present: z.present, managed: z.managed,
      cma: 0, protection: [...w.lowmemReserve], stats: [], pagesets: [],
    };
    if (firstPopulated.get(z.node) === k) {
      out.nodeStats = NODE_STAT_NAMES_6_1.map((name): ProcStat => ({ name, value: spec.nrNodes === 1 ? (counters[name] ?? 0) : 0 }));
    }
    if (!populated(z)) return out;
    out.stats = [...ZONE_STAT_NAMES_6_1, ...NUMA_EVENT_NAMES].map((name) => ({ name, value: name === 'nr_free_pages' ? free : 0 }));
    out.pagesets = s.pcpCount.map((count, cpu) => ({ cpu, count, high: w.pcpHigh, batch: w.pcpBatch, statThreshold: setup.statThreshold[k]! }));
    out.nodeUnreclaimable = 0;
    out.startPfn = z.startPfn;
    return out;
  });
  return { zones };
}

/** /proc/vmstat of the machine: nr_free_pages from the free state, event counters from `counters`. */
export function vmstatView(state: readonly ZoneFreeState[], counters: VmCounters = {}): Vmstat {
  let free = 0;
  for (const s of state) free += nrFreePages(s);
  return vmstatFromCounters({ ...counters, nr_free_pages: free });
}

/**
 * The read-only inspection hooks the views need from a live allocator (the core's PageAllocator has them).
 * Zone slots are numbered like spec.zones.
 */
export interface AllocatorInspector {
  /** blocks on free_area[order].free_list[mt] of zone slot z */
  nrFreeMt(z: number, order: number, mt: number): number;
  /** migratetype of the pageblock holding pfn */
  pageblockMigratetype(pfn: number): number;
  /** pcp->count of (zone slot, cpu) */
  pcp(z: number, cpu: number): { count: number };
  zoneGauges(z: number): { watermarkBoost: number };
  /** /proc/vmstat event counters the allocator moves (pgalloc_*, pgfree, numa_* …) */
  vmEvents(): Record<string, number>;
}

/** The views' free state of every zone, read through an allocator's inspection hooks. */
export function freeStateFromAllocator(spec: MachineSpec, a: AllocatorInspector): ZoneFreeState[] {
  return spec.zones.map((z, k): ZoneFreeState => {
    if (z.present === 0) return bootFreeState(spec, k);
    return {
      freeBlocks: Array.from({ length: MAX_ORDER }, (_, o) => Array.from({ length: MIGRATE_TYPES }, (_, mt) => a.nrFreeMt(k, o, mt))),
      pageblocks: pageblockCountsOf(z, (pfn) => a.pageblockMigratetype(pfn)),
      pcpCount: Array.from({ length: spec.nrCpus }, (_, cpu) => a.pcp(k, cpu).count),
      boost: a.zoneGauges(k).watermarkBoost,
    };
  });
}
