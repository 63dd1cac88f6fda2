/**
 * The memory map: every page descriptor, list head, counter, pageblock migratetype and per-CPU
 * list of a machine, as typed arrays over ONE ArrayBuffer or SharedArrayBuffer.
 * @kernel include/linux/mm_types.h struct page, include/linux/mmzone.h struct zone / free_area / per_cpu_pages
 *
 * A snapshot is one `buffer.slice()`; a worker attaches by receiving the buffer (`MemMap.attach`).
 * There is no JS object per page: a page is its pfn.
 *
 * Buffer layout (byte offsets computed by `computeLayout`; docs/design.md has the map):
 *
 *   [Int32 header | Int32 zone blocks | Int32 pcp blocks] [Float64 events] [Int32 next] [Int32 prev]
 *   [Uint16 refcount] [Uint8 flags] [Uint8 order] [Uint8 pageblock migratetype]
 *
 * Per page: next 4 B + prev 4 B + refcount 2 B + flags 1 B + order 1 B = 12 bytes (+ 2/512 B for the
 * pageblock bytes). `next`/`prev` are list links while the page heads a free block or sits on a pcp
 * list; an allocated head reuses them: `next` = owner id, `prev` = generation (allocation sequence
 * number). A compound tail stores its head pfn in `next`.
 *
 * List heads are sentinel slots appended after the last pfn in `next`/`prev` (index
 * nrPfn + listId), so every list is circular and add/del are branch-free, like the kernel's list_head.
 */
import * as _MC from './constants.ts';
// Constants as module-local bindings: V8 folds these; an imported binding is a load at every use.
const { MAX_ORDER, MIGRATE_TYPES, MAX_NR_ZONES, pageblock_order } = _MC;

// ---------------------------------------------------------------------------------------------
// Header (Int32 slots)
export const H_MAGIC = 0;
export const H_LAYOUT_VERSION = 1;
export const H_NR_PFN = 2;
export const H_NR_ZONES = 3;
export const H_NR_CPUS = 4;
export const H_NR_NODES = 5;
/** Allocation sequence number: the generation stamped on each allocated head. Never 0. */
export const H_SEQ = 6;
/** Why the last alloc_pages failed (FAIL_* in src/alloc/page_alloc.ts), its order, gfp, zone. */
export const H_FAIL_REASON = 7;
export const H_FAIL_ORDER = 8;
export const H_FAIL_GFP = 9;
export const H_FAIL_ZONE = 10;
/** page_group_by_mobility_disabled (too little memory for grouping by mobility). */
export const H_MOBILITY_DISABLED = 11;
/** 1 when the pageblock-order pcp list exists (CONFIG_TRANSPARENT_HUGEPAGE=y). */
export const H_PCP_THP = 12;
/** vm.watermark_boost_factor */
export const H_WATERMARK_BOOST_FACTOR = 13;
/** Zone lock word for workers (issue 6). 0 = free. */
export const H_LOCK = 14;
export const HEADER_INTS = 32;

export const MEMMAP_MAGIC = 0x4c42594e; // "LBYN"
/** 3: per-CPU Int32 event counters after the pcp blocks. */
export const LAYOUT_VERSION = 3;
/** pbZone value of a pageblock that is not wholly inside one zone. */
export const PB_ZONE_SLOW = 255;

// ---------------------------------------------------------------------------------------------
// Zone block (Int32 slots, one block per populated-or-listed zone)
export const Z_START_PFN = 0;
export const Z_END_PFN = 1;
export const Z_SPANNED = 2;
export const Z_PRESENT = 3;
export const Z_MANAGED = 4;
/** ZONE_DMA / ZONE_DMA32 / ZONE_NORMAL / ZONE_MOVABLE */
export const Z_TYPE = 5;
export const Z_NODE = 6;
/** _watermark[WMARK_MIN..WMARK_PROMO] */
export const Z_WMARK = 7;
export const Z_BOOST = 11;
/** lowmem_reserve[0..MAX_NR_ZONES-1] */
export const Z_LOWMEM = 12;
export const Z_NR_RESERVED_HIGHATOMIC = Z_LOWMEM + MAX_NR_ZONES;
/** NR_FREE_PAGES: pages on the buddy lists (not the pcp lists), isolate excluded. */
export const Z_NR_FREE_PAGES = Z_NR_RESERVED_HIGHATOMIC + 1;
/** zone->flags: ZONE_BOOSTED_WATERMARK, ZONE_RECLAIM_ACTIVE */
export const Z_FLAGS = Z_NR_FREE_PAGES + 1;
export const Z_PCP_BATCH = Z_FLAGS + 1;
export const Z_PCP_HIGH = Z_PCP_BATCH + 1;
/** free_area[order].nr_free */
export const Z_NR_FREE = Z_PCP_HIGH + 1;
/** Labyrinth: nr_free per (order, migratetype), index order * MIGRATE_TYPES + mt */
export const Z_NR_FREE_MT = Z_NR_FREE + MAX_ORDER;
export const Z_STRIDE = Z_NR_FREE_MT + MAX_ORDER * MIGRATE_TYPES;

export const ZONE_BOOSTED_WATERMARK = 0x1;
export const ZONE_RECLAIM_ACTIVE = 0x2;

// ---------------------------------------------------------------------------------------------
// Per-CPU pageset block (Int32 slots, one block per (zone, cpu))
export const P_COUNT = 0;
export const P_HIGH = 1;
export const P_BATCH = 2;
export const P_FREE_FACTOR = 3;
export const P_STRIDE = 4;

/** 6.1: NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1) = 12, + 1 THP list. */
export const NR_LOWORDER_PCP_LISTS = 12;
export const NR_PCP_LISTS = 13;
/** Free lists per zone: MAX_ORDER orders × MIGRATE_TYPES. */
export const NR_FREE_LISTS = MAX_ORDER * MIGRATE_TYPES;

// ---------------------------------------------------------------------------------------------
// Per-CPU event counters (Int32 slots after the pcp blocks, one block per CPU), as the kernel keeps
// vm_event_states per CPU and sums them on read (all_vm_events). The fast paths count here with one
// Int32 increment; every reader adds them to the Float64 totals below (MemMap.eventTotals), and a
// counter is folded into the totals before it can overflow (CPU_EV_FOLD_AT).
//   [z * MAX_ORDER + order]           fast-path allocations of 2^order pages in zone z: each is one
//                                      alloc_pages call, 2^order pgalloc_<zone type>, one numa_hit and
//                                      one numa_local of z (the fast paths run on single-node machines only)
//   [nrZones * MAX_ORDER + order]     fast-path frees of 2^order pages (pgfree)
/** Int32 slots per CPU: the allocation counters of every zone, then the free counters. */
export function cpuEvStride(nrZones: number): number {
  return (nrZones + 1) * MAX_ORDER;
}
/** A per-CPU counter is folded into the Float64 totals when it reaches this (far below 2^31). */
export const CPU_EV_FOLD_AT = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Events (Float64 slots): the vm event counters this layer moves, then per-zone NUMA counters.
export const EV_PGALLOC = 0; // + zone type (pgalloc_dma, _dma32, _normal, _movable, _device)
export const EV_PGFREE = EV_PGALLOC + MAX_NR_ZONES;
/** Labyrinth: alloc_pages calls, failures, slow-path entries. */
export const EV_ALLOC_CALLS = EV_PGFREE + 1;
export const EV_ALLOC_FAIL = EV_ALLOC_CALLS + 1;
export const EV_ALLOC_SLOWPATH = EV_ALLOC_FAIL + 1;
/** Labyrinth: mm_page_alloc_extfrag events (fallbacks) and pageblocks whose ownership changed. */
export const EV_EXTFRAG = EV_ALLOC_SLOWPATH + 1;
export const EV_EXTFRAG_STEAL = EV_EXTFRAG + 1;
/** Not an event: the address of pfn 0 (page_address = base + pfn * PAGE_SIZE), a double. */
export const F_ADDRESS_BASE = 15;
export const NR_GLOBAL_EVENTS = 16;
/** Per zone: numa_hit, numa_miss, numa_foreign, numa_interleave, numa_local, numa_other. */
export const ZE_NUMA_HIT = 0;
export const ZE_NUMA_MISS = 1;
export const ZE_NUMA_FOREIGN = 2;
export const ZE_NUMA_INTERLEAVE = 3;
export const ZE_NUMA_LOCAL = 4;
export const ZE_NUMA_OTHER = 5;
export const ZE_STRIDE = 6;

/** Byte offsets of each region for a machine of the given shape. */
export interface MemMapLayout {
  nrPfn: number;
  nrZones: number;
  nrCpus: number;
  nrSentinels: number;
  nrPageblocks: number;
  intsOff: number;
  intsLen: number;
  evOff: number;
  evLen: number;
  nextOff: number;
  prevOff: number;
  refOff: number;
  flagsOff: number;
  orderOff: number;
  pbOff: number;
  pbZoneOff: number;
  totalBytes: number;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

export function computeLayout(nrPfn: number, nrZones: number, nrCpus: number): MemMapLayout {
  const nrSentinels = nrZones * NR_FREE_LISTS + nrZones * nrCpus * NR_PCP_LISTS;
  const nrPageblocks = Math.ceil(nrPfn / (1 << pageblock_order));
  const intsLen = HEADER_INTS + nrZones * Z_STRIDE + nrZones * nrCpus * P_STRIDE + nrCpus * cpuEvStride(nrZones);
  const intsOff = 0;
  const evOff = align8(intsOff + intsLen * 4);
  const evLen = NR_GLOBAL_EVENTS + nrZones * ZE_STRIDE;
  const nextOff = align8(evOff + evLen * 8);
  const nLinks = nrPfn + nrSentinels;
  const prevOff = nextOff + nLinks * 4;
  const refOff = prevOff + nLinks * 4;
  const flagsOff = refOff + nrPfn * 2;
  const orderOff = flagsOff + nrPfn;
  const pbOff = orderOff + nrPfn;
  const pbZoneOff = pbOff + nrPageblocks;
  const totalBytes = align8(pbZoneOff + nrPageblocks);
  return {
    nrPfn, nrZones, nrCpus, nrSentinels, nrPageblocks, intsOff, intsLen, evOff, evLen,
    nextOff, prevOff, refOff, flagsOff, orderOff, pbOff, pbZoneOff, totalBytes,
  };
}

/**
 * The tracepoints the buddy layer fires (implemented by src/trace/kmem_out.ts). `MemMap.tracer` is
 * null while tracing is off, so each site costs one null check.
 */
export interface KmemTracepoints {
  pageAlloc(pfn: number, order: number, gfp: number, migratetype: number): void;
  pageFree(pfn: number, order: number): void;
  pageFreeBatched(pfn: number): void;
  pageAllocZoneLocked(pfn: number, order: number, migratetype: number, percpuRefill: boolean): void;
  pagePcpuDrain(pfn: number, order: number, migratetype: number): void;
  pageAllocExtfrag(pfn: number, allocOrder: number, fallbackOrder: number, allocMigratetype: number,
    fallbackMigratetype: number, changeOwnership: boolean): void;
}

/**
 * The zone lock of one attachment (src/memory/zone_lock.ts: Atomics over a shared word). `MemMap.zoneLock`
 * is null while one thread owns the allocator, so each buddy-list section costs one null check; the
 * per-CPU fast path never takes it.
 */
export interface ZoneLockHook {
  lock(z: number): void;
  unlock(z: number): void;
}

/**
 * Typed-array views of one allocator buffer. Hot code reads the fields directly
 * (`mm.flags[pfn]`); layout offsets are the constants above.
 */
export class MemMap {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly layout: MemMapLayout;
  readonly nrPfn: number;
  readonly nrZones: number;
  readonly nrCpus: number;
  /** Index of the first buddy free-list sentinel in next/prev. */
  readonly freeSentBase: number;
  /** Index of the first pcp-list sentinel in next/prev. */
  readonly pcpSentBase: number;
  /** Int32 offset of zone 0's block inside `ints`. */
  readonly zoneBase: number;
  /** Int32 offset of pcp (zone 0, cpu 0)'s block inside `ints`. */
  readonly pcpBase: number;
  /** Int32 offset of CPU 0's event counters inside `ints`; CPU c's are at cpuEvBase + c * cpuEvStride. */
  readonly cpuEvBase: number;
  readonly cpuEvStride: number;
  /** Offset of the free counters inside a CPU's block (after the allocation counters). */
  readonly cpuEvFreeOff: number;
  /** Header, zone blocks and pcp blocks. */
  readonly ints: Int32Array;
  /**
   * Event counters. Normally the buffer's; a worker attachment (src/memory) points it at private
   * per-thread counters and folds them into the buffer's, as the kernel keeps vm events per CPU.
   */
  ev: Float64Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly refcount: Uint16Array;
  readonly flags: Uint8Array;
  readonly order: Uint8Array;
  /** Migratetype of each pageblock (pfn >> pageblock_order). */
  readonly pbmt: Uint8Array;
  /**
   * Zone slot of each pageblock that lies wholly inside one zone; PB_ZONE_SLOW when it straddles a
   * zone edge or a hole (pageZone then compares spans).
   */
  readonly pbZone: Uint8Array;
  /** Not in the buffer: this attachment's tracepoint sink, or null (tracing off). */
  tracer: KmemTracepoints | null;
  /** Not in the buffer: this attachment's zone lock (workers), or null (single thread). */
  zoneLock: ZoneLockHook | null;
  /**
   * Not in the buffer: where this attachment draws allocation generations — `seqWords[seqIdx]`,
   * advanced by `seqStep`. Default: the header's H_SEQ, step 1. Threads sharing a buffer
   * (src/memory) each draw from their own word with a common power-of-two step and a distinct
   * residue, so generations stay unique without a cache line written by every thread.
   */
  seqWords: Int32Array;
  seqIdx: number;
  seqStep: number;

  private constructor(buffer: ArrayBuffer | SharedArrayBuffer, layout: MemMapLayout) {
    this.buffer = buffer;
    this.layout = layout;
    this.nrPfn = layout.nrPfn;
    this.nrZones = layout.nrZones;
    this.nrCpus = layout.nrCpus;
    this.freeSentBase = layout.nrPfn;
    this.pcpSentBase = layout.nrPfn + layout.nrZones * NR_FREE_LISTS;
    this.zoneBase = HEADER_INTS;
    this.pcpBase = HEADER_INTS + layout.nrZones * Z_STRIDE;
    this.cpuEvBase = this.pcpBase + layout.nrZones * layout.nrCpus * P_STRIDE;
    this.cpuEvStride = cpuEvStride(layout.nrZones);
    this.cpuEvFreeOff = layout.nrZones * MAX_ORDER;
    this.ints = new Int32Array(buffer, layout.intsOff, layout.intsLen);
    this.ev = new Float64Array(buffer, layout.evOff, layout.evLen);
    const nLinks = layout.nrPfn + layout.nrSentinels;
    this.next = new Int32Array(buffer, layout.nextOff, nLinks);
    this.prev = new Int32Array(buffer, layout.prevOff, nLinks);
    this.refcount = new Uint16Array(buffer, layout.refOff, layout.nrPfn);
    this.flags = new Uint8Array(buffer, layout.flagsOff, layout.nrPfn);
    this.order = new Uint8Array(buffer, layout.orderOff, layout.nrPfn);
    this.pbmt = new Uint8Array(buffer, layout.pbOff, layout.nrPageblocks);
    this.pbZone = new Uint8Array(buffer, layout.pbZoneOff, layout.nrPageblocks);
    this.tracer = null;
    this.zoneLock = null;
    this.seqWords = this.ints;
    this.seqIdx = H_SEQ;
    this.seqStep = 1;
  }

  /** A fresh, zeroed memory map (sentinels initialised to empty lists). */
  static create(nrPfn: number, nrZones: number, nrCpus: number, shared: boolean): MemMap {
    const layout = computeLayout(nrPfn, nrZones, nrCpus);
    const buffer = shared ? new SharedArrayBuffer(layout.totalBytes) : new ArrayBuffer(layout.totalBytes);
    const m = new MemMap(buffer, layout);
    const h = m.ints;
    h[H_MAGIC] = MEMMAP_MAGIC;
    h[H_LAYOUT_VERSION] = LAYOUT_VERSION;
    h[H_NR_PFN] = nrPfn;
    h[H_NR_ZONES] = nrZones;
    h[H_NR_CPUS] = nrCpus;
    h[H_SEQ] = 0;
    const end = nrPfn + layout.nrSentinels;
    for (let s = nrPfn; s < end; s++) {
      m.next[s] = s;
      m.prev[s] = s;
    }
    return m;
  }

  /** Views over an existing buffer (a worker attaching, or a snapshot being inspected). */
  static attach(buffer: ArrayBuffer | SharedArrayBuffer): MemMap {
    const head = new Int32Array(buffer, 0, HEADER_INTS);
    if (head[H_MAGIC] !== MEMMAP_MAGIC || head[H_LAYOUT_VERSION] !== LAYOUT_VERSION) {
      throw new TypeError('Cannot attach to buffer: because it does not hold a Labyrinth memory map of this layout version');
    }
    const layout = computeLayout(head[H_NR_PFN]!, head[H_NR_ZONES]!, head[H_NR_CPUS]!);
    if (layout.totalBytes > buffer.byteLength) {
      throw new TypeError('Cannot attach to buffer: because it is shorter than its header says');
    }
    return new MemMap(buffer, layout);
  }

  /** Int32 index of a zone field. */
  zf(z: number, field: number): number {
    return this.zoneBase + z * Z_STRIDE + field;
  }
  /** Int32 index of a pcp field. */
  pf(z: number, cpu: number, field: number): number {
    return this.pcpBase + (z * this.nrCpus + cpu) * P_STRIDE + field;
  }
  /** Sentinel of the buddy free list (zone, order, migratetype). */
  freeList(z: number, order: number, mt: number): number {
    return this.freeSentBase + z * NR_FREE_LISTS + order * MIGRATE_TYPES + mt;
  }
  /** Sentinel of the pcp list (zone, cpu, pindex). */
  pcpList(z: number, cpu: number, pindex: number): number {
    return this.pcpSentBase + (z * this.nrCpus + cpu) * NR_PCP_LISTS + pindex;
  }
  /** Fill pbZone from the zone spans (after the zone blocks are written). */
  buildZoneIndex(): void {
    const ints = this.ints;
    const pbSize = 1 << pageblock_order;
    this.pbZone.fill(PB_ZONE_SLOW);
    for (let z = 0; z < this.nrZones; z++) {
      const zb = this.zoneBase + z * Z_STRIDE;
      const start = ints[zb + Z_START_PFN]!;
      const end = Math.min(ints[zb + Z_END_PFN]!, this.nrPfn);
      for (let pb = Math.ceil(start / pbSize); (pb + 1) * pbSize <= end; pb++) this.pbZone[pb] = z;
    }
  }

  /** The zone slot whose span holds pfn, or -1 (a hole between zones, or out of range). */
  pageZone(pfn: number): number {
    const fast = this.pbZone[pfn >>> pageblock_order];
    if (fast !== undefined && fast !== PB_ZONE_SLOW) return fast;
    return this.pageZoneSlow(pfn);
  }

  private pageZoneSlow(pfn: number): number {
    const ints = this.ints;
    let zb = this.zoneBase;
    for (let z = 0; z < this.nrZones; z++, zb += Z_STRIDE) {
      if (pfn >= ints[zb + Z_START_PFN]! && pfn < ints[zb + Z_END_PFN]!) return z;
    }
    return -1;
  }
  /** Float64 index of a per-zone event. */
  zev(z: number, field: number): number {
    return NR_GLOBAL_EVENTS + z * ZE_STRIDE + field;
  }

  /**
   * Move CPU `cpu`'s counters into the Float64 totals of this attachment (`ev`) and zero them: done
   * before a counter overflows, by the thread that owns the CPU. Readers see the same sums before and after.
   * @kernel mm/vmstat.c vm_events_fold_cpu
   */
  foldCpuEvents(cpu: number): void {
    this.addCpuEvents(cpu, this.ev, true);
  }

  /** Add CPU `cpu`'s Int32 counters into `out` (the layout of `ev`), zeroing them when `fold`. */
  private addCpuEvents(cpu: number, out: Float64Array, fold: boolean): void {
    const ints = this.ints;
    const cb = this.cpuEvBase + cpu * this.cpuEvStride;
    for (let z = 0; z < this.nrZones; z++) {
      const type = ints[this.zoneBase + z * Z_STRIDE + Z_TYPE]!;
      for (let o = 0; o < MAX_ORDER; o++) {
        const v = ints[cb + z * MAX_ORDER + o]!;
        if (v === 0) continue;
        if (fold) ints[cb + z * MAX_ORDER + o] = 0;
        out[EV_ALLOC_CALLS] = out[EV_ALLOC_CALLS]! + v;
        out[EV_PGALLOC + type] = out[EV_PGALLOC + type]! + v * 2 ** o;
        out[this.zev(z, ZE_NUMA_HIT)] = out[this.zev(z, ZE_NUMA_HIT)]! + v;
        out[this.zev(z, ZE_NUMA_LOCAL)] = out[this.zev(z, ZE_NUMA_LOCAL)]! + v;
      }
    }
    for (let o = 0; o < MAX_ORDER; o++) {
      const v = ints[cb + this.cpuEvFreeOff + o]!;
      if (v === 0) continue;
      if (fold) ints[cb + this.cpuEvFreeOff + o] = 0;
      out[EV_PGFREE] = out[EV_PGFREE]! + v * 2 ** o;
    }
  }

  /**
   * The event counters as readers must see them: this attachment's Float64 totals plus every CPU's
   * Int32 counters (all_vm_events). Same layout as `ev`. Cold: allocates.
   * @kernel mm/vmstat.c all_vm_events, sum_vm_events
   */
  eventTotals(): Float64Array {
    const out = new Float64Array(this.ev);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.addCpuEvents(cpu, out, false);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Intrusive circular doubly linked lists through next/prev (the kernel's list_head).

export function listAdd(m: MemMap, head: number, node: number): void {
  const next = m.next;
  const prev = m.prev;
  const first = next[head]!;
  next[node] = first;
  prev[node] = head;
  prev[first] = node;
  next[head] = node;
}

export function listAddTail(m: MemMap, head: number, node: number): void {
  const next = m.next;
  const prev = m.prev;
  const last = prev[head]!;
  next[node] = head;
  prev[node] = last;
  next[last] = node;
  prev[head] = node;
}

export function listDel(m: MemMap, node: number): void {
  const next = m.next;
  const prev = m.prev;
  const n = next[node]!;
  const p = prev[node]!;
  next[p] = n;
  prev[n] = p;
}

/** list_move_tail */
export function listMoveTail(m: MemMap, node: number, head: number): void {
  listDel(m, node);
  listAddTail(m, head, node);
}

export function listEmpty(m: MemMap, head: number): boolean {
  return m.next[head] === head;
}
