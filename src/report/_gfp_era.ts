/**
 * The handful of GFP bits the explainer tests, read from src/gfp's per-version layouts (0 where the
 * flag does not exist in that release: __GFP_ATOMIC before 4.4 and from 6.3, __GFP_KSWAPD_RECLAIM before 4.4).
 */
import { flagValue } from '../gfp/index.ts';

export interface GfpBits {
  DMA: number; HIGHMEM: number; DMA32: number; MOVABLE: number; RECLAIMABLE: number;
  HIGH: number; ATOMIC: number; IO: number; FS: number;
  /** __GFP_DIRECT_RECLAIM (4.4+) or __GFP_WAIT (≤4.3). */
  DIRECT_RECLAIM: number;
  KSWAPD_RECLAIM: number;
  NOWARN: number; NOFAIL: number; NORETRY: number;
  /** __GFP_RETRY_MAYFAIL (4.13+) or __GFP_REPEAT. */
  RETRY_MAYFAIL: number;
  MEMALLOC: number; NOMEMALLOC: number; COMP: number; HARDWALL: number; THISNODE: number;
}

export function gfpBitsFor(version: string): GfpBits {
  const f = (name: string) => flagValue(name, version);
  return {
    DMA: f('__GFP_DMA'), HIGHMEM: f('__GFP_HIGHMEM'), DMA32: f('__GFP_DMA32'), MOVABLE: f('__GFP_MOVABLE'),
    RECLAIMABLE: f('__GFP_RECLAIMABLE'), HIGH: f('__GFP_HIGH'), ATOMIC: f('__GFP_ATOMIC'), IO: f('__GFP_IO'), FS: f('__GFP_FS'),
    DIRECT_RECLAIM: f('__GFP_DIRECT_RECLAIM') || f('__GFP_WAIT'), KSWAPD_RECLAIM: f('__GFP_KSWAPD_RECLAIM'),
    NOWARN: f('__GFP_NOWARN'), NOFAIL: f('__GFP_NOFAIL'), NORETRY: f('__GFP_NORETRY'),
    RETRY_MAYFAIL: f('__GFP_RETRY_MAYFAIL') || f('__GFP_REPEAT'), MEMALLOC: f('__GFP_MEMALLOC'),
    NOMEMALLOC: f('__GFP_NOMEMALLOC'), COMP: f('__GFP_COMP'), HARDWALL: f('__GFP_HARDWALL'), THISNODE: f('__GFP_THISNODE'),
  };
}
