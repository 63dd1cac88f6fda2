/**
 * One simulation end to end: resolve the scenario (built-in name or JSON file), apply command-line overrides,
 * build the machine, run. Shared by the CLI, `npm start`, the sweep workers and the benchmark.
 */
import { readFileSync } from 'node:fs';
import { BadInputError } from '../errors.ts';
import { createSimAllocator } from './machine.ts';
import type { PressureMachinery, SimAllocator } from './machinery.ts';
import { parseDuration, parseSetting, validateScenario, type ScenarioSpec } from './scenario.ts';
import { builtinScenario, DEFAULT_SCENARIO } from './scenarios.ts';
import { simulate, type HeldPagesView, type SimResult } from './simulator.ts';
import { createPressureMachinery } from './pressure_machinery.ts';

export interface RunOverrides {
  mem?: string;
  kernel?: string;
  cpus?: number;
  duration?: string;
  /** `vm.min_free_kbytes=N` … */
  set?: string[];
}

/** A built-in scenario by name, or a user's scenario from a .json file. */
export function loadScenario(nameOrFile: string | undefined): ScenarioSpec {
  const n = nameOrFile ?? DEFAULT_SCENARIO;
  if (n.endsWith('.json')) {
    let text: string;
    try {
      text = readFileSync(n, 'utf8');
    } catch (e) {
      throw new BadInputError('bad-scenario-file', `Cannot read scenario file "${n}": because ${(e as Error).message}`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new BadInputError('bad-scenario-file', `Cannot read scenario file "${n}": because it is not JSON (${(e as Error).message})`);
    }
    return validateScenario(obj);
  }
  return validateScenario(builtinScenario(n));
}

export function applyOverrides(spec: ScenarioSpec, o: RunOverrides): ScenarioSpec {
  const s = structuredClone(spec);
  if (o.mem !== undefined) { s.machine.mem = o.mem; delete s.machine.zones; }
  if (o.kernel !== undefined) s.machine.kernel = o.kernel;
  if (o.cpus !== undefined) s.machine.cpus = o.cpus;
  if (o.duration !== undefined) {
    const ms = parseDuration(o.duration);
    if (!(ms > 0)) throw new BadInputError('bad-duration', `Cannot run for "${o.duration}": because the duration must be positive`);
    s.durationMs = ms;
    s.sampleMs = Math.min(s.sampleMs, Math.max(1, ms / 20));
    if (s.pageMapAtMs) s.pageMapAtMs = s.pageMapAtMs.map((t) => Math.min(t, ms));
  }
  for (const kv of o.set ?? []) {
    const [k, v] = parseSetting(kv);
    s.machine.tunables[k] = v;
  }
  return validateScenario(s);
}

export interface RunOptions {
  seed: number;
  onProgress?: (fraction: number) => void;
  /**
   * The pressure machinery (kswapd, reclaim, compaction, OOM). Default: a fresh LabyrinthPressure per run;
   * `false` runs without it (`--no-pressure`), and the result says so.
   */
  pressure?: PressureMachinery | false;
  /** For tests: a different allocator. */
  allocator?: (spec: ScenarioSpec) => SimAllocator;
  /** For checks: what each actor holds after the run (SimulateOptions.inspect). */
  inspect?: (actors: readonly HeldPagesView[]) => void;
}

export function runScenario(spec: ScenarioSpec, opts: RunOptions): SimResult {
  const alloc = opts.allocator ? opts.allocator(spec) : createSimAllocator(spec.machine);
  const pressure = opts.pressure === false ? undefined : opts.pressure ?? defaultPressure(alloc);
  return simulate(spec, alloc, { seed: opts.seed, onProgress: opts.onProgress, pressure, inspect: opts.inspect });
}

/** LabyrinthPressure needs the core under the allocator (`pa`); an allocator without it (the toy) runs without. */
export function defaultPressure(alloc: SimAllocator): PressureMachinery | undefined {
  return alloc.pa ? createPressureMachinery() : undefined;
}
