/** The body of one sweep worker: run one job and post its result. */
import { parentPort, workerData } from 'node:worker_threads';
import type { SweepJob } from './sweep.ts';
import type { SimAllocator } from './machinery.ts';
import type { MachineSpecInput } from './scenario.ts';
import { simulate } from './simulator.ts';
import { defaultPressure } from './run.ts';

const job = workerData as SweepJob;
try {
  const mod = (await import(job.allocatorModule)) as { createSimAllocator(m: MachineSpecInput): SimAllocator };
  const alloc = mod.createSimAllocator(job.spec.machine);
  const result = simulate(job.spec, alloc, { seed: job.seed, pressure: job.pressure === false ? undefined : defaultPressure(alloc) });
  parentPort!.postMessage({ ok: true, result });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: (e as Error).message });
}
