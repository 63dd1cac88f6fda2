/**
 * The watermark check, as pure arithmetic over a zone's numbers.
 * @kernel mm/page_alloc.c __zone_watermark_ok, __zone_watermark_unusable_free, zone_watermark_fast (6.1; 6.3+ rules selectable)
 *
 * The core allocator and the report explainer both call this, so a verdict in `explain`
 * is computed by the very code that decides allocations in the simulator.
 */
import * as _AF from '../gfp/alloc_flags.ts';
import * as _MC from '../mm/constants.ts';
// Constants as module-local bindings: V8 folds these; an imported binding is a load at every use.
const { ALLOC_CMA, ALLOC_HARDER, ALLOC_HIGH, ALLOC_HIGHATOMIC, ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, ALLOC_OOM } = _AF;
const { MAX_ORDER, MIGRATE_HIGHATOMIC, MIGRATE_PCPTYPES } = _MC;

/**
 * Which generation of the rules to apply. 'v6.1' covers 4.4–6.2 (4.4 introduced the highatomic
 * reserve and the per-order free-list test; 4.19 and 5.x differ only outside this function);
 * 'v6.3' covers 6.3 and later; 'v2.6' covers 2.6.x–4.3, whose high-order test subtracts each lower
 * order's pages and halves min per order instead of looking for a non-empty free list.
 */
export type WatermarkRules = 'v2.6' | 'v6.1' | 'v6.3';

/** What the check reads from a zone. `freeListNonEmpty` may be omitted for order-0 checks. */
export interface WatermarkZoneView {
  /** zone->lowmem_reserve[highestZoneIdx] */
  lowmemReserve(highestZoneIdx: number): number;
  /** zone->nr_reserved_highatomic (pages) */
  nrReservedHighatomic: number;
  /** NR_FREE_CMA_PAGES; 0 on kernels without CMA. */
  nrFreeCma: number;
  /** free_area[order].nr_free */
  nrFree(order: number): number;
  /** !list_empty(&free_area[order].free_list[mt]) */
  freeListNonEmpty(order: number, migratetype: number): boolean;
  /** !list_empty(&free_area[order].free_list[MIGRATE_CMA]); omitted on kernels without CMA. */
  cmaListNonEmpty?(order: number): boolean;
}

/** Free pages the caller may not count: the order's tail, the highatomic reserve, CMA. */
export function zoneWatermarkUnusableFree(
  z: WatermarkZoneView, order: number, allocFlags: number, rules: WatermarkRules = 'v6.1',
): number {
  let unusable = (1 << order) - 1;
  if (rules === 'v2.6') return (allocFlags & ALLOC_CMA) === 0 ? unusable + z.nrFreeCma : unusable;
  const reserves = rules === 'v6.1'
    ? (allocFlags & (ALLOC_HARDER | ALLOC_OOM)) !== 0
    : (allocFlags & (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)) !== 0;
  if (!reserves) unusable += z.nrReservedHighatomic;
  if ((allocFlags & ALLOC_CMA) === 0) unusable += z.nrFreeCma;
  return unusable;
}

/**
 * The reduced mark a caller with these alloc flags must stay above (before lowmem_reserve).
 * Integer arithmetic exactly as the kernel's `long` divisions (marks are int32: `| 0` truncates toward zero).
 */
export function effectiveMin(mark: number, allocFlags: number, rules: WatermarkRules = 'v6.1'): number {
  let min = mark;
  if (rules === 'v6.1' || rules === 'v2.6') {
    if (allocFlags & ALLOC_HIGH) min -= ((min / 2) | 0);
    if (allocFlags & (ALLOC_HARDER | ALLOC_OOM)) {
      if (allocFlags & ALLOC_OOM) min -= ((min / 2) | 0);
      else min -= ((min / 4) | 0);
    }
  } else if (allocFlags & (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)) {
    if (allocFlags & ALLOC_MIN_RESERVE) {
      min -= ((min / 2) | 0);
      if (allocFlags & ALLOC_NON_BLOCK) min -= ((min / 4) | 0);
    }
    if (allocFlags & ALLOC_OOM) min -= ((min / 2) | 0);
  }
  return min;
}

/** @kernel mm/page_alloc.c __zone_watermark_ok */
export function zoneWatermarkOk(
  z: WatermarkZoneView, order: number, mark: number, highestZoneIdx: number,
  allocFlags: number, freePages: number, rules: WatermarkRules = 'v6.1', maxOrder: number = MAX_ORDER,
): boolean {
  if (rules === 'v2.6') return zoneWatermarkOkV26(z, order, mark, highestZoneIdx, allocFlags, freePages);
  const min = effectiveMin(mark, allocFlags, rules);
  const usable = freePages - zoneWatermarkUnusableFree(z, order, allocFlags, rules);
  if (usable <= min + z.lowmemReserve(highestZoneIdx)) return false;
  if (order === 0) return true;
  const highatomicOk = rules === 'v6.1'
    ? (allocFlags & (ALLOC_HARDER | ALLOC_OOM)) !== 0
    : (allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) !== 0;
  for (let o = order; o < maxOrder; o++) {
    if (z.nrFree(o) === 0) continue;
    for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (z.freeListNonEmpty(o, mt)) return true;
    if ((allocFlags & ALLOC_CMA) !== 0 && z.cmaListNonEmpty !== undefined && z.cmaListNonEmpty(o)) return true;
    if (highatomicOk && z.freeListNonEmpty(o, MIGRATE_HIGHATOMIC)) return true;
  }
  return false;
}

/**
 * The 2.6.x–4.3 form: after the order-0 test, each lower order's free pages become unusable and
 * the required minimum halves per order. Returns the order at which it failed through `failedAt`.
 * @kernel mm/page_alloc.c __zone_watermark_ok (2.6.31–4.3)
 */
export function zoneWatermarkOkV26(
  z: WatermarkZoneView, order: number, mark: number, highestZoneIdx: number, allocFlags: number, freePages: number,
  failedAt?: { order: number },
): boolean {
  let min = effectiveMin(mark, allocFlags, 'v2.6');
  let free = freePages - ((1 << order) - 1);
  const cma = (allocFlags & ALLOC_CMA) === 0 ? z.nrFreeCma : 0;
  if (free - cma <= min + z.lowmemReserve(highestZoneIdx)) { if (failedAt) failedAt.order = -1; return false; }
  for (let o = 0; o < order; o++) {
    free -= z.nrFree(o) << o;
    min >>= 1;
    if (free <= min) { if (failedAt) failedAt.order = o; return false; }
  }
  return true;
}
