/**
 * Simulator throughput: allocation events (alloc_pages + __free_pages calls) per second, one core, for each
 * built-in scenario, and the time of the default scenario (target: ≥ 2 M events/s, default < 10 s).
 * Each scenario is measured in wall time (performance.now) and in CPU time (process.cpuUsage, user + system),
 * so that waiting for a CPU on a loaded machine does not count in the CPU column.
 *
 *   node --import tsx bench/simulate.ts [--json] [--toy] [--no-pressure] [--only NAME] [--no-kmem] [--repeat N]
 *
 * `--toy` runs on the naive test allocator instead of the core (to measure the simulator's own overhead);
 * `--no-pressure` runs the core without kswapd/reclaim/compaction/OOM (the default runs them, as `simulate` does);
 * `--only NAME` runs one scenario; `--no-kmem` skips the kmem counting run (its columns read n/a).
 * `--repeat N` (default 3) times each scenario N times and keeps the run with the least CPU time (best of N:
 * every run does the same work, so the fastest is the one least disturbed by other processes and GC timing).
 *
 * Two definitions of "allocation event", both reported:
 * - workload events: the scenario's own requests + frees (r.totals.requests + r.totals.frees), what the
 *   actors ask for;
 * - kmem events: what `perf stat -e kmem:mm_page_alloc,kmem:mm_page_free` would count on a real kernel —
 *   every mm_page_alloc (each alloc_pages call, failed ones included, as the kernel fires it) and every
 *   mm_page_free (each page block freed, __free_pages and the batched frees alike) the whole simulation
 *   makes, reclaim's, compaction's and the slow path's included. Counted on a separate run of the same
 *   seed with the core's kmem tracepoint hook (PageAllocator.setTracer) on; runs are deterministic, and the
 *   timed run has the tracer off. Not counted with --toy (no tracepoints).
 *   The slow path (src/alloc/slowpath.ts) fires mm_page_alloc once per request when it ends, as __alloc_pages does.
 *   Exclusive (labyrinth) allocations fire no tracepoint and are not counted.
 */
import { performance } from 'node:perf_hooks';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO } from '../src/sim/scenarios.ts';
import { loadScenario, runScenario } from '../src/sim/run.ts';
import { parseSize } from '../src/sim/scenario.ts';
import { createSimAllocator } from '../src/sim/machine.ts';
import type { KmemTracepoints } from '../src/mm/memmap.ts';
import { ToyAllocator } from '../test/_toy_allocator.ts';

const json = process.argv.includes('--json');
const toy = process.argv.includes('--toy');
const noPressure = process.argv.includes('--no-pressure');
const noKmem = process.argv.includes('--no-kmem');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const repeatAt = process.argv.indexOf('--repeat');
const repeat = repeatAt >= 0 ? Math.max(1, Number(process.argv[repeatAt + 1]) | 0) : 3;
interface Row {
  scenario: string; wallMs: number; cpuMs: number; allocs: number; frees: number; eventsPerSec: number; eventsPerCpuSec: number; virtualS: number;
  /** mm_page_alloc hits (failed allocations included), mm_page_free hits, and their sum per CPU second; null with --toy. */
  kmemPageAlloc: number | null; kmemPageAllocFailed: number | null; kmemPageFree: number | null; kmemEvents: number | null; kmemEventsPerCpuSec: number | null;
}

/** Counts mm_page_alloc and mm_page_free hits, as `perf stat -e kmem:mm_page_alloc,kmem:mm_page_free` would. */
class KmemCounter implements KmemTracepoints {
  alloc = 0;
  allocFailed = 0;
  free = 0;
  pageAlloc(pfn: number): void { this.alloc++; if (pfn < 0) this.allocFailed++; }
  pageFree(): void { this.free++; }
  pageFreeBatched(): void {}
  pageAllocZoneLocked(): void {}
  pagePcpuDrain(): void {}
  pageAllocExtfrag(): void {}
}

const rows: Row[] = [];
for (const name of Object.keys(BUILTIN_SCENARIOS)) {
  if (only !== undefined && name !== only) continue;
  const spec = loadScenario(name);
  let kmem: KmemCounter | null = null;
  if (!toy && !noKmem) {
    // the counting run: the same seed and options as the timed run below, with the kmem tracepoints on
    const counter = new KmemCounter();
    const pressure: false | undefined = noPressure ? false : undefined;
    runScenario(spec, {
      seed: 1,
      pressure,
      allocator: (s) => {
        const a = createSimAllocator(s.machine);
        a.pa.setTracer(counter);
        return a;
      },
    });
    kmem = counter;
  }
  let best: { wallMs: number; cpuMs: number; r: ReturnType<typeof runScenario> } | null = null;
  for (let k = 0; k < repeat; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = runScenario(spec, {
      seed: 1,
      pressure: noPressure ? false : undefined,
      allocator: toy ? (s) => new ToyAllocator(parseSize(s.machine.mem) / 4096, s.machine.tunables['vm.min_free_kbytes'] ?? 4096) : undefined,
    });
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    if (best === null || cpuMs < best.cpuMs) best = { wallMs, cpuMs, r };
  }
  const { wallMs, cpuMs, r } = best!;
  const ev = r.totals.requests + r.totals.frees;
  rows.push({
    scenario: name, wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs), allocs: r.totals.requests, frees: r.totals.frees,
    eventsPerSec: Math.round(ev / (wallMs / 1000)), eventsPerCpuSec: Math.round(ev / (cpuMs / 1000)), virtualS: r.durationMs / 1000,
    kmemPageAlloc: kmem?.alloc ?? null, kmemPageAllocFailed: kmem?.allocFailed ?? null, kmemPageFree: kmem?.free ?? null,
    kmemEvents: kmem ? kmem.alloc + kmem.free : null,
    kmemEventsPerCpuSec: kmem ? Math.round((kmem.alloc + kmem.free) / (cpuMs / 1000)) : null,
  });
}
const def = rows.find((r) => r.scenario === DEFAULT_SCENARIO);
const events = rows.reduce((s, r) => s + r.allocs + r.frees, 0);
const total = events / (rows.reduce((s, r) => s + r.wallMs, 0) / 1000);
const totalCpu = events / (rows.reduce((s, r) => s + r.cpuMs, 0) / 1000);
const kmemEvents = toy || noKmem ? null : rows.reduce((s, r) => s + (r.kmemEvents ?? 0), 0);
const kmemTotalCpu = kmemEvents === null ? null : kmemEvents / (rows.reduce((s, r) => s + r.cpuMs, 0) / 1000);
const fmtM = (v: number | null, w: number): string => (v === null ? 'n/a' : (v / 1e6).toFixed(2) + 'M').padStart(w);
if (json) {
  console.log(JSON.stringify({
    allocator: toy ? 'toy' : 'core', pressure: !noPressure && !toy, repeat, defaultScenarioMs: def?.wallMs, defaultScenarioCpuMs: def?.cpuMs,
    eventsPerSec: Math.round(total), eventsPerCpuSec: Math.round(totalCpu),
    kmemEventsPerCpuSec: kmemTotalCpu === null ? null : Math.round(kmemTotalCpu), scenarios: rows,
  }));
} else {
  console.log(`allocator: ${toy ? 'toy (test oracle)' : 'core'}, pressure machinery ${!noPressure && !toy ? 'on' : 'off'}; each scenario timed ${repeat}× (best CPU time kept)`);
  console.log('workload events = the scenario\'s requests + frees; kmem events = mm_page_alloc + mm_page_free hits (perf stat -e kmem:mm_page_alloc,kmem:mm_page_free), counted on a separate traced run');
  console.log('scenario           wall ms    cpu ms   allocs      frees  workload ev/s wall  workload ev/s cpu  kmem events  kmem events/s (CPU)  virtual s');
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(16)} ${String(r.wallMs).padStart(9)} ${String(r.cpuMs).padStart(9)} ${String(r.allocs).padStart(9)} ${String(r.frees).padStart(10)} ${fmtM(r.eventsPerSec, 18)} ${fmtM(r.eventsPerCpuSec, 18)} ${String(r.kmemEvents ?? 'n/a').padStart(12)} ${fmtM(r.kmemEventsPerCpuSec, 20)} ${String(r.virtualS).padStart(10)}`);
  }
  console.log(`all: workload ${(total / 1e6).toFixed(2)} M events/s wall, ${(totalCpu / 1e6).toFixed(2)} M/s CPU; kmem ${fmtM(kmemTotalCpu, 0)}/s CPU` +
    (def ? `; default scenario ${def.wallMs} ms wall, ${def.cpuMs} ms CPU (target < 10000)` : ''));
}
