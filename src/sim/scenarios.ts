/**
 * The built-in scenarios: realistic stories as data (the shape is ScenarioSpec, documented in docs/scenarios.md).
 * `net-rx-storm` is the default.
 */
import { BadInputError } from '../errors.ts';
import type { ScenarioSpec } from './scenario.ts';

export const DEFAULT_SCENARIO = 'net-rx-storm';

const netRxStorm: ScenarioSpec = {
  name: 'net-rx-storm',
  title: 'Network RX storm: GFP_ATOMIC ring refills under page-cache and anonymous pressure',
  story:
    'A network driver refills its RX rings from softirq with GFP_ATOMIC order-0..3 pages (order 3 for jumbo frames), ' +
    'in bursts while traffic is on. A file copy fills the page cache and a user process grows its anonymous memory. ' +
    'Atomic requests cannot sleep or reclaim: once free memory sits near the watermarks they dig into the min ' +
    'reserve (GFP_ATOMIC may go down to 3/8 of min in 6.1) and then fail — the classic ' +
    '"page allocation failure: order:3, mode:0xa20(GFP_ATOMIC)".',
  machine: { mem: '1G', cpus: 2, kernel: '6.1', tunables: {} },
  speed: { reclaimPagesPerSec: 250_000, ioLatencyUs: 200 },
  durationMs: 10_000,
  sampleMs: 50,
  actors: [
    {
      name: 'rx-refill', comm: 'swapper/1', kind: 'tick', gfp: 'GFP_ATOMIC|__GFP_COMP', context: 'softirq', cpu: 1,
      order: [60, 10, 10, 20], periodMs: 2, burst: 256, holdMeanMs: 250, startMs: 1000, duty: { onMs: 600, offMs: 900 },
    },
    {
      name: 'cp', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      mibPerSec: 300, lru: 'file', dirtyFraction: 0.5,
    },
    {
      name: 'java', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0, chunk: 256,
      requestsPerSec: 60, maxHeldPercent: 35, onFull: 'replace-random', requestsPerSecWhenFull: 10, lru: 'anon',
    },
  ],
  headline: 'GFP_ATOMIC failures appear during the storm, at order 3, below the THP-raised default min_free_kbytes, and fall to none as vm.min_free_kbytes rises.',
};

const render: ScenarioSpec = {
  name: 'render',
  title: 'Rendering engine: large GFP_KERNEL buffers against frame deadlines',
  story:
    'A game renders at 60 frames per second: it allocates texture and command buffers of orders 4..10 (64 KiB to ' +
    '4 MiB) with GFP_KERNEL and keeps each about half a second, while its asset loader streams files into the page ' +
    'cache, the game\'s anonymous memory churns in 64 KiB mappings, and the kernel accumulates objects for the ' +
    'loaded files and the GPU driver (unmovable slab of orders 0..2, reclaimable dentries and inodes). Memory ' +
    'fills with page cache and kswapd keeps free memory between the watermarks, but the long-lived kernel objects ' +
    'scatter through the pageblocks, so blocks of order 9 and 10 are rare. A request whose order has no free block ' +
    'takes the slow path: direct compaction (async first, for costly orders), direct reclaim, compaction again, ' +
    'then it gives up (GFP_KERNEL above order 3 does not retry). Its latency is the virtual time that took, judged ' +
    'against the 16.7 ms frame budget: the misses fall on the largest orders.',
  machine: { mem: '1G', cpus: 2, kernel: '6.1', tunables: {} },
  // migrating a page costs 10 µs on this busy 2-CPU desktop: 6.1 unmaps, flushes the TLB (an IPI to the other
  // CPU running the game) and remaps page by page; batched flushing came in 6.3. Not calibrated against a capture.
  speed: { reclaimPagesPerSec: 250_000, ioLatencyUs: 200, migrateUsPerPage: 10 },
  durationMs: 10_000,
  sampleMs: 50,
  actors: [
    {
      name: 'renderer', comm: 'render', kind: 'stream', gfp: 'GFP_KERNEL|__GFP_COMP', context: 'process', cpu: 0,
      order: [0, 0, 0, 0, 30, 25, 20, 10, 8, 5, 2], requestsPerSec: 480, holdMeanMs: 500, deadlineMs: 16.7,
    },
    {
      name: 'assets', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0,
      mibPerSec: 150, lru: 'file',
    },
    {
      name: 'scene', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0, chunk: 16,
      requestsPerSec: 640, maxHeldPercent: 30, onFull: 'replace-random', requestsPerSecWhenFull: 80, lru: 'anon',
    },
    {
      name: 'kobjs', comm: 'kworker/1:2', kind: 'stream', gfp: 'GFP_KERNEL', context: 'process', cpu: 1,
      order: [70, 20, 10], requestsPerSec: 4_000, arrival: 'poisson', holdMeanMs: 30_000,
    },
    {
      name: 'vfs', comm: 'loader', kind: 'stream', gfp: 'GFP_KERNEL|__GFP_RECLAIMABLE', context: 'process', cpu: 1,
      order: 0, requestsPerSec: 3_000, arrival: 'poisson', holdMeanMs: 20_000,
    },
  ],
  headline: 'Order ≥ 4 GFP_KERNEL requests that find no free block of their order stall in direct compaction and reclaim; the frame misses fall on the largest orders and latency grows with order.',
};

const secureEnclave: ScenarioSpec = {
  name: 'secure-enclave',
  title: 'Secure enclave: exclusive pages (__GFP_EXCL) under global pressure',
  story:
    'A labyrinth (an isolated memory domain) holds exclusive pages — never shared, off the direct map, unmovable, ' +
    'reachable only through their key — for key material and packet buffers. enclave-rx refills packet buffers from ' +
    'softirq in storms, with atomic exclusive requests (GFP_ATOMIC|__GFP_EXCL, orders 0..3, order 3 for jumbo ' +
    'frames) that must not fail, backed by an exclusive mempool of 1024 blocks per order; enclave-keys allocates ' +
    'key pages with sleeping exclusive requests. Both go through the labyrinth and free with the keys they keep. ' +
    'A backup writing files (half of them dirty) and a database push the rest of the machine to its watermarks, ' +
    'so kswapd reclaims the page cache. Look at the atomic exclusive failure rate with the mempool and without ' +
    '(a JSON copy with "mempool": 0), the mempool hits, and the isolation checks in --json (`labyrinth`): after ' +
    'the run no live exclusive page is reachable without its key. A small pool can do worse than none: ' +
    'mempool_alloc adds __GFP_NOMEMALLOC, so its first try gets less of the reserves than a plain GFP_ATOMIC.',
  machine: { mem: '600M', cpus: 2, kernel: '6.1', tunables: {} },
  speed: { reclaimPagesPerSec: 250_000, ioLatencyUs: 200 },
  durationMs: 8_000,
  sampleMs: 50,
  actors: [
    {
      name: 'enclave-rx', comm: 'swapper/1', kind: 'tick', gfp: 'GFP_ATOMIC|__GFP_EXCL', context: 'softirq', cpu: 1,
      // 30 % jumbo frames (order 3): enough that kcompactd, woken by kswapd, cannot rebuild order-3 blocks fast enough
      order: [50, 10, 10, 30], periodMs: 2, burst: 128, holdMeanMs: 250, startMs: 1000, duty: { onMs: 600, offMs: 900 },
      mempool: 1024,
    },
    {
      name: 'enclave-keys', comm: 'enclave', kind: 'stream', gfp: 'GFP_KERNEL|__GFP_EXCL', context: 'process', cpu: 0,
      order: 0, requestsPerSec: 200, holdMeanMs: 2000,
    },
    {
      name: 'backup', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      mibPerSec: 300, lru: 'file', dirtyFraction: 0.5,
    },
    {
      name: 'db', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0, chunk: 256,
      requestsPerSec: 50, maxHeldPercent: 40, onFull: 'replace-random', requestsPerSecWhenFull: 10, lru: 'anon',
    },
  ],
  headline: 'Atomic exclusive requests fail at order 3 during the storms without a mempool, and not with one; no exclusive page is reachable without its key.',
};

const fragmentation: ScenarioSpec = {
  name: 'fragmentation',
  title: 'Fragmentation: mixed lifetimes, huge-page success over time',
  story:
    'A long-running machine: short-lived and long-lived movable pages, long-lived unmovable kernel objects of ' +
    'orders 0..2 (slab-like), a backup streaming files through the page cache so memory stays full, and ' +
    'khugepaged collapsing huge pages (order 9, GFP_TRANSHUGE: direct reclaim and compaction allowed). As ' +
    'long-lived unmovable pages scatter across pageblocks, order-0 requests keep succeeding but order-9 blocks ' +
    'vanish; direct compaction migrates the movable pages (the page cache, the short- and long-lived anonymous ' +
    'memory) out of the way and wins them back. Run it with --set vm.extfrag_threshold=1000 (no compaction ' +
    'above order 3) to see order-9 failures appear and grow over time.',
  machine: { mem: '1G', cpus: 2, kernel: '6.1', tunables: {} },
  speed: { reclaimPagesPerSec: 250_000, ioLatencyUs: 200 },
  durationMs: 30_000,
  sampleMs: 100,
  actors: [
    {
      name: 'short', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      requestsPerSec: 40_000, arrival: 'poisson', holdMeanMs: 800,
    },
    {
      name: 'long', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0,
      requestsPerSec: 5_000, holdMeanMs: 20_000,
    },
    {
      name: 'slab', comm: 'kworker/0:1', kind: 'stream', gfp: 'GFP_KERNEL', context: 'process', cpu: 0,
      order: [70, 20, 10], requestsPerSec: 1_500, arrival: 'poisson', holdMeanMs: 60_000,
    },
    {
      name: 'thp', comm: 'khugepaged', kind: 'stream', gfp: 'GFP_TRANSHUGE', context: 'process', cpu: 1,
      order: 9, requestsPerSec: 20, holdMeanMs: 5_000,
    },
    {
      // a backup job streams files through the page cache: memory stays full, kswapd keeps reclaiming
      name: 'cache', comm: 'tar', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      mibPerSec: 60, lru: 'file',
    },
  ],
  headline: 'Compaction migrates movable pages and keeps order-9 requests succeeding; without it (vm.extfrag_threshold=1000) order-9 success falls over time. Order-0 requests never fail.',
};

const oom: ScenarioSpec = {
  name: 'oom',
  title: 'OOM: a leak until the OOM killer acts',
  story:
    'A process leaks anonymous memory at 100 MiB/s beside a steady service. Page cache is reclaimed first; with no ' +
    'swap the anonymous pages cannot be; direct reclaim stops making progress and the OOM killer picks the task ' +
    'with the largest badness — the leaker — and frees everything it holds.',
  machine: { mem: '1G', cpus: 2, kernel: '6.1', tunables: {} },
  speed: { reclaimPagesPerSec: 250_000, ioLatencyUs: 200 },
  durationMs: 15_000,
  sampleMs: 50,
  actors: [
    {
      name: 'leaker', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      mibPerSec: 100, lru: 'anon', startMs: 1000,
    },
    {
      name: 'service', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0, chunk: 256,
      requestsPerSec: 20, maxHeldPercent: 15, onFull: 'replace-random', lru: 'anon', oomScoreAdj: -500,
    },
    {
      name: 'logs', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0,
      mibPerSec: 20, lru: 'file',
    },
  ],
  headline: 'Once the leak exhausts memory, GFP_KERNEL-class requests would fail without the OOM killer; with it, the leaker is killed.',
};

/**
 * Reproduces ../shared/fixtures/linux-6.1-atomic (README there): 512M, no swap, one CPU; a softirq timer makes
 * 1024 GFP_ATOMIC order-0 calls every 64 ms, holds each page 500 ms, on 500 ms / off 1500 ms for 12 s, while
 * userspace reads a file larger than RAM at ~390 MiB/s (page-cache churn) and holds 60 % of MemTotal anonymous
 * memory in 1 MiB chunks, replacing one random chunk every 8 MiB read.
 */
const atomic512m: ScenarioSpec = {
  name: 'atomic-512m',
  title: 'The real GFP_ATOMIC storm of linux-6.1-atomic (512M): failure rate vs vm.min_free_kbytes',
  story:
    'The fixture run: 1024 GFP_ATOMIC order-0 pages per 64 ms softirq tick, held 500 ms, 500/1500 ms duty cycle, ' +
    'under page-cache churn and 60 % anonymous memory, on 512 MiB with no swap. The real kernel failed ≈32 % of ' +
    'the storm\'s requests at the default min_free_kbytes 2596, ≈4.5 % at 3894 and none from 5192 up: kswapd ' +
    'refills between bursts, and a larger min reserve lets the bursts ride it out.',
  // The fixture guest's zones (snap/00_boot/zoneinfo): it manages 9 219 fewer DMA32 pages than our qemu `pc`
  // 512M layout (its boot reserved more), which moves every watermark. DMA32 managed at boot is fitted: the
  // kernel's int_sqrt gives the guest's boot min_free_kbytes 2596 (DMA 23/28/33, DMA32 625/781/937) only for
  // 101 461..101 541 pages.
  machine: {
    mem: '512M', cpus: 1, kernel: '6.1', tunables: {},
    zones: [
      { zone: 'DMA', startPfn: 1, spanned: 4095, present: 3998, managed: 3840 },
      { zone: 'DMA32', startPfn: 4096, spanned: 126938, present: 126938, managed: 104042, managedAtBoot: 101500 },
    ],
  },
  // Machine speed measured on the fixture (docs/scenarios.md): reclaim throughput from its direct-reclaim trace.
  speed: { reclaimPagesPerSec: 470_000, ioLatencyUs: 100 },
  durationMs: 15_500,
  sampleMs: 50,
  pageMapAtMs: [3_000, 3_500, 15_500],
  actors: [
    {
      name: 'storm', comm: 'swapper/0', kind: 'tick', gfp: 'GFP_ATOMIC', context: 'softirq', cpu: 0, order: 0,
      periodMs: 64, burst: 1024, holdMs: 500, startMs: 3_000, stopMs: 15_000, duty: { onMs: 500, offMs: 1500 },
    },
    {
      // cat of a 1.5 GiB file: read-ahead pages (mapping gfp | __GFP_NORETRY | __GFP_NOWARN on the readahead path)
      name: 'reader', comm: 'cat', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      mibPerSec: 490, lru: 'file',
    },
    {
      name: 'anon', comm: 'stormload', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0,
      chunk: 256, requestsPerSec: 400, startMs: 600, maxHeldPercent: 60, onFull: 'replace-random',
      requestsPerSecWhenFull: 49, lru: 'anon',
    },
  ],
  headline: 'Storm failures ≈32 % at min_free_kbytes 2596, ≈4.5 % at 3894, 0 from 5192 up (real kernel, 3 repeats each).',
};

export const BUILTIN_SCENARIOS: Readonly<Record<string, ScenarioSpec>> = {
  'net-rx-storm': netRxStorm,
  render,
  'secure-enclave': secureEnclave,
  fragmentation,
  oom,
  'atomic-512m': atomic512m,
};

/** A deep copy of a built-in scenario. */
export function builtinScenario(name: string): ScenarioSpec {
  const s = BUILTIN_SCENARIOS[name];
  if (!s) {
    throw new BadInputError('unknown-scenario', `Cannot run scenario "${name}": because it is neither built in (${Object.keys(BUILTIN_SCENARIOS).join(', ')}) nor a .json file`);
  }
  return structuredClone(s);
}
