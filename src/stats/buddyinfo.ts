/**
 * /proc/buddyinfo: free blocks per order of every populated zone.
 * @kernel mm/vmstat.c frag_show_print (identical 4.19–6.12)
 */
import { BadInputError } from '../errors.ts';
import { padLeft, parseUInt, splitLines } from './_text.ts';

export interface BuddyinfoZone {
  node: number;
  zone: string;
  /** free_area[order].nr_free for order 0..n-1 (11 orders on x86_64) */
  nrFree: number[];
}

export interface Buddyinfo {
  zones: BuddyinfoZone[];
}

/** Print exactly as the kernel: "Node %d, zone %8s " then "%6lu " per order, then a newline. */
export function renderBuddyinfo(b: Buddyinfo): string {
  let out = '';
  for (const z of b.zones) {
    out += `Node ${z.node}, zone ${padLeft(z.zone, 8)} `;
    for (const n of z.nrFree) out += `${padLeft(n, 6)} `;
    out += '\n';
  }
  return out;
}

/**
 * Read /proc/buddyinfo. Tolerates CRLF, trailing blanks, blank lines, and rows wrapped by mail clients
 * (a line of numbers only continues the row above it). All zones must have the same number of orders.
 */
export function parseBuddyinfo(text: string): Buddyinfo {
  const zones: BuddyinfoZone[] = [];
  const lines: number[] = [];
  for (const { no, text: t } of splitLines(text)) {
    const s = t.trim();
    if (s === '') continue;
    const m = /^Node\s+(\d+),\s*zone\s+(\S+)((?:\s+\S+)*)$/.exec(s);
    if (m) {
      const nums = m[3]!.trim() === '' ? [] : m[3]!.trim().split(/\s+/);
      zones.push({ node: parseUInt(m[1]!, no, 'node'), zone: m[2]!, nrFree: nums.map((n) => parseUInt(n, no, 'free block count')) });
      lines.push(no);
      continue;
    }
    if (/^\d+(\s+\d+)*$/.test(s) && zones.length > 0) {
      for (const n of s.split(/\s+/)) zones[zones.length - 1]!.nrFree.push(parseUInt(n, no, 'free block count'));
      continue;
    }
    throw new BadInputError('BUDDYINFO_BAD_LINE', `Cannot parse buddyinfo: expected "Node N, zone NAME counts…", got "${s.slice(0, 60)}"`, no);
  }
  if (zones.length === 0) throw new BadInputError('BUDDYINFO_EMPTY', 'Cannot parse buddyinfo: no "Node N, zone NAME" line found');
  const n = zones[0]!.nrFree.length;
  zones.forEach((z, i) => {
    if (z.nrFree.length === 0) throw new BadInputError('BUDDYINFO_BAD_LINE', `Cannot parse buddyinfo: zone ${z.zone} has no counts`, lines[i]);
    if (z.nrFree.length !== n) {
      throw new BadInputError('BUDDYINFO_ORDERS', `Cannot parse buddyinfo: zone ${z.zone} has ${z.nrFree.length} orders, the first zone ${n}`, lines[i]);
    }
  });
  return { zones };
}
