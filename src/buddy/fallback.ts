/**
 * Migratetype fallback: when a request's own free lists are empty, steal from another type —
 * a whole pageblock when enough of it is free or alike, else a single block — boost the watermark,
 * and keep the high-order atomic reserve.
 * @kernel mm/page_alloc.c fallbacks[], can_steal_fallback, find_suitable_fallback, __rmqueue_fallback,
 *   steal_suitable_fallback, move_freepages_block, boost_watermark, reserve_highatomic_pageblock,
 *   unreserve_highatomic_pageblock (6.1)
 *
 * 6.12 differs: the table is [MIGRATE_PCPTYPES][2]; stealing was reworked (try_to_claim_block,
 * 6.15); highatomic reserves are sized ALIGN(managed/100, pageblock) and skipped on small zones.
 */
import * as _AF from '../gfp/alloc_flags.ts';
import * as _MC from '../mm/constants.ts';
import * as _MM from '../mm/memmap.ts';
import { type MemMap } from '../mm/memmap.ts';
import * as _PF from '../mm/page_flags.ts';
import { freeAreaEmpty, getPageFromFreeArea, migratetypeIsMergeable, moveToFreeList } from './free_area.ts';
// Constants as module-local bindings: V8 folds these; an imported binding is a load at every use.
const { ALLOC_KSWAPD, ALLOC_NOFRAGMENT } = _AF;
const { MAX_ORDER, MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, WMARK_HIGH,
  pageblock_nr_pages, pageblock_order } = _MC;
const { EV_EXTFRAG, EV_EXTFRAG_STEAL, H_MOBILITY_DISABLED, H_WATERMARK_BOOST_FACTOR, Z_BOOST, Z_END_PFN,
  Z_FLAGS, Z_MANAGED, Z_NR_FREE, Z_NR_RESERVED_HIGHATOMIC, Z_START_PFN, Z_STRIDE, Z_WMARK,
  ZONE_BOOSTED_WATERMARK } = _MM;
const { PG_buddy, PG_lru, ORDER_MASK } = _PF;

/** fallbacks[migratetype]: the other types to steal from, in order. */
export const FALLBACKS: ReadonlyArray<readonly [number, number]> = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE], // UNMOVABLE
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE], // MOVABLE
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE], // RECLAIMABLE
];
const FB0 = new Int8Array([MIGRATE_RECLAIMABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE]);
const FB1 = new Int8Array([MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, MIGRATE_MOVABLE]);

/** @kernel mm/page_alloc.c can_steal_fallback */
export function canStealFallback(order: number, startMt: number, mobilityDisabled: boolean): boolean {
  if (order >= pageblock_order) return true;
  return order >= (pageblock_order >> 1) || startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE
    || mobilityDisabled;
}

/** can_steal result of the last findSuitableFallback call (an out-parameter without allocation). */
let lastCanSteal = false;
/** num_movable result of the last moveFreepagesBlock call. */
let lastNumMovable = 0;

/**
 * The first fallback type with a non-empty list at `order`, or -1; `lastCanSteal` tells whether the
 * whole pageblock may be stolen.
 * @kernel mm/page_alloc.c find_suitable_fallback
 */
export function findSuitableFallback(m: MemMap, z: number, order: number, mt: number, onlyStealable: boolean): number {
  lastCanSteal = false;
  if (m.ints[m.zf(z, Z_NR_FREE + order)] === 0) return -1;
  const disabled = m.ints[H_MOBILITY_DISABLED] !== 0;
  for (let i = 0; i < 2; i++) {
    const fmt = i === 0 ? FB0[mt]! : FB1[mt]!;
    if (freeAreaEmpty(m, z, order, fmt)) continue;
    if (canStealFallback(order, mt, disabled)) lastCanSteal = true;
    if (!onlyStealable) return fmt;
    if (lastCanSteal) return fmt;
  }
  return -1;
}

/** The can_steal out-parameter of the last findSuitableFallback. */
export function fallbackCanSteal(): boolean {
  return lastCanSteal;
}

/**
 * Steal a block of another migratetype for `startMt`: the largest available (approximating the
 * pageblock with most free pages), or for MOVABLE requests that cannot take the whole block the
 * smallest. Returns true when pages were moved onto the requester's list (the caller retries
 * __rmqueue_smallest).
 * @kernel mm/page_alloc.c __rmqueue_fallback
 */
export function rmqueueFallback(m: MemMap, z: number, order: number, startMt: number, allocFlags: number): boolean {
  let minOrder = order;
  if (allocFlags & ALLOC_NOFRAGMENT) minOrder = pageblock_order;
  let current = MAX_ORDER - 1;
  let fmt = -1;
  for (; current >= minOrder; current--) {
    fmt = findSuitableFallback(m, z, current, startMt, false);
    if (fmt === -1) continue;
    if (!lastCanSteal && startMt === MIGRATE_MOVABLE && current > order) {
      // find_smallest
      for (current = order; current < MAX_ORDER; current++) {
        fmt = findSuitableFallback(m, z, current, startMt, false);
        if (fmt !== -1) break;
      }
    }
    const pfn = getPageFromFreeArea(m, z, current, fmt);
    const changed = stealSuitableFallback(m, z, pfn, allocFlags, startMt, lastCanSteal);
    m.ev[EV_EXTFRAG] += 1;
    if (changed) m.ev[EV_EXTFRAG_STEAL] += 1;
    if (m.tracer !== null) {
      // change_ownership in 6.1's trace is "the pageblock now has the requested type"
      const nowMt = m.pbmt[pfn >>> pageblock_order]!;
      m.tracer.pageAllocExtfrag(pfn, order, current, startMt, fmt, nowMt === startMt);
    }
    return true;
  }
  return false;
}

/**
 * Move the free block at pfn (from a `fallback` type) onto startType's list; claim its whole
 * pageblock when it is big enough, or when free + alike pages reach half a pageblock.
 * Returns true when a pageblock changed type.
 * @kernel mm/page_alloc.c steal_suitable_fallback
 */
export function stealSuitableFallback(
  m: MemMap, z: number, pfn: number, allocFlags: number, startType: number, wholeBlock: boolean,
): boolean {
  const currentOrder = m.order[pfn]! & ORDER_MASK;
  const oldBlockType = m.pbmt[pfn >>> pageblock_order]!;
  if (oldBlockType === MIGRATE_HIGHATOMIC) {
    moveToFreeList(m, z, pfn, currentOrder, startType);
    return false;
  }
  if (currentOrder >= pageblock_order) {
    changePageblockRange(m, pfn, currentOrder, startType);
    moveToFreeList(m, z, pfn, currentOrder, startType);
    return true;
  }
  if (boostWatermark(m, z) && (allocFlags & ALLOC_KSWAPD)) {
    m.ints[m.zf(z, Z_FLAGS)] |= ZONE_BOOSTED_WATERMARK;
  }
  if (!wholeBlock) {
    moveToFreeList(m, z, pfn, currentOrder, startType);
    return false;
  }
  const freePages = moveFreepagesBlock(m, z, pfn, startType, true);
  const movablePages = lastNumMovable;
  let alikePages: number;
  if (startType === MIGRATE_MOVABLE) {
    alikePages = movablePages;
  } else if (oldBlockType === MIGRATE_MOVABLE) {
    alikePages = pageblock_nr_pages - (freePages + movablePages);
  } else {
    alikePages = 0;
  }
  if (freePages === 0) {
    moveToFreeList(m, z, pfn, currentOrder, startType);
    return false;
  }
  if (freePages + alikePages >= (1 << (pageblock_order - 1)) || m.ints[H_MOBILITY_DISABLED] !== 0) {
    m.pbmt[pfn >>> pageblock_order] = startType;
    return true;
  }
  return false;
}

/** @kernel mm/page_alloc.c change_pageblock_range */
export function changePageblockRange(m: MemMap, pfn: number, order: number, mt: number): void {
  let nr = 1 << (order - pageblock_order);
  let pb = pfn >>> pageblock_order;
  while (nr-- > 0) m.pbmt[pb++] = mt;
}

/**
 * Move every free block of pfn's pageblock onto `mt`'s lists; returns the pages moved. With
 * `countMovable`, counts the non-free pages that look movable (PageLRU) into `lastNumMovable`.
 * Does nothing (returns 0) when the pageblock's end lies outside the zone.
 * @kernel mm/page_alloc.c move_freepages_block, move_freepages
 */
export function moveFreepagesBlock(m: MemMap, z: number, pfn: number, mt: number, countMovable: boolean): number {
  lastNumMovable = 0;
  const zb = m.zoneBase + z * Z_STRIDE;
  const zStart = m.ints[zb + Z_START_PFN]!;
  const zEnd = m.ints[zb + Z_END_PFN]!;
  let start = pfn & ~(pageblock_nr_pages - 1);
  const end = start + pageblock_nr_pages - 1;
  if (start < zStart || start >= zEnd) start = pfn;
  if (end < zStart || end >= zEnd) return 0;
  let moved = 0;
  const flags = m.flags;
  for (let p = start; p <= end;) {
    const f = flags[p]!;
    if ((f & PG_buddy) === 0) {
      if (countMovable && (f & PG_lru) !== 0) lastNumMovable++;
      p++;
      continue;
    }
    const order = m.order[p]! & ORDER_MASK;
    moveToFreeList(m, z, p, order, mt);
    p += 1 << order;
    moved += 1 << order;
  }
  return moved;
}

/** The num_movable out-parameter of the last moveFreepagesBlock. */
export function freepagesNumMovable(): number {
  return lastNumMovable;
}

/** mult_frac(x, n, d) without overflow, as the kernel macro. */
function multFrac(x: number, n: number, d: number): number {
  const q = Math.floor(x / d);
  const r = x % d;
  return q * n + Math.floor((r * n) / d);
}

/**
 * Raise the zone's watermark_boost by a pageblock (up to high × boost_factor / 10000) after a
 * fragmenting fallback, so kswapd reclaims more. Returns whether it boosted.
 * @kernel mm/page_alloc.c boost_watermark
 */
export function boostWatermark(m: MemMap, z: number): boolean {
  const factor = m.ints[H_WATERMARK_BOOST_FACTOR]!;
  if (factor === 0) return false;
  const zb = m.zoneBase + z * Z_STRIDE;
  if (pageblock_nr_pages * 4 > m.ints[zb + Z_MANAGED]!) return false;
  let maxBoost = multFrac(m.ints[zb + Z_WMARK + WMARK_HIGH]!, factor, 10000);
  if (maxBoost === 0) return false;
  maxBoost = Math.max(pageblock_nr_pages, maxBoost);
  m.ints[zb + Z_BOOST] = Math.min(m.ints[zb + Z_BOOST]! + pageblock_nr_pages, maxBoost);
  return true;
}

/**
 * After a high-order ALLOC_HARDER allocation, turn its pageblock into a MIGRATE_HIGHATOMIC reserve
 * (at most managed/100 + one pageblock per zone). Returns whether a block was reserved.
 * @kernel mm/page_alloc.c reserve_highatomic_pageblock
 */
export function reserveHighatomicPageblock(m: MemMap, z: number, pfn: number): boolean {
  const zb = m.zoneBase + z * Z_STRIDE;
  const maxManaged = Math.floor(m.ints[zb + Z_MANAGED]! / 100) + pageblock_nr_pages;
  if (m.ints[zb + Z_NR_RESERVED_HIGHATOMIC]! >= maxManaged) return false;
  const pb = pfn >>> pageblock_order;
  const mt = m.pbmt[pb]!;
  if (!migratetypeIsMergeable(mt)) return false;
  m.ints[zb + Z_NR_RESERVED_HIGHATOMIC] += pageblock_nr_pages;
  m.pbmt[pb] = MIGRATE_HIGHATOMIC;
  moveFreepagesBlock(m, z, pfn, MIGRATE_HIGHATOMIC, false);
  return true;
}

/**
 * Give highatomic pageblocks back to `mt` (the requester's type), one pageblock per call, in the
 * zones given (the zonelist filtered by highest_zoneidx). Without `force` one pageblock per zone is
 * kept. Returns whether free pages were moved.
 * @kernel mm/page_alloc.c unreserve_highatomic_pageblock
 */
export function unreserveHighatomicPageblock(
  m: MemMap, zones: ArrayLike<number>, force: boolean, mt: number,
): boolean {
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i]!;
    const zb = m.zoneBase + z * Z_STRIDE;
    if (!force && m.ints[zb + Z_NR_RESERVED_HIGHATOMIC]! <= pageblock_nr_pages) continue;
    for (let order = 0; order < MAX_ORDER; order++) {
      const pfn = getPageFromFreeArea(m, z, order, MIGRATE_HIGHATOMIC);
      if (pfn < 0) continue;
      const pb = pfn >>> pageblock_order;
      if (m.pbmt[pb] === MIGRATE_HIGHATOMIC) {
        m.ints[zb + Z_NR_RESERVED_HIGHATOMIC] -= Math.min(pageblock_nr_pages, m.ints[zb + Z_NR_RESERVED_HIGHATOMIC]!);
      }
      m.pbmt[pb] = mt;
      if (moveFreepagesBlock(m, z, pfn, mt, false) > 0) return true;
    }
  }
  return false;
}
