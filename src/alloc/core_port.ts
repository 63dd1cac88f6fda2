/**
 * The core allocator (src/alloc/page_alloc.ts, issue 3) seen through PageAllocatorPort, so kswapd, reclaim,
 * compaction and the sleeping slow path run on the real buddy allocator, its per-CPU lists, fallback stealing and
 * watermark boost.
 */
import { ALLOC_CMA } from '../gfp/alloc_flags.ts';
import { MAX_NR_ZONES, MAX_ORDER } from '../mm/constants.ts';
import { Z_BOOST, Z_FLAGS, ZONE_RECLAIM_ACTIVE } from '../mm/memmap.ts';
import { ORDER_MASK, PG_buddy, PG_exclusive, PG_lru, PG_reserved, PG_tail } from '../mm/page_flags.ts';
import { zoneWatermarkOk } from '../zone/watermark.ts';
import type { PageAllocator } from './page_alloc.ts';
import {
  PAGE_STATE_ALLOCATED, PAGE_STATE_FREE, PAGE_STATE_RESERVED, gfpMigratetypeOf, gfpZoneX86,
  type PageAllocatorPort, type PressureZone,
} from '../reclaim/port.ts';

/** The part of the core's PageAllocator this port uses (the real type, narrowed to what the port calls). */
export type CoreAllocatorLike = Pick<PageAllocator,
  'nrZones' | 'nrNodes' | 'mm' | 'hooks' | 'zone' | 'nrFree' | 'nrFreeMt' | 'nrFreePages' | 'freePcp' | 'zoneGauges'
  | 'watermarks' | 'get_page_from_freelist' | '__free_pages' | 'drain_all_pages' | 'unreserve_highatomic_pageblock'
  | 'split_page' | 'takeFreeBlock' | 'pageblockMigratetype'>;

class CoreZone implements PressureZone {
  readonly node: number;
  readonly zoneIdx: number;
  readonly startPfn: number;
  readonly endPfn: number;
  readonly managed: number;
  readonly present: number;
  readonly nrFreeCma = 0;
  wmarkMin: number;
  wmarkLow: number;
  wmarkHigh: number;
  private reserve: number[];
  private readonly boostIdx: number;

  constructor(private readonly pa: CoreAllocatorLike, readonly slot: number) {
    const info = pa.zone(slot);
    this.node = info.node;
    this.zoneIdx = info.type;
    this.startPfn = info.startPfn;
    this.endPfn = info.endPfn;
    this.managed = info.managed;
    this.present = info.present;
    const wm = pa.watermarks(slot);
    this.wmarkMin = wm.min; this.wmarkLow = wm.low; this.wmarkHigh = wm.high;
    this.reserve = wm.lowmemReserve;
    this.boostIdx = pa.mm.zf(slot, Z_BOOST);
  }
  /** Re-read watermarks after a sysctl changed them. */
  refresh(): void {
    const wm = this.pa.watermarks(this.slot);
    this.wmarkMin = wm.min; this.wmarkLow = wm.low; this.wmarkHigh = wm.high;
    this.reserve = wm.lowmemReserve;
  }
  get freePages(): number { return this.pa.nrFreePages(this.slot); }
  get freePcp(): number { return this.pa.freePcp(this.slot); }
  get watermarkBoost(): number { return this.pa.mm.ints[this.boostIdx]!; }
  set watermarkBoost(v: number) { this.pa.mm.ints[this.boostIdx] = v; }
  /** @kernel mm/vmscan.c update_reclaim_active: set_bit / clear_bit ZONE_RECLAIM_ACTIVE */
  setReclaimActive(on: boolean): void {
    const i = this.pa.mm.zf(this.slot, Z_FLAGS);
    if (on) this.pa.mm.ints[i] |= ZONE_RECLAIM_ACTIVE;
    else this.pa.mm.ints[i] &= ~ZONE_RECLAIM_ACTIVE;
  }
  get nrReservedHighatomic(): number { return this.pa.zoneGauges(this.slot).nrReservedHighatomic; }
  lowmemReserve(hz: number): number { return this.reserve[Math.min(hz, MAX_NR_ZONES - 1)] ?? 0; }
  nrFree(order: number): number { return this.pa.nrFree(this.slot, order); }
  freeListNonEmpty(order: number, mt: number): boolean { return this.pa.nrFreeMt(this.slot, order, mt) > 0; }
}

export class CorePort implements PageAllocatorPort {
  readonly zones: CoreZone[];
  readonly nrNodes: number;
  readonly pa: CoreAllocatorLike;
  private readonly zoneOfPfn: (pfn: number) => CoreZone | undefined;
  /** hz and migratetype of the request being served, for unreserve_highatomic_pageblock */
  private lastHz = MAX_NR_ZONES - 1;
  private lastMt = 0;

  constructor(pa: CoreAllocatorLike) {
    this.pa = pa;
    this.nrNodes = pa.nrNodes;
    this.zones = [];
    for (let z = 0; z < pa.nrZones; z++) if (pa.zone(z).managed > 0) this.zones.push(new CoreZone(pa, z));
    this.zones.sort((a, b) => a.node - b.node || a.zoneIdx - b.zoneIdx);
    const zs = this.zones;
    this.zoneOfPfn = (pfn) => zs.find((z) => pfn >= z.startPfn && pfn < z.endPfn);
  }

  gfpZone(gfp: number): number { return gfpZoneX86(gfp); }
  gfpMigratetype(gfp: number): number { return gfpMigratetypeOf(gfp); }

  getPageFromFreelist(gfp: number, order: number, allocFlags: number): number {
    this.lastHz = gfpZoneX86(gfp);
    this.lastMt = gfpMigratetypeOf(gfp);
    return this.pa.get_page_from_freelist(gfp, order, allocFlags, this.lastHz, this.lastMt, 0, 0);
  }
  freePages(pfn: number, order: number): void { this.pa.__free_pages(pfn, order, 0); }
  drainAllPages(): void { this.pa.drain_all_pages(); }
  unreserveHighatomic(force: boolean): boolean { return this.pa.unreserve_highatomic_pageblock(this.lastHz, this.lastMt, force); }
  pageblockMigratetype(pfn: number): number { return this.pa.pageblockMigratetype(pfn); }
  pageState(pfn: number): number {
    const f = this.pa.mm.flags[pfn];
    if (f === undefined || (f & PG_reserved)) return PAGE_STATE_RESERVED;
    return (f & PG_buddy) ? PAGE_STATE_FREE : PAGE_STATE_ALLOCATED;
  }
  freeOrder(pfn: number): number {
    const f = this.pa.mm.flags[pfn];
    if (f === undefined || !(f & PG_buddy)) return -1;
    return this.pa.mm.order[pfn]! & ORDER_MASK;
  }
  /** @kernel mm/page_alloc.c __isolate_free_page: keep the zone above min + the block, at order 0 */
  isolateFreePage(pfn: number, order: number): boolean {
    const z = this.zoneOfPfn(pfn);
    if (!z || this.freeOrder(pfn) !== order) return false;
    if (!zoneWatermarkOk(z, 0, z.wmarkMin + (1 << order), 0, ALLOC_CMA, z.freePages)) return false;
    return this.pa.takeFreeBlock(pfn, order);
  }
  splitPage(pfn: number, order: number): void { if (order > 0) this.pa.split_page(pfn, order); }
  /** @kernel mm/page_alloc.c __alloc_pages: trace_mm_page_alloc(page, order, gfp, migratetype) */
  tracePageAlloc(pfn: number, order: number, gfp: number): void {
    const t = this.pa.mm.tracer;
    if (t !== null) t.pageAlloc(pfn, order, gfp, gfpMigratetypeOf(gfp));
  }
  /** @kernel include/linux/page-flags.h SetPageLRU / ClearPageLRU (folio_add_lru, folio_isolate_lru) */
  setPageLru(pfn: number, on: boolean): void {
    const flags = this.pa.mm.flags;
    if (on) flags[pfn] |= PG_lru;
    else flags[pfn] &= ~PG_lru;
  }
  /** Labyrinth (issue 5): exclusive pages (and every tail of an exclusive compound block) never move. */
  pageIsUnmovable(pfn: number): boolean {
    const flags = this.pa.mm.flags;
    const f = flags[pfn]!;
    if ((f & PG_exclusive) !== 0) return true;
    // An exclusive block of order > 0 is always compound (ExclusivePages.allocate asks __GFP_COMP, and the core
    // refuses to split it), so a page that is neither exclusive nor a compound tail is in no exclusive block.
    if ((f & PG_tail) === 0) return false;
    // a compound tail (PG_tail 0x08) keeps its head pfn in `next`; the port sees flags only, so scan back
    // to the aligned head within MAX_ORDER
    for (let o = 1; o < MAX_ORDER; o++) {
      const head = pfn & ~((1 << o) - 1);
      if (head !== pfn && (flags[head]! & PG_exclusive) !== 0 && (this.pa.mm.order[head]! & ORDER_MASK) >= o) return true;
    }
    return false;
  }
}
