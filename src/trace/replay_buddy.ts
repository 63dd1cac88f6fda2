/**
 * The replay's buddy model: the core allocator (src/alloc/page_alloc.ts) built like the traced machine, driven
 * through its trace-replay primitives. Every split and merge a replay makes is the core's expand and
 * __free_one_page; this file only finds the free block holding a pfn (the kernel's PageBuddy + buddy_order walk)
 * and unlinks whole blocks for compaction's silent isolations.
 * @kernel mm/page_alloc.c __isolate_free_page, mm/compaction.c split_map_pages (unlink a free block, split it to order-0 pages)
 */
import { PageAllocator } from '../alloc/page_alloc.ts';
import { delPageFromFreeList } from '../buddy/free_area.ts';
import { MAX_ORDER, ZONE_NAMES } from '../mm/constants.ts';
import { Z_NR_FREE_PAGES } from '../mm/memmap.ts';
import { ORDER_MASK, PG_buddy } from '../mm/page_flags.ts';
import { computeZoneSetup } from '../zone/setup.ts';
import type { MachineSpec } from '../zone/types.ts';
import type { FreeRun } from './kpageflags.ts';
import type { ReplayBuddy } from './replay.ts';

export class CoreReplayBuddy implements ReplayBuddy {
  readonly zones: Array<{ zoneIdx: number; name: string; startPfn: number; endPfn: number }>;
  /** zone slot of the core per entry of `zones` */
  private readonly slots: number[];
  readonly alloc: PageAllocator;
  private readonly flags: Uint8Array;
  private readonly order: Uint8Array;
  private readonly nrPfn: number;

  constructor(spec: MachineSpec, runs: readonly FreeRun[], pcpThp = true) {
    const setup = computeZoneSetup(spec);
    this.alloc = PageAllocator.create({ spec, watermarks: setup.zones, pcpThp });
    this.alloc.initFreeRuns(runs.map((r) => [r.startPfn, r.startPfn + r.nrPages] as const));
    const m = this.alloc.mm;
    this.flags = m.flags;
    this.order = m.order;
    this.nrPfn = m.nrPfn;
    this.zones = [];
    this.slots = [];
    for (let z = 0; z < this.alloc.nrZones; z++) {
      const info = this.alloc.zone(z);
      if (info.spanned === 0) continue;
      this.zones.push({ zoneIdx: info.type, name: ZONE_NAMES[info.type]!, startPfn: info.startPfn, endPfn: info.endPfn });
      this.slots.push(z);
    }
    this.zones.sort((a, b) => a.startPfn - b.startPfn);
    this.slots.sort((a, b) => this.alloc.zone(a).startPfn - this.alloc.zone(b).startPfn);
  }

  zoneOf(pfn: number): number {
    const zs = this.zones;
    for (let s = 0; s < zs.length; s++) if (pfn >= zs[s]!.startPfn && pfn < zs[s]!.endPfn) return s;
    return -1;
  }

  freeBlockHead(pfn: number): number {
    if (pfn < 0 || pfn >= this.nrPfn) return -1;
    const flags = this.flags, order = this.order;
    for (let o = 0; o < MAX_ORDER; o++) {
      const head = pfn - (pfn & ((1 << o) - 1));
      if ((flags[head]! & PG_buddy) !== 0) return (order[head]! & ORDER_MASK) >= o ? head : -1;
    }
    return -1;
  }

  freeBlockOrder(head: number): number {
    return this.order[head]! & ORDER_MASK;
  }

  takeBlockAt(pfn: number, order: number, _mt: number): boolean {
    return this.alloc.takeFreeBlock(pfn, order, -1);
  }

  removeFreeBlock(head: number): void {
    const m = this.alloc.mm;
    const z = m.pageZone(head);
    const packed = this.order[head]!;
    const o = packed & ORDER_MASK;
    delPageFromFreeList(m, z, head);
    m.ints[m.zf(z, Z_NR_FREE_PAGES)] -= 1 << o;
    // compaction splits what it isolates into order-0 pages (split_map_pages): each is now held by
    // someone the trace does not name
    const mtBits = packed & ~ORDER_MASK;
    for (let p = head; p < head + (1 << o); p++) {
      m.flags[p] = 0;
      m.refcount[p] = 1;
      this.order[p] = mtBits;
    }
  }

  takePage(pfn: number): boolean {
    const head = this.freeBlockHead(pfn);
    if (head < 0) return false;
    const k = this.order[head]! & ORDER_MASK;
    this.removeFreeBlock(head);
    // give back the halves that do not hold pfn, from the top (as expand does)
    let lo = head;
    for (let h = k - 1; h >= 0; h--) {
      const mid = lo + (1 << h);
      if (pfn < mid) this.alloc.freeBlock(mid, h);
      else { this.alloc.freeBlock(lo, h); lo = mid; }
    }
    const m = this.alloc.mm;
    m.flags[pfn] = 0;
    m.refcount[pfn] = 1;
    this.order[pfn] = this.order[pfn]! & ~ORDER_MASK;
    return true;
  }

  freeOnePage(pfn: number, order: number, mt: number): void {
    this.alloc.freeBlock(pfn, order, mt);
  }

  buddyinfo(slot: number): number[] {
    return this.alloc.buddyinfo(this.slots[slot]!);
  }
}

/** The factory `runReplay` takes. */
export function createReplayBuddy(spec: MachineSpec, runs: readonly FreeRun[]): ReplayBuddy {
  return new CoreReplayBuddy(spec, runs);
}

/** A freshly booted core machine of `spec` (every managed page free): the placement replay's allocator. */
export function createFreshAllocator(spec: MachineSpec): PageAllocator {
  return PageAllocator.create({ spec, watermarks: computeZoneSetup(spec).zones });
}
