/**
 * Worker body of the real-memory stress test: attach to the shared allocator, run seeded random
 * operations (every order, atomic and sleeping gfp, compound and zeroed pages), stamp every
 * allocation with an owner signature in its first and last 8 bytes and check the stamp before
 * each free (two owners of one page would overwrite each other's stamps), then report what is
 * still live and hand the per-CPU lists back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachAllocator, type MemoryHandle } from '../src/memory/memory_allocator.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT, GFP_HIGHUSER_MOVABLE, __GFP_COMP, __GFP_ZERO, __GFP_NOWARN } from '../src/gfp/bits.ts';

interface Job { handle: MemoryHandle; id: number; seed: number; ops: number; keep: number; maxLive: number; start: Int32Array }
const job = workerData as Job;

let s = job.seed >>> 0 || 1;
function rnd(): number {
  s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
  return s;
}
const GFPS = [GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT | __GFP_NOWARN, GFP_KERNEL | __GFP_ZERO, GFP_HIGHUSER_MOVABLE, GFP_ATOMIC | __GFP_COMP, GFP_KERNEL | __GFP_COMP];

const t0 = Date.now();
const mm = attachAllocator(job.handle);
// Start together so that the threads really overlap.
Atomics.add(job.start, 0, 1);
while (Atomics.load(job.start, 1) === 0) Atomics.wait(job.start, 1, 0, 50);

const live: Array<[number, number, number]> = []; // addr, order, stamp
let allocs = 0, fails = 0, frees = 0, zeroChecks = 0;
const errors: string[] = [];
function stamp(addr: number, order: number, v: number): void {
  const end = 4096 * (1 << order);
  const dv = mm.dataView(addr);
  dv.setFloat64(0, v);
  dv.setFloat64(end - 8, v);
}
function check(addr: number, order: number, v: number): void {
  const end = 4096 * (1 << order);
  const dv = mm.dataView(addr);
  if (dv.getFloat64(0) !== v || dv.getFloat64(end - 8) !== v) errors.push(`stamp of 0x${addr.toString(16)} (order ${order}) overwritten: another owner had the page`);
}
const tLoop = Date.now();
for (let i = 0; i < job.ops; i++) {
  const r = rnd();
  if (live.length === 0 || ((r & 1) !== 0 && live.length < job.maxLive)) {
    // order: 0 most of the time, every order 0..10 sometimes
    const order = (r >>> 8) % 8 === 0 ? (r >>> 12) % 11 : (r >>> 12) % 4;
    const gfp = GFPS[(r >>> 16) % GFPS.length]!;
    const addr = mm.allocPages(gfp | __GFP_NOWARN, order);
    if (addr === 0) { fails++; continue; }
    allocs++;
    if ((gfp & __GFP_ZERO) !== 0) {
      zeroChecks++;
      const u8 = mm.bytes(addr);
      for (let k = 0; k < u8.length; k += 509) if (u8[k] !== 0) { errors.push(`__GFP_ZERO page 0x${addr.toString(16)} not zeroed`); break; }
    }
    const v = job.id * 1e9 + i;
    stamp(addr, order, v);
    live.push([addr, order, v]);
  } else {
    const k = (r >>> 8) % live.length;
    const [addr, order, v] = live[k]!;
    live[k] = live[live.length - 1]!;
    live.pop();
    check(addr, order, v);
    mm.freePages(addr, order);
    frees++;
  }
}
while (live.length > job.keep) {
  const [addr, order, v] = live.pop()!;
  check(addr, order, v);
  mm.freePages(addr, order);
  frees++;
}
for (const [addr, order, v] of live) check(addr, order, v);
const cpu = mm.slot;
const lock = mm.lockStats();
mm.detach();
parentPort!.postMessage({ loopMs: Date.now() - tLoop, ms: Date.now() - t0, id: job.id, cpu, allocs, fails, frees, zeroChecks, errors, live, lock });
