/**
 * Zone, migratetype and blocking from a gfp mask.
 * @kernel include/linux/gfp.h gfp_zone, GFP_ZONE_TABLE, GFP_ZONE_BAD, gfp_migratetype, gfpflags_allow_blocking
 */
import {
  MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL,
} from '../mm/constants.ts';
import type { GfpLayout } from './layouts.ts';
import { resolveLayout } from './resolve.ts';

function layoutOf(v: string | GfpLayout | undefined): GfpLayout {
  return typeof v === 'object' ? v : resolveLayout(v).layout;
}

/** The four zone modifiers, in the kernel's bit order (the same value in every layout). */
export const ZONE_MOD_DMA = 0x01;
export const ZONE_MOD_HIGHMEM = 0x02;
export const ZONE_MOD_DMA32 = 0x04;
export const ZONE_MOD_MOVABLE = 0x08;
export const GFP_ZONEMASK = 0x0f;

/** Combinations of the zone modifiers that select no zone: bits 3,5,6,7,11,13,14,15 (0xe8e8). */
export const GFP_ZONE_BAD = 0xe8e8;

/** Which architecture's zones: x86_64 (DMA, DMA32, Normal, Movable) or 32-bit x86 (DMA, Normal, HighMem, Movable). */
export type ZoneArch = 'x86_64' | 'x86_32';

export interface GfpZoneInfo {
  /** enum zone_type value of that architecture (x86_64: src/mm/constants.ts). */
  zoneIdx: number;
  /** Printed zone name ("DMA", "DMA32", "Normal", "HighMem", "Movable"). */
  name: string;
  /** The modifier combination is in GFP_ZONE_BAD (a VM_BUG_ON with CONFIG_DEBUG_VM). */
  bad: boolean;
}

const NAMES_64 = ['DMA', 'DMA32', 'Normal', 'Movable'];
const NAMES_32 = ['DMA', 'Normal', 'HighMem', 'Movable'];

/** GFP_ZONE_TABLE entry per modifier combination, as a logical zone (before arch mapping). */
const TABLE: readonly (string | null)[] = [
  'Normal', 'DMA', 'HighMem', null, 'DMA32', null, null, null,
  'Normal', 'DMA', 'Movable', null, 'DMA32', null, null, null,
];

/** Zone a mask allocates from (its highest allowed zone), with the bad-combination flag. */
export function gfpZoneInfo(mask: number, arch: ZoneArch = 'x86_64'): GfpZoneInfo {
  const bit = mask & GFP_ZONEMASK;
  const bad = ((GFP_ZONE_BAD >> bit) & 1) === 1;
  const logical = TABLE[bit] ?? null;
  if (arch === 'x86_64') {
    // OPT_ZONE_HIGHMEM is ZONE_NORMAL without CONFIG_HIGHMEM. A bad combination reads 0 from the table: ZONE_DMA.
    const idx = logical === null ? ZONE_DMA
      : logical === 'DMA' ? ZONE_DMA : logical === 'DMA32' ? ZONE_DMA32
        : logical === 'Movable' ? ZONE_MOVABLE : ZONE_NORMAL;
    return { zoneIdx: idx, name: NAMES_64[idx]!, bad };
  }
  // 32-bit x86: no ZONE_DMA32 (OPT_ZONE_DMA32 is ZONE_NORMAL).
  const idx = logical === null ? 0
    : logical === 'DMA' ? 0 : logical === 'HighMem' ? 2 : logical === 'Movable' ? 3 : 1;
  return { zoneIdx: idx, name: NAMES_32[idx]!, bad };
}

/**
 * enum zone_type the mask allocates from on x86_64 (ZONE_DMA … ZONE_MOVABLE of src/mm/constants.ts).
 * The zone bits are the same in every layout; `version` is accepted for symmetry.
 */
export function gfpZone(mask: number, version?: string | GfpLayout): number {
  void version;
  return gfpZoneInfo(mask).zoneIdx;
}

export const MIGRATETYPE_BY_GFP = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic(invalid)'] as const;

/**
 * Migratetype of the allocation: MIGRATE_UNMOVABLE 0, MIGRATE_MOVABLE 1, MIGRATE_RECLAIMABLE 2 (the 4.4+ enum).
 * Both mobility bits together give 3, which the kernel VM_WARNs about. For ≤4.3 layouts (where
 * __GFP_RECLAIMABLE was 0x80000) pass the version; the result still uses the 4.4+ numbering.
 */
export function gfpMigratetype(mask: number, version?: string | GfpLayout): number {
  if (version !== undefined) {
    const l = layoutOf(version);
    if (l.shortNames) {
      const movable = (mask & (l.flags.__GFP_MOVABLE ?? 0)) !== 0;
      const reclaimable = (mask & (l.flags.__GFP_RECLAIMABLE ?? 0)) !== 0;
      return (movable ? MIGRATE_MOVABLE : 0) | (reclaimable ? MIGRATE_RECLAIMABLE : 0);
    }
  }
  const mt = (mask & 0x18) >>> 3;
  return mt === 0 ? MIGRATE_UNMOVABLE : mt;
}

/** May this request sleep (enter direct reclaim)? `__GFP_DIRECT_RECLAIM` (4.4+) or `__GFP_WAIT` (≤4.3). */
export function gfpflagsAllowBlocking(mask: number, version?: string | GfpLayout): boolean {
  const l = layoutOf(version);
  const bit = l.flags.__GFP_DIRECT_RECLAIM ?? l.flags.__GFP_WAIT ?? 0;
  return (mask & bit) !== 0;
}
