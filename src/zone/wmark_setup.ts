/**
 * Zone watermarks, lowmem_reserve and per-CPU batch/high, as pure functions of zone sizes and vm tunables.
 * @kernel mm/page_alloc.c __setup_per_zone_wmarks, setup_per_zone_lowmem_reserve, calculate_min_free_kbytes,
 *         calculate_totalreserve_pages, zone_batchsize, zone_highsize, nr_free_zone_pages (6.1);
 *         mm/khugepaged.c set_recommended_min_free_kbytes; mm/vmstat.c calculate_normal_threshold
 *
 * Everything here is integer arithmetic on page counts exactly as the kernel's unsigned longs compute it,
 * so that the core can recompute on every sysctl write (min_free_kbytes, watermark_scale_factor,
 * lowmem_reserve_ratio, percpu_pagelist_high_fraction) and obtain what Linux 6.1 would.
 */
import {
  MAX_NR_ZONES, MIGRATE_PCPTYPES, PAGE_SHIFT, ZONE_MOVABLE, ZONE_NORMAL, pageblock_nr_pages,
} from '../mm/constants.ts';

/** The sizes the watermark formulas read from one zone. */
export interface ZoneSizes {
  node: number;
  zoneIdx: number;
  managed: number;
  present: number;
}

/** Which kernel generation's rules to apply where 6.1 and 6.12 differ. */
export type SetupRules = 'v6.1' | 'v6.12';

/** Watermarks of one zone: _watermark[WMARK_MIN..WMARK_PROMO]. */
export type Wmarks = [number, number, number, number];

/** floor(a*b/c) without loss for products beyond 2^53. */
function mulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return Math.floor(p / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** @kernel include/linux/math.h mult_frac: x*n/d computed as (x/d)*n + (x%d)*n/d */
export function multFrac(x: number, n: number, d: number): number {
  const q = Math.floor(x / d);
  const r = x % d;
  return q * n + Math.floor((r * n) / d);
}

/** @kernel lib/math/int_sqrt.c int_sqrt: floor of the square root of an unsigned long. */
export function intSqrt(x: number): number {
  if (x < 2) return x;
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** Zones that count as low memory for the watermark split (x86_64: no HIGHMEM; 6.6+ also excludes MOVABLE). */
function countsAsLowmem(zoneIdx: number, rules: SetupRules): boolean {
  return rules === 'v6.1' ? true : zoneIdx !== ZONE_MOVABLE;
}

/**
 * _watermark[] of every zone for a min_free_kbytes and watermark_scale_factor.
 * @kernel mm/page_alloc.c __setup_per_zone_wmarks
 */
export function setupPerZoneWmarks(
  zones: readonly ZoneSizes[], minFreeKbytes: number, watermarkScaleFactor: number, rules: SetupRules = 'v6.1',
): Wmarks[] {
  const pagesMin = Math.floor(minFreeKbytes / (1 << (PAGE_SHIFT - 10)));
  let lowmemPages = 0;
  for (const z of zones) if (countsAsLowmem(z.zoneIdx, rules)) lowmemPages += z.managed;
  return zones.map((z) => {
    // Empty zones still go through the arithmetic (0 * x / lowmem = 0); a machine with no memory at all has none.
    let tmp = lowmemPages === 0 ? 0 : mulDiv(pagesMin, z.managed, lowmemPages);
    let min: number;
    if (!countsAsLowmem(z.zoneIdx, rules)) {
      // highmem-like zones get a small fixed minimum: managed/1024 clamped to [SWAP_CLUSTER_MAX, 128]
      min = Math.min(Math.max(Math.floor(z.managed / 1024), 32), 128);
    } else {
      min = tmp;
    }
    tmp = Math.max(Math.floor(tmp / 4), multFrac(z.managed, watermarkScaleFactor, 10000));
    const low = min + tmp;
    const high = low + tmp;
    return [min, low, high, high + tmp];
  });
}

/**
 * lowmem_reserve[] of every zone, per node, from vm.lowmem_reserve_ratio.
 * Ratios below 1 mean "no protection" (the sysctl handler stores them as 0).
 * 6.1: a lower zone with no managed pages, or a ratio of 0, reserves nothing; otherwise the sum of managed
 * pages of the zones above it up to j, divided by its ratio. 6.12 also gives 0 when the upper zone j is empty.
 * @kernel mm/page_alloc.c setup_per_zone_lowmem_reserve
 */
export function setupPerZoneLowmemReserve(
  zones: readonly ZoneSizes[], ratio: readonly number[], rules: SetupRules = 'v6.1',
): number[][] {
  const out = zones.map(() => new Array<number>(MAX_NR_ZONES).fill(0));
  const byNode = new Map<number, Map<number, number>>();
  zones.forEach((z, i) => {
    let m = byNode.get(z.node);
    if (m === undefined) { m = new Map(); byNode.set(z.node, m); }
    m.set(z.zoneIdx, i);
  });
  for (const idx of byNode.values()) {
    const managedOf = (zi: number): number => {
      const k = idx.get(zi);
      return k === undefined ? 0 : zones[k]!.managed;
    };
    for (let i = 0; i < MAX_NR_ZONES - 1; i++) {
      const k = idx.get(i);
      if (k === undefined) continue;
      const r = ratio[i] !== undefined && ratio[i]! >= 1 ? ratio[i]! : 0;
      const clear = r === 0 || zones[k]!.managed === 0;
      let managedPages = 0;
      for (let j = i + 1; j < MAX_NR_ZONES; j++) {
        const upper = managedOf(j);
        managedPages += upper;
        const empty = rules === 'v6.12' && upper === 0;
        out[k]![j] = clear || empty ? 0 : Math.floor(managedPages / r);
      }
    }
  }
  return out;
}

/**
 * totalreserve_pages: per zone, the largest lowmem_reserve it keeps against higher zones plus its high watermark
 * (capped at managed), summed over all zones.
 * @kernel mm/page_alloc.c calculate_totalreserve_pages
 */
export function calculateTotalreservePages(
  zones: readonly ZoneSizes[], wmarks: readonly Wmarks[], lowmemReserve: readonly number[][],
): number {
  let total = 0;
  zones.forEach((z, k) => {
    let max = 0;
    const row = lowmemReserve[k]!;
    for (let j = z.zoneIdx; j < MAX_NR_ZONES; j++) if (row[j]! > max) max = row[j]!;
    max += wmarks[k]![2];
    if (max > z.managed) max = z.managed;
    total += max;
  });
  return total;
}

/**
 * Pages of the zones a GFP_USER request may use (zone index ≤ ZONE_NORMAL) that lie above their high watermark.
 * @kernel mm/page_alloc.c nr_free_buffer_pages / nr_free_zone_pages
 */
export function nrFreeBufferPages(zones: readonly ZoneSizes[], wmarks?: readonly Wmarks[]): number {
  let sum = 0;
  zones.forEach((z, k) => {
    if (z.zoneIdx > ZONE_NORMAL) return;
    const high = wmarks === undefined ? 0 : wmarks[k]![2];
    if (z.managed > high) sum += z.managed - high;
  });
  return sum;
}

/** The static value of min_free_kbytes before any initcall ran. */
export const MIN_FREE_KBYTES_STATIC = 1024;

/**
 * The square-root default: int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144] (5.7+; 65536 before).
 * `lowmemPages` is nr_free_buffer_pages() at the time of the call.
 * @kernel mm/page_alloc.c calculate_min_free_kbytes
 */
export function calculateMinFreeKbytes(lowmemPages: number): number {
  const lowmemKbytes = lowmemPages * (1 << (PAGE_SHIFT - 10));
  const v = intSqrt(lowmemKbytes * 16);
  return Math.min(Math.max(v, 128), 262144);
}

/**
 * THP's recommended min_free_kbytes: per low-memory zone, 2 free pageblocks plus MIGRATE_PCPTYPES²
 * pageblocks for fallbacks, capped at 5 % of nr_free_buffer_pages(); it only ever raises the value.
 * `freeBufferPages` is nr_free_buffer_pages() at the time khugepaged starts (watermarks already set).
 * @kernel mm/khugepaged.c set_recommended_min_free_kbytes
 */
export function recommendedMinFreeKbytes(
  zones: readonly ZoneSizes[], freeBufferPages: number, currentMinFreeKbytes: number,
): number {
  let nrZones = 0;
  for (const z of zones) {
    if (z.present === 0) continue; // for_each_populated_zone
    if (z.zoneIdx > ZONE_NORMAL) continue; // ZONE_MOVABLE holds only movable pages
    nrZones++;
  }
  let recommended = pageblock_nr_pages * nrZones * 2;
  recommended += pageblock_nr_pages * nrZones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
  recommended = Math.min(recommended, Math.floor(freeBufferPages / 20));
  recommended *= 1 << (PAGE_SHIFT - 10);
  return recommended > currentMinFreeKbytes ? recommended : currentMinFreeKbytes;
}

/**
 * The boot sequence for min_free_kbytes: the square-root value at init_per_zone_wmark_min (core_initcall),
 * then, when THP is enabled, khugepaged's recommended value at hugepage_init (subsys_initcall), computed
 * with the watermarks of the first step in place.
 * `zonesAtInit` carry the managed counts of that moment (before initrd and __init memory are freed).
 */
export function bootMinFreeKbytes(
  zonesAtInit: readonly ZoneSizes[], thp: boolean, watermarkScaleFactor = 10,
): { sqrtValue: number; thpValue: number | null; minFreeKbytes: number } {
  const sqrtValue = calculateMinFreeKbytes(nrFreeBufferPages(zonesAtInit));
  if (!thp) return { sqrtValue, thpValue: null, minFreeKbytes: sqrtValue };
  const w = setupPerZoneWmarks(zonesAtInit, sqrtValue, watermarkScaleFactor);
  const thpValue = recommendedMinFreeKbytes(zonesAtInit, nrFreeBufferPages(zonesAtInit, w), sqrtValue);
  return { sqrtValue, thpValue, minFreeKbytes: thpValue };
}

/** THP is switched off at boot when totalram is below 512 MiB. @kernel mm/huge_memory.c hugepage_init */
export function thpEnabledByDefault(totalramPages: number): boolean {
  return totalramPages >= (512 << (20 - PAGE_SHIFT));
}

/**
 * pcp->batch: about 0.1 % of the zone or 1 MiB, whichever is smaller, divided by 4 and clamped to 2^n − 1;
 * the caller (zone_set_high_and_batch) raises it to at least 1.
 * @kernel mm/page_alloc.c zone_batchsize (CONFIG_MMU)
 */
export function zoneBatchsize(managed: number): number {
  let batch = Math.min(Math.floor(managed / 1024), (1024 * 1024) >> PAGE_SHIFT);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const x = batch + Math.floor(batch / 2);
  let p = 1;
  while (p * 2 <= x) p *= 2;
  return Math.max(1, p - 1);
}

/**
 * pcp->high (6.1, before 6.7's auto-tuning): the zone's low watermark (or managed/percpu_pagelist_high_fraction)
 * split across the node's CPUs, and at least 4 batches.
 * @kernel mm/page_alloc.c zone_highsize
 */
export function zoneHighsize(
  lowWmark: number, managed: number, batch: number, nrCpusOfNode: number, percpuPagelistHighFraction = 0,
): number {
  const totalPages = percpuPagelistHighFraction === 0 ? lowWmark : Math.floor(managed / percpuPagelistHighFraction);
  const nrSplit = Math.max(1, nrCpusOfNode);
  const high = Math.floor(totalPages / nrSplit);
  return Math.max(high, batch * 4);
}

/** Index of the most significant set bit, 1-based; fls(0) = 0. */
function fls(x: number): number {
  let n = 0;
  while (x > 0) { n++; x = Math.floor(x / 2); }
  return n;
}

/**
 * The per-CPU vmstat drift threshold printed as "vm stats threshold" in zoneinfo.
 * @kernel mm/vmstat.c calculate_normal_threshold
 */
export function calculateNormalThreshold(managed: number, nrOnlineCpus: number): number {
  const mem = Math.floor(managed / (1 << (27 - PAGE_SHIFT)));
  const threshold = 2 * fls(nrOnlineCpus) * (1 + fls(mem));
  return Math.min(125, threshold);
}

/**
 * A fallback steal raises the zone's watermark_boost by a pageblock, up to watermark_boost_factor of the
 * high watermark (at least one pageblock). Nothing happens when the factor is 0, in zones smaller than four
 * pageblocks, or while the high watermark is still 0 (early boot).
 * Returns the new boost and whether the zone was boosted (the caller then flags ZONE_BOOSTED_WATERMARK).
 * @kernel mm/page_alloc.c boost_watermark (6.1)
 */
export function boostWatermark(
  boost: number, highWmark: number, managed: number, watermarkBoostFactor: number,
): { boosted: boolean; boost: number } {
  if (watermarkBoostFactor === 0) return { boosted: false, boost };
  if (pageblock_nr_pages * 4 > managed) return { boosted: false, boost };
  let maxBoost = multFrac(highWmark, watermarkBoostFactor, 10000);
  if (maxBoost === 0) return { boosted: false, boost };
  maxBoost = Math.max(pageblock_nr_pages, maxBoost);
  return { boosted: true, boost: Math.min(boost + pageblock_nr_pages, maxBoost) };
}
