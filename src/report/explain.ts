/**
 * Why did this allocation fail, and what should change? Replays the kernel's last freelist attempt
 * (the slow path's WMARK_MIN pass with the reserves the gfp earns) against the numbers a real
 * report printed, zone by zone, with the watermark check the simulator itself uses.
 * @kernel mm/page_alloc.c gfp_to_alloc_flags, __gfp_pfmemalloc_flags, zone_watermark_fast, __zone_watermark_ok, __setup_per_zone_wmarks
 */
import { BadInputError } from '../errors.ts';
import {
  ALLOC_CMA, ALLOC_CPUSET, ALLOC_HARDER, ALLOC_HIGH, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE,
  ALLOC_NON_BLOCK, ALLOC_NO_WATERMARKS, ALLOC_WMARK_MIN,
} from '../gfp/alloc_flags.ts';
import { MIGRATE_HIGHATOMIC, PAGE_ALLOC_COSTLY_ORDER } from '../mm/constants.ts';
import {
  effectiveMin, zoneWatermarkOk, zoneWatermarkOkV26, zoneWatermarkUnusableFree,
  type WatermarkRules, type WatermarkZoneView,
} from '../zone/watermark.ts';
import { formatGfp, gfpToAllocFlags, resolveLayout, type GfpContext } from '../gfp/index.ts';
import { gfpBitsFor, type GfpBits } from './_gfp_era.ts';
import { atLeast, parseKernelVersion, type KernelVersion } from '../gfp/version.ts';
import { reportPageKb, type ParsedReport, type ReportZone } from './parse.ts';

/** Stable verdict kinds (also the `verdict.kind` of --json). */
export const VERDICT_KINDS = ['below-watermark', 'fragmentation', 'lowmem-reserve', 'no-eligible-zone', 'snapshot-passes', 'insufficient-data'] as const;
export type VerdictKind = typeof VERDICT_KINDS[number];

/** Why one zone failed (or not) the replayed check. */
export type ZoneOutcome = 'pass' | 'watermark' | 'reserve' | 'fragmentation' | 'ineligible' | 'unknown';

export interface ZoneCheck {
  /** Replayed numbers, all in pages. */
  mark: number;
  /** The mark the caller must stay above after its reserves (before lowmem_reserve). */
  effectiveMin: number;
  lowmemReserve: number;
  /** Pages the caller may not count: the order's tail, the highatomic reserve, CMA. */
  unusable: number;
  usableFree: number;
  /** usableFree > effectiveMin + lowmemReserve */
  freeOk: boolean;
  /** Order > 0: a free block of the order or larger on a list this caller may use. Null for order 0 or when unknown. */
  blockOk: boolean | null;
  /** The smallest order ≥ the request's with a usable free block, or null. */
  blockOrder: number | null;
  /** 6.1: order 0 GFP_ATOMIC retried against the unboosted min (zone_watermark_fast). */
  boostBypass: { mark: number; effectiveMin: number; ok: boolean } | null;
  /** ≤4.3: the order at which the per-order test failed, the pages left and the halved min. */
  preOrderTest?: { order: number; left: number; min: number } | null;
  ok: boolean;
}

export interface ZoneReplay {
  node: number | null;
  name: string;
  /** Index in the kernel build's zone enum (as deduced from lowmem_reserve[]'s length). */
  zoneIdx: number;
  freePages: number | null;
  minPages: number | null;
  lowPages: number | null;
  highPages: number | null;
  boostPages: number | null;
  managedPages: number | null;
  presentPages: number | null;
  reservedHighatomicPages: number;
  freeCmaPages: number;
  lowmemReserve: number[] | null;
  /** Free blocks per order and the migratetype letters of the non-empty lists. */
  freeBlocks: Array<{ order: number; count: number; types: string | null }>;
  eligible: boolean;
  whyIneligible: string | null;
  check: ZoneCheck | null;
  outcome: ZoneOutcome;
  /** One line: the comparison with its numbers. */
  text: string;
}

export interface Remedy {
  kind: 'min_free_kbytes' | 'lowmem_reserve_ratio' | 'compaction' | 'lower-order' | 'kvmalloc' | 'nowarn' | 'mempool'
    | 'reclaimable-memory' | 'zone-modifier' | 'version-note' | 'rate-limit';
  text: string;
  /** The computed value where there is one (e.g. the min_free_kbytes). */
  value?: number;
  /** An upper estimate beside `value` (min_free_kbytes with the watermark boost counted). */
  upper?: number;
}

export interface Explanation {
  kernel: string | null;
  kernelSource: 'cpu-line' | 'option' | 'inferred' | 'unknown';
  rules: WatermarkRules;
  comm: string;
  order: number;
  mode: string;
  /** The mode's flag names decoded for that kernel (%pGg, via src/gfp). */
  modeNames: string | null;
  /** The names the report itself printed in parentheses, or null (old formats print none). */
  printedModeNames: string | null;
  context: ParsedReport['context'];
  mayBlock: boolean;
  allocFlags: number;
  allocFlagNames: string[];
  /** Fraction of the min watermark the caller must stay above, e.g. "3/8". */
  watermarkFraction: string;
  highestZone: string | null;
  zones: ZoneReplay[];
  verdict: { kind: VerdictKind; text: string; reasons?: string[] };
  remedies: Remedy[];
  notes: string[];
  /** The report's place in the input. */
  startLine: number;
}

export interface ExplainOptions {
  /** Kernel release overriding the report's CPU line (`--kernel`). */
  kernel?: string;
}

/** enum zone_type order; a build has a subset of these. */
const ZONE_ORDER = ['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device'] as const;
const DEFAULT_KERNEL = '6.1';

/**
 * The build's zone enum, deduced from the zones the report printed and the length of lowmem_reserve[]
 * (MAX_NR_ZONES). Movable is configured on every kernel that prints these reports; Device next.
 */
export function zoneEnum(printed: string[], nrZones: number | null): string[] {
  const have = new Set<string>(printed);
  have.add('Normal');
  const extra = ['Movable', 'Device', 'HighMem', 'DMA32', 'DMA'];
  if (nrZones === null) have.add('Movable');
  else for (const z of extra) { if (have.size >= nrZones) break; have.add(z); }
  return ZONE_ORDER.filter((z) => have.has(z));
}

/**
 * gfp_zone() by name: the zone a mask targets (GFP_ZONE_TABLE), or null for a GFP_ZONE_BAD combination.
 * @kernel include/linux/gfp.h gfp_zone
 */
export function gfpZoneName(mode: number, bits: GfpBits, zones: string[]): string | null {
  const b = (mode & bits.DMA ? 1 : 0) | (mode & bits.HIGHMEM ? 2 : 0) | (mode & bits.DMA32 ? 4 : 0) | (mode & bits.MOVABLE ? 8 : 0);
  const opt = (z: string) => (zones.includes(z) ? z : 'Normal');
  switch (b) {
    case 0: case 8: return 'Normal';
    case 1: case 9: return opt('DMA');
    case 2: return opt('HighMem');
    case 4: case 12: return opt('DMA32');
    case 10: return zones.includes('Movable') ? 'Movable' : 'Normal';
    default: return null;
  }
}

/** The fraction of `mark` that effectiveMin leaves, as text ("1", "1/2", "3/4", "3/8"). */
function fractionText(flags: number, rules: WatermarkRules): string {
  const big = 1 << 20;
  const f = effectiveMin(big, flags, rules) / big;
  const table: Array<[number, string]> = [[1, '1'], [0.5, '1/2'], [0.75, '3/4'], [0.375, '3/8'], [0.25, '1/4'], [0.1875, '3/16']];
  for (const [v, t] of table) if (Math.abs(v - f) < 1e-9) return t;
  return f.toFixed(4);
}

interface Replay {
  v: KernelVersion;
  rules: WatermarkRules;
  bits: GfpBits;
  flags: number;
  mayBlock: boolean;
  notes: string[];
}

/**
 * The alloc_flags of the slow path's attempt after kswapd was woken (the last one an atomic caller
 * gets, and the check a sleeping caller failed once reclaim and compaction gave up), from src/gfp's
 * gfp_to_alloc_flags and __gfp_pfmemalloc_flags.
 * @kernel mm/page_alloc.c gfp_to_alloc_flags, __gfp_pfmemalloc_flags
 */
function slowPathFlags(rep: ParsedReport, version: string, bits: GfpBits, notes: string[]): { flags: number; names: string[] } {
  const g = rep.mode;
  const kswapd = /^kswapd\d*$/.test(rep.comm);
  // PF_MEMALLOC only counts in task context: __do_softirq masks the interrupted task's PF_MEMALLOC.
  const pfMemalloc = kswapd && rep.context === 'task';
  const context: GfpContext = rep.context === 'interrupt' ? 'softirq' : 'process';
  const cma = rep.zones.some((z) => (z.fields.free_cma ?? 0) > 0 || (z.freeArea?.types ?? []).some((t) => t !== null && t.includes('C')))
    || (rep.totals.cmaReservedPages ?? 0) > 0;
  const res = gfpToAllocFlags(g, { version, order: rep.order, slowPath: true, context, pfMemalloc, cma });
  if (!(g & bits.NOMEMALLOC)) {
    if (g & bits.MEMALLOC) notes.push('__GFP_MEMALLOC: the retry ignores watermarks (ALLOC_NO_WATERMARKS); only an empty free list can fail it.');
    else if (pfMemalloc) notes.push('kswapd runs with PF_MEMALLOC in task context: the retry ignores watermarks (ALLOC_NO_WATERMARKS).');
    else if (kswapd && rep.context === 'interrupt') notes.push('The softirq interrupted kswapd: __do_softirq masks PF_MEMALLOC, so kswapd\'s reserves do not apply.');
  }
  if ((res.flags & ALLOC_NO_WATERMARKS) === 0 && rep.context !== 'interrupt' && (g & bits.DIRECT_RECLAIM)) {
    notes.push('Not modelled: a realtime task gets ALLOC_HARDER/ALLOC_MIN_RESERVE, an OOM victim ALLOC_OOM; the report cannot tell.');
  }
  return { flags: res.flags, names: res.names };
}

/** Layouts to try, newest first, when the report names no kernel: one release per GFP layout. */
const LAYOUT_PROBES = ['6.19', '6.12', '6.8', '6.6', '6.3', '6.1', '5.17', '5.15', '5.13', '5.4', '4.19', '4.14', '4.12', '4.9', '4.4', '3.19', '2.6.32'];

/** The newest release whose %pGg of the mask is exactly what the report printed, or null. */
export function inferKernelFromNames(mode: number, printed: string | null): string | null {
  if (printed === null) return null;
  for (const v of LAYOUT_PROBES) {
    try { if (formatGfp(mode, v) === printed) return v; } catch { /* a layout that cannot format it */ }
  }
  return null;
}

function pagesOf(z: ReportZone, field: string, pageKb: number): number | null {
  const v = z.fields[field];
  if (v === undefined) return null;
  return z.units[field] === 'kB' ? Math.floor(v / pageKb) : v;
}

const LETTER_MT: Record<string, number> = { U: 0, M: 1, E: 2, H: MIGRATE_HIGHATOMIC };

function zoneView(z: ReportZone, hzIdx: number, pageKb: number, notes: string[]): WatermarkZoneView {
  const fa = z.freeArea;
  const lr = z.lowmemReserve;
  return {
    lowmemReserve: (i: number) => {
      if (lr === undefined) return 0;
      if (i >= lr.length) { notes.push(`${z.name}: lowmem_reserve[] has no entry ${i}; using 0`); return 0; }
      return lr[i]!;
    },
    // 6.12+ subtract the free pages on the highatomic lists (printed as free_highatomic), older kernels the reservation.
    nrReservedHighatomic: pagesOf(z, 'free_highatomic', pageKb) ?? pagesOf(z, 'reserved_highatomic', pageKb) ?? 0,
    nrFreeCma: pagesOf(z, 'free_cma', pageKb) ?? 0,
    nrFree: (o: number) => (fa === undefined ? 0 : fa.nrFree[o] ?? 0),
    freeListNonEmpty: (o: number, mt: number) => {
      if (fa === undefined || (fa.nrFree[o] ?? 0) === 0) return false;
      const t = fa.types[o];
      // Kernels before the letters (≤3.x) print none: count the blocks as ordinary types.
      if (t === null || t === undefined) return mt < 3;
      for (const ch of t) if (LETTER_MT[ch] === mt) return true;
      // Pre-4.4 "R" (MIGRATE_RESERVE) served any caller as a last resort.
      return mt === 0 && t.includes('R');
    },
    cmaListNonEmpty: (o: number) => fa !== undefined && (fa.nrFree[o] ?? 0) > 0 && (fa.types[o] ?? '').includes('C'),
  };
}

/** Parse a nodelist like `0-1,3` (or `(null)`), null meaning "no restriction". */
function nodeList(s: string | null): Set<number> | null {
  if (s === null || s === '' || s === '(null)') return null;
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) return null;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let n = a; n <= b && n - a < 4096; n++) out.add(n);
  }
  return out;
}

/** Replay one report. Never throws for a parsed report, except for a malformed `--kernel`. */
export function explainReport(rep: ParsedReport, opts: ExplainOptions = {}): Explanation {
  const notes: string[] = [];
  let kernelSource: Explanation['kernelSource'] = 'unknown';
  let kernelText: string | null = null;
  if (opts.kernel !== undefined) { kernelText = opts.kernel; kernelSource = 'option'; }
  else if (rep.task?.kernel) { kernelText = rep.task.kernel; kernelSource = 'cpu-line'; }
  else {
    const inferred = inferKernelFromNames(rep.mode, rep.modeNames);
    if (inferred !== null) {
      kernelText = inferred; kernelSource = 'inferred';
      notes.push(`No kernel release in the report: the printed names "${rep.modeNames}" match the GFP layout of ${inferred} (the newest such); its rules apply.`);
    }
  }
  let v: KernelVersion;
  if (kernelText === null) {
    v = parseKernelVersion(DEFAULT_KERNEL);
    notes.push(`No kernel version in the report and no --kernel: replaying with ${DEFAULT_KERNEL}'s rules.`);
  } else {
    try { v = parseKernelVersion(kernelText); } catch (e) {
      if (kernelSource === 'option') throw e;
      v = parseKernelVersion(DEFAULT_KERNEL);
      notes.push(`Cannot read kernel "${kernelText}": replaying with ${DEFAULT_KERNEL}'s rules.`);
    }
  }
  const rules: WatermarkRules = atLeast(v, 6, 3) ? 'v6.3' : atLeast(v, 4, 4) ? 'v6.1' : 'v2.6';
  let version = kernelText !== null && v.raw === kernelText.trim() ? v.release : `${v.major}.${v.minor}`;
  try { resolveLayout(version); } catch { version = `${v.major}.${v.minor}`; }
  const bits = gfpBitsFor(version);
  const { flags, names: flagNames } = slowPathFlags(rep, version, bits, notes);
  let decoded: string | null = null;
  try { decoded = formatGfp(rep.mode, version); } catch { /* left as printed */ }
  if (decoded !== null && rep.modeNames !== null && decoded !== rep.modeNames) {
    notes.push(`The report printed "${rep.modeNames}"; the GFP layout of ${version} decodes ${rep.modeHex} as "${decoded}" (a different build option or a kernel release mismatch).`);
  }
  const mayBlock = (rep.mode & bits.DIRECT_RECLAIM) !== 0;
  const r: Replay = { v, rules, bits, flags, mayBlock, notes };
  const pageKb = reportPageKb(rep);

  const base = {
    kernel: kernelText, kernelSource, rules, comm: rep.comm, order: rep.order, mode: rep.modeHex,
    modeNames: decoded ?? rep.modeNames, printedModeNames: rep.modeNames, context: rep.context, mayBlock, allocFlags: flags,
    allocFlagNames: flagNames,
    watermarkFraction: flags & ALLOC_NO_WATERMARKS ? '0' : fractionText(flags, rules),
    notes, startLine: rep.startLine,
  };

  // The zone enum and the request's highest zone.
  const lrLen = rep.zones.find((z) => z.lowmemReserve !== undefined)?.lowmemReserve?.length ?? null;
  const zenum = zoneEnum(rep.zones.map((z) => z.name), lrLen);
  const hz = gfpZoneName(rep.mode, bits, zenum);
  const hzIdx = hz === null ? -1 : zenum.indexOf(hz);

  // Zonelist order: nodes as printed (the allocating CPU's node is unknown), highest zone first.
  const nodeOrder = [...new Set(rep.zones.map((z) => z.node))];
  const ordered = [...rep.zones].sort((a, b) => nodeOrder.indexOf(a.node) - nodeOrder.indexOf(b.node) || zenum.indexOf(b.name) - zenum.indexOf(a.name));
  if (nodeOrder.length > 1) notes.push(`Zones of ${nodeOrder.length} nodes: the zonelist is taken in node order ${nodeOrder.join(', ')} (the allocating CPU's node is not in the report).`);
  const zones: ZoneReplay[] = ordered.map((z) => replayZone(rep, z, zenum, hzIdx, r, pageKb));
  const remedies: Remedy[] = [];
  const verdict = decide(rep, zones, hz, r, remedies);
  addRemedies(rep, zones, verdict.kind, r, pageKb, remedies);
  return { ...base, highestZone: hz, zones, verdict, remedies };
}

function replayZone(rep: ParsedReport, z: ReportZone, zenum: string[], hzIdx: number, r: Replay, pageKb: number): ZoneReplay {
  const zoneIdx = zenum.indexOf(z.name);
  const free = pagesOf(z, 'free', pageKb);
  const min = pagesOf(z, 'min', pageKb);
  const boost = pagesOf(z, 'boost', pageKb);
  const managed = pagesOf(z, 'managed', pageKb);
  const present = pagesOf(z, 'present', pageKb);
  const fa = z.freeArea;
  const out: ZoneReplay = {
    node: z.node, name: z.name, zoneIdx, freePages: free, minPages: min, lowPages: pagesOf(z, 'low', pageKb), highPages: pagesOf(z, 'high', pageKb),
    boostPages: boost, managedPages: managed, presentPages: present,
    reservedHighatomicPages: pagesOf(z, 'reserved_highatomic', pageKb) ?? 0, freeCmaPages: pagesOf(z, 'free_cma', pageKb) ?? 0,
    lowmemReserve: z.lowmemReserve ?? null,
    freeBlocks: fa === undefined ? [] : fa.nrFree.map((count, order) => ({ order, count, types: fa.types[order] ?? null })),
    eligible: true, whyIneligible: null, check: null, outcome: 'unknown', text: '',
  };
  const label = `${z.node === null ? '' : `Node ${z.node} `}${z.name}`;
  // Eligibility: zone modifier, populated, nodemask / cpuset.
  const nodemask = nodeList(rep.nodemask);
  const mems = nodeList(rep.memsAllowed);
  if (hzIdx < 0) { out.eligible = false; out.whyIneligible = 'the mask has an invalid zone-modifier combination (GFP_ZONE_BAD)'; }
  else if (zoneIdx > hzIdx) { out.eligible = false; out.whyIneligible = `above the request's highest zone ${zenum[hzIdx]}`; }
  else if ((managed ?? present ?? 1) === 0) { out.eligible = false; out.whyIneligible = 'no managed pages'; }
  else if (nodemask !== null && z.node !== null && !nodemask.has(z.node)) { out.eligible = false; out.whyIneligible = `node ${z.node} not in nodemask ${rep.nodemask}`; }
  else if ((r.flags & ALLOC_CPUSET) && (rep.mode & r.bits.HARDWALL) && mems !== null && z.node !== null && !mems.has(z.node)) {
    out.eligible = false; out.whyIneligible = `node ${z.node} not in the cpuset's mems_allowed ${rep.memsAllowed}`;
  }
  if (!out.eligible) { out.outcome = 'ineligible'; out.text = `${label}: not eligible (${out.whyIneligible})`; return out; }
  if (free === null || (min === null && (r.flags & ALLOC_NO_WATERMARKS) === 0)) {
    out.text = `${label}: free/min not printed`;
    return out;
  }
  const notes = r.notes;
  const view = zoneView(z, hzIdx, pageKb, notes);
  const order = rep.order;
  const maxOrder = fa === undefined ? 0 : fa.nrFree.length;
  const blockOrderOf = (highatomic: boolean, cma: boolean): number | null => {
    for (let o = order; o < maxOrder; o++) {
      for (let mt = 0; mt < 3; mt++) if (view.freeListNonEmpty(o, mt)) return o;
      if (highatomic && view.freeListNonEmpty(o, MIGRATE_HIGHATOMIC)) return o;
      if (cma && view.cmaListNonEmpty!(o)) return o;
    }
    return null;
  };
  const highatomicOk = r.rules === 'v6.3' ? (r.flags & (ALLOC_HIGHATOMIC | 0x08)) !== 0 : (r.flags & (ALLOC_HARDER | 0x08)) !== 0;

  if (r.flags & ALLOC_NO_WATERMARKS) {
    const bo = fa === undefined ? null : blockOrderOf(false, (r.flags & ALLOC_CMA) !== 0);
    const ok = fa === undefined ? free > 0 && order === 0 : bo !== null;
    out.check = { mark: 0, effectiveMin: 0, lowmemReserve: 0, unusable: 0, usableFree: free, freeOk: true, blockOk: fa === undefined ? null : bo !== null, blockOrder: bo, boostBypass: null, preOrderTest: null, ok };
    out.outcome = fa === undefined && order > 0 ? 'unknown' : ok ? 'pass' : 'fragmentation';
    out.text = `${label}: no watermark (ALLOC_NO_WATERMARKS); ${bo === null ? `no free block of order ≥${order}` : `free block at order ${bo}`}`;
    return out;
  }

  const mark = min!;
  const reserve = view.lowmemReserve(hzIdx);
  const unusable = zoneWatermarkUnusableFree(view, order, r.flags, r.rules);
  const usable = free - unusable;
  const eff = effectiveMin(mark, r.flags, r.rules);
  const freeOk = usable > eff + reserve;
  let blockOk: boolean | null = null;
  let blockOrder: number | null = null;
  let ok: boolean;
  let v26: { order: number; left: number; min: number } | null = null;
  if (r.rules === 'v2.6') {
    const failedAt = { order: -2 };
    ok = fa === undefined && order > 0 ? freeOk : zoneWatermarkOkV26(view, order, mark, hzIdx, r.flags, free, failedAt);
    if (order > 0 && fa !== undefined) {
      blockOrder = blockOrderOf(false, false);
      blockOk = failedAt.order >= 0 ? false : ok ? true : null;
      if (failedAt.order >= 0) {
        // Replay the loop for the numbers of the failing step.
        let left = free - ((1 << order) - 1), m = eff;
        for (let o = 0; o <= failedAt.order; o++) { left -= view.nrFree(o) << o; m >>= 1; }
        v26 = { order: failedAt.order, left, min: m };
      }
    }
  } else {
    if (order > 0) {
      if (fa === undefined) blockOk = null;
      else { blockOrder = blockOrderOf(highatomicOk, (r.flags & ALLOC_CMA) !== 0); blockOk = blockOrder !== null; }
    }
    ok = fa === undefined && order > 0 ? freeOk : zoneWatermarkOk(view, order, mark, hzIdx, r.flags, free, r.rules, Math.max(maxOrder, 1));
  }
  // zone_watermark_fast (5.10+): an order-0 atomic request retries against the unboosted min.
  let boostBypass: ZoneCheck['boostBypass'] = null;
  const atomicForBoost = r.rules === 'v6.3' ? (r.flags & ALLOC_MIN_RESERVE) !== 0 : (rep.mode & r.bits.ATOMIC) !== 0;
  if (!ok && order === 0 && atLeast(r.v, 5, 10) && atomicForBoost && boost !== null && boost > 0) {
    const unboosted = mark - boost;
    const ok2 = zoneWatermarkOk(view, 0, unboosted, hzIdx, r.flags, free, r.rules === 'v2.6' ? 'v6.1' : r.rules);
    boostBypass = { mark: unboosted, effectiveMin: effectiveMin(unboosted, r.flags, r.rules), ok: ok2 };
    ok = ok2;
  }
  if (!ok && order === 0 && atomicForBoost && boost === null && atLeast(r.v, 5, 0) && !atLeast(r.v, 6, 1)) {
    r.notes.push(`${z.name}: 5.0–6.0 print min including any watermark boost without printing the boost${atLeast(r.v, 5, 10) ? ', and retry atomic order-0 requests against the unboosted min' : ''}; the true floor may be lower than ${eff}.`);
  }
  out.check = { mark, effectiveMin: eff, lowmemReserve: reserve, unusable, usableFree: usable, freeOk, blockOk, blockOrder, boostBypass, ok, preOrderTest: v26 };
  const effUsed = boostBypass !== null ? boostBypass.effectiveMin : eff;
  const freeOkUsed = usable > effUsed + reserve;
  const freeOkNoReserve = usable > effUsed;
  if (ok) out.outcome = 'pass';
  else if (!freeOkNoReserve) out.outcome = 'watermark';
  else if (!freeOkUsed) out.outcome = 'reserve';
  else if (order > 0 && fa === undefined) out.outcome = 'unknown';
  else out.outcome = 'fragmentation';
  const markText = boostBypass !== null
    ? `min ${mark} incl. boost ${boost}, retried unboosted ${boostBypass.mark} → ${boostBypass.effectiveMin}`
    : `min ${mark}${boost ? ` (incl. boost ${boost})` : ''} → ${eff}`;
  const cmp = `free ${free}${unusable ? ` − unusable ${unusable} = ${usable}` : ''} ${freeOkUsed ? '>' : '≤'} ${effUsed}${reserve ? ` + lowmem_reserve ${reserve} = ${effUsed + reserve}` : ''}`;
  const blockText = order === 0 ? '' : v26 !== null
    ? `; pre-4.4 order test: without the free pages of orders ≤${v26.order}, ${v26.left} left ≤ min>>${v26.order + 1} = ${v26.min}`
    : blockOk === null ? (fa === undefined ? '; free blocks per order not printed' : '')
    : blockOk ? `; free block at order ${blockOrder}` : `; no free block of order ≥${order} on an allowed list`;
  out.text = `${label}: ${cmp} (${markText})${blockText} → ${out.outcome}`;
  return out;
}

function decide(rep: ParsedReport, zones: ZoneReplay[], hz: string | null, r: Replay, remedies: Remedy[]): Explanation['verdict'] {
  const order = rep.order;
  if (!rep.hasMemInfo || rep.zones.length === 0) {
    return { kind: 'insufficient-data', text: rep.hasMemInfo ? 'The Mem-Info block has no per-zone lines: nothing to replay.' : 'The report has no Mem-Info block (it was cut or not pasted): the decision cannot be replayed.' };
  }
  if (hz === null) {
    remedies.push({ kind: 'zone-modifier', text: 'The mask combines zone modifiers the kernel rejects (GFP_ZONE_BAD): use one of __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM (optionally with __GFP_MOVABLE).' });
    return { kind: 'no-eligible-zone', text: `mode ${rep.modeHex} has an invalid zone-modifier combination (GFP_ZONE_BAD): no zone can serve it.` };
  }
  const eligible = zones.filter((z) => z.eligible);
  if (eligible.length === 0) {
    const why = zones.map((z) => `${z.name}: ${z.whyIneligible}`).join('; ');
    return { kind: 'no-eligible-zone', text: `No zone can serve a request whose highest zone is ${hz}: ${why}.` };
  }
  const decided = eligible.filter((z) => z.outcome !== 'unknown');
  if (decided.length === 0) {
    return { kind: 'insufficient-data', text: `The eligible zones (${eligible.map((z) => z.name).join(', ')}) lack the numbers the check needs${order > 0 ? ' (free blocks per order)' : ''}.` };
  }
  const zl = (z: ZoneReplay) => `${z.node === null ? '' : `Node ${z.node} `}${z.name}`;
  const detail = decided.map((z) => z.text).join('; ');
  const passing = decided.filter((z) => z.outcome === 'pass');
  if (passing.length > 0) {
    const reasons = snapshotReasons(rep, passing, r);
    return {
      kind: 'snapshot-passes',
      text: `The replayed check passes in ${passing.map(zl).join(', ')} with the printed numbers, yet the allocation failed. Likely: ${reasons[0]} Checks: ${detail}.`,
      reasons,
    };
  }
  const frag = decided.filter((z) => z.outcome === 'fragmentation');
  if (frag.length > 0) {
    const z = frag[0]!;
    const largest = z.freeBlocks.reduce((m, b) => (b.count > 0 ? b.order : m), -1);
    const pre = z.check!.preOrderTest;
    const why = pre
      ? `the pre-4.4 order test fails: only ${pre.left} free pages are in blocks of order ≥${pre.order + 1}, ≤ min>>${pre.order + 1} = ${pre.min} (the kernel wants the minimum, halved per order, in blocks of each order up to ${order}); largest free block: order ${largest}`
      : `no free block of order ${order} or larger is on a list this caller may use (largest free block: order ${largest})`;
    return {
      kind: 'fragmentation',
      text: `${zl(z)} has enough free pages (${z.check!.usableFree} usable > ${z.check!.effectiveMin + z.check!.lowmemReserve}) but ${why}. Checks: ${detail}.`,
    };
  }
  // Everything failed on free pages: below the watermark, or lowmem_reserve holding a lower zone.
  const wm = decided.filter((z) => z.outcome === 'watermark');
  const res = decided.filter((z) => z.outcome === 'reserve');
  const surplus = res.reduce((s, z) => s + (z.check!.usableFree - (z.check!.boostBypass?.effectiveMin ?? z.check!.effectiveMin)), 0);
  const deficit = wm.reduce((s, z) => s + ((z.check!.boostBypass?.effectiveMin ?? z.check!.effectiveMin) + z.check!.lowmemReserve + 1 - z.check!.usableFree), 0);
  // lowmem_reserve is the cause when no zone failed on its own watermark, or when the free memory it
  // protects exceeds everything the failing higher zones manage (a small top zone over a large lower one).
  const wmManaged = wm.reduce((s, z) => s + (z.managedPages ?? z.presentPages ?? 0), 0);
  if (res.length > 0 && (wm.length === 0 || surplus > wmManaged)) {
    return {
      kind: 'lowmem-reserve',
      text: `The free memory sits in lower zones that lowmem_reserve keeps for their own callers: ${res.map(zl).join(', ')} hold ${surplus} usable pages above their min${wm.length ? `, more than ${wm.map(zl).join(', ')} manage${wm.length === 1 ? 's' : ''} (${wmManaged} pages)` : ''}. Checks: ${detail}.`,
    };
  }
  const z = wm[0] ?? res[0]!;
  return {
    kind: 'below-watermark',
    text: `${zl(z)} is below the watermark this caller must respect: ${z.check!.usableFree} usable free pages ≤ ${((z.check!.boostBypass?.effectiveMin ?? z.check!.effectiveMin) + z.check!.lowmemReserve)} (${r.flags & ALLOC_NO_WATERMARKS ? '' : `fraction ${fractionText(r.flags, r.rules)} of min`}).${res.length ? ` The lower zone${res.length > 1 ? 's' : ''} ${res.map(zl).join(', ')} would pass ${res.length > 1 ? 'their' : 'its'} own min but lowmem_reserve keeps ${surplus} pages there for lower-zone callers, as designed; ${wm.map(zl).join(', ')} lacks ${deficit} pages.` : ''} Checks: ${detail}.`,
  };
}

function snapshotReasons(rep: ParsedReport, passing: ZoneReplay[], r: Replay): string[] {
  const out: string[] = [];
  const minMargin = Math.min(...passing.map((z) => z.check!.usableFree - (z.check!.boostBypass?.effectiveMin ?? z.check!.effectiveMin) - z.check!.lowmemReserve));
  const minMark = Math.min(...passing.map((z) => z.check!.mark));
  if (minMargin > Math.max(1024, minMark)) {
    out.push(`the snapshot is far above the check (${minMargin} pages of margin), too far for counter drift: a cause outside the watermarks is more likely — fault injection (fail_page_alloc), a cpuset/mempolicy restriction, or a kernel bug.`);
  }
  if (r.mayBlock) {
    out.push('state changed before the dump: warn_alloc prints after direct reclaim and compaction gave up, and pages freed since then (by reclaim, kswapd or other CPUs) show in the snapshot.');
    if (rep.order > PAGE_ALLOC_COSTLY_ORDER || (rep.mode & r.bits.NORETRY)) {
      out.push(`${rep.order > PAGE_ALLOC_COSTLY_ORDER ? `a costly order (${rep.order} > ${PAGE_ALLOC_COSTLY_ORDER})` : '__GFP_NORETRY'} gives up after one round of reclaim/compaction without retrying, even when memory comes back right after.`);
    }
  }
  if (rep.order === 0 && minMargin < 256) {
    out.push(`a race on the counters: NR_FREE_PAGES is a per-CPU-batched counter, and the zone passes by only ${minMargin} pages — within the drift of a few CPUs' vmstat deltas.`);
  }
  if (rep.order > 0) out.push('the free block was on another CPU\'s per-CPU list or was freed between the failed attempt and the dump.');
  if ((rep.cpuset !== null && rep.cpuset !== '/') || nodeList(rep.nodemask) !== null) {
    out.push(`cpuset/nodemask: the task is confined (cpuset=${rep.cpuset ?? '?'}, nodemask=${rep.nodemask ?? '?'}, mems_allowed=${rep.memsAllowed ?? '?'}) and the dump may show zones it cannot use.`);
  }
  if (!r.mayBlock) out.push('a race: the failed attempt and the dump are not atomic; other CPUs (and the kswapd this failure woke) free pages in between.');
  out.push('state changed before the dump (pcp lists drained, frees on other CPUs).');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Remedies

/** Inverse of __setup_per_zone_wmarks: the smallest pages_min giving zone `managed` a min ≥ target. */
export function pagesMinFor(targetZoneMin: number, managed: number, lowmemPages: number): number {
  const zoneMin = (p: number) => Number((BigInt(p) * BigInt(managed)) / BigInt(lowmemPages));
  let lo = 0, hi = Math.max(1, Math.ceil((targetZoneMin * lowmemPages) / managed) + 2);
  while (zoneMin(hi) < targetZoneMin) hi *= 2;
  while (hi - lo > 1) { const mid = Math.floor((lo + hi) / 2); if (zoneMin(mid) >= targetZoneMin) hi = mid; else lo = mid; }
  return zoneMin(lo) >= targetZoneMin ? lo : hi;
}

function addRemedies(rep: ParsedReport, zones: ZoneReplay[], kind: VerdictKind, r: Replay, pageKb: number, out: Remedy[]): void {
  const g = rep.mode, b = r.bits, order = rep.order;
  const atomic = !r.mayBlock;
  if (kind === 'below-watermark') {
    const z = zones.find((x) => x.outcome === 'watermark');
    if (z !== undefined && atomic) out.push(minFreeKbytesRemedy(rep, zones, z, r, pageKb));
    else if (z !== undefined) {
      const m = rep.memInfo;
      const reclaimable = (m.active_file ?? 0) + (m.inactive_file ?? 0) + (m.slab_reclaimable ?? 0);
      out.push({
        kind: 'reclaimable-memory',
        text: `A sleeping caller failed after reclaim: the node had ${reclaimable} reclaimable file/slab pages at the dump${(rep.totals.totalSwapKb ?? 0) === 0 ? ' and no swap' : ''}. Raising min_free_kbytes does not help here; reduce memory use, add swap, or let the caller retry (it has ${g & b.NORETRY ? '__GFP_NORETRY' : g & b.RETRY_MAYFAIL ? '__GFP_RETRY_MAYFAIL' : 'no retry flag'}).`,
      });
    }
  }
  if (kind === 'lowmem-reserve') {
    const z = zones.find((x) => x.outcome === 'reserve');
    if (z !== undefined) out.push(lowmemReserveRemedy(zones, z));
  }
  if (kind === 'fragmentation') {
    out.push({
      kind: 'compaction',
      text: r.mayBlock
        ? `Direct compaction already ran for this request and could not assemble an order-${order} block. Proactive compaction (vm.compaction_proactiveness, 5.9+) or \`echo 1 > /proc/sys/vm/compact_memory\` before the burst, and a lower vm.extfrag_threshold (default 500), make such blocks more likely; the lasting fix is not to need them.`
        : `An atomic caller cannot compact: it fails at once when no order-${order} block is free. Compaction in the background (vm.compaction_proactiveness, kcompactd) helps only statistically; ${atLeast(r.v, 4, 4) ? 'high-order atomic requests also build a highatomic reserve (one pageblock at a time, up to 1% of the zone) after their first success' : ''}.`,
    });
  }
  if (order >= PAGE_ALLOC_COSTLY_ORDER) {
    out.push({ kind: 'kvmalloc', text: `Order ${order} ≥ PAGE_ALLOC_COSTLY_ORDER (${PAGE_ALLOC_COSTLY_ORDER}): such requests are expected to fail under fragmentation. If the memory need not be physically contiguous, use kvmalloc()/kvzalloc() (falls back to vmalloc)${atomic ? ' — not usable in atomic context, so allocate ahead of time there' : ''}.` });
  }
  if (order > 0) {
    out.push({ kind: 'lower-order', text: `Ask for less contiguity: ${1 << order} pages as order-${order} could be ${1 << order} order-0 pages (scatter-gather, page_frag, or a fallback loop that retries at lower orders with __GFP_NORETRY|__GFP_NOWARN).` });
  }
  if (atomic) {
    out.push({ kind: 'mempool', text: 'An atomic caller cannot wait for reclaim: preallocate what it needs (mempool_create() with min_nr covering the burst, or a ring refilled from process context), so a failure here falls back to the pool.' });
  }
  if (!(g & b.NOWARN)) {
    out.push({ kind: 'nowarn', text: `If the caller handles the failure (${atomic ? 'drops the packet, retries later' : 'falls back or returns -ENOMEM cleanly'}), add __GFP_NOWARN: the report is noise, and while it prints (with the rate limit's lock) it costs time in ${atomic ? 'interrupt' : 'this'} context.` });
  }
  // Version notes.
  if ((g & b.DMA) && zones.some((z) => z.name === 'DMA' && (z.managedPages ?? 1) === 0)) {
    out.push({ kind: 'version-note', text: 'The DMA zone has no managed pages, so a GFP_DMA request cannot succeed; 5.17+ kernels no longer print this warning for GFP_DMA when no DMA memory is managed (has_managed_dma()).' });
  }
  if (atLeast(r.v, 6, 3) && (g & b.HIGH) && !(g & b.DIRECT_RECLAIM)) {
    out.push({ kind: 'version-note', text: 'Since 6.3 GFP_ATOMIC has no __GFP_ATOMIC bit (0x820, not 0xa20): the reserves come from __GFP_HIGH (ALLOC_MIN_RESERVE, min/2) and not blocking (ALLOC_NON_BLOCK, a further quarter): still 3/8 of min; order>0 requests also get ALLOC_HIGHATOMIC.' });
  } else if (!atLeast(r.v, 6, 3) && b.ATOMIC !== 0 && (g & b.ATOMIC)) {
    out.push({ kind: 'version-note', text: `On 6.3+ the same request is GFP_ATOMIC = 0x820 (__GFP_ATOMIC was removed); a mask with 0x200 set prints as "GFP_ATOMIC|0x200" there. The watermark floor stays 3/8 of min.` });
  } else if (atLeast(r.v, 6, 3) && !(g & b.DIRECT_RECLAIM) && !(g & b.HIGH)) {
    out.push({ kind: 'version-note', text: 'Since 6.3 a non-blocking request without __GFP_HIGH (GFP_NOWAIT) gets ALLOC_NON_BLOCK: no lower watermark, but it may use the highatomic reserve.' });
  }
  if (atLeast(r.v, 4, 20)) {
    const sup = rep.suppressedBefore;
    out.push({ kind: 'rate-limit', text: `warn_alloc prints at most one report per 10 s (burst 1) on 5.x/6.x${sup ? `: ${sup} failures were suppressed just before this one` : ''}; one report can stand for many failures.` });
  }
}

/** The smallest zone min m (≥ start) at which a demand of `demand` pages below m leaves this caller above its floor. */
function minForDemand(start: number, demand: number, c: ZoneCheck, r: Replay): number {
  // m − effectiveMin(m) never decreases as m grows: double until it fits, then bisect.
  const fits = (m: number) => m - demand - c.unusable > effectiveMin(m, r.flags, r.rules) + c.lowmemReserve;
  let lo = Math.max(start, 1);
  if (fits(lo)) return lo;
  let hi = lo * 2;
  while (!fits(hi)) { lo = hi; hi *= 2; if (hi > Number.MAX_SAFE_INTEGER / 4) return hi; }
  while (hi - lo > 1) { const mid = Math.floor((lo + hi) / 2); if (fits(mid)) hi = mid; else lo = mid; }
  return hi;
}

function minFreeKbytesRemedy(rep: ParsedReport, zones: ZoneReplay[], z: ZoneReplay, r: Replay, pageKb: number): Remedy {
  const c = z.check!;
  const boost = z.boostPages ?? 0;
  const unboosted = (z.minPages ?? 0) - boost;
  const free = z.freePages ?? 0;
  // Callers without reserves stop at min: the ones that dug below it took at least `demand` pages.
  const demand = Math.max(0, unboosted - free);
  const target = minForDemand(unboosted, demand, c, r);
  // With the boost in force, the others stopped at the boosted min: the demand may have been that much larger.
  const demandHi = Math.max(0, unboosted + boost - free);
  const targetHi = boost > 0 ? minForDemand(unboosted, demandHi, c, r) : target;
  const lowmem = zones.filter((x) => x.name !== 'HighMem' && (x.managedPages ?? x.presentPages) !== null && (atLeast(r.v, 6, 6) ? x.name !== 'Movable' : true));
  const lowmemPages = lowmem.reduce((s, x) => s + (x.managedPages ?? x.presentPages ?? 0), 0);
  const managed = z.managedPages ?? z.presentPages;
  if (managed === null || managed === 0 || lowmemPages === 0) {
    return { kind: 'min_free_kbytes', text: `This zone would need a min watermark of at least ${target} pages (now ${unboosted}); the report lacks managed pages to convert that into vm.min_free_kbytes.` };
  }
  const pmin = pagesMinFor(target, managed, lowmemPages);
  const pminHi = pagesMinFor(targetHi, managed, lowmemPages);
  const current = lowmem.reduce((s, x) => s + Math.max(0, (x.minPages ?? 0) - (x.boostPages ?? 0)), 0) * pageKb;
  const value = pmin * pageKb;
  const upper = pminHi * pageKb;
  const f = fractionText(r.flags, r.rules);
  return {
    kind: 'min_free_kbytes', value, ...(boost > 0 ? { upper } : {}),
    text: `vm.min_free_kbytes ≥ ${value}${boost > 0 ? ` (up to ${upper} if the boost stays)` : ''}; now about ${current}. Math: callers without reserves stop at min = ${unboosted} pages in ${z.name}, so reserve users took at least ${unboosted} − ${free} = ${demand} pages below it. `
      + `With min m the same demand leaves m − ${demand}${c.unusable ? ` − ${c.unusable}` : ''} pages, which must exceed this caller's floor ${f}·m${c.lowmemReserve ? ` + ${c.lowmemReserve}` : ''}: smallest m = ${target}. `
      + `__setup_per_zone_wmarks gives ${z.name} min = ⌊pages_min × managed ${managed} / lowmem pages ${lowmemPages}⌋, so pages_min ≥ ${pmin} → ${pmin} × ${pageKb} kB = ${value}. `
      + (boost > 0 ? `While the watermark boost (${boost} pages) was in force, the others stopped at ${unboosted + boost}: a demand of up to ${demandHi} pages needs m = ${targetHi}, i.e. ${upper}. ` : '')
      + 'A lower bound: the burst may have been larger than the snapshot shows.',
  };
}

function lowmemReserveRemedy(zones: ZoneReplay[], z: ZoneReplay): Remedy {
  const c = z.check!;
  const eff = c.boostBypass?.effectiveMin ?? c.effectiveMin;
  const room = c.usableFree - eff - 1; // the largest reserve that would have let it pass
  const upper = zones.filter((x) => x.zoneIdx > z.zoneIdx && x.eligible).reduce((s, x) => s + (x.managedPages ?? 0), 0);
  if (room < 0 || upper === 0) return { kind: 'lowmem_reserve_ratio', text: `${z.name} keeps lowmem_reserve ${c.lowmemReserve} pages for lower-zone callers.` };
  const ratio = Math.floor(upper / (room + 1)) + 1;
  return {
    kind: 'lowmem_reserve_ratio', value: ratio,
    text: `${z.name}'s protection for this request is ${c.lowmemReserve} pages (≈ managed pages above it ${upper} / its lowmem_reserve_ratio). It passes with a reserve ≤ ${room} = ${c.usableFree} − ${eff} − 1, i.e. a ratio ≥ ⌊${upper}/${room + 1}⌋ + 1 = ${ratio} in vm.lowmem_reserve_ratio. Weaker protection lets higher-zone allocations exhaust ${z.name}; prefer fixing the higher zone's shortage.`,
  };
}

/** All reports of an input, explained. */
export function explainAll(reps: ParsedReport[], opts: ExplainOptions = {}): Explanation[] {
  if (reps.length === 0) throw new BadInputError('report-not-found', 'Cannot explain: no report in the input');
  return reps.map((rep) => explainReport(rep, opts));
}
