/**
 * Core allocator benchmark (issue 3): order-0 pairs through the pcp fast path, order-0 churn, mixed-order
 * churn, peers (@thi.ng/malloc, ArrayBuffer, Buffer.allocUnsafe, a JS stack), the 64 GiB build, metadata
 * bytes per page and heap growth over 10^6 fast-path pairs.
 *
 *   npm run bench            # table
 *   npm run -s bench -- --json   # one JSON object on the last line
 *
 * Each contender is its own function (V8 would otherwise share compiled code between them); timings are
 * mitata medians (p50) per operation pair.
 */
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { measure, do_not_optimize } from 'mitata';
import { MemPool } from '@thi.ng/malloc';
import { createPageAllocator } from '../src/alloc/allocator.ts';
import { GFP_KERNEL, __GFP_NOWARN } from '../src/gfp/bits.ts';
import type { PageAllocator } from '../src/alloc/page_alloc.ts';

const json = process.argv.includes('--json');
const gc = (globalThis as { gc?: () => void }).gc;

function machine1G(): PageAllocator {
  return createPageAllocator({ mem: '1G' }).kernel;
}

// --- contenders ------------------------------------------------------------------------------

async function order0Pair(): Promise<number> {
  const a = machine1G();
  const gfp = GFP_KERNEL;
  const s = await measure(() => {
    const p = a.alloc_pages(gfp, 0, 0);
    a.__free_pages(p, 0, 0);
  });
  return s.p50;
}

async function order0Churn(): Promise<number> {
  // 50 % of 64 MiB live: 8192 order-0 pages held; each step frees a random one and allocates a new one.
  const a = machine1G();
  const live = new Int32Array(8192);
  for (let i = 0; i < live.length; i++) live[i] = a.alloc_pages(GFP_KERNEL, 0, 0);
  let x = 0x9e3779b9;
  const s = await measure(() => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const i = (x >>> 0) & 8191;
    a.__free_pages(live[i]!, 0, 0);
    live[i] = a.alloc_pages(GFP_KERNEL, 0, 0);
  });
  return s.p50;
}

async function mixedChurn(): Promise<number> {
  // orders 0..10 uniformly, 512 live blocks on a 1 GiB machine (~37 % of memory live)
  const a = machine1G();
  const gfp = GFP_KERNEL | __GFP_NOWARN;
  const pfns = new Int32Array(512);
  const orders = new Int8Array(512);
  let x = 0x2545f491;
  for (let i = 0; i < 512; i++) {
    orders[i] = i % 11;
    pfns[i] = a.alloc_pages(gfp, orders[i]!, 0);
  }
  const s = await measure(() => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const i = (x >>> 0) & 511;
    if (pfns[i]! >= 0) a.__free_pages(pfns[i]!, orders[i]!, 0);
    const o = ((x >>> 9) & 0xffff) % 11;
    orders[i] = o;
    pfns[i] = a.alloc_pages(gfp, o, 0);
  });
  return s.p50;
}

async function thingMallocPair(): Promise<number> {
  const pool = new MemPool({ size: 64 * 1024 * 1024 });
  const s = await measure(() => {
    const p = pool.malloc(4096);
    pool.free(p);
  });
  return s.p50;
}

async function arrayBufferPair(): Promise<number> {
  const s = await measure(() => {
    do_not_optimize(new ArrayBuffer(4096));
  });
  return s.p50;
}

async function bufferAllocUnsafePair(): Promise<number> {
  const s = await measure(() => {
    do_not_optimize(Buffer.allocUnsafe(4096));
  });
  return s.p50;
}

async function jsStackPair(): Promise<number> {
  const stack = new Int32Array(1 << 16);
  let top = stack.length;
  for (let i = 0; i < stack.length; i++) stack[i] = i;
  const s = await measure(() => {
    const p = stack[--top]!;
    stack[top++] = p;
  });
  return s.p50;
}

function build64G(): { ms: number; cpuMs: number; bytesPerPage: number } {
  const times: number[] = [];
  const cpu: number[] = [];
  let bytesPerPage = 0;
  for (let i = 0; i < 5; i++) {
    gc?.();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const mm = createPageAllocator({ mem: '64G' });
    const c1 = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c1.user + c1.system) / 1000);
    bytesPerPage = mm.kernel.metadataBytes().perPage;
  }
  times.sort((p, q) => p - q);
  cpu.sort((p, q) => p - q);
  return { ms: times[2]!, cpuMs: cpu[2]!, bytesPerPage };
}

function heapGrowth(): number {
  const a = machine1G();
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const p = a.alloc_pages(GFP_KERNEL, 0, 0);
      a.__free_pages(p, 0, 0);
    }
  };
  run(100_000); // warm up (JIT)
  gc?.();
  gc?.();
  const h0 = process.memoryUsage().heapUsed;
  run(1_000_000);
  gc?.();
  gc?.();
  const h1 = process.memoryUsage().heapUsed;
  return Math.max(0, h1 - h0);
}

// --- run -------------------------------------------------------------------------------------

const r = {
  order0PairNs: await order0Pair(),
  order0ChurnNs: await order0Churn(),
  mixedChurnNs: await mixedChurn(),
  thingMallocPairNs: await thingMallocPair(),
  arrayBufferPairNs: await arrayBufferPair(),
  bufferAllocUnsafePairNs: await bufferAllocUnsafePair(),
  jsStackPairNs: await jsStackPair(),
  build64GMs: 0,
  build64GCpuMs: 0,
  bytesPerPage: 0,
  heapGrowthBytes: heapGrowth(),
  gcExposed: gc !== undefined,
  node: process.version,
  /** 1-minute load average while running: the 2-core machine is shared, so wall-clock numbers inflate with it. */
  loadAvg1: os.loadavg()[0]!,
};
const b = build64G();
r.build64GMs = b.ms;
r.build64GCpuMs = b.cpuMs;
r.bytesPerPage = b.bytesPerPage;

const round = (v: number) => Math.round(v * 100) / 100;
if (json) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'number' ? round(v) : v;
  console.log(JSON.stringify(out));
} else {
  console.log('Labyrinth core allocator (median per operation pair; targets from issue 3)');
  console.log(`order-0 alloc+free (pcp fast path)   ${round(r.order0PairNs).toString().padStart(8)} ns   target ≤ 10`);
  console.log(`order-0 churn, 8192 live pages       ${round(r.order0ChurnNs).toString().padStart(8)} ns   target ≤ 25`);
  console.log(`mixed orders 0..10 churn             ${round(r.mixedChurnNs).toString().padStart(8)} ns   target ≤ 100`);
  console.log(`@thi.ng/malloc 4 KiB (64 MiB pool)   ${round(r.thingMallocPairNs).toString().padStart(8)} ns`);
  console.log(`new ArrayBuffer(4096)                ${round(r.arrayBufferPairNs).toString().padStart(8)} ns`);
  console.log(`Buffer.allocUnsafe(4096)             ${round(r.bufferAllocUnsafePairNs).toString().padStart(8)} ns`);
  console.log(`JS stack of page numbers (bound)     ${round(r.jsStackPairNs).toString().padStart(8)} ns`);
  console.log(`build 64 GiB machine (wall)          ${round(r.build64GMs).toString().padStart(8)} ms   target ≤ 300`);
  console.log(`build 64 GiB machine (CPU)           ${round(r.build64GCpuMs).toString().padStart(8)} ms`);
  console.log(`metadata per page                    ${round(r.bytesPerPage).toString().padStart(8)} B    target ≤ 12`);
  console.log(`heap growth over 10^6 pairs          ${String(r.heapGrowthBytes).padStart(8)} B    target 0${r.gcExposed ? '' : ' (run with --expose-gc)'}`);
  console.log(`load average (1 min)                 ${round(r.loadAvg1).toString().padStart(8)}`);
}
