/**
 * The simulator: runs a scenario's actors against an allocator in virtual time and collects what happened —
 * requests, failures and latency per gfp class and order, zone time series, page maps, failure reports.
 *
 * Determinism: every random draw comes from a seeded stream per actor, every delay from the virtual clock, and
 * the result holds no wall-clock value, so the same seed gives the same result, byte for byte.
 */
import { Clock, NSEC_PER_MSEC, NSEC_PER_SEC } from './clock.ts';
import { Rng, streamRng } from './rng.ts';
import type { ActorSpec, ScenarioSpec } from './scenario.ts';
import type { PageOwner, PressureMachinery, SimAllocator, SimTask } from './machinery.ts';
import { formatGfp, parseGfp } from '../gfp/index.ts';
import { __GFP_DIRECT_RECLAIM, __GFP_EXCL, __GFP_MOVABLE, __GFP_NOWARN, __GFP_ZERO } from '../gfp/bits.ts';
import { LabyrinthError } from '../errors.ts';
import { ExclusiveKey } from '../labyrinth/exclusive.ts';
import { exclusiveMempool, type Mempool } from '../labyrinth/mempool.ts';
import type { LabyrinthTask } from '../labyrinth/domain.ts';
import { MAX_ORDER, PAGE_SIZE } from '../mm/constants.ts';
import { warnAllocFirstLine, warnAllocRateLimit } from '../report/warn_alloc.ts';

/** sysctl_sched_latency on one CPU (6 ms × (1 + ilog2(1))): how long a woken kswapd keeps the CPU to itself. */
const SCHED_LATENCY_NS = 6 * NSEC_PER_MSEC;

export interface SimulateOptions {
  seed: number;
  /** Called about 100 times per run with the fraction done. */
  onProgress?: (fraction: number) => void;
  /** kswapd/reclaim/compaction/OOM; absent until issue 4 lands. */
  pressure?: PressureMachinery;
  /** Cap on failure reports kept (after the kernel's ratelimit). Default 20. */
  maxReports?: number;
  /** For checks: called once after the run, before the results are built, with what each actor holds. */
  inspect?: (actors: readonly HeldPagesView[]) => void;
}

/** An actor's holdings at the end of a run (read-only, for invariant checks). */
export interface HeldPagesView {
  readonly spec: ActorSpec;
  /** Its pages may be migrated (LRU or movable gfp, not exclusive). */
  readonly movable: boolean;
  /** Pages compaction moved and the actor followed. */
  readonly movedPages: number;
  /** Pages it believes it holds. */
  readonly heldPages: number;
  /** Sleeping requests still in flight (each may hold one allocated block not yet handed over). */
  readonly pending: number;
  forEachHeld(fn: (pfn: number, order: number) => void): void;
}

export interface ClassStats {
  /** The actor's gfp as written in the scenario. */
  gfpClass: string;
  gfp: string;
  context: string;
  order: number;
  requests: number;
  failures: number;
  failureRate: number;
  /** Requests refused before trying (a sleeping mask in atomic context). */
  refused: number;
  latencyMeanUs: number;
  latencyP99Us: number;
  latencyMaxUs: number;
  deadlineMisses: number;
}

export interface ActorStats {
  name: string;
  kind: string;
  gfp: string;
  context: string;
  requests: number;
  failures: number;
  failureRate: number;
  pagesAllocated: number;
  heldPagesMax: number;
  heldPagesEnd: number;
  firstFailureMs: number | null;
  lastFailureMs: number | null;
}

export interface ZoneSeries {
  name: string;
  managed: number;
  free: number[];
  min: number[];
  low: number[];
  high: number[];
  boost: number[];
  /** freeBlocks[order][sample] */
  freeBlocks: number[][];
}

export interface PageMap {
  tMs: number;
  zone: string;
  /** Per pageblock: migratetype (0..4). */
  migratetype: number[];
  /** Per pageblock: free pages (0..512). */
  freePages: number[];
}

export interface SimResult {
  scenario: string;
  title: string;
  /** The scenario's headline claim (what a run at its defaults should show), when it has one. */
  headline?: string;
  seed: number;
  machine: { mem: string; cpus: number; kernel: string; minFreeKbytes: number; tunables: Record<string, number> };
  durationMs: number;
  sampleMs: number;
  machinery: { pressure: string | null; note: string };
  totals: {
    /** Clock events fired. */
    events: number;
    /** alloc_pages calls (each page of a chunk is one). */
    requests: number;
    failures: number;
    failureRate: number;
    /** __free_pages calls made by the workloads. */
    frees: number;
    pagesAllocated: number;
  };
  classes: ClassStats[];
  actors: ActorStats[];
  zones: Array<{ name: string; managed: number; min: number; low: number; high: number }>;
  failureReports: { total: number; warned: number; suppressedByRatelimit: number; nowarn: number; kept: Array<{ tMs: number; actor: string; text: string }> };
  pressureCounters: Record<string, number>;
  pressureEvents: Array<{ tMs: number; kind: string; text: string }>;
  buddyinfo: string;
  series: {
    tMs: number[];
    zones: ZoneSeries[];
    /** Per class label (`GFP_ATOMIC o3`): requests and failures within each sample interval. */
    classRequests: Record<string, number[]>;
    classFailures: Record<string, number[]>;
    /** Pressure counters per sample interval (deltas). */
    pressure: Record<string, number[]>;
  };
  pageMaps: PageMap[];
  /** Present when some actor's gfp has __GFP_EXCL: the scenario's labyrinth, its mempools and isolation checks. */
  labyrinth?: LabyrinthStats;
}

export interface LabyrinthStats {
  name: string;
  /** Live exclusive blocks and pages at the end (actors' and mempools'). */
  liveBlocks: number;
  pagesHeld: number;
  /** Pages wiped on the way in and out. */
  wipedPages: number;
  mempools: Array<{ actor: string; order: number; minNr: number; inPool: number; hits: number; failures: number }>;
  /** Elements handed out by the mempools when the allocator had failed. */
  mempoolHits: number;
  /** Pages of live exclusive blocks checked after the run: page_address and virt_to_page without the key. */
  isolationChecks: number;
  /** Of those, pages that either call reached (must be 0). */
  keylessReachable: number;
}

const LAT_BUCKETS = 48; // log2 buckets of ns
const ST_REQ = 0, ST_FAIL = 1, ST_LATSUM = 2, ST_LATMAX = 3, ST_DEADLINE = 4, ST_REFUSED = 5, ST_FIELDS = 6;

/** Label of a (class, order) pair in series keys. */
export function classKey(gfpClass: string, order: number): string {
  return `${gfpClass} o${order}`;
}

/** pfn → slot, as a typed array grown on demand (a Map cost a tenth of the run on LRU-heavy scenarios). */
class PfnIndex {
  private a = new Int32Array(1 << 16).fill(-1);
  set(pfn: number, i: number): void {
    if (pfn >= this.a.length) {
      const b = new Int32Array(Math.max(pfn + 1, this.a.length * 2)).fill(-1);
      b.set(this.a);
      this.a = b;
    }
    this.a[pfn] = i;
  }
  get(pfn: number): number | undefined {
    const i = pfn < this.a.length ? this.a[pfn]! : -1;
    return i < 0 ? undefined : i;
  }
  delete(pfn: number): void {
    if (pfn < this.a.length) this.a[pfn] = -1;
  }
}

/**
 * Runtime state of one actor. Held pages live in flat arrays; no object per page. Two layouts share the arrays:
 * a FIFO ring (fixed hold) and a swap-remove set (exponential hold, or held until reclaim, replacement or kill).
 * Movable actors keep pfn → position in `index`, so a page that reclaim took or compaction moved is found in
 * O(1); a reclaimed ring entry, or a reclaimed entry of an exponential hold, is marked dead (pfn −1) and stays
 * until its expiry.
 *
 * Exponential holds need no timer per block: lifetimes are memoryless, so at any moment every block held (dead
 * entries included, as their timers would still run) is equally likely to be the next to go, and the next free
 * comes after Exp(mean / entries). One pending event per actor (`nextFreeAt`) stands for the earliest of all the
 * blocks' timers: a new block whose own draw comes sooner replaces it (the old event goes stale by `freeGen`); when
 * it fires a uniformly chosen entry goes and the next time is drawn. The same law of lifetimes as one timer per
 * block, with one clock event per free instead of one far-future event per block.
 */
class ActorRun implements PageOwner, SimTask {
  readonly gfp: number;
  readonly sleeping: boolean;
  readonly orderWeights: number[];
  /** The weights as doubles and their sum, summed once in rng.pickWeighted's order (so the pick is the same). */
  private readonly orderW: Float64Array;
  private readonly orderTotal: number;
  readonly fixedOrder: number;
  /** A sleeping gfp outside process context: every request is refused (see request()). */
  readonly refuses: boolean;
  /** spec.deadlineMs in ns, Infinity without one. */
  readonly deadlineNs: number;
  readonly chunk: number;
  readonly cpu: number;
  readonly startNs: number;
  readonly stopNs: number;
  readonly holdNs: number;
  readonly holdMeanNs: number;
  readonly maxHeld: number;
  readonly comm: string;
  readonly oomScoreAdj: number;
  /**
   * Its pages may be migrated by compaction: LRU pages, or a movable gfp (__GFP_MOVABLE); never __GFP_EXCL.
   * Movable pages without `lru` are registered with the machinery as movable, not reclaimable.
   */
  readonly movable: boolean;
  /** stats[order * ST_FIELDS + field] */
  readonly stats = new Float64Array(MAX_ORDER * ST_FIELDS);
  readonly latHist = new Float64Array(MAX_ORDER * LAT_BUCKETS);
  /** Interval counters for the series. */
  readonly intReq = new Float64Array(MAX_ORDER);
  readonly intFail = new Float64Array(MAX_ORDER);
  // FIFO of held pages (fixed hold) or a swap-remove set (exponential hold; held until reclaim/replace/kill).
  pfns = new Float64Array(1024);
  orders = new Uint8Array(1024);
  times = new Float64Array(1024);
  head = 0;
  count = 0;
  /** Exponential hold: the time of the pending free event (Infinity when none), and its generation (older ones are stale). */
  nextFreeAt = Infinity;
  freeGen = 0;
  heldPages = 0;
  heldPagesMax = 0;
  pagesAllocated = 0;
  /** Pages compaction moved. */
  movedPages = 0;
  requests = 0;
  failures = 0;
  firstFailNs = -1;
  lastFailNs = -1;
  killed = false;
  acc = 0;
  full = false;
  /** Sleeping requests issued and not yet completed. */
  pending = 0;
  /** Set by the simulator: its pages are on the LRU lists / registered as movable (not reclaimable). */
  onLru = false;
  movableReg = false;
  /** __GFP_EXCL actors: their task in the scenario's labyrinth, the key of every block held (indexed by head pfn), mempools by order. */
  task: LabyrinthTask | null = null;
  keys: Array<ExclusiveKey | null> = [];
  readonly pools: Array<Mempool<ExclusiveKey> | undefined> = [];
  /** The options of its allocExclusive calls (one object for the run, not one per request). */
  allocOpts: { readonly cpu: number } = { cpu: 0 };
  /**
   * pfn → index in the arrays (LRU and movable actors, so reclaim and compaction can find a page). LRU actors on a
   * machinery that keeps slots (lruSetSlot) have none: the LRU keeps each page's index and hands it back.
   */
  index: PfnIndex | null;
  /** Set by the simulator for LRU actors whose slots the machinery keeps: told when a page changes index. */
  slots: PressureMachinery | null = null;

  constructor(readonly spec: ActorSpec, readonly pid: number, readonly rng: Rng, managedPages: number, durationNs: number) {
    this.gfp = parseGfp(spec.gfp, '6.1');
    this.sleeping = (this.gfp & __GFP_DIRECT_RECLAIM) !== 0;
    if (typeof spec.order === 'number') {
      this.fixedOrder = spec.order;
      this.orderWeights = [];
    } else {
      this.fixedOrder = -1;
      this.orderWeights = spec.order.slice();
    }
    this.orderW = Float64Array.from(this.orderWeights);
    let total = 0;
    for (let i = 0; i < this.orderW.length; i++) total += this.orderW[i]!;
    this.orderTotal = total;
    this.refuses = this.sleeping && spec.context !== 'process';
    this.deadlineNs = spec.deadlineMs !== undefined ? spec.deadlineMs * NSEC_PER_MSEC : Infinity;
    this.chunk = spec.chunk ?? 1;
    this.cpu = spec.cpu ?? 0;
    this.startNs = (spec.startMs ?? 0) * NSEC_PER_MSEC;
    this.stopNs = Math.min(durationNs, (spec.stopMs ?? Infinity) * NSEC_PER_MSEC);
    this.holdNs = spec.holdMs !== undefined ? spec.holdMs * NSEC_PER_MSEC : -1;
    this.holdMeanNs = spec.holdMeanMs !== undefined ? spec.holdMeanMs * NSEC_PER_MSEC : -1;
    this.maxHeld = spec.maxHeldPages ?? (spec.maxHeldPercent !== undefined ? Math.floor(managedPages * spec.maxHeldPercent / 100) : Infinity);
    this.comm = spec.comm ?? spec.name;
    this.oomScoreAdj = spec.oomScoreAdj ?? 0;
    this.movable = (this.gfp & __GFP_EXCL) === 0 && (spec.lru !== undefined || (this.gfp & __GFP_MOVABLE) !== 0);
    this.index = spec.lru !== undefined || this.movable ? new PfnIndex() : null;
  }

  isOn(now: number): boolean {
    if (now < this.startNs || now >= this.stopNs || this.killed) return false;
    const d = this.spec.duty;
    if (!d) return true;
    const period = (d.onMs + d.offMs) * NSEC_PER_MSEC;
    return (now - this.startNs) % period < d.onMs * NSEC_PER_MSEC;
  }

  pickOrder(): number {
    if (this.fixedOrder >= 0) return this.fixedOrder;
    // rng.pickWeighted without summing the weights again: the same draw, the same subtractions, the same pick
    const w = this.orderW;
    let x = this.rng.float() * this.orderTotal;
    for (let i = 0; i < w.length; i++) {
      x -= w[i]!;
      if (x < 0) return i;
    }
    return w.length - 1;
  }

  /** Hold a block in the ring (fixed hold) or the set; returns its index. */
  push(pfn: number, order: number, now: number): number {
    if (this.count === this.pfns.length) this.grow();
    const i = this.holdNs >= 0 ? (this.head + this.count) % this.pfns.length : this.count;
    if (this.index) this.index.set(pfn, i);
    this.pfns[i] = pfn;
    this.orders[i] = order;
    this.times[i] = now;
    this.count++;
    this.heldPages += 1 << order;
    if (this.heldPages > this.heldPagesMax) this.heldPagesMax = this.heldPages;
    return i;
  }

  /**
   * Take set entry i out (swap with last) once it is dead or the caller has released it (heldPages and the index
   * already say so); the last entry, if live, follows to i.
   */
  dropAt(i: number): void {
    const last = --this.count;
    if (i === last) return;
    const moved = this.pfns[last]!;
    this.pfns[i] = moved;
    this.orders[i] = this.orders[last]!;
    if (moved < 0) return;
    if (this.index) this.index.set(moved, i);
    else if (this.slots !== null) this.slots.lruSetSlot!(moved, i);
  }

  /** Remove set entry i (swap with last). Not for FIFO actors (a set's `times` are never read, so not kept). */
  removeAt(i: number): void {
    this.removeAtOrder(i, this.orders[i]!);
  }
  /** removeAt when the caller knows the entry's order (reclaim says it): entry i is only written, not read. */
  private removeAtOrder(i: number, order: number): void {
    this.heldPages -= 1 << order;
    if (this.index) this.index.delete(this.pfns[i]!);
    this.dropAt(i);
  }

  private grow(): void {
    const n = this.pfns.length * 2;
    const p = new Float64Array(n), o = new Uint8Array(n), t = new Float64Array(n);
    // unroll the ring so that head = 0
    for (let k = 0; k < this.count; k++) {
      const j = (this.head + k) % this.pfns.length;
      p[k] = this.pfns[j]!; o[k] = this.orders[j]!; t[k] = this.times[j]!;
      // an entry that stays at its index (a set, or a ring with head 0) keeps its index entry or slot
      if (j === k || p[k]! < 0) continue;
      if (this.index) this.index.set(p[k]!, k);
      else if (this.slots !== null) this.slots.lruSetSlot!(p[k]!, k);
    }
    this.pfns = p; this.orders = o; this.times = t; this.head = 0;
  }

  /** Every block held: (pfn, order). Cold (checks and reports). */
  forEachHeld(fn: (pfn: number, order: number) => void): void {
    for (let k = 0; k < this.count; k++) {
      const i = this.holdNs >= 0 ? (this.head + k) % this.pfns.length : k;
      if (this.pfns[i]! >= 0) fn(this.pfns[i]!, this.orders[i]!);
    }
  }

  /**
   * The index of a held pfn: the slot the machinery handed back (it keeps them exact, see lruSetSlot), or the pfn
   * index's; undefined if not held.
   */
  private indexOf(pfn: number, slot: number): number | undefined {
    if (this.index === null) return slot >= 0 ? slot : undefined;
    return this.index.get(pfn);
  }

  // PageOwner: reclaim took one of our pages (already freed by the machinery).
  reclaimed(pfn: number, order: number, slot: number): void {
    const i = this.indexOf(pfn, slot);
    if (i === undefined) return;
    if (this.holdNs < 0 && this.holdMeanNs < 0) { this.removeAtOrder(i, order); return; }
    // a ring entry or an exponential hold's entry stays until its expiry, dead
    this.heldPages -= 1 << order;
    if (this.index) this.index.delete(pfn);
    this.pfns[i] = -1;
  }

  // PageOwner: compaction moved one of our pages (the old one is already freed); the entry follows it.
  moved(from: number, to: number, _order: number, slot: number): void {
    const i = this.indexOf(from, slot);
    if (i === undefined || this.pfns[i] !== from) throw new LabyrinthError('sim-moved-unknown', `Cannot follow the move of pfn ${from}: because actor "${this.spec.name}" does not hold it`);
    this.pfns[i] = to;
    if (this.index) { this.index.delete(from); this.index.set(to, i); }
    this.movedPages += 1;
  }

  // SimTask
  rssPages(): number {
    return this.heldPages;
  }

  /** Set by the simulator: frees everything this actor holds. */
  killHook: () => void = () => {};
  kill(): void {
    this.killHook();
  }
}

/** Run a scenario on an allocator. Synchronous; the pressure machinery schedules its own events on the clock. */
export function simulate(spec: ScenarioSpec, alloc: SimAllocator, opts: SimulateOptions): SimResult {
  const clock = new Clock();
  const durationNs = spec.durationMs * NSEC_PER_MSEC;
  const sampleNs = spec.sampleMs * NSEC_PER_MSEC;
  const pressure = opts.pressure;
  const maxReports = opts.maxReports ?? 20;
  const managedTotal = alloc.zones.reduce((s, z) => s + z.managed, 0);
  const actors = spec.actors.map((a, i) => new ActorRun(a, 1000 + i, streamRng(opts.seed, `actor:${a.name}`), managedTotal, durationNs));
  if (pressure) pressure.attach({ clock, alloc, rng: streamRng(opts.seed, 'pressure'), speed: spec.speed ?? {}, tunables: spec.machine.tunables });

  let requests = 0, failures = 0, frees = 0;

  // One labyrinth per scenario for the __GFP_EXCL actors: exclusive pages exist only behind a key.
  const exclActors = actors.filter((a) => (a.gfp & __GFP_EXCL) !== 0);
  const labs = exclActors.length > 0 ? alloc.createLabyrinths?.() : undefined;
  // (An allocator without labyrinths, e.g. a test double, gets the raw alloc_pages calls, which the core refuses.)
  const lab = labs?.create(spec.name.replace(/[^A-Za-z0-9_.-]/g, '_'));
  // keys by head pfn: a flat array over every pfn (an indexed load, where a Map of thousands of keys misses the cache)
  const nrPfn = alloc.zones.reduce((n, z) => Math.max(n, z.startPfn + z.spanned), 0);
  for (const a of lab ? exclActors : []) {
    a.task = lab!.spawn(a.comm);
    a.keys = new Array<ExclusiveKey | null>(nrPfn).fill(null);
    a.allocOpts = { cpu: a.cpu };
    if (a.spec.mempool !== undefined && a.spec.mempool > 0) {
      const orders = a.fixedOrder >= 0 ? [a.fixedOrder] : a.orderWeights.flatMap((w, o) => (w > 0 ? [o] : []));
      for (const o of orders) a.pools[o] = exclusiveMempool(a.task, a.spec.mempool, o);
    }
  }
  /** An exclusive block through the labyrinth (its mempool first when it has one): the head pfn or -1. Never sleeps. */
  const allocExcl = (a: ActorRun, order: number): number => {
    const pool = a.pools[order];
    const r = pool ? pool.alloc((a.gfp & ~__GFP_ZERO) >>> 0) : a.task!.allocExclusive(a.gfp, order, a.allocOpts);
    if (!(r instanceof ExclusiveKey)) return -1;
    const pfn = a.task!.pfnOf(r);
    a.keys[pfn] = r;
    return pfn;
  };
  const freeExcl = (a: ActorRun, pfn: number, order: number): void => {
    const key = a.keys[pfn]!;
    a.keys[pfn] = null;
    const pool = a.pools[order];
    if (pool) pool.free(key);
    else a.task!.freeExclusive(key, a.cpu);
  };
  // One CPU: kswapd takes it from the tasks while it runs (see cpuShare).
  const kswapdShares = alloc.nrCpus === 1 && pressure?.kswapdRunningSinceNs !== undefined;
  // warn_alloc's own ratelimit (10 s, burst 1), in virtual time.
  const ratelimit = warnAllocRateLimit();
  let warned = 0, suppressed = 0, nowarn = 0;
  const kept: Array<{ tMs: number; actor: string; text: string }> = [];

  // Where each actor's pages go besides its own arrays: the LRU lists (reclaimable) or the movable registry
  // (compaction may migrate them, reclaim may not). Exclusive pages go to neither.
  for (const a of actors) {
    a.onLru = pressure !== undefined && a.spec.lru !== undefined && !a.task;
    a.movableReg = pressure?.movableAdd !== undefined && a.movable && !a.onLru && !a.task;
    // the LRU keeps each page's index (lruSetSlot): no pfn index needed
    if (a.onLru && pressure!.lruSetSlot !== undefined) { a.slots = pressure!; a.index = null; }
  }

  /** Drop a block the actor's arrays no longer hold: unregister it, free it. */
  const freeOne = (a: ActorRun, pfn: number, order: number): void => {
    frees++;
    if (a.task) { freeExcl(a, pfn, order); return; }
    // off the LRU (or the movable registry) first: PG_lru is cleared before a page is freed
    if (a.index) a.index.delete(pfn);
    if (a.onLru) pressure!.lruRemove(pfn, order);
    else if (a.movableReg) pressure!.movableRemove!(pfn, order);
    alloc.freePages(pfn, order, a.cpu);
  };

  const reportFailure = (a: ActorRun, order: number, now: number): void => {
    if (a.firstFailNs < 0) a.firstFailNs = now;
    a.lastFailNs = now;
    if (a.gfp & __GFP_NOWARN) { nowarn++; return; }
    if (!ratelimit.allow(now)) { suppressed++; return; }
    warned++;
    if (kept.length < maxReports) {
      const text = alloc.warnAllocReport
        ? alloc.warnAllocReport({ comm: a.comm, pid: a.pid, cpu: a.cpu, gfp: a.gfp, order, inInterrupt: a.spec.context !== 'process', written: a.spec.gfp })
        : warnAllocFirstLine({
          comm: a.comm, pid: a.pid, cpu: a.cpu, order, gfp: a.gfp, gfpNames: formatGfp(a.gfp, '6.1'),
          nodemask: null, cpuset: '/', memsAllowed: '0', inInterrupt: a.spec.context !== 'process',
        });
      kept.push({ tMs: round3(now / NSEC_PER_MSEC), actor: a.spec.name, text });
    }
  };

  const record = (a: ActorRun, order: number, ok: boolean, latNs: number): void => {
    const b = order * ST_FIELDS;
    a.stats[b + ST_REQ]!++;
    a.intReq[order]!++;
    a.requests++;
    requests++;
    if (!ok) {
      a.stats[b + ST_FAIL]!++;
      a.intFail[order]!++;
      a.failures++;
      failures++;
    }
    a.stats[b + ST_LATSUM]! += latNs;
    if (latNs > a.stats[b + ST_LATMAX]!) a.stats[b + ST_LATMAX] = latNs;
    const bucket = latNs <= 0 ? 0 : Math.min(LAT_BUCKETS - 1, 1 + Math.floor(Math.log2(latNs)));
    a.latHist[order * LAT_BUCKETS + bucket]!++;
    if (latNs > a.deadlineNs) a.stats[b + ST_DEADLINE]!++;
  };

  /** A request succeeded at `now` (issued at `issued`): hold its pages as the actor says. */
  const holdPages = (a: ActorRun, pfn: number, order: number, now: number): void => {
    a.pagesAllocated += 1 << order;
    const i = a.push(pfn, order, now);
    register(a, pfn, order, i);
    if (a.holdMeanNs >= 0) {
      // this block's own lifetime; only when it ends before the pending free does it become the pending free
      const t = now + a.rng.exponential(a.holdMeanNs);
      if (t < a.nextFreeAt) {
        a.nextFreeAt = t;
        clock.schedule(t, expFree[a.pid - 1000]!, ++a.freeGen);
      }
    }
  };
  const register = (a: ActorRun, pfn: number, order: number, slot: number): void => {
    if (a.onLru) pressure!.lruAdd(pfn, order, a.spec.lru!, a.rng.chance(a.spec.dirtyFraction ?? 0), a, slot);
    else if (a.movableReg) pressure!.movableAdd!(pfn, order, a);
  };

  /** Exponential hold: entry i goes — its block freed unless reclaim took it — and the set closes over it. */
  const expDrop = (a: ActorRun, i: number): void => {
    const pfn = a.pfns[i]!;
    if (pfn >= 0) {
      const order = a.orders[i]!;
      a.heldPages -= 1 << order;
      freeOne(a, pfn, order);
    }
    a.dropAt(i);
  };
  /**
   * The earliest of an exponential-hold actor's lifetimes ended: a uniformly chosen entry goes (its block is freed
   * unless reclaim took it), and the next earliest is drawn over the entries left.
   */
  const expFree: Array<(now: number, gen: number) => void> = actors.map((a) => (now: number, gen: number) => {
    if (a.killed || gen !== a.freeGen || a.count === 0) return;
    expDrop(a, a.rng.int(0, a.count - 1));
    if (a.count > 0) {
      a.nextFreeAt = now + a.rng.exponential(a.holdMeanNs / a.count);
      clock.schedule(a.nextFreeAt, expFree[a.pid - 1000]!, ++a.freeGen);
    } else a.nextFreeAt = Infinity;
  });

  /** A sleeping request issued at `issued` completed at `doneNs` with pfn (-1: failed). */
  const sleepingDone = (a: ActorRun, order: number, issued: number, pfn: number, doneNs: number): void => {
    a.pending--;
    const ok = pfn >= 0;
    record(a, order, ok, doneNs - issued);
    if (ok) {
      if (a.killed) { frees++; alloc.freePages(pfn, order, a.cpu); }
      else holdPages(a, pfn, order, doneNs);
    } else reportFailure(a, order, doneNs);
  };

  /**
   * A sleeping request that did not complete at once: its callback (the only closure of a request) is made here,
   * off request()'s fast path, so request() itself captures nothing and allocates no context.
   */
  const sleepOn = (a: ActorRun, order: number, now: number, tried: boolean): void => {
    const done = (p: number, doneNs: number): void => sleepingDone(a, order, now, p, doneNs);
    if (tried) pressure!.continueAllocSleeping!(a.gfp, order, a.cpu, a, done);
    else pressure!.allocSleeping(a.gfp, order, a.cpu, a, done);
  };

  /** Issue one request (a chunk of `chunk` requests of one order) for actor a at time now. */
  const request = (a: ActorRun, now: number): void => {
    const order = a.pickOrder();
    for (let c = 0; c < a.chunk; c++) {
      if (a.refuses) {
        // A sleeping allocation in atomic context: the kernel refuses it ("BUG: sleeping function called from
        // invalid context"); nothing is allocated.
        a.stats[order * ST_FIELDS + ST_REFUSED]!++;
        record(a, order, false, 0);
        continue;
      }
      if (a.task) {
        // Exclusive: through the labyrinth's key manager (and mempool), on the path its gfp allows, at once.
        const pfn = allocExcl(a, order);
        record(a, order, pfn >= 0, 0);
        if (pfn >= 0) holdPages(a, pfn, order, now);
        else reportFailure(a, order, now);
        continue;
      }
      if (a.sleeping && pressure) {
        a.pending++;
        if (pressure.tryAllocSleeping) {
          // most sleeping requests complete at once: no callback for those
          const pfn = pressure.tryAllocSleeping(a.gfp, order, a.cpu, a);
          if (pfn >= 0) sleepingDone(a, order, now, pfn, now);
          else sleepOn(a, order, now, true);
        } else {
          sleepOn(a, order, now, false);
        }
        continue;
      }
      const pfn = alloc.allocPages(a.gfp, order, a.cpu);
      if (pressure) pressure.afterAtomicAlloc(a.gfp, order, pfn);
      if (pfn >= 0) {
        record(a, order, true, 0);
        holdPages(a, pfn, order, now);
      } else {
        record(a, order, false, 0);
        reportFailure(a, order, now);
      }
    }
  };

  /** Free FIFO pages older than the hold time. */
  const expire = (a: ActorRun, now: number): void => {
    while (a.count > 0) {
      const i = a.head;
      if (now - a.times[i]! < a.holdNs) break;
      const pfn = a.pfns[i]!, order = a.orders[i]!;
      if (pfn >= 0) { // (a dead entry: reclaim took it)
        freeOne(a, pfn, order);
        a.heldPages -= 1 << order;
      }
      a.head = (i + 1) % a.pfns.length;
      a.count--;
    }
  };

  /** Make room under the cap; false when the actor must pause. */
  const makeRoom = (a: ActorRun, need: number): boolean => {
    if (a.heldPages + need <= a.maxHeld) return true;
    a.full = true;
    const mode = a.spec.onFull ?? 'pause';
    if (mode === 'pause') return false;
    while (a.heldPages + need > a.maxHeld && a.count > 0) {
      if (mode === 'replace-oldest' && a.holdNs >= 0) {
        const i = a.head;
        if (a.pfns[i]! >= 0) {
          freeOne(a, a.pfns[i]!, a.orders[i]!);
          a.heldPages -= 1 << a.orders[i]!;
        }
        a.head = (i + 1) % a.pfns.length;
        a.count--;
      } else if (a.holdMeanNs >= 0) {
        // an exponential hold's entry may be dead (reclaim took its block): replacing it frees nothing. (The pending
        // free was drawn over the entries before this one went: it may come a little early, once.)
        expDrop(a, mode === 'replace-oldest' ? 0 : a.rng.int(0, a.count - 1));
      } else {
        const i = mode === 'replace-oldest' ? 0 : a.rng.int(0, a.count - 1);
        const pfn = a.pfns[i]!, order = a.orders[i]!;
        a.removeAt(i);
        freeOne(a, pfn, order);
      }
    }
    return a.heldPages + need <= a.maxHeld;
  };

  for (const a of actors) {
    a.killHook = () => {
      if (a.killed) return;
      a.killed = true;
      if (a.holdMeanNs >= 0) {
        // the pending free event finds the actor killed and does nothing
        for (let i = 0; i < a.count; i++) {
          const pfn = a.pfns[i]!;
          if (pfn >= 0) freeOne(a, pfn, a.orders[i]!);
        }
        a.count = 0;
        a.nextFreeAt = Infinity;
      } else if (a.holdNs >= 0) {
        while (a.count > 0) {
          const i = a.head;
          if (a.pfns[i]! >= 0) freeOne(a, a.pfns[i]!, a.orders[i]!);
          a.head = (i + 1) % a.pfns.length;
          a.count--;
        }
      } else {
        while (a.count > 0) {
          const pfn = a.pfns[a.count - 1]!, order = a.orders[a.count - 1]!;
          a.removeAt(a.count - 1);
          freeOne(a, pfn, order);
        }
      }
      a.heldPages = 0;
    };
    if (a.spec.context === 'process' && pressure) pressure.registerTask(a);

    /**
     * The share of the CPU a process-context actor gets at `now`. On a one-CPU machine kswapd runs on the same
     * CPU as every task: woken, it preempts them (a sleeper's wakeup preemption), and once it has run for
     * sched_latency (6 ms on one CPU) CFS splits the CPU between it and the task. Atomic actors (softirq,
     * hardirq) interrupt kswapd and never lose time. Machines with more CPUs are assumed to give kswapd an idle one.
     */
    const cpuShare = (now: number): number => {
      if (!kswapdShares || a.spec.context !== 'process') return 1;
      const since = pressure!.kswapdRunningSinceNs!();
      if (since < 0) return 1;
      return now - since < SCHED_LATENCY_NS ? 0 : 0.5;
    };
    const meanOrderPages = a.fixedOrder >= 0 ? 1 << a.fixedOrder
      : a.orderWeights.reduce((s, w, o) => s + w * (1 << o), 0) / a.orderWeights.reduce((s, w) => s + w, 0);
    if (a.spec.kind === 'tick') {
      const periodNs = a.spec.periodMs! * NSEC_PER_MSEC;
      const burst = a.spec.burst!;
      const tick = (now: number): void => {
        if (a.killed) return;
        if (a.holdNs >= 0) expire(a, now);
        if (a.isOn(now)) {
          for (let k = 0; k < burst; k++) {
            if (!makeRoom(a, a.chunk * meanOrderPages)) break;
            request(a, now);
          }
        }
        if (now + periodNs < durationNs) clock.schedule(now + periodNs, tick);
      };
      clock.schedule(a.startNs, tick);
    } else {
      const perSec = a.spec.requestsPerSec ?? (a.spec.mibPerSec! * 1024 * 1024) / (PAGE_SIZE * meanOrderPages * a.chunk);
      const perSecFull = a.spec.requestsPerSecWhenFull ?? perSec;
      if (a.spec.arrival === 'poisson') {
        const next = (now: number): void => {
          if (a.killed || now >= a.stopNs) return;
          if (a.holdNs >= 0) expire(a, now);
          // a task asleep in the allocator (direct reclaim, compaction, OOM) cannot ask again until it returns
          const share = cpuShare(now);
          if (a.isOn(now) && a.pending === 0 && (share === 1 || (share > 0 && a.rng.chance(share))) && makeRoom(a, a.chunk * meanOrderPages)) request(a, now);
          const rate = a.full ? perSecFull : perSec;
          clock.schedule(now + a.rng.exponential(NSEC_PER_SEC / rate), next);
        };
        clock.schedule(a.startNs, next);
      } else {
        // Fixed spacing, batched per quantum so that high rates cost one event per millisecond.
        const quantumNs = Math.max(NSEC_PER_SEC / perSec, NSEC_PER_MSEC / 4);
        const step = (now: number): void => {
          if (a.killed || now >= a.stopNs) return;
          if (a.holdNs >= 0) expire(a, now);
          if (a.isOn(now) && a.pending === 0) {
            a.acc += (a.full ? perSecFull : perSec) * quantumNs / NSEC_PER_SEC * cpuShare(now);
            while (a.acc >= 1) {
              // a task asleep in the allocator (direct reclaim, compaction, OOM) cannot ask again until it
              // returns: the rest of this quantum is lost to it, as CPU time is to a blocked task
              if (a.pending > 0) { a.acc = 0; break; }
              a.acc -= 1;
              if (!makeRoom(a, a.chunk * meanOrderPages)) { a.acc = 0; break; }
              request(a, now);
            }
          }
          clock.schedule(now + quantumNs, step);
        };
        clock.schedule(a.startNs, step);
      }
    }
  }

  // Sampling
  const nz = alloc.zones.length;
  const wm = new Float64Array(4);
  const zones: ZoneSeries[] = alloc.zones.map((z) => ({
    name: z.name, managed: z.managed, free: [], min: [], low: [], high: [], boost: [],
    freeBlocks: Array.from({ length: MAX_ORDER }, () => [] as number[]),
  }));
  const tMs: number[] = [];
  const classRequests: Record<string, number[]> = {};
  const classFailures: Record<string, number[]> = {};
  const pressureSeries: Record<string, number[]> = {};
  let lastCounters: Record<string, number> = pressure ? { ...pressure.counters() } : {};
  const pageMaps: PageMap[] = [];
  const mapAt = (spec.pageMapAtMs ?? [spec.durationMs / 4, spec.durationMs / 2, spec.durationMs]).map((t) => Math.min(t, spec.durationMs)).sort((x, y) => x - y);
  let mapNext = 0;
  let sampleIdx = 0;
  const sample = (now: number): void => {
    tMs.push(now / NSEC_PER_MSEC);
    for (let i = 0; i < nz; i++) {
      const zs = zones[i]!;
      alloc.zoneWatermarks(i, wm);
      zs.free.push(alloc.zoneFreePages(i));
      zs.min.push(wm[0]!); zs.low.push(wm[1]!); zs.high.push(wm[2]!); zs.boost.push(wm[3]!);
      for (let o = 0; o < MAX_ORDER; o++) zs.freeBlocks[o]!.push(alloc.zoneFreeBlocks(i, o));
    }
    for (const a of actors) {
      for (let o = 0; o < MAX_ORDER; o++) {
        if (a.stats[o * ST_FIELDS + ST_REQ] === 0) continue;
        const k = classKey(a.spec.gfp, o);
        const rq = classRequests[k] ?? (classRequests[k] = new Array<number>(sampleIdx).fill(0));
        const fl = classFailures[k] ?? (classFailures[k] = new Array<number>(sampleIdx).fill(0));
        if (rq.length === sampleIdx) { rq.push(0); fl.push(0); }
        rq[sampleIdx]! += a.intReq[o]!;
        fl[sampleIdx]! += a.intFail[o]!;
        a.intReq[o] = 0;
        a.intFail[o] = 0;
      }
    }
    for (const k of Object.keys(classRequests)) {
      if (classRequests[k]!.length === sampleIdx) { classRequests[k]!.push(0); classFailures[k]!.push(0); }
    }
    if (pressure) {
      const c = pressure.counters();
      for (const k of Object.keys(c)) {
        const s = pressureSeries[k] ?? (pressureSeries[k] = new Array<number>(sampleIdx).fill(0));
        s.push(c[k]! - (lastCounters[k] ?? 0));
      }
      lastCounters = { ...c };
    }
    sampleIdx++;
    while (mapNext < mapAt.length && mapAt[mapNext]! * NSEC_PER_MSEC <= now) {
      for (let i = 0; i < nz; i++) {
        const m = alloc.pageblockMap(i);
        pageMaps.push({ tMs: now / NSEC_PER_MSEC, zone: alloc.zones[i]!.name, migratetype: Array.from(m.migratetype), freePages: Array.from(m.freePages) });
      }
      mapNext++;
    }
  };

  // Drive the clock sample by sample (samples fire after every event of their instant).
  const progressEvery = Math.max(1, Math.floor(durationNs / sampleNs / 100));
  let t = 0;
  sample(0);
  let n = 0;
  while (t < durationNs) {
    t = Math.min(durationNs, t + sampleNs);
    clock.runUntil(t);
    sample(t);
    if (opts.onProgress && ++n % progressEvery === 0) opts.onProgress(t / durationNs);
  }
  opts.onProgress?.(1);
  opts.inspect?.(actors);

  // Results
  const classes: ClassStats[] = [];
  const byClass = new Map<string, { cs: ClassStats; hist: Float64Array; latSum: number }>();
  for (const a of actors) {
    for (let o = 0; o < MAX_ORDER; o++) {
      const b = o * ST_FIELDS;
      if (a.stats[b + ST_REQ] === 0) continue;
      const key = `${a.spec.gfp}\u0000${a.spec.context}\u0000${o}`;
      let e = byClass.get(key);
      if (!e) {
        e = {
          cs: { gfpClass: a.spec.gfp, gfp: '0x' + (a.gfp >>> 0).toString(16), context: a.spec.context, order: o, requests: 0, failures: 0, failureRate: 0, refused: 0, latencyMeanUs: 0, latencyP99Us: 0, latencyMaxUs: 0, deadlineMisses: 0 },
          hist: new Float64Array(LAT_BUCKETS), latSum: 0,
        };
        byClass.set(key, e);
        classes.push(e.cs);
      }
      e.cs.requests += a.stats[b + ST_REQ]!;
      e.cs.failures += a.stats[b + ST_FAIL]!;
      e.cs.refused += a.stats[b + ST_REFUSED]!;
      e.cs.deadlineMisses += a.stats[b + ST_DEADLINE]!;
      e.cs.latencyMaxUs = Math.max(e.cs.latencyMaxUs, a.stats[b + ST_LATMAX]! / 1000);
      e.latSum += a.stats[b + ST_LATSUM]!;
      for (let k = 0; k < LAT_BUCKETS; k++) e.hist[k]! += a.latHist[o * LAT_BUCKETS + k]!;
    }
  }
  for (const e of byClass.values()) {
    const cs = e.cs;
    cs.failureRate = round6(cs.failures / cs.requests);
    cs.latencyMeanUs = round3(e.latSum / cs.requests / 1000);
    cs.latencyMaxUs = round3(cs.latencyMaxUs);
    // p99 as the upper edge of the histogram bucket holding the 99th percentile
    const target = Math.ceil(cs.requests * 0.99);
    let seen = 0;
    for (let k = 0; k < LAT_BUCKETS; k++) {
      seen += e.hist[k]!;
      if (seen >= target) { cs.latencyP99Us = k === 0 ? 0 : round3(Math.min(2 ** k, cs.latencyMaxUs * 1000) / 1000); break; }
    }
  }
  classes.sort((x, y) => (x.gfpClass < y.gfpClass ? -1 : x.gfpClass > y.gfpClass ? 1 : x.order - y.order));

  const zonesOut = alloc.zones.map((z, i) => {
    alloc.zoneWatermarks(i, wm);
    return { name: z.name, managed: z.managed, min: wm[0]!, low: wm[1]!, high: wm[2]! };
  });
  let labyrinth: LabyrinthStats | undefined;
  if (labs && lab) {
    // Isolation: every page of every live exclusive block (held by an actor or kept in a mempool) must refuse
    // page_address and virt_to_page without its key.
    let checks = 0, reachable = 0;
    const mempools: LabyrinthStats['mempools'] = [];
    for (const a of exclActors) {
      const held: ExclusiveKey[] = [];
      for (const key of a.keys) if (key !== null) held.push(key);
      a.pools.forEach((pool, order) => {
        if (!pool) return;
        for (const key of pool.pooled) held.push(key);
        mempools.push({ actor: a.spec.name, order, minNr: pool.minNr, inPool: pool.currNr, hits: pool.fromPool, failures: pool.failures });
      });
      for (const key of held) {
        const inf = a.task!.info(key);
        for (let p = inf.pfn; p < inf.pfn + inf.nrPages; p++) {
          checks++;
          if (alloc.keylessReachable?.(p, 0) ?? true) reachable++;
        }
      }
    }
    labs.exclusive.verify(new Set([lab.id]));
    labyrinth = {
      name: lab.name, liveBlocks: labs.exclusive.count(lab.id), pagesHeld: lab.exclusivePages, wipedPages: labs.exclusive.wipedPages,
      mempools, mempoolHits: mempools.reduce((s, m) => s + m.hits, 0), isolationChecks: checks, keylessReachable: reachable,
    };
  }
  const pagesAllocated = actors.reduce((s, a) => s + a.pagesAllocated, 0);
  return {
    scenario: spec.name,
    title: spec.title,
    ...(spec.headline !== undefined ? { headline: spec.headline } : {}),
    seed: opts.seed,
    machine: { mem: spec.machine.mem, cpus: spec.machine.cpus, kernel: spec.machine.kernel, minFreeKbytes: alloc.minFreeKbytes, tunables: { ...spec.machine.tunables } },
    durationMs: spec.durationMs,
    sampleMs: spec.sampleMs,
    machinery: pressure
      ? { pressure: pressure.name, note: 'kswapd, reclaim, compaction and OOM are simulated.' }
      : { pressure: null, note: NO_PRESSURE_NOTE },
    totals: { events: clock.fired, requests, failures, failureRate: requests === 0 ? 0 : round6(failures / requests), frees, pagesAllocated },
    classes,
    actors: actors.map((a) => ({
      name: a.spec.name, kind: a.spec.kind, gfp: a.spec.gfp, context: a.spec.context,
      requests: a.requests, failures: a.failures, failureRate: a.requests === 0 ? 0 : round6(a.failures / a.requests),
      pagesAllocated: a.pagesAllocated, heldPagesMax: a.heldPagesMax, heldPagesEnd: a.heldPages,
      firstFailureMs: a.firstFailNs < 0 ? null : round3(a.firstFailNs / NSEC_PER_MSEC),
      lastFailureMs: a.lastFailNs < 0 ? null : round3(a.lastFailNs / NSEC_PER_MSEC),
    })),
    zones: zonesOut,
    failureReports: { total: failures, warned, suppressedByRatelimit: suppressed, nowarn, kept },
    pressureCounters: pressure ? { ...pressure.counters() } : {},
    pressureEvents: pressure?.events ? pressure.events().map((e) => ({ tMs: round3(e.tNs / NSEC_PER_MSEC), kind: e.kind, text: e.text })) : [],
    buddyinfo: alloc.buddyinfo(),
    series: { tMs, zones, classRequests, classFailures, pressure: pressureSeries },
    pageMaps,
    ...(labyrinth ? { labyrinth } : {}),
  };
}

export const NO_PRESSURE_NOTE =
  'Run without the pressure machinery (--no-pressure, or an allocator without it): kswapd, reclaim, compaction and OOM do not run. Page cache and anonymous pages are never ' +
  'reclaimed, kswapd never runs, sleeping requests fail where the kernel would reclaim, compact or OOM-kill; ' +
  'every request takes the fast path and the reserves its flags allow, then fails.';

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
function round3(x: number): number {
  return Math.round(x * 1e3) / 1e3;
}
