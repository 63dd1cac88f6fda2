/**
 * Test fixtures for the pressure layer: small machines on the naive buddy oracle, and workloads that own pages
 * (page cache, anonymous memory) through the LRU. Internal (tests only).
 */
import { ALLOC_NO_WATERMARKS } from '../src/gfp/alloc_flags.ts';
import { GFP_HIGHUSER_MOVABLE } from '../src/gfp/bits.ts';
import { ZONE_DMA32 } from '../src/mm/constants.ts';
import { Clock } from '../src/sim/clock.ts';
import { Pressure, type PressureOptions } from '../src/alloc/slowpath.ts';
import { NaiveBuddy } from './_naive_buddy.ts';
import { CorePort } from '../src/alloc/core_port.ts';
import { createPageAllocator } from '../src/alloc/allocator.ts';
import type { PageAllocatorPort } from '../src/reclaim/port.ts';
import type { MemoryUser } from '../src/reclaim/oom_kill.ts';
import type { LruPageOwner } from '../src/reclaim/vmscan.ts';

/** 64 MiB, one DMA32 zone: min_free_kbytes = int_sqrt(16·64000) = 1011 → min 252, low 315, high 378. */
export function smallMachine(): NaiveBuddy {
  return new NaiveBuddy([
    { zoneIdx: ZONE_DMA32, startPfn: 4096, spanned: 16384, managed: 16000, wmark: [252, 315, 378], lowmemReserve: [0, 0, 0, 0, 0] },
  ]);
}

export type RigKind = 'naive' | 'core';
export const RIG_KINDS: readonly RigKind[] = ['naive', 'core'];

/** A machine under test: the port plus what the checks need from whichever allocator is behind it. */
export interface TestPort extends PageAllocatorPort {
  /** free pages, buddy lists and per-CPU lists together */
  readonly totalFree: number;
  verify(): void;
  /** every byte of allocator state, for "nothing changed" checks */
  stateBytes(): string;
}

export interface Rig { kind: RigKind; port: TestPort; clock: Clock; p: Pressure; managed: number }

class NaiveTestPort extends NaiveBuddy implements TestPort {
  stateBytes(): string { return Buffer.from(this.state).toString('base64') + Buffer.from(this.freeOrderOf).toString('base64'); }
}

class CoreTestPort extends CorePort implements TestPort {
  private readonly a: ReturnType<typeof createPageAllocator>;
  constructor(a: ReturnType<typeof createPageAllocator>) { super(a.kernel); this.a = a; }
  get totalFree(): number { let n = 0; for (const z of this.zones) n += z.freePages + z.freePcp; return n; }
  verify(): void { this.a.verify(); }
  stateBytes(): string { return Buffer.from(new Uint8Array(this.a.kernel.snapshot())).toString('base64'); }
}

/**
 * 'naive': 64 MiB, one DMA32 zone on the naive buddy oracle. 'core': the core allocator for a 128 MiB qemu-pc
 * machine (DMA 3840 + DMA32 16637 managed pages), with its slow-path hooks wired to kswapd.
 */
export function rig(opts: PressureOptions = {}, kind: RigKind = 'naive'): Rig {
  const clock = new Clock();
  if (kind === 'naive') {
    const n = smallMachine();
    const port = Object.setPrototypeOf(n, NaiveTestPort.prototype) as NaiveTestPort;
    return { kind, port, clock, p: new Pressure(port, clock, opts), managed: 16000 };
  }
  const a = createPageAllocator({ mem: '128M' });
  const port = new CoreTestPort(a);
  const p = new Pressure(port, clock, opts);
  a.kernel.hooks = {
    wakeAllKswapds: (order, gfp, hz) => p.wakeAllKswapds(order, gfp, hz),
    wakeupKswapd: (_slot, order, hz) => p.kswapd[0]!.wakeup(0, order, hz),
  };
  return { kind, port, clock, p, managed: port.zones.reduce((s, z) => s + z.managed, 0) };
}

/** A task holding anonymous or file pages by handle; it follows moves and hears about reclaim. */
export class Task implements MemoryUser, LruPageOwner {
  readonly pid: number;
  readonly comm: string;
  readonly oomScoreAdj: number;
  readonly handles = new Set<number>();
  /** pages it holds that are not on an LRU (e.g. kernel allocations made on its behalf) */
  readonly plain = new Map<number, number>();
  reclaimedCount = 0;
  movedCount = 0;
  killed = false;
  user = 0;
  private readonly rigRef: Rig;

  constructor(r: Rig, pid: number, comm: string, oomScoreAdj = 0) {
    this.rigRef = r;
    this.pid = pid;
    this.comm = comm;
    this.oomScoreAdj = oomScoreAdj;
    this.user = r.p.reclaim.addOwner(this);
  }
  rssPages(): number {
    let n = 0;
    for (const h of this.handles) if (this.rigRef.p.reclaim.lru.pfnOf(h) >= 0) n++;
    for (const [, order] of this.plain) n += 1 << order;
    return n;
  }
  reclaimed(_pfn: number, _order: number, handle: number): void {
    this.reclaimedCount++;
    this.rigRef.p.reclaim.lru.forgetHandle(handle);
    this.handles.delete(handle);
  }
  moved(): void { this.movedCount++; }
  /** Put an allocated order-0 page on the LRU as this task's. */
  own(pfn: number, kind: 'anon' | 'file' | 'file-fs', dirty = false): number {
    const h = this.rigRef.p.reclaim.addPage(pfn, 0, kind, dirty, this.user);
    this.handles.add(h);
    return h;
  }
  kill(): void {
    const { p } = this.rigRef;
    for (const h of this.handles) {
      const pfn = p.reclaim.lru.pfnOf(h);
      if (pfn >= 0) {
        p.reclaim.removePage(pfn);
        p.port.freePages(pfn, 0);
      } else p.reclaim.lru.forgetHandle(h);
    }
    this.handles.clear();
    for (const [pfn, order] of this.plain) p.port.freePages(pfn, order);
    this.plain.clear();
    this.killed = true;
  }
}

/** Take pages straight from the free lists (ignoring watermarks) until `leaveFree` pages are free in all. */
export function fillTo(r: Rig, leaveFree: number, each: (pfn: number) => void): void {
  while (r.port.totalFree > leaveFree) {
    const pfn = r.port.getPageFromFreelist(GFP_HIGHUSER_MOVABLE, 0, ALLOC_NO_WATERMARKS);
    if (pfn < 0) break;
    each(pfn);
  }
}

/** Pages accounted for: free + on an LRU (or isolated) + held by the given tasks outside the LRU + extra. */
export function accounted(r: Rig, tasks: Task[], extraHeld: number): number {
  let n = r.port.totalFree;
  const lru = r.p.reclaim.lru;
  for (let l = 0; l < 5; l++) n += lru.lruSize(0, l);
  for (const t of tasks) for (const [, order] of t.plain) n += 1 << order;
  return n + extraHeld;
}
