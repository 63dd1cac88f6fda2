/**
 * The one naive reference buddy allocator of the tests: free blocks as JS Sets per (zone, order, migratetype),
 * split and merge the textbook way, every pfn's state in a plain array. Three uses, one model:
 * - active, as a PageAllocatorPort (it chooses the pages): the oracle of the pressure layer (test/_pressure_rig.ts,
 *   src/reclaim/fidelity_512m.test.ts);
 * - active, behind SimAllocator: the simulator's stand-in for the core (test/_toy_allocator.ts, a thin adapter);
 * - passive, told what the core did (`allocAt`, `release`): the shadow whose free blocks the core's buddy lists plus
 *   per-CPU lists must hold (test/core_property.test.ts).
 * @kernel mm/page_alloc.c (the shape of get_page_from_freelist / __rmqueue_smallest / __free_one_page, simplified:
 * no per-CPU lists, fallback takes any migratetype without stealing the pageblock)
 */
import {
  ALLOC_NO_WATERMARKS, ALLOC_WMARK_MASK,
} from '../src/gfp/alloc_flags.ts';
import { __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_MOVABLE, __GFP_RECLAIMABLE } from '../src/gfp/bits.ts';
import {
  MAX_ORDER, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_TYPES, MIGRATE_UNMOVABLE, ZONE_DMA, ZONE_DMA32,
  ZONE_NORMAL, ZONE_MOVABLE, pageblock_order, MIGRATE_HIGHATOMIC,
} from '../src/mm/constants.ts';
import { zoneWatermarkOk } from '../src/zone/watermark.ts';
import {
  PAGE_STATE_ALLOCATED, PAGE_STATE_FREE, PAGE_STATE_RESERVED, type PageAllocatorPort, type PressureZone,
} from '../src/reclaim/port.ts';
import { LabyrinthError } from '../src/errors.ts';

export interface NaiveZoneSpec {
  zoneIdx: number;
  startPfn: number;
  spanned: number;
  /** pages handed to the buddy allocator, taken from the end of the span */
  managed: number;
  present?: number;
  wmark: [number, number, number];
  lowmemReserve: number[];
}

class NaiveZone implements PressureZone {
  readonly node = 0;
  readonly zoneIdx: number;
  readonly startPfn: number;
  readonly endPfn: number;
  readonly managed: number;
  readonly present: number;
  readonly wmarkMin: number;
  readonly wmarkLow: number;
  readonly wmarkHigh: number;
  watermarkBoost = 0;
  readonly freePcp = 0;
  nrReservedHighatomic = 0;
  readonly nrFreeCma = 0;
  freePages = 0;
  readonly reserve: number[];
  /** lists[order][mt] */
  readonly lists: Array<Array<Set<number>>>;

  constructor(s: NaiveZoneSpec) {
    this.zoneIdx = s.zoneIdx;
    this.startPfn = s.startPfn;
    this.endPfn = s.startPfn + s.spanned;
    this.managed = s.managed;
    this.present = s.present ?? s.spanned;
    [this.wmarkMin, this.wmarkLow, this.wmarkHigh] = s.wmark;
    this.reserve = s.lowmemReserve;
    this.lists = [];
    for (let o = 0; o < MAX_ORDER; o++) {
      const l: Array<Set<number>> = [];
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) l.push(new Set());
      this.lists.push(l);
    }
  }
  lowmemReserve(hz: number): number { return this.reserve[hz] ?? 0; }
  nrFree(order: number): number {
    let n = 0;
    for (const s of this.lists[order]!) n += s.size;
    return n;
  }
  freeListNonEmpty(order: number, mt: number): boolean { return this.lists[order]![mt]!.size > 0; }
}

export class NaiveBuddyError extends LabyrinthError {}

export class NaiveBuddy implements PageAllocatorPort {
  readonly zones: NaiveZone[];
  readonly nrNodes = 1;
  readonly nrPfns: number;
  /** per pfn: PAGE_STATE_* */
  readonly state: Uint8Array;
  /** per pfn: order of the free block it heads, or -1 */
  readonly freeOrderOf: Int8Array;
  /** per pfn: order of the allocated block it heads, or -1 */
  readonly allocOrderOf: Int8Array;
  /** per pageblock: migratetype */
  readonly pbMt: Uint8Array;
  private readonly zoneOf: Int8Array;

  constructor(specs: NaiveZoneSpec[]) {
    this.zones = specs.map((s) => new NaiveZone(s));
    this.nrPfns = Math.max(...this.zones.map((z) => z.endPfn));
    this.state = new Uint8Array(this.nrPfns);
    this.freeOrderOf = new Int8Array(this.nrPfns).fill(-1);
    this.allocOrderOf = new Int8Array(this.nrPfns).fill(-1);
    this.pbMt = new Uint8Array((this.nrPfns >> pageblock_order) + 1).fill(MIGRATE_MOVABLE);
    this.zoneOf = new Int8Array(this.nrPfns).fill(-1);
    this.zones.forEach((z, i) => {
      for (let pfn = z.startPfn; pfn < z.endPfn; pfn++) this.zoneOf[pfn] = i;
      // the first (spanned - managed) pages are reserved; the rest are freed one by one
      for (let pfn = z.endPfn - z.managed; pfn < z.endPfn; pfn++) {
        this.state[pfn] = PAGE_STATE_ALLOCATED;
        this.allocOrderOf[pfn] = 0;
        this.freePages(pfn, 0);
      }
    });
  }

  /** A 512M machine shaped like the linux-6.1-qemu/512M capture (DMA + DMA32, min_free_kbytes 2709). */
  static like512M(): NaiveBuddy {
    return new NaiveBuddy([
      { zoneIdx: ZONE_DMA, startPfn: 1, spanned: 4095, present: 3998, managed: 3840, wmark: [22, 27, 32], lowmemReserve: [0, 442, 442, 442, 442] },
      { zoneIdx: ZONE_DMA32, startPfn: 4096, spanned: 126941, managed: 113261, wmark: [654, 817, 980], lowmemReserve: [0, 0, 0, 0, 0] },
    ]);
  }

  gfpZone(gfp: number): number {
    if (gfp & __GFP_DMA) return ZONE_DMA;
    if (gfp & __GFP_DMA32) return ZONE_DMA32;
    // GFP_ZONE_TABLE on x86_64: HIGHMEM|MOVABLE → ZONE_MOVABLE, anything else → ZONE_NORMAL
    if ((gfp & (__GFP_HIGHMEM | __GFP_MOVABLE)) === (__GFP_HIGHMEM | __GFP_MOVABLE)) return ZONE_MOVABLE;
    return ZONE_NORMAL;
  }
  gfpMigratetype(gfp: number): number {
    if (gfp & __GFP_MOVABLE) return MIGRATE_MOVABLE;
    if (gfp & __GFP_RECLAIMABLE) return MIGRATE_RECLAIMABLE;
    return MIGRATE_UNMOVABLE;
  }
  pageblockMigratetype(pfn: number): number { return this.pbMt[pfn >> pageblock_order]!; }
  pageState(pfn: number): number { return pfn >= 0 && pfn < this.nrPfns ? this.state[pfn]! : PAGE_STATE_RESERVED; }
  freeOrder(pfn: number): number { return this.freeOrderOf[pfn]!; }
  drainAllPages(): void { /* no per-CPU lists */ }
  unreserveHighatomic(_force: boolean): boolean { return false; }

  /** The pages of zone i on its free lists, per order (what /proc/buddyinfo prints). */
  buddyinfo(i: number): number[] {
    const z = this.zones[i]!;
    const out: number[] = [];
    for (let o = 0; o < MAX_ORDER; o++) out.push(z.nrFree(o));
    return out;
  }

  getPageFromFreelist(gfp: number, order: number, allocFlags: number): number {
    const hz = this.gfpZone(gfp);
    const mt = this.gfpMigratetype(gfp);
    for (let i = this.zones.length - 1; i >= 0; i--) {
      const z = this.zones[i]!;
      if (z.zoneIdx > hz) continue;
      if ((allocFlags & ALLOC_NO_WATERMARKS) === 0) {
        const wm = allocFlags & ALLOC_WMARK_MASK;
        const mark = (wm === 0 ? z.wmarkMin : wm === 1 ? z.wmarkLow : z.wmarkHigh) + z.watermarkBoost;
        if (!zoneWatermarkOk(z, order, mark, hz, allocFlags, z.freePages)) continue;
      }
      const pfn = this.rmqueueSmallest(i, order, mt);
      if (pfn >= 0) return pfn;
    }
    return -1;
  }

  /** The first block of the smallest order that fits, migratetype mt first, then any (no watermark check). */
  rmqueueSmallest(zoneIndex: number, order: number, mt: number): number {
    const z = this.zones[zoneIndex]!;
    for (const tryMt of [mt, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, MIGRATE_HIGHATOMIC]) {
      for (let o = order; o < MAX_ORDER; o++) {
        const list = z.lists[o]![tryMt]!;
        if (list.size === 0) continue;
        const pfn = list.values().next().value as number;
        this.unlinkFree(z, pfn, o);
        // split: hand back the upper halves
        for (let s = o; s > order; s--) this.linkFree(z, pfn + (1 << (s - 1)), s - 1);
        this.markAllocated(pfn, order);
        if (tryMt !== mt && o >= pageblock_order - 1) this.pbMt[pfn >> pageblock_order] = mt;
        return pfn;
      }
    }
    return -1;
  }

  private markAllocated(pfn: number, order: number): void {
    for (let i = 0; i < 1 << order; i++) this.state[pfn + i] = PAGE_STATE_ALLOCATED;
    this.allocOrderOf[pfn] = order;
  }

  private linkFree(z: NaiveZone, pfn: number, order: number): void {
    z.lists[order]![this.pageblockMigratetype(pfn)]!.add(pfn);
    this.freeOrderOf[pfn] = order;
    for (let i = 0; i < 1 << order; i++) this.state[pfn + i] = PAGE_STATE_FREE;
    z.freePages += 1 << order;
  }

  private unlinkFree(z: NaiveZone, pfn: number, order: number): void {
    for (const s of z.lists[order]!) if (s.delete(pfn)) break;
    this.freeOrderOf[pfn] = -1;
    z.freePages -= 1 << order;
  }

  freePages(pfn: number, order: number): void {
    if (pfn < 0 || pfn >= this.nrPfns || this.allocOrderOf[pfn] !== order || this.state[pfn] !== PAGE_STATE_ALLOCATED) {
      throw new NaiveBuddyError('EBADPAGE', `Cannot free pfn ${pfn} order ${order}: because it is not an allocated block of that order`);
    }
    this.release(pfn, order);
  }

  /**
   * Passive: the block [pfn, pfn + 2^order) was handed out by the allocator under test. Takes it out of the free
   * block holding it, whose other parts stay free; throws unless the whole block was free.
   */
  allocAt(pfn: number, order: number): void {
    if (pfn < 0 || pfn >= this.nrPfns || this.zoneOf[pfn]! < 0 || pfn % (1 << order) !== 0) throw new NaiveBuddyError('EBADPAGE', `Cannot take block ${pfn}/${order}: because it is not an aligned block of the machine`);
    const z = this.zones[this.zoneOf[pfn]!]!;
    for (let o = order; o < MAX_ORDER; o++) {
      const head = pfn & ~((1 << o) - 1);
      if (this.freeOrderOf[head] !== o) continue;
      this.unlinkFree(z, head, o);
      // the half of each split that does not hold pfn stays free
      for (let s = o - 1; s >= order; s--) this.linkFree(z, (pfn & ~((1 << s) - 1)) ^ (1 << s), s);
      this.markAllocated(pfn, order);
      return;
    }
    throw new NaiveBuddyError('EBADPAGE', `Cannot take block ${pfn}/${order}: because it is not free`);
  }

  /**
   * Return [pfn, pfn + 2^order) to the free lists and merge it with free buddies in its zone. Unlike freePages it
   * does not ask that the block was handed out at that order (a passive shadow learns of splits only by the frees),
   * only that none of its pages is free already.
   */
  release(pfn: number, order: number): void {
    for (let i = 0; i < 1 << order; i++) {
      if (this.state[pfn + i] === PAGE_STATE_FREE) throw new NaiveBuddyError('EBADPAGE', `Cannot free pfn ${pfn} order ${order}: because page ${pfn + i} is free already`);
    }
    const z = this.zones[this.zoneOf[pfn]!]!;
    this.allocOrderOf[pfn] = -1;
    let head = pfn;
    let o = order;
    while (o < MAX_ORDER - 1) {
      const buddy = head ^ (1 << o);
      if (buddy < z.startPfn || buddy >= z.endPfn || this.freeOrderOf[buddy] !== o) break;
      this.unlinkFree(z, buddy, o);
      head = Math.min(head, buddy);
      o++;
    }
    this.linkFree(z, head, o);
  }

  isolateFreePage(pfn: number, order: number): boolean {
    if (this.freeOrderOf[pfn] !== order) return false;
    const z = this.zones[this.zoneOf[pfn]!]!;
    // __isolate_free_page: keep the zone above min (order-0 check, like the kernel's)
    if (z.freePages - (1 << order) <= z.wmarkMin) return false;
    this.unlinkFree(z, pfn, order);
    this.markAllocated(pfn, order);
    return true;
  }

  /** Split an allocated block into order-0 pages (split_page). */
  splitPage(pfn: number, order: number): void {
    if (this.allocOrderOf[pfn] !== order) throw new NaiveBuddyError('EBADPAGE', `Cannot split pfn ${pfn}: because it is not an allocated block of order ${order}`);
    for (let i = 0; i < 1 << order; i++) this.allocOrderOf[pfn + i] = 0;
  }

  /** Invariants: every pfn in one state; free heads aligned, listed, and not mergeable; counters match. */
  verify(): void {
    for (const z of this.zones) {
      let free = 0;
      for (let o = 0; o < MAX_ORDER; o++) {
        for (const s of z.lists[o]!) {
          for (const pfn of s) {
            if (this.freeOrderOf[pfn] !== o) throw new NaiveBuddyError('EVERIFY', `free head ${pfn} has order ${this.freeOrderOf[pfn]} on the order-${o} list`);
            if ((pfn & ((1 << o) - 1)) !== 0 && o > 0) throw new NaiveBuddyError('EVERIFY', `free block ${pfn} misaligned for order ${o}`);
            const buddy = pfn ^ (1 << o);
            if (o < MAX_ORDER - 1 && buddy >= z.startPfn && buddy < z.endPfn && this.freeOrderOf[buddy] === o) {
              throw new NaiveBuddyError('EVERIFY', `mergeable buddies ${pfn}/${buddy} at order ${o}`);
            }
            for (let i = 0; i < 1 << o; i++) if (this.state[pfn + i] !== PAGE_STATE_FREE) throw new NaiveBuddyError('EVERIFY', `page ${pfn + i} of a free block is not free`);
            free += 1 << o;
          }
        }
      }
      if (free !== z.freePages) throw new NaiveBuddyError('EVERIFY', `zone ${z.zoneIdx}: free ${z.freePages} but lists hold ${free}`);
    }
  }

  /** Total free pages over all zones. */
  get totalFree(): number {
    let n = 0;
    for (const z of this.zones) n += z.freePages;
    return n;
  }
}
