/**
 * Streaming parser of ftrace text for the page allocator's events: the kernel's `trace` file
 * (`comm-pid [cpu] flags ts: event: fields`), `trace-cmd report` output and `perf script` output
 * (`comm pid [cpu] ts: kmem:event: fields`, with callchains when recorded with -g).
 *
 * It scans bytes, not strings: no regex or split on the hot path. Events go into a struct-of-arrays
 * table (events.ts). pfn= is read in both formats (decimal up to 5.10, 0x-hex from 5.15).
 * Malformed lines throw a BadInputError naming the line; with `tolerant` they are counted and skipped.
 * Pure: no Node built-ins (file and decompression helpers are in trace_file.ts).
 */
import { BadInputError } from '../errors.ts';
import * as ev from './events.ts';
import type { TraceEvents } from './events.ts';

// Imported bindings are read through accessors under the test loader; the hot path uses local copies.
const EV_ALLOC_EXTFRAG = ev.EV_ALLOC_EXTFRAG, EV_ALLOC_ZONE_LOCKED = ev.EV_ALLOC_ZONE_LOCKED;
const EV_MARKER = ev.EV_MARKER, EV_PAGE_ALLOC = ev.EV_PAGE_ALLOC, EV_PAGE_FREE_BATCHED = ev.EV_PAGE_FREE_BATCHED;
const TF_HARDIRQ = ev.TF_HARDIRQ, TF_IRQS_OFF = ev.TF_IRQS_OFF, TF_NEED_RESCHED = ev.TF_NEED_RESCHED;
const TF_SOFTIRQ = ev.TF_SOFTIRQ;
const EVENT_IDS = ev.EVENT_IDS;

export type TraceFormat = 'ftrace' | 'trace-cmd' | 'perf' | 'unknown';

export interface ParseOptions {
  /** Count and skip malformed lines instead of throwing (default false). */
  tolerant?: boolean;
  /** How many malformed-line errors to keep in `stats.errors` in tolerant mode (default 20). */
  keepErrors?: number;
}

export interface ParseError {
  line: number;
  code: string;
  message: string;
}

export interface ParseStats {
  lines: number;
  events: number;
  /** comment and header lines (`#…`, `cpus=`, `CPU n is empty`, blank) */
  comments: number;
  /** events of other tracepoints, by name */
  otherEvents: Record<string, number>;
  /** `CPU:n [LOST k EVENTS]` total */
  lostEvents: number;
  /** malformed lines skipped (tolerant mode) */
  malformed: number;
  /** first malformed lines (tolerant mode) */
  errors: ParseError[];
  format: TraceFormat;
}

export interface ParsedTrace {
  events: TraceEvents;
  stats: ParseStats;
}

// ---- byte constants ----
const SP = 32, TAB = 9, CR = 13, LF = 10, HASH = 35, LBR = 91, RBR = 93, DASH = 45, SLASH = 47, COLON = 58;
const EQ = 61, DOT = 46, COMMA = 44, D0 = 48, D9 = 57, LX = 120;

// Malformed-line reasons (internal numbers; codes and messages built in the cold path).
const E_NONE = 0, E_NO_CPU = 1, E_BAD_PID = 2, E_BAD_TS = 3, E_BAD_EVENT = 4, E_BAD_FIELD = 5, E_MISSING = 6;
const ERROR_CODES = ['', 'TRACE_NO_CPU', 'TRACE_BAD_PID', 'TRACE_BAD_TIMESTAMP', 'TRACE_BAD_EVENT',
  'TRACE_BAD_FIELD', 'TRACE_MISSING_FIELD'];
const ERROR_TEXT = ['', 'no [cpu] field', 'no pid before the [cpu] field', 'no timestamp after the [cpu] field',
  'no event name after the timestamp', 'a field value is not a number', 'a required field (pfn= or order=) is missing'];

const BAD_NUM = -2;

function fnv(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h ^ (e - s)) >>> 0;
}

function sameBytes(str: string, b: Uint8Array, s: number, e: number): boolean {
  if (str.length !== e - s) return false;
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) !== b[s + i]) return false;
  return true;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i += 4096) out += String.fromCharCode.apply(null, Array.from(b.subarray(i, Math.min(e, i + 4096))));
  return out;
}

/** Interns byte strings (task names, gfp texts) by hash with a byte check. */
class Interner {
  readonly strings: string[] = [];
  private readonly byHash = new Map<number, number | number[]>();
  intern(b: Uint8Array, s: number, e: number): number {
    const h = fnv(b, s, e);
    const hit = this.byHash.get(h);
    if (hit !== undefined) {
      if (typeof hit === 'number') {
        if (sameBytes(this.strings[hit]!, b, s, e)) return hit;
      } else {
        for (let i = 0; i < hit.length; i++) if (sameBytes(this.strings[hit[i]!]!, b, s, e)) return hit[i]!;
      }
    }
    const id = this.strings.length;
    this.strings.push(latin1(b, s, e));
    if (hit === undefined) this.byHash.set(h, id);
    else if (typeof hit === 'number') this.byHash.set(h, [hit, id]);
    else hit.push(id);
    return id;
  }
}

/** Event names as bytes, bucketed by length; the byte after the name is an index into EVENT_ID_BY_NAME. */
const EVENTS_BY_LENGTH: Uint8Array[][] = [];
const EVENT_ID_BY_NAME: number[] = [];
for (const [name, id] of EVENT_IDS) {
  const bytes = new Uint8Array(name.length + 1);
  for (let i = 0; i < name.length; i++) bytes[i] = name.charCodeAt(i);
  bytes[name.length] = EVENT_ID_BY_NAME.length;
  EVENT_ID_BY_NAME.push(id);
  while (EVENTS_BY_LENGTH.length <= name.length) EVENTS_BY_LENGTH.push([]);
  EVENTS_BY_LENGTH[name.length]!.push(bytes);
}

/** Allocator-internal frames skipped when picking the callsite of an allocation from a perf callchain. */
const ALLOC_INTERNAL = /^(?:__alloc_pages|alloc_pages|__get_free_pages|get_zeroed_page|__folio_alloc|folio_alloc|vma_alloc_folio|alloc_pages_vma|alloc_pages_current|alloc_pages_mpol|__alloc_pages_nodemask|__alloc_pages_slowpath|get_page_from_freelist|rmqueue|__rmqueue|alloc_page_interleave|__alloc_pages_node|alloc_pages_node|folio_alloc_noprof|alloc_pages_noprof|__alloc_pages_noprof|alloc_pages_mpol_noprof|__alloc_frozen_pages|alloc_frozen_pages)/;

/**
 * The parser. Feed chunks with `push` (any split, also mid-line), then `end()`.
 * `parseTrace` wraps it for a whole buffer or string.
 */
export class FtraceParser {
  private readonly tolerant: boolean;
  private readonly keepErrors: number;
  private cap = 0;
  private n = 0;
  private type = new Uint8Array(0);
  private ts = new Float64Array(0);
  private pid = new Int32Array(0);
  private comm = new Int32Array(0);
  private cpu = new Int16Array(0);
  private flags = new Uint8Array(0);
  private pfn = new Float64Array(0);
  private order = new Int8Array(0);
  private mt = new Int8Array(0);
  private gfp = new Int32Array(0);
  private aux = new Int32Array(0);
  private lineCol = new Int32Array(0);
  private readonly comms = new Interner();
  private readonly gfps = new Interner();
  private readonly extra = new Map<number, Record<string, string>>();
  private readonly markers = new Map<number, string>();
  private readonly callsites = new Map<number, string>();
  private carry: Uint8Array | null = null;
  private lineNo = 0;
  private ended = false;
  /** row of the last perf event that may still take a callsite from the following callchain */
  private callchainRow = -1;
  private readonly stats: ParseStats = {
    lines: 0, events: 0, comments: 0, otherEvents: {}, lostEvents: 0, malformed: 0, errors: [], format: 'unknown',
  };
  // one-entry caches in front of the interners (consecutive events mostly share task and gfp)
  private lastCommHash = 0;
  private lastCommLen = -1;
  private lastCommId = -1;
  private lastWinHash = 0;
  private lastWinId = -1;
  private lastGfpHash = 0;
  private lastGfpLen = -1;
  private lastGfpId = -1;
  private errorDetail = '';

  constructor(options: ParseOptions = {}, expectedBytes = 0) {
    this.tolerant = options.tolerant === true;
    this.keepErrors = options.keepErrors ?? 20;
    this.grow(Math.max(1024, Math.ceil(expectedBytes / 120)));
  }

  private grow(minCap: number): void {
    let cap = this.cap === 0 ? minCap : this.cap * 2;
    if (cap < minCap) cap = minCap;
    const n = this.n;
    const g = <T extends Uint8Array | Int8Array | Int16Array | Int32Array | Float64Array>(old: T, make: (c: number) => T): T => {
      const a = make(cap);
      a.set(old.subarray(0, n) as never);
      return a;
    };
    this.type = g(this.type, (c) => new Uint8Array(c));
    this.ts = g(this.ts, (c) => new Float64Array(c));
    this.pid = g(this.pid, (c) => new Int32Array(c));
    this.comm = g(this.comm, (c) => new Int32Array(c));
    this.cpu = g(this.cpu, (c) => new Int16Array(c));
    this.flags = g(this.flags, (c) => new Uint8Array(c));
    this.pfn = g(this.pfn, (c) => new Float64Array(c));
    this.order = g(this.order, (c) => new Int8Array(c));
    this.mt = g(this.mt, (c) => new Int8Array(c));
    this.gfp = g(this.gfp, (c) => new Int32Array(c));
    this.aux = g(this.aux, (c) => new Int32Array(c));
    this.lineCol = g(this.lineCol, (c) => new Int32Array(c));
    this.cap = cap;
  }

  /** Parse the complete lines of `chunk`; a trailing partial line waits for the next chunk. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('FtraceParser.push after end()');
    let pos = 0;
    const len = chunk.length;
    if (this.carry !== null) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        const c = new Uint8Array(this.carry.length + len);
        c.set(this.carry, 0);
        c.set(chunk, this.carry.length);
        this.carry = c;
        return;
      }
      const c = new Uint8Array(this.carry.length + nl);
      c.set(this.carry, 0);
      c.set(chunk.subarray(0, nl), this.carry.length);
      this.carry = null;
      this.line(c, 0, c.length);
      pos = nl + 1;
    }
    while (pos < len) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.carry = chunk.slice(pos);
        return;
      }
      this.line(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  /** Finish: parse a last line without newline and return the table (views of exactly n rows). */
  end(): ParsedTrace {
    if (!this.ended) {
      if (this.carry !== null) {
        const c = this.carry;
        this.carry = null;
        this.line(c, 0, c.length);
      }
      this.ended = true;
    }
    const n = this.n;
    this.stats.events = n;
    return {
      events: {
        length: n,
        type: this.type.subarray(0, n),
        ts: this.ts.subarray(0, n),
        pid: this.pid.subarray(0, n),
        comm: this.comm.subarray(0, n),
        cpu: this.cpu.subarray(0, n),
        flags: this.flags.subarray(0, n),
        pfn: this.pfn.subarray(0, n),
        order: this.order.subarray(0, n),
        mt: this.mt.subarray(0, n),
        gfp: this.gfp.subarray(0, n),
        aux: this.aux.subarray(0, n),
        line: this.lineCol.subarray(0, n),
        comms: this.comms.strings,
        gfps: this.gfps.strings,
        extra: this.extra,
        markers: this.markers,
        callsites: this.callsites,
      },
      stats: this.stats,
    };
  }

  private line(b: Uint8Array, s: number, e: number): void {
    const lineNo = ++this.lineNo;
    this.stats.lines = lineNo;
    if (e > s && b[e - 1] === CR) e--;
    const err = this.parseLine(b, s, e, lineNo);
    if (err !== E_NONE) this.fail(err, b, s, e, lineNo);
  }

  /** Cold: a malformed line. */
  private fail(err: number, b: Uint8Array, s: number, e: number, lineNo: number): void {
    const text = latin1(b, s, Math.min(e, s + 160)).trim();
    const detail = this.errorDetail === '' ? '' : ` (${this.errorDetail})`;
    this.errorDetail = '';
    const message = `Cannot parse trace line: ${ERROR_TEXT[err]}${detail}: "${text}"`;
    if (!this.tolerant) throw new BadInputError(ERROR_CODES[err]!, message, lineNo);
    this.stats.malformed++;
    if (this.stats.errors.length < this.keepErrors) this.stats.errors.push({ line: lineNo, code: ERROR_CODES[err]!, message });
  }

  /** Returns E_NONE or an E_* reason. Whitespace is any byte ≤ 0x20 (space, tab). */
  private parseLine(b: Uint8Array, s: number, e: number, lineNo: number): number {
    let p = s;
    let q = 0;
    let cpu = -1;
    let r = 0;
    let pid = 0;
    let commEnd = 0;
    let perf = false;
    let commId = -1;
    // fast path, the kernel's own layout "%16s-%-7d [%03d] ": comm right-aligned in 16 columns, '-' at 16,
    // pid in 17..23, '[' at 25. The padded comm window is the cache key, so no leading-space scan on a hit.
    if (s + 27 < e && b[s + 25] === LBR && b[s + 16] === DASH && b[s + 24] === SP && b[s]! <= SP) {
      let k = s + 17;
      let c = b[k]!;
      while (c >= D0 && c <= D9) { pid = pid * 10 + c - D0; c = b[++k]!; }
      let ok = k > s + 17 && k <= s + 24;
      while (ok && k < s + 24) { if (b[k]! > SP) ok = false; k++; }
      r = s + 26;
      c = b[r]!;
      let v = 0;
      while (c >= D0 && c <= D9 && r < e) { v = v * 10 + c - D0; c = b[++r]!; }
      if (ok && c === RBR && r > s + 26) {
        cpu = v;
        q = s + 25;
        let h = 0x811c9dc5;
        for (let j = s; j < s + 16; j++) h = Math.imul(h ^ b[j]!, 0x01000193);
        if (h !== this.lastWinHash) {
          while (p < s + 16 && b[p]! <= SP) p++;
          this.lastWinHash = h;
          this.lastWinId = this.comms.intern(b, p, s + 16);
        }
        commId = this.lastWinId;
      } else pid = 0;
    }
    if (commId < 0) {
      while (p < e && b[p]! <= SP) p++;
      if (p === e || b[p] === HASH) { this.stats.comments++; return E_NONE; }
      // the [cpu] field: '[' digits ']' preceded by whitespace
      q = p;
      for (;;) {
        while (q < e && b[q] !== LBR) q++;
        if (q === e) return this.nonEventLine(b, p, e);
        r = q + 1;
        let v = 0;
        let c = b[r]!;
        while (c >= D0 && c <= D9 && r < e) { v = v * 10 + c - D0; c = b[++r]!; }
        if (c === RBR && r < e && r > q + 1 && q > p && b[q - 1]! <= SP) { cpu = v; break; }
        q++;
      }
      // pid (or the tid of perf's pid/tid) just before the [cpu] field
      let t = q - 1;
      while (t > p && b[t]! <= SP) t--;
      let mul = 1;
      const pidEnd = t + 1;
      while (t >= p && b[t]! >= D0 && b[t]! <= D9) { pid += (b[t]! - D0) * mul; mul *= 10; t--; }
      if (t + 1 === pidEnd) return E_BAD_PID;
      commEnd = t;
      if (t >= p && b[t] === DASH) { /* ftrace / trace-cmd */ }
      else if (t >= p && b[t] === SLASH) {
        perf = true;
        t--;
        while (t >= p && b[t]! >= D0 && b[t]! <= D9) t--;
        commEnd = t;
      } else if (t < p) { perf = true; commEnd = p; }
      else if (b[t]! <= SP) { perf = true; }
      else return E_BAD_PID;
      while (commEnd > p && b[commEnd - 1]! <= SP) commEnd--;
    }
    // after ']': optional latency flags, then the timestamp "sec.frac:"
    r++;
    while (r < e && b[r]! <= SP) r++;
    let flags = 0;
    let sawFlags = false;
    if (r < e && !(b[r]! >= D0 && b[r]! <= D9)) {
      const fs = r;
      while (r < e && b[r]! > SP) r++;
      if (r - fs < 4 || r - fs > 6) return E_BAD_TS;
      flags = parseFlags(b, fs, r);
      sawFlags = true;
      while (r < e && b[r]! <= SP) r++;
    }
    let sec = 0;
    const tsStart = r;
    let c = b[r]!;
    while (c >= D0 && c <= D9 && r < e) { sec = sec * 10 + c - D0; c = b[++r]!; }
    if (r === tsStart) return E_BAD_TS;
    let ts = sec;
    if (c === DOT && r < e) {
      c = b[++r]!;
      let frac = 0;
      let scale = 1;
      while (c >= D0 && c <= D9 && r < e) { frac = frac * 10 + c - D0; scale *= 10; c = b[++r]!; }
      ts = sec + frac / scale;
    }
    if (r >= e || c !== COLON) return E_BAD_TS;
    r++;
    while (r < e && b[r]! <= SP) r++;
    // perf may print a sample period before the event name
    if (perf && r < e && b[r]! >= D0 && b[r]! <= D9) {
      let k = r;
      while (k < e && b[k]! >= D0 && b[k]! <= D9) k++;
      if (k < e && b[k]! <= SP) { r = k; while (r < e && b[r]! <= SP) r++; }
    }
    // event name up to ':' (a "subsystem:" prefix is skipped)
    let ns = r;
    let ne = r;
    // fast path: the kmem page events, picked by two letters and checked in full
    const fast = b[r] === 109 /* m */ && b[r + 7] === 95 /* _ */ ? kmemCandidate(b, r, e) : -1;
    if (fast >= 0) {
      ns = r;
      ne = r + KMEM_FAST[fast]!.length;
      if (this.stats.format === 'unknown') this.stats.format = perf ? 'perf' : (sawFlags ? 'ftrace' : 'trace-cmd');
      return this.emit(b, KMEM_FAST_ID[fast]!, ts, pid, p, commEnd, commId, cpu, flags, lineNo, ns, ne, e, perf);
    }
    for (;;) {
      c = b[ne]!;
      while (c !== COLON && c > SP && ne < e) c = b[++ne]!;
      if (ne >= e || c !== COLON) return E_BAD_EVENT;
      if (ne + 1 < e && b[ne + 1]! > SP) { ne++; ns = ne; continue; }
      break;
    }
    if (ne === ns) return E_BAD_EVENT;
    const type = lookupEvent(b, ns, ne);
    if (this.stats.format === 'unknown') this.stats.format = perf ? 'perf' : (sawFlags ? 'ftrace' : 'trace-cmd');
    if (type < 0) {
      this.otherEvent(b, ns, ne);
      return E_NONE;
    }
    return this.emit(b, type, ts, pid, p, commEnd, commId, cpu, flags, lineNo, ns, ne, e, perf);
  }

  /** Append one row for a recognised event whose fields start after the name's colon at `ne`. */
  private emit(b: Uint8Array, type: number, ts: number, pid: number, cs: number, ce: number, commId: number, cpu: number,
    flags: number, lineNo: number, ns: number, ne: number, e: number, perf: boolean): number {
    if (this.n === this.cap) this.grow(this.n + 1);
    const i = this.n;
    this.type[i] = type;
    this.ts[i] = ts;
    this.pid[i] = pid;
    if (commId < 0) {
      // task name: a one-entry cache in front of the interner
      let h = 0x811c9dc5;
      for (let k = cs; k < ce; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
      if (h !== this.lastCommHash || ce - cs !== this.lastCommLen) {
        this.lastCommHash = h;
        this.lastCommLen = ce - cs;
        this.lastCommId = this.comms.intern(b, cs, ce);
      }
      commId = this.lastCommId;
    }
    this.comm[i] = commId;
    this.cpu[i] = cpu;
    this.flags[i] = flags;
    this.lineCol[i] = lineNo;
    let f = ne + 1;
    while (f < e && b[f]! <= SP) f++;
    let err: number;
    if (type <= EV_ALLOC_EXTFRAG) err = this.pageFields(b, f, e, i, type);
    else {
      this.pfn[i] = -1;
      this.order[i] = -1;
      this.mt[i] = -1;
      this.gfp[i] = -1;
      this.aux[i] = -1;
      if (type === EV_MARKER) err = this.markerText(b, f, e, i, ns, ne);
      else err = this.rareFields(b, f, e, i);
    }
    if (err !== E_NONE) return err;
    this.callchainRow = perf && type === EV_PAGE_ALLOC ? i : -1;
    this.n = i + 1;
    return E_NONE;
  }

  private otherEvent(b: Uint8Array, ns: number, ne: number): void {
    const name = latin1(b, ns, ne);
    this.stats.otherEvents[name] = (this.stats.otherEvents[name] ?? 0) + 1;
    this.callchainRow = -1;
  }

  /** Hot: fields of the kmem page events. */
  private pageFields(b: Uint8Array, p: number, e: number, i: number, type: number): number {
    let pfn = -1;
    let order = -1;
    let mt = -1;
    let gfp = -1;
    let aux = -1;
    let pageNull = false;
    let fallbackOrder = 0, fallbackMt = 0, changeOwnership = 0;
    while (p < e) {
      while (p < e && b[p]! <= SP) p++;
      if (p >= e) break;
      const ks = p;
      const k0 = b[ks]!;
      // the usual keys are recognised by their first letter and the '=' after them; others are scanned
      let klen = 0;
      if (k0 === 112 /* p */) klen = b[ks + 3] === EQ ? 3 : b[ks + 4] === EQ ? 4 : b[ks + 13] === EQ ? 13 : 0;
      else if (k0 === 111 /* o */ && b[ks + 5] === EQ) klen = 5;
      else if (k0 === 109 /* m */ && b[ks + 11] === EQ) klen = 11;
      else if (k0 === 103 /* g */ && b[ks + 9] === EQ) klen = 9;
      if (klen !== 0 && ks + klen < e) p = ks + klen;
      else {
        let c = k0;
        while (c !== EQ && c > SP && p < e) c = b[++p]!;
        if (p >= e || c !== EQ) {
          // old kernels pad a NULL page pointer: "page=          (null)"
          if (p - ks === 6 && isNullPointer(b, ks, p)) { pageNull = true; continue; }
          this.errorDetail = 'expected key=value';
          return E_BAD_FIELD;
        }
        klen = p - ks;
      }
      p++;
      const vs = p;
      // small decimal values (order, migratetype, percpu_refill): read while scanning
      if ((klen === 5 && k0 === 111) || (klen === 11 && k0 === 109) || (klen === 13 && k0 === 112)) {
        let v = 0;
        let c = b[p]!;
        while (c >= D0 && c <= D9 && p < e) { v = v * 10 + c - D0; c = b[++p]!; }
        if (p === vs || (p < e && c > SP) || v > 127) { this.errorDetail = klen === 5 ? 'order' : klen === 11 ? 'migratetype' : 'percpu_refill'; return E_BAD_FIELD; }
        if (klen === 5) order = v; else if (klen === 11) mt = v; else aux = v;
        continue;
      }
      // a 64-bit pointer is 16 characters: jump over it when it is
      if (klen === 4 && p + 16 <= e && (p + 16 === e || b[p + 16]! <= SP)) p += 16;
      else if (klen === 9 && k0 === 103) { // gfp_flags: hash while scanning
        let h = 0x811c9dc5;
        let c = b[p]!;
        while (c > SP && p < e) { h = Math.imul(h ^ c, 0x01000193); c = b[++p]!; }
        if (h !== this.lastGfpHash || p - vs !== this.lastGfpLen) {
          this.lastGfpHash = h;
          this.lastGfpLen = p - vs;
          this.lastGfpId = this.gfps.intern(b, vs, p);
        }
        gfp = this.lastGfpId;
        continue;
      }
      else while (p < e && b[p]! > SP) p++;
      const ve = p;
      if (klen === 3 && k0 === 112 /* p */) { // pfn
        pfn = parseNum(b, vs, ve);
        if (pfn === BAD_NUM) { this.errorDetail = 'pfn'; return E_BAD_FIELD; }
      } else if (klen === 4 && k0 === 112) { // page
        pageNull = isNullPointer(b, vs, ve);
      } else if (klen === 5 && k0 === 111 /* o */) { // order
        order = parseNum(b, vs, ve);
        if (order === BAD_NUM || order > 63) { this.errorDetail = 'order'; return E_BAD_FIELD; }
      } else if (klen === 11 && k0 === 109 /* m */) { // migratetype
        mt = parseNum(b, vs, ve);
        if (mt === BAD_NUM || mt > 127) { this.errorDetail = 'migratetype'; return E_BAD_FIELD; }
      } else if (klen === 9 && k0 === 103 /* g */) { // gfp_flags
        let h = 0x811c9dc5;
        for (let k = vs; k < ve; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
        if (h !== this.lastGfpHash || ve - vs !== this.lastGfpLen) {
          this.lastGfpHash = h;
          this.lastGfpLen = ve - vs;
          this.lastGfpId = this.gfps.intern(b, vs, ve);
        }
        gfp = this.lastGfpId;
      } else if (klen === 13 && k0 === 112) { // percpu_refill
        aux = parseNum(b, vs, ve);
        if (aux === BAD_NUM) { this.errorDetail = 'percpu_refill'; return E_BAD_FIELD; }
      } else if (klen === 11 && k0 === 97 /* a */) { // alloc_order
        order = parseNum(b, vs, ve);
        if (order === BAD_NUM || order > 63) { this.errorDetail = 'alloc_order'; return E_BAD_FIELD; }
      } else if (klen === 17 && k0 === 97) { // alloc_migratetype
        mt = parseNum(b, vs, ve);
        if (mt === BAD_NUM || mt > 127) { this.errorDetail = 'alloc_migratetype'; return E_BAD_FIELD; }
      } else if (klen === 14 && k0 === 102 /* f */) { // fallback_order
        fallbackOrder = parseNum(b, vs, ve);
        if (fallbackOrder === BAD_NUM || fallbackOrder > 63) { this.errorDetail = 'fallback_order'; return E_BAD_FIELD; }
      } else if (klen === 20 && k0 === 102) { // fallback_migratetype
        fallbackMt = parseNum(b, vs, ve);
        if (fallbackMt === BAD_NUM || fallbackMt > 127) { this.errorDetail = 'fallback_migratetype'; return E_BAD_FIELD; }
      } else if (klen === 16 && k0 === 99 /* c */) { // change_ownership
        changeOwnership = parseNum(b, vs, ve);
        if (changeOwnership === BAD_NUM) { this.errorDetail = 'change_ownership'; return E_BAD_FIELD; }
      }
    }
    if (pfn < 0) { this.errorDetail = 'pfn'; return E_MISSING; }
    if (order < 0 && type !== EV_PAGE_FREE_BATCHED) { this.errorDetail = 'order'; return E_MISSING; }
    if (type === EV_PAGE_FREE_BATCHED && order < 0) order = 0;
    if (type === EV_PAGE_ALLOC && (pageNull || pfn === 0)) pfn = -1; // a failed allocation
    else if (type === EV_ALLOC_ZONE_LOCKED && aux < 0) aux = order === 0 ? 1 : 0;
    else if (type === EV_ALLOC_EXTFRAG) aux = (fallbackOrder & 0xff) | ((fallbackMt & 0xff) << 8) | ((changeOwnership & 1) << 16);
    this.pfn[i] = pfn;
    this.order[i] = order;
    this.mt[i] = mt;
    this.gfp[i] = gfp;
    this.aux[i] = aux;
    return E_NONE;
  }

  /** Cold: vmscan and compaction events, kept as key=value strings. */
  private rareFields(b: Uint8Array, p: number, e: number, i: number): number {
    const rec: Record<string, string> = {};
    while (p < e) {
      while (p < e && (b[p] === SP || b[p] === TAB)) p++;
      if (p >= e) break;
      const ks = p;
      while (p < e && b[p] !== EQ && b[p] !== SP && b[p] !== TAB) p++;
      if (p >= e || b[p] !== EQ) { // a bare word (e.g. "mode=sync status=…" is fine; "…," padding too)
        continue;
      }
      const key = latin1(b, ks, p);
      p++;
      const vs = p;
      while (p < e && b[p] !== SP && b[p] !== TAB) p++;
      let ve = p;
      if (ve > vs && b[ve - 1] === COMMA) ve--;
      rec[key] = latin1(b, vs, ve);
      if (key === 'order') {
        const v = parseNum(b, vs, ve);
        if (v === BAD_NUM || v > 63) { this.errorDetail = 'order'; return E_BAD_FIELD; }
        this.order[i] = v;
      } else if (key === 'nr_reclaimed') {
        const v = parseNum(b, vs, ve);
        if (v === BAD_NUM) { this.errorDetail = 'nr_reclaimed'; return E_BAD_FIELD; }
        this.aux[i] = v > 0x7fffffff ? 0x7fffffff : v;
      } else if (key === 'gfp_flags') {
        this.gfp[i] = this.gfps.intern(b, vs, ve);
      }
    }
    this.extra.set(i, rec);
    return E_NONE;
  }

  /** Cold: trace_marker text (`tracing_mark_write: TEXT`, or `print: tracing_mark_write: TEXT`). */
  private markerText(b: Uint8Array, p: number, e: number, i: number, ns: number, ne: number): number {
    let text = latin1(b, p, e);
    if (ne - ns === 5) { // "print"
      const k = text.indexOf('tracing_mark_write: ');
      if (k >= 0) text = text.slice(k + 20);
      else if (text.startsWith('ip=') || text.startsWith('0x')) {
        const sp = text.indexOf(' ');
        text = sp < 0 ? '' : text.slice(sp + 1);
        if (text.startsWith('buf=')) text = text.slice(4);
      }
    }
    this.markers.set(i, text.trimEnd());
    return E_NONE;
  }

  /** Cold: lines without a [cpu] field: headers, lost-event notes, perf callchain frames. */
  private nonEventLine(b: Uint8Array, p: number, e: number): number {
    const text = latin1(b, p, e);
    // perf script -g: "\t ffffffff8123 symbol+0x12 (/lib/modules/…)"
    const frame = /^([0-9a-f]+)\s+(\S+)/.exec(text);
    if (frame !== null && b[p - 1] !== undefined && (b[p - 1] === SP || b[p - 1] === TAB)) {
      if (this.callchainRow >= 0) {
        const sym = frame[2]!.replace(/\+0x[0-9a-f]+$/, '');
        if (!ALLOC_INTERNAL.test(sym) && sym !== '[unknown]') {
          this.callsites.set(this.callchainRow, sym);
          this.callchainRow = -1;
        }
      }
      this.stats.comments++;
      return E_NONE;
    }
    this.callchainRow = -1;
    // a bare "event: fields" line (pasted without the task/cpu/timestamp columns)
    const bare = /^(?:[a-z_]+:)?([a-z_]+):\s/.exec(text);
    if (bare !== null) {
      const ns = p + bare[0].length - bare[1]!.length - 2;
      const ne = ns + bare[1]!.length;
      const type = lookupEvent(b, ns, ne);
      if (type >= 0) return this.emit(b, type, NaN, -1, p, p, -1, -1, 0, this.lineNo, ns, ne, e, false);
    }
    const lost = /^CPU:\s*\d+\s+\[LOST\s+(\d+)\s+EVENTS\]/.exec(text);
    if (lost !== null) { this.stats.lostEvents += Number(lost[1]); return E_NONE; }
    if (/^(?:cpus=\d+|version\s*=|CPU\s+\d+\s+is empty|#####|trace-cmd:|TRACE_|\s*$)/.test(text)) {
      this.stats.comments++;
      return E_NONE;
    }
    return E_NO_CPU;
  }
}

const KMEM_FAST_NAMES = ['mm_page_alloc', 'mm_page_alloc_zone_locked', 'mm_page_alloc_extfrag', 'mm_page_free',
  'mm_page_free_batched', 'mm_page_pcpu_drain'];
const KMEM_FAST: Uint8Array[] = KMEM_FAST_NAMES.map((n) => Uint8Array.from(n, (ch) => ch.charCodeAt(0)));
const KMEM_FAST_ID: number[] = KMEM_FAST_NAMES.map((n) => EVENT_IDS.find((x) => x[0] === n)![1]);

/**
 * Index into KMEM_FAST of the kmem page event whose name starts at s (followed by ':' and whitespace), or -1.
 * Two letters pick the candidate; then every byte is checked.
 */
function kmemCandidate(b: Uint8Array, s: number, e: number): number {
  let k: number;
  const c8 = b[s + 8];
  if (c8 === 97 /* a */) k = b[s + 13] === COLON ? 0 : b[s + 14] === 122 /* z */ ? 1 : 2;
  else if (c8 === 102 /* f */) k = b[s + 12] === COLON ? 3 : 4;
  else if (c8 === 112 /* p */) k = 5;
  else return -1;
  const name = KMEM_FAST[k]!;
  const len = name.length;
  if (s + len + 1 > e || b[s + len] !== COLON || (s + len + 1 < e && b[s + len + 1]! > SP)) return -1;
  for (let j = 0; j < len; j++) if (name[j] !== b[s + j]) return -1;
  return k;
}

function lookupEvent(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len >= EVENTS_BY_LENGTH.length) return -1;
  const bucket = EVENTS_BY_LENGTH[len]!;
  for (let k = 0; k < bucket.length; k++) {
    const name = bucket[k]!;
    let j = len - 1;
    while (j >= 0 && name[j] === b[s + j]) j--;
    if (j < 0) return EVENT_ID_BY_NAME[name[len]!]!;
  }
  return -1;
}

/** Decimal or 0x-hex, no sign. BAD_NUM when empty or not a number. */
function parseNum(b: Uint8Array, s: number, e: number): number {
  if (s >= e) return BAD_NUM;
  let v = 0;
  if (e - s > 2 && b[s] === D0 && (b[s + 1] === LX || b[s + 1] === 88)) {
    for (let i = s + 2; i < e; i++) {
      const c = b[i]!;
      let d: number;
      if (c >= D0 && c <= D9) d = c - D0;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return BAD_NUM;
      v = v * 16 + d;
    }
    return v;
  }
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < D0 || c > D9) return BAD_NUM;
    v = v * 10 + c - D0;
  }
  return v;
}

/** "(null)", "(nil)", "0000000000000000", "0x0": the pointer printed for a failed allocation. */
function isNullPointer(b: Uint8Array, s: number, e: number): boolean {
  if (e - s === 6 && b[s] === 40 && b[s + 1] === 110 && b[s + 2] === 117) return true; // (null)
  if (e - s === 5 && b[s] === 40 && b[s + 1] === 110 && b[s + 2] === 105) return true; // (nil)
  if (e === s) return false;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c !== D0 && !(c === LX && i === s + 1)) return false;
  }
  return true;
}

function parseFlags(b: Uint8Array, s: number, e: number): number {
  let f = 0;
  const c0 = b[s]!;
  if (c0 === 100 /* d */ || c0 === 68 /* D */) f |= TF_IRQS_OFF;
  const c1 = b[s + 1]!;
  if (c1 === 78 || c1 === 110 || c1 === 112 || c1 === 80) f |= TF_NEED_RESCHED;
  const c2 = b[s + 2]!;
  if (c2 === 115 /* s */) f |= TF_SOFTIRQ;
  else if (c2 === 104 || c2 === 72 || c2 === 122 || c2 === 90) f |= TF_HARDIRQ;
  if (e - s >= 4) {
    const c3 = b[s + 3]!;
    if (c3 >= D0 && c3 <= D9) f |= c3 - D0;
    else if (c3 >= 97 && c3 <= 102) f |= c3 - 87;
  }
  return f;
}

/** Parse a whole trace held in memory (bytes or text). */
export function parseTrace(input: Uint8Array | string, options: ParseOptions = {}): ParsedTrace {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const parser = new FtraceParser(options, bytes.length);
  parser.push(bytes);
  return parser.end();
}
