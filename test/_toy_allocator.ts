/**
 * The simulator's stand-in for the core: the naive reference buddy (test/_naive_buddy.ts) as one Normal zone behind
 * SimAllocator, for testing the simulator independently of the core. Not the kernel's rules, just a consistent
 * allocator with min/low/high and the 6.1 reserve fractions for atomic requests; every pageblock is movable.
 */
import type { SimAllocator, SimZoneInfo } from '../src/sim/machinery.ts';
import { gfpToFastFlags } from './_toy_flags.ts';
import { effectiveMin } from '../src/zone/watermark.ts';
import { MIGRATE_MOVABLE, ZONE_NORMAL, pageblock_nr_pages } from '../src/mm/constants.ts';
import { NaiveBuddy } from './_naive_buddy.ts';

export class ToyAllocator implements SimAllocator {
  readonly zones: SimZoneInfo[];
  readonly nrCpus = 1;
  readonly minFreeKbytes: number;
  private readonly buddy: NaiveBuddy;
  private readonly wmark: [number, number, number];

  constructor(readonly nrPages: number, minFreeKbytes: number) {
    this.minFreeKbytes = minFreeKbytes;
    this.zones = [{ zoneIdx: ZONE_NORMAL, name: 'Normal', node: 0, startPfn: 0, spanned: nrPages, managed: nrPages }];
    const min = minFreeKbytes >> 2;
    this.wmark = [min, min + (min >> 2), min + (min >> 1)];
    this.buddy = new NaiveBuddy([{ zoneIdx: ZONE_NORMAL, startPfn: 0, spanned: nrPages, managed: nrPages, wmark: this.wmark, lowmemReserve: [] }]);
  }

  allocPages(gfp: number, order: number): number {
    const mark = effectiveMin(this.wmark[0], gfpToFastFlags(gfp));
    if (this.zoneFreePages() - ((1 << order) - 1) <= mark) return -1;
    return this.buddy.rmqueueSmallest(0, order, MIGRATE_MOVABLE);
  }

  freePages(pfn: number, order: number): void {
    this.buddy.freePages(pfn, order);
  }

  zoneFreePages(): number { return this.buddy.zones[0]!.freePages; }
  zoneWatermarks(_i: number, out: Float64Array): void {
    out[0] = this.wmark[0]; out[1] = this.wmark[1]; out[2] = this.wmark[2]; out[3] = 0;
  }
  zoneFreeBlocks(_i: number, order: number): number { return this.buddy.zones[0]!.nrFree(order); }
  pageblockMap(): { migratetype: Uint8Array; freePages: Uint16Array } {
    const n = Math.ceil(this.nrPages / pageblock_nr_pages);
    const mt = new Uint8Array(n).fill(MIGRATE_MOVABLE);
    const fp = new Uint16Array(n);
    for (let pfn = 0; pfn < this.nrPages; pfn++) {
      const o = this.buddy.freeOrder(pfn);
      if (o < 0) continue;
      for (let q = pfn; q < pfn + (1 << o); q += Math.min(1 << o, pageblock_nr_pages)) {
        fp[Math.floor(q / pageblock_nr_pages)]! += Math.min(1 << o, pageblock_nr_pages);
      }
    }
    return { migratetype: mt, freePages: fp };
  }
  buddyinfo(): string {
    return `Node 0, zone   Normal ${this.buddy.buddyinfo(0).map((n) => String(n).padStart(6)).join(' ')} \n`;
  }
}
