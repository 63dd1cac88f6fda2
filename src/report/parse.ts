/**
 * A tolerant reader of real "page allocation failure" reports, as people paste them: from 2.6's
 * `comm: page allocation failure. order:N, mode:0x…` to 6.x's
 * `comm: page allocation failure: order:N, mode:0x…(…), nodemask=…,cpuset=…,mems_allowed=…`,
 * with the dump_stack header and the show_mem block that follow.
 * @kernel mm/page_alloc.c warn_alloc, mm/show_mem.c __show_mem / show_free_areas (the printers this reads)
 *
 * Real input is messy: dmesg timestamps, syslog prefixes, mail-client wrapping, quote prefixes,
 * CRLF, stray bytes, missing sections. The reader strips the line prefixes, re-joins wrapped
 * records by their grammar, and keeps the kernel's field names. Every report in the input is found.
 * What cannot be understood raises BadInputError with the 1-based line number.
 */
import { BadInputError } from '../errors.ts';

/** One `Node N Zone free:…kB min:…kB …` line with its `lowmem_reserve[]:` and per-order line. */
export interface ReportZone {
  /** NUMA node, or null when the kernel printed no `Node N` prefix (non-NUMA builds). */
  node: number | null;
  /** The zone name as printed: DMA, DMA32, Normal, HighMem, Movable, Device. */
  name: string;
  /** Every `name:value` field of the zone line, in the unit the kernel printed (kB unless noted in units). */
  fields: Record<string, number>;
  /** Unit of each field: 'kB' (also the `KB` of reserved_highatomic), or '' for plain counts. */
  units: Record<string, string>;
  /** `all_unreclaimable? yes|no` (kernels ≤4.x print it on the zone line). */
  allUnreclaimable?: boolean;
  /** lowmem_reserve[] in pages, one entry per zone type of the kernel's build (MAX_NR_ZONES). */
  lowmemReserve?: number[];
  /** The per-order `N*4kB (UME) … = NkB` line. */
  freeArea?: ReportFreeArea;
  /** 1-based input line of the zone line. */
  line: number;
}

/** A zone's `N*sizekB (letters)` per-order line. */
export interface ReportFreeArea {
  /** Free blocks per order (index = order). */
  nrFree: number[];
  /** Block size of each order in kB, as printed (index 0 is the page size). */
  sizeKb: number[];
  /** Letters of the non-empty migratetype lists per order ("UME"), or null when not printed. */
  types: Array<string | null>;
  /** The printed `= NkB` total, or null when the line was cut before it. */
  totalKb: number | null;
  line: number;
}

export interface ReportNode {
  node: number;
  fields: Record<string, number>;
  allUnreclaimable?: boolean;
  line: number;
}

export interface ReportHugepages {
  node: number;
  total: number;
  free: number;
  surp: number;
  sizeKb: number;
}

/** The trailing totals of show_mem. */
export interface ReportTotals {
  pagecachePages?: number;
  swapCachePages?: number;
  swapCacheStats?: { add: number; delete: number; findHit: number; findTotal: number };
  freeSwapKb?: number;
  totalSwapKb?: number;
  ramPages?: number;
  highmemMovableOnlyPages?: number;
  reservedPages?: number;
  cmaReservedPages?: number;
  hwpoisonedPages?: number;
  sharedPages?: number;
  nonSharedPages?: number;
}

/** The dump_stack() header: `CPU: n PID: p Comm: c Not tainted V …` (2.6/3.x: `Pid: p, comm: c Not tainted V`). */
export interface ReportTask {
  cpu: number | null;
  pid: number | null;
  comm: string | null;
  /** `Not tainted` → null; otherwise the taint letters as printed. */
  tainted: string | null;
  /** The kernel release as printed (`6.1.0-56-amd64`, `5.13.x`, `2.6.31+frans2+…`), or null. */
  kernel: string | null;
  line: number;
}

/** Execution context inferred from the call trace (used for PF_MEMALLOC and atomic-context advice). */
export type ReportContext = 'interrupt' | 'task' | 'unknown';

export interface ParsedReport {
  /** 1-based first and last line of the report in the input. */
  startLine: number;
  endLine: number;
  /** The header as re-joined (without prefixes). */
  header: string;
  /** `2.6` for the `failure. order:` form, otherwise `modern`. */
  headerStyle: '2.6' | 'modern';
  comm: string;
  order: number;
  /** The mode as printed, lowercase hex with 0x. */
  modeHex: string;
  mode: number;
  /** The `%pGg` text in parentheses, or null when the kernel printed none (≤4.x early formats). */
  modeNames: string | null;
  nodemask: string | null;
  cpuset: string | null;
  memsAllowed: string | null;
  task: ReportTask | null;
  hardware: string | null;
  context: ReportContext;
  /** Function names of the call trace, innermost first (offsets and `?` entries dropped). */
  callTrace: string[];
  /** True when a `Mem-Info:` block was found. */
  hasMemInfo: boolean;
  /** The global Mem-Info counters (pages). */
  memInfo: Record<string, number>;
  nodes: ReportNode[];
  zones: ReportZone[];
  hugepages: ReportHugepages[];
  totals: ReportTotals;
  /** Old kernels' per-cpu lines: `CPU    0: hi:    0, btch:   1 usd:   0` under `<Zone> per-cpu:`. */
  pcp: Array<{ zone: string; cpu: number; high: number; batch: number; count: number }>;
  /** `warn_alloc: N callbacks suppressed` just before the header: reports the rate limit swallowed. */
  suppressedBefore: number | null;
  /** What the reader tolerated (re-joined lines, sums that disagree, …), each with its line. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Line cleaning

interface Line {
  /** 1-based line number in the input. */
  no: number;
  /** The text without prefixes, trailing whitespace and stray control bytes. */
  text: string;
  /** The line carried a dmesg/syslog prefix (a record start in timestamped logs). */
  prefixed: boolean;
}

const RE_QUOTE = /^(?:\s{0,3}>\s?)+/;
const RE_DMESG_TS = /^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])?\s?/;
const RE_ANDROID = /^\[\d+:\s*[^\]]*:\d+\]\s?/;
const RE_SYSLOG = /^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T[\d:.+\-Z]+)\s+\S+\s+kernel:\s?(?:\[\s*\d+\.\d+\]\s?)?/;
const RE_PRINTK_LEVEL = /^<\d>\s?/;
const RE_DMESG_X = /^(?:kern|user|daemon)\s*:\s*[a-z]+\s*:\s?/;

function cleanLine(raw: string, no: number): Line {
  // NBSP (pasted through HTML) → space; other C0 controls and DEL (except tab) are stray bytes.
  let s = raw.replace(/\u00a0/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/g, '');
  let prefixed = false;
  s = s.replace(RE_QUOTE, '');
  for (let i = 0; i < 3; i++) {
    const before = s;
    s = s.replace(RE_SYSLOG, () => { prefixed = true; return ''; });
    s = s.replace(RE_DMESG_X, () => { prefixed = true; return ''; });
    s = s.replace(RE_PRINTK_LEVEL, () => { prefixed = true; return ''; });
    s = s.replace(RE_DMESG_TS, () => { prefixed = true; return ''; });
    s = s.replace(RE_ANDROID, () => { prefixed = true; return ''; });
    if (s === before) break;
  }
  return { no, text: s.replace(/\s+$/, ''), prefixed };
}

/** Split text into cleaned lines (LF, CRLF or CR). */
export function cleanLines(text: string): Line[] {
  const raw = text.split(/\r\n|\r|\n/);
  const out: Line[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = cleanLine(raw[i]!, i + 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers

function int(s: string, line: number, what: string): number {
  const v = Number(s);
  if (!Number.isSafeInteger(v)) throw new BadInputError('report-bad-number', `Cannot read ${what}: "${s}" is not an integer`, line);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Record grammar of the Mem-Info block

const ZONE_NAME = '(?:DMA32|DMA|Normal|HighMem|Movable|Device)';
const RE_HEADER = /page allocation failure[.:]\s*order:/;
const RE_OOM_HEADER = /invoked oom-killer:/;
const RE_MEMINFO = /^\s*Mem-Info:\s*$/;
const RE_GLOBAL_START = /^\s*active_anon:\d+ inactive_anon:\d+/;
const RE_NODE_LINE = /^\s*Node (\d+) active_anon:/;
const RE_ZONE_LINE = new RegExp(`^\\s*(?:Node (\\d+) )?(${ZONE_NAME}) free:(\\d+)kB`);
const RE_LOWMEM = /^\s*lowmem_reserve\[\]:/;
const RE_FREE_AREA = new RegExp(`^\\s*(?:Node (\\d+) )?(${ZONE_NAME}): (?=\\d+\\*\\d+kB)`);
const RE_HUGE = /^\s*Node (\d+) hugepages_total=/;
const RE_PCP_HEAD = new RegExp(`^\\s*(${ZONE_NAME}) per-cpu:\\s*$`);
const RE_PCP_CPU = /^\s*CPU\s+(\d+): hi:\s*(\d+), btch:\s*(\d+) usd:\s*(\d+)/;
const RE_TOTALS = /^\s*(?:\d+ total pagecache pages|\d+ pages in swap cache|Swap cache stats:|Free swap\s*=|Total swap\s*=|\d+ pages (?:RAM|HighMem\/MovableOnly|reserved|cma reserved|hwpoisoned|shared|non-shared)\b)/;

type RecordKind = 'global' | 'node' | 'zone' | 'lowmem' | 'freearea' | 'huge' | 'pcphead' | 'pcpcpu' | 'totals';

function recordKind(text: string): RecordKind | null {
  if (RE_GLOBAL_START.test(text)) return 'global';
  if (RE_NODE_LINE.test(text)) return 'node';
  if (RE_ZONE_LINE.test(text)) return 'zone';
  if (RE_LOWMEM.test(text)) return 'lowmem';
  if (RE_FREE_AREA.test(text)) return 'freearea';
  if (RE_HUGE.test(text)) return 'huge';
  if (RE_PCP_HEAD.test(text)) return 'pcphead';
  if (RE_PCP_CPU.test(text)) return 'pcpcpu';
  if (RE_TOTALS.test(text)) return 'totals';
  return null;
}

/** Does a line look like a fragment of a Mem-Info record cut by a mail client? */
function looksLikeMemFragment(text: string): boolean {
  const t = text.trim();
  if (t === '') return false;
  if (/^(?:yes|no)$/.test(t)) return true;
  if (/^\d+\/\d+$/.test(t)) return true;
  if (/^\(?[UMEHCIR]+\)/.test(t)) return true;
  if (/^all_unreclaimable\?\s*(?:yes|no)\b/.test(t)) return true;
  if (/^[a-z_()]+[:?]/.test(t) && /\w:-?\d+(?:kB|KB)(?:\s|$)/.test(t)) return true;
  if (/^[a-z_()]+:\s?-?\d+(?:\s+[a-z_()]+[:?]\s?-?\d*(?:kB|KB)?)*(?:\s+all_unreclaimable\?\s*(?:yes|no))?$/.test(t)) return true;
  if (/^\d+\*\d+kB/.test(t)) return true;
  if (/^=\s*\d+kB$/.test(t)) return true;
  if (/^\d+kB\b/.test(t)) return true;
  if (/^(?:hugepages_\w+=\d+\s*)+/.test(t)) return true;
  return false;
}

/** Lines that never belong to show_mem output: they end the block. */
function isForeign(text: string): boolean {
  return RE_HEADER.test(text) || RE_OOM_HEADER.test(text) || /^\s*(?:CPU: \d|Call Trace|Hardware name|SLUB:|Kernel panic|-+\[ cut here|\S+ cpuset=)/.test(text);
}

// ---------------------------------------------------------------------------------------------
// Field extraction

const RE_FIELD = /([A-Za-z_][\w()]*):\s?(-?\d+)(kB|KB)?(?=\s|$)/g;

function fieldsOf(text: string, line: number): { fields: Record<string, number>; units: Record<string, string> } {
  const fields: Record<string, number> = {};
  const units: Record<string, string> = {};
  RE_FIELD.lastIndex = 0;
  for (let m = RE_FIELD.exec(text); m !== null; m = RE_FIELD.exec(text)) {
    fields[m[1]!] = int(m[2]!, line, `field ${m[1]}`);
    units[m[1]!] = m[3] === undefined ? '' : 'kB';
  }
  return { fields, units };
}

function unreclaimableOf(text: string): boolean | undefined {
  const m = /all_unreclaimable\?\s*(yes|no)/.exec(text);
  return m === null ? undefined : m[1] === 'yes';
}

// ---------------------------------------------------------------------------------------------
// Header

const RE_HEADER_FULL = /^(.*?):? page allocation failure([.:])\s*order:\s*(\d+)\s*,\s*mode:\s*(0x[0-9a-fA-F]+)(?:\(([^)]*)\))?(.*)$/;

interface Header {
  comm: string; order: number; modeHex: string; mode: number; modeNames: string | null; style: '2.6' | 'modern';
  nodemask: string | null; cpuset: string | null; memsAllowed: string | null; text: string;
}

function parseHeader(text: string, line: number): Header {
  const m = RE_HEADER_FULL.exec(text.trim());
  if (m === null) {
    if (!/mode:/.test(text)) throw new BadInputError('report-bad-header', 'Cannot read the failure header: no "mode:" after "order:"', line);
    throw new BadInputError('report-bad-header', `Cannot read the failure header: "${text.trim().slice(0, 120)}"`, line);
  }
  const modeHex = m[4]!.toLowerCase();
  if (modeHex.length > 10) throw new BadInputError('report-bad-header', `Cannot read mode ${modeHex}: more than 32 bits`, line);
  const mode = Number.parseInt(modeHex.slice(2), 16);
  const order = int(m[3]!, line, 'order');
  if (order > 31) throw new BadInputError('report-bad-header', `Cannot read order ${order}: no kernel has free lists that large`, line);
  const rest = m[6] ?? '';
  const nm = /nodemask=([^,\s]*)/.exec(rest);
  const cs = /cpuset=([^,\s]*)/.exec(rest);
  const ma = /mems_allowed=([^,\s]*)/.exec(rest);
  return {
    comm: m[1]!.trim(), order, modeHex, mode, modeNames: m[5] ?? null,
    style: m[2] === '.' ? '2.6' : 'modern',
    nodemask: nm ? nm[1]! : null, cpuset: cs ? cs[1]! : null, memsAllowed: ma ? ma[1]! : null, text: text.trim(),
  };
}

// ---------------------------------------------------------------------------------------------
// Task line

const RE_TASK_MODERN = /^\s*CPU:\s*(\d+)\s+(?:UID:\s*\d+\s+)?PID:\s*(\d+)\s+Comm:\s*(.*?)\s+(?:Kdump: loaded\s+)?(Not tainted|Tainted:)(.*)$/;
const RE_TASK_OLD = /^\s*Pid:\s*(\d+),\s*comm:\s*(.*?)\s+(Not tainted|Tainted:)(.*)$/;
const RE_RELEASE = /(?:^|\s)(\d+\.\d+(?:\.(?:\d+|x))?[^\s#]*)/;

function parseTask(text: string, line: number): ReportTask | null {
  let cpu: number | null = null, pid: number | null = null, comm: string | null = null, taintWord: string, rest: string;
  const m = RE_TASK_MODERN.exec(text);
  if (m !== null) {
    cpu = int(m[1]!, line, 'CPU'); pid = int(m[2]!, line, 'PID'); comm = m[3]!; taintWord = m[4]!; rest = m[5]!;
  } else {
    const o = RE_TASK_OLD.exec(text);
    if (o === null) return null;
    pid = int(o[1]!, line, 'PID'); comm = o[2]!; taintWord = o[3]!; rest = o[4]!;
  }
  const rel = RE_RELEASE.exec(rest);
  let tainted: string | null = null;
  if (taintWord !== 'Not tainted') tainted = (rel === null ? rest : rest.slice(0, rel.index)).replace(/\s+/g, ' ').trim();
  return { cpu, pid, comm, tainted, kernel: rel === null ? null : rel[1]!, line };
}

// ---------------------------------------------------------------------------------------------
// Call trace and context

const RE_FRAME = /(?:^|[\s\]])(\?\s+)?([A-Za-z_.$][\w.$]*)\+0x[0-9a-f]+\/0x[0-9a-f]+/;
const RE_FRAME_ARM = /\(([A-Za-z_.][\w.]*)\) from \[</;
const RE_FRAME_BARE = /^\s{1,4}([A-Za-z_][\w.]*)\s*$/;
const INTERRUPT_FRAMES = /^(?:__do_softirq|handle_softirqs|net_rx_action|__irq_exit_rcu|irq_exit|irq_exit_rcu|run_timer_softirq|hrtimer_run_softirq|tasklet_action\w*|__napi_poll|napi_poll|do_softirq\w*|__hrtimer_run_queues|handle_irq_event\w*|gic_handle_irq|el1_irq|call_timer_fn|expire_timers|run_rebalance_domains|blk_done_softirq|rcu_core)$/;

// ---------------------------------------------------------------------------------------------
// The reader

interface Logical { text: string; first: number; last: number; kind: RecordKind }

/**
 * Find and read every warn_alloc report in `text`.
 * Throws BadInputError when no report is found or a report's header cannot be read.
 */
export function parseReports(text: string): ParsedReport[] {
  if (typeof text !== 'string') throw new BadInputError('report-bad-input', 'Cannot read the input: not text');
  const lines = cleanLines(text);
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) if (RE_HEADER.test(lines[i]!.text)) starts.push(i);
  if (starts.length === 0) {
    throw new BadInputError('report-not-found', 'Cannot find a report: no "page allocation failure" line in the input');
  }
  const timestamped = lines.filter((l) => l.prefixed).length > lines.length / 3;
  const reports: ParsedReport[] = [];
  for (let r = 0; r < starts.length; r++) {
    const end = r + 1 < starts.length ? starts[r + 1]! : lines.length;
    reports.push(parseOne(lines, starts[r]!, end, timestamped));
  }
  return reports;
}

function parseOne(lines: Line[], start: number, end: number, timestamped: boolean): ParsedReport {
  const notes: string[] = [];
  // Header: re-join while it ends with a comma or has no mode yet (mail clients wrap it).
  let headerText = lines[start]!.text;
  let i = start + 1;
  for (let k = 0; k < 3 && i < end; k++) {
    const t = headerText.trimEnd();
    const wantsMore = !/mode:/.test(t) || /,$/.test(t) || (/nodemask=\S*$/.test(t) && /^\s*[,]?\s*(?:cpuset|mems_allowed)=/.test(lines[i]!.text));
    if (!wantsMore) break;
    const next = lines[i]!.text;
    if (RE_HEADER.test(next) || /^\s*(?:CPU:|Pid:|Hardware name|Call Trace)/.test(next)) break;
    headerText = `${t} ${next.trim()}`;
    notes.push(`line ${lines[i]!.no}: re-joined a wrapped header line`);
    i++;
  }
  const h = parseHeader(headerText, lines[start]!.no);
  let cpuset = h.cpuset, memsAllowed = h.memsAllowed;

  let task: ReportTask | null = null;
  let hardware: string | null = null;
  const callTrace: string[] = [];
  let inIrqBlock = false;
  let allocInIrq = false;
  let sawIrqMarker = false;
  let memStart = -1;
  let blockEnd = end;
  for (; i < end; i++) {
    const t = lines[i]!.text;
    if (RE_MEMINFO.test(t)) { memStart = i; break; }
    if (RE_OOM_HEADER.test(t)) { blockEnd = i; break; }
    // 4.19: the cpuset line of its own: "<comm> cpuset=<name> mems_allowed=<list>"
    const cs = /^\s*\S.*? cpuset=(\S*) mems_allowed=(\S*)/.exec(t);
    if (cs !== null && cpuset === null) { cpuset = cs[1]!; memsAllowed = cs[2]!; continue; }
    if (task === null && /^\s*(?:CPU:\s*\d|Pid:\s*\d)/.test(t)) {
      let joined = t;
      // The release may be wrapped onto the next line.
      if (!RE_RELEASE.test(joined.replace(/^.*?(?:Not tainted|Tainted:)/, '')) && i + 1 < end && !lines[i + 1]!.prefixed) {
        joined = `${joined} ${lines[i + 1]!.text.trim()}`;
        notes.push(`line ${lines[i + 1]!.no}: re-joined a wrapped CPU line`);
        i++;
      }
      task = parseTask(joined, lines[i]!.no);
      continue;
    }
    const hw = /^\s*Hardware name:\s*(.*)$/.exec(t);
    if (hw !== null && hardware === null) { hardware = hw[1]!.trim(); continue; }
    if (/<IRQ>/.test(t)) { inIrqBlock = true; sawIrqMarker = true; continue; }
    if (/<\/IRQ>/.test(t)) { inIrqBlock = false; continue; }
    let fn: string | null = null;
    const f = RE_FRAME.exec(t);
    if (f !== null) { if (f[1] === undefined) fn = f[2]!; }
    else {
      const a = RE_FRAME_ARM.exec(t);
      if (a !== null) fn = a[1]!;
      else if (callTrace.length > 0 || /^\s*Call [Tt]race:?$/.test(lines[i - 1]?.text ?? '')) {
        const b = RE_FRAME_BARE.exec(t);
        if (b !== null && !/^(?:Call|Mem|Hardware)/.test(b[1]!)) fn = b[1]!;
      }
    }
    if (fn !== null) {
      callTrace.push(fn);
      if (inIrqBlock && /alloc_pages|warn_alloc/.test(fn)) allocInIrq = true;
    }
  }
  let context: ReportContext = 'unknown';
  if (allocInIrq || callTrace.some((fn) => INTERRUPT_FRAMES.test(fn)) || /^ksoftirqd\//.test(h.comm)) context = 'interrupt';
  else if (sawIrqMarker || callTrace.some((fn) => /^(?:entry_SYSCALL|do_syscall_64|ret_from_fork|kthread|worker_thread|el0_svc\w*|sys_\w+|__x64_sys_\w+|__arm64_sys_\w+)$/.test(fn))) context = 'task';

  const rep: ParsedReport = {
    startLine: lines[start]!.no, endLine: lines[Math.max(start, Math.min(blockEnd, end) - 1)]!.no,
    header: h.text, headerStyle: h.style, comm: h.comm, order: h.order, modeHex: h.modeHex, mode: h.mode,
    modeNames: h.modeNames, nodemask: h.nodemask, cpuset, memsAllowed, task, hardware, context, callTrace,
    suppressedBefore: suppressedBefore(lines, start),
    hasMemInfo: memStart >= 0, memInfo: {}, nodes: [], zones: [], hugepages: [], totals: {}, pcp: [], notes,
  };
  if (memStart >= 0) readMemInfo(lines, memStart + 1, end, timestamped, rep);
  return rep;
}

function suppressedBefore(lines: Line[], start: number): number | null {
  for (let k = start - 1; k >= Math.max(0, start - 2); k--) {
    const m = /warn_alloc(?:_failed)?: (\d+) callbacks suppressed/.exec(lines[k]!.text);
    if (m !== null) return Number(m[1]);
  }
  return null;
}

/** Group the Mem-Info block into logical records, re-joining wrapped lines. */
function memRecords(lines: Line[], from: number, end: number, timestamped: boolean, notes: string[]): { records: Logical[]; last: number } {
  const records: Logical[] = [];
  const rejoined: number[] = [];
  let last = from - 1;
  for (let i = from; i < end; i++) {
    const ln = lines[i]!;
    const t = ln.text;
    if (t.trim() === '') {
      // A blank line ends the block unless the block continues right after it.
      const next = lines[i + 1];
      if (next !== undefined && recordKind(next.text) !== null) continue;
      break;
    }
    const kind = recordKind(t);
    if (kind !== null) {
      records.push({ text: t, first: ln.no, last: ln.no, kind });
      last = i;
      continue;
    }
    const prev = records[records.length - 1];
    if (prev === undefined || isForeign(t)) break;
    // The global block's own continuation lines ("  active_file:… ") — part of one printk.
    const globalCont = prev.kind === 'global' && /^\s*[a-z_]+:\d+(?:\s+[a-z_]+:\d+)*\s*$/.test(t);
    const wrapped = timestamped ? !ln.prefixed : looksLikeMemFragment(t);
    if (!globalCont && !wrapped) break;
    if (!globalCont) rejoined.push(ln.no);
    prev.text = `${prev.text.trimEnd()} ${t.trim()}`;
    prev.last = ln.no;
    last = i;
  }
  if (rejoined.length > 0) notes.push(`line ${rejoined[0]}: re-joined ${rejoined.length} wrapped Mem-Info line(s)`);
  return { records, last };
}

function readMemInfo(lines: Line[], from: number, end: number, timestamped: boolean, rep: ParsedReport): void {
  const { records, last } = memRecords(lines, from, end, timestamped, rep.notes);
  if (last >= from) rep.endLine = Math.max(rep.endLine, lines[last]!.no);
  let pcpZone = '';
  let lastZone: ReportZone | null = null;
  for (const rec of records) {
    const t = rec.text;
    switch (rec.kind) {
      case 'global': {
        const { fields } = fieldsOf(t, rec.first);
        Object.assign(rep.memInfo, fields);
        break;
      }
      case 'node': {
        const m = RE_NODE_LINE.exec(t)!;
        const { fields } = fieldsOf(t.replace(/^\s*Node \d+ /, ''), rec.first);
        const u = unreclaimableOf(t);
        rep.nodes.push({ node: int(m[1]!, rec.first, 'node'), fields, ...(u === undefined ? {} : { allUnreclaimable: u }), line: rec.first });
        break;
      }
      case 'zone': {
        const m = RE_ZONE_LINE.exec(t)!;
        const body = t.replace(/^\s*(?:Node \d+ )?\S+ /, '');
        const { fields, units } = fieldsOf(body, rec.first);
        const u = unreclaimableOf(t);
        lastZone = {
          node: m[1] === undefined ? null : int(m[1], rec.first, 'node'), name: m[2]!, fields, units,
          ...(u === undefined ? {} : { allUnreclaimable: u }), line: rec.first,
        };
        rep.zones.push(lastZone);
        break;
      }
      case 'lowmem': {
        const nums = t.replace(RE_LOWMEM, '').trim();
        const vals = nums === '' ? [] : nums.split(/\s+/).filter((x) => /^-?\d+$/.test(x)).map((x) => int(x, rec.first, 'lowmem_reserve'));
        if (lastZone === null) rep.notes.push(`line ${rec.first}: lowmem_reserve[] without a zone line before it`);
        else if (lastZone.lowmemReserve !== undefined) rep.notes.push(`line ${rec.first}: a second lowmem_reserve[] for zone ${lastZone.name}`);
        else lastZone.lowmemReserve = vals;
        break;
      }
      case 'freearea': {
        const m = RE_FREE_AREA.exec(t)!;
        const node = m[1] === undefined ? null : int(m[1], rec.first, 'node');
        const fa = parseFreeArea(t.slice(m[0].length), rec.first, rep.notes);
        const zone = rep.zones.find((z) => z.name === m[2] && z.node === node && z.freeArea === undefined)
          ?? rep.zones.find((z) => z.name === m[2] && z.freeArea === undefined);
        if (zone === undefined) rep.notes.push(`line ${rec.first}: per-order line for ${m[2]} without its zone line`);
        else zone.freeArea = fa;
        break;
      }
      case 'huge': {
        const m = /Node (\d+) hugepages_total=(\d+) hugepages_free=(\d+) hugepages_surp=(\d+) hugepages_size=(\d+)kB/.exec(t);
        if (m === null) { rep.notes.push(`line ${rec.first}: incomplete hugepages line`); break; }
        rep.hugepages.push({
          node: int(m[1]!, rec.first, 'node'), total: int(m[2]!, rec.first, 'hugepages_total'), free: int(m[3]!, rec.first, 'hugepages_free'),
          surp: int(m[4]!, rec.first, 'hugepages_surp'), sizeKb: int(m[5]!, rec.first, 'hugepages_size'),
        });
        break;
      }
      case 'pcphead': pcpZone = RE_PCP_HEAD.exec(t)![1]!; break;
      case 'pcpcpu': {
        const m = RE_PCP_CPU.exec(t)!;
        rep.pcp.push({ zone: pcpZone, cpu: int(m[1]!, rec.first, 'cpu'), high: int(m[2]!, rec.first, 'hi'), batch: int(m[3]!, rec.first, 'btch'), count: int(m[4]!, rec.first, 'usd') });
        break;
      }
      case 'totals': readTotal(t, rec.first, rep.totals); break;
    }
  }
}

function parseFreeArea(body: string, line: number, notes: string[]): ReportFreeArea {
  const nrFree: number[] = [];
  const sizeKb: number[] = [];
  const types: Array<string | null> = [];
  const re = /(\d+)\*(\d+)kB(?:\s*\(([A-Z]*)\))?/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    nrFree.push(int(m[1]!, line, 'free blocks'));
    sizeKb.push(int(m[2]!, line, 'block size'));
    types.push(m[3] === undefined ? null : m[3]);
  }
  const tot = /=\s*(\d+)kB/.exec(body);
  const totalKb = tot === null ? null : int(tot[1]!, line, 'total');
  for (let o = 1; o < sizeKb.length; o++) {
    if (sizeKb[o] !== sizeKb[0]! * 2 ** o) { notes.push(`line ${line}: per-order sizes are not doubling at order ${o}`); break; }
  }
  if (totalKb !== null) {
    let sum = 0;
    for (let o = 0; o < nrFree.length; o++) sum += nrFree[o]! * sizeKb[o]!;
    if (sum !== totalKb) notes.push(`line ${line}: per-order blocks sum to ${sum}kB but the line says ${totalKb}kB`);
  } else notes.push(`line ${line}: per-order line without its "= NkB" total`);
  return { nrFree, sizeKb, types, totalKb, line };
}

function readTotal(t: string, line: number, out: ReportTotals): void {
  let m: RegExpExecArray | null;
  if ((m = /(\d+) total pagecache pages/.exec(t))) out.pagecachePages = int(m[1]!, line, 'pagecache');
  else if ((m = /(\d+) pages in swap cache/.exec(t))) out.swapCachePages = int(m[1]!, line, 'swap cache');
  else if ((m = /Swap cache stats: add (\d+), delete (\d+), find (\d+)\/(\d+)/.exec(t))) {
    out.swapCacheStats = { add: int(m[1]!, line, 'add'), delete: int(m[2]!, line, 'delete'), findHit: int(m[3]!, line, 'find'), findTotal: int(m[4]!, line, 'find') };
  } else if ((m = /Free swap\s*=\s*(-?\d+)kB/.exec(t))) out.freeSwapKb = int(m[1]!, line, 'free swap');
  else if ((m = /Total swap\s*=\s*(\d+)kB/.exec(t))) out.totalSwapKb = int(m[1]!, line, 'total swap');
  else if ((m = /(\d+) pages RAM/.exec(t))) out.ramPages = int(m[1]!, line, 'pages RAM');
  else if ((m = /(\d+) pages HighMem\/MovableOnly/.exec(t))) out.highmemMovableOnlyPages = int(m[1]!, line, 'HighMem/MovableOnly');
  else if ((m = /(\d+) pages cma reserved/.exec(t))) out.cmaReservedPages = int(m[1]!, line, 'cma reserved');
  else if ((m = /(\d+) pages reserved/.exec(t))) out.reservedPages = int(m[1]!, line, 'reserved');
  else if ((m = /(\d+) pages hwpoisoned/.exec(t))) out.hwpoisonedPages = int(m[1]!, line, 'hwpoisoned');
  else if ((m = /(\d+) pages non-shared/.exec(t))) out.nonSharedPages = int(m[1]!, line, 'non-shared');
  else if ((m = /(\d+) pages shared/.exec(t))) out.sharedPages = int(m[1]!, line, 'shared');
}

/** Page size in kB used by a report (from its per-order lines; 4 when none were printed). */
export function reportPageKb(rep: ParsedReport): number {
  for (const z of rep.zones) if (z.freeArea !== undefined && z.freeArea.sizeKb.length > 0) return z.freeArea.sizeKb[0]!;
  return 4;
}
