/**
 * Simulator throughput: allocation events (alloc_pages + __free_pages calls) per second of wall time, one core,
 * for each built-in scenario, and the wall time of the default scenario (target: ≥ 2 M events/s, default < 10 s).
 *
 *   node --import tsx bench/simulate.ts [--json] [--toy] [--no-pressure]
 *
 * `--toy` runs on the naive test allocator instead of the core (to measure the simulator's own overhead);
 * `--no-pressure` runs the core without kswapd/reclaim/compaction/OOM (the default runs them, as `simulate` does).
 */
import { performance } from 'node:perf_hooks';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO } from '../src/sim/scenarios.ts';
import { loadScenario, runScenario } from '../src/sim/run.ts';
import { parseSize } from '../src/sim/scenario.ts';
import { ToyAllocator } from '../test/_toy_allocator.ts';

const json = process.argv.includes('--json');
const toy = process.argv.includes('--toy');
const noPressure = process.argv.includes('--no-pressure');
const rows: Array<{ scenario: string; wallMs: number; allocs: number; frees: number; eventsPerSec: number; virtualS: number }> = [];
for (const name of Object.keys(BUILTIN_SCENARIOS)) {
  const spec = loadScenario(name);
  const t0 = performance.now();
  const r = runScenario(spec, {
    seed: 1,
    pressure: noPressure ? false : undefined,
    allocator: toy ? (s) => new ToyAllocator(parseSize(s.machine.mem) / 4096, s.machine.tunables['vm.min_free_kbytes'] ?? 4096) : undefined,
  });
  const wallMs = performance.now() - t0;
  const ev = r.totals.requests + r.totals.frees;
  rows.push({ scenario: name, wallMs: Math.round(wallMs), allocs: r.totals.requests, frees: r.totals.frees, eventsPerSec: Math.round(ev / (wallMs / 1000)), virtualS: r.durationMs / 1000 });
}
const def = rows.find((r) => r.scenario === DEFAULT_SCENARIO)!;
const total = rows.reduce((s, r) => s + r.allocs + r.frees, 0) / (rows.reduce((s, r) => s + r.wallMs, 0) / 1000);
if (json) {
  console.log(JSON.stringify({ allocator: toy ? 'toy' : 'core', pressure: !noPressure && !toy, defaultScenarioMs: def.wallMs, eventsPerSec: Math.round(total), scenarios: rows }));
} else {
  console.log(`allocator: ${toy ? 'toy (test oracle)' : 'core'}, pressure machinery ${!noPressure && !toy ? 'on' : 'off'}`);
  console.log('scenario           wall ms   allocs      frees    events/s   virtual s');
  for (const r of rows) console.log(`${r.scenario.padEnd(16)} ${String(r.wallMs).padStart(9)} ${String(r.allocs).padStart(9)} ${String(r.frees).padStart(10)} ${(r.eventsPerSec / 1e6).toFixed(2).padStart(9)}M ${String(r.virtualS).padStart(9)}`);
  console.log(`all: ${(total / 1e6).toFixed(2)} M allocation events/s; default scenario ${def.wallMs} ms (target < 10000)`);
}
