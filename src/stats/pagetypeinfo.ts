/**
 * /proc/pagetypeinfo: free blocks per order and migratetype, and pageblocks per migratetype.
 * @kernel mm/vmstat.c pagetypeinfo_show, pagetypeinfo_showfree_print, pagetypeinfo_showblockcount_print (6.1)
 */
import { BadInputError } from '../errors.ts';
import { padLeft, padRight, parseUInt, splitLines } from './_text.ts';

/** 6.1 caps each list walk: at 100000 entries it stops and prints ">100000". */
export const PAGETYPEINFO_FREE_CAP = 100000;

export interface PagetypeinfoFreeRow {
  node: number;
  zone: string;
  /** migratetype name as printed: Unmovable, Movable, Reclaimable, HighAtomic, CMA, Isolate (old: Reserve) */
  type: string;
  /** free blocks per order; a printed ">100000" reads as 100000 */
  counts: number[];
}

export interface PagetypeinfoBlockRow {
  node: number;
  zone: string;
  /** pageblocks per migratetype, in the order of `blockTypes` */
  counts: number[];
}

export interface Pagetypeinfo {
  pageblockOrder: number;
  pagesPerBlock: number;
  /** orders of the free table header (0..10) */
  orders: number[];
  free: PagetypeinfoFreeRow[];
  /** migratetype names of the block-count header */
  blockTypes: string[];
  blocks: PagetypeinfoBlockRow[];
  /** "Number of mixed blocks" (CONFIG_PAGE_OWNER with page_owner=on), same layout as `blocks` */
  mixedBlocks?: PagetypeinfoBlockRow[];
}

const FREE_HEADER = 'Free pages count per migrate type at order';

function blockSection(title: string, types: string[], rows: PagetypeinfoBlockRow[]): string {
  let out = `\n${padRight(title, 23)}`;
  for (const t of types) out += `${padLeft(t, 12)} `;
  out += '\n';
  for (const r of rows) {
    out += `Node ${r.node}, zone ${padLeft(r.zone, 8)} `;
    for (const c of r.counts) out += `${padLeft(c, 12)} `;
    out += '\n';
  }
  return out;
}

/** Print exactly as Linux 6.1 does. */
export function renderPagetypeinfo(p: Pagetypeinfo): string {
  let out = `Page block order: ${p.pageblockOrder}\nPages per block:  ${p.pagesPerBlock}\n\n`;
  out += `${padRight(FREE_HEADER, 43)} `;
  for (const o of p.orders) out += `${padLeft(o, 6)} `;
  out += '\n';
  for (const r of p.free) {
    out += `Node ${padLeft(r.node, 4)}, zone ${padLeft(r.zone, 8)}, type ${padLeft(r.type, 12)} `;
    for (const c of r.counts) out += c >= PAGETYPEINFO_FREE_CAP ? `>${padLeft(PAGETYPEINFO_FREE_CAP, 6)} ` : `${padLeft(c, 6)} `;
    out += '\n';
  }
  out += blockSection('Number of blocks type ', p.blockTypes, p.blocks);
  if (p.mixedBlocks !== undefined) out += blockSection('Number of mixed blocks ', p.blockTypes, p.mixedBlocks);
  return out;
}

const isCount = (w: string): boolean => /^>?\d+$/.test(w);
const count = (w: string, no: number): number => parseUInt(w.replace(/^>/, ''), no, 'count');

/**
 * Read /proc/pagetypeinfo of any 2.6–6.x kernel. Tolerates CRLF, trailing blanks, and rows or headers wrapped
 * by mail clients (a line of numbers continues the row above; a line of type names continues the block header).
 */
export function parsePagetypeinfo(text: string): Pagetypeinfo {
  let pageblockOrder: number | undefined;
  let pagesPerBlock: number | undefined;
  let orders: number[] | undefined;
  const free: PagetypeinfoFreeRow[] = [];
  let blockTypes: string[] | undefined;
  const blocks: PagetypeinfoBlockRow[] = [];
  let mixed: PagetypeinfoBlockRow[] | undefined;
  let section: 'top' | 'freehdr' | 'free' | 'blockhdr' | 'blocks' | 'mixedhdr' | 'mixed' = 'top';
  let last: { counts: number[] } | undefined;
  for (const { no, text: t } of splitLines(text)) {
    const s = t.trim();
    if (s === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^Page block order:\s*(\d+)$/.exec(s))) { pageblockOrder = parseUInt(m[1]!, no, 'page block order'); continue; }
    if ((m = /^Pages per block:\s*(\d+)$/.exec(s))) { pagesPerBlock = parseUInt(m[1]!, no, 'pages per block'); continue; }
    if (s.startsWith(FREE_HEADER)) {
      const rest = s.slice(FREE_HEADER.length).trim();
      orders = rest === '' ? [] : rest.split(/\s+/).map((w) => parseUInt(w, no, 'order'));
      section = 'freehdr';
      continue;
    }
    if ((m = /^Number of (blocks|mixed blocks) type\s*(.*)$/.exec(s)) || (m = /^Number of (mixed blocks)\s*(.*)$/.exec(s))) {
      const names = m[2]!.trim() === '' ? [] : m[2]!.trim().split(/\s+/);
      if (m[1] === 'blocks') { blockTypes = names; section = 'blockhdr'; } else { mixed = []; section = 'mixedhdr'; }
      last = undefined;
      continue;
    }
    if ((m = /^Node\s+(\d+),\s*zone\s+(\S+),\s*type\s+(\S+)((?:\s+\S+)*)$/.exec(s))) {
      if (orders === undefined) throw new BadInputError('PAGETYPEINFO_BAD_LINE', 'Cannot parse pagetypeinfo: free-count row before its header', no);
      const words = m[4]!.trim() === '' ? [] : m[4]!.trim().split(/\s+/);
      if (!words.every(isCount)) throw new BadInputError('PAGETYPEINFO_BAD_NUMBER', 'Cannot parse pagetypeinfo: a free count is not a number', no);
      const row = { node: parseUInt(m[1]!, no, 'node'), zone: m[2]!, type: m[3]!, counts: words.map((w) => count(w, no)) };
      free.push(row);
      last = row;
      section = 'free';
      continue;
    }
    if ((m = /^Node\s+(\d+),\s*zone\s+(\S+)((?:\s+\S+)*)$/.exec(s))) {
      if (section !== 'blockhdr' && section !== 'blocks' && section !== 'mixedhdr' && section !== 'mixed') {
        throw new BadInputError('PAGETYPEINFO_BAD_LINE', 'Cannot parse pagetypeinfo: block-count row before its header', no);
      }
      const words = m[3]!.trim() === '' ? [] : m[3]!.trim().split(/\s+/);
      if (!words.every(isCount)) throw new BadInputError('PAGETYPEINFO_BAD_NUMBER', 'Cannot parse pagetypeinfo: a block count is not a number', no);
      const row = { node: parseUInt(m[1]!, no, 'node'), zone: m[2]!, counts: words.map((w) => count(w, no)) };
      if (section === 'blockhdr' || section === 'blocks') { blocks.push(row); section = 'blocks'; } else { mixed!.push(row); section = 'mixed'; }
      last = row;
      continue;
    }
    const words = s.split(/\s+/);
    if (words.every(isCount)) {
      if (section === 'freehdr' && orders !== undefined && free.length === 0) { orders.push(...words.map((w) => parseUInt(w, no, 'order'))); continue; }
      if (last !== undefined) { last.counts.push(...words.map((w) => count(w, no))); continue; }
    } else if ((section === 'blockhdr' && blocks.length === 0) && words.every((w) => /^[A-Za-z]+$/.test(w))) {
      blockTypes!.push(...words);
      continue;
    }
    throw new BadInputError('PAGETYPEINFO_BAD_LINE', `Cannot parse pagetypeinfo: unexpected line "${s.slice(0, 60)}"`, no);
  }
  if (pageblockOrder === undefined || pagesPerBlock === undefined || orders === undefined) {
    throw new BadInputError('PAGETYPEINFO_MISSING', 'Cannot parse pagetypeinfo: the "Page block order", "Pages per block" or free-count header is missing');
  }
  for (const r of free) {
    if (r.counts.length !== orders.length) throw new BadInputError('PAGETYPEINFO_ORDERS', `Cannot parse pagetypeinfo: ${r.zone}/${r.type} has ${r.counts.length} counts for ${orders.length} orders`);
  }
  const types = blockTypes ?? [];
  for (const r of [...blocks, ...(mixed ?? [])]) {
    if (r.counts.length !== types.length) throw new BadInputError('PAGETYPEINFO_TYPES', `Cannot parse pagetypeinfo: ${r.zone} has ${r.counts.length} block counts for ${types.length} types`);
  }
  const out: Pagetypeinfo = { pageblockOrder, pagesPerBlock, orders, free, blockTypes: types, blocks };
  if (mixed !== undefined) out.mixedBlocks = mixed;
  return out;
}
