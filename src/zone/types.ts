/**
 * The shape of a machine: nodes, zones and the vm tunables that size their watermarks.
 * Produced by src/zone/setup.ts (from a RAM size or a real /proc/zoneinfo), consumed by the core allocator.
 * @kernel include/linux/mmzone.h struct zone (the static part)
 */

/** vm.* sysctls that shape zones. Defaults mirror the Debian 6.1 amd64 kernel of the fixtures. */
export interface VmTunables {
  /** vm.min_free_kbytes */
  minFreeKbytes: number;
  /** vm.watermark_scale_factor (default 10 = 0.1 %) */
  watermarkScaleFactor: number;
  /** vm.watermark_boost_factor (default 15000) */
  watermarkBoostFactor: number;
  /** vm.lowmem_reserve_ratio, one entry per zone type DMA, DMA32, Normal, Movable, Device (default 256 256 32 0 0) */
  lowmemReserveRatio: number[];
  /** vm.percpu_pagelist_high_fraction (0 = derive pcp->high from the low watermark) */
  percpuPagelistHighFraction: number;
}

/** One populated (or empty but listed) zone of one node. Page counts are in 4 KiB pages. */
export interface ZoneSpec {
  node: number;
  /** ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE (src/mm/constants.ts) */
  zoneIdx: number;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  /**
   * Managed pages at the moment the boot-time initcalls sized min_free_kbytes and THP (before the initrd and
   * __init memory were freed). Absent when unknown (then equal to managed).
   */
  managedAtBoot?: number;
  /**
   * Optional pfn ranges [start, end) inside the span that are not handed to the buddy allocator
   * (holes and reserved pages). When absent, the first (spanned - managed) pages of the zone are
   * taken as unavailable.
   */
  unavailable?: Array<[number, number]>;
  /**
   * The subset of `unavailable` that is not memory at all (e820 holes): no struct page is online there
   * unless its 128 MiB section holds some memory. Absent when unknown.
   */
  holes?: Array<[number, number]>;
}

/** Values computed from the specs and the tunables (see src/zone/setup.ts). */
export interface ZoneWatermarks {
  /** _watermark[WMARK_MIN, LOW, HIGH, PROMO] */
  wmark: [number, number, number, number];
  /** lowmem_reserve[0..MAX_NR_ZONES-1] */
  lowmemReserve: number[];
  /** per-cpu pageset batch and high */
  pcpBatch: number;
  pcpHigh: number;
}

export interface MachineSpec {
  nrNodes: number;
  /** CPUs of the machine (all on node 0 for now); each has a per-cpu pageset per zone. */
  nrCpus: number;
  /** Transparent huge pages enabled ("always"): adds the pageblock-order pcp list and raises min_free_kbytes. */
  thp: boolean;
  /**
   * Every zone of every node, MAX_NR_ZONES per node in zone_type order (DMA, DMA32, Normal, Movable, Device),
   * as /proc/zoneinfo lists them; unpopulated zones have present == 0.
   */
  zones: ZoneSpec[];
  tunables: VmTunables;
}
