/**
 * %pGg text of a 6.1 mask, for the reports this layer prints, until src/gfp's formatGfp is wired in.
 * @kernel include/trace/events/mmflags.h __def_gfpflag_names (6.1 order), lib/vsprintf.c format_flags
 */
import * as G from '../gfp/bits.ts';

const TABLE_6_1: ReadonlyArray<readonly [number, string]> = [
  [G.GFP_TRANSHUGE, 'GFP_TRANSHUGE'], [G.GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [G.GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'], [G.GFP_HIGHUSER, 'GFP_HIGHUSER'], [G.GFP_USER, 'GFP_USER'],
  [G.GFP_KERNEL_ACCOUNT, 'GFP_KERNEL_ACCOUNT'], [G.GFP_KERNEL, 'GFP_KERNEL'], [G.GFP_NOFS, 'GFP_NOFS'],
  [G.GFP_ATOMIC, 'GFP_ATOMIC'], [G.GFP_NOIO, 'GFP_NOIO'], [G.GFP_NOWAIT, 'GFP_NOWAIT'], [G.GFP_DMA, 'GFP_DMA'],
  [G.__GFP_HIGHMEM, '__GFP_HIGHMEM'], [G.GFP_DMA32, 'GFP_DMA32'], [G.__GFP_HIGH, '__GFP_HIGH'],
  [G.__GFP_ATOMIC, '__GFP_ATOMIC'], [G.__GFP_IO, '__GFP_IO'], [G.__GFP_FS, '__GFP_FS'], [G.__GFP_NOWARN, '__GFP_NOWARN'],
  [G.__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'], [G.__GFP_NOFAIL, '__GFP_NOFAIL'], [G.__GFP_NORETRY, '__GFP_NORETRY'],
  [G.__GFP_COMP, '__GFP_COMP'], [G.__GFP_ZERO, '__GFP_ZERO'], [G.__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [G.__GFP_MEMALLOC, '__GFP_MEMALLOC'], [G.__GFP_HARDWALL, '__GFP_HARDWALL'], [G.__GFP_THISNODE, '__GFP_THISNODE'],
  [G.__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'], [G.__GFP_MOVABLE, '__GFP_MOVABLE'], [G.__GFP_ACCOUNT, '__GFP_ACCOUNT'],
  [G.__GFP_WRITE, '__GFP_WRITE'], [G.__GFP_RECLAIM, '__GFP_RECLAIM'], [G.__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [G.__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'], [G.__GFP_ZEROTAGS, '__GFP_ZEROTAGS'], [G.__GFP_EXCL, '__GFP_EXCL'],
];

/** format_flags: names whose bits are all present, in table order, then leftover bits as hex; "none" for 0. */
export function formatGfpFallback(mask: number): string {
  let m = mask >>> 0;
  if (m === 0) return 'none';
  const parts: string[] = [];
  for (const [v, name] of TABLE_6_1) {
    if (v !== 0 && (m & v) === v) {
      parts.push(name);
      m = (m & ~v) >>> 0;
      if (m === 0) break;
    }
  }
  if (m) parts.push('0x' + m.toString(16));
  return parts.join('|');
}
