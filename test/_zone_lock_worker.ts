/** Holds zone 0's lock for the zone-lock tests: take it, say so, wait for the main thread's move, release. */
import { workerData } from 'node:worker_threads';
import { ZoneLock } from '../src/memory/zone_lock.ts';

const { words, sig, mode } = workerData as { words: Int32Array; sig: Int32Array; mode: 'sleeper' | 'spinner' };
const lock = new ZoneLock(words);
lock.lock(0);
Atomics.store(sig, 0, 1);
Atomics.notify(sig, 0);
if (mode === 'sleeper') {
  // The main thread may sleep: hold the lock until it has marked the word contended (2).
  while (Atomics.load(words, 0) !== 2) { /* wait for the sleeper */ }
} else {
  // The main thread is atomic: wait until it says it is spinning, give it time to spin, and check
  // that it never marked the word contended.
  while (Atomics.load(sig, 1) === 0) Atomics.wait(sig, 1, 0, 10);
  Atomics.wait(sig, 2, 0, 30);
  Atomics.store(sig, 3, Atomics.load(words, 0));
}
lock.unlock(0);
