/**
 * `labyrinth replay` end to end (Node): read the trace, the machine (--like zoneinfo) and the start state
 * (--start kpageflags), replay, and compare with the real snapshots found beside the trace.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../errors.ts';
import { ZONE_NAMES } from '../mm/constants.ts';
import { machineFromZoneinfo } from '../zone/setup.ts';
import type { MachineSpec } from '../zone/types.ts';
import { parseBuddyinfo } from '../stats/buddyinfo.ts';
import { EV_ALLOC_ZONE_LOCKED, EV_COMPACTION_BEGIN, EV_PAGE_ALLOC, EV_PAGE_FREE, EV_PCPU_DRAIN, type TraceEvents } from './events.ts';
import type { ParsedTrace, ParseStats } from './ftrace.ts';
import { freeRunsFromKpageflags, reservedRunsFromKpageflags, type FreeRun } from './kpageflags.ts';
import { kmemStat, unusableIndex, weightedUnusableIndex, type KmemStat } from './kmem_stat.ts';
import { matchSnapshots, phaseMarkers, type PhaseMarker } from './phases.ts';
import { replayTrace, type ReplayAnomalies, type ReplayBuddy } from './replay.ts';
import { parseTraceFile, readMaybeCompressed } from './trace_file.ts';
import { createFreshAllocator, createReplayBuddy } from './replay_buddy.ts';
import { replayPlacement, type PlacementResult } from './placement.ts';

export interface ReplayRunOptions {
  /** machine shape: a /proc/zoneinfo (default: <snapshots>/01_pre/zoneinfo when it exists) */
  like?: string;
  /** start state: /proc/kpageflags (.xz/.gz allowed) read just before tracing began */
  start?: string;
  /** snapshot directory (default: snap/ beside the trace) */
  snapshots?: string;
  tolerant?: boolean;
  lookahead?: boolean;
  compactionInference?: boolean;
  readerComm?: string;
  readerNth?: number;
}

export interface ZoneComparison {
  zone: string;
  replay: number[];
  real?: number[];
  /** replay − real per order */
  diff?: number[];
  /** Σ |diff| over orders */
  blocksOff?: number;
  /** Σ diff·2^order (replay free pages − real free pages) */
  pagesOff?: number;
}

export interface ComparisonPoint {
  /** what the point is: the start state, a marker, the end of the buddyinfo reader after a marker, the trace end */
  at: 'start' | 'marker' | 'reader' | 'end';
  label: string;
  snapshot?: string;
  row: number;
  line?: number;
  ts?: number;
  zones: ZoneComparison[];
  /** exact: every order of every zone equal to the snapshot */
  exact?: boolean;
  compactionAffected: boolean;
  /** free-page-weighted unusable free space index per order over all zones (replayed state) */
  unusable: number[];
  anomalies: ReplayAnomalies;
  /** at a marker: buddy-changing events (zone_locked, pcpu_drain, non-pcp-order frees) before its buddyinfo reader ended */
  buddyEventsToReader?: number;
  note?: string;
}

export interface ReplayReport {
  trace: string;
  events: number;
  parse: ParseStats;
  machine?: { zones: Array<{ zone: string; startPfn: number; spanned: number; managed: number }> };
  start?: { file: string; freeRuns: number; freePages: number };
  points: ComparisonPoint[];
  anomalies?: ReplayAnomalies;
  compactionWindows: Array<{ beginLine: number; endLine?: number }>;
  kmem: KmemStat;
  phases: Array<{
    label: string; fromLine: number; toLine: number;
    /** last row of the phase */
    toRow: number;
    kmem: { allocRequests: number; allocPages: number; freeRequests: number; freePages: number };
    /** the real snapshot's unusable free index at the phase end, when there is one */
    unusable?: number[]; snapshot?: string;
    /** without a start state: the unusable index of the placement replay at the phase end */
    placedUnusable?: number[];
  }>;
  /** without a start state: the trace's requests replayed on a fresh machine (the allocator picks the pages) */
  placement?: Omit<PlacementResult, 'points'>;
  timing: { parseMs: number; replayMs: number };
}

/** Builds the core-backed buddy model of `spec` holding the free runs (see replay_buddy.ts). */
export type BuddyFactory = (spec: MachineSpec, runs: readonly FreeRun[]) => ReplayBuddy;

function zoneSpans(spec: MachineSpec): Array<{ zoneIdx: number; startPfn: number; spanned: number }> {
  return spec.zones.filter((z) => z.spanned > 0).map((z) => ({ zoneIdx: z.zoneIdx, startPfn: z.startPfn, spanned: z.spanned }));
}

function readSnapshotBuddyinfo(dir: string): Map<string, number[]> | undefined {
  const f = path.join(dir, 'buddyinfo');
  if (!existsSync(f)) return undefined;
  const out = new Map<string, number[]>();
  for (const z of parseBuddyinfo(readFileSync(f, 'utf8')).zones) out.set(z.zone, z.nrFree);
  return out;
}

function compare(replay: Array<{ zone: string; counts: number[] }>, real: Map<string, number[]> | undefined): { zones: ZoneComparison[]; exact?: boolean } {
  let exact: boolean | undefined = real === undefined ? undefined : true;
  const zones = replay.map((z) => {
    const r = real?.get(z.zone);
    if (r === undefined) { if (real !== undefined) exact = false; return { zone: z.zone, replay: z.counts }; }
    const diff = z.counts.map((c, o) => c - (r[o] ?? 0));
    const blocksOff = diff.reduce((s, d) => s + Math.abs(d), 0);
    const pagesOff = diff.reduce((s, d, o) => s + d * 2 ** o, 0);
    if (blocksOff !== 0) exact = false;
    return { zone: z.zone, replay: z.counts, real: r, diff, blocksOff, pagesOff };
  });
  return { zones, exact };
}

/** Replays TRACE and compares it with its snapshots. */
export async function runReplay(trace: string, o: ReplayRunOptions, makeBuddy: BuddyFactory = createReplayBuddy): Promise<ReplayReport> {
  const t0 = performance.now();
  const parsed = await parseTraceFile(trace, { tolerant: o.tolerant === true });
  return replayParsed(trace, parsed, o, makeBuddy, performance.now() - t0);
}

/** The same on a trace already parsed (`trace` names its file: snapshots are looked up beside it). */
export function replayParsed(trace: string, parsed: ParsedTrace, o: ReplayRunOptions, makeBuddy: BuddyFactory = createReplayBuddy, parseMs = 0): ReplayReport {
  const t1 = performance.now();
  const e = parsed.events;
  const snapDir = o.snapshots ?? path.join(path.dirname(trace), 'snap');
  const snapNames = existsSync(snapDir) ? readdirSync(snapDir).filter((d) => existsSync(path.join(snapDir, d, 'buddyinfo'))).sort() : [];
  const markers = phaseMarkers(e, { readerComm: o.readerComm, readerNth: o.readerNth });
  const matched = matchSnapshots(markers, snapNames);
  const report: ReplayReport = {
    trace, events: e.length, parse: parsed.stats, points: [], compactionWindows: [], kmem: kmemStat(e), phases: [],
    timing: { parseMs, replayMs: 0 },
  };
  for (let i = 0; i < e.length; i++) {
    if (e.type[i] === EV_COMPACTION_BEGIN) report.compactionWindows.push({ beginLine: e.line[i]! });
  }
  phasesKmem(report, e, markers, matched, snapDir);

  const like = o.like ?? path.join(snapDir, snapNames.find((d) => /(^|_)pre($|_)/.test(d.replace(/^\d+_/, ''))) ?? '01_pre', 'zoneinfo');
  if (o.start === undefined) {
    if (existsSync(like) && e.length > 0) {
      const ends = report.phases.map((ph) => ph.toRow);
      const placed = replayPlacement(e, createFreshAllocator(machineFromZoneinfo(readFileSync(like, 'utf8'))), ends);
      const { points, ...totals } = placed;
      report.placement = totals;
      const byRow = new Map(points.map((p) => [p.row, p]));
      for (const ph of report.phases) ph.placedUnusable = byRow.get(ph.toRow)?.unusable;
    }
    report.timing.replayMs = performance.now() - t1;
    return report;
  }
  if (!existsSync(like)) throw new BadInputError('REPLAY_NEEDS_MACHINE', `Cannot replay from ${o.start}: no machine shape; pass --like ZONEINFO`);
  const spec = machineFromZoneinfo(readFileSync(like, 'utf8'));
  report.machine = { zones: spec.zones.filter((z) => z.spanned > 0).map((z) => ({ zone: ZONE_NAMES[z.zoneIdx]!, startPfn: z.startPfn, spanned: z.spanned, managed: z.managed })) };
  const kpf = readMaybeCompressed(o.start);
  const runs = freeRunsFromKpageflags(kpf, zoneSpans(spec));
  // the real holes: memblock-reserved pages (KPF_RESERVED) are never managed by buddy
  const reserved = reservedRunsFromKpageflags(kpf, zoneSpans(spec));
  for (const z of spec.zones) {
    const mine = reserved.filter((r) => r.zoneIdx === z.zoneIdx);
    if (mine.length > 0 && mine.reduce((s, r) => s + r.nrPages, 0) <= z.spanned) z.unavailable = mine.map((r) => [r.startPfn, r.startPfn + r.nrPages]);
  }
  report.start = { file: o.start, freeRuns: runs.length, freePages: runs.reduce((s, r) => s + r.nrPages, 0) };
  const t2 = performance.now();
  const buddy = makeBuddy(spec, runs);

  // the comparison points: start state, each matched marker and its buddyinfo reader, the trace end
  type Want = { at: ComparisonPoint['at']; label: string; snapshot?: string; row: number; note?: string; toReader?: number };
  const wants: Want[] = [];
  const preSnap = snapNames.find((d) => /(^|_)pre($|_)/.test(d.replace(/^\d+_/, '')));
  wants.push({ at: 'start', label: 'start state', snapshot: preSnap, row: -1 });
  let lastIdx = preSnap === undefined ? -1 : snapNames.indexOf(preSnap);
  markers.forEach((m, k) => {
    const snap = matched[k];
    if (snap === undefined) return;
    const label = m.text.replace(/^ORACLE\s+/, '');
    wants.push({ at: 'marker', label, snapshot: snap, row: m.row, toReader: m.readerEnd >= 0 ? buddyEvents(e, m.row, m.readerEnd) : undefined });
    if (m.readerEnd >= 0) wants.push({ at: 'reader', label, snapshot: snap, row: m.readerEnd });
    lastIdx = Math.max(lastIdx, snapNames.indexOf(snap));
  });
  const after = snapNames[lastIdx + 1];
  wants.push({
    at: 'end', label: 'trace end', snapshot: after, row: e.length - 1,
    note: after === undefined ? undefined : `${after} was taken after tracing stopped: untraced activity in between`,
  });
  const result = replayTrace(e, buddy, {
    points: wants.map((w) => w.row), lookahead: o.lookahead, compactionInference: o.compactionInference,
  });
  report.timing.replayMs = performance.now() - t2;
  const byRow = new Map(result.points.map((p) => [p.row, p]));
  for (const w of wants) {
    const st = byRow.get(w.row)!;
    const real = w.snapshot === undefined ? undefined : readSnapshotBuddyinfo(path.join(snapDir, w.snapshot));
    const cmp = compare(st.zones, real);
    report.points.push({
      at: w.at, label: w.label, snapshot: w.snapshot, row: w.row,
      line: w.row >= 0 ? e.line[w.row] : undefined, ts: w.row >= 0 ? e.ts[w.row] : undefined,
      zones: cmp.zones, exact: cmp.exact, compactionAffected: st.compactionAffected,
      unusable: weightedUnusableIndex(st.zones.map((z) => z.counts)), anomalies: st.anomalies, note: w.note,
      buddyEventsToReader: w.toReader,
    });
  }
  report.anomalies = result.anomalies;
  result.compactionWindows.forEach(([b, end], k) => {
    report.compactionWindows[k] = { beginLine: e.line[b]!, endLine: end >= 0 ? e.line[end] : undefined };
  });
  return report;
}

/** Events that change buddy lists in rows (from, to]: zone_locked, pcpu_drain, frees above the pcp orders. */
function buddyEvents(e: TraceEvents, from: number, to: number): number {
  let n = 0;
  for (let i = from + 1; i <= to; i++) {
    const t = e.type[i];
    if (t === EV_ALLOC_ZONE_LOCKED || t === EV_PCPU_DRAIN || (t === EV_PAGE_FREE && e.order[i]! > 3 && e.order[i] !== 9)) n++;
  }
  return n;
}

/** Per phase (marker to marker): allocation and free volume, and the real snapshot's unusable index when there is one. */
function phasesKmem(report: ReplayReport, e: TraceEvents, markers: PhaseMarker[], matched: Array<string | undefined>, snapDir: string): void {
  const bounds = [{ row: 0, label: '(trace start)', snap: undefined as string | undefined }]
    .concat(markers.map((m, k) => ({ row: m.row, label: m.text.replace(/^ORACLE\s+/, ''), snap: matched[k] })));
  for (let k = 0; k < bounds.length; k++) {
    const from = bounds[k]!.row;
    const to = k + 1 < bounds.length ? bounds[k + 1]!.row : e.length;
    if (to <= from && k > 0) continue;
    let allocRequests = 0, allocPages = 0, freeRequests = 0, freePages = 0;
    for (let i = from; i < to; i++) {
      const t = e.type[i];
      if (t === EV_PAGE_ALLOC && e.pfn[i]! >= 0) { allocRequests++; allocPages += 2 ** e.order[i]!; }
      else if (t === EV_PAGE_FREE) { freeRequests++; freePages += 2 ** e.order[i]!; }
    }
    // the phase that ends at the next marker is labelled by where it starts
    const snap = k + 1 < bounds.length ? bounds[k + 1]!.snap : undefined;
    const real = snap === undefined ? undefined : readSnapshotBuddyinfo(path.join(snapDir, snap));
    report.phases.push({
      label: bounds[k]!.label, toRow: Math.max(0, to - 1), fromLine: e.length === 0 ? 0 : e.line[Math.min(from, e.length - 1)]!,
      toLine: e.length === 0 ? 0 : e.line[Math.max(0, to - 1)]!,
      kmem: { allocRequests, allocPages, freeRequests, freePages },
      unusable: real === undefined ? undefined : unusableIndex(sumZones([...real.values()])), snapshot: snap,
    });
  }
}

function sumZones(zones: number[][]): number[] {
  const n = Math.max(0, ...zones.map((z) => z.length));
  const s = new Array<number>(n).fill(0);
  for (const z of zones) z.forEach((c, i) => { s[i]! += c; });
  return s;
}
