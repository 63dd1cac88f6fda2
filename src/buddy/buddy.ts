/**
 * The buddy core: split a block (expand), take the smallest suitable block (__rmqueue_smallest),
 * free a block and merge it with its buddies (__free_one_page).
 * @kernel mm/page_alloc.c expand, __rmqueue_smallest, __rmqueue, __free_one_page, buddy_merge_likely (6.1)
 *
 * 6.12 differs: free pages are accounted per migratetype (account_freepages, nr_free_highatomic), the
 * merge check across pageblocks uses the buddy's pageblock type for both sides, and expand() is
 * split into page_del_and_expand.
 *
 * These run "under zone->lock": callers keep NR_FREE_PAGES right (__free_one_page adds, the
 * allocation side subtracts in rmqueue_bulk / rmqueue_buddy as in the kernel).
 */
import * as _MC from '../mm/constants.ts';
import * as _MM from '../mm/memmap.ts';
import { type MemMap } from '../mm/memmap.ts';
import * as _PF from '../mm/page_flags.ts';
import {
  addToFreeList, addToFreeListTail, delPageFromFreeList, getPageFromFreeArea, migratetypeIsMergeable,
} from './free_area.ts';
export { migratetypeIsMergeable };
import { rmqueueFallback } from './fallback.ts';
// Constants as module-local bindings: V8 folds these; an imported binding is a load at every use.
const { MAX_ORDER, MIGRATE_ISOLATE, MIGRATE_PCPTYPES, MIGRATE_TYPES, PAGE_ALLOC_COSTLY_ORDER, pageblock_order } = _MC;
const { NR_FREE_LISTS, Z_START_PFN, Z_END_PFN, Z_NR_FREE, Z_NR_FREE_MT, Z_NR_FREE_PAGES, Z_STRIDE } = _MM;
const { PG_buddy, MT_SHIFT, ORDER_MASK } = _PF;

/** FPI_* flags of __free_one_page. */
export const FPI_NONE = 0;
export const FPI_TO_TAIL = 0x2;

/** @kernel mm/page_alloc.c pcp_allowed_order (CONFIG_TRANSPARENT_HUGEPAGE adds pageblock_order) */
export function pcpAllowedOrder(order: number, thp: boolean): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER || (thp && order === pageblock_order);
}

/**
 * Is `buddy` the head of a free block of exactly `order` in zone z? (page_is_buddy; the zone
 * check is the kernel's page_zone_id comparison, and keeps `buddy` inside the memmap.)
 */
export function pageIsBuddyOf(m: MemMap, z: number, buddy: number, order: number): boolean {
  const zb = m.zoneBase + z * Z_STRIDE;
  if (buddy < m.ints[zb + Z_START_PFN]! || buddy >= m.ints[zb + Z_END_PFN]!) return false;
  return (m.flags[buddy]! & PG_buddy) !== 0 && (m.order[buddy]! & ORDER_MASK) === order;
}

/**
 * Split the block at pfn of order `high` down to `low`, putting the upper halves back on the
 * free lists of `mt` (orders high-1 … low). The caller keeps the low end.
 * @kernel mm/page_alloc.c expand
 */
export function expand(m: MemMap, z: number, pfn: number, low: number, high: number, mt: number): void {
  let size = 1 << high;
  while (high > low) {
    high--;
    size >>= 1;
    addToFreeList(m, z, pfn + size, high, mt);
  }
}

/**
 * Take the first block of the smallest order ≥ `order` from free_list[mt], split it, and return
 * its head pfn (order byte set to order | mt << 4, the kernel's set_pcppage_migratetype), or -1.
 * @kernel mm/page_alloc.c __rmqueue_smallest
 */
export function rmqueueSmallest(m: MemMap, z: number, order: number, mt: number, pcpThp: boolean): number {
  for (let current = order; current < MAX_ORDER; current++) {
    const pfn = getPageFromFreeArea(m, z, current, mt);
    if (pfn < 0) continue;
    delPageFromFreeList(m, z, pfn);
    expand(m, z, pfn, order, current, mt);
    m.order[pfn] = order | (mt << MT_SHIFT);
    if (m.tracer !== null) {
      m.tracer.pageAllocZoneLocked(pfn, order, mt, pcpAllowedOrder(order, pcpThp) && mt < MIGRATE_PCPTYPES);
    }
    return pfn;
  }
  return -1;
}

/**
 * Take a block of `order` for `mt`, falling back to other migratetypes (stealing) when its own
 * lists are empty. CONFIG_CMA=n, so the CMA steps are absent.
 * @kernel mm/page_alloc.c __rmqueue
 */
export function rmqueue(m: MemMap, z: number, order: number, mt: number, allocFlags: number, pcpThp: boolean): number {
  for (;;) {
    const pfn = rmqueueSmallest(m, z, order, mt, pcpThp);
    if (pfn >= 0) return pfn;
    if (!rmqueueFallback(m, z, order, mt, allocFlags)) return -1;
  }
}

/**
 * Would the block at pfn (just merged up to `order`) likely merge again if its buddy were freed?
 * Then it goes to the tail of its list so that it is allocated last.
 * @kernel mm/page_alloc.c buddy_merge_likely
 */
export function buddyMergeLikely(m: MemMap, z: number, pfn: number, buddyPfn: number, order: number): boolean {
  if (order >= MAX_ORDER - 2) return false;
  const higher = buddyPfn & pfn;
  return pageIsBuddyOf(m, z, higher ^ (1 << (order + 1)), order + 1);
}

/**
 * Return the block at pfn of `order` to zone z's free lists of `mt`, merging with free buddies up
 * to MAX_ORDER-1. Across pageblocks (order ≥ pageblock_order) a HIGHATOMIC or ISOLATE block merges
 * only with its own type. Adds to NR_FREE_PAGES (except for ISOLATE).
 * @kernel mm/page_alloc.c __free_one_page
 */
export function freeOnePage(m: MemMap, pfn: number, z: number, order: number, mt: number, fpi: number): void {
  // the list and counter steps of del_page_from_free_list / add_to_free_list(_tail) / buddy_merge_likely
  // are written out here with the zone's offsets computed once (this runs for every buddy free)
  const ints = m.ints;
  const zb = m.zoneBase + z * Z_STRIDE;
  if (mt !== MIGRATE_ISOLATE) ints[zb + Z_NR_FREE_PAGES] += 1 << order;
  let buddyPfn = 0;
  const flags = m.flags;
  const orders = m.order;
  const pbmt = m.pbmt;
  const next = m.next;
  const prev = m.prev;
  const start = ints[zb + Z_START_PFN]!;
  const end = ints[zb + Z_END_PFN]!;
  while (order < MAX_ORDER - 1) {
    buddyPfn = pfn ^ (1 << order);
    if (buddyPfn < start || buddyPfn >= end) break;
    const packed = orders[buddyPfn]!;
    if ((flags[buddyPfn]! & PG_buddy) === 0 || (packed & ORDER_MASK) !== order) break;
    if (order >= pageblock_order) {
      const buddyMt = pbmt[buddyPfn >>> pageblock_order]!;
      if (mt !== buddyMt && (!migratetypeIsMergeable(mt) || !migratetypeIsMergeable(buddyMt))) break;
    }
    // del_page_from_free_list(buddy)
    const n = next[buddyPfn]!;
    const p = prev[buddyPfn]!;
    next[p] = n;
    prev[n] = p;
    flags[buddyPfn] = 0;
    orders[buddyPfn] = 0;
    ints[zb + Z_NR_FREE + order] -= 1;
    ints[zb + Z_NR_FREE_MT + order * MIGRATE_TYPES + (packed >>> MT_SHIFT)] -= 1;
    pfn &= buddyPfn;
    order++;
  }
  let toTail: boolean;
  if (fpi & FPI_TO_TAIL) toTail = true;
  else if (order >= MAX_ORDER - 2) toTail = false;
  else {
    // buddy_merge_likely: is the buddy of the next order up free at that order?
    const higherBuddy = (buddyPfn & pfn) ^ (1 << (order + 1));
    toTail = higherBuddy >= start && higherBuddy < end && (flags[higherBuddy]! & PG_buddy) !== 0
      && (orders[higherBuddy]! & ORDER_MASK) === order + 1;
  }
  const head = m.freeSentBase + z * NR_FREE_LISTS + order * MIGRATE_TYPES + mt;
  if (toTail) {
    const last = prev[head]!;
    next[pfn] = head;
    prev[pfn] = last;
    next[last] = pfn;
    prev[head] = pfn;
  } else {
    const first = next[head]!;
    next[pfn] = first;
    prev[pfn] = head;
    prev[first] = pfn;
    next[head] = pfn;
  }
  flags[pfn] = PG_buddy;
  orders[pfn] = order | (mt << MT_SHIFT);
  ints[zb + Z_NR_FREE + order] += 1;
  ints[zb + Z_NR_FREE_MT + order * MIGRATE_TYPES + mt] += 1;
}
