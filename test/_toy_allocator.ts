/**
 * A naive one-zone buddy allocator implementing SimAllocator, for testing the simulator independently of the
 * core (a test oracle in the spirit of the ~100-line Rust buddy allocators: not the kernel's rules, just a
 * consistent allocator with min/low/high and the 6.1 reserve fractions for atomic requests).
 */
import type { SimAllocator, SimZoneInfo } from '../src/sim/machinery.ts';
import { gfpToFastFlags } from './_toy_flags.ts';
import { effectiveMin } from '../src/zone/watermark.ts';
import { MAX_ORDER, MIGRATE_MOVABLE, pageblock_nr_pages } from '../src/mm/constants.ts';

export class ToyAllocator implements SimAllocator {
  readonly zones: SimZoneInfo[];
  readonly nrCpus = 1;
  readonly minFreeKbytes: number;
  private readonly lists: Array<Set<number>> = Array.from({ length: MAX_ORDER }, () => new Set<number>());
  /** order of the free block starting at pfn, or -1 */
  private readonly freeOrder: Int8Array;
  private free = 0;
  private readonly wmark: [number, number, number];

  constructor(readonly nrPages: number, minFreeKbytes: number) {
    this.minFreeKbytes = minFreeKbytes;
    this.zones = [{ zoneIdx: 2, name: 'Normal', node: 0, startPfn: 0, spanned: nrPages, managed: nrPages }];
    this.freeOrder = new Int8Array(nrPages).fill(-1);
    const min = minFreeKbytes >> 2;
    this.wmark = [min, min + (min >> 2), min + (min >> 1)];
    for (let pfn = 0; pfn < nrPages; pfn += 1 << (MAX_ORDER - 1)) this.put(pfn, MAX_ORDER - 1);
  }

  private put(pfn: number, order: number): void {
    this.lists[order]!.add(pfn);
    this.freeOrder[pfn] = order;
    this.free += 1 << order;
  }
  private take(pfn: number, order: number): void {
    this.lists[order]!.delete(pfn);
    this.freeOrder[pfn] = -1;
    this.free -= 1 << order;
  }

  allocPages(gfp: number, order: number): number {
    const flags = gfpToFastFlags(gfp);
    const mark = effectiveMin(this.wmark[0], flags);
    if (this.free - ((1 << order) - 1) <= mark) return -1;
    for (let o = order; o < MAX_ORDER; o++) {
      const it = this.lists[o]!.values().next();
      if (it.done) continue;
      const pfn = it.value;
      this.take(pfn, o);
      for (let s = o - 1; s >= order; s--) this.put(pfn + (1 << s), s);
      return pfn;
    }
    return -1;
  }

  freePages(pfn: number, order: number): void {
    let o = order, p = pfn;
    while (o < MAX_ORDER - 1) {
      const buddy = p ^ (1 << o);
      if (buddy >= this.nrPages || this.freeOrder[buddy] !== o) break;
      this.take(buddy, o);
      p = Math.min(p, buddy);
      o++;
    }
    this.put(p, o);
  }

  zoneFreePages(): number { return this.free; }
  zoneWatermarks(_i: number, out: Float64Array): void {
    out[0] = this.wmark[0]; out[1] = this.wmark[1]; out[2] = this.wmark[2]; out[3] = 0;
  }
  zoneFreeBlocks(_i: number, order: number): number { return this.lists[order]!.size; }
  pageblockMap(): { migratetype: Uint8Array; freePages: Uint16Array } {
    const n = Math.ceil(this.nrPages / pageblock_nr_pages);
    const mt = new Uint8Array(n).fill(MIGRATE_MOVABLE);
    const fp = new Uint16Array(n);
    for (let o = 0; o < MAX_ORDER; o++) {
      for (const pfn of this.lists[o]!) {
        for (let q = pfn; q < pfn + (1 << o); q += Math.min(1 << o, pageblock_nr_pages)) {
          fp[Math.floor(q / pageblock_nr_pages)]! += Math.min(1 << o, pageblock_nr_pages);
        }
      }
    }
    return { migratetype: mt, freePages: fp };
  }
  buddyinfo(): string {
    return `Node 0, zone   Normal ${this.lists.map((l) => String(l.size).padStart(6)).join(' ')} \n`;
  }
}
