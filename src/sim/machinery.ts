/**
 * The seams between the simulator and the allocator below it: what the simulator needs from the core allocator
 * (SimAllocator) and what the pressure machinery — kswapd, direct reclaim, compaction, OOM — plugs in
 * (PressureMachinery). The simulator runs without pressure machinery; it then says so in its output and never
 * pretends that reclaim happened.
 */
import type { Labyrinths } from '../labyrinth/domain.ts';
import type { Clock } from './clock.ts';
import type { Rng } from './rng.ts';
import type { PageAllocator } from '../alloc/page_alloc.ts';

export interface SimZoneInfo {
  /** ZONE_DMA, ZONE_DMA32, ZONE_NORMAL … */
  zoneIdx: number;
  name: string;
  node: number;
  startPfn: number;
  spanned: number;
  managed: number;
}

/** Who failed: what warn_alloc prints in its first line and its stack stand-in. */
export interface FailedRequest {
  comm: string;
  pid: number;
  cpu: number;
  gfp: number;
  order: number;
  /** softirq/hardirq: the report's stack shows <IRQ>. */
  inInterrupt: boolean;
  /** The mask as the scenario wrote it (used for the names if no formatter is available). */
  written: string;
}

/** Zone gauges at one moment, written into caller-owned arrays (no allocation per sample). */
export interface SimAllocator {
  /** The core allocator underneath, when there is one (CoreSimAllocator): the pressure machinery runs on it. */
  readonly pa?: PageAllocator;
  readonly zones: readonly SimZoneInfo[];
  readonly nrCpus: number;
  /** Effective vm.min_free_kbytes after the machine was built. */
  readonly minFreeKbytes: number;
  /** alloc_pages(gfp, order) on allocation context `cpu`: a pfn ≥ 0, or -1 on failure. Never sleeps. */
  allocPages(gfp: number, order: number, cpu: number): number;
  /** __free_pages(pfn, order) on allocation context `cpu`. */
  freePages(pfn: number, order: number, cpu: number): void;
  /** NR_FREE_PAGES of zone i (index into `zones`). */
  zoneFreePages(i: number): number;
  /** [min, low, high, boost] of zone i, in pages, without the boost added. */
  zoneWatermarks(i: number, out: Float64Array): void;
  /** free_area[order].nr_free of zone i. */
  zoneFreeBlocks(i: number, order: number): number;
  /** Per pageblock of zone i: its migratetype and how many of its pages are free. */
  pageblockMap(i: number): { migratetype: Uint8Array; freePages: Uint16Array };
  /** /proc/buddyinfo text. */
  buddyinfo(): string;
  /** warn_alloc's full report for a failure just now, when the report renderer exists. */
  warnAllocReport?(req: FailedRequest): string;
  /** Allocator counters by their /proc/vmstat names (pgalloc_*, allocstall_*, …). */
  vmstat?(): Record<string, number>;
  /** Labyrinths over this allocator (src/labyrinth): the only way to exclusive (__GFP_EXCL) pages, by key. */
  createLabyrinths?(): Labyrinths;
  /** True when some page of the block at pfn is reachable without a key (page_address or virt_to_page would not refuse it). */
  keylessReachable?(pfn: number, order: number): boolean;
}

/**
 * The owner of workload pages placed on an LRU or registered as movable: told when reclaim takes one (the page is
 * already freed) and, when it has `moved`, when compaction migrated one from `from` to `to` (the old page is
 * already freed). Pages of an owner without `moved` are never migrated. `slot` is the number the owner gave
 * lruAdd (or lruSetSlot) for the page, so that it finds the page in its own arrays without a lookup; −1 when it
 * gave none (and always for movable pages).
 */
export interface PageOwner {
  reclaimed(pfn: number, order: number, slot: number): void;
  moved?(from: number, to: number, order: number, slot: number): void;
}

/** A memory user the OOM killer may choose. */
export interface SimTask {
  readonly pid: number;
  readonly comm: string;
  readonly oomScoreAdj: number;
  /** Pages it holds (its RSS for badness). */
  rssPages(): number;
  /** Kill it: it frees everything it holds, synchronously. */
  kill(): void;
}

export interface PressureContext {
  clock: Clock;
  alloc: SimAllocator;
  rng: Rng;
  /** Machine-speed parameters of the scenario (reclaim throughput, I/O latency). */
  speed: { reclaimPagesPerSec?: number; ioLatencyUs?: number; migrateUsPerPage?: number };
  /** The scenario's vm sysctls; the machinery reads those that are its own (vm.extfrag_threshold). */
  tunables?: Readonly<Record<string, number>>;
}

/**
 * kswapd, direct reclaim, compaction and OOM, as one pluggable unit (issue 4). The simulator calls:
 * - attach() once before the run;
 * - lruAdd()/lruRemove() as workloads gain and drop reclaimable pages;
 * - movableAdd()/movableRemove() for movable pages that are not reclaimable (compaction may migrate them);
 * - registerTask() for each process actor (OOM candidates);
 * - afterAtomicAlloc() after every non-sleeping request, so kswapd can be woken as the kernel's slow path does;
 * - allocSleeping() for requests with __GFP_DIRECT_RECLAIM in process context; `done(pfn, now)` fires at the
 *   virtual time the request completes (pfn -1: it failed after reclaim, compaction and retries); or, when the
 *   machinery has them, tryAllocSleeping() and then, only if that returned -1, continueAllocSleeping() — the same
 *   request in two halves, so that one completed at once (most are) needs no callback;
 * - counters() at every sample (cumulative, /proc/vmstat names: pgscan_kswapd, pgsteal_direct, compact_stall, oom_kill …).
 */
export interface PressureMachinery {
  readonly name: string;
  attach(ctx: PressureContext): void;
  /** `slot`: the owner's own number for the page, handed back to reclaimed()/moved() (default −1). */
  lruAdd(pfn: number, order: number, lru: 'file' | 'anon', dirty: boolean, owner: PageOwner, slot?: number): void;
  lruRemove(pfn: number, order: number): void;
  /** The owner moved an LRU page within its own arrays: its slot changes. Absent: slots are not kept (always −1). */
  lruSetSlot?(pfn: number, slot: number): void;
  /** A movable block that reclaim may not take (isolate_movable_page's kind); the owner must have `moved`. */
  movableAdd?(pfn: number, order: number, owner: PageOwner): void;
  /** The owner drops a block it registered with movableAdd, before freeing it. */
  movableRemove?(pfn: number, order: number): void;
  registerTask(task: SimTask): void;
  afterAtomicAlloc(gfp: number, order: number, pfn: number): void;
  allocSleeping(gfp: number, order: number, cpu: number, task: SimTask, done: (pfn: number, now: number) => void): void;
  /**
   * allocSleeping's first half: the pfn when the request completed at once (now; no callback will fire), or -1
   * when the caller must call continueAllocSleeping() with the same request (which never retries this half).
   */
  tryAllocSleeping?(gfp: number, order: number, cpu: number, task: SimTask): number;
  /** allocSleeping's second half, after tryAllocSleeping() returned -1. */
  continueAllocSleeping?(gfp: number, order: number, cpu: number, task: SimTask, done: (pfn: number, now: number) => void): void;
  counters(): Record<string, number>;
  /** Events worth listing (kswapd wake, OOM kill …) with their virtual time. */
  events?(): Array<{ tNs: number; kind: string; text: string }>;
  /** When node 0's kswapd started its current run (virtual ns), or -1 while it sleeps or naps. */
  kswapdRunningSinceNs?(): number;
}
