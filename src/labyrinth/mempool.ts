/**
 * Memory pools: `minNr` elements preallocated so that a caller that must not fail (an atomic path, writeback)
 * always gets one. Allocation tries the allocator first and falls back to the pool; a free refills the pool
 * first while it is below `minNr`.
 * @kernel mm/mempool.c mempool_create, mempool_init_node, mempool_alloc, mempool_free, mempool_resize,
 *   mempool_destroy (6.1)
 *
 * Where this differs: the kernel's mempool_alloc with __GFP_DIRECT_RECLAIM sleeps (up to 5 s at a time) until
 * an element is returned; here nothing sleeps, so that case returns null and counts `waits` — a caller that
 * may sleep should retry after a free. `onReturn` (a Labyrinth extension) runs on an element kept by
 * mempool_free, so exclusive pages are wiped before the pool hands them out again.
 *
 * @example
 * ```ts
 * const pool = exclusiveMempool(task, 4);                 // 4 zeroed exclusive pages reserved
 * const key = pool.alloc(GFP_ATOMIC | __GFP_EXCL);          // never null while the pool holds one
 * task.write(key!, 0, secret);
 * pool.free(key!);                                          // refills the pool (wiped) first
 * ```
 */
import {
  __GFP_DIRECT_RECLAIM, __GFP_EXCL, __GFP_IO, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_ZERO, GFP_KERNEL,
} from '../gfp/bits.ts';
import { BadInputError, LabyrinthError } from '../errors.ts';
import { ExclusiveKey } from './exclusive.ts';
import type { LabyrinthTask } from './domain.ts';

export type MempoolAllocFn<T> = (gfp: number) => T | null;
export type MempoolFreeFn<T> = (element: T) => void;

export class Mempool<T> {
  minNr: number;
  private readonly elements: T[] = [];
  private readonly allocFn: MempoolAllocFn<T>;
  private readonly freeFn: MempoolFreeFn<T>;
  private readonly onReturn: ((element: T) => void) | undefined;
  /** Elements handed out from the pool (the allocator had failed). */
  fromPool = 0;
  /** Requests that would have slept waiting for an element (may-sleep callers with an empty pool). */
  waits = 0;
  /** Requests that failed (no element, may not sleep). */
  failures = 0;
  private destroyed = false;

  /**
   * mempool_create(min_nr, alloc, free): fills the pool with GFP_KERNEL; throws (after freeing what it took)
   * when the allocator cannot provide minNr elements.
   */
  constructor(minNr: number, allocFn: MempoolAllocFn<T>, freeFn: MempoolFreeFn<T>, opts: { onReturn?: (element: T) => void; gfp?: number } = {}) {
    if (!(minNr >= 0) || (minNr | 0) !== minNr) throw new BadInputError('MEMPOOL_MIN_NR', `Cannot create a mempool of ${minNr} elements: because min_nr is a whole number ≥ 0`);
    this.minNr = minNr;
    this.allocFn = allocFn;
    this.freeFn = freeFn;
    this.onReturn = opts.onReturn;
    const gfp = opts.gfp ?? GFP_KERNEL;
    while (this.elements.length < minNr) {
      const el = allocFn(gfp);
      if (el === null) {
        const got = this.elements.length;
        this.destroy();
        throw new LabyrinthError('MEMPOOL_ENOMEM', `Cannot create a mempool of ${minNr} elements: because the allocator failed after ${got}`);
      }
      this.elements.push(el);
    }
  }

  /** pool->curr_nr */
  get currNr(): number {
    return this.elements.length;
  }

  /** The elements the pool holds now (a read-only view, oldest first: the next alloc takes the last). */
  get pooled(): readonly T[] {
    return this.elements;
  }

  /**
   * mempool_alloc: the allocator first with __GFP_NOMEMALLOC|__GFP_NORETRY|__GFP_NOWARN and, on the first
   * round, without direct reclaim or I/O; then the pool; then (when the mask differs) the allocator again with
   * the full mask. Returns null only when the pool is empty too.
   */
  alloc(gfp: number): T | null {
    if (this.destroyed) throw new LabyrinthError('MEMPOOL_DESTROYED', 'Cannot allocate from a mempool: because it was destroyed');
    if ((gfp & __GFP_ZERO) !== 0) throw new BadInputError('MEMPOOL_ZERO', 'Cannot mempool_alloc with __GFP_ZERO: because pool elements are not zeroed by the pool (the kernel WARNs)');
    const gfpMask = (gfp | __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN) >>> 0;
    let gfpTemp = (gfpMask & ~(__GFP_DIRECT_RECLAIM | __GFP_IO)) >>> 0;
    for (;;) {
      const el = this.allocFn(gfpTemp);
      if (el !== null) return el;
      if (this.elements.length > 0) {
        this.fromPool += 1;
        return this.elements.pop()!;
      }
      if (gfpTemp !== gfpMask) {
        gfpTemp = gfpMask;
        continue;
      }
      if ((gfpMask & __GFP_DIRECT_RECLAIM) === 0) {
        this.failures += 1;
        return null;
      }
      // The kernel sleeps here until an element is freed; nothing sleeps in this model.
      this.waits += 1;
      return null;
    }
  }

  /** mempool_free: refill the pool while it is below min_nr, else give the element back to the allocator. */
  free(element: T | null): void {
    if (element === null) return;
    if (this.elements.length < this.minNr && !this.destroyed) {
      if (this.onReturn !== undefined) this.onReturn(element);
      this.elements.push(element);
      return;
    }
    this.freeFn(element);
  }

  /** mempool_resize: shrink frees surplus elements; growth preallocates with GFP_KERNEL (false on failure). */
  resize(newMinNr: number): boolean {
    if (newMinNr <= this.minNr) {
      while (this.elements.length > newMinNr) this.freeFn(this.elements.pop()!);
      this.minNr = newMinNr;
      return true;
    }
    while (this.elements.length < newMinNr) {
      const el = this.allocFn(GFP_KERNEL);
      if (el === null) return false;
      this.elements.push(el);
    }
    this.minNr = newMinNr;
    return true;
  }

  /** mempool_destroy: every pooled element back to the allocator. */
  destroy(): void {
    while (this.elements.length > 0) this.freeFn(this.elements.pop()!);
    this.destroyed = true;
  }
}

/**
 * A mempool of exclusive blocks held by one task: elements are keys; a returned element is wiped before the
 * pool keeps it, so every block handed out reads as zeros.
 */
export function exclusiveMempool(task: LabyrinthTask, minNr: number, order = 0): Mempool<ExclusiveKey> {
  return new Mempool<ExclusiveKey>(
    minNr,
    (gfp) => {
      const r = task.allocExclusive(gfp | __GFP_EXCL, order);
      return r instanceof ExclusiveKey ? r : null;
    },
    (key) => task.freeExclusive(key),
    { onReturn: (key) => task.wipe(key) },
  );
}
