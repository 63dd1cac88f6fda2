/**
 * The allocation slow path of Linux 6.1 over the pressure machinery: kswapd wakes, reserves, direct reclaim,
 * direct compaction, the retry policy, the OOM killer and the failure report — in virtual time.
 * @kernel mm/page_alloc.c __alloc_pages, __alloc_pages_slowpath, gfp_to_alloc_flags, __gfp_pfmemalloc_flags,
 *         wake_all_kswapds, __alloc_pages_direct_reclaim, __alloc_pages_direct_compact, should_reclaim_retry,
 *         should_compact_retry, __alloc_pages_may_oom, __alloc_pages_cpuset_fallback, warn_alloc (6.1)
 *
 * A request that may not sleep (no __GFP_DIRECT_RECLAIM) runs to its end synchronously and never advances the
 * clock. A request that may sleep is a small state machine: each step that takes time (direct reclaim, direct
 * compaction, a NOFAIL back-off) schedules the next step on the clock after its cost, and the returned Promise
 * resolves when the request ends. A sleeping request from an atomic context is refused before anything changes.
 */
import {
  ALLOC_CMA, ALLOC_CPUSET, ALLOC_HARDER, ALLOC_HIGH, ALLOC_KSWAPD, ALLOC_NO_WATERMARKS, ALLOC_OOM, ALLOC_WMARK_HIGH,
  ALLOC_WMARK_LOW, ALLOC_WMARK_MIN, ALLOC_NOFRAGMENT,
} from '../gfp/alloc_flags.ts';
import {
  __GFP_ATOMIC, __GFP_DIRECT_RECLAIM, __GFP_EXCL, __GFP_HARDWALL, __GFP_HIGH, __GFP_KSWAPD_RECLAIM, __GFP_MEMALLOC,
  __GFP_NOFAIL, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_RETRY_MAYFAIL, __GFP_THISNODE,
} from '../gfp/bits.ts';
import {
  MAX_NR_ZONES, MAX_ORDER, MIGRATE_MOVABLE, PAGE_ALLOC_COSTLY_ORDER, ZONE_DMA32, ZONE_NORMAL,
} from '../mm/constants.ts';
import type { Clock } from '../sim/clock.ts';
import { zoneWatermarkOk } from '../zone/watermark.ts';
import {
  COMPACT_COMPLETE, COMPACT_CONTINUE, COMPACT_DEFERRED, COMPACT_PARTIAL_SKIPPED, COMPACT_SKIPPED, COMPACT_SUCCESS,
  COMPACT_CONTENDED, Compactor, DEF_COMPACT_PRIORITY, INIT_COMPACT_PRIORITY, MAX_COMPACT_RETRIES,
  MIN_COMPACT_COSTLY_PRIORITY, MIN_COMPACT_PRIORITY, COMPACT_NOT_SUITABLE_ZONE, compactGap,
  type CompactOptions,
} from '../reclaim/compaction.ts';
import { Kswapd, MAX_RECLAIM_RETRIES } from '../reclaim/kswapd.ts';
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE } from '../reclaim/lru.ts';
import { OomKiller, type MemoryUser } from '../reclaim/oom_kill.ts';
import type { PageAllocatorPort } from '../reclaim/port.ts';
import { Reclaimer, type ReclaimOptions } from '../reclaim/vmscan.ts';
import { PressureEvents } from '../reclaim/vm_events.ts';
import {
  NSEC_PER_JIFFY, renderShowMem, renderWarnAlloc, warnAllocRateLimit, type RateLimit, type ShowMemInput, type MemInfoZone,
} from '../report/warn_alloc.ts';
import { mightAlloc, processContext, type ExecContext } from './context.ts';
import { formatGfp61 } from './gfp_names.ts';

/** 6.1's PF_MEMALLOC-free, non-rt gfp_to_alloc_flags. @kernel mm/page_alloc.c gfp_to_alloc_flags (6.1) */
export function gfpToAllocFlagsSlow(gfp: number, migratetype: number, ctx: ExecContext): number {
  let flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
  flags |= gfp & (__GFP_HIGH | __GFP_KSWAPD_RECLAIM); // ALLOC_HIGH == __GFP_HIGH, ALLOC_KSWAPD == __GFP_KSWAPD_RECLAIM
  if (gfp & __GFP_ATOMIC) {
    if (!(gfp & __GFP_NOMEMALLOC)) flags |= ALLOC_HARDER;
    flags &= ~ALLOC_CPUSET;
  }
  void ctx;
  if (migratetype === MIGRATE_MOVABLE) flags |= ALLOC_CMA;
  return flags;
}

/** @kernel mm/page_alloc.c __gfp_pfmemalloc_flags */
export function gfpPfmemallocFlags(gfp: number, ctx: ExecContext, oomVictim: boolean): number {
  if (gfp & __GFP_NOMEMALLOC) return 0;
  if (gfp & __GFP_MEMALLOC) return ALLOC_NO_WATERMARKS;
  if (!ctx.inTask && ctx.inInterrupt && (ctx.preemptCount & 0x100) && ctx.memalloc) return ALLOC_NO_WATERMARKS;
  if (!ctx.inInterrupt) {
    if (ctx.memalloc) return ALLOC_NO_WATERMARKS;
    if (oomVictim) return ALLOC_OOM;
  }
  return 0;
}

export interface PressureOptions {
  reclaim?: Partial<ReclaimOptions>;
  compaction?: Partial<CompactOptions>;
  /** %pGg text of a mask (src/gfp formatGfp for 6.1); src/gfp formatGfp(mask, '6.1') by default */
  formatGfp?: (mask: number) => string;
  /** where reports go (dmesg): each line without a timestamp */
  printk?: (line: string) => void;
  /** virtual ns a NOFAIL request waits between rounds (cond_resched + the kernel's retry); one jiffy by default */
  nofailBackoffNs?: number;
}

/** One failed request, as warn_alloc reported it (or would have, when rate-limited / NOWARN). */
export interface AllocFailure {
  tNs: number;
  comm: string;
  gfp: number;
  order: number;
  /** report lines when printed; empty when suppressed */
  report: string[];
  suppressed: 'nowarn' | 'ratelimit' | null;
}

interface SlowReq {
  gfp: number;
  order: number;
  ctx: ExecContext;
  hz: number;
  migratetype: number;
  allocFlags: number;
  costly: boolean;
  noProgressLoops: number;
  compactPriority: number;
  compactRetries: number;
  compactResult: number;
  didProgress: boolean;
  oomVictim: boolean;
  done: (pfn: number) => void;
  startNs: number;
}

/**
 * The pressure machinery of one machine: LRUs and reclaim, kswapd and kcompactd per node, compaction, the OOM
 * killer, and the allocation entry points that use them.
 */
export class Pressure {
  readonly port: PageAllocatorPort;
  readonly clock: Clock;
  readonly ev = new PressureEvents();
  readonly reclaim: Reclaimer;
  readonly compaction: Compactor;
  readonly kswapd: Kswapd[];
  readonly oom: OomKiller;
  readonly nopageRs: RateLimit = warnAllocRateLimit();
  readonly failures: AllocFailure[] = [];
  /** dmesg lines in order */
  readonly dmesg: string[] = [];
  failureLogLimit = 1000;
  private readonly formatGfp: (mask: number) => string;
  private readonly printk: (line: string) => void;
  private readonly nofailBackoffNs: number;
  /** a populated Normal zone with a populated DMA32 below it (alloc_flags_nofragment) */
  private readonly nofragmentPossible: boolean;
  /** tasks marked as OOM victims (tsk_is_oom_victim), by pid */
  private readonly oomVictims = new Set<number>();

  constructor(port: PageAllocatorPort, clock: Clock, opts: PressureOptions = {}) {
    this.port = port;
    this.clock = clock;
    this.reclaim = new Reclaimer(port, clock, this.ev, opts.reclaim);
    this.compaction = new Compactor(this.reclaim, clock, opts.compaction);
    this.kswapd = [];
    for (let n = 0; n < port.nrNodes; n++) {
      this.kswapd.push(new Kswapd(n, this.reclaim, clock, (node, order, hz) => this.compaction.wakeupKcompactd(node, order, hz)));
    }
    this.oom = new OomKiller(this.ev, () => {
      let t = 0;
      for (const z of port.zones) t += z.managed;
      return t + this.reclaim.opts.swapPages;
    });
    this.formatGfp = opts.formatGfp ?? formatGfp61;
    this.printk = opts.printk ?? ((l) => { this.dmesg.push(l); });
    this.nofailBackoffNs = opts.nofailBackoffNs ?? 4_000_000;
    this.nofragmentPossible = port.zones.some((z) => z.zoneIdx === ZONE_DMA32 && z.managed > 0)
      && port.zones.some((z) => z.zoneIdx === ZONE_NORMAL && z.managed > 0);
  }

  /** Register a memory user (OOM candidate). */
  registerUser(u: MemoryUser): () => void { return this.oom.register(u); }

  // ----- entry points -----

  /**
   * alloc_pages(gfp, order) from `ctx`. A request without __GFP_DIRECT_RECLAIM returns a pfn (or −1) at once and
   * never advances the clock; one with it returns a Promise resolved at the virtual time it completes.
   * A sleeping request in atomic context throws SleepInAtomicError and changes nothing.
   */
  allocPages(gfp: number, order: number, ctx: ExecContext): number | Promise<number> {
    mightAlloc(gfp, ctx);
    if (gfp & __GFP_DIRECT_RECLAIM) return new Promise<number>((resolve) => this.allocSleeping(gfp, order, ctx, resolve));
    return this.allocAtomic(gfp, order, ctx);
  }

  /** The non-sleeping request: fast path, then the slow path's one pass at the min watermark. */
  allocAtomic(gfp: number, order: number, ctx: ExecContext = processContext(0, 'swapper/0')): number {
    mightAlloc(gfp, ctx);
    // Labyrinth extension: exclusive pages come only with a key (src/labyrinth); a keyless request fails at once.
    if ((gfp & __GFP_EXCL) !== 0) return -1;
    let pfn = this.fastPath(gfp, order);
    if (pfn < 0) pfn = this.slowAtomic(this.newReq(gfp, order, ctx, () => {}));
    this.port.tracePageAlloc?.(pfn, order, gfp);
    return pfn;
  }

  /** The sleeping request, callback style (the simulator's seam): `done(pfn)` fires in virtual time. */
  allocSleeping(gfp: number, order: number, ctx: ExecContext, done: (pfn: number) => void): void {
    const pfn = this.allocSleepingFast(gfp, order, ctx);
    if (pfn >= 0) { done(pfn); return; }
    this.allocSleepingSlow(gfp, order, ctx, done);
  }

  /**
   * allocSleeping's first half, with no callback: the pfn when the fast path gave a page (the request is done,
   * now), or −1 when the request goes on in allocSleepingSlow (which must then be called, once).
   */
  allocSleepingFast(gfp: number, order: number, ctx: ExecContext): number {
    mightAlloc(gfp, ctx);
    // a keyless exclusive request fails at once (allocSleepingSlow says so): no reclaim, compaction or OOM can give it a key
    if ((gfp & __GFP_EXCL) !== 0) return -1;
    const pfn = this.fastPath(gfp, order);
    if (pfn >= 0) this.port.tracePageAlloc?.(pfn, order, gfp);
    return pfn;
  }

  /** allocSleeping's second half, after allocSleepingFast returned −1: the slow path; `done(pfn)` fires in virtual time. */
  allocSleepingSlow(gfp: number, order: number, ctx: ExecContext, done: (pfn: number) => void): void {
    if ((gfp & __GFP_EXCL) !== 0) { done(-1); return; }
    const port = this.port;
    const r = this.newReq(gfp, order, ctx, port.tracePageAlloc === undefined ? done : (pfn) => {
      port.tracePageAlloc!(pfn, order, gfp);
      done(pfn);
    });
    this.slowRestart(r);
  }

  /** get_page_from_freelist with the fast path's flags: low watermark, kswapd bit, nofragment. */
  private fastPath(gfp: number, order: number): number {
    let flags = ALLOC_WMARK_LOW | (gfp & __GFP_KSWAPD_RECLAIM);
    if (this.port.gfpMigratetype(gfp) === MIGRATE_MOVABLE) flags |= ALLOC_CMA;
    // alloc_flags_nofragment: preferred zone Normal with a populated DMA32 below
    if (this.nofragmentPossible && this.port.gfpZone(gfp) >= ZONE_NORMAL) flags |= ALLOC_NOFRAGMENT;
    return this.port.getPageFromFreelist(gfp, order, flags);
  }

  private newReq(gfp: number, order: number, ctx: ExecContext, done: (pfn: number) => void): SlowReq {
    // 6.1: a caller that may sleep has no business with atomic reserves
    if ((gfp & (__GFP_ATOMIC | __GFP_DIRECT_RECLAIM)) === (__GFP_ATOMIC | __GFP_DIRECT_RECLAIM)) gfp &= ~__GFP_ATOMIC;
    const migratetype = this.port.gfpMigratetype(gfp);
    return {
      gfp, order, ctx, hz: this.port.gfpZone(gfp), migratetype, allocFlags: gfpToAllocFlagsSlow(gfp, migratetype, ctx),
      costly: order > PAGE_ALLOC_COSTLY_ORDER, noProgressLoops: 0, compactPriority: DEF_COMPACT_PRIORITY, compactRetries: 0,
      compactResult: COMPACT_SKIPPED, didProgress: false, oomVictim: this.oomVictims.has(ctx.pid), done, startNs: this.clock.now,
    };
  }

  /** @kernel mm/page_alloc.c wake_all_kswapds */
  wakeAllKswapds(order: number, gfp: number, hz: number): void {
    let lastNode = -1;
    const zones = this.port.zones;
    for (let i = zones.length - 1; i >= 0; i--) {
      const z = zones[i]!;
      if (z.zoneIdx > hz || z.managed === 0 || z.node === lastNode) continue;
      lastNode = z.node;
      this.kswapd[z.node]!.wakeup(gfp, order, hz);
    }
  }

  /** The slow path of a request that cannot sleep: wake kswapd, one pass at min (twice, as 6.1 does), fail. */
  private slowAtomic(r: SlowReq): number {
    if (r.allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(r.order, r.gfp, r.hz);
    let pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
    if (pfn >= 0) return pfn;
    // retry:
    if (r.allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(r.order, r.gfp, r.hz);
    const reserve = gfpPfmemallocFlags(r.gfp, r.ctx, r.oomVictim);
    if (reserve) {
      r.allocFlags = reserve | (r.migratetype === MIGRATE_MOVABLE ? ALLOC_CMA : 0) | (r.allocFlags & ALLOC_KSWAPD);
      pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
      if (pfn >= 0) return pfn;
    }
    // nopage: __GFP_NOFAIL without direct reclaim fails anyway (the kernel WARNs)
    this.warnAlloc(r);
    return -1;
  }

  // ----- the sleeping slow path, as steps on the clock -----

  /** restart: alloc flags, kswapd, the min-watermark attempt, early compaction. */
  private slowRestart(r: SlowReq): void {
    r.compactRetries = 0;
    r.noProgressLoops = 0;
    r.compactPriority = DEF_COMPACT_PRIORITY;
    r.allocFlags = gfpToAllocFlagsSlow(r.gfp, r.migratetype, r.ctx);
    if (r.allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(r.order, r.gfp, r.hz);
    const pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
    if (pfn >= 0) return r.done(pfn);
    const pfmemalloc = gfpPfmemallocFlags(r.gfp, r.ctx, r.oomVictim) !== 0;
    if ((r.costly || (r.order > 0 && r.migratetype !== MIGRATE_MOVABLE)) && !pfmemalloc) {
      const got = this.directCompact(r, INIT_COMPACT_PRIORITY);
      const cost = this.compaction.lastCostNs;
      if (got >= 0) { this.clock.after(cost, () => r.done(got)); return; }
      if (r.costly && (r.gfp & __GFP_NORETRY)) {
        if (r.compactResult === COMPACT_SKIPPED || r.compactResult === COMPACT_DEFERRED) {
          this.clock.after(cost, () => this.nopage(r));
          return;
        }
        r.compactPriority = INIT_COMPACT_PRIORITY;
      }
      this.clock.after(cost, () => this.slowRetry(r));
      return;
    }
    this.slowRetry(r);
  }

  /** retry: kswapd, reserves, freelist, direct reclaim (then continue after its cost). */
  private slowRetry(r: SlowReq): void {
    if (r.allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(r.order, r.gfp, r.hz);
    const reserve = gfpPfmemallocFlags(r.gfp, r.ctx, r.oomVictim);
    if (reserve) r.allocFlags = reserve | (r.migratetype === MIGRATE_MOVABLE ? ALLOC_CMA : 0) | (r.allocFlags & ALLOC_KSWAPD);
    let pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
    if (pfn >= 0) return r.done(pfn);
    if (r.ctx.memalloc) return this.nopage(r);
    // __alloc_pages_direct_reclaim
    const sc = this.reclaim.tryToFreePages(r.gfp, r.order, Math.min(r.hz, MAX_NR_ZONES - 1), () => this.compactionReady(r));
    r.didProgress = sc.nrReclaimed > 0;
    // reclaim_throttle(VMSCAN_THROTTLE_NOPROGRESS): a round that freed nothing sleeps one jiffy
    const reclaimCost = Math.max(1000, sc.nrScanned * this.reclaim.opts.scanNsPerPage) + (r.didProgress ? 0 : NSEC_PER_JIFFY);
    if (r.didProgress) {
      pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
      if (pfn < 0) {
        this.port.unreserveHighatomic(false);
        this.port.drainAllPages();
        pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
      }
      if (pfn >= 0) { const got = pfn; this.clock.after(reclaimCost, () => r.done(got)); return; }
    }
    this.clock.after(reclaimCost, () => this.afterReclaim(r));
  }

  /** compaction_ready for costly orders in shrink_zones: enough free memory to compact instead of reclaiming. */
  private compactionReady(r: SlowReq): boolean {
    if (!r.costly) return false;
    for (let zi = 0; zi < this.port.zones.length; zi++) {
      const z = this.port.zones[zi]!;
      if (z.zoneIdx > r.hz) continue;
      const s = this.compaction.suitable(zi, r.order, 0, r.hz);
      if (s === COMPACT_SUCCESS) return true;
      if (s === COMPACT_CONTINUE) {
        const watermark = z.wmarkHigh + z.watermarkBoost + compactGap(r.order);
        if (zoneWatermarkOk(z, 0, watermark, r.hz, 0, z.freePages)) return true;
      }
    }
    return false;
  }

  /** After direct reclaim: direct compaction, then the retry policy. */
  private afterReclaim(r: SlowReq): void {
    const got = this.directCompact(r, r.compactPriority);
    const cost = this.compaction.lastCostNs;
    if (got >= 0) { this.clock.after(cost, () => r.done(got)); return; }
    const next = (): void => this.decide(r);
    if (cost > 0) this.clock.after(cost, next); else next();
  }

  /** @kernel mm/page_alloc.c __alloc_pages_direct_compact: returns a pfn or −1, sets r.compactResult */
  private directCompact(r: SlowReq, prio: number): number {
    this.compaction.lastCostNs = 0;
    if (!r.order) { r.compactResult = COMPACT_SKIPPED; return -1; }
    r.compactResult = this.compaction.tryToCompactPages(r.gfp, r.order, r.allocFlags, prio, r.hz, r.migratetype);
    if (r.compactResult === COMPACT_SKIPPED) return -1;
    const pfn = this.port.getPageFromFreelist(r.gfp, r.order, r.allocFlags);
    let zi = -1;
    if (pfn >= 0) zi = this.port.zones.findIndex((z) => pfn >= z.startPfn && pfn < z.endPfn);
    this.compaction.countDirect(r.compactResult, pfn >= 0, zi, r.order);
    return pfn;
  }

  /** The policy after reclaim and compaction failed to produce a page this round. */
  private decide(r: SlowReq): void {
    if (r.gfp & __GFP_NORETRY) return this.nopage(r);
    if (r.costly && !(r.gfp & __GFP_RETRY_MAYFAIL)) return this.nopage(r);
    if (this.shouldReclaimRetry(r)) return this.slowRetry(r);
    if (r.didProgress && this.shouldCompactRetry(r)) return this.slowRetry(r);
    // __alloc_pages_may_oom
    const pfn = this.mayOom(r);
    if (pfn >= 0) return r.done(pfn);
    if (r.oomVictim && ((r.allocFlags & ALLOC_OOM) || (r.gfp & __GFP_NOMEMALLOC))) return this.nopage(r);
    if (r.didProgress) {
      r.noProgressLoops = 0;
      return this.slowRetry(r);
    }
    this.nopage(r);
  }

  /** @kernel mm/page_alloc.c should_reclaim_retry (6.1) */
  shouldReclaimRetry(r: SlowReq): boolean {
    if (r.didProgress && r.order <= PAGE_ALLOC_COSTLY_ORDER) r.noProgressLoops = 0;
    else r.noProgressLoops++;
    if (r.noProgressLoops > MAX_RECLAIM_RETRIES) return this.port.unreserveHighatomic(true);
    for (let zi = this.port.zones.length - 1; zi >= 0; zi--) {
      const z = this.port.zones[zi]!;
      if (z.zoneIdx > r.hz) continue;
      const available = this.reclaim.zoneReclaimablePages(zi) + z.freePages;
      if (zoneWatermarkOk(z, r.order, z.wmarkMin + z.watermarkBoost, r.hz, r.allocFlags, available)) return true;
    }
    return false;
  }

  /** @kernel mm/page_alloc.c should_compact_retry (6.1, CONFIG_COMPACTION) */
  shouldCompactRetry(r: SlowReq): boolean {
    if (!r.order) return false;
    const res = r.compactResult;
    let maxRetries = MAX_COMPACT_RETRIES;
    const checkPriority = (): boolean => {
      const minPriority = r.costly ? MIN_COMPACT_COSTLY_PRIORITY : MIN_COMPACT_PRIORITY;
      if (r.compactPriority > minPriority) {
        r.compactPriority--;
        r.compactRetries = 0;
        return true;
      }
      return false;
    };
    if (res === COMPACT_SUCCESS) r.compactRetries++;
    if (res === COMPACT_COMPLETE) return checkPriority();
    if (res === COMPACT_SKIPPED) {
      // compaction_zonelist_suitable: would compaction have room if reclaim made some?
      for (let zi = 0; zi < this.port.zones.length; zi++) {
        const z = this.port.zones[zi]!;
        if (z.zoneIdx > r.hz) continue;
        const available = this.reclaim.zoneReclaimablePages(zi) + z.freePages;
        const watermark = (r.costly ? z.wmarkLow : z.wmarkMin) + z.watermarkBoost + compactGap(r.order);
        if (zoneWatermarkOk(z, 0, watermark, r.hz, ALLOC_CMA, available)) return true;
      }
      return false;
    }
    if (res === COMPACT_DEFERRED || res === COMPACT_CONTENDED || res === COMPACT_PARTIAL_SKIPPED) return checkPriority();
    if (r.costly) maxRetries = Math.floor(maxRetries / 4);
    if (r.compactRetries <= maxRetries) return true;
    return checkPriority();
  }

  /** @kernel mm/page_alloc.c __alloc_pages_may_oom: returns a pfn, or −1 with r.didProgress set */
  private mayOom(r: SlowReq): number {
    r.didProgress = false;
    // last chance at the high watermark, without reclaim
    const pfn = this.port.getPageFromFreelist((r.gfp | __GFP_HARDWALL) & ~__GFP_DIRECT_RECLAIM, r.order, ALLOC_WMARK_HIGH | ALLOC_CPUSET);
    if (pfn >= 0) return pfn;
    if (r.order > PAGE_ALLOC_COSTLY_ORDER) return -1;
    if (r.gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE)) return -1;
    if (r.hz < ZONE_NORMAL) return -1;
    const res = this.oom.outOfMemory({
      gfp: r.gfp, order: r.order, gfpNames: this.formatGfp(r.gfp), comm: r.ctx.comm, pid: r.ctx.pid, oomScoreAdj: 0,
    });
    if (res.header.length) {
      for (const l of res.header) this.printk(l);
      for (const l of renderShowMem(this.showMemInput())) this.printk(l);
      for (const l of res.tasks) this.printk(l);
      for (const l of res.kill) this.printk(l);
    }
    if (res.progress || (r.gfp & __GFP_NOFAIL)) {
      r.didProgress = true;
      if (r.gfp & __GFP_NOFAIL) return this.cpusetFallback(r, ALLOC_NO_WATERMARKS);
    }
    return -1;
  }

  /** @kernel mm/page_alloc.c __alloc_pages_cpuset_fallback */
  private cpusetFallback(r: SlowReq, flags: number): number {
    let pfn = this.port.getPageFromFreelist(r.gfp, r.order, flags | ALLOC_CPUSET);
    if (pfn < 0) pfn = this.port.getPageFromFreelist(r.gfp, r.order, flags);
    return pfn;
  }

  /** nopage: __GFP_NOFAIL loops (after the reserves fallback and a back-off); everything else fails and warns. */
  private nopage(r: SlowReq): void {
    if ((r.gfp & __GFP_NOFAIL) && (r.gfp & __GFP_DIRECT_RECLAIM)) {
      const pfn = this.cpusetFallback(r, ALLOC_HARDER);
      if (pfn >= 0) return r.done(pfn);
      this.clock.after(this.nofailBackoffNs, () => this.slowRetry(r));
      return;
    }
    this.warnAlloc(r);
    r.done(-1);
  }

  /** @kernel mm/page_alloc.c warn_alloc */
  private warnAlloc(r: SlowReq): void {
    const f: AllocFailure = { tNs: this.clock.now, comm: r.ctx.comm, gfp: r.gfp, order: r.order, report: [], suppressed: null };
    if (r.gfp & __GFP_NOWARN) f.suppressed = 'nowarn';
    else if (!this.nopageRs.allow(this.clock.now, (l) => this.printk(l))) f.suppressed = 'ratelimit';
    else {
      f.report = renderWarnAlloc({
        comm: r.ctx.comm, pid: r.ctx.pid, cpu: 0, order: r.order, gfp: r.gfp, gfpNames: this.formatGfp(r.gfp),
        nodemask: null, cpuset: '/', memsAllowed: '0', inInterrupt: r.ctx.inInterrupt,
      }, this.showMemInput());
      for (const l of f.report) this.printk(l);
    }
    if (this.failures.length < this.failureLogLimit) this.failures.push(f);
  }

  // ----- the Mem-Info numbers -----

  /** The numbers show_free_areas prints, from the live state. */
  showMemInput(): ShowMemInput {
    const lru = this.reclaim.lru;
    const zones: MemInfoZone[] = [];
    let free = 0, freePcp = 0, present = 0, managed = 0;
    this.port.zones.forEach((z, zi) => {
      const nrFree: number[] = [];
      const typesMask: number[] = [];
      for (let o = 0; o < MAX_ORDER; o++) {
        nrFree.push(z.nrFree(o));
        let m = 0;
        for (let mt = 0; mt < 5; mt++) if (z.freeListNonEmpty(o, mt)) m |= 1 << mt;
        typesMask.push(m);
      }
      const reserve: number[] = [];
      for (let i = 0; i < MAX_NR_ZONES; i++) reserve.push(z.lowmemReserve(i));
      free += z.freePages; freePcp += z.freePcp; present += z.present; managed += z.managed;
      zones.push({
        node: z.node, zoneIdx: z.zoneIdx, free: z.freePages, boost: z.watermarkBoost, wmarkMin: z.wmarkMin,
        wmarkLow: z.wmarkLow, wmarkHigh: z.wmarkHigh, reservedHighatomic: z.nrReservedHighatomic,
        activeAnon: lru.zoneLruSize(zi, LRU_ACTIVE_ANON), inactiveAnon: lru.zoneLruSize(zi, LRU_INACTIVE_ANON),
        activeFile: lru.zoneLruSize(zi, LRU_ACTIVE_FILE), inactiveFile: lru.zoneLruSize(zi, LRU_INACTIVE_FILE),
        unevictable: lru.zoneLruSize(zi, LRU_UNEVICTABLE), writePending: 0, present: z.present, managed: z.managed,
        mlocked: 0, bounce: 0, freePcp: z.freePcp, localPcp: z.freePcp, freeCma: 0, lowmemReserve: reserve, nrFree, typesMask,
      });
    });
    const node = (l: number): number => lru.lruSize(0, l);
    return {
      numa: true,
      global: {
        activeAnon: node(LRU_ACTIVE_ANON), inactiveAnon: node(LRU_INACTIVE_ANON), isolatedAnon: 0,
        activeFile: node(LRU_ACTIVE_FILE), inactiveFile: node(LRU_INACTIVE_FILE), isolatedFile: 0,
        unevictable: node(LRU_UNEVICTABLE), dirty: this.reclaim.nrDirty, writeback: this.reclaim.nrWriteback,
        slabReclaimable: 0, slabUnreclaimable: 0, mapped: 0, shmem: 0, pagetables: 0, secPagetables: 0, bounce: 0,
        kernelMiscReclaimable: 0, free, freePcp, freeCma: 0,
      },
      nodes: [{
        node: 0, activeAnon: node(LRU_ACTIVE_ANON), inactiveAnon: node(LRU_INACTIVE_ANON), activeFile: node(LRU_ACTIVE_FILE),
        inactiveFile: node(LRU_INACTIVE_FILE), unevictable: node(LRU_UNEVICTABLE), isolatedAnon: 0, isolatedFile: 0,
        mapped: 0, dirty: this.reclaim.nrDirty, writeback: this.reclaim.nrWriteback, shmem: 0, shmemThp: 0,
        shmemPmdmapped: 0, anonThp: 0, writebackTmp: 0, kernelStackKb: 0, pagetables: 0, secPagetables: 0,
        allUnreclaimable: this.reclaim.kswapdFailures[0]! >= MAX_RECLAIM_RETRIES,
      }],
      zones,
      totals: {
        hugepages: [{ node: 0, total: 0, free: 0, surp: 0, sizeKb: 2048 }],
        totalPagecache: node(LRU_ACTIVE_FILE) + node(LRU_INACTIVE_FILE),
        swapCache: 0, freeSwapKb: (this.reclaim.opts.swapPages - this.reclaim.swapUsed) * 4,
        totalSwapKb: this.reclaim.opts.swapPages * 4, pagesRam: present, pagesHighMemMovableOnly: 0,
        pagesReserved: present - managed, pagesHwpoisoned: 0,
      },
    };
  }

  /** Counters by /proc/vmstat name. */
  counters(): Record<string, number> { return this.ev.toRecord(); }
}

export { COMPACT_NOT_SUITABLE_ZONE, ALLOC_HIGH, ALLOC_WMARK_MIN };
