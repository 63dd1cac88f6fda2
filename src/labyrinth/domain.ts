/**
 * Labyrinths: isolated memory domains (a Labyrinth extension) modelled on memory cgroup v2 with a secure
 * owner. Each labyrinth has the memcg limits `max`, `high`, `low`, `min`, the usage `current`, the events
 * low/high/max/oom/oom_kill/oom_group_kill and memcg's own files (src/labyrinth/memcg_files.ts); tasks inside
 * it allocate, and their __GFP_ACCOUNT pages, page-cache pages and exclusive pages are charged to it.
 * @kernel mm/memcontrol.c try_charge_memcg, mem_cgroup_oom, mem_cgroup_out_of_memory, reclaim_high,
 *   mem_cgroup_handle_over_high, calculate_overage, calculate_high_delay, memory_max_write, memory_high_write,
 *   memcg_memory_event, __memcg_kmem_charge_page (6.1); mm/oom_kill.c oom_badness, __oom_kill_process (6.1)
 *
 * The owner of a `Labyrinth` object is its secure owner: only it can spawn tasks, change limits or destroy
 * it. A labyrinth's id (the owner id stamped on its pages) is never reused.
 *
 * Differences from the kernel, on purpose (docs/labyrinths.md):
 * - One level under the root: no nested hierarchy, so effective protection is the configured min/low.
 * - No per-CPU charge stock (MEMCG_CHARGE_BATCH pre-charging): `current` is exactly the charged pages, and
 *   the over-high debt grows by the pages charged rather than by a batch.
 * - Limit reclaim frees the labyrinth's own page-cache pages (its LRU, oldest first); accounted kernel pages
 *   and exclusive pages are never reclaimable, as in the kernel (kmem and secretmem are not on an evictable LRU).
 * - "Return to user mode" (where the kernel throttles a task above `high`) is the end of each blocking
 *   allocation call, or an explicit `task.returnToUser()`; the throttle is recorded as virtual jiffies.
 * - Destroying a labyrinth kills its tasks (the kernel refuses rmdir of a populated cgroup).
 */
import {
  __GFP_ACCOUNT, __GFP_DIRECT_RECLAIM, __GFP_EXCL, __GFP_HIGH, __GFP_NOFAIL, __GFP_NORETRY, __GFP_RETRY_MAYFAIL,
  GFP_KERNEL,
} from '../gfp/bits.ts';
import type { PageAllocator } from '../alloc/page_alloc.ts';
import { PAGE_ALLOC_COSTLY_ORDER, PAGE_SIZE } from '../mm/constants.ts';
import { formatGfp61 } from '../alloc/gfp_names.ts';
import { verify as verifyCore } from '../debug/verify.ts';
import { ExclusivePageError } from '../errors.ts';
import { ExclusivePages, ExclusiveKey, type ExclusiveAllocFailure, type ExclusiveInfo } from './exclusive.ts';
import { SimPageBytes, type PageBytes } from './page_bytes.ts';

/** @kernel mm/internal.h MAX_RECLAIM_RETRIES */
export const MAX_RECLAIM_RETRIES = 16;
/** @kernel include/linux/memcontrol.h MEMCG_CHARGE_BATCH */
export const MEMCG_CHARGE_BATCH = 64;
/** @kernel include/linux/swap.h SWAP_CLUSTER_MAX */
export const SWAP_CLUSTER_MAX = 32;
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;
/** Debian 6.1 amd64: CONFIG_HZ=250. */
export const HZ = 250;
const MEMCG_DELAY_PRECISION_SHIFT = 20n;
const MEMCG_DELAY_SCALING_SHIFT = 14n;
/** @kernel mm/memcontrol.c MEMCG_MAX_HIGH_DELAY_JIFFIES */
export const MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ;

/** memory.events, in the file's order. */
export const MEMCG_EVENT_NAMES = ['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill'] as const;
export type MemcgEvent = typeof MEMCG_EVENT_NAMES[number];

/** Limits in pages; Infinity is the file's "max". */
export interface LabyrinthLimits {
  max?: number;
  high?: number;
  low?: number;
  min?: number;
  /** memory.oom.group: an OOM kill takes every task of the labyrinth. */
  oomGroup?: boolean;
}

export interface LabyrinthsOptions {
  /** Page contents of exclusive pages (default: sparse simulation). */
  bytes?: PageBytes;
  /** %pGg text of a mask for OOM reports (default: the 6.1 table of src/alloc/gfp_names.ts). */
  formatGfp?: (mask: number) => string;
  /** Where OOM reports go (dmesg lines). */
  printk?: (line: string) => void;
  /** Called on every OOM kill (e.g. to count the global oom_kill vm event). */
  onOomKill?: (lab: Labyrinth, task: LabyrinthTask) => void;
  /**
   * The global OOM killer's registry (src/alloc/slowpath.ts `Pressure.registerUser`): every task is registered
   * when spawned and unregistered when it exits, so a global OOM can pick a labyrinth's task by badness.
   */
  registerUser?: (u: GlobalMemoryUser) => () => void;
}

/** A task as src/reclaim/oom_kill.ts's MemoryUser sees it. */
export interface GlobalMemoryUser {
  readonly pid: number;
  readonly comm: string;
  readonly oomScoreAdj: number;
  rssPages(): number;
  rssSplit(): { anon: number; file: number; shmem: number };
  kill(): void;
}

/** Options of a task's allocation call. */
export interface TaskAllocOptions {
  cpu?: number;
  /**
   * in_task(): false for a softirq/hardirq caller, whose charge above `high` only schedules the labyrinth's
   * high work (run by `labs.runPendingWork()` or the next task-context charge). Default true.
   */
  inTask?: boolean;
}

/** The default options (one shared frozen object, not a fresh `{}` per call). */
const NO_OPTS: TaskAllocOptions = Object.freeze({});

/** A page-cache page's eviction callback: the holder learns its page is gone. */
export type ReclaimCallback = (pfn: number) => void;

const enum Kind { Kernel = 0, Cache = 1 }

interface HeldPage {
  readonly order: number;
  readonly kind: Kind;
  readonly charged: boolean;
}

interface CachePage {
  readonly task: LabyrinthTask;
  readonly onReclaim: ReclaimCallback | undefined;
}

/** One OOM report (lines as the kernel prints them for a memcg OOM). */
export interface LabyrinthOomReport {
  labyrinth: string;
  victim: string | null;
  lines: string[];
}

function pagesToKb(p: number): number {
  return p * (PAGE_SIZE / 1024);
}

/** @kernel mm/memcontrol.c calculate_overage (usage above high, in 2^-20 units of high) */
export function calculateOverage(usage: number, high: number): bigint {
  if (usage <= high) return 0n;
  const h = BigInt(Math.max(high, 1));
  return ((BigInt(usage) - h) << MEMCG_DELAY_PRECISION_SHIFT) / h;
}

/** @kernel mm/memcontrol.c calculate_high_delay (jiffies a task above high is throttled) */
export function calculateHighDelay(nrPages: number, maxOverage: bigint): number {
  if (maxOverage === 0n) return 0;
  let penalty = maxOverage * maxOverage * BigInt(HZ);
  penalty >>= MEMCG_DELAY_PRECISION_SHIFT;
  penalty >>= MEMCG_DELAY_SCALING_SHIFT;
  penalty = (penalty * BigInt(nrPages)) / BigInt(MEMCG_CHARGE_BATCH);
  return Number(penalty < BigInt(MEMCG_MAX_HIGH_DELAY_JIFFIES) ? penalty : BigInt(MEMCG_MAX_HIGH_DELAY_JIFFIES));
}

/** The registry of labyrinths over one page allocator. */
export class Labyrinths {
  readonly alloc: PageAllocator;
  readonly exclusive: ExclusivePages;
  readonly formatGfp: (mask: number) => string;
  readonly printk: (line: string) => void;
  readonly onOomKill: ((lab: Labyrinth, task: LabyrinthTask) => void) | undefined;
  readonly registerUser: ((u: GlobalMemoryUser) => () => void) | undefined;
  private readonly labs = new Map<number, Labyrinth>();
  private nextId = 1;
  private nextPid = 1000;
  /** Every OOM report, oldest first. */
  readonly oomReports: LabyrinthOomReport[] = [];

  constructor(alloc: PageAllocator, opts: LabyrinthsOptions = {}) {
    this.alloc = alloc;
    this.exclusive = new ExclusivePages(alloc, opts.bytes ?? new SimPageBytes());
    this.formatGfp = opts.formatGfp ?? formatGfp61;
    this.printk = opts.printk ?? (() => {});
    this.onOomKill = opts.onOomKill;
    this.registerUser = opts.registerUser;
  }

  /** Create a labyrinth (mkdir of a child of the root cgroup). Its name is its cgroup path below "/". */
  create(name: string, limits: LabyrinthLimits = {}): Labyrinth {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ExclusivePageError('LABYRINTH_BAD_WRITE', `Cannot create labyrinth "${name}": because a name is letters, digits, '_', '.', '-'`);
    for (const l of this.labs.values()) {
      if (l.name === name) throw new ExclusivePageError('LABYRINTH_BUSY', `Cannot create labyrinth "${name}": because it exists`);
    }
    const lab = new Labyrinth(this, this.nextId++, name, limits);
    this.labs.set(lab.id, lab);
    return lab;
  }

  /** Live labyrinths. */
  get live(): Labyrinth[] {
    return Array.from(this.labs.values());
  }

  /** @internal */
  newPid(): number {
    return this.nextPid++;
  }

  /** @internal */
  forget(lab: Labyrinth): void {
    this.labs.delete(lab.id);
  }

  /** Total RAM pages the OOM badness scales oom_score_adj by (totalram_pages). */
  totalramPages(): number {
    let n = 0;
    for (let z = 0; z < this.alloc.nrZones; z++) n += this.alloc.zone(z).managed;
    return n;
  }

  /** Run scheduled high work (reclaim_high for labyrinths charged above `high` from interrupt context). */
  runPendingWork(): void {
    for (const l of this.labs.values()) l.runHighWork();
  }

  /**
   * Global reclaim of labyrinth page cache, honouring protection: nothing at or below `min` is taken; a
   * labyrinth at or below `low` is skipped on the first pass and reclaimed on a second pass only when the
   * first freed nothing, which raises its `low` event.
   * @kernel mm/vmscan.c shrink_node_memcgs (mem_cgroup_below_min / mem_cgroup_below_low, memcg_low_reclaim)
   */
  reclaimGlobal(nrPages: number): number {
    let freed = 0;
    for (const lowReclaim of [false, true]) {
      for (const l of this.labs.values()) {
        if (freed >= nrPages) break;
        if (l.current <= l.min) continue;
        if (l.current <= l.low) {
          if (!lowReclaim) continue;
          l.raise('low');
        }
        const allowed = Math.min(nrPages - freed, l.current - l.min);
        freed += l.reclaimOwn(allowed, true);
      }
      if (freed > 0) break;
    }
    return freed;
  }

  /**
   * A shrinker for the pressure layer's global reclaim (src/reclaim/shrinker.ts): counts the labyrinths'
   * page cache above their protection and frees it through reclaimGlobal.
   */
  shrinker(): { name: string; count(ctl: { gfp: number }): number; scan(ctl: { gfp: number; nrToScan: number; pagesFreed: number }): number } {
    return {
      name: 'labyrinths',
      count: () => {
        let n = 0;
        for (const l of this.labs.values()) n += Math.min(l.cachePages, Math.max(0, l.current - l.min));
        return n;
      },
      scan: (ctl) => {
        const freed = this.reclaimGlobal(ctl.nrToScan);
        ctl.pagesFreed += freed;
        return freed;
      },
    };
  }

  /**
   * Memory users for the global OOM killer (src/reclaim/oom_kill.ts MemoryUser): one per live task. A global
   * kill counts oom_kill in the victim's labyrinth, as __oom_kill_process does for the victim's memcg.
   */
  memoryUsers(): GlobalMemoryUser[] {
    const out: GlobalMemoryUser[] = [];
    for (const l of this.labs.values()) for (const t of l.tasks) out.push(t.asMemoryUser());
    return out;
  }

  /**
   * Everything holds: the core's verify() (docs/invariants.md I1–I10), the exclusive-page invariants X1–X5,
   * and the accounting invariants A1–A3 (docs/labyrinths.md): `current` equals the pages charged by live tasks;
   * every held page is allocated and owned by the holder's labyrinth; no pfn is held twice.
   */
  verify(): void {
    verifyCore(this.alloc);
    const live = new Set<number>(this.labs.keys());
    this.exclusive.verify(live);
    const seen = new Map<number, string>();
    for (const l of this.labs.values()) l.verifyAccounting(seen);
  }
}

export class Labyrinth {
  readonly id: number;
  readonly name: string;
  /** @internal */
  readonly labs: Labyrinths;
  private maxPages: number;
  private highPages: number;
  private lowPages: number;
  private minPages: number;
  oomGroup: boolean;
  /** page_counter usage (pages). */
  private usage = 0;
  /** page_counter watermark (peak usage) and failcnt. */
  private peak = 0;
  private failcnt = 0;
  private readonly events: Record<MemcgEvent, number> = { low: 0, high: 0, max: 0, oom: 0, oom_kill: 0, oom_group_kill: 0 };
  /** Charged pages by kind. */
  kernelPages = 0;
  cachePages = 0;
  exclusivePages = 0;
  /** This labyrinth's reclaim counters (memory.stat pgscan / pgsteal). */
  pgscan = 0;
  pgsteal = 0;
  /** Jiffies its tasks were throttled above `high` (virtual). */
  throttledJiffies = 0;
  private highWorkPending = false;
  /** Its LRU of page-cache pages, oldest first (insertion order). */
  private readonly lru = new Map<number, CachePage>();
  /** @internal */
  readonly tasks = new Set<LabyrinthTask>();
  private dead = false;

  /** @internal — use Labyrinths.create */
  constructor(labs: Labyrinths, id: number, name: string, limits: LabyrinthLimits) {
    this.labs = labs;
    this.id = id;
    this.name = name;
    this.maxPages = limits.max ?? Infinity;
    this.highPages = limits.high ?? Infinity;
    this.lowPages = limits.low ?? 0;
    this.minPages = limits.min ?? 0;
    this.oomGroup = limits.oomGroup ?? false;
  }

  get alive(): boolean { return !this.dead; }
  /** memory.current, in pages. */
  get current(): number { return this.usage; }
  get max(): number { return this.maxPages; }
  get high(): number { return this.highPages; }
  get low(): number { return this.lowPages; }
  get min(): number { return this.minPages; }
  /** memory.peak (pages). */
  get peakPages(): number { return this.peak; }
  /** page_counter failcnt: charges that hit max. */
  get failCount(): number { return this.failcnt; }
  /** memory.events counters. */
  eventCounts(): Readonly<Record<MemcgEvent, number>> { return { ...this.events }; }
  /** Pages on its LRU (reclaimable page cache). */
  get lruPages(): number { return this.lru.size; }

  /** @internal */
  ensureAlive(what: string): void {
    if (this.dead) throw new ExclusivePageError('LABYRINTH_DEAD', `Cannot ${what}: because labyrinth "${this.name}" was destroyed`);
  }

  /** @internal memcg_memory_event */
  raise(ev: MemcgEvent): void {
    this.events[ev] += 1;
  }

  /** Start a task inside the labyrinth. */
  spawn(comm: string, opts: { oomScoreAdj?: number; memalloc?: boolean } = {}): LabyrinthTask {
    this.ensureAlive('spawn a task');
    const adj = opts.oomScoreAdj ?? 0;
    if (!(adj >= OOM_SCORE_ADJ_MIN && adj <= OOM_SCORE_ADJ_MAX)) throw new ExclusivePageError('LABYRINTH_BAD_WRITE', `Cannot spawn "${comm}": because oom_score_adj must lie in [-1000, 1000]`);
    const t = new LabyrinthTask(this, this.labs.newPid(), comm, adj, opts.memalloc === true);
    this.tasks.add(t);
    const register = this.labs.registerUser;
    if (register !== undefined) t.unregister = register(t.asMemoryUser());
    return t;
  }

  // -------------------------------------------------------------------------------------------
  // Limits (the memory.* writes)

  /** memory.max write: set, then reclaim down to it, then OOM-kill inside the labyrinth. @kernel memory_max_write */
  setMax(pages: number): void {
    this.ensureAlive('set memory.max');
    this.maxPages = pages;
    let nrReclaims = MAX_RECLAIM_RETRIES;
    let drained = false;
    for (;;) {
      const nr = this.usage;
      if (nr <= pages) break;
      if (!drained) { drained = true; continue; }
      if (nrReclaims > 0) {
        if (this.reclaimOwn(nr - pages) === 0) nrReclaims--;
        continue;
      }
      this.raise('oom');
      if (!this.outOfMemory(GFP_KERNEL, 0, null)) break;
    }
  }

  /** memory.high write: set, then reclaim toward it (never OOM). @kernel memory_high_write */
  setHigh(pages: number): void {
    this.ensureAlive('set memory.high');
    this.highPages = pages;
    let nrRetries = MAX_RECLAIM_RETRIES;
    let drained = false;
    for (;;) {
      const nr = this.usage;
      if (nr <= pages) break;
      if (!drained) { drained = true; continue; }
      const reclaimed = this.reclaimOwn(nr - pages);
      if (reclaimed === 0 && nrRetries-- === 0) break;
    }
  }

  setLow(pages: number): void {
    this.ensureAlive('set memory.low');
    this.lowPages = pages;
  }

  setMin(pages: number): void {
    this.ensureAlive('set memory.min');
    this.minPages = pages;
  }

  // -------------------------------------------------------------------------------------------
  // Charging

  /**
   * Charge nrPages for `task` (null: the labyrinth itself). Returns false for -ENOMEM.
   * @kernel mm/memcontrol.c try_charge_memcg (6.1)
   */
  tryCharge(nrPages: number, gfp: number, task: LabyrinthTask | null, inTask = true): boolean {
    this.ensureAlive('charge');
    let nrRetries = MAX_RECLAIM_RETRIES;
    let passedOom = false;
    let drained = false;
    let raisedMax = false;
    const order = Math.ceil(Math.log2(Math.max(1, nrPages)));
    for (;;) {
      // page_counter_try_charge
      if (this.usage + nrPages <= this.maxPages) {
        this.usage += nrPages;
        if (this.usage > this.peak) this.peak = this.usage;
        this.afterCharge(nrPages, gfp, task, inTask);
        return true;
      }
      this.failcnt += 1;
      // Reclaim recursion (PF_MEMALLOC) may overshoot rather than recurse.
      if (task !== null && task.memalloc) break;
      if ((gfp & __GFP_DIRECT_RECLAIM) === 0) return this.nomem(nrPages, gfp, raisedMax);
      this.raise('max');
      raisedMax = true;
      const reclaimed = this.reclaimOwn(nrPages);
      if (this.maxPages - this.usage >= nrPages) continue;
      if (!drained) { drained = true; continue; }
      if ((gfp & __GFP_NORETRY) !== 0) return this.nomem(nrPages, gfp, raisedMax);
      if (reclaimed > 0 && nrPages <= (1 << PAGE_ALLOC_COSTLY_ORDER)) continue;
      if (nrRetries-- > 0) continue;
      if ((gfp & __GFP_RETRY_MAYFAIL) !== 0) return this.nomem(nrPages, gfp, raisedMax);
      if (passedOom && task !== null && !task.alive) return this.nomem(nrPages, gfp, raisedMax);
      if (this.memcgOom(gfp, order, task)) {
        passedOom = true;
        nrRetries = MAX_RECLAIM_RETRIES;
        continue;
      }
      return this.nomem(nrPages, gfp, raisedMax);
    }
    return this.force(nrPages, raisedMax);
  }

  /** The nomem exit: atomic (__GFP_HIGH) and __GFP_NOFAIL charges go through over the limit. */
  private nomem(nrPages: number, gfp: number, raisedMax: boolean): boolean {
    if ((gfp & (__GFP_NOFAIL | __GFP_HIGH)) === 0) return false;
    return this.force(nrPages, raisedMax);
  }

  private force(nrPages: number, raisedMax: boolean): boolean {
    if (!raisedMax) this.raise('max');
    this.usage += nrPages;
    if (this.usage > this.peak) this.peak = this.usage;
    return true;
  }

  /** done_restock: note the debt above `high` (task context) or schedule the high work (interrupt context). */
  private afterCharge(nrPages: number, gfp: number, task: LabyrinthTask | null, inTask: boolean): void {
    if (this.usage <= this.highPages) return;
    if (!inTask || task === null) {
      this.highWorkPending = true;
      return;
    }
    task.nrPagesOverHigh += nrPages;
    if (task.nrPagesOverHigh > MEMCG_CHARGE_BATCH && !task.memalloc && (gfp & __GFP_DIRECT_RECLAIM) !== 0) {
      task.handleOverHigh();
    }
  }

  /** @internal page_counter_uncharge */
  uncharge(nrPages: number): void {
    this.usage -= nrPages;
    if (this.usage < 0) throw new ExclusivePageError('EXCL_INVARIANT', `A1: labyrinth "${this.name}" uncharged below zero`);
  }

  /** @internal high_work_func: reclaim_high with GFP_KERNEL. */
  runHighWork(): void {
    if (!this.highWorkPending || this.dead) return;
    this.highWorkPending = false;
    this.reclaimHigh(MEMCG_CHARGE_BATCH);
  }

  /** @internal reclaim_high: one `high` event and limit reclaim when above high. */
  reclaimHigh(nrPages: number): number {
    if (this.usage <= this.highPages) return 0;
    this.raise('high');
    return this.reclaimOwn(nrPages);
  }

  /**
   * try_to_free_mem_cgroup_pages over this labyrinth's own LRU: the oldest page-cache pages are freed and
   * their holders told. Kernel and exclusive pages are never reclaimable. Returns pages reclaimed.
   */
  reclaimOwn(nrPages: number, exact = false): number {
    let freed = 0;
    // limit reclaim asks for at least a SWAP_CLUSTER_MAX batch (try_to_free_mem_cgroup_pages); global reclaim
    // passes the exact amount its protection allows
    const want = exact ? nrPages : Math.max(nrPages, SWAP_CLUSTER_MAX);
    for (const [pfn, cp] of this.lru) {
      if (freed >= want) break;
      this.pgscan += 1;
      cp.task.dropCache(pfn);
      this.pgsteal += 1;
      freed += 1;
      if (cp.onReclaim !== undefined) cp.onReclaim(pfn);
    }
    return freed;
  }

  /** @internal */
  lruAdd(pfn: number, task: LabyrinthTask, onReclaim: ReclaimCallback | undefined): void {
    this.lru.set(pfn, { task, onReclaim });
  }

  /** @internal */
  lruDel(pfn: number): void {
    this.lru.delete(pfn);
  }

  /** @kernel mm/memcontrol.c mem_cgroup_oom: costly orders never OOM-kill; count `oom`, then try a kill. */
  private memcgOom(gfp: number, order: number, task: LabyrinthTask | null): boolean {
    if (order > PAGE_ALLOC_COSTLY_ORDER) return false;
    this.raise('oom');
    return this.outOfMemory(gfp, order, task);
  }

  /**
   * OOM inside this labyrinth only: the victim is the task of this labyrinth with the highest badness
   * (oom_score_adj scaled by the labyrinth's limit); its pages are freed and its exclusive pages wiped.
   * @kernel mm/memcontrol.c mem_cgroup_out_of_memory; mm/oom_kill.c out_of_memory (memcg), oom_badness
   */
  private outOfMemory(gfp: number, order: number, current: LabyrinthTask | null): boolean {
    if (this.maxPages - this.usage >= (1 << order)) return true;
    if (current !== null && !current.alive) return true;
    const labs = this.labs;
    const totalram = labs.totalramPages();
    const totalPages = Math.max(1, Math.min(this.maxPages, totalram));
    let victim: LabyrinthTask | null = null;
    let best = -Infinity;
    for (const t of this.tasks) {
      if (t.oomScoreAdj === OOM_SCORE_ADJ_MIN) continue;
      const points = t.rssPages() + t.oomScoreAdj * Math.floor(totalPages / 1000);
      if (points < best) continue;
      victim = t;
      best = points;
    }
    const comm = current?.comm ?? this.name;
    const lines = [
      `${comm} invoked oom-killer: gfp_mask=0x${(gfp >>> 0).toString(16)}(${labs.formatGfp(gfp >>> 0)}), order=${order}, oom_score_adj=${current?.oomScoreAdj ?? 0}`,
      `memory: usage ${pagesToKb(this.usage)}kB, limit ${Number.isFinite(this.maxPages) ? pagesToKb(this.maxPages) : 9007199254740988}kB, failcnt ${this.failcnt}`,
    ];
    if (victim === null) {
      lines.push('Out of memory and no killable processes...');
      this.report(lines, null);
      return false;
    }
    const victims = this.oomGroup ? Array.from(this.tasks).filter((t) => t.oomScoreAdj !== OOM_SCORE_ADJ_MIN) : [victim];
    for (const v of victims) {
      const rss = v.rssPages();
      lines.push(
        `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/${this.name},task_memcg=/${this.name},task=${v.comm},pid=${v.pid},uid=0`,
        `Memory cgroup out of memory: Killed process ${v.pid} (${v.comm}) total-vm:${pagesToKb(rss)}kB, anon-rss:0kB, file-rss:${pagesToKb(rss)}kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:${v.oomScoreAdj}`,
      );
      this.raise('oom_kill');
      if (this.oomGroup) this.raise('oom_group_kill');
      v.exit('OOM-killed inside its labyrinth');
      labs.onOomKill?.(this, v);
    }
    this.report(lines, victim.comm);
    return true;
  }

  private report(lines: string[], victim: string | null): void {
    this.labs.oomReports.push({ labyrinth: this.name, victim, lines });
    for (const l of lines) this.labs.printk(l);
  }

  /** Kill every task (wiping every exclusive page) and remove the labyrinth. Its id is never reused. */
  destroy(): void {
    this.ensureAlive('destroy a labyrinth');
    for (const t of Array.from(this.tasks)) t.exit('its labyrinth was destroyed');
    // Blocks still held by the labyrinth itself (holder 0), e.g. transferred to it.
    const nr = this.labs.exclusive.releaseAll(this.id, -1, 'its labyrinth was destroyed');
    this.exclusivePages -= nr;
    this.uncharge(nr);
    this.dead = true;
    this.labs.forget(this);
  }

  /** @internal A1–A3 (docs/labyrinths.md). */
  verifyAccounting(seen: Map<number, string>): void {
    const bad = (inv: string, msg: string): never => {
      throw new ExclusivePageError('EXCL_INVARIANT', `${inv}: labyrinth "${this.name}": ${msg}`);
    };
    let charged = 0;
    let kernel = 0;
    let cache = 0;
    let excl = this.labs.exclusive.pagesHeldBy(this.id, 0);
    const alloc = this.labs.alloc;
    for (const t of this.tasks) {
      for (const [pfn, h] of t.held) {
        const nr = 1 << h.order;
        if (h.charged) charged += nr;
        if (h.charged && h.kind === Kind.Kernel) kernel += nr;
        if (h.kind === Kind.Cache) cache += nr;
        if (alloc.page_count(pfn) < 1) bad('A2', `task ${t.pid} holds pfn ${pfn}, which is not allocated`);
        if (alloc.pageOwner(pfn) !== this.id) bad('A2', `task ${t.pid} holds pfn ${pfn}, owned by ${alloc.pageOwner(pfn)}`);
        const other = seen.get(pfn);
        if (other !== undefined) bad('A3', `pfn ${pfn} is held by ${other} and task ${t.pid}`);
        seen.set(pfn, `${this.name}/${t.pid}`);
        if (h.kind === Kind.Cache && !this.lru.has(pfn)) bad('A2', `page-cache pfn ${pfn} is not on the labyrinth's LRU`);
      }
      excl += this.labs.exclusive.pagesHeldBy(this.id, t.pid);
    }
    charged += excl;
    if (charged !== this.usage) bad('A1', `current ${this.usage} pages, charged pages held ${charged}`);
    if (kernel !== this.kernelPages || cache !== this.cachePages || excl !== this.exclusivePages) {
      bad('A1', `by kind kernel/cache/exclusive ${this.kernelPages}/${this.cachePages}/${this.exclusivePages}, held ${kernel}/${cache}/${excl}`);
    }
    if (cache !== this.lru.size) bad('A2', `${this.lru.size} pages on the LRU, ${cache} held as page cache`);
  }
}

/** A task inside a labyrinth: the only way to allocate on its behalf. */
export class LabyrinthTask {
  readonly lab: Labyrinth;
  readonly pid: number;
  readonly comm: string;
  readonly oomScoreAdj: number;
  /** PF_MEMALLOC (a reclaimer): its charges may overshoot max rather than recurse into reclaim. */
  readonly memalloc: boolean;
  /** current->memcg_nr_pages_over_high */
  nrPagesOverHigh = 0;
  /** Jiffies this task was throttled above high (virtual). */
  throttledJiffies = 0;
  /** @internal pfn → what the task holds (not exclusive blocks: the key registry holds those). */
  readonly held = new Map<number, HeldPage>();
  /** @internal pages mapped from elsewhere (get_page), pfn → count */
  private readonly mapped = new Map<number, number>();
  private dead = false;
  /** @internal removes the task from the global OOM killer's registry */
  unregister: (() => void) | null = null;
  private user: GlobalMemoryUser | null = null;
  /** Why the task exited ('' while alive). */
  exitReason = '';

  /** @internal — use Labyrinth.spawn */
  constructor(lab: Labyrinth, pid: number, comm: string, oomScoreAdj: number, memalloc: boolean) {
    this.lab = lab;
    this.pid = pid;
    this.comm = comm;
    this.oomScoreAdj = oomScoreAdj;
    this.memalloc = memalloc;
  }

  get alive(): boolean { return !this.dead; }

  private ensureAlive(what: string): void {
    if (this.dead) throw new ExclusivePageError('LABYRINTH_DEAD', `Cannot ${what}: because task ${this.pid} (${this.comm}) has exited (${this.exitReason})`);
    this.lab.ensureAlive(what);
  }

  /**
   * This task as the global OOM killer's MemoryUser: a global kill counts oom_kill in its labyrinth (the
   * kernel counts MEMCG_OOM_KILL in the victim's memcg) and wipes its exclusive pages.
   */
  asMemoryUser(): GlobalMemoryUser {
    if (this.user === null) {
      const t = this;
      this.user = {
        pid: t.pid, comm: t.comm, oomScoreAdj: t.oomScoreAdj,
        rssPages: () => t.rssPages(),
        rssSplit: () => ({ anon: 0, file: t.rssPages(), shmem: 0 }),
        kill: () => {
          if (!t.alive) return;
          t.lab.raise('oom_kill');
          t.exit('OOM-killed by the global OOM killer');
        },
      };
    }
    return this.user;
  }

  /** get_mm_rss as the OOM killer sees it: every charged page the task holds, exclusive blocks included. */
  rssPages(): number {
    let n = 0;
    for (const h of this.held.values()) if (h.charged) n += 1 << h.order;
    return n + this.lab.labs.exclusive.pagesHeldBy(this.lab.id, this.pid);
  }

  /**
   * alloc_pages for this task. With __GFP_ACCOUNT the block is charged to the labyrinth after it is allocated
   * and freed again if the charge fails, as 6.1's __alloc_pages does with __memcg_kmem_charge_page.
   * Returns the pfn or -1. __GFP_EXCL is refused here: exclusive blocks come from allocExclusive (a key).
   */
  allocPages(gfp: number, order: number, opts: TaskAllocOptions = NO_OPTS): number {
    this.ensureAlive('allocate pages');
    if ((gfp & __GFP_EXCL) !== 0) throw new ExclusivePageError('EXCL_BAD_GFP', 'Cannot allocate __GFP_EXCL pages through allocPages: because exclusive pages are handed out only with a key (allocExclusive)');
    const alloc = this.lab.labs.alloc;
    const pfn = alloc.alloc_pages(gfp, order, opts.cpu ?? 0);
    if (pfn < 0) return -1;
    const charged = (gfp & __GFP_ACCOUNT) !== 0;
    if (charged && !this.chargeFor(1 << order, gfp, opts)) {
      alloc.__free_pages(pfn, order, opts.cpu ?? 0);
      return -1;
    }
    alloc.setPageOwner(pfn, this.lab.id);
    this.held.set(pfn, { order, kind: Kind.Kernel, charged });
    if (charged) this.lab.kernelPages += 1 << order;
    this.maybeReturnToUser(gfp, opts);
    return pfn;
  }

  /** Charge, treating a task killed during the charge as a failure (its pages are gone). */
  private chargeFor(nrPages: number, gfp: number, opts: TaskAllocOptions): boolean {
    const ok = this.lab.tryCharge(nrPages, gfp, this, opts.inTask ?? true);
    if (ok && this.dead) {
      this.lab.uncharge(nrPages);
      return false;
    }
    return ok;
  }

  private maybeReturnToUser(gfp: number, opts: TaskAllocOptions): void {
    if ((opts.inTask ?? true) && (gfp & __GFP_DIRECT_RECLAIM) !== 0 && !this.dead) this.handleOverHigh();
  }

  /** Return to user mode: pay the debt above `high` (reclaim, then throttle). */
  returnToUser(): void {
    if (!this.dead) this.handleOverHigh();
  }

  /** @internal @kernel mm/memcontrol.c mem_cgroup_handle_over_high */
  handleOverHigh(): void {
    const nrPages = this.nrPagesOverHigh;
    if (nrPages === 0) return;
    this.nrPagesOverHigh = 0;
    const lab = this.lab;
    let nrRetries = MAX_RECLAIM_RETRIES;
    let inRetry = false;
    for (;;) {
      const reclaimed = lab.reclaimHigh(inRetry ? SWAP_CLUSTER_MAX : nrPages);
      const penalty = calculateHighDelay(nrPages, calculateOverage(lab.current, lab.high));
      if (penalty <= Math.floor(HZ / 100)) return;
      if (reclaimed > 0 || nrRetries-- > 0) {
        inRetry = true;
        continue;
      }
      this.throttledJiffies += penalty;
      lab.throttledJiffies += penalty;
      return;
    }
  }

  /** Free a block from allocPages / allocCache. */
  freePages(pfn: number, order: number, cpu = 0): void {
    this.ensureAlive('free pages');
    const h = this.held.get(pfn);
    if (h === undefined || h.order !== order) {
      throw new ExclusivePageError('LABYRINTH_BAD_WRITE', `Cannot free pfn ${pfn} order ${order}: because task ${this.pid} does not hold that block`, pfn);
    }
    this.release(pfn, h, cpu);
  }

  private release(pfn: number, h: HeldPage, cpu: number): void {
    const lab = this.lab;
    const alloc = lab.labs.alloc;
    alloc.setPageOwner(pfn, 0);
    alloc.__free_pages(pfn, h.order, cpu);
    this.held.delete(pfn);
    const nr = 1 << h.order;
    if (h.charged) lab.uncharge(nr);
    if (h.kind === Kind.Cache) {
      lab.cachePages -= nr;
      lab.lruDel(pfn);
    } else if (h.charged) {
      lab.kernelPages -= nr;
    }
  }

  /**
   * A page-cache page (order 0): always charged, on the labyrinth's LRU, reclaimable by its limit reclaim
   * and (above its protection) by global reclaim. `onReclaim` is told when it is taken.
   */
  allocCache(gfp: number, onReclaim?: ReclaimCallback, opts: TaskAllocOptions = NO_OPTS): number {
    this.ensureAlive('allocate page cache');
    if ((gfp & __GFP_EXCL) !== 0) throw new ExclusivePageError('EXCL_BAD_GFP', 'Cannot put an exclusive page in the page cache: because exclusive pages are never on an LRU');
    const alloc = this.lab.labs.alloc;
    const pfn = alloc.alloc_pages(gfp, 0, opts.cpu ?? 0);
    if (pfn < 0) return -1;
    if (!this.chargeFor(1, gfp, opts)) {
      alloc.__free_pages(pfn, 0, opts.cpu ?? 0);
      return -1;
    }
    alloc.setPageOwner(pfn, this.lab.id);
    this.held.set(pfn, { order: 0, kind: Kind.Cache, charged: true });
    this.lab.cachePages += 1;
    this.lab.lruAdd(pfn, this, onReclaim);
    this.maybeReturnToUser(gfp, opts);
    return pfn;
  }

  /** @internal reclaim took a page-cache page */
  dropCache(pfn: number): void {
    const h = this.held.get(pfn);
    if (h !== undefined) this.release(pfn, h, 0);
  }

  /**
   * An exclusive block (zeroed, keyed, charged to the labyrinth as memfd_secret pages are to their memcg).
   * Returns the key, or a failure value saying plainly why (an atomic request never sleeps: it takes the
   * reserves its flags allow and fails fast). gfp may carry __GFP_EXCL or not; MOVABLE/RECLAIMABLE are refused.
   */
  allocExclusive(gfp: number, order = 0, opts: TaskAllocOptions = NO_OPTS): ExclusiveKey | ExclusiveAllocFailure {
    this.ensureAlive('allocate an exclusive page');
    const lab = this.lab;
    const excl = lab.labs.exclusive;
    // Held by the labyrinth (holder 0) until charged, so an OOM kill during the charge cannot release it twice.
    const r = excl.allocate(lab.id, 0, gfp | __GFP_EXCL, order, opts.cpu ?? 0);
    if (!(r instanceof ExclusiveKey)) return r;
    const nr = 1 << order;
    if (!this.chargeFor(nr, gfp, opts)) {
      excl.free(lab.id, r, opts.cpu ?? 0);
      return Object.freeze({
        ok: false as const, code: 'EXCL_CHARGE' as const, order, gfp,
        message: this.dead
          ? `Cannot allocate an exclusive order-${order} block: because task ${this.pid} was OOM-killed inside labyrinth "${lab.name}" while charging it`
          : `Cannot allocate an exclusive order-${order} block: because labyrinth "${lab.name}" is at memory.max (${lab.max} pages) and its own reclaim and OOM killer could not make room`,
      });
    }
    excl.setHolder(lab.id, r, this.pid);
    lab.exclusivePages += nr;
    this.maybeReturnToUser(gfp, opts);
    return r;
  }

  /** Copy bytes out of an exclusive block this labyrinth holds. */
  read(key: ExclusiveKey, offset: number, len: number): Uint8Array {
    this.ensureAlive('read an exclusive page');
    return this.lab.labs.exclusive.read(this.lab.id, key, offset, len);
  }

  /** Copy bytes into an exclusive block this labyrinth holds. */
  write(key: ExclusiveKey, offset: number, data: Uint8Array): void {
    this.ensureAlive('write an exclusive page');
    this.lab.labs.exclusive.write(this.lab.id, key, offset, data);
  }

  /** Facts about a key's block (pfn, order, generation). */
  info(key: ExclusiveKey): ExclusiveInfo {
    this.ensureAlive('inspect an exclusive page');
    return this.lab.labs.exclusive.info(this.lab.id, key);
  }

  /** The head pfn of a key's block (`info(key).pfn` without building the info object). */
  pfnOf(key: ExclusiveKey): number {
    this.ensureAlive('inspect an exclusive page');
    return this.lab.labs.exclusive.pfnOf(this.lab.id, key);
  }

  /** Zero a whole exclusive block this labyrinth holds (a mempool's wipe of a block it keeps). */
  wipe(key: ExclusiveKey): void {
    this.ensureAlive('write an exclusive page');
    this.lab.labs.exclusive.wipe(this.lab.id, key);
  }

  /** Wipe and free an exclusive block; the key is revoked. */
  freeExclusive(key: ExclusiveKey, cpu = 0): void {
    this.ensureAlive('free an exclusive page');
    const lab = this.lab;
    const nr = lab.labs.exclusive.free(lab.id, key, cpu);
    lab.exclusivePages -= nr;
    lab.uncharge(nr);
  }

  /**
   * Hand an exclusive block to another task (of this or another labyrinth). The old key is revoked at once;
   * the new key is returned for the receiver. Across labyrinths the charge moves with GFP_NOWAIT semantics:
   * a receiver at its max refuses the block (and nothing changes).
   */
  transfer(key: ExclusiveKey, to: LabyrinthTask): ExclusiveKey {
    this.ensureAlive('transfer an exclusive page');
    to.ensureAlive('receive an exclusive page');
    const from = this.lab;
    const excl = from.labs.exclusive;
    if (to.lab.labs !== from.labs) throw new ExclusivePageError('EXCL_FOREIGN_KEY', 'Cannot transfer an exclusive page: because the receiver lives on another allocator');
    const { nrPages } = excl.peek(from.id, key, 'transfer an exclusive page');
    if (to.lab !== from) {
      if (to.lab.current + nrPages > to.lab.max) {
        throw new ExclusivePageError('LABYRINTH_BUSY', `Cannot transfer an exclusive page: because labyrinth "${to.lab.name}" is at memory.max`);
      }
      to.lab.tryCharge(nrPages, 0, to);
      from.uncharge(nrPages);
      from.exclusivePages -= nrPages;
      to.lab.exclusivePages += nrPages;
    }
    return excl.transfer(from.id, key, to.lab.id, to.pid);
  }

  /**
   * Map a page another holder allocated into this task (take a reference). Exclusive pages refuse
   * (EXCL_NOT_SHAREABLE / EXCL_NO_KEY from the core's get_page hook).
   */
  mapPage(pfn: number): void {
    this.ensureAlive('map a page');
    this.lab.labs.alloc.get_page(pfn);
    this.mapped.set(pfn, (this.mapped.get(pfn) ?? 0) + 1);
  }

  unmapPage(pfn: number): void {
    this.ensureAlive('unmap a page');
    const n = this.mapped.get(pfn);
    if (n === undefined) throw new ExclusivePageError('LABYRINTH_BAD_WRITE', `Cannot unmap pfn ${pfn}: because task ${this.pid} has not mapped it`, pfn);
    this.lab.labs.alloc.put_page(pfn);
    if (n === 1) this.mapped.delete(pfn);
    else this.mapped.set(pfn, n - 1);
  }

  /** The task exits: every page it holds is freed (exclusive ones wiped first), every mapping dropped. */
  exit(reason = 'exited'): void {
    if (this.dead) return;
    const lab = this.lab;
    for (const [pfn, h] of Array.from(this.held)) this.release(pfn, h, 0);
    for (const [pfn, n] of this.mapped) for (let i = 0; i < n; i++) lab.labs.alloc.put_page(pfn);
    this.mapped.clear();
    const nr = lab.labs.exclusive.releaseAll(lab.id, this.pid, `its holder ${this.pid} exited (${reason})`);
    lab.exclusivePages -= nr;
    lab.uncharge(nr);
    this.dead = true;
    this.exitReason = reason;
    lab.tasks.delete(this);
    if (this.unregister !== null) {
      this.unregister();
      this.unregister = null;
    }
  }
}
