/**
 * Real-memory benchmark (issue 6): order-0 pairs that hand out an address vs. a view, the peers
 * beside them, and aggregate throughput of 1 and 2 worker_threads sharing one allocator.
 *
 *   npm run -s bench:memory              # table
 *   npm run -s bench:memory -- --json    # one JSON object on the last line
 *
 * Single-thread figures are mitata medians (p50) per pair, each contender its own function. Thread
 * figures: each worker runs `ops` steps of "free one of 64 live pages, allocate one, touch it"
 * through the idiomatic API on its own CPU slot; a round is timed from the start signal until the
 * last worker is done, aggregate = total steps / wall time; the best and the median of the rounds.
 */
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { measure } from 'mitata';
import { MemPool } from '@thi.ng/malloc';
import { createAllocator } from '../src/memory/memory_allocator.ts';
import { GFP_KERNEL } from '../src/gfp/bits.ts';
import { tsWorker } from '../test/_ts_worker.ts';

const json = process.argv.includes('--json');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 7);
const OPS = arg('ops', 2_000_000);

// --- single thread ---------------------------------------------------------------------------

async function corePair(): Promise<number> {
  const k = createAllocator({ memory: '1G', backing: 'none' }).kernel;
  const s = await measure(() => {
    const p = k.alloc_pages(GFP_KERNEL, 0, 0);
    k.__free_pages(p, 0, 0);
  });
  return s.p50;
}

async function addressPair(): Promise<number> {
  const mm = createAllocator({ memory: '1G' });
  const s = await measure(() => {
    const p = mm.allocPages(GFP_KERNEL, 0);
    mm.freePages(p, 0);
  });
  return s.p50;
}

/** Allocate, touch through a bytes() view, free: on a private allocator, or a shared one (zone lock armed). */
async function viewPair(opts: Parameters<typeof createAllocator>[0]): Promise<number> {
  const mm = createAllocator(opts);
  const s = await measure(() => {
    const p = mm.allocPages(GFP_KERNEL, 0);
    const v = mm.bytes(p, 4096);
    v[0] = 1;
    mm.freePages(p, 0);
  });
  return s.p50;
}

async function thingPair(): Promise<number> {
  const pool = new MemPool({ buf: new ArrayBuffer(64 << 20) });
  const s = await measure(() => {
    const a = pool.malloc(4096);
    pool.free(a);
  });
  return s.p50;
}

async function thingViewPair(): Promise<number> {
  const pool = new MemPool({ buf: new ArrayBuffer(64 << 20) });
  const s = await measure(() => {
    const v = pool.mallocAs('u8', 4096)!;
    v[0] = 1;
    pool.free(v);
  });
  return s.p50;
}

async function arrayBufferPair(): Promise<number> {
  let sink = 0;
  const s = await measure(() => {
    const b = new Uint8Array(new ArrayBuffer(4096));
    b[0] = 1;
    sink += b.length;
  });
  return sink > 0 ? s.p50 : s.p50;
}

async function bufferAllocUnsafePair(): Promise<number> {
  let sink = 0;
  const s = await measure(() => {
    const b = Buffer.allocUnsafe(4096);
    b[0] = 1;
    sink += b.length;
  });
  return sink > 0 ? s.p50 : s.p50;
}

/** Heap growth over 10^6 address pairs (after GC): the address API allocates nothing. */
function heapGrowthAddressPairs(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return Number.NaN;
  const mm = createAllocator({ memory: '1G' });
  for (let i = 0; i < 10000; i++) mm.freePages(mm.allocPages(GFP_KERNEL, 0), 0);
  gc();
  const h0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1e6; i++) mm.freePages(mm.allocPages(GFP_KERNEL, 0), 0);
  gc();
  return Math.max(0, process.memoryUsage().heapUsed - h0);
}

// --- threads ---------------------------------------------------------------------------------

interface ThreadRun {
  workers: number; slots: number[]; bestMops: number; medianMops: number; rounds: number[];
  /** Median over rounds of the CPU time each step cost its thread (ns): contention shows here even when the machine is busy. */
  cpuNsPerStep: number;
}

async function threads(slots: number[]): Promise<ThreadRun> {
  const mm = createAllocator({ memory: '1G', shared: true, cpus: 16 });
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const handle = mm.handle();
  const cpuNs = new Float64Array(new SharedArrayBuffer(8 * slots.length));
  const ws = slots.map((cpu, i) => tsWorker(new URL('./_memory_worker.ts', import.meta.url), { handle, cpu, ops: OPS, ctl, seed: 0x9e3779b9 + i * 7919, cpuNs, index: i }));
  const perStep: number[] = [];
  await Promise.all(ws.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  const mops: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    Atomics.store(ctl, 1, 0);
    const t0 = performance.now();
    Atomics.store(ctl, 0, r);
    Atomics.notify(ctl, 0);
    while (Atomics.load(ctl, 1) < slots.length) Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 100);
    const ms = performance.now() - t0;
    Atomics.store(ctl, 0, 0);
    mops.push((slots.length * OPS) / ms / 1000);
    let c = 0;
    for (let i = 0; i < slots.length; i++) c += cpuNs[i]!;
    perStep.push(c / (slots.length * OPS));
  }
  const done = ws.map((w) => new Promise((resolve) => w.once('message', resolve)));
  Atomics.store(ctl, 0, -1);
  Atomics.notify(ctl, 0);
  await Promise.all(done);
  await Promise.all(ws.map((w) => w.terminate()));
  mm.drainLocalPages();
  mm.verify();
  const sorted = [...mops].sort((a, b) => a - b);
  const ps = [...perStep].sort((a, b) => a - b);
  return { workers: slots.length, slots, bestMops: sorted[sorted.length - 1]!, medianMops: sorted[sorted.length >> 1]!, rounds: mops, cpuNsPerStep: ps[ps.length >> 1]! };
}

/** Aggregate speed-up of 2 threads over 1 for pure arithmetic: the ceiling the machine allows right now. */
async function machineScaling(): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads');
    let x = 1; for (let i = 0; i < 2e8; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; } parentPort.postMessage(x);`;
  const { Worker } = await import('node:worker_threads');
  const run = async (n: number): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => new Worker(code, { eval: true }).once('message', resolve))));
    return performance.now() - t0;
  };
  const t1 = Math.min(await run(1), await run(1));
  const t2 = Math.min(await run(2), await run(2));
  return (2 * t1) / t2;
}

const r = {
  coreOrder0PairNs: await corePair(),
  addressPairNs: await addressPair(),
  viewPairNs: await viewPair({ memory: '1G' }),
  sharedViewPairNs: await viewPair({ memory: '1G', shared: true, cpus: 2 }),
  thingMallocPairNs: await thingPair(),
  thingMallocAsViewPairNs: await thingViewPair(),
  arrayBufferPairNs: await arrayBufferPair(),
  bufferAllocUnsafePairNs: await bufferAllocUnsafePair(),
  heapGrowthAddressPairsBytes: heapGrowthAddressPairs(),
};
const one = await threads([1]);
const two = await threads([1, 2]);
const machine = await machineScaling();
const out = {
  ...r,
  viewOverAddressRatio: r.viewPairNs / r.addressPairNs,
  threads1Mops: one.bestMops,
  threads2Mops: two.bestMops,
  threads2OverThreads1: two.bestMops / one.bestMops,
  threads2OverThreads1Median: two.medianMops / one.medianMops,
  machineTwoThreadScaling: machine,
  threads1CpuNsPerStep: one.cpuNsPerStep,
  threads2CpuNsPerStep: two.cpuNsPerStep,
  rounds: { one: one.rounds, two: two.rounds },
  loadAverage: os.loadavg()[0],
  cpus: os.cpus().length,
};

const f = (x: number): string => (Math.round(x * 10) / 10).toString().padStart(8);
if (json) {
  console.log(JSON.stringify(out));
} else {
  console.log('Labyrinth real memory (median ns per pair; threads: million steps/s, best of rounds)');
  console.log(`core alloc_pages+__free_pages (no bytes)     ${f(r.coreOrder0PairNs)} ns`);
  console.log(`allocPages+freePages (address)               ${f(r.addressPairNs)} ns`);
  console.log(`allocPages+bytes(p,4096)+freePages (view)    ${f(r.viewPairNs)} ns   view/address ${out.viewOverAddressRatio.toFixed(2)}× (goal ≤ 2)`);
  console.log(`same, shared allocator (zone lock armed)     ${f(r.sharedViewPairNs)} ns`);
  console.log(`@thi.ng/malloc malloc/free 4 KiB             ${f(r.thingMallocPairNs)} ns`);
  console.log(`@thi.ng/malloc mallocAs('u8')/free(view)     ${f(r.thingMallocAsViewPairNs)} ns`);
  console.log(`new ArrayBuffer(4096) (GC)                   ${f(r.arrayBufferPairNs)} ns`);
  console.log(`Buffer.allocUnsafe(4096) (GC)                ${f(r.bufferAllocUnsafePairNs)} ns`);
  console.log(`heap growth, 10^6 address pairs after GC  ${f(r.heapGrowthAddressPairsBytes)} B`);
  console.log(`1 worker                                     ${f(one.bestMops)} M/s  (median ${one.medianMops.toFixed(1)})`);
  console.log(`2 workers                                    ${f(two.bestMops)} M/s  (median ${two.medianMops.toFixed(1)})  ${out.threads2OverThreads1.toFixed(2)}× (goal ≥ 1.7)`);
  console.log(`CPU time per step: 1 worker ${one.cpuNsPerStep.toFixed(0)} ns, 2 workers ${two.cpuNsPerStep.toFixed(0)} ns (equal = no cost of sharing)`);
  console.log(`machine: 2 threads of pure arithmetic        ${f(machine)} ×  (what this machine gives two threads right now)`);
  console.log(`load average ${out.loadAverage.toFixed(1)} on ${out.cpus} CPUs`);
}
