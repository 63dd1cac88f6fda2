/**
 * What-if sweeps: the same scenario and seed once per value of one tunable, each run in its own worker thread
 * (up to the number of cores at a time). Results come back in the order of the values.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ScenarioSpec } from './scenario.ts';
import type { SweepPoint } from './report_html.ts';
import type { SimResult } from './simulator.ts';

export interface SweepOptions {
  seed: number;
  /** Maximum workers at once (default: available cores). */
  parallel?: number;
  /** URL of a module exporting createSimAllocator(machine) to use instead of src/sim/machine.ts (tests). */
  allocatorModule?: string;
  onDone?: (done: number, total: number) => void;
  /** false: run without the pressure machinery (`--no-pressure`). */
  pressure?: boolean;
}

export interface SweepJob {
  spec: ScenarioSpec;
  seed: number;
  allocatorModule: string;
  pressure?: boolean;
}

const WORKER_URL = new URL('./sweep_worker.ts', import.meta.url).href;
// Workers do not inherit the tsx loader the CLI registered through its API: register it again, then load the job.
const BOOT = `
const { register } = await import('tsx/esm/api');
register();
await import(${JSON.stringify(WORKER_URL)});
`;

function runInWorker(job: SweepJob): Promise<SimResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(BOOT, { eval: true, workerData: job, type: 'module' } as ConstructorParameters<typeof Worker>[1]);
    w.once('message', (m: { ok: true; result: SimResult } | { ok: false; error: string }) => {
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
      void w.terminate();
    });
    w.once('error', reject);
  });
}

export async function runSweep(spec: ScenarioSpec, name: string, values: number[], opts: SweepOptions): Promise<SweepPoint[]> {
  const allocatorModule = opts.allocatorModule ?? new URL('./machine.ts', import.meta.url).href;
  const limit = Math.max(1, Math.min(values.length, opts.parallel ?? availableParallelism()));
  const out: SweepPoint[] = new Array(values.length);
  let next = 0, done = 0;
  const lane = async (): Promise<void> => {
    while (next < values.length) {
      const i = next++;
      const s = structuredClone(spec);
      s.machine.tunables[name] = values[i]!;
      const result = await runInWorker({ spec: s, seed: opts.seed, allocatorModule, pressure: opts.pressure !== false });
      out[i] = { value: values[i]!, result };
      opts.onDone?.(++done, values.length);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return out;
}
