/**
 * CPU time per mixed-order churn step (orders 0..10, 512 live blocks on a 1 GiB machine: a random block
 * freed and replaced by one of a random order each step), the same pattern as bench/run.ts's `mixedChurn`,
 * from process.cpuUsage around a plain loop. Prints the median of the rounds.
 *
 *   node --import tsx bench/mixed.ts [--ops 3000000] [--rounds 5] [--json]
 */
import { createPageAllocator } from '../src/alloc/allocator.ts';
import { GFP_KERNEL, __GFP_NOWARN } from '../src/gfp/bits.ts';

const argv = process.argv;
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = opt('--ops', 3e6);
const rounds = opt('--rounds', 5);
const a = createPageAllocator({ mem: '1G' }).kernel;
const gfp = GFP_KERNEL | __GFP_NOWARN;
const pfns = new Int32Array(512);
const orders = new Int8Array(512);
for (let i = 0; i < 512; i++) {
  orders[i] = i % 11;
  pfns[i] = a.alloc_pages(gfp, orders[i]!, 0);
}
let x = 0x2545f491;
function churn(n: number): void {
  for (let k = 0; k < n; k++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const i = (x >>> 0) & 511;
    if (pfns[i]! >= 0) a.__free_pages(pfns[i]!, orders[i]!, 0);
    const o = ((x >>> 9) & 0xffff) % 11;
    orders[i] = o;
    pfns[i] = a.alloc_pages(gfp, o, 0);
  }
}
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
churn(5e5);
const r: number[] = [];
for (let k = 0; k < rounds; k++) {
  const c = process.cpuUsage();
  churn(N);
  const d = process.cpuUsage(c);
  r.push(((d.user + d.system) * 1000) / N);
}
const out = { mixedChurnCpuNs: +median(r).toFixed(1), ops: N, rounds };
if (argv.includes('--json')) console.log(JSON.stringify(out));
else console.log(`mixed churn step ${out.mixedChurnCpuNs} ns CPU (median of ${rounds} x ${N})`);
