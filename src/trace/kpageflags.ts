/**
 * /proc/kpageflags as a start state: one little-endian u64 of KPF_* bits per pfn, from pfn 0.
 * Every free page (head and tail of a free block) has KPF_BUDDY in 6.1, so the free pages of a zone
 * are the maximal runs of KPF_BUDDY pages inside its span. A run's block set is then fixed: the greedy
 * split into maximal aligned 2^k blocks is the only one that leaves no two free buddies unmerged.
 * @kernel fs/proc/page.c kpageflags_read, stable_page_flags
 */
import { BadInputError } from '../errors.ts';

export const KPF_BUDDY = 10;
export const KPF_RESERVED = 32;

/** A zone's pfn span [startPfn, startPfn + spanned). */
export interface ZoneSpan {
  /** zone index (ZONE_DMA, ZONE_DMA32, …) */
  zoneIdx: number;
  startPfn: number;
  spanned: number;
}

/** A maximal run of free pages inside one zone: pfns [startPfn, startPfn + nrPages). */
export interface FreeRun {
  zoneIdx: number;
  startPfn: number;
  nrPages: number;
}

/** Number of pfns the buffer describes (8 bytes each). */
export function kpageflagsPages(bytes: Uint8Array): number {
  if (bytes.length % 8 !== 0) {
    throw new BadInputError('KPAGEFLAGS_LENGTH', `Cannot read kpageflags: ${bytes.length} bytes is not a whole number of 8-byte entries`);
  }
  return bytes.length / 8;
}

/** True when pfn has the given KPF_* bit (bit < 64). */
export function kpfTest(bytes: Uint8Array, pfn: number, bit: number): boolean {
  return (bytes[pfn * 8 + (bit >> 3)]! & (1 << (bit & 7))) !== 0;
}

/**
 * The free runs of each zone: maximal runs of KPF_BUDDY pages, cut at zone boundaries.
 * Pfns beyond the end of the file count as not free.
 */
export function freeRunsFromKpageflags(bytes: Uint8Array, zones: readonly ZoneSpan[]): FreeRun[] {
  return runsOfBit(bytes, zones, KPF_BUDDY);
}

/** Maximal runs of pages with KPF_* bit `bit` set, per zone, cut at zone boundaries and at the end of the file. */
function runsOfBit(bytes: Uint8Array, zones: readonly ZoneSpan[], bit: number): FreeRun[] {
  const nr = kpageflagsPages(bytes);
  const runs: FreeRun[] = [];
  const byte = bit >> 3;
  const mask = 1 << (bit & 7);
  for (const z of zones) {
    const end = Math.min(z.startPfn + z.spanned, nr);
    let pfn = z.startPfn;
    while (pfn < end) {
      if ((bytes[pfn * 8 + byte]! & mask) === 0) { pfn++; continue; }
      const start = pfn;
      while (pfn < end && (bytes[pfn * 8 + byte]! & mask) !== 0) pfn++;
      runs.push({ zoneIdx: z.zoneIdx, startPfn: start, nrPages: pfn - start });
    }
  }
  return runs;
}

/**
 * The greedy split of a free run into maximal aligned blocks (order ≤ maxOrder), in pfn order.
 * This is how the run must lie in the buddy lists (see the file comment); it is what the core's
 * start-state initialiser does, exposed here to check a start state on its own.
 */
export function splitRun(startPfn: number, nrPages: number, maxOrder = 10): Array<{ pfn: number; order: number }> {
  const out: Array<{ pfn: number; order: number }> = [];
  let pfn = startPfn;
  const end = startPfn + nrPages;
  while (pfn < end) {
    let order = maxOrder;
    while (order > 0 && (pfn % (1 << order) !== 0 || pfn + (1 << order) > end)) order--;
    out.push({ pfn, order });
    pfn += 1 << order;
  }
  return out;
}

/** buddyinfo-style counts per order of the greedy split of the runs of one zone. */
export function runsToBuddyinfo(runs: readonly FreeRun[], zoneIdx: number, maxOrder = 10): number[] {
  const counts = new Array<number>(maxOrder + 1).fill(0);
  for (const r of runs) {
    if (r.zoneIdx !== zoneIdx) continue;
    for (const b of splitRun(r.startPfn, r.nrPages, maxOrder)) counts[b.order]!++;
  }
  return counts;
}

/**
 * The reserved pages of each zone (KPF_RESERVED runs): memblock reservations the buddy allocator never
 * manages. They give a machine model the real holes, so that its free runs and traced pfns line up.
 * Pfns beyond the end of the file are not reported.
 */
export function reservedRunsFromKpageflags(bytes: Uint8Array, zones: readonly ZoneSpan[]): FreeRun[] {
  return runsOfBit(bytes, zones, KPF_RESERVED);
}
