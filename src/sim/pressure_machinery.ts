/**
 * The pressure machinery of issue 4 (src/alloc/slowpath.ts `Pressure`: kswapd, reclaim, compaction, OOM, the
 * sleeping slow path) behind the simulator's PressureMachinery seam.
 *
 * It needs the core allocator under the SimAllocator (CoreSimAllocator exposes it as `pa`): it installs the core's
 * slow-path hooks so that kswapd is woken exactly where 6.1 wakes it (wake_all_kswapds from the slow path, and
 * wakeup_kswapd after a fallback steal boosted a zone's watermark).
 */
import { Pressure, type PressureOptions } from '../alloc/slowpath.ts';
import { CorePort, type CoreAllocatorLike } from '../alloc/core_port.ts';
import { processContext, type ExecContext } from '../alloc/context.ts';
import type { PageAllocatorPort } from '../reclaim/port.ts';
import type { LruPageOwner } from '../reclaim/vmscan.ts';
import { LabyrinthError } from '../errors.ts';
import type { PageOwner, PressureContext, PressureMachinery, SimTask } from './machinery.ts';

/** Options beyond the scenario's speed block. */
export interface PressureMachineryOptions extends PressureOptions {
  /** Build the port from the simulator's allocator (default: the core behind CoreSimAllocator). */
  port?: (ctx: PressureContext) => PageAllocatorPort;
}

export class LabyrinthPressure implements PressureMachinery {
  readonly name = 'labyrinth 6.1 (kswapd, direct reclaim, compaction, OOM)';
  p: Pressure | null = null;
  private readonly opts: PressureMachineryOptions;
  private readonly userOf = new Map<PageOwner, number>();
  private readonly movableUserOf = new Map<PageOwner, number>();
  private readonly kills: Array<{ tNs: number; text: string }> = [];
  private readonly ctxOf = new Map<SimTask, ExecContext>();
  private lastTask: SimTask | null = null;
  private lastCtx: ExecContext | null = null;
  /** The owner lruAdd saw last and its user id (most adds come in runs from one owner). */
  private lastOwner: PageOwner | null = null;
  private lastUser = 0;

  constructor(opts: PressureMachineryOptions = {}) {
    this.opts = opts;
  }

  attach(ctx: PressureContext): void {
    let port: PageAllocatorPort;
    let core: CoreAllocatorLike | null = null;
    if (this.opts.port) port = this.opts.port(ctx);
    else {
      core = ctx.alloc.pa ?? null;
      if (!core) throw new LabyrinthError('no-core-allocator', 'Cannot attach the pressure machinery: because the simulator\'s allocator does not expose the core (pa)');
      port = new CorePort(core);
    }
    const reclaim = { ...this.opts.reclaim };
    const extfrag = ctx.tunables?.['vm.extfrag_threshold'];
    const compaction = { ...this.opts.compaction };
    if (extfrag !== undefined) compaction.extfragThreshold = extfrag;
    if (ctx.speed.migrateUsPerPage) compaction.migrateNsPerPage = ctx.speed.migrateUsPerPage * 1000;
    if (ctx.speed.reclaimPagesPerSec) reclaim.scanNsPerPage = 1e9 / ctx.speed.reclaimPagesPerSec;
    if (ctx.speed.ioLatencyUs) reclaim.ioLatencyNs = ctx.speed.ioLatencyUs * 1000;
    const p = new Pressure(port, ctx.clock, { ...this.opts, reclaim, compaction });
    this.p = p;
    if (core) {
      const zones = port.zones;
      core.hooks = {
        ...core.hooks,
        wakeAllKswapds: (order, gfp, hz) => p.wakeAllKswapds(order, gfp, hz),
        // after a fallback steal boosted the zone: wakeup_kswapd(zone, 0, 0, zone_idx(zone))
        wakeupKswapd: (slot, order, hz) => {
          const z = (zones as ReadonlyArray<{ slot?: number; node: number }>).find((x) => x.slot === slot);
          p.kswapd[z?.node ?? 0]!.wakeup(0, order, hz);
        },
      };
    }
  }

  private pressure(): Pressure {
    if (!this.p) throw new LabyrinthError('not-attached', 'Cannot use the pressure machinery: because attach() was not called');
    return this.p;
  }

  lruAdd(pfn: number, order: number, lru: 'file' | 'anon', dirty: boolean, owner: PageOwner, slot = -1): void {
    const p = this.pressure();
    if (owner === this.lastOwner) { p.reclaim.addPage(pfn, order, lru, dirty, this.lastUser, slot); return; }
    let user = this.userOf.get(owner);
    if (user === undefined) {
      const o = owner;
      // the simulator's owners never look at a handle: reclaim releases it (releasesHandleOnReclaim); the slot is
      // the LRU record's cookie
      const adapter: LruPageOwner = {
        releasesHandleOnReclaim: true,
        reclaimed: (pf, ord, _handle, cookie) => { owner.reclaimed(pf, ord, cookie); },
      };
      if (typeof o.moved === 'function') adapter.moved = (from, to, ord, _handle, cookie) => o.moved!(from, to, ord, cookie);
      user = p.reclaim.addOwner(adapter);
      this.userOf.set(owner, user);
    }
    this.lastOwner = owner;
    this.lastUser = user;
    p.reclaim.addPage(pfn, order, lru, dirty, user, slot);
  }

  lruSetSlot(pfn: number, slot: number): void {
    this.pressure().reclaim.lru.setCookie(pfn, slot);
  }

  lruRemove(pfn: number, _order: number): void {
    const p = this.pressure();
    if (p.reclaim.lru.isOnLru(pfn) || p.reclaim.lru.handleAt(pfn) >= 0) p.reclaim.removePage(pfn);
  }

  movableAdd(pfn: number, order: number, owner: PageOwner): void {
    const mov = this.pressure().compaction.movable;
    let user = this.movableUserOf.get(owner);
    if (user === undefined) {
      if (typeof owner.moved !== 'function') throw new LabyrinthError('not-movable', 'Cannot register movable pages: because their owner cannot follow a move (no moved())');
      user = mov.addOwner({ moved: (from, to, ord) => owner.moved!(from, to, ord, -1) });
      this.movableUserOf.set(owner, user);
    }
    mov.add(pfn, order, user);
  }

  movableRemove(pfn: number, _order: number): void {
    this.pressure().compaction.movable.remove(pfn);
  }

  registerTask(task: SimTask): void {
    const p = this.pressure();
    p.registerUser({
      pid: task.pid, comm: task.comm, oomScoreAdj: task.oomScoreAdj, rssPages: () => task.rssPages(),
      kill: () => { this.kills.push({ tNs: p.clock.now, text: `Killed process ${task.pid} (${task.comm})` }); task.kill(); },
    });
  }

  /** kswapd is woken by the core's own slow-path hooks; nothing more to do here. */
  afterAtomicAlloc(_gfp: number, _order: number, _pfn: number): void {}

  allocSleeping(gfp: number, order: number, _cpu: number, task: SimTask, done: (pfn: number, now: number) => void): void {
    const p = this.pressure();
    p.allocSleeping(gfp, order, this.contextOf(task), (pfn) => done(pfn, p.clock.now));
  }

  tryAllocSleeping(gfp: number, order: number, _cpu: number, task: SimTask): number {
    return this.pressure().allocSleepingFast(gfp, order, this.contextOf(task));
  }

  continueAllocSleeping(gfp: number, order: number, _cpu: number, task: SimTask, done: (pfn: number, now: number) => void): void {
    const p = this.pressure();
    p.allocSleepingSlow(gfp, order, this.contextOf(task), (pfn) => done(pfn, p.clock.now));
  }

  /** The process context a task allocates from (immutable, so one per task serves every request). */
  private contextOf(task: SimTask): ExecContext {
    if (task === this.lastTask) return this.lastCtx!;
    let ctx = this.ctxOf.get(task);
    if (ctx === undefined) {
      ctx = processContext(task.pid, task.comm);
      this.ctxOf.set(task, ctx);
    }
    this.lastTask = task;
    this.lastCtx = ctx;
    return ctx;
  }

  kswapdRunningSinceNs(): number {
    return this.p?.kswapd[0]?.runningSinceNs ?? -1;
  }

  counters(): Record<string, number> {
    return this.p ? this.p.counters() : {};
  }

  events(): Array<{ tNs: number; kind: string; text: string }> {
    const p = this.p;
    if (!p) return [];
    const out: Array<{ tNs: number; kind: string; text: string }> = [];
    for (const k of p.kswapd) {
      for (const e of k.log) {
        if (e.kind === 'wake') out.push({ tNs: e.tNs, kind: 'kswapd_wake', text: `kswapd${k.node} wakes (order ${e.order})` });
        else if (e.kind === 'sleep') out.push({ tNs: e.tNs, kind: 'kswapd_sleep', text: `kswapd${k.node} sleeps` });
      }
    }
    for (const kill of this.kills) out.push({ tNs: kill.tNs, kind: 'oom_kill', text: kill.text });
    out.sort((a, b) => a.tNs - b.tNs);
    return out;
  }
}

/** The machinery for `labyrinth simulate`. */
export function createPressureMachinery(opts: PressureMachineryOptions = {}): PressureMachinery {
  return new LabyrinthPressure(opts);
}
