/**
 * /proc/zoneinfo: a plain snapshot type, the kernel's 6.1 text, and a tolerant reader for 2.6–6.x layouts.
 * @kernel mm/vmstat.c zoneinfo_show_print (6.1)
 */
import { BadInputError } from '../errors.ts';
import { padLeft, padRight, parseInt10, parseUInt, splitLines } from './_text.ts';

/** One "name value" counter line. */
export interface ProcStat {
  name: string;
  value: number;
}

/** One CPU's per-cpu pageset as zoneinfo prints it. */
export interface PagesetSnapshot {
  cpu: number;
  count: number;
  high: number;
  batch: number;
  /** "vm stats threshold" printed after each CPU (CONFIG_SMP). */
  statThreshold?: number;
}

/** One zone of /proc/zoneinfo. Page counts are in pages. */
export interface ZoneinfoZone {
  node: number;
  /** Printed zone name: DMA, DMA32, Normal, HighMem, Movable, Device */
  zone: string;
  /** The node's counters, printed with the first populated zone of the node only. */
  nodeStats?: ProcStat[];
  free: number;
  /** 5.4+ (printed from 6.1 in zoneinfo) */
  boost?: number;
  min: number;
  low: number;
  high: number;
  /** printed by 6.12-era kernels only */
  promo?: number;
  spanned: number;
  present: number;
  /** absent before 3.8 */
  managed?: number;
  /** 5.12+ */
  cma?: number;
  /** Other header lines of other kernels (e.g. "scanned"), in order. */
  headerExtra?: ProcStat[];
  /** lowmem_reserve[] */
  protection: number[];
  /** Zone counters (and NUMA events) in printed order; empty for an unpopulated zone. */
  stats: ProcStat[];
  pagesets: PagesetSnapshot[];
  nodeUnreclaimable?: number;
  startPfn?: number;
  /** Set by the reader when the zone's text stops before its protection line (a truncated paste). */
  incomplete?: boolean;
  /** Trailing "name: value" lines of other kernels (all_unreclaimable, prev_priority, inactive_ratio …). */
  tailExtra?: ProcStat[];
}

export interface Zoneinfo {
  zones: ZoneinfoZone[];
}

const HEADER_KEYS = new Set(['boost', 'min', 'low', 'high', 'promo', 'spanned', 'present', 'managed', 'cma', 'scanned']);

/**
 * Read /proc/zoneinfo text. Tolerates CRLF, trailing blanks, blank lines and the layouts of older kernels;
 * anything else is a BadInputError naming the line.
 */
export function parseZoneinfo(text: string): Zoneinfo {
  const zones: ZoneinfoZone[] = [];
  let z: (Partial<ZoneinfoZone> & { zoneLine: number }) | undefined;
  let mode: 'start' | 'node' | 'header' | 'stats' | 'pagesets' | 'tail' = 'start';
  let pcp: Partial<PagesetSnapshot> | undefined;
  const finishPcp = (line: number): void => {
    if (z === undefined || pcp === undefined) return;
    if (pcp.count === undefined || pcp.high === undefined || pcp.batch === undefined) {
      throw new BadInputError('ZONEINFO_BAD_PAGESET', `Cannot parse zoneinfo: cpu ${pcp.cpu} lacks count, high or batch`, line);
    }
    z.pagesets!.push(pcp as PagesetSnapshot);
    pcp = undefined;
  };
  const finishZone = (line: number): void => {
    if (z === undefined) return;
    finishPcp(line);
    for (const k of ['free', 'min', 'low', 'high', 'spanned', 'present'] as const) {
      if (z[k] === undefined) {
        throw new BadInputError('ZONEINFO_MISSING_FIELD',
          `Cannot parse zoneinfo: zone ${z.zone} of node ${z.node} has no "${k === 'free' ? 'pages free' : k}" line`, z.zoneLine);
      }
    }
    if (z.protection === undefined) {
      // a cut-off paste: keep what is there and say so
      z.protection = [];
      z.incomplete = true;
    }
    const { zoneLine: _ignored, ...rest } = z;
    zones.push(rest as ZoneinfoZone);
    z = undefined;
  };
  for (const { no, text: t } of splitLines(text)) {
    if (t.trim() === '') continue;
    let m = /^Node\s+(\d+),\s*zone\s+(\S+)$/.exec(t.trim());
    if (m) {
      finishZone(no);
      z = { zoneLine: no, node: parseUInt(m[1]!, no, 'node'), zone: m[2]!, stats: [], pagesets: [] };
      mode = 'node';
      continue;
    }
    if (z === undefined) throw new BadInputError('ZONEINFO_BAD_LINE', `Cannot parse zoneinfo: expected "Node N, zone NAME", got "${t.trim().slice(0, 60)}"`, no);
    const s = t.trim();
    if (s === 'per-node stats') {
      if (mode !== 'node') throw new BadInputError('ZONEINFO_BAD_LINE', 'Cannot parse zoneinfo: "per-node stats" must follow the zone line', no);
      z.nodeStats = [];
      continue;
    }
    if ((m = /^pages free\s+(\d+)$/.exec(s))) {
      z.free = parseUInt(m[1]!, no, 'pages free');
      mode = 'header';
      continue;
    }
    if ((m = /^protection:\s*\(([-\d,\s]*)\)$/.exec(s))) {
      const parts = m[1]!.split(',').map((p) => p.trim()).filter((p) => p !== '');
      z.protection = parts.map((p) => parseInt10(p, no, 'protection'));
      if (mode === 'header' || mode === 'node') mode = 'stats';
      continue;
    }
    if (s === 'pagesets') {
      mode = 'pagesets';
      continue;
    }
    if ((m = /^cpu:\s*(\d+)$/.exec(s))) {
      if (mode !== 'pagesets') throw new BadInputError('ZONEINFO_BAD_LINE', 'Cannot parse zoneinfo: "cpu:" outside pagesets', no);
      finishPcp(no);
      pcp = { cpu: parseUInt(m[1]!, no, 'cpu') };
      continue;
    }
    if (mode === 'pagesets' && (m = /^(count|high|batch):\s*(-?\d+)$/.exec(s))) {
      if (pcp === undefined) throw new BadInputError('ZONEINFO_BAD_LINE', `Cannot parse zoneinfo: "${m[1]}:" before "cpu:"`, no);
      pcp[m[1] as 'count' | 'high' | 'batch'] = parseInt10(m[2]!, no, m[1]!);
      continue;
    }
    if ((m = /^vm stats threshold:\s*(-?\d+)$/.exec(s))) {
      if (pcp === undefined) throw new BadInputError('ZONEINFO_BAD_LINE', 'Cannot parse zoneinfo: "vm stats threshold" outside a cpu', no);
      pcp.statThreshold = parseInt10(m[1]!, no, 'vm stats threshold');
      continue;
    }
    if ((m = /^([A-Za-z_][\w()]*):\s+(-?\d+)$/.exec(s))) {
      finishPcp(no);
      mode = 'tail';
      const v = parseInt10(m[2]!, no, m[1]!);
      if (m[1] === 'node_unreclaimable') z.nodeUnreclaimable = v;
      else if (m[1] === 'start_pfn') z.startPfn = v;
      else (z.tailExtra ??= []).push({ name: m[1]!, value: v });
      continue;
    }
    if ((m = /^([A-Za-z_][\w]*)\s+(\d+)$/.exec(s))) {
      const name = m[1]!;
      const value = parseUInt(m[2]!, no, name);
      if (mode === 'header' && HEADER_KEYS.has(name)) {
        if (name === 'scanned') (z.headerExtra ??= []).push({ name, value });
        else z[name as 'min'] = value;
        continue;
      }
      if (mode === 'node' && z.nodeStats !== undefined) { z.nodeStats.push({ name, value }); continue; }
      if (mode === 'header' || mode === 'stats') { mode = 'stats'; z.stats!.push({ name, value }); continue; }
    }
    throw new BadInputError('ZONEINFO_BAD_LINE', `Cannot parse zoneinfo: unexpected line "${s.slice(0, 60)}"`, no);
  }
  finishZone(0);
  if (zones.length === 0) throw new BadInputError('ZONEINFO_EMPTY', 'Cannot parse zoneinfo: no "Node N, zone NAME" line found');
  return { zones };
}

const stat = (s: ProcStat): string => `\n      ${padRight(s.name, 12)} ${s.value}`;

/**
 * Print /proc/zoneinfo exactly as Linux 6.1 does. A zone with present == 0 stops after its protection line.
 * Fields 6.1 does not print (promo, headerExtra, tailExtra) are ignored; missing optional ones print as 0.
 * @kernel mm/vmstat.c zoneinfo_show_print (6.1)
 */
export function renderZoneinfo(info: Zoneinfo): string {
  let out = '';
  for (const z of info.zones) {
    out += `Node ${z.node}, zone ${padLeft(z.zone, 8)}`;
    if (z.nodeStats !== undefined) {
      out += '\n  per-node stats';
      for (const s of z.nodeStats) out += stat(s);
    }
    out += `\n  pages free     ${z.free}`;
    out += `\n        boost    ${z.boost ?? 0}`;
    out += `\n        min      ${z.min}`;
    out += `\n        low      ${z.low}`;
    out += `\n        high     ${z.high}`;
    out += `\n        spanned  ${z.spanned}`;
    out += `\n        present  ${z.present}`;
    out += `\n        managed  ${z.managed ?? 0}`;
    out += `\n        cma      ${z.cma ?? 0}`;
    out += `\n        protection: (${z.protection.join(', ')})`;
    if (z.present === 0) { out += '\n'; continue; }
    for (const s of z.stats) out += stat(s);
    out += '\n  pagesets';
    for (const p of z.pagesets) {
      out += `\n    cpu: ${p.cpu}`;
      out += `\n              count: ${p.count}`;
      out += `\n              high:  ${p.high}`;
      out += `\n              batch: ${p.batch}`;
      out += `\n  vm stats threshold: ${p.statThreshold ?? 0}`;
    }
    out += `\n  node_unreclaimable:  ${z.nodeUnreclaimable ?? 0}`;
    out += `\n  start_pfn:           ${z.startPfn ?? 0}`;
    out += '\n';
  }
  return out;
}
