/**
 * A naive reference buddy allocator (a test oracle): free blocks as one Set per order per zone.
 * It does not choose pages; it is told which block the real allocator handed out (`allocAt`) and
 * which was freed (`free`), and checks that the block was free, then splits and merges the plain
 * textbook way. Its free sets are what the real allocator's buddy lists plus pcp lists must hold.
 */
export class BuddyOracle {
  readonly maxOrder: number;
  private readonly zones: Array<{ start: number; end: number; free: Array<Set<number>> }> = [];
  freePages = 0;

  constructor(maxOrder: number) {
    this.maxOrder = maxOrder;
  }

  addZone(start: number, end: number): number {
    const free: Array<Set<number>> = [];
    for (let o = 0; o < this.maxOrder; o++) free.push(new Set());
    this.zones.push({ start, end, free });
    return this.zones.length - 1;
  }

  private zoneOf(pfn: number) {
    for (const z of this.zones) if (pfn >= z.start && pfn < z.end) return z;
    throw new Error(`oracle: pfn ${pfn} is in no zone`);
  }

  /** Mark [pfn, pfn + 2^order) allocated; throws unless the whole block was free. */
  allocAt(pfn: number, order: number): void {
    if (pfn % (1 << order) !== 0) throw new Error(`oracle: block ${pfn}/${order} is not aligned`);
    const z = this.zoneOf(pfn);
    for (let o = order; o < this.maxOrder; o++) {
      const head = pfn & ~((1 << o) - 1);
      if (!z.free[o]!.has(head)) continue;
      z.free[o]!.delete(head);
      while (o > order) {
        o--;
        // the half of the current block that does not contain pfn goes back
        const cur = pfn & ~((1 << (o + 1)) - 1);
        const other = (pfn & (1 << o)) ? cur : cur + (1 << o);
        z.free[o]!.add(other);
      }
      this.freePages -= 1 << order;
      return;
    }
    throw new Error(`oracle: block ${pfn}/${order} handed out but it was not free`);
  }

  /** Return a block and merge it with free buddies inside its zone. */
  free(pfn: number, order: number): void {
    const z = this.zoneOf(pfn);
    this.freePages += 1 << order;
    let o = order;
    while (o < this.maxOrder - 1) {
      const buddy = pfn ^ (1 << o);
      if (buddy < z.start || buddy + (1 << o) > z.end || !z.free[o]!.has(buddy)) break;
      z.free[o]!.delete(buddy);
      pfn &= buddy;
      o++;
    }
    z.free[o]!.add(pfn);
  }

  /** Free blocks per order of zone i (buddyinfo). */
  buddyinfo(i: number): number[] {
    return this.zones[i]!.free.map((s) => s.size);
  }

  /** Is pfn inside some free block? */
  isFree(pfn: number): boolean {
    const z = this.zoneOf(pfn);
    for (let o = 0; o < this.maxOrder; o++) if (z.free[o]!.has(pfn & ~((1 << o) - 1))) return true;
    return false;
  }
}
