/**
 * Test fixtures for the pressure layer: small machines on the naive buddy oracle, and workloads that own pages
 * (page cache, anonymous memory) through the LRU. Internal (tests only).
 */
import { ALLOC_NO_WATERMARKS } from '../gfp/alloc_flags.ts';
import { GFP_HIGHUSER_MOVABLE } from '../gfp/bits.ts';
import { ZONE_DMA32 } from '../mm/constants.ts';
import { Clock } from '../sim/clock.ts';
import { Pressure, type PressureOptions } from '../alloc/slowpath.ts';
import { NaiveBuddy } from './naive_buddy.ts';
import type { MemoryUser } from './oom_kill.ts';
import type { LruPageOwner } from './vmscan.ts';

/** 64 MiB, one DMA32 zone: min_free_kbytes = int_sqrt(16·64000) = 1011 → min 252, low 315, high 378. */
export function smallMachine(): NaiveBuddy {
  return new NaiveBuddy([
    { zoneIdx: ZONE_DMA32, startPfn: 4096, spanned: 16384, managed: 16000, wmark: [252, 315, 378], lowmemReserve: [0, 0, 0, 0, 0] },
  ]);
}

export interface Rig { port: NaiveBuddy; clock: Clock; p: Pressure }

export function rig(opts: PressureOptions = {}, port: NaiveBuddy = smallMachine()): Rig {
  const clock = new Clock();
  return { port, clock, p: new Pressure(port, clock, opts) };
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

/** Take pages straight from the buddy lists (ignoring watermarks) until the zone's free count is `leaveFree`. */
export function fillTo(r: Rig, leaveFree: number, each: (pfn: number) => void): void {
  const z = r.port.zones[r.port.zones.length - 1]!;
  while (z.freePages > leaveFree) {
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
