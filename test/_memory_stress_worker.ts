/**
 * Worker body of the real-memory stress test: attach to the shared allocator, run seeded random
 * operations (every order, atomic and sleeping gfp, compound and zeroed pages), stamp every
 * allocation with an owner signature in its first and last 8 bytes and check the stamp before
 * each free (two owners of one page would overwrite each other's stamps), then report what is
 * still live and hand the per-CPU lists back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachAllocator, type MemoryHandle } from '../src/memory/memory_allocator.ts';
import { ExclusivePages, ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { BackingPageBytes } from '../src/labyrinth/page_bytes.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT, GFP_HIGHUSER_MOVABLE, __GFP_COMP, __GFP_ZERO, __GFP_NOWARN } from '../src/gfp/bits.ts';

interface Job { handle: MemoryHandle; id: number; seed: number; ops: number; keep: number; maxLive: number; start: Int32Array; release: Int32Array }
const job = workerData as Job;

let s = job.seed >>> 0 || 1;
function rnd(): number {
  s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
  return s;
}
const GFPS = [GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT | __GFP_NOWARN, GFP_KERNEL | __GFP_ZERO, GFP_HIGHUSER_MOVABLE, GFP_ATOMIC | __GFP_COMP, GFP_KERNEL | __GFP_COMP];

const t0 = Date.now();
const mm = attachAllocator(job.handle);
// Exclusive pages of this worker's own labyrinth (id = worker id): keys never leave this thread.
const ex = new ExclusivePages(mm.kernel, new BackingPageBytes(mm.backing));
mm.setExclusiveGate(ex.gate());
const excl: Array<[ExclusiveKey, number, number]> = []; // key, addr, stamp
let exclAllocs = 0;
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
    if ((r >>> 20) % 16 === 0) {
      // an exclusive block (orders 0..3; atomic or sleeping), stamped through its key
      const k = ex.allocate(job.id, 0, ((r >>> 24) & 1) !== 0 ? GFP_ATOMIC | __GFP_NOWARN : GFP_KERNEL | __GFP_NOWARN, order & 3, mm.cpu);
      if (!(k instanceof ExclusiveKey)) { fails++; continue; }
      const pfn = ex.info(job.id, k).pfn;
      mm.forgetPoison(pfn, order & 3);
      const addr = mm.page_address(pfn);
      const v = job.id * 1e9 + i;
      mm.dataView(addr, 8, k).setFloat64(0, v);
      excl.push([k, addr, v]);
      exclAllocs++;
      if (excl.length > 24) {
        const [k0, a0, v0] = excl.shift()!;
        if (mm.dataView(a0, 8, k0).getFloat64(0) !== v0) errors.push(`exclusive block 0x${a0.toString(16)} overwritten`);
        ex.free(job.id, k0, mm.cpu);
      }
      continue;
    }
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
for (const [k, a, v] of excl) if (mm.dataView(a, 8, k).getFloat64(0) !== v) errors.push(`exclusive block 0x${a.toString(16)} overwritten`);
const cpu = mm.slot;
const lock = mm.lockStats();
mm.drainLocalPages();
mm.foldEvents();
// Hold the exclusive blocks while the main thread checks their isolation, then free them.
parentPort!.postMessage({ phase: 'held', exclusive: excl.map(([, a]) => a), labyrinth: job.id });
while (Atomics.load(job.release, 0) === 0) Atomics.wait(job.release, 0, 0, 50);
for (const [k] of excl) ex.free(job.id, k, mm.cpu);
// (ExclusivePages.verify walks every pfn and expects one manager per allocator: other workers hold their own.)
mm.detach();
parentPort!.postMessage({ exclAllocs, loopMs: Date.now() - tLoop, ms: Date.now() - t0, id: job.id, cpu, allocs, fails, frees, zeroChecks, errors, live, lock });
