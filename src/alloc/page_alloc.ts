/**
 * The page allocator's entry points with the kernel's names: alloc_pages and the fast path
 * (zonelist walk, watermark check, pcp or buddy), the non-sleeping part of the slow path, frees,
 * refcounts, compound and split pages, addresses.
 * @kernel mm/page_alloc.c __alloc_pages, prepare_alloc_pages, alloc_flags_nofragment, get_page_from_freelist,
 *   zone_watermark_fast, rmqueue, rmqueue_buddy, prep_new_page, gfp_to_alloc_flags, __gfp_pfmemalloc_flags,
 *   __alloc_pages_slowpath (non-sleeping part), __free_pages, free_the_page, free_unref_page, __free_pages_ok,
 *   free_unref_page_list, split_page, drain_all_pages (Linux 6.1)
 *
 * 6.12 differs: gfp_to_alloc_flags gives ALLOC_NON_BLOCK / ALLOC_MIN_RESERVE / ALLOC_HIGHATOMIC (no
 * __GFP_ATOMIC since 6.3), the order-0 boost bypass tests ALLOC_MIN_RESERVE, highatomic pageblocks are
 * reserved on ALLOC_HIGHATOMIC and taken first by rmqueue_buddy, and pcp refills use nr_pcp_alloc.
 *
 * Hot-path rules (docs/STYLE): numbers in, numbers out; no allocation. A failure is `-1` plus a
 * reason code in the buffer header, described on demand by `describeAllocFailure()`.
 *
 * The seam for the sleeping slow path (issue 4): a request that may sleep (__GFP_DIRECT_RECLAIM)
 * and fails here returns -1 with `allocFailure().maySleep === true`; the reclaim layer then runs
 * reclaim/compaction/OOM and retries through `get_page_from_freelist` with `gfp_to_alloc_flags`.
 * `SlowPathHooks` lets it observe kswapd wake-ups and supply task-context reserves synchronously.
 */
import * as _AF from '../gfp/alloc_flags.ts';
import * as _GB from '../gfp/bits.ts';
import * as _MC from '../mm/constants.ts';
import * as _MM from '../mm/memmap.ts';
import { MemMap, type KmemTracepoints } from '../mm/memmap.ts';
import * as _PF from '../mm/page_flags.ts';
import { formatPageFlags } from '../mm/page_flags.ts';
import { addToFreeListTail, delPageFromFreeList, nrFree, nrFreeMt, freeAreaEmpty } from '../buddy/free_area.ts';
import { expand, freeOnePage, pcpAllowedOrder, rmqueue as __rmqueue, rmqueueSmallest, FPI_NONE } from '../buddy/buddy.ts';
import { reserveHighatomicPageblock, unreserveHighatomicPageblock } from '../buddy/fallback.ts';
import {
  drainPagesZone, freePcppagesBulk, freeUnrefPageCommit, nrPcpFree, pcpListLength, rmqueuePcplist,
} from '../buddy/pcp.ts';
import { zoneWatermarkOk, type WatermarkZoneView } from '../zone/watermark.ts';
import type { MachineSpec, ZoneWatermarks } from '../zone/types.ts';
import { BadPageStateError, ExclusivePageError } from '../errors.ts';
const { ZONE_NAMES } = _MC;

/**
 * The numeric constants this module uses (layout offsets, flag bits, gfp bits, kernel constants), as a
 * const enum: the TypeScript compiler writes each use as a literal, so the hot paths' bytecode stays small
 * enough for V8 to inline them (an imported binding is a load per use; a module-local const costs a hole
 * check in bytecode). Each member equals the export of the same name; the check below runs once at load.
 */
const enum K {
  MAX_NR_ZONES = 5,
  MAX_ORDER = 11,
  MIGRATE_HIGHATOMIC = 3,
  MIGRATE_ISOLATE = 4,
  MIGRATE_MOVABLE = 1,
  MIGRATE_PCPTYPES = 3,
  MIGRATE_TYPES = 5,
  PAGE_ALLOC_COSTLY_ORDER = 3,
  PAGE_SIZE = 4096,
  WMARK_MIN = 0,
  ZONE_DMA32 = 1,
  ZONE_NORMAL = 2,
  pageblock_nr_pages = 512,
  pageblock_order = 9,
  CPU_EV_FOLD_AT = 1073741824,
  EV_ALLOC_CALLS = 6,
  EV_ALLOC_FAIL = 7,
  EV_ALLOC_SLOWPATH = 8,
  EV_PGALLOC = 0,
  EV_PGFREE = 5,
  F_ADDRESS_BASE = 15,
  H_FAIL_GFP = 9,
  H_FAIL_ORDER = 8,
  H_FAIL_REASON = 7,
  H_FAIL_ZONE = 10,
  H_MOBILITY_DISABLED = 11,
  H_NR_NODES = 5,
  H_PCP_THP = 12,
  H_SEQ = 6,
  H_WATERMARK_BOOST_FACTOR = 13,
  NR_FREE_LISTS = 55,
  NR_LOWORDER_PCP_LISTS = 12,
  NR_PCP_LISTS = 13,
  P_BATCH = 2,
  P_COUNT = 0,
  P_FREE_FACTOR = 3,
  P_HIGH = 1,
  P_STRIDE = 4,
  ZE_NUMA_FOREIGN = 2,
  ZE_NUMA_HIT = 0,
  ZE_NUMA_LOCAL = 4,
  ZE_NUMA_MISS = 1,
  ZE_NUMA_OTHER = 5,
  ZONE_BOOSTED_WATERMARK = 1,
  ZONE_RECLAIM_ACTIVE = 2,
  Z_BOOST = 11,
  Z_END_PFN = 1,
  Z_FLAGS = 19,
  Z_LOWMEM = 12,
  Z_MANAGED = 4,
  Z_NODE = 6,
  Z_NR_FREE = 22,
  Z_NR_FREE_MT = 33,
  Z_NR_FREE_PAGES = 18,
  Z_NR_RESERVED_HIGHATOMIC = 17,
  Z_PCP_BATCH = 20,
  Z_PCP_HIGH = 21,
  Z_PRESENT = 3,
  Z_SPANNED = 2,
  Z_START_PFN = 0,
  Z_STRIDE = 88,
  Z_TYPE = 5,
  Z_WMARK = 7,
  MT_SHIFT = 4,
  ORDER_MASK = 15,
  PG_buddy = 1,
  PG_exclusive = 64,
  PG_head = 4,
  PG_lru = 32,
  PG_pcp = 2,
  PG_reserved = 16,
  PG_tail = 8,
  __GFP_ATOMIC = 512,
  __GFP_COMP = 262144,
  __GFP_DIRECT_RECLAIM = 1024,
  __GFP_EXCL = 1073741824,
  __GFP_HIGH = 32,
  __GFP_HIGHMEM = 2,
  __GFP_KSWAPD_RECLAIM = 2048,
  __GFP_MEMALLOC = 131072,
  __GFP_NOMEMALLOC = 524288,
  __GFP_ZERO = 256,
  ALLOC_HARDER = 16,
  ALLOC_KSWAPD = 2048,
  ALLOC_NOFRAGMENT = 256,
  ALLOC_NO_WATERMARKS = 4,
  ALLOC_OOM = 8,
  ALLOC_WMARK_LOW = 1,
  ALLOC_WMARK_MASK = 3,
  ALLOC_WMARK_MIN = 0,
}
for (const [name, value, actual] of [
  ['MAX_NR_ZONES', K.MAX_NR_ZONES, _MC.MAX_NR_ZONES],
  ['MAX_ORDER', K.MAX_ORDER, _MC.MAX_ORDER],
  ['MIGRATE_HIGHATOMIC', K.MIGRATE_HIGHATOMIC, _MC.MIGRATE_HIGHATOMIC],
  ['MIGRATE_ISOLATE', K.MIGRATE_ISOLATE, _MC.MIGRATE_ISOLATE],
  ['MIGRATE_MOVABLE', K.MIGRATE_MOVABLE, _MC.MIGRATE_MOVABLE],
  ['MIGRATE_PCPTYPES', K.MIGRATE_PCPTYPES, _MC.MIGRATE_PCPTYPES],
  ['MIGRATE_TYPES', K.MIGRATE_TYPES, _MC.MIGRATE_TYPES],
  ['PAGE_ALLOC_COSTLY_ORDER', K.PAGE_ALLOC_COSTLY_ORDER, _MC.PAGE_ALLOC_COSTLY_ORDER],
  ['PAGE_SIZE', K.PAGE_SIZE, _MC.PAGE_SIZE],
  ['WMARK_MIN', K.WMARK_MIN, _MC.WMARK_MIN],
  ['ZONE_DMA32', K.ZONE_DMA32, _MC.ZONE_DMA32],
  ['ZONE_NORMAL', K.ZONE_NORMAL, _MC.ZONE_NORMAL],
  ['pageblock_nr_pages', K.pageblock_nr_pages, _MC.pageblock_nr_pages],
  ['pageblock_order', K.pageblock_order, _MC.pageblock_order],
  ['CPU_EV_FOLD_AT', K.CPU_EV_FOLD_AT, _MM.CPU_EV_FOLD_AT],
  ['EV_ALLOC_CALLS', K.EV_ALLOC_CALLS, _MM.EV_ALLOC_CALLS],
  ['EV_ALLOC_FAIL', K.EV_ALLOC_FAIL, _MM.EV_ALLOC_FAIL],
  ['EV_ALLOC_SLOWPATH', K.EV_ALLOC_SLOWPATH, _MM.EV_ALLOC_SLOWPATH],
  ['EV_PGALLOC', K.EV_PGALLOC, _MM.EV_PGALLOC],
  ['EV_PGFREE', K.EV_PGFREE, _MM.EV_PGFREE],
  ['F_ADDRESS_BASE', K.F_ADDRESS_BASE, _MM.F_ADDRESS_BASE],
  ['H_FAIL_GFP', K.H_FAIL_GFP, _MM.H_FAIL_GFP],
  ['H_FAIL_ORDER', K.H_FAIL_ORDER, _MM.H_FAIL_ORDER],
  ['H_FAIL_REASON', K.H_FAIL_REASON, _MM.H_FAIL_REASON],
  ['H_FAIL_ZONE', K.H_FAIL_ZONE, _MM.H_FAIL_ZONE],
  ['H_MOBILITY_DISABLED', K.H_MOBILITY_DISABLED, _MM.H_MOBILITY_DISABLED],
  ['H_NR_NODES', K.H_NR_NODES, _MM.H_NR_NODES],
  ['H_PCP_THP', K.H_PCP_THP, _MM.H_PCP_THP],
  ['H_SEQ', K.H_SEQ, _MM.H_SEQ],
  ['H_WATERMARK_BOOST_FACTOR', K.H_WATERMARK_BOOST_FACTOR, _MM.H_WATERMARK_BOOST_FACTOR],
  ['NR_FREE_LISTS', K.NR_FREE_LISTS, _MM.NR_FREE_LISTS],
  ['NR_LOWORDER_PCP_LISTS', K.NR_LOWORDER_PCP_LISTS, _MM.NR_LOWORDER_PCP_LISTS],
  ['NR_PCP_LISTS', K.NR_PCP_LISTS, _MM.NR_PCP_LISTS],
  ['P_BATCH', K.P_BATCH, _MM.P_BATCH],
  ['P_COUNT', K.P_COUNT, _MM.P_COUNT],
  ['P_FREE_FACTOR', K.P_FREE_FACTOR, _MM.P_FREE_FACTOR],
  ['P_HIGH', K.P_HIGH, _MM.P_HIGH],
  ['P_STRIDE', K.P_STRIDE, _MM.P_STRIDE],
  ['ZE_NUMA_FOREIGN', K.ZE_NUMA_FOREIGN, _MM.ZE_NUMA_FOREIGN],
  ['ZE_NUMA_HIT', K.ZE_NUMA_HIT, _MM.ZE_NUMA_HIT],
  ['ZE_NUMA_LOCAL', K.ZE_NUMA_LOCAL, _MM.ZE_NUMA_LOCAL],
  ['ZE_NUMA_MISS', K.ZE_NUMA_MISS, _MM.ZE_NUMA_MISS],
  ['ZE_NUMA_OTHER', K.ZE_NUMA_OTHER, _MM.ZE_NUMA_OTHER],
  ['ZONE_BOOSTED_WATERMARK', K.ZONE_BOOSTED_WATERMARK, _MM.ZONE_BOOSTED_WATERMARK],
  ['ZONE_RECLAIM_ACTIVE', K.ZONE_RECLAIM_ACTIVE, _MM.ZONE_RECLAIM_ACTIVE],
  ['Z_BOOST', K.Z_BOOST, _MM.Z_BOOST],
  ['Z_END_PFN', K.Z_END_PFN, _MM.Z_END_PFN],
  ['Z_FLAGS', K.Z_FLAGS, _MM.Z_FLAGS],
  ['Z_LOWMEM', K.Z_LOWMEM, _MM.Z_LOWMEM],
  ['Z_MANAGED', K.Z_MANAGED, _MM.Z_MANAGED],
  ['Z_NODE', K.Z_NODE, _MM.Z_NODE],
  ['Z_NR_FREE', K.Z_NR_FREE, _MM.Z_NR_FREE],
  ['Z_NR_FREE_MT', K.Z_NR_FREE_MT, _MM.Z_NR_FREE_MT],
  ['Z_NR_FREE_PAGES', K.Z_NR_FREE_PAGES, _MM.Z_NR_FREE_PAGES],
  ['Z_NR_RESERVED_HIGHATOMIC', K.Z_NR_RESERVED_HIGHATOMIC, _MM.Z_NR_RESERVED_HIGHATOMIC],
  ['Z_PCP_BATCH', K.Z_PCP_BATCH, _MM.Z_PCP_BATCH],
  ['Z_PCP_HIGH', K.Z_PCP_HIGH, _MM.Z_PCP_HIGH],
  ['Z_PRESENT', K.Z_PRESENT, _MM.Z_PRESENT],
  ['Z_SPANNED', K.Z_SPANNED, _MM.Z_SPANNED],
  ['Z_START_PFN', K.Z_START_PFN, _MM.Z_START_PFN],
  ['Z_STRIDE', K.Z_STRIDE, _MM.Z_STRIDE],
  ['Z_TYPE', K.Z_TYPE, _MM.Z_TYPE],
  ['Z_WMARK', K.Z_WMARK, _MM.Z_WMARK],
  ['MT_SHIFT', K.MT_SHIFT, _PF.MT_SHIFT],
  ['ORDER_MASK', K.ORDER_MASK, _PF.ORDER_MASK],
  ['PG_buddy', K.PG_buddy, _PF.PG_buddy],
  ['PG_exclusive', K.PG_exclusive, _PF.PG_exclusive],
  ['PG_head', K.PG_head, _PF.PG_head],
  ['PG_lru', K.PG_lru, _PF.PG_lru],
  ['PG_pcp', K.PG_pcp, _PF.PG_pcp],
  ['PG_reserved', K.PG_reserved, _PF.PG_reserved],
  ['PG_tail', K.PG_tail, _PF.PG_tail],
  ['__GFP_ATOMIC', K.__GFP_ATOMIC, _GB.__GFP_ATOMIC],
  ['__GFP_COMP', K.__GFP_COMP, _GB.__GFP_COMP],
  ['__GFP_DIRECT_RECLAIM', K.__GFP_DIRECT_RECLAIM, _GB.__GFP_DIRECT_RECLAIM],
  ['__GFP_EXCL', K.__GFP_EXCL, _GB.__GFP_EXCL],
  ['__GFP_HIGH', K.__GFP_HIGH, _GB.__GFP_HIGH],
  ['__GFP_HIGHMEM', K.__GFP_HIGHMEM, _GB.__GFP_HIGHMEM],
  ['__GFP_KSWAPD_RECLAIM', K.__GFP_KSWAPD_RECLAIM, _GB.__GFP_KSWAPD_RECLAIM],
  ['__GFP_MEMALLOC', K.__GFP_MEMALLOC, _GB.__GFP_MEMALLOC],
  ['__GFP_NOMEMALLOC', K.__GFP_NOMEMALLOC, _GB.__GFP_NOMEMALLOC],
  ['__GFP_ZERO', K.__GFP_ZERO, _GB.__GFP_ZERO],
  ['ALLOC_HARDER', K.ALLOC_HARDER, _AF.ALLOC_HARDER],
  ['ALLOC_KSWAPD', K.ALLOC_KSWAPD, _AF.ALLOC_KSWAPD],
  ['ALLOC_NOFRAGMENT', K.ALLOC_NOFRAGMENT, _AF.ALLOC_NOFRAGMENT],
  ['ALLOC_NO_WATERMARKS', K.ALLOC_NO_WATERMARKS, _AF.ALLOC_NO_WATERMARKS],
  ['ALLOC_OOM', K.ALLOC_OOM, _AF.ALLOC_OOM],
  ['ALLOC_WMARK_LOW', K.ALLOC_WMARK_LOW, _AF.ALLOC_WMARK_LOW],
  ['ALLOC_WMARK_MASK', K.ALLOC_WMARK_MASK, _AF.ALLOC_WMARK_MASK],
  ['ALLOC_WMARK_MIN', K.ALLOC_WMARK_MIN, _AF.ALLOC_WMARK_MIN],
] as const) {
  if (value !== actual) throw new Error(`page_alloc: K.${name} is ${value} but the export is ${actual}`);
}

// ---------------------------------------------------------------------------------------------
// Failure reasons (H_FAIL_REASON). FAIL_MAY_SLEEP is or-ed in when the request may direct-reclaim.
export const FAIL_NONE = 0;
/** order ≥ MAX_ORDER (the kernel WARNs and returns NULL). */
export const FAIL_ORDER = 1;
/** No populated zone at or below the request's highest_zoneidx. */
export const FAIL_NO_ZONE = 2;
/** Every eligible zone is below the watermark the alloc flags allow. */
export const FAIL_WATERMARK = 3;
/** Some zone passed its watermark but had no free block of the order in an allowed migratetype. */
export const FAIL_NO_BLOCK = 4;
/** Labyrinth (issue 5): __GFP_EXCL asked of alloc_pages; exclusive pages are handed out with a key (src/labyrinth). */
export const FAIL_EXCL_NEEDS_KEY = 5;
/** Or-ed in: the request may sleep (direct reclaim); the sleeping slow path decides the rest. */
export const FAIL_MAY_SLEEP = 0x100;

/** Hooks from the layers above (reclaim, tasks). All optional; defaults do nothing. */
export interface SlowPathHooks {
  /** wake_all_kswapds: ALLOC_KSWAPD requests that reach the slow path. */
  wakeAllKswapds?(order: number, gfp: number, highestZoneIdx: number): void;
  /** wakeup_kswapd for one zone (ZONE_BOOSTED_WATERMARK after a fallback steal). */
  wakeupKswapd?(zone: number, order: number, highestZoneIdx: number): void;
  /**
   * The task-context part of __gfp_pfmemalloc_flags: ALLOC_NO_WATERMARKS for a PF_MEMALLOC task,
   * ALLOC_OOM for an OOM victim, else 0. __GFP_MEMALLOC / __GFP_NOMEMALLOC are handled here.
   */
  pfmemallocFlags?(gfp: number): number;
}

export interface PageAllocatorOptions {
  /** Nodes, CPUs, zones and tunables (src/zone/setup.ts builds one). */
  spec: MachineSpec;
  /** Watermarks, lowmem_reserve and pcp batch/high per zone, in the order of spec.zones. */
  watermarks: ZoneWatermarks[];
  /** Back the state with a SharedArrayBuffer (workers can attach). Default false. */
  shared?: boolean;
  /** Address of pfn 0 (page_address = base + pfn * 4096). Default 0. */
  addressBase?: number;
  /** CONFIG_TRANSPARENT_HUGEPAGE: the pageblock-order pcp list exists (Debian: y). Default true. */
  pcpThp?: boolean;
  hooks?: SlowPathHooks;
}

/**
 * A zone as the shared watermark check sees it: one object per zone, built once, reading the
 * zone block and the free-list sentinels straight from the typed arrays at precomputed offsets.
 */
class ZoneView implements WatermarkZoneView {
  private readonly ints: Int32Array;
  private readonly next: Int32Array;
  /** Int32 index of the zone block. */
  private readonly zb: number;
  /** Sentinel of free_list[0][0] of this zone. */
  private readonly lists: number;
  readonly nrFreeCma: number;
  constructor(m: MemMap, z: number) {
    this.ints = m.ints;
    this.next = m.next;
    this.zb = m.zf(z, 0);
    this.lists = m.freeList(z, 0, 0);
    this.nrFreeCma = 0;
  }
  lowmemReserve(highestZoneIdx: number): number {
    return this.ints[this.zb + K.Z_LOWMEM + highestZoneIdx]!;
  }
  get nrReservedHighatomic(): number {
    return this.ints[this.zb + K.Z_NR_RESERVED_HIGHATOMIC]!;
  }
  nrFree(order: number): number {
    return this.ints[this.zb + K.Z_NR_FREE + order]!;
  }
  freeListNonEmpty(order: number, mt: number): boolean {
    const head = this.lists + order * K.MIGRATE_TYPES + mt;
    return this.next[head] !== head;
  }
}

/** gfp_zone(): GFP_ZONE_TABLE for x86_64 without HIGHMEM; GFP_ZONE_BAD combinations read 0 (DMA) as with !DEBUG_VM. */
const GFP_ZONE_TABLE = new Int8Array([2, 0, 2, 0, 1, 0, 0, 0, 2, 0, 3, 0, 1, 0, 0, 0]);

/**
 * The fast paths' __rmqueue_pcplist without a refill: unlink the first page of per-CPU list `list` (slot record
 * at `pb`), halve free_factor, take `nrPages` off the list's count. -1 when the list is empty.
 */
function pcpTake(m: MemMap, list: number, pb: number, nrPages: number): number {
  const next = m.next;
  const pfn = next[list]!;
  if (pfn === list) return -1;
  const ints = m.ints;
  ints[pb + K.P_FREE_FACTOR] >>= 1;
  const prev = m.prev;
  const n = next[pfn]!;
  const p = prev[pfn]!;
  next[p] = n;
  prev[n] = p;
  ints[pb + K.P_COUNT] -= nrPages;
  return pfn;
}

/** @kernel include/linux/gfp.h gfp_zone */
export function gfpZone(gfp: number): number {
  return GFP_ZONE_TABLE[gfp & 0xf]!;
}

/**
 * The slow path's alloc flags (6.1): WMARK_MIN, __GFP_HIGH → ALLOC_HIGH, kswapd bit, and
 * __GFP_ATOMIC → ALLOC_HARDER (unless __GFP_NOMEMALLOC). CPUSET is not modelled.
 * @kernel mm/page_alloc.c gfp_to_alloc_flags
 */
export function gfpToAllocFlags(gfp: number): number {
  let allocFlags = K.ALLOC_WMARK_MIN;
  allocFlags |= gfp & (K.__GFP_HIGH | K.__GFP_KSWAPD_RECLAIM);
  if (gfp & K.__GFP_ATOMIC) {
    if ((gfp & K.__GFP_NOMEMALLOC) === 0) allocFlags |= K.ALLOC_HARDER;
  }
  return allocFlags;
}

/** Description of the last failure (cold). */
export interface AllocFailure {
  reason: number;
  maySleep: boolean;
  order: number;
  gfp: number;
  /** Zone slot most relevant to the verdict (the preferred zone), or -1. */
  zone: number;
  text: string;
}

/** One free-page run for `initFreeRuns`: [startPfn, endPfn). */
export type PfnRun = readonly [number, number];

export class PageAllocator {
  /** The state: one buffer, typed-array views. */
  readonly mm: MemMap;
  readonly nrNodes: number;
  readonly nrCpus: number;
  readonly nrZones: number;
  /** Zone slots of each node's zonelist (ZONELIST_FALLBACK order), populated zones only. */
  private readonly zonelists: Int32Array[];
  /** Zone type (ZONE_*) per slot. */
  private readonly zoneType: Int32Array;
  private readonly views: ZoneView[];
  /** Preferred zone slot per (node, highest_zoneidx): node * 8 + hz; -1 when none. */
  private readonly prefZone: Int32Array;
  /** alloc_flags_nofragment's ALLOC_NOFRAGMENT per (node, highest_zoneidx). */
  private readonly nofrag: Int32Array;
  /** Float64 indexes of numa_hit and numa_local per zone slot. */
  private readonly evNumaHit: Int32Array;
  private readonly evNumaLocal: Int32Array;
  private readonly pcpThp: boolean;
  private readonly base: number;
  /** The fast paths are on (single node, not turned off by setFastPaths). */
  private fast: boolean;
  hooks: SlowPathHooks;
  // per-attempt scratch for failure reasons (numbers only)
  private sawWmarkOk: boolean;
  private sawZone: number;

  private constructor(mm: MemMap, hooks: SlowPathHooks) {
    this.mm = mm;
    const ints = mm.ints;
    this.nrNodes = Math.max(1, ints[K.H_NR_NODES]!);
    this.nrCpus = mm.nrCpus;
    this.nrZones = mm.nrZones;
    this.pcpThp = ints[K.H_PCP_THP] !== 0;
    this.fast = this.nrNodes === 1;
    this.base = mm.ev[K.F_ADDRESS_BASE]!;
    this.hooks = hooks;
    this.sawWmarkOk = false;
    this.sawZone = -1;
    this.zoneType = new Int32Array(mm.nrZones);
    this.views = [];
    for (let z = 0; z < mm.nrZones; z++) {
      this.zoneType[z] = ints[mm.zf(z, K.Z_TYPE)]!;
      this.views.push(new ZoneView(mm, z));
    }
    this.zonelists = [];
    for (let n = 0; n < this.nrNodes; n++) {
      const list: number[] = [];
      for (let k = 0; k < this.nrNodes; k++) {
        const node = (n + k) % this.nrNodes;
        for (let t = K.MAX_NR_ZONES - 1; t >= 0; t--) {
          for (let z = 0; z < mm.nrZones; z++) {
            if (ints[mm.zf(z, K.Z_NODE)] === node && this.zoneType[z] === t && ints[mm.zf(z, K.Z_MANAGED)]! > 0) list.push(z);
          }
        }
      }
      this.zonelists.push(Int32Array.from(list));
    }
    this.prefZone = new Int32Array(this.nrNodes * 8).fill(-1);
    this.nofrag = new Int32Array(this.nrNodes * 8);
    for (let n = 0; n < this.nrNodes; n++) {
      const zl = this.zonelists[n]!;
      for (let hz = 0; hz < K.MAX_NR_ZONES; hz++) {
        let pref = -1;
        for (let i = 0; i < zl.length; i++) if (this.zoneType[zl[i]!]! <= hz) { pref = zl[i]!; break; }
        this.prefZone[n * 8 + hz] = pref;
        // alloc_flags_nofragment: the preferred zone is Normal (and, on NUMA, a DMA32 zone is populated)
        if (pref >= 0 && this.zoneType[pref] === K.ZONE_NORMAL && (this.nrNodes === 1 || this.hasPopulatedZone(n, K.ZONE_DMA32))) {
          this.nofrag[n * 8 + hz] = K.ALLOC_NOFRAGMENT;
        }
      }
    }
    this.evNumaHit = new Int32Array(mm.nrZones);
    this.evNumaLocal = new Int32Array(mm.nrZones);
    for (let z = 0; z < mm.nrZones; z++) {
      this.evNumaHit[z] = mm.zev(z, K.ZE_NUMA_HIT);
      this.evNumaLocal[z] = mm.zev(z, K.ZE_NUMA_LOCAL);
    }
  }

  /** Build a machine: zones laid out by pfn, unavailable pages reserved, the rest free in max-order blocks. */
  static create(opts: PageAllocatorOptions): PageAllocator {
    const spec = opts.spec;
    if (opts.watermarks.length !== spec.zones.length) {
      throw new RangeError('Cannot build the machine: because watermarks must give one entry per zone of the spec');
    }
    const order = spec.zones.map((_, i) => i).sort((a, b) =>
      spec.zones[a]!.node - spec.zones[b]!.node || spec.zones[a]!.zoneIdx - spec.zones[b]!.zoneIdx);
    let nrPfn = 0;
    for (const zs of spec.zones) nrPfn = Math.max(nrPfn, zs.startPfn + zs.spanned);
    const nrCpus = Math.max(1, spec.nrCpus);
    const mm = MemMap.create(nrPfn, spec.zones.length, nrCpus, opts.shared === true);
    const ints = mm.ints;
    ints[K.H_NR_NODES] = Math.max(1, spec.nrNodes);
    ints[K.H_PCP_THP] = opts.pcpThp === false ? 0 : 1;
    ints[K.H_WATERMARK_BOOST_FACTOR] = spec.tunables.watermarkBoostFactor;
    ints[K.H_SEQ] = 0;
    mm.ev[K.F_ADDRESS_BASE] = opts.addressBase ?? 0;
    let totalManaged = 0;
    for (let z = 0; z < order.length; z++) {
      const zs = spec.zones[order[z]!]!;
      const zb = mm.zf(z, 0);
      ints[zb + K.Z_START_PFN] = zs.startPfn;
      ints[zb + K.Z_END_PFN] = zs.startPfn + zs.spanned;
      ints[zb + K.Z_SPANNED] = zs.spanned;
      ints[zb + K.Z_PRESENT] = zs.present;
      ints[zb + K.Z_MANAGED] = zs.managed;
      ints[zb + K.Z_TYPE] = zs.zoneIdx;
      ints[zb + K.Z_NODE] = zs.node;
      totalManaged += zs.managed;
    }
    // page_group_by_mobility_disabled (build_all_zonelists: vm_total_pages < pageblock_nr_pages * MIGRATE_TYPES)
    ints[K.H_MOBILITY_DISABLED] = totalManaged < K.pageblock_nr_pages * K.MIGRATE_TYPES ? 1 : 0;
    // Every pageblock starts MOVABLE (memmap_init_range).
    mm.pbmt.fill(K.MIGRATE_MOVABLE);
    mm.buildZoneIndex();
    const a = new PageAllocator(mm, opts.hooks ?? {});
    for (let z = 0; z < order.length; z++) {
      a.setZoneWatermarks(z, opts.watermarks[order[z]!]!);
      const zs = spec.zones[order[z]!]!;
      const unavailable: Array<[number, number]> = zs.unavailable
        ? zs.unavailable.map((r) => [r[0], r[1]] as [number, number])
        : [[zs.startPfn, zs.startPfn + (zs.spanned - zs.managed)]];
      // x86 never hands out pfn 0 (real mode / BIOS data); so address 0 is never a page.
      if (zs.startPfn === 0) unavailable.push([0, 1]);
      a.layoutZone(z, unavailable);
    }
    return a;
  }

  /** Attach to an existing allocator buffer (a worker, or a snapshot). */
  static attach(buffer: ArrayBuffer | SharedArrayBuffer, hooks: SlowPathHooks = {}): PageAllocator {
    return new PageAllocator(MemMap.attach(buffer), hooks);
  }

  /** Reserve the unavailable ranges of zone z and free the rest greedily in aligned blocks. */
  private layoutZone(z: number, unavailable: Array<[number, number]>): void {
    const m = this.mm;
    const start = m.ints[m.zf(z, K.Z_START_PFN)]!;
    const end = m.ints[m.zf(z, K.Z_END_PFN)]!;
    const ranges = unavailable
      .map(([s, e]) => [Math.max(s, start), Math.min(e, end)] as [number, number])
      .filter(([s, e]) => e > s)
      .sort((x, y) => x[0] - y[0]);
    let p = start;
    const runs: Array<[number, number]> = [];
    for (const [s, e] of ranges) {
      if (s > p) runs.push([p, s]);
      for (let q = Math.max(s, p); q < e; q++) {
        m.flags[q] = K.PG_reserved;
        m.refcount[q] = 1;
      }
      p = Math.max(p, e);
    }
    if (p < end) runs.push([p, end]);
    // present - managed pages (kernel image, memblock allocations, memmap) are reserved too; the spec
    // does not say where, so the lowest available pfns are taken.
    let excess = -m.ints[m.zf(z, K.Z_MANAGED)]!;
    for (const [s, e] of runs) excess += e - s;
    for (const run of runs) {
      if (excess <= 0) break;
      const take = Math.min(excess, run[1] - run[0]);
      for (let q = run[0]; q < run[0] + take; q++) {
        m.flags[q] = K.PG_reserved;
        m.refcount[q] = 1;
      }
      run[0] += take;
      excess -= take;
    }
    for (const [s, e] of runs) if (e > s) this.freeRunGreedy(z, s, e);
  }

  /** Put [s, e) on zone z's MOVABLE lists as maximal aligned blocks (tail, ascending pfn). */
  private freeRunGreedy(z: number, s: number, e: number): void {
    const m = this.mm;
    let p = s;
    while (p < e) {
      let order = K.MAX_ORDER - 1;
      while (order > 0 && ((p & ((1 << order) - 1)) !== 0 || p + (1 << order) > e)) order--;
      addToFreeListTail(m, z, p, order, m.pbmt[p >>> K.pageblock_order]!);
      m.ints[m.zf(z, K.Z_NR_FREE_PAGES)] += 1 << order;
      p += 1 << order;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tunables and tracing

  /** Install watermarks, lowmem_reserve and pcp batch/high for zone slot z (e.g. after a sysctl write). */
  setZoneWatermarks(z: number, wm: ZoneWatermarks): void {
    const m = this.mm;
    const zb = m.zf(z, 0);
    for (let i = 0; i < 4; i++) m.ints[zb + K.Z_WMARK + i] = wm.wmark[i]!;
    for (let i = 0; i < K.MAX_NR_ZONES; i++) m.ints[zb + K.Z_LOWMEM + i] = wm.lowmemReserve[i] ?? 0;
    m.ints[zb + K.Z_PCP_BATCH] = wm.pcpBatch;
    m.ints[zb + K.Z_PCP_HIGH] = wm.pcpHigh;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      m.ints[m.pf(z, cpu, K.P_BATCH)] = Math.max(1, wm.pcpBatch);
      m.ints[m.pf(z, cpu, K.P_HIGH)] = wm.pcpHigh;
    }
  }

  /** vm.watermark_boost_factor */
  setWatermarkBoostFactor(factor: number): void {
    this.mm.ints[K.H_WATERMARK_BOOST_FACTOR] = factor;
  }

  /** Turn the kmem tracepoints on (a KmemTracer or any sink object) or off (null). */
  setTracer(tracer: KmemTracepoints | null): void {
    this.mm.tracer = tracer;
  }

  // -------------------------------------------------------------------------------------------
  // Allocation

  /** Node of an allocation context (CPUs split evenly over nodes). */
  cpuToNode(cpu: number): number {
    return this.nrNodes === 1 ? 0 : Math.floor((cpu * this.nrNodes) / this.nrCpus);
  }

  /**
   * Allocate 2^order contiguous pages. Returns the head pfn, or -1 (see allocFailure()).
   * Never sleeps: the fast path, then the reserves the gfp allows, then failure.
   * @kernel mm/page_alloc.c __alloc_pages
   */
  alloc_pages(gfp: number, order: number, cpu = 0): number {
    const m = this.mm;
    // alloc_calls: a fast-path success counts it in the CPU's counters (allocatedOrder0/allocatedHigh),
    // anything else in allocPages
    if ((gfp & K.__GFP_EXCL) === 0 && this.fast) {
      if (order === 0) {
        // the order-0 pcp fast path: the same steps as below, in code V8 inlines
        const hz = GFP_ZONE_TABLE[gfp & 0xf]!;
        const z = this.prefZone[hz]!;
        if (z >= 0) {
          const mt = m.ints[K.H_MOBILITY_DISABLED] !== 0 ? 0 : (gfp & 0x18) >>> 3;
          const pfn = this.rmqueueOrder0Fast(z, hz, mt, cpu);
          if (pfn >= 0) {
            this.allocatedOrder0(pfn, z, mt, cpu);
            if (m.tracer !== null) m.tracer.pageAlloc(pfn, 0, gfp, mt);
            return pfn;
          }
        }
      } else if (order > 0 && order < K.MAX_ORDER) {
        const pfn = this.allocHighFast(gfp, order, cpu);
        if (pfn >= 0) return pfn;
      }
    }
    return this.allocPages(gfp, order, cpu);
  }

  /**
   * Turn the fast paths (order 0 and order > 0) off or on. With them off every request takes the
   * general get_page_from_freelist path; the results, counters and page state are the same (the
   * property tests compare both). For tests and benchmarks.
   */
  setFastPaths(on: boolean): void {
    this.fast = on && this.nrNodes === 1;
  }

  /**
   * The order > 0 fast path (single node, no __GFP_EXCL): the preferred zone's watermark check and
   * a take from its pcp list (orders 1..3 and, with THP, pageblock_order) or from its buddy lists
   * of the request's own migratetype, then the same counters and page state as the general path.
   * Returns -1 having changed nothing when the general path has more to do (watermark not met,
   * empty pcp list: refill, no block of the migratetype: fallback, next zone).
   * @kernel mm/page_alloc.c get_page_from_freelist, zone_watermark_fast, __zone_watermark_ok, rmqueue,
   *   rmqueue_pcplist, rmqueue_buddy, __rmqueue_smallest, expand, zone_statistics, prep_new_page
   */
  private allocHighFast(gfp: number, order: number, cpu: number): number {
    const m = this.mm;
    const hz = GFP_ZONE_TABLE[gfp & 0xf]!;
    const z = this.prefZone[hz]!;
    if (z < 0) return -1;
    const mt = m.ints[K.H_MOBILITY_DISABLED] !== 0 ? 0 : (gfp & 0x18) >>> 3;
    if (mt >= K.MIGRATE_PCPTYPES) return -1;
    const pfn = order <= K.PAGE_ALLOC_COSTLY_ORDER || (order === K.pageblock_order && this.pcpThp)
      ? this.rmqueuePcpHighFast(z, hz, mt, order, cpu)
      : this.rmqueueBuddyFast(z, hz, mt, order);
    if (pfn < 0) return -1;
    this.allocatedHigh(pfn, z, order, gfp, mt, cpu);
    if (m.tracer !== null) m.tracer.pageAlloc(pfn, order, gfp, mt);
    return pfn;
  }

  /**
   * __zone_watermark_ok's first test for order > 0 with the fast path's alloc flags (LOW, no
   * HIGH/HARDER/OOM, so min = mark): free pages less the order's tail and the highatomic reserve
   * above LOW + boost + lowmem_reserve. The free-area walk is the caller's.
   */
  private wmarkFreeOk(zb: number, order: number, hz: number): boolean {
    const ints = this.mm.ints;
    const usable = ints[zb + K.Z_NR_FREE_PAGES]! - ((1 << order) - 1) - ints[zb + K.Z_NR_RESERVED_HIGHATOMIC]!;
    return usable > ints[zb + K.Z_WMARK + K.ALLOC_WMARK_LOW]! + ints[zb + K.Z_BOOST]! + ints[zb + K.Z_LOWMEM + hz]!;
  }

  /**
   * Order 1..3 (or pageblock_order) from a non-empty pcp list, after the watermark check with its
   * free-area walk: some free list of a pcp migratetype non-empty at an order ≥ order, read from the
   * per-(order, migratetype) counters (equal to the lists' lengths, invariant I4).
   * @kernel mm/page_alloc.c __zone_watermark_ok, rmqueue_pcplist, __rmqueue_pcplist
   */
  private rmqueuePcpHighFast(z: number, hz: number, mt: number, order: number, cpu: number): number {
    const m = this.mm;
    const ints = m.ints;
    const zb = m.zoneBase + z * K.Z_STRIDE;
    if (!this.wmarkFreeOk(zb, order, hz)) return -1;
    let b = zb + K.Z_NR_FREE_MT + order * K.MIGRATE_TYPES;
    let o = order;
    for (; o < K.MAX_ORDER; o++, b += K.MIGRATE_TYPES) {
      if ((ints[b]! | ints[b + 1]! | ints[b + 2]!) !== 0) break;
    }
    if (o === K.MAX_ORDER) return -1;
    const slot = z * this.nrCpus + cpu;
    const list = m.pcpSentBase + slot * K.NR_PCP_LISTS
      + (order <= K.PAGE_ALLOC_COSTLY_ORDER ? K.MIGRATE_PCPTYPES * order + mt : K.NR_LOWORDER_PCP_LISTS);
    const pfn = pcpTake(m, list, m.pcpBase + slot * K.P_STRIDE, 1 << order);
    if (pfn >= 0) m.flags[pfn] = 0;
    return pfn;
  }

  /**
   * A non-pcp order from the buddy lists of the request's migratetype (__rmqueue_smallest and
   * expand under the zone lock). A block of that (pcp) type at an order ≥ order is also what
   * __zone_watermark_ok's free-area walk looks for, so finding one passes the walk too; without one
   * the general path runs the walk and the fallback.
   * @kernel mm/page_alloc.c __zone_watermark_ok, rmqueue_buddy, __rmqueue_smallest, expand
   */
  private rmqueueBuddyFast(z: number, hz: number, mt: number, order: number): number {
    const m = this.mm;
    const zb = m.zoneBase + z * K.Z_STRIDE;
    if (!this.wmarkFreeOk(zb, order, hz)) return -1;
    const zl = m.zoneLock;
    if (zl !== null) zl.lock(z);
    const next = m.next;
    let head = m.freeSentBase + z * K.NR_FREE_LISTS + order * K.MIGRATE_TYPES + mt;
    let o = order;
    let pfn = -1;
    for (; o < K.MAX_ORDER; o++, head += K.MIGRATE_TYPES) {
      pfn = next[head]!;
      if (pfn !== head) break;
    }
    if (o === K.MAX_ORDER) {
      if (zl !== null) zl.unlock(z);
      return -1;
    }
    const ints = m.ints;
    const prev = m.prev;
    // del_page_from_free_list
    const n = next[pfn]!;
    const p = prev[pfn]!;
    next[p] = n;
    prev[n] = p;
    m.flags[pfn] = 0;
    ints[zb + K.Z_NR_FREE + o] -= 1;
    ints[zb + K.Z_NR_FREE_MT + o * K.MIGRATE_TYPES + mt] -= 1;
    // expand: the upper halves go on the lists of mt (add_to_free_list, the head)
    let size = 1 << o;
    while (o > order) {
      o--;
      size >>= 1;
      const q = pfn + size;
      const h = m.freeSentBase + z * K.NR_FREE_LISTS + o * K.MIGRATE_TYPES + mt;
      const first = next[h]!;
      next[q] = first;
      prev[q] = h;
      prev[first] = q;
      next[h] = q;
      m.flags[q] = K.PG_buddy;
      m.order[q] = o | (mt << K.MT_SHIFT);
      ints[zb + K.Z_NR_FREE + o] += 1;
      ints[zb + K.Z_NR_FREE_MT + o * K.MIGRATE_TYPES + mt] += 1;
    }
    m.order[pfn] = order | (mt << K.MT_SHIFT);
    if (m.tracer !== null) m.tracer.pageAllocZoneLocked(pfn, order, mt, false);
    ints[zb + K.Z_NR_FREE_PAGES] -= 1 << order;
    if (zl !== null) zl.unlock(z);
    return pfn;
  }

  /**
   * rmqueue's and get_page_from_freelist's tail for a block the order > 0 fast path took: pgalloc,
   * the NUMA counters, ZONE_BOOSTED_WATERMARK, prep_new_page (with prep_compound_page for __GFP_COMP).
   * @kernel mm/page_alloc.c rmqueue, zone_statistics, prep_new_page
   */
  private allocatedHigh(pfn: number, z: number, order: number, gfp: number, mt: number, cpu: number): void {
    const m = this.mm;
    const ints = m.ints;
    // alloc_calls, pgalloc, numa_hit, numa_local: one per-CPU counter (MemMap.eventTotals sums them)
    const ci = m.cpuEvBase + cpu * m.cpuEvStride + z * K.MAX_ORDER + order;
    const cv = ints[ci]! + 1;
    ints[ci] = cv;
    if (cv === K.CPU_EV_FOLD_AT) m.foldCpuEvents(cpu);
    if ((m.ints[m.zoneBase + z * K.Z_STRIDE + K.Z_FLAGS]! & K.ZONE_BOOSTED_WATERMARK) !== 0) this.clearBoosted(z);
    this.prepNewPage(pfn, order, gfp, mt);
  }

  /** alloc_pages after the fast path declined. */
  private allocPages(gfp: number, order: number, cpu: number): number {
    const m = this.mm;
    m.ev[K.EV_ALLOC_CALLS] += 1;
    if (order >= K.MAX_ORDER || order < 0) return this.fail(FAIL_ORDER, gfp, order, -1, -1);
    if ((gfp & K.__GFP_EXCL) !== 0) return this.fail(FAIL_EXCL_NEEDS_KEY, gfp, order, -1, -1);
    const mt = m.ints[K.H_MOBILITY_DISABLED] !== 0 ? 0 : (gfp & 0x18) >>> 3;
    const hz = GFP_ZONE_TABLE[gfp & 0xf]!;
    const node = this.nrNodes === 1 ? 0 : this.cpuToNode(cpu);
    const preferred = this.prefZone[node * 8 + hz]!;
    if (preferred < 0) return this.fail(FAIL_NO_ZONE, gfp, order, mt, -1);
    // alloc_flags_nofragment: the kswapd bit, and NOFRAGMENT when the preferred zone is Normal
    const allocFlags = K.ALLOC_WMARK_LOW | (gfp & K.__GFP_KSWAPD_RECLAIM) | this.nofrag[node * 8 + hz]!;
    this.sawWmarkOk = false;
    let pfn = this.get_page_from_freelist(gfp, order, allocFlags, hz, mt, cpu, node);
    if (pfn < 0) pfn = this.slowpathNonBlocking(gfp, order, hz, mt, cpu, node, preferred);
    if (m.tracer !== null) m.tracer.pageAlloc(pfn, order, gfp, mt);
    return pfn;
  }

  /**
   * The first step of get_page_from_freelist for an order-0 request with the fast path's alloc flags
   * (LOW watermark, no HARDER/OOM), taken in one small function V8 inlines: the preferred zone's
   * order-0 watermark shortcut, then a pop from a non-empty pcp list, with the same counters and
   * page state as the general path. Returns -1 having changed nothing whenever the general path
   * has more to do (watermark not met by the shortcut, empty list: refill, next zone).
   * @kernel mm/page_alloc.c get_page_from_freelist, zone_watermark_fast, rmqueue_pcplist, zone_statistics
   */
  private rmqueueOrder0Fast(z: number, hz: number, mt: number, cpu: number): number {
    const m = this.mm;
    const ints = m.ints;
    const zb = m.zoneBase + z * K.Z_STRIDE;
    // zone_watermark_fast, order-0 shortcut: usable = free - highatomic reserve > LOW + boost + lowmem_reserve
    const freePages = ints[zb + K.Z_NR_FREE_PAGES]!;
    const reserved = ints[zb + K.Z_NR_RESERVED_HIGHATOMIC]!;
    const usable = freePages - (freePages < reserved ? freePages : reserved);
    if (usable <= ints[zb + K.Z_WMARK + K.ALLOC_WMARK_LOW]! + ints[zb + K.Z_BOOST]! + ints[zb + K.Z_LOWMEM + hz]!) return -1;
    // __rmqueue_pcplist without a refill (order 0: pindex = mt)
    const slot = z * this.nrCpus + cpu;
    const list = m.pcpSentBase + slot * K.NR_PCP_LISTS + mt;
    return pcpTake(m, list, m.pcpBase + slot * K.P_STRIDE, 1);
  }

  /**
   * The rest of rmqueue and get_page_from_freelist for a page rmqueueOrder0Fast took: alloc_calls,
   * pgalloc and the NUMA counters (one per-CPU counter), ZONE_BOOSTED_WATERMARK, then prep_new_page
   * (refcount 1, order byte, owner 0, a fresh generation, no flags).
   * @kernel mm/page_alloc.c rmqueue, zone_statistics, prep_new_page
   */
  private allocatedOrder0(pfn: number, z: number, mt: number, cpu: number): void {
    const m = this.mm;
    const ints = m.ints;
    const ci = m.cpuEvBase + cpu * m.cpuEvStride + z * K.MAX_ORDER;
    const cv = ints[ci]! + 1;
    ints[ci] = cv;
    if (cv === K.CPU_EV_FOLD_AT) m.foldCpuEvents(cpu);
    if ((ints[m.zoneBase + z * K.Z_STRIDE + K.Z_FLAGS]! & K.ZONE_BOOSTED_WATERMARK) !== 0) this.clearBoosted(z);
    const sw = m.seqWords;
    const step = m.seqStep;
    let seq = (sw[m.seqIdx]! + step) | 0;
    if (seq === 0) seq = step;
    sw[m.seqIdx] = seq;
    m.refcount[pfn] = 1;
    m.order[pfn] = mt << K.MT_SHIFT;
    m.next[pfn] = 0;
    m.prev[pfn] = seq;
    m.flags[pfn] = 0;
  }

  /** ZONE_BOOSTED_WATERMARK seen on an allocation: clear it and wake kswapd (cold). */
  private clearBoosted(z: number): void {
    const m = this.mm;
    m.ints[m.zoneBase + z * K.Z_STRIDE + K.Z_FLAGS] &= ~K.ZONE_BOOSTED_WATERMARK;
    const wake = this.hooks.wakeupKswapd;
    if (wake !== undefined) wake(z, 0, this.zoneType[z]!);
  }

  private hasPopulatedZone(node: number, type: number): boolean {
    const m = this.mm;
    for (let z = 0; z < this.nrZones; z++) {
      if (m.ints[m.zf(z, K.Z_NODE)] === node && this.zoneType[z] === type && m.ints[m.zf(z, K.Z_MANAGED)]! > 0) return true;
    }
    return false;
  }

  /**
   * The non-sleeping part of __alloc_pages_slowpath: gfp_to_alloc_flags (MIN watermark, HIGH and
   * HARDER reserves), kswapd wake, one attempt; then the pfmemalloc reserves (__GFP_MEMALLOC →
   * no watermarks) and a second attempt. A request without __GFP_DIRECT_RECLAIM fails here.
   */
  private slowpathNonBlocking(gfp: number, order: number, hz: number, mt: number, cpu: number, node: number,
    preferred: number): number {
    const m = this.mm;
    m.ev[K.EV_ALLOC_SLOWPATH] += 1;
    const canDirectReclaim = (gfp & K.__GFP_DIRECT_RECLAIM) !== 0;
    // 6.1 WARNs on __GFP_ATOMIC|__GFP_DIRECT_RECLAIM and drops __GFP_ATOMIC.
    if (canDirectReclaim && (gfp & K.__GFP_ATOMIC) !== 0) gfp &= ~K.__GFP_ATOMIC;
    let allocFlags = gfpToAllocFlags(gfp);
    const hooks = this.hooks;
    if ((allocFlags & K.ALLOC_KSWAPD) !== 0 && hooks.wakeAllKswapds !== undefined) hooks.wakeAllKswapds(order, gfp, hz);
    let pfn = this.get_page_from_freelist(gfp, order, allocFlags, hz, mt, cpu, node);
    if (pfn >= 0) return pfn;
    // retry: (wake kswapd again) and reserve escalation
    if ((allocFlags & K.ALLOC_KSWAPD) !== 0 && hooks.wakeAllKswapds !== undefined) hooks.wakeAllKswapds(order, gfp, hz);
    const reserveFlags = this.gfpPfmemallocFlags(gfp);
    if (reserveFlags !== 0) allocFlags = reserveFlags | (allocFlags & K.ALLOC_KSWAPD);
    pfn = this.get_page_from_freelist(gfp, order, allocFlags, hz, mt, cpu, node);
    if (pfn >= 0) return pfn;
    const reason = this.sawWmarkOk ? FAIL_NO_BLOCK : FAIL_WATERMARK;
    return this.fail(canDirectReclaim ? reason | FAIL_MAY_SLEEP : reason, gfp, order, mt, preferred);
  }

  /** @kernel mm/page_alloc.c __gfp_pfmemalloc_flags */
  gfpPfmemallocFlags(gfp: number): number {
    if (gfp & K.__GFP_NOMEMALLOC) return 0;
    if (gfp & K.__GFP_MEMALLOC) return K.ALLOC_NO_WATERMARKS;
    const hook = this.hooks.pfmemallocFlags;
    return hook !== undefined ? hook(gfp) : 0;
  }

  private fail(reason: number, gfp: number, order: number, _mt: number, zone: number): number {
    const ints = this.mm.ints;
    ints[K.H_FAIL_REASON] = reason;
    ints[K.H_FAIL_ORDER] = order;
    ints[K.H_FAIL_GFP] = gfp;
    ints[K.H_FAIL_ZONE] = zone;
    this.mm.ev[K.EV_ALLOC_FAIL] += 1;
    return -1;
  }

  /**
   * Walk the zonelist from the preferred zone: watermark check, then take a block (pcp or buddy).
   * Without a fitting zone and with ALLOC_NOFRAGMENT, walk again allowing fragmenting fallbacks.
   * Exported for the sleeping slow path (issue 4), which retries with its own alloc flags.
   * @kernel mm/page_alloc.c get_page_from_freelist
   */
  get_page_from_freelist(gfp: number, order: number, allocFlags: number, hz: number, mt: number, cpu: number,
    node: number): number {
    // Every path to the free lists (the fast path, the slow path's retries, the sleeping slow path of
    // src/alloc/slowpath.ts) comes through here: an exclusive page without its key is refused here once.
    if ((gfp & K.__GFP_EXCL) !== 0) return this.fail(FAIL_EXCL_NEEDS_KEY, gfp, order, mt, -1);
    const m = this.mm;
    const ints = m.ints;
    const zl = this.zonelists[node]!;
    const zoneType = this.zoneType;
    for (;;) {
      const noFallback = (allocFlags & K.ALLOC_NOFRAGMENT) !== 0;
      let preferred = -1;
      let retry = false;
      for (let i = 0; i < zl.length; i++) {
        const z = zl[i]!;
        if (zoneType[z]! > hz) continue;
        if (preferred < 0) preferred = z;
        const zb = m.zoneBase + z * K.Z_STRIDE;
        if (noFallback && this.nrNodes > 1 && this.otherNode(zb, preferred)) {
          allocFlags &= ~K.ALLOC_NOFRAGMENT;
          retry = true;
          break;
        }
        if ((allocFlags & K.ALLOC_NO_WATERMARKS) === 0) {
          const mark = ints[zb + K.Z_WMARK + (allocFlags & K.ALLOC_WMARK_MASK)]! + ints[zb + K.Z_BOOST]!;
          if (!this.zoneWatermarkFast(z, zb, order, mark, hz, allocFlags, gfp)) continue;
        }
        this.sawWmarkOk = true;
        const pfn = this.rmqueueZone(preferred, z, order, allocFlags, mt, cpu);
        if (pfn >= 0) {
          this.prepNewPage(pfn, order, gfp, mt);
          if (order !== 0 && (allocFlags & K.ALLOC_HARDER) !== 0) this.reserveHighatomic(z, pfn);
          return pfn;
        }
      }
      if (retry) continue;
      if (noFallback) {
        allocFlags &= ~K.ALLOC_NOFRAGMENT;
        continue;
      }
      return -1;
    }
  }

  /** Is the zone at zb on another node than the preferred zone? (cold: NUMA only) */
  private otherNode(zb: number, preferred: number): boolean {
    const ints = this.mm.ints;
    return ints[zb + K.Z_NODE] !== ints[this.mm.zf(preferred, K.Z_NODE)];
  }

  /** reserve_highatomic_pageblock under the zone lock (cold: high-order ALLOC_HARDER only). */
  private reserveHighatomic(z: number, pfn: number): void {
    const zl = this.mm.zoneLock;
    if (zl !== null) zl.lock(z);
    reserveHighatomicPageblock(this.mm, z, pfn);
    if (zl !== null) zl.unlock(z);
  }

  /**
   * @kernel mm/page_alloc.c zone_watermark_fast (6.1: order-0 shortcut, the full check, and the
   * unboosted-min retry for order-0 __GFP_ATOMIC requests)
   */
  private zoneWatermarkFast(z: number, zb: number, order: number, mark: number, hz: number, allocFlags: number,
    gfp: number): boolean {
    const ints = this.mm.ints;
    const freePages = ints[zb + K.Z_NR_FREE_PAGES]!;
    if (order === 0) {
      // __zone_watermark_unusable_free for order 0 (no CMA): the highatomic reserve unless HARDER/OOM.
      const reserved = (allocFlags & (K.ALLOC_HARDER | K.ALLOC_OOM)) !== 0 ? 0 : ints[zb + K.Z_NR_RESERVED_HIGHATOMIC]!;
      const usable = freePages - (freePages < reserved ? freePages : reserved);
      if (usable > mark + ints[zb + K.Z_LOWMEM + hz]!) return true;
    }
    if (zoneWatermarkOk(this.views[z]!, order, mark, hz, allocFlags, freePages)) return true;
    return order === 0 && (gfp & K.__GFP_ATOMIC) !== 0 && this.atomicUnboostedOk(z, zb, hz, allocFlags, freePages);
  }

  /** zone_watermark_fast's retry for order-0 __GFP_ATOMIC against the unboosted min (cold). */
  private atomicUnboostedOk(z: number, zb: number, hz: number, allocFlags: number, freePages: number): boolean {
    const ints = this.mm.ints;
    if (ints[zb + K.Z_BOOST] === 0 || (allocFlags & K.ALLOC_WMARK_MASK) !== K.WMARK_MIN) return false;
    return zoneWatermarkOk(this.views[z]!, 0, ints[zb + K.Z_WMARK + K.WMARK_MIN]!, hz, allocFlags, freePages);
  }

  /** @kernel mm/page_alloc.c rmqueue, rmqueue_buddy (CONFIG_CMA=n) */
  private rmqueueZone(preferred: number, z: number, order: number, allocFlags: number, mt: number, cpu: number): number {
    const m = this.mm;
    let pfn = -1;
    if (pcpAllowedOrder(order, this.pcpThp)) {
      pfn = rmqueuePcplist(m, z, cpu, order, mt, allocFlags, this.pcpThp);
    }
    if (pfn < 0) {
      // rmqueue_buddy
      const zl = m.zoneLock;
      if (zl !== null) zl.lock(z);
      if (order > 0 && (allocFlags & K.ALLOC_HARDER) !== 0) pfn = rmqueueSmallest(m, z, order, K.MIGRATE_HIGHATOMIC, this.pcpThp);
      if (pfn < 0) pfn = __rmqueue(m, z, order, mt, allocFlags, this.pcpThp);
      if (pfn >= 0) m.ints[m.zoneBase + z * K.Z_STRIDE + K.Z_NR_FREE_PAGES] -= 1 << order;
      if (zl !== null) zl.unlock(z);
      if (pfn < 0) return -1;
    }
    m.ev[K.EV_PGALLOC + this.zoneType[z]!] += 1 << order;
    this.zoneStatistics(preferred, z, cpu);
    if ((m.ints[m.zoneBase + z * K.Z_STRIDE + K.Z_FLAGS]! & K.ZONE_BOOSTED_WATERMARK) !== 0) this.clearBoosted(z);
    return pfn;
  }

  /** @kernel mm/page_alloc.c zone_statistics (numa_hit/miss/foreign, local/other) */
  private zoneStatistics(preferred: number, z: number, cpu: number): void {
    const m = this.mm;
    const ev = m.ev;
    if (this.nrNodes === 1) {
      ev[this.evNumaHit[z]!] += 1;
      ev[this.evNumaLocal[z]!] += 1;
    } else {
      this.zoneStatisticsNuma(preferred, z, cpu);
    }
  }

  /** zone_statistics with more than one node (cold in single-node machines). */
  private zoneStatisticsNuma(preferred: number, z: number, cpu: number): void {
    const m = this.mm;
    const ev = m.ev;
    const zn = m.ints[m.zoneBase + z * K.Z_STRIDE + K.Z_NODE]!;
    if (zn === m.ints[m.zf(preferred, K.Z_NODE)]) ev[m.zev(z, K.ZE_NUMA_HIT)] += 1;
    else {
      ev[m.zev(z, K.ZE_NUMA_MISS)] += 1;
      ev[m.zev(preferred, K.ZE_NUMA_FOREIGN)] += 1;
    }
    ev[m.zev(z, zn === this.cpuToNode(cpu) ? K.ZE_NUMA_LOCAL : K.ZE_NUMA_OTHER)] += 1;
  }

  /**
   * Mark an allocated block: head refcount 1, order and migratetype, owner 0, a fresh generation;
   * compound pages get PG_head and PG_tail pages pointing at the head.
   * @kernel mm/page_alloc.c prep_new_page, prep_compound_page
   */
  private prepNewPage(pfn: number, order: number, gfp: number, mt: number): void {
    const m = this.mm;
    const sw = m.seqWords;
    const step = m.seqStep;
    let seq = (sw[m.seqIdx]! + step) | 0;
    if (seq === 0) seq = step;
    sw[m.seqIdx] = seq;
    m.refcount[pfn] = 1;
    m.order[pfn] = order | (mt << K.MT_SHIFT);
    m.next[pfn] = 0;
    m.prev[pfn] = seq;
    m.flags[pfn] = 0;
    if ((gfp & K.__GFP_COMP) !== 0 && order > 0) this.prepCompoundPage(pfn, order);
  }

  /** PG_head on the head, PG_tail and the head pointer on the tails. @kernel mm/page_alloc.c prep_compound_page */
  private prepCompoundPage(pfn: number, order: number): void {
    const m = this.mm;
    m.flags[pfn] = K.PG_head;
    const end = pfn + (1 << order);
    for (let t = pfn + 1; t < end; t++) {
      m.flags[t] = K.PG_tail;
      m.next[t] = pfn;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Freeing

  /**
   * Drop a reference to a block of 2^order pages; free it when it was the last. With other
   * references left on a non-compound block, the pages after the first are freed now and the
   * first stays with its remaining holders (as 6.1 does).
   * Throws BadPageStateError (changing nothing) on misuse.
   * @kernel mm/page_alloc.c __free_pages
   */
  __free_pages(pfn: number, order: number, cpu = 0): void {
    const m = this.mm;
    this.checkFree(pfn, order);
    const rc = m.refcount[pfn]!;
    if (order === 0 && rc === 1) {
      m.refcount[pfn] = 0;
      this.freeOrder0(pfn, cpu);
      return;
    }
    if (rc > 1) {
      this.putSharedBlock(pfn, order, rc, cpu);
      return;
    }
    m.refcount[pfn] = 0;
    this.freeThePage(pfn, order, cpu);
  }

  /** __free_pages when other references remain: drop one; a non-compound block frees its pages after the first. */
  private putSharedBlock(pfn: number, order: number, rc: number, cpu: number): void {
    const m = this.mm;
    m.refcount[pfn] = rc - 1;
    if ((m.flags[pfn]! & K.PG_head) === 0 && order > 0) {
      m.order[pfn] = m.order[pfn]! & ~K.ORDER_MASK;
      while (order-- > 0) this.freeThePage(pfn + (1 << order), order, cpu);
    }
  }

  /**
   * free_the_page for an order-0 page whose last reference is gone, in one small function:
   * mm_page_free, clear the flags, then the pcp list of its pageblock's type (isolated pageblocks
   * go straight to the buddy allocator), the count and the drain check as free_unref_page_commit.
   * @kernel mm/page_alloc.c free_the_page, free_pages_prepare, free_unref_page, free_unref_page_commit
   */
  private freeOrder0(pfn: number, cpu: number): void {
    const m = this.mm;
    if (m.tracer !== null) m.tracer.pageFree(pfn, 0);
    const mt = m.pbmt[pfn >>> K.pageblock_order]!;
    const z = m.pageZone(pfn);
    if (mt >= K.MIGRATE_PCPTYPES) {
      m.flags[pfn] = 0;
      this.freeUnrefPage(pfn, 0, cpu);
      return;
    }
    m.order[pfn] = mt << K.MT_SHIFT;
    const ints = m.ints;
    // pgfree in the CPU's counter (MemMap.eventTotals sums them)
    const ci = m.cpuEvBase + cpu * m.cpuEvStride + m.cpuEvFreeOff;
    const cv = ints[ci]! + 1;
    ints[ci] = cv;
    if (cv === K.CPU_EV_FOLD_AT) m.foldCpuEvents(cpu);
    // list_add to the pcp list (order 0: pindex = mt), PG_pcp
    const slot = z * this.nrCpus + cpu;
    const head = m.pcpSentBase + slot * K.NR_PCP_LISTS + mt;
    const next = m.next;
    const prev = m.prev;
    const first = next[head]!;
    next[pfn] = first;
    prev[pfn] = head;
    prev[first] = pfn;
    next[head] = pfn;
    m.flags[pfn] = K.PG_pcp;
    const pb = m.pcpBase + slot * K.P_STRIDE;
    const count = (ints[pb + K.P_COUNT] += 1);
    // nr_pcp_high (free_high is never set for order 0)
    let high = ints[pb + K.P_HIGH]!;
    if (high !== 0 && (ints[m.zoneBase + z * K.Z_STRIDE + K.Z_FLAGS]! & K.ZONE_RECLAIM_ACTIVE) !== 0) {
      const b4 = ints[pb + K.P_BATCH]! << 2;
      if (b4 < high) high = b4;
    }
    if (count >= high) freePcppagesBulk(m, z, cpu, nrPcpFree(m, pb, high, ints[pb + K.P_BATCH]!, false), mt);
  }

  /** Validate a free of (pfn, order) before anything changes. Cold on failure. */
  private checkFree(pfn: number, order: number): void {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < m.nrPfn) || (pfn | 0) !== pfn) this.badPage(pfn, 'pfn out of range', order);
    const f = m.flags[pfn]!;
    if ((f & (K.PG_buddy | K.PG_pcp | K.PG_tail | K.PG_reserved | K.PG_lru | K.PG_exclusive)) !== 0 || m.refcount[pfn] === 0
      || (m.order[pfn]! & K.ORDER_MASK) !== order || order >= K.MAX_ORDER || order < 0) {
      this.badPage(pfn, this.freeProblem(pfn, order), order);
    }
  }

  private freeProblem(pfn: number, order: number): string {
    const m = this.mm;
    const f = m.flags[pfn]!;
    if (m.pageZone(pfn) < 0) return 'pfn is in no zone';
    if (f & K.PG_buddy) return 'double free: the block is already free in the buddy allocator (PageBuddy set)';
    if (f & K.PG_pcp) return 'double free: the page is already on a per-CPU free list';
    if (f & K.PG_tail) return 'freeing a tail page of a compound page (free the head)';
    if (f & K.PG_reserved) return 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set: reserved page';
    if (f & K.PG_lru) return 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set: page still on an LRU list';
    if (f & K.PG_exclusive) return 'exclusive page freed without its key';
    if (m.refcount[pfn] === 0) return 'nonzero _refcount expected: page was never allocated or its refcount underflowed';
    if (order < 0 || order >= K.MAX_ORDER) return 'order out of range';
    return `wrong order: allocated as order ${m.order[pfn]! & K.ORDER_MASK}, freed as order ${order}`;
  }

  private badPage(pfn: number, reason: string, requestedOrder: number): never {
    const m = this.mm;
    const inRange = pfn >= 0 && pfn < m.nrPfn && (pfn | 0) === pfn;
    const f = inRange ? m.flags[pfn]! : 0;
    throw new BadPageStateError(pfn, f, formatPageFlags(f), inRange ? m.refcount[pfn]! : 0,
      inRange ? m.order[pfn]! & K.ORDER_MASK : 0, reason, requestedOrder);
  }

  /** @kernel mm/page_alloc.c free_the_page (pcp for allowed orders, else __free_pages_ok) */
  private freeThePage(pfn: number, order: number, cpu: number): void {
    this.freePagesPrepare(pfn, order);
    if (pcpAllowedOrder(order, this.pcpThp)) this.freeUnrefPage(pfn, order, cpu);
    else this.freePagesOk(pfn, order, cpu);
  }

  /** Clear the block's descriptor state; fire mm_page_free. @kernel mm/page_alloc.c free_pages_prepare */
  private freePagesPrepare(pfn: number, order: number): void {
    const m = this.mm;
    if (m.tracer !== null) m.tracer.pageFree(pfn, order);
    if ((m.flags[pfn]! & K.PG_head) !== 0) {
      const end = pfn + (1 << order);
      for (let t = pfn + 1; t < end; t++) {
        m.flags[t] = 0;
        m.next[t] = 0;
      }
    }
    m.flags[pfn] = 0;
  }

  /** @kernel mm/page_alloc.c free_unref_page */
  private freeUnrefPage(pfn: number, order: number, cpu: number): void {
    const m = this.mm;
    const z = m.pageZone(pfn);
    const mt = m.pbmt[pfn >>> K.pageblock_order]!;
    m.order[pfn] = order | (mt << K.MT_SHIFT);
    let pcpMt = mt;
    if (mt >= K.MIGRATE_PCPTYPES) {
      if (mt === K.MIGRATE_ISOLATE) {
        const zl = m.zoneLock;
        if (zl !== null) zl.lock(z);
        freeOnePage(m, pfn, z, order, mt, FPI_NONE);
        if (zl !== null) zl.unlock(z);
        return;
      }
      pcpMt = K.MIGRATE_MOVABLE;
    }
    freeUnrefPageCommit(m, z, cpu, pfn, pcpMt, order);
  }

  /** @kernel mm/page_alloc.c __free_pages_ok */
  private freePagesOk(pfn: number, order: number, cpu: number): void {
    const m = this.mm;
    const z = m.pageZone(pfn);
    const zl = m.zoneLock;
    if (zl !== null) zl.lock(z);
    const mt = m.pbmt[pfn >>> K.pageblock_order]!;
    freeOnePage(m, pfn, z, order, mt, FPI_NONE);
    if (zl !== null) zl.unlock(z);
    // pgfree in the CPU's counter
    const ints = m.ints;
    const ci = m.cpuEvBase + cpu * m.cpuEvStride + m.cpuEvFreeOff + order;
    const cv = ints[ci]! + 1;
    ints[ci] = cv;
    if (cv === K.CPU_EV_FOLD_AT) m.foldCpuEvents(cpu);
  }

  /**
   * Free a list of order-0 pages whose last reference is gone, through the pcp lists
   * (mm_page_free for each, then mm_page_free_batched for each). All are checked first.
   * @kernel mm/page_alloc.c free_unref_page_list
   */
  free_unref_page_list(pfns: ArrayLike<number>, cpu = 0): void {
    const m = this.mm;
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i]!;
      this.checkFree(pfn, 0);
      if (m.refcount[pfn] !== 1) this.badPage(pfn, 'free_unref_page_list: page still referenced', 0);
      for (let j = 0; j < i; j++) if (pfns[j] === pfn) this.badPage(pfn, 'double free within one list', 0);
    }
    for (let i = 0; i < pfns.length; i++) {
      m.refcount[pfns[i]!] = 0;
      this.freePagesPrepare(pfns[i]!, 0);
    }
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i]!;
      if (m.tracer !== null) m.tracer.pageFreeBatched(pfn);
      this.freeUnrefPage(pfn, 0, cpu);
    }
  }

  // -------------------------------------------------------------------------------------------
  // References, compound and split pages

  /** compound_head: the head pfn of a tail page, else pfn. */
  compound_head(pfn: number): number {
    const m = this.mm;
    return (m.flags[pfn]! & K.PG_tail) !== 0 ? m.next[pfn]! : pfn;
  }

  /** Take a reference. @kernel include/linux/mm.h get_page */
  get_page(pfn: number): void {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < m.nrPfn) || (pfn | 0) !== pfn) this.badPage(pfn, 'pfn out of range', -1);
    const head = this.compound_head(pfn);
    if ((m.flags[head]! & K.PG_exclusive) !== 0) this.exclusiveRefused(head, 'EXCL_NOT_SHAREABLE', 'take a reference to');
    const rc = m.refcount[head]!;
    if (rc === 0 || (m.flags[head]! & (K.PG_buddy | K.PG_pcp)) !== 0) this.badPage(head, 'get_page on a page with refcount 0 (free or never allocated)', -1);
    if (rc === 0xffff) this.badPage(head, 'page refcount overflow', -1);
    m.refcount[head] = rc + 1;
  }

  /**
   * Drop a reference; free the page when it was the last. Compound pages free their whole order.
   * For a non-compound block Labyrinth also frees its whole recorded order, where 6.1 would free
   * order 0 and leak the rest.
   * @kernel include/linux/mm.h put_page
   */
  put_page(pfn: number, cpu = 0): void {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < m.nrPfn) || (pfn | 0) !== pfn) this.badPage(pfn, 'pfn out of range', -1);
    const head = this.compound_head(pfn);
    const rc = m.refcount[head]!;
    if (rc === 0 || (m.flags[head]! & (K.PG_buddy | K.PG_pcp)) !== 0) this.badPage(head, 'put_page: refcount underflow', -1);
    if ((m.flags[head]! & K.PG_reserved) !== 0 || rc > 1) {
      if (rc === 1) this.badPage(head, 'put_page would free a reserved page', -1);
      m.refcount[head] = rc - 1;
      return;
    }
    this.__free_pages(head, m.order[head]! & K.ORDER_MASK, cpu);
  }

  /** The page's reference count (of its compound head). @kernel include/linux/mm.h page_count */
  page_count(pfn: number): number {
    return this.mm.refcount[this.compound_head(pfn)]!;
  }

  /**
   * Turn a non-compound block of 2^order pages into 2^order order-0 pages, each with refcount 1
   * and its own generation.
   * @kernel mm/page_alloc.c split_page
   */
  split_page(pfn: number, order: number): void {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < m.nrPfn) || (pfn | 0) !== pfn) this.badPage(pfn, 'pfn out of range', order);
    const f = m.flags[pfn]!;
    if ((m.flags[this.compound_head(pfn)]! & K.PG_exclusive) !== 0) this.exclusiveRefused(this.compound_head(pfn), 'EXCL_NOT_SPLITTABLE', 'split');
    if ((f & (K.PG_head | K.PG_tail)) !== 0) this.badPage(pfn, 'split_page on a compound page', order);
    if (m.refcount[pfn] === 0 || (f & (K.PG_buddy | K.PG_pcp | K.PG_reserved)) !== 0) this.badPage(pfn, 'split_page on a page that is not allocated', order);
    if ((m.order[pfn]! & K.ORDER_MASK) !== order) this.badPage(pfn, 'split_page with the wrong order', order);
    const packed0 = m.order[pfn]! & ~K.ORDER_MASK;
    const owner = m.next[pfn]!;
    m.order[pfn] = packed0;
    const sw = m.seqWords;
    const step = m.seqStep;
    const end = pfn + (1 << order);
    for (let p = pfn + 1; p < end; p++) {
      let seq = (sw[m.seqIdx]! + step) | 0;
      if (seq === 0) seq = step;
      sw[m.seqIdx] = seq;
      m.refcount[p] = 1;
      m.flags[p] = 0;
      m.order[p] = packed0;
      m.next[p] = owner;
      m.prev[p] = seq;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Addresses

  /**
   * Labyrinth: pfn is off the direct map — a page of the memmap whose compound head is exclusive. page_address
   * and virt_to_page refuse exactly these pages (this is their test); a caller that only asks can use it alone.
   */
  pageOffDirectMap(pfn: number): boolean {
    const m = this.mm;
    return pfn >= 0 && pfn < m.nrPfn && (m.flags[(m.flags[pfn]! & K.PG_tail) !== 0 ? m.next[pfn]! : pfn]! & K.PG_exclusive) !== 0;
  }

  /** base + pfn * PAGE_SIZE (a plain number; exact up to 2^53). @kernel page_address */
  page_address(pfn: number): number {
    if (this.pageOffDirectMap(pfn)) this.exclusiveRefused(this.compound_head(pfn), 'EXCL_NO_KEY', 'take the direct-map address of');
    return this.base + pfn * K.PAGE_SIZE;
  }

  /** The direct map's address of pfn 0: page_address(pfn) = pageOffset + pfn * PAGE_SIZE. @kernel PAGE_OFFSET */
  get pageOffset(): number {
    return this.base;
  }

  /** The pfn of the page holding direct-map address addr, unchecked (virt_to_page without the refusal). @kernel __pa (>> PAGE_SHIFT) */
  __virt_to_pfn(addr: number): number {
    return Math.floor((addr - this.base) / K.PAGE_SIZE);
  }

  /** The pfn of the page holding address addr. @kernel virt_to_page (as a pfn) */
  virt_to_page(addr: number): number {
    const pfn = this.__virt_to_pfn(addr);
    if (this.pageOffDirectMap(pfn)) this.exclusiveRefused(this.compound_head(pfn), 'EXCL_NO_KEY', 'resolve a direct-map address to');
    return pfn;
  }

  /** Labyrinth (issue 5): exclusive pages are off the direct map, never aliased, never split. Cold. */
  private exclusiveRefused(pfn: number, code: string, what: string): never {
    throw new ExclusivePageError(code, `Cannot ${what} exclusive pfn 0x${pfn.toString(16)}: because an exclusive page is off the direct map, never shared or split, and reachable only through its key`, pfn);
  }

  /** alloc_pages without highmem, returning an address, or 0. @kernel mm/page_alloc.c __get_free_pages */
  __get_free_pages(gfp: number, order: number, cpu = 0): number {
    const pfn = this.alloc_pages(gfp & ~K.__GFP_HIGHMEM, order, cpu);
    return pfn < 0 ? 0 : this.base + pfn * K.PAGE_SIZE;
  }

  /** @kernel mm/page_alloc.c get_zeroed_page */
  get_zeroed_page(gfp: number, cpu = 0): number {
    return this.__get_free_pages(gfp | K.__GFP_ZERO, 0, cpu);
  }

  /** @kernel mm/page_alloc.c free_pages (address 0 is ignored) */
  free_pages(addr: number, order: number, cpu = 0): void {
    if (addr !== 0) this.__free_pages(this.virt_to_page(addr), order, cpu);
  }

  // -------------------------------------------------------------------------------------------
  // Draining and reserves

  /** @kernel mm/page_alloc.c drain_local_pages (one CPU, every zone) */
  drain_local_pages(cpu = 0): void {
    for (let z = 0; z < this.nrZones; z++) drainPagesZone(this.mm, z, cpu);
  }

  /** @kernel mm/page_alloc.c drain_all_pages (every CPU, every zone) */
  drain_all_pages(): void {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.drain_local_pages(cpu);
  }

  /**
   * Give back highatomic reserves to `mt` in the zones eligible for highestZoneIdx.
   * @kernel mm/page_alloc.c unreserve_highatomic_pageblock
   */
  unreserve_highatomic_pageblock(highestZoneIdx: number, mt: number, force: boolean, cpu = 0): boolean {
    const zl = this.zonelists[this.cpuToNode(cpu)]!;
    const eligible: number[] = [];
    for (let i = 0; i < zl.length; i++) if (this.zoneType[zl[i]!]! <= highestZoneIdx) eligible.push(zl[i]!);
    const lk = this.mm.zoneLock;
    if (lk === null) return unreserveHighatomicPageblock(this.mm, eligible, force, mt);
    // unreserve_highatomic_pageblock takes each zone's lock in turn; one zone at a time here too.
    for (let i = 0; i < eligible.length; i++) {
      lk.lock(eligible[i]!);
      const done = unreserveHighatomicPageblock(this.mm, [eligible[i]!], force, mt);
      lk.unlock(eligible[i]!);
      if (done) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Low-level primitives for trace replay (they bypass watermarks, pcp lists and misuse checks).

  /**
   * mm_page_alloc_zone_locked: unlink the free block that starts at pfn (of order ≥ `order`),
   * split it down to `order` keeping the low end (upper halves go back on `mt`'s lists, or the
   * block's own list type when mt < 0), and mark it allocated. Returns false (changing nothing)
   * when no free block starts at pfn or it is smaller than `order`.
   */
  takeFreeBlock(pfn: number, order: number, mt = -1): boolean {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < m.nrPfn) || (m.flags[pfn]! & K.PG_buddy) === 0) return false;
    const packed = m.order[pfn]!;
    const current = packed & K.ORDER_MASK;
    if (current < order) return false;
    const z = m.pageZone(pfn);
    const listMt = mt < 0 ? packed >>> K.MT_SHIFT : mt;
    delPageFromFreeList(m, z, pfn);
    expand(m, z, pfn, order, current, listMt);
    m.ints[m.zf(z, K.Z_NR_FREE_PAGES)] -= 1 << order;
    this.prepNewPage(pfn, order, 0, listMt);
    return true;
  }

  /** Head pfn of the free buddy block containing pfn, or -1 when pfn is not in a free block. */
  freeBlockHead(pfn: number): number {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < m.nrPfn)) return -1;
    for (let o = 0; o < K.MAX_ORDER; o++) {
      const head = pfn & ~((1 << o) - 1);
      if ((m.flags[head]! & K.PG_buddy) !== 0) return (m.order[head]! & K.ORDER_MASK) >= o ? head : -1;
      if ((m.flags[head]! | m.refcount[head]!) !== 0) return -1;
    }
    return -1;
  }

  /**
   * Unlink a whole free block without splitting it (compaction isolating a free page, unseen by
   * kmem tracepoints); it becomes an allocated block of unknown owner. Returns its order, or -1.
   */
  removeFreeBlock(head: number): number {
    const m = this.mm;
    if (!(head >= 0 && head < m.nrPfn) || (m.flags[head]! & K.PG_buddy) === 0) return -1;
    const packed = m.order[head]!;
    const order = packed & K.ORDER_MASK;
    const z = m.pageZone(head);
    delPageFromFreeList(m, z, head);
    if ((packed >>> K.MT_SHIFT) !== K.MIGRATE_ISOLATE) m.ints[m.zf(z, K.Z_NR_FREE_PAGES)] -= 1 << order;
    this.prepNewPage(head, order, 0, packed >>> K.MT_SHIFT);
    return order;
  }

  /**
   * Set the migratetype of the pageblock holding pfn (free blocks stay on their lists; use
   * before initFreeRuns, or to mirror an mm_page_alloc_extfrag ownership change).
   * @kernel mm/page_alloc.c set_pageblock_migratetype
   */
  set_pageblock_migratetype(pfn: number, mt: number): void {
    this.mm.pbmt[pfn >>> K.pageblock_order] = mt;
  }

  /**
   * __free_one_page for a block the trace says was freed: clears the descriptors of its 2^order
   * pages and merges it into zone's lists of `mt` (default: its pageblock's type).
   */
  freeBlock(pfn: number, order: number, mt = -1): void {
    const m = this.mm;
    const z = m.pageZone(pfn);
    if (z < 0) throw new RangeError(`Cannot free pfn ${pfn}: because it is in no zone`);
    const end = pfn + (1 << order);
    for (let p = pfn; p < end; p++) {
      m.flags[p] = 0;
      m.refcount[p] = 0;
      m.order[p] = 0;
    }
    freeOnePage(m, pfn, z, order, mt < 0 ? m.pbmt[pfn >>> K.pageblock_order]! : mt, FPI_NONE);
  }

  /**
   * Reset every zone to: free exactly the given pfn runs (greedy maximal aligned blocks per zone,
   * on the lists of each pageblock's type), every other page allocated as an order-0 page of
   * unknown owner, or left reserved where the spec placed reserved pages outside the runs.
   * pcp lists are emptied.
   */
  initFreeRuns(runs: ReadonlyArray<PfnRun>): void {
    const m = this.mm;
    // empty all lists and counters
    const endSent = m.nrPfn + m.layout.nrSentinels;
    for (let s = m.nrPfn; s < endSent; s++) {
      m.next[s] = s;
      m.prev[s] = s;
    }
    for (let z = 0; z < this.nrZones; z++) {
      const zb = m.zf(z, 0);
      m.ints[zb + K.Z_NR_FREE_PAGES] = 0;
      for (let i = 0; i < K.MAX_ORDER * (1 + K.MIGRATE_TYPES); i++) m.ints[zb + K.Z_NR_FREE + i] = 0;
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        m.ints[m.pf(z, cpu, K.P_COUNT)] = 0;
        m.ints[m.pf(z, cpu, K.P_FREE_FACTOR)] = 0;
      }
      const start = m.ints[zb + K.Z_START_PFN]!;
      const end = m.ints[zb + K.Z_END_PFN]!;
      for (let p = start; p < end; p++) {
        if ((m.flags[p]! & K.PG_reserved) !== 0) continue;
        m.flags[p] = 0;
        m.order[p] = (m.pbmt[p >>> K.pageblock_order]! << K.MT_SHIFT);
        m.refcount[p] = 1;
        m.next[p] = 0;
        m.prev[p] = 0;
      }
    }
    const sorted = runs.slice().sort((x, y) => x[0] - y[0]);
    for (const [s, e] of sorted) {
      let p = s;
      while (p < e) {
        const z = m.pageZone(p);
        if (z < 0) { p++; continue; }
        // the runs are the truth (e.g. KPF_BUDDY pages): a page this spec had placed as reserved is free
        const q = Math.min(e, m.ints[m.zf(z, K.Z_END_PFN)]!);
        for (let r = p; r < q; r++) {
          m.flags[r] = 0;
          m.refcount[r] = 0;
          m.order[r] = 0;
        }
        this.freeRunGreedy(z, p, q);
        p = q === p ? p + 1 : q;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Read-only inspection hooks (for /proc renderers, tests, the explainer)

  /** The last failure, described (cold). */
  allocFailure(): AllocFailure {
    const ints = this.mm.ints;
    const raw = ints[K.H_FAIL_REASON]!;
    const reason = raw & 0xff;
    const out: AllocFailure = {
      reason, maySleep: (raw & FAIL_MAY_SLEEP) !== 0, order: ints[K.H_FAIL_ORDER]!, gfp: ints[K.H_FAIL_GFP]! >>> 0,
      zone: ints[K.H_FAIL_ZONE]!, text: '',
    };
    out.text = this.describeAllocFailure();
    return out;
  }

  /** One sentence on why the last alloc_pages failed. */
  describeAllocFailure(): string {
    const ints = this.mm.ints;
    const raw = ints[K.H_FAIL_REASON]!;
    const order = ints[K.H_FAIL_ORDER]!;
    const gfp = ints[K.H_FAIL_GFP]! >>> 0;
    const z = ints[K.H_FAIL_ZONE]!;
    const zname = z >= 0 && z < this.nrZones ? ZONE_NAMES[this.zoneType[z]!] : 'none';
    const head = `Cannot allocate order-${order} pages (gfp 0x${gfp.toString(16)}): because `;
    let why: string;
    switch (raw & 0xff) {
      case FAIL_NONE: return 'no allocation has failed';
      case FAIL_ORDER: why = `order ${order} is not below MAX_ORDER (${K.MAX_ORDER})`; break;
      case FAIL_NO_ZONE: why = `no populated zone is allowed by the gfp zone modifiers (highest zone ${ZONE_NAMES[gfpZone(gfp)]})`; break;
      case FAIL_WATERMARK: why = `every eligible zone (from ${zname} down) is below the watermark these flags may use, after lowmem_reserve`; break;
      case FAIL_EXCL_NEEDS_KEY: why = '__GFP_EXCL pages are handed out only with a key, through a labyrinth (src/labyrinth/exclusive.ts)'; break;
      case FAIL_NO_BLOCK: why = `a zone passed its watermark but had no free block of order ≥ ${order} in a migratetype this request may use (fragmentation)`; break;
      default: why = `reason ${raw & 0xff}`;
    }
    const tail = (raw & FAIL_MAY_SLEEP) !== 0
      ? '; the request may sleep, so direct reclaim/compaction would run next (not in this layer)'
      : '; the request may not sleep, so it fails without reclaim';
    return head + why + tail;
  }

  /** Zone slot facts: name, node, pfn span, pages. */
  zone(z: number): { name: string; type: number; node: number; startPfn: number; endPfn: number; spanned: number; present: number; managed: number } {
    const m = this.mm;
    const zb = m.zf(z, 0);
    return {
      name: ZONE_NAMES[m.ints[zb + K.Z_TYPE]!]!, type: m.ints[zb + K.Z_TYPE]!, node: m.ints[zb + K.Z_NODE]!,
      startPfn: m.ints[zb + K.Z_START_PFN]!, endPfn: m.ints[zb + K.Z_END_PFN]!, spanned: m.ints[zb + K.Z_SPANNED]!,
      present: m.ints[zb + K.Z_PRESENT]!, managed: m.ints[zb + K.Z_MANAGED]!,
    };
  }

  /** Zone slots of a node's zonelist (Normal → DMA32 → DMA). */
  zonelist(node = 0): number[] {
    return Array.from(this.zonelists[node]!);
  }

  /** free_area[order].nr_free of zone z (what /proc/buddyinfo prints). */
  nrFree(z: number, order: number): number {
    return nrFree(this.mm, z, order);
  }

  /** Blocks on free_list[mt] of free_area[order] (what /proc/pagetypeinfo prints). */
  nrFreeMt(z: number, order: number, mt: number): number {
    return nrFreeMt(this.mm, z, order, mt);
  }

  /** buddyinfo row of zone z: nr_free per order. */
  buddyinfo(z: number): number[] {
    const out: number[] = [];
    for (let o = 0; o < K.MAX_ORDER; o++) out.push(nrFree(this.mm, z, o));
    return out;
  }

  /** NR_FREE_PAGES of zone z. */
  nrFreePages(z: number): number {
    return this.mm.ints[this.mm.zf(z, K.Z_NR_FREE_PAGES)]!;
  }

  /** Zone gauges. */
  zoneGauges(z: number): { nrFreePages: number; nrReservedHighatomic: number; watermarkBoost: number; boosted: boolean } {
    const m = this.mm;
    const zb = m.zf(z, 0);
    return {
      nrFreePages: m.ints[zb + K.Z_NR_FREE_PAGES]!, nrReservedHighatomic: m.ints[zb + K.Z_NR_RESERVED_HIGHATOMIC]!,
      watermarkBoost: m.ints[zb + K.Z_BOOST]!, boosted: (m.ints[zb + K.Z_FLAGS]! & K.ZONE_BOOSTED_WATERMARK) !== 0,
    };
  }

  /** Watermarks, boost, lowmem_reserve and pcp parameters of zone z. */
  watermarks(z: number): { min: number; low: number; high: number; promo: number; boost: number; lowmemReserve: number[]; pcpBatch: number; pcpHigh: number } {
    const m = this.mm;
    const zb = m.zf(z, 0);
    const lr: number[] = [];
    for (let i = 0; i < K.MAX_NR_ZONES; i++) lr.push(m.ints[zb + K.Z_LOWMEM + i]!);
    return {
      min: m.ints[zb + K.Z_WMARK]!, low: m.ints[zb + K.Z_WMARK + 1]!, high: m.ints[zb + K.Z_WMARK + 2]!,
      promo: m.ints[zb + K.Z_WMARK + 3]!, boost: m.ints[zb + K.Z_BOOST]!, lowmemReserve: lr,
      pcpBatch: m.ints[zb + K.Z_PCP_BATCH]!, pcpHigh: m.ints[zb + K.Z_PCP_HIGH]!,
    };
  }

  /** Migratetype of the pageblock holding pfn. */
  pageblockMigratetype(pfn: number): number {
    return this.mm.pbmt[pfn >>> K.pageblock_order]!;
  }

  /** Pageblocks of zone z per migratetype (what pagetypeinfo's "Number of blocks type" prints). */
  pageblockCounts(z: number): number[] {
    const m = this.mm;
    const start = m.ints[m.zf(z, K.Z_START_PFN)]!;
    const end = m.ints[m.zf(z, K.Z_END_PFN)]!;
    const out = new Array<number>(K.MIGRATE_TYPES).fill(0);
    // pagetypeinfo_showblockcount walks pageblock starts from the zone's (rounded-down) start
    for (let pfn = start & ~(K.pageblock_nr_pages - 1); pfn < end; pfn += K.pageblock_nr_pages) {
      if (pfn < start) continue;
      out[m.pbmt[pfn >>> K.pageblock_order]!]! += 1;
    }
    return out;
  }

  /** pcp->count / high / batch of (zone, cpu). */
  pcp(z: number, cpu: number): { count: number; high: number; batch: number; freeFactor: number } {
    const m = this.mm;
    return {
      count: m.ints[m.pf(z, cpu, K.P_COUNT)]!, high: m.ints[m.pf(z, cpu, K.P_HIGH)]!,
      batch: m.ints[m.pf(z, cpu, K.P_BATCH)]!, freeFactor: m.ints[m.pf(z, cpu, K.P_FREE_FACTOR)]!,
    };
  }

  /** Blocks on each of the 13 pcp lists of (zone, cpu) (walks; cold). */
  pcpListLengths(z: number, cpu: number): number[] {
    const out: number[] = [];
    for (let p = 0; p < K.NR_PCP_LISTS; p++) out.push(pcpListLength(this.mm, z, cpu, p));
    return out;
  }

  /** Pages on all pcp lists of zone z (free_pcp). */
  freePcp(z: number): number {
    let n = 0;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) n += this.mm.ints[this.mm.pf(z, cpu, K.P_COUNT)]!;
    return n;
  }

  /** vm event counters this layer moves, with /proc/vmstat names. */
  vmEvents(): Record<string, number> {
    const m = this.mm;
    const ev = m.eventTotals();
    const out: Record<string, number> = {};
    const zn = ['dma', 'dma32', 'normal', 'movable', 'device'];
    for (let i = 0; i < K.MAX_NR_ZONES; i++) out[`pgalloc_${zn[i]}`] = ev[K.EV_PGALLOC + i]!;
    out.pgfree = ev[K.EV_PGFREE]!;
    let hit = 0; let miss = 0; let foreign = 0; let local = 0; let other = 0;
    for (let z = 0; z < this.nrZones; z++) {
      hit += ev[m.zev(z, K.ZE_NUMA_HIT)]!;
      miss += ev[m.zev(z, K.ZE_NUMA_MISS)]!;
      foreign += ev[m.zev(z, K.ZE_NUMA_FOREIGN)]!;
      local += ev[m.zev(z, K.ZE_NUMA_LOCAL)]!;
      other += ev[m.zev(z, K.ZE_NUMA_OTHER)]!;
    }
    out.numa_hit = hit; out.numa_miss = miss; out.numa_foreign = foreign; out.numa_interleave = 0;
    out.numa_local = local; out.numa_other = other;
    return out;
  }

  /** Per-zone NUMA counters (zoneinfo prints them per zone). */
  zoneNumaStats(z: number): { numa_hit: number; numa_miss: number; numa_foreign: number; numa_interleave: number; numa_local: number; numa_other: number } {
    const m = this.mm;
    const ev = m.eventTotals();
    return {
      numa_hit: ev[m.zev(z, K.ZE_NUMA_HIT)]!, numa_miss: ev[m.zev(z, K.ZE_NUMA_MISS)]!,
      numa_foreign: ev[m.zev(z, K.ZE_NUMA_FOREIGN)]!, numa_interleave: 0,
      numa_local: ev[m.zev(z, K.ZE_NUMA_LOCAL)]!, numa_other: ev[m.zev(z, K.ZE_NUMA_OTHER)]!,
    };
  }

  /** Labyrinth counters: alloc_pages calls, failures, slow-path entries, fallbacks. */
  labyrinthCounters(): { allocCalls: number; allocFail: number; slowpath: number } {
    const ev = this.mm.eventTotals();
    return { allocCalls: ev[K.EV_ALLOC_CALLS]!, allocFail: ev[K.EV_ALLOC_FAIL]!, slowpath: ev[K.EV_ALLOC_SLOWPATH]! };
  }

  /** Descriptor of one page (cold). */
  page(pfn: number): { pfn: number; flags: number; flagNames: string; refcount: number; order: number; migratetype: number; owner: number; generation: number; zone: number } {
    const m = this.mm;
    const f = m.flags[pfn]!;
    const allocatedHead = m.refcount[pfn]! > 0 && (f & (K.PG_reserved | K.PG_tail)) === 0;
    return {
      pfn, flags: f, flagNames: formatPageFlags(f), refcount: m.refcount[pfn]!, order: m.order[pfn]! & K.ORDER_MASK,
      migratetype: m.order[pfn]! >>> K.MT_SHIFT, owner: allocatedHead ? m.next[pfn]! : 0,
      generation: allocatedHead ? m.prev[pfn]! : 0, zone: m.pageZone(pfn),
    };
  }

  /** Generation of an allocated head (0 when not allocated): a (pfn, generation) pair is a handle. */
  pageGeneration(pfn: number): number {
    const m = this.mm;
    return m.refcount[pfn]! > 0 && (m.flags[pfn]! & (K.PG_reserved | K.PG_tail)) === 0 ? m.prev[pfn]! : 0;
  }

  /** Owner id of an allocated head (0 = none). */
  pageOwner(pfn: number): number {
    const m = this.mm;
    return m.refcount[pfn]! > 0 && (m.flags[pfn]! & (K.PG_reserved | K.PG_tail)) === 0 ? m.next[pfn]! : 0;
  }

  /** Record an owner id on an allocated head (labyrinths, tasks). */
  setPageOwner(pfn: number, owner: number): void {
    const m = this.mm;
    if (m.refcount[pfn] === 0 || (m.flags[pfn]! & (K.PG_reserved | K.PG_tail | K.PG_buddy | K.PG_pcp)) !== 0) {
      this.badPage(pfn, 'setPageOwner on a page that is not an allocated head', -1);
    }
    m.next[pfn] = owner;
  }

  /** Total metadata bytes and bytes per spanned page. */
  metadataBytes(): { total: number; perPage: number } {
    const total = this.mm.buffer.byteLength;
    return { total, perPage: total / this.mm.nrPfn };
  }

  /** A copy of the whole state (one buffer copy). */
  snapshot(): ArrayBuffer {
    const b = this.mm.buffer;
    const out = new ArrayBuffer(b.byteLength);
    new Uint8Array(out).set(new Uint8Array(b));
    return out;
  }
}
