/**
 * The simulator with the pressure machinery of issue 4 on the core allocator: kswapd and direct reclaim act,
 * sleeping requests complete in virtual time, the run stays deterministic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, loadScenario, runScenario } from '../src/sim/run.ts';
import { createPressureMachinery } from '../src/sim/pressure_machinery.ts';


test('net-rx-storm with the pressure machinery: kswapd reclaims, atomic requests never wait', () => {
  const spec = applyOverrides(loadScenario('net-rx-storm'), { duration: '3s' });
  const run = (): ReturnType<typeof runScenario> => runScenario(spec, { seed: 3, pressure: createPressureMachinery() });
  const r = run();
  assert.ok(r.machinery.pressure, 'the result names the machinery');
  const c = r.pressureCounters;
  assert.ok((c['pgscan_kswapd'] ?? 0) + (c['pgscan_direct'] ?? 0) > 0, JSON.stringify(c));
  assert.ok((c['pageoutrun'] ?? 0) > 0);
  for (const k of r.classes) if (k.context === 'softirq') assert.equal(k.latencyMaxUs, 0);
  // same seed, same result
  assert.equal(JSON.stringify(run()), JSON.stringify(r));
});
