/**
 * The whole-structure invariant walk. Each check cites its invariant from docs/invariants.md (I1…I10).
 * O(pages + free blocks + pcp blocks): a 16 MiB machine verifies in microseconds, so property tests
 * run it after every operation.
 * @kernel mm/debug.c, mm/page_alloc.c check_free_page / bad_page (the per-page checks, generalised)
 */
import { LabyrinthError } from '../errors.ts';
import { MAX_ORDER, MIGRATE_ISOLATE, MIGRATE_TYPES, pageblock_nr_pages, pageblock_order } from '../mm/constants.ts';
import {
  type MemMap, NR_PCP_LISTS, P_COUNT, Z_END_PFN, Z_NR_FREE, Z_NR_FREE_MT, Z_NR_FREE_PAGES,
  Z_NR_RESERVED_HIGHATOMIC, Z_START_PFN,
} from '../mm/memmap.ts';
import { PG_buddy, PG_head, PG_pcp, PG_reserved, PG_tail, MT_SHIFT, ORDER_MASK, formatPageFlags } from '../mm/page_flags.ts';
import { migratetypeIsMergeable } from '../buddy/free_area.ts';
import { pindexToOrder } from '../buddy/pcp.ts';

/** A broken invariant: `invariant` is its number in docs/invariants.md ("I3"). */
export class InvariantError extends LabyrinthError {
  readonly invariant: string;
  constructor(invariant: string, message: string) {
    super('INVARIANT', `${invariant}: ${message}`);
    this.invariant = invariant;
  }
}

function bad(inv: string, msg: string): never {
  throw new InvariantError(inv, msg);
}

function refusesMerge(mt: number, buddyMt: number): boolean {
  return mt !== buddyMt && (!migratetypeIsMergeable(mt) || !migratetypeIsMergeable(buddyMt));
}

function pageText(m: MemMap, pfn: number): string {
  return `pfn 0x${pfn.toString(16)} (flags ${formatPageFlags(m.flags[pfn]!) || '0'}, refcount ${m.refcount[pfn]}, order ${m.order[pfn]! & ORDER_MASK})`;
}

/** Check every invariant of the allocator state; throws InvariantError on the first violation. */
export function verify(a: { readonly mm: MemMap }): void {
  const m = a.mm;
  const flags = m.flags;
  const orders = m.order;
  const ref = m.refcount;
  const covered = new Uint8Array(m.nrPfn); // 1 = inside some zone span
  for (let z = 0; z < m.nrZones; z++) {
    const start = m.ints[m.zf(z, Z_START_PFN)]!;
    const end = m.ints[m.zf(z, Z_END_PFN)]!;
    for (let p = start; p < end; p++) covered[p] = 1;
    let freeBlocks = 0;
    let pcpBlocks = 0;
    let freePages = 0;
    // I1, I2, I3, I7, I8: walk the zone span block by block.
    let p = start;
    while (p < end) {
      const f = flags[p]!;
      if (f & PG_reserved) {
        if (f !== PG_reserved || ref[p] === 0) bad('I8', `reserved ${pageText(m, p)} must carry only PG_reserved and a reference`);
        p++;
        continue;
      }
      if (f & (PG_buddy | PG_pcp)) {
        const o = orders[p]! & ORDER_MASK;
        const isBuddy = (f & PG_buddy) !== 0;
        if (f !== PG_buddy && f !== PG_pcp) bad('I1', `${pageText(m, p)} is in more than one state`);
        if (o >= MAX_ORDER) bad('I2', `${pageText(m, p)} has order ≥ MAX_ORDER`);
        if ((p & ((1 << o) - 1)) !== 0) bad('I2', `free block ${pageText(m, p)} is not aligned to its order`);
        if (p + (1 << o) > end) bad('I2', `free block ${pageText(m, p)} crosses the end of its zone`);
        if (ref[p] !== 0) bad('I2', `free block ${pageText(m, p)} has a nonzero refcount`);
        for (let q = p + 1; q < p + (1 << o); q++) {
          if (flags[q] !== 0 || ref[q] !== 0) bad('I2', `${pageText(m, q)} inside the free block at 0x${p.toString(16)} is not blank`);
        }
        if (isBuddy) {
          freeBlocks++;
          const mt = orders[p]! >>> MT_SHIFT;
          if (mt >= MIGRATE_TYPES) bad('I4', `free block ${pageText(m, p)} is on list type ${mt}`);
          if (mt !== MIGRATE_ISOLATE) freePages += 1 << o;
          // I3: no mergeable free buddy left behind
          if (o < MAX_ORDER - 1) {
            const b = p ^ (1 << o);
            if (b >= start && b < end && (flags[b]! & PG_buddy) !== 0 && (orders[b]! & ORDER_MASK) === o) {
              let allowed = false;
              if (o >= pageblock_order) {
                // __free_one_page compares the freeing block's migratetype with the buddy's pageblock type;
                // either block may have been the one freed last.
                const la = orders[p]! >>> MT_SHIFT;
                const lb = orders[b]! >>> MT_SHIFT;
                allowed = refusesMerge(la, m.pbmt[b >>> pageblock_order]!) || refusesMerge(lb, m.pbmt[p >>> pageblock_order]!);
              }
              if (!allowed) bad('I3', `free buddies ${pageText(m, p)} and 0x${b.toString(16)} of order ${o} were left unmerged`);
            }
          }
        } else {
          pcpBlocks++;
        }
        p += 1 << o;
        continue;
      }
      if (ref[p]! > 0 && (f & PG_tail) === 0) {
        // I7: an allocated block
        const o = orders[p]! & ORDER_MASK;
        if (o >= MAX_ORDER || (p & ((1 << o) - 1)) !== 0 || p + (1 << o) > end) {
          bad('I7', `allocated block ${pageText(m, p)} is misaligned or crosses its zone`);
        }
        if (f & PG_head) {
          if (o === 0) bad('I7', `compound head ${pageText(m, p)} has order 0`);
          for (let q = p + 1; q < p + (1 << o); q++) {
            if (flags[q] !== PG_tail || m.next[q] !== p || ref[q] !== 0) bad('I7', `${pageText(m, q)} is not a tail of compound head 0x${p.toString(16)}`);
          }
        } else {
          for (let q = p + 1; q < p + (1 << o); q++) {
            if (flags[q] !== 0 || ref[q] !== 0) bad('I7', `${pageText(m, q)} inside the allocated block at 0x${p.toString(16)} is not blank`);
          }
        }
        p += 1 << o;
        continue;
      }
      bad('I1', `${pageText(m, p)} is in no state (not reserved, free, on a pcp list, or part of an allocated block)`);
    }
    // I4: free lists match the blocks found, and their counters
    let listed = 0;
    for (let o = 0; o < MAX_ORDER; o++) {
      let perOrder = 0;
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const head = m.freeList(z, o, mt);
        let n = 0;
        let prev = head;
        for (let q = m.next[head]!; q !== head; q = m.next[q]!) {
          if (q < start || q >= end) bad('I4', `free list (order ${o}, type ${mt}) of zone ${z} links pfn ${q} outside the zone`);
          if (m.prev[q] !== prev) bad('I4', `free list (order ${o}, type ${mt}): broken back link at ${pageText(m, q)}`);
          if ((flags[q]! & PG_buddy) === 0 || (orders[q]! & ORDER_MASK) !== o || (orders[q]! >>> MT_SHIFT) !== mt) {
            bad('I4', `free list (order ${o}, type ${mt}) holds ${pageText(m, q)} of another order or type`);
          }
          prev = q;
          if (++n > m.nrPfn) bad('I4', `free list (order ${o}, type ${mt}) of zone ${z} is cyclic`);
        }
        if (m.prev[head] !== prev) bad('I4', `free list (order ${o}, type ${mt}) of zone ${z}: tail link broken`);
        const counted = m.ints[m.zf(z, Z_NR_FREE_MT + o * MIGRATE_TYPES + mt)]!;
        if (counted !== n) bad('I4', `free list (order ${o}, type ${mt}) of zone ${z} has ${n} blocks, its counter says ${counted}`);
        perOrder += n;
      }
      const nrFree = m.ints[m.zf(z, Z_NR_FREE + o)]!;
      if (nrFree !== perOrder) bad('I4', `zone ${z} free_area[${o}].nr_free is ${nrFree}, its lists hold ${perOrder}`);
      listed += perOrder;
    }
    if (listed !== freeBlocks) bad('I4', `zone ${z} has ${freeBlocks} PageBuddy blocks but ${listed} on its free lists`);
    // I5: NR_FREE_PAGES
    const nrFreePages = m.ints[m.zf(z, Z_NR_FREE_PAGES)]!;
    if (nrFreePages !== freePages) bad('I5', `zone ${z} NR_FREE_PAGES is ${nrFreePages}, its free blocks hold ${freePages} pages`);
    // I6: pcp lists
    let pcpListed = 0;
    for (let cpu = 0; cpu < m.nrCpus; cpu++) {
      let pages = 0;
      for (let pi = 0; pi < NR_PCP_LISTS; pi++) {
        const head = m.pcpList(z, cpu, pi);
        const o = pindexToOrder(pi);
        let prev = head;
        let n = 0;
        for (let q = m.next[head]!; q !== head; q = m.next[q]!) {
          if (q < start || q >= end) bad('I6', `pcp list ${pi} of zone ${z} cpu ${cpu} links pfn ${q} outside the zone`);
          if (m.prev[q] !== prev) bad('I6', `pcp list ${pi} of zone ${z} cpu ${cpu}: broken back link at ${pageText(m, q)}`);
          if (flags[q] !== PG_pcp || (orders[q]! & ORDER_MASK) !== o) bad('I6', `pcp list ${pi} holds ${pageText(m, q)}, expected an order-${o} PG_pcp block`);
          pages += 1 << o;
          prev = q;
          if (++n > m.nrPfn) bad('I6', `pcp list ${pi} of zone ${z} cpu ${cpu} is cyclic`);
        }
        if (m.prev[head] !== prev) bad('I6', `pcp list ${pi} of zone ${z} cpu ${cpu}: tail link broken`);
        pcpListed += n;
      }
      const count = m.ints[m.pf(z, cpu, P_COUNT)]!;
      if (count !== pages) bad('I6', `pcp count of zone ${z} cpu ${cpu} is ${count}, its lists hold ${pages} pages`);
    }
    if (pcpListed !== pcpBlocks) bad('I6', `zone ${z} has ${pcpBlocks} PG_pcp blocks but ${pcpListed} on pcp lists`);
    // I9: highatomic reserve accounting
    const hat = m.ints[m.zf(z, Z_NR_RESERVED_HIGHATOMIC)]!;
    if (hat < 0 || hat % pageblock_nr_pages !== 0) bad('I9', `zone ${z} nr_reserved_highatomic ${hat} is not a whole number of pageblocks`);
  }
  // I10: pfns outside every zone carry no state
  for (let p = 0; p < m.nrPfn; p++) {
    if (covered[p] === 0 && (flags[p] !== 0 || ref[p] !== 0)) bad('I10', `${pageText(m, p)} lies in no zone but has state`);
  }
}
