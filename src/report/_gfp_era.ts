/**
 * The handful of GFP bits the explainer needs, per generation of the bit layout. Internal: the
 * authoritative per-version layouts (names, %pGg formatting) live in src/gfp/; this table only
 * answers "which bit means direct reclaim / __GFP_HIGH / … in this release".
 * @kernel include/linux/gfp.h (2.6.31, 3.3, 4.9, 4.19), include/linux/gfp_types.h (6.1, 6.6)
 */
import { atLeast, type KernelVersion } from './kernel_version.ts';

export interface GfpBits {
  era: '2.6' | '4.4' | '4.15' | '5.0' | '6.3';
  DMA: number; HIGHMEM: number; DMA32: number; MOVABLE: number; RECLAIMABLE: number;
  HIGH: number;
  /** 0 where the flag does not exist (≤4.3, ≥6.3). */
  ATOMIC: number;
  IO: number; FS: number;
  /** __GFP_DIRECT_RECLAIM (4.4+) or __GFP_WAIT (≤4.3). */
  DIRECT_RECLAIM: number;
  /** 0 before 4.4. */
  KSWAPD_RECLAIM: number;
  NOWARN: number; NOFAIL: number; NORETRY: number;
  /** __GFP_RETRY_MAYFAIL (4.13+) or __GFP_REPEAT. */
  RETRY_MAYFAIL: number;
  MEMALLOC: number; NOMEMALLOC: number; COMP: number; HARDWALL: number; THISNODE: number;
}

const ZONE_BITS = { DMA: 0x01, HIGHMEM: 0x02, DMA32: 0x04, MOVABLE: 0x08 };

const ERA_2_6: GfpBits = {
  era: '2.6', ...ZONE_BITS, RECLAIMABLE: 0x80000, HIGH: 0x20, ATOMIC: 0, IO: 0x40, FS: 0x80, DIRECT_RECLAIM: 0x10,
  KSWAPD_RECLAIM: 0, NOWARN: 0x200, NOFAIL: 0x800, NORETRY: 0x1000, RETRY_MAYFAIL: 0x400, MEMALLOC: 0x2000,
  NOMEMALLOC: 0x10000, COMP: 0x4000, HARDWALL: 0x20000, THISNODE: 0x40000,
};
/** 4.4–4.14: __GFP_COLD, __GFP_NOTRACK, __GFP_OTHER_NODE still present. */
const ERA_4_4: GfpBits = {
  era: '4.4', ...ZONE_BITS, RECLAIMABLE: 0x10, HIGH: 0x20, ATOMIC: 0x80000, IO: 0x40, FS: 0x80, DIRECT_RECLAIM: 0x400000,
  KSWAPD_RECLAIM: 0x2000000, NOWARN: 0x200, NOFAIL: 0x800, NORETRY: 0x1000, RETRY_MAYFAIL: 0x400, MEMALLOC: 0x2000,
  NOMEMALLOC: 0x10000, COMP: 0x4000, HARDWALL: 0x20000, THISNODE: 0x40000,
};
/** 4.15–4.20 (kernel-facts §1.2 "4.19"). */
const ERA_4_15: GfpBits = {
  era: '4.15', ...ZONE_BITS, RECLAIMABLE: 0x10, HIGH: 0x20, ATOMIC: 0x80000, IO: 0x40, FS: 0x80, DIRECT_RECLAIM: 0x200000,
  KSWAPD_RECLAIM: 0x400000, NOWARN: 0x200, NOFAIL: 0x800, NORETRY: 0x1000, RETRY_MAYFAIL: 0x400, MEMALLOC: 0x2000,
  NOMEMALLOC: 0x10000, COMP: 0x4000, HARDWALL: 0x20000, THISNODE: 0x40000,
};
/** 5.0–6.2 (kernel-facts §1.2 "5.4"…"6.1"). */
const ERA_5_0: GfpBits = {
  era: '5.0', ...ZONE_BITS, RECLAIMABLE: 0x10, HIGH: 0x20, ATOMIC: 0x200, IO: 0x40, FS: 0x80, DIRECT_RECLAIM: 0x400,
  KSWAPD_RECLAIM: 0x800, NOWARN: 0x2000, NOFAIL: 0x8000, NORETRY: 0x10000, RETRY_MAYFAIL: 0x4000, MEMALLOC: 0x20000,
  NOMEMALLOC: 0x80000, COMP: 0x40000, HARDWALL: 0x100000, THISNODE: 0x200000,
};
/** 6.3+: __GFP_ATOMIC removed; the other positions are unchanged through 6.12's enum layout. */
const ERA_6_3: GfpBits = { ...ERA_5_0, era: '6.3', ATOMIC: 0 };

export function gfpBitsFor(v: KernelVersion): GfpBits {
  if (atLeast(v, 6, 3)) return ERA_6_3;
  if (atLeast(v, 5, 0)) return ERA_5_0;
  if (atLeast(v, 4, 15)) return ERA_4_15;
  if (atLeast(v, 4, 4)) return ERA_4_4;
  return ERA_2_6;
}
