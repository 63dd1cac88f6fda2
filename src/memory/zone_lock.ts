/**
 * The zone lock for allocators shared between threads: one Int32 word per zone in a
 * SharedArrayBuffer, taken with Atomics. A context that may sleep (its gfp has
 * __GFP_DIRECT_RECLAIM) spins briefly and then sleeps in `Atomics.wait` until the holder wakes it;
 * an atomic context (GFP_ATOMIC, GFP_NOWAIT, every free path) only spins, as the kernel's
 * spin_lock(&zone->lock) does.
 * @kernel mm/page_alloc.c zone->lock (spin_lock_irqsave around the buddy lists)
 *
 * Word states (the classic three-state futex mutex): 0 free, 1 held, 2 held with sleepers.
 * A spinner never writes 2, so an unlock that sees 1 wakes nobody; one that sees 2 wakes one sleeper.
 * The per-CPU lists never take this lock: each worker owns its own CPU index.
 */
import type { ZoneLockHook } from '../mm/memmap.ts';

/** Spins before a sleeping context gives up the CPU. */
const SPINS_BEFORE_SLEEP = 64;

/** Whether this thread may block in Atomics.wait (false on a browser's main thread). */
function canBlockHere(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  // Browsers refuse Atomics.wait on the main (window) thread; Node's main thread and all workers allow it.
  return g.document === undefined;
}

export class ZoneLock implements ZoneLockHook {
  /** Lock words, one per zone slot, in shared memory. */
  readonly words: Int32Array;
  /** Set by the allocation entry point: true while serving a request that may sleep. */
  maySleep: boolean;
  /** Counters of this attachment (not shared): acquisitions that found the lock held, and sleeps. */
  contended: number;
  sleeps: number;
  private readonly blockOk: boolean;

  constructor(words: Int32Array) {
    this.words = words;
    this.maySleep = false;
    this.contended = 0;
    this.sleeps = 0;
    this.blockOk = canBlockHere();
  }

  lock(z: number): void {
    const w = this.words;
    if (Atomics.compareExchange(w, z, 0, 1) === 0) return;
    this.lockSlow(z);
  }

  private lockSlow(z: number): void {
    const w = this.words;
    this.contended++;
    if (!this.maySleep || !this.blockOk) {
      // Atomic context: spin until the word reads free, then try again.
      for (;;) {
        while (Atomics.load(w, z) !== 0) { /* spin */ }
        if (Atomics.compareExchange(w, z, 0, 1) === 0) return;
      }
    }
    for (let i = 0; i < SPINS_BEFORE_SLEEP; i++) {
      if (Atomics.load(w, z) === 0 && Atomics.compareExchange(w, z, 0, 1) === 0) return;
    }
    // Sleep: mark the word contended; whoever unlocks it wakes one sleeper.
    while (Atomics.exchange(w, z, 2) !== 0) {
      this.sleeps++;
      Atomics.wait(w, z, 2);
    }
  }

  unlock(z: number): void {
    if (Atomics.exchange(this.words, z, 0) === 2) Atomics.notify(this.words, z, 1);
  }

  /** True when some context holds zone z's lock (cold; for tests and dumps). */
  isLocked(z: number): boolean {
    return Atomics.load(this.words, z) !== 0;
  }
}
