/**
 * The unusable-free index and the external fragmentation index per zone and order, with the
 * kernel's integer arithmetic and its debugfs print format.
 * @kernel mm/vmstat.c fill_contig_page_info, unusable_free_index, __fragmentation_index, unusable_show_print, extfrag_show_print
 *
 * Inputs: /proc/buddyinfo, /proc/pagetypeinfo (free counts summed over migratetypes), or the per-order
 * `N*4kB …` lines of a warn_alloc report.
 */
import { BadInputError } from '../errors.ts';
import { parseBuddyinfo } from '../stats/buddyinfo.ts';
import { parsePagetypeinfo } from '../stats/pagetypeinfo.ts';
import { atLeast, parseKernelVersion } from '../gfp/version.ts';
import { parseReports } from './parse.ts';

/** struct contig_page_info */
export interface ContigPageInfo {
  freePages: number;
  freeBlocksTotal: number;
  freeBlocksSuitable: number;
}

/** @kernel mm/vmstat.c fill_contig_page_info */
export function fillContigPageInfo(nrFree: readonly number[], suitableOrder: number): ContigPageInfo {
  let freePages = 0, freeBlocksTotal = 0, freeBlocksSuitable = 0;
  for (let order = 0; order < nrFree.length; order++) {
    const blocks = nrFree[order]!;
    freeBlocksTotal += blocks;
    freePages += blocks * 2 ** order;
    if (order >= suitableOrder) freeBlocksSuitable += blocks * 2 ** (order - suitableOrder);
  }
  return { freePages, freeBlocksTotal, freeBlocksSuitable };
}

/**
 * Thousandths of the free memory unusable for an allocation of this order (0 = all usable, 1000 = none).
 * @kernel mm/vmstat.c unusable_free_index
 */
export function unusableFreeIndex(order: number, info: ContigPageInfo): number {
  if (info.freePages === 0) return 1000;
  return Math.floor(((info.freePages - info.freeBlocksSuitable * 2 ** order) * 1000) / info.freePages);
}

/**
 * −1000 when the order could be served; otherwise thousandths towards "fails for fragmentation"
 * (near 1000) rather than "fails for lack of memory" (near 0).
 * @kernel mm/vmstat.c __fragmentation_index
 */
export function fragmentationIndex(order: number, info: ContigPageInfo): number {
  const requested = 2 ** order;
  if (info.freeBlocksTotal === 0) return 0;
  if (info.freeBlocksSuitable > 0) return -1000;
  return 1000 - Math.floor((1000 + Math.floor((info.freePages * 1000) / requested)) / info.freeBlocksTotal);
}

/** C's `%d.%03d` (or `%2d.%03d`) of index/1000 and index%1000 (truncating division). */
export function formatIndex(index: number, width2: boolean): string {
  const q = Math.trunc(index / 1000);
  const r = Math.abs(index % 1000);
  // C prints index/1000 (which is 0 for −999..−1: not reachable, indices are −1000 or ≥ 0).
  const head = String(q);
  return `${width2 ? head.padStart(2, ' ') : head}.${String(r).padStart(3, '0')}`;
}

export interface ZoneFrag {
  node: number;
  zone: string;
  nrFree: number[];
  freePages: number;
  /** unusable_free_index per order */
  unusable: number[];
  /** __fragmentation_index per order */
  extfrag: number[];
}

export interface FragmentationResult {
  source: 'buddyinfo' | 'pagetypeinfo' | 'report';
  zones: ZoneFrag[];
  /** Text of /sys/kernel/debug/extfrag/unusable_index */
  unusableIndexText: string;
  /** Text of /sys/kernel/debug/extfrag/extfrag_index */
  extfragIndexText: string;
  notes: string[];
}

export interface FragmentationOptions {
  /** Kernel release for the print format (extfrag_index pads with `%2d` since 5.14). Default 6.1. */
  kernel?: string;
}

function zoneFrag(node: number, zone: string, nrFree: number[]): ZoneFrag {
  const unusable: number[] = [], extfrag: number[] = [];
  for (let o = 0; o < nrFree.length; o++) {
    const info = fillContigPageInfo(nrFree, o);
    unusable.push(unusableFreeIndex(o, info));
    extfrag.push(fragmentationIndex(o, info));
  }
  return { node, zone, nrFree, freePages: fillContigPageInfo(nrFree, 0).freePages, unusable, extfrag };
}

/** `Node %d, zone %8s ` then one index per order, then a newline. */
export function renderIndexFile(zones: ZoneFrag[], which: 'unusable' | 'extfrag', width2: boolean): string {
  let out = '';
  for (const z of zones) {
    out += `Node ${z.node}, zone ${z.zone.padStart(8, ' ')} `;
    for (const v of which === 'unusable' ? z.unusable : z.extfrag) out += `${formatIndex(v, which === 'extfrag' && width2)} `;
    out += '\n';
  }
  return out;
}

/** Read buddyinfo, pagetypeinfo or a report and compute both indices for every zone. */
export function fragmentationFromText(text: string, opts: FragmentationOptions = {}): FragmentationResult {
  const v = parseKernelVersion(opts.kernel ?? '6.1');
  const width2 = atLeast(v, 5, 14);
  const notes: string[] = [];
  let source: FragmentationResult['source'];
  const rows: Array<{ node: number; zone: string; nrFree: number[] }> = [];
  if (/Page block order:/.test(text)) {
    source = 'pagetypeinfo';
    const p = parsePagetypeinfo(text);
    for (const r of p.free) {
      let row = rows.find((x) => x.node === r.node && x.zone === r.zone);
      if (row === undefined) { row = { node: r.node, zone: r.zone, nrFree: new Array(r.counts.length).fill(0) }; rows.push(row); }
      r.counts.forEach((c, o) => { row!.nrFree[o] = (row!.nrFree[o] ?? 0) + c; });
      if (r.counts.some((c) => c >= 100000)) notes.push(`${r.zone}/${r.type}: a count printed as >100000 was read as 100000`);
    }
    notes.push('pagetypeinfo: free counts summed over every migratetype, as nr_free counts them.');
  } else if (/page allocation failure/.test(text)) {
    source = 'report';
    for (const rep of parseReports(text)) {
      for (const z of rep.zones) {
        if (z.freeArea === undefined) continue;
        rows.push({ node: z.node ?? 0, zone: z.name, nrFree: [...z.freeArea.nrFree] });
      }
      if (rows.length > 0) break;
    }
    if (rows.length === 0) throw new BadInputError('fragmentation-no-orders', 'Cannot compute fragmentation: the report has no per-order free lines');
  } else {
    source = 'buddyinfo';
    for (const z of parseBuddyinfo(text).zones) rows.push({ node: z.node, zone: z.zone, nrFree: z.nrFree });
  }
  const zones = rows.map((r) => zoneFrag(r.node, r.zone, r.nrFree));
  return {
    source, zones, notes,
    unusableIndexText: renderIndexFile(zones, 'unusable', width2),
    extfragIndexText: renderIndexFile(zones, 'extfrag', width2),
  };
}
