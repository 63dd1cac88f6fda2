/**
 * Simulator throughput: allocation events (alloc_pages + __free_pages calls) per second, one core, for each
 * built-in scenario, and the time of the default scenario (target: ≥ 2 M events/s, default < 10 s).
 * Each scenario is measured in wall time (performance.now) and in CPU time (process.cpuUsage, user + system),
 * so that waiting for a CPU on a loaded machine does not count in the CPU column.
 *
 *   node --import tsx bench/simulate.ts [--json] [--toy] [--no-pressure] [--only NAME]
 *
 * `--toy` runs on the naive test allocator instead of the core (to measure the simulator's own overhead);
 * `--no-pressure` runs the core without kswapd/reclaim/compaction/OOM (the default runs them, as `simulate` does);
 * `--only NAME` runs one scenario.
 */
import { performance } from 'node:perf_hooks';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO } from '../src/sim/scenarios.ts';
import { loadScenario, runScenario } from '../src/sim/run.ts';
import { parseSize } from '../src/sim/scenario.ts';
import { ToyAllocator } from '../test/_toy_allocator.ts';

const json = process.argv.includes('--json');
const toy = process.argv.includes('--toy');
const noPressure = process.argv.includes('--no-pressure');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
interface Row { scenario: string; wallMs: number; cpuMs: number; allocs: number; frees: number; eventsPerSec: number; eventsPerCpuSec: number; virtualS: number }
const rows: Row[] = [];
for (const name of Object.keys(BUILTIN_SCENARIOS)) {
  if (only !== undefined && name !== only) continue;
  const spec = loadScenario(name);
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
  const ev = r.totals.requests + r.totals.frees;
  rows.push({
    scenario: name, wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs), allocs: r.totals.requests, frees: r.totals.frees,
    eventsPerSec: Math.round(ev / (wallMs / 1000)), eventsPerCpuSec: Math.round(ev / (cpuMs / 1000)), virtualS: r.durationMs / 1000,
  });
}
const def = rows.find((r) => r.scenario === DEFAULT_SCENARIO);
const events = rows.reduce((s, r) => s + r.allocs + r.frees, 0);
const total = events / (rows.reduce((s, r) => s + r.wallMs, 0) / 1000);
const totalCpu = events / (rows.reduce((s, r) => s + r.cpuMs, 0) / 1000);
if (json) {
  console.log(JSON.stringify({
    allocator: toy ? 'toy' : 'core', pressure: !noPressure && !toy, defaultScenarioMs: def?.wallMs, defaultScenarioCpuMs: def?.cpuMs,
    eventsPerSec: Math.round(total), eventsPerCpuSec: Math.round(totalCpu), scenarios: rows,
  }));
} else {
  console.log(`allocator: ${toy ? 'toy (test oracle)' : 'core'}, pressure machinery ${!noPressure && !toy ? 'on' : 'off'}`);
  console.log('scenario           wall ms    cpu ms   allocs      frees  events/s wall  events/s cpu  virtual s');
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(16)} ${String(r.wallMs).padStart(9)} ${String(r.cpuMs).padStart(9)} ${String(r.allocs).padStart(9)} ${String(r.frees).padStart(10)} ${(r.eventsPerSec / 1e6).toFixed(2).padStart(13)}M ${(r.eventsPerCpuSec / 1e6).toFixed(2).padStart(12)}M ${String(r.virtualS).padStart(10)}`);
  }
  console.log(`all: ${(total / 1e6).toFixed(2)} M allocation events/s wall, ${(totalCpu / 1e6).toFixed(2)} M/s CPU` +
    (def ? `; default scenario ${def.wallMs} ms wall, ${def.cpuMs} ms CPU (target < 10000)` : ''));
}
