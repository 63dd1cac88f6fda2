/**
 * Worker of bench/memory.ts: attach to the shared allocator on the given CPU slot, wait for the
 * start signal, run `ops` steps of "free a random one of 64 live pages, allocate one, touch its
 * first byte" (the pattern of the peers' multi-thread measurement), then report.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { attachAllocator, type MemoryHandle } from '../src/memory/memory_allocator.ts';
import { GFP_KERNEL } from '../src/gfp/bits.ts';

interface Job { handle: MemoryHandle; cpu: number; ops: number; ctl: Int32Array; seed: number; cpuNs: Float64Array; index: number }
const { handle, cpu, ops, ctl, seed, cpuNs, index } = workerData as Job;

/** CPU time of this thread (utime + stime from /proc/thread-self/stat, clock ticks of 10 ms), in ns; 0 elsewhere. */
function threadCpuNs(): number {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 1e7;
  } catch {
    return 0;
  }
}
const mm = attachAllocator(handle, { cpu });
const u8 = mm.backing.u8;
const startByte = mm.backing.startByte;
const live = new Float64Array(64);

function step(n: number, x: number): number {
  const a = mm;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const k = x & 63;
    a.freePages(live[k]!, 0);
    const p = a.allocPages(GFP_KERNEL, 0);
    const c = Math.floor(p / 4096) >>> 18;
    u8[c]![p - startByte[c]!] = 1;
    live[k] = p;
  }
  return x;
}

for (let k = 0; k < 64; k++) live[k] = mm.allocPages(GFP_KERNEL, 0);
let x = seed | 1;
x = step(200000, x); // warm up (JIT)
parentPort!.postMessage('ready');
for (;;) {
  // ctl[0]: round number to run (0 = wait, -1 = quit); ctl[1]: workers done in this round
  const round = Atomics.load(ctl, 0);
  if (round === -1) break;
  if (round === 0) { Atomics.wait(ctl, 0, 0); continue; }
  const c0 = threadCpuNs();
  x = step(ops, x);
  cpuNs[index] = threadCpuNs() - c0;
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
  while (Atomics.load(ctl, 0) === round) Atomics.wait(ctl, 0, round);
}
for (let k = 0; k < 64; k++) mm.freePages(live[k]!, 0);
mm.detach();
parentPort!.postMessage('done');
