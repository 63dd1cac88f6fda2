/**
 * Shrinkers: caches outside the LRU that give memory back under pressure (the public plug-in API).
 * @kernel mm/vmscan.c do_shrink_slab, shrink_slab (6.1); include/linux/shrinker.h
 *
 * A shrinker says how many objects it could free (`count`) and frees up to `nrToScan` of them (`scan`). Both are
 * told the gfp of the reclaim that calls them: a GFP_NOFS reclaimer must not enter a filesystem, so a shrinker
 * registered with `fs: true` is skipped when the gfp lacks __GFP_FS (the kernel's fs shrinkers return SHRINK_STOP
 * themselves; here the registry does it for them, and `scan` still sees the gfp).
 */
import { __GFP_FS } from '../gfp/bits.ts';

export const SHRINK_STOP = -1;
export const SHRINK_EMPTY = -2;
export const DEFAULT_SEEKS = 2;
export const SHRINK_BATCH = 128;

export interface ShrinkControl {
  readonly gfp: number;
  readonly nid: number;
  /** objects to scan in this call */
  nrToScan: number;
  /** objects actually scanned (defaults to nrToScan) */
  nrScanned: number;
  /** pages the shrinker gave back to the page allocator in this call (reclaim_state->reclaimed_slab) */
  pagesFreed: number;
}

export interface Shrinker {
  readonly name: string;
  /** a filesystem cache (dentries, inodes, fs metadata): not called without __GFP_FS */
  readonly fs?: boolean;
  /** cost to recreate an object, relative (DEFAULT_SEEKS = 2) */
  readonly seeks?: number;
  /** objects per scan call (SHRINK_BATCH = 128) */
  readonly batch?: number;
  count(ctl: ShrinkControl): number;
  /** free up to ctl.nrToScan objects; return how many were freed, or SHRINK_STOP */
  scan(ctl: ShrinkControl): number;
}

export interface ShrinkResult { freedObjects: number; pagesFreed: number; scanned: number }

export class ShrinkerRegistry {
  private readonly list: Shrinker[] = [];
  /** calls made, per shrinker name, split by whether they were skipped for lacking __GFP_FS */
  readonly skippedNoFs = new Map<string, number>();

  register(s: Shrinker): () => void {
    this.list.push(s);
    return () => {
      const i = this.list.indexOf(s);
      if (i >= 0) this.list.splice(i, 1);
    };
  }

  get size(): number { return this.list.length; }

  /** @kernel mm/vmscan.c shrink_slab: every shrinker, in registration order, at this priority */
  shrinkSlab(gfp: number, nid: number, priority: number): ShrinkResult {
    const r: ShrinkResult = { freedObjects: 0, pagesFreed: 0, scanned: 0 };
    for (const s of this.list) {
      if (s.fs && (gfp & __GFP_FS) === 0) {
        this.skippedNoFs.set(s.name, (this.skippedNoFs.get(s.name) ?? 0) + 1);
        continue;
      }
      this.doShrink(s, gfp, nid, priority, r);
    }
    return r;
  }

  /** @kernel mm/vmscan.c do_shrink_slab (without the deferred-work carry-over) */
  private doShrink(s: Shrinker, gfp: number, nid: number, priority: number, r: ShrinkResult): void {
    const ctl: ShrinkControl = { gfp, nid, nrToScan: 0, nrScanned: 0, pagesFreed: 0 };
    const freeable = s.count(ctl);
    if (freeable <= 0) return;
    const seeks = s.seeks ?? DEFAULT_SEEKS;
    const batch = s.batch ?? SHRINK_BATCH;
    let totalScan = seeks ? Math.floor(((freeable >> priority) * 4) / seeks) : Math.floor(freeable / 2);
    totalScan = Math.min(totalScan, 2 * freeable);
    while (totalScan >= batch || totalScan >= freeable) {
      const n = Math.min(batch, totalScan);
      ctl.nrToScan = n;
      ctl.nrScanned = n;
      ctl.pagesFreed = 0;
      const ret = s.scan(ctl);
      r.pagesFreed += ctl.pagesFreed;
      if (ret === SHRINK_STOP) break;
      r.freedObjects += ret;
      r.scanned += ctl.nrScanned;
      totalScan -= ctl.nrScanned;
      if (ctl.nrScanned <= 0) break;
    }
  }
}
