/**
 * Each built-in scenario's headline, as assertions on seeded runs with the pressure machinery (the default).
 * net-rx-storm's is in test/sim_core.test.ts, atomic-512m's in test/sim_calibration.test.ts. Only what the
 * mechanism produces is asserted; where a story is not (yet) produced, a `todo` says so with our numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCore } from '../src/sim/machine.ts';
import { applyOverrides, loadScenario, runScenario } from '../src/sim/run.ts';
import type { SimResult } from '../src/sim/simulator.ts';

await loadCore();

const memo = new Map<string, SimResult>();
const run = (name: string, duration?: string): SimResult => {
  const k = `${name}@${duration ?? ''}`;
  let r = memo.get(k);
  if (!r) memo.set(k, r = runScenario(applyOverrides(loadScenario(name), duration ? { duration } : {}), { seed: 1 }));
  return r;
};

/** Failure rate of a series key between two sample indices. */
function rateIn(r: SimResult, key: string, from: number, to: number): number {
  const q = r.series.classRequests[key]!, f = r.series.classFailures[key]!;
  let n = 0, k = 0;
  for (let i = from; i < to; i++) { n += q[i]!; k += f[i]!; }
  return n === 0 ? 0 : k / n;
}

test('oom: the leak ends in an OOM kill of the leaker (largest badness), which frees all it held', () => {
  const r = run('oom');
  assert.ok((r.pressureCounters['oom_kill'] ?? 0) >= 1, JSON.stringify(r.pressureCounters));
  const kills = r.pressureEvents.filter((e) => e.kind === 'oom_kill');
  assert.ok(kills.length >= 1);
  assert.match(kills[0]!.text, /^Killed process \d+ \(leaker\)$/);
  const leaker = r.actors.find((a) => a.name === 'leaker')!;
  const service = r.actors.find((a) => a.name === 'service')!;
  assert.equal(leaker.heldPagesEnd, 0, 'a killed task frees everything');
  assert.ok(service.heldPagesEnd > 0, 'the protected service (oom_score_adj -500) survives');
  // before the kill, reclaim took the page cache (no swap: anonymous pages stay)
  assert.ok((r.pressureCounters['pgsteal_file'] ?? 0) > 0);
  assert.equal(r.pressureCounters['pgsteal_anon'] ?? 0, 0);
});

test('fragmentation: order-9 success declines over time while compaction runs', () => {
  const r = run('fragmentation');
  const key = Object.keys(r.series.classRequests).find((k) => k.endsWith(' o9'))!;
  const n = r.series.tMs.length, third = Math.floor(n / 3);
  const early = rateIn(r, key, 0, third), late = rateIn(r, key, 2 * third, n);
  assert.ok(late > early + 0.05, `order-9 failure rate early ${early}, late ${late}`);
  const c = r.pressureCounters;
  assert.ok((c['compact_stall'] ?? 0) > 0, 'direct compaction by the GFP_TRANSHUGE requests');
  assert.ok((c['compact_migrate_scanned'] ?? 0) > 0 && (c['compact_daemon_wake'] ?? 0) > 0, 'kcompactd too');
  // order-0 work is untouched: free memory is there, only not contiguous
  for (const cl of r.classes) if (cl.order === 0) assert.equal(cl.failures, 0, cl.gfpClass);
});

test('render: GFP_KERNEL orders 4..10 are served as kswapd reclaims the page cache; deadline misses match latencies', () => {
  const r = run('render');
  assert.ok((r.pressureCounters['pgsteal_kswapd'] ?? 0) > 0, 'the asset stream fills memory and kswapd reclaims');
  const big = r.classes.filter((c) => c.order >= 4);
  assert.equal(big.length, 7);
  for (const c of big) {
    assert.ok(c.requests > 0);
    // a miss is reported exactly when some request took longer than the 16.7 ms frame budget
    assert.equal(c.deadlineMisses > 0, c.latencyMaxUs > 16_700, `${c.order}: ${c.deadlineMisses} misses, max ${c.latencyMaxUs} µs`);
    assert.ok(c.failures <= c.requests);
  }
});

test('render: large requests fall into reclaim/compaction and miss frames', { todo: 'not produced: with kswapd keeping free memory above high, every order 4..10 request takes the fast path (0 µs)' }, () => {
  const r = run('render');
  assert.ok(r.classes.some((c) => c.order >= 4 && c.deadlineMisses > 0));
});

test('secure-enclave: no exclusive page leaves the allocator without a key', () => {
  const r = run('secure-enclave');
  const atomicExcl = r.classes.filter((c) => c.gfpClass.includes('__GFP_EXCL') && c.context === 'softirq');
  assert.ok(atomicExcl.length > 0);
  for (const c of atomicExcl) assert.equal(c.failures, c.requests, 'alloc_pages refuses __GFP_EXCL (keys come through src/labyrinth)');
  // the rest of the machine runs on under the pressure
  assert.ok((r.pressureCounters['pgsteal_kswapd'] ?? 0) > 0);
  assert.equal(r.actors.find((a) => a.name === 'db')!.failures, 0);
});

test('secure-enclave: sleeping __GFP_EXCL requests are refused without a key too', () => {
  const r = run('secure-enclave');
  const excl = r.classes.filter((x) => x.gfpClass.includes('__GFP_EXCL'));
  assert.ok(excl.some((c) => !c.gfpClass.includes('GFP_ATOMIC') && c.requests > 0), 'the scenario issues sleeping __GFP_EXCL requests');
  for (const c of excl) assert.equal(c.failures, c.requests, `${c.gfpClass} order ${c.order}: no keyless exclusive page, sleeping or not`);
});
