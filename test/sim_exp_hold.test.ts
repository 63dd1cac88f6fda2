/**
 * Exponential holds (`holdMeanMs`) without a timer per block: the simulator keeps one pending free per actor and
 * frees a uniformly chosen entry (src/sim/simulator.ts, ActorRun). That must be the same law as independent
 * Exp(mean) lifetimes, so the checks are the queueing facts that law implies, on the bare allocator (no reclaim):
 * - Poisson arrivals at rate λ with Exp(m) lifetimes is an M/M/∞ queue: after a long run the number held is
 *   Poisson(λ·m·(1 − e^(−T/m)));
 * - once arrivals stop, each held block survives a further t with probability e^(−t/m), independently: the
 *   number left is Poisson(λ·m·(1 − e^(−T/m))·e^(−t/m)) (a one-timer-per-actor bug, rate 1/m instead of n/m,
 *   would leave almost all of them);
 * - a cap with onFull 'replace-random' keeps the actor under it while it goes on requesting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../src/sim/run.ts';
import { validateScenario } from '../src/sim/scenario.ts';
import type { SimResult } from '../src/sim/simulator.ts';

const LAMBDA = 2000; // requests per second
const MEAN_MS = 500;

function run(seed: number, durationMs: number, extra: Record<string, unknown> = {}): SimResult {
  const spec = validateScenario({
    name: 'exp-hold', durationMs, sampleMs: 100,
    machine: { mem: '1G', cpus: 2, kernel: '6.1', tunables: {} },
    actors: [{
      name: 'a', kind: 'stream', gfp: 'GFP_KERNEL', context: 'process', cpu: 0, order: 0,
      requestsPerSec: LAMBDA, arrival: 'poisson', holdMeanMs: MEAN_MS, ...extra,
    }],
  });
  return runScenario(spec, { seed, pressure: false });
}

/** |x − μ| within k standard deviations of a Poisson(μ). */
function withinPoisson(x: number, mu: number, k: number, what: string): void {
  assert.ok(Math.abs(x - mu) <= k * Math.sqrt(mu), `${what}: ${x}, Poisson mean ${mu.toFixed(1)} ± ${Math.sqrt(mu).toFixed(1)}`);
}

test('exponential holds: the number held is the M/M/∞ Poisson(λ·m) after a long run', () => {
  const T = 4000;
  const mu = LAMBDA * (MEAN_MS / 1000) * (1 - Math.exp(-T / MEAN_MS));
  let sum = 0;
  for (const seed of [1, 2, 3, 4]) {
    const r = run(seed, T);
    const a = r.actors[0]!;
    assert.equal(a.failures, 0);
    withinPoisson(a.heldPagesEnd, mu, 5, `seed ${seed} held at ${T} ms`);
    assert.equal(r.totals.frees, a.pagesAllocated - a.heldPagesEnd, 'every block not held was freed once');
    sum += a.heldPagesEnd;
  }
  // the mean of four: σ/2
  withinPoisson(sum / 4, mu, 2.5, 'mean of four seeds');
});

test('exponential holds: after arrivals stop, each block outlives a further t with probability e^(−t/m)', () => {
  const stop = 4000, T = 4500;
  const mu = LAMBDA * (MEAN_MS / 1000) * (1 - Math.exp(-stop / MEAN_MS)) * Math.exp(-(T - stop) / MEAN_MS);
  for (const seed of [1, 2, 3]) {
    const r = run(seed, T, { stopMs: stop });
    withinPoisson(r.actors[0]!.heldPagesEnd, mu, 5, `seed ${seed} held ${T - stop} ms after the stop`);
  }
  // two means later, e^(−2) as many again
  const late = run(1, stop + 1500, { stopMs: stop }).actors[0]!.heldPagesEnd;
  withinPoisson(late, mu * Math.exp(-2), 5, 'held 1500 ms after the stop');
});

test('exponential holds with a cap and onFull replace-random: never above the cap, requests go on', () => {
  const r = run(1, 2000, { maxHeldPages: 200, onFull: 'replace-random' });
  const a = r.actors[0]!;
  assert.ok(a.heldPagesMax <= 200, `held at most ${a.heldPagesMax}`);
  assert.ok(a.heldPagesEnd > 150, `held ${a.heldPagesEnd} at the end (the cap is full: λ·m = 1000 ≫ 200)`);
  withinPoisson(a.requests, LAMBDA * 2, 5, 'requests in 2 s');
});
