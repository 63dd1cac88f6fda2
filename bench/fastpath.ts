/**
 * CPU time per order-0 alloc+free pair and per churn step (8192 live pages, a random one freed and
 * replaced each step), from process.cpuUsage around plain loops — a check on bench/run.ts's
 * wall-clock medians when the machine is loaded. Prints the median of the rounds.
 *
 *   node --import tsx bench/fastpath.ts [--ops 10000000] [--rounds 5] [--json]
 */
import { createPageAllocator } from '../src/alloc/allocator.ts';
import { GFP_KERNEL } from '../src/gfp/bits.ts';

const argv = process.argv;
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = opt('--ops', 1e7);
const rounds = opt('--rounds', 5);
const a = createPageAllocator({ mem: '1G' }).kernel;

function pair(n: number): void {
  for (let i = 0; i < n; i++) {
    const p = a.alloc_pages(GFP_KERNEL, 0, 0);
    a.__free_pages(p, 0, 0);
  }
}
function churn(n: number, live: Int32Array): void {
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x & 8191;
    a.__free_pages(live[j]!, 0, 0);
    live[j] = a.alloc_pages(GFP_KERNEL, 0, 0);
  }
}
const cpuNs = (f: () => void, ops: number): number => {
  const c = process.cpuUsage();
  f();
  const d = process.cpuUsage(c);
  return ((d.user + d.system) * 1000) / ops;
};
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;

const live = new Int32Array(8192);
for (let i = 0; i < live.length; i++) live[i] = a.alloc_pages(GFP_KERNEL, 0, 0);
pair(1e6);
churn(1e6, live);
const pairs: number[] = [];
const churns: number[] = [];
for (let r = 0; r < rounds; r++) {
  pairs.push(cpuNs(() => pair(N), N));
  churns.push(cpuNs(() => churn(N, live), N));
}
const out = { order0PairCpuNs: +median(pairs).toFixed(1), order0ChurnCpuNs: +median(churns).toFixed(1), ops: N, rounds };
if (argv.includes('--json')) console.log(JSON.stringify(out));
else console.log(`order-0 pair ${out.order0PairCpuNs} ns CPU, churn step ${out.order0ChurnCpuNs} ns CPU (median of ${rounds} x ${N})`);
