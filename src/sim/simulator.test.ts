import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from './simulator.ts';
import { BUILTIN_SCENARIOS, builtinScenario } from './scenarios.ts';
import { parseSetting, parseSize, parseSweep, validateScenario, type ScenarioSpec } from './scenario.ts';
import { applyOverrides } from './run.ts';
import { runSweep } from './sweep.ts';
import { ToyAllocator } from '../../test/_toy_allocator.ts';
import { BadInputError } from '../errors.ts';

const short = (name: string, ms = 3000): ScenarioSpec => applyOverrides(validateScenario(builtinScenario(name)), { duration: `${ms}ms` });
const toy = (mfk = 4096, mem = '256M') => new ToyAllocator(parseSize(mem) / 4096, mfk);

test('same seed gives byte-identical results; another seed differs', () => {
  const s = short('net-rx-storm');
  const a = JSON.stringify(simulate(s, toy(), { seed: 7 }));
  const b = JSON.stringify(simulate(s, toy(), { seed: 7 }));
  const c = JSON.stringify(simulate(s, toy(), { seed: 8 }));
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('every built-in scenario validates and runs', () => {
  for (const name of Object.keys(BUILTIN_SCENARIOS)) {
    const r = simulate(short(name, 1500), toy(4096, '512M'), { seed: 1 });
    assert.ok(r.totals.requests > 0, name);
    assert.equal(r.series.tMs.length, r.series.zones[0]!.free.length);
    assert.ok(r.pageMaps.length > 0);
  }
});

test('without pressure machinery the result says that reclaim did not happen', () => {
  const r = simulate(short('net-rx-storm', 500), toy(), { seed: 1 });
  assert.equal(r.machinery.pressure, null);
  assert.match(r.machinery.note, /never reclaimed/);
  assert.deepEqual(r.pressureCounters, {});
});

test('gfp_atomic_never_sleeps: atomic requests complete in zero virtual time', () => {
  const r = simulate(short('net-rx-storm'), toy(), { seed: 3 });
  for (const c of r.classes.filter((x) => x.context === 'softirq')) {
    assert.equal(c.latencyMaxUs, 0);
    assert.ok(c.requests > 0);
  }
});

test('a tick actor frees pages older than holdMs before each burst (FIFO hold)', () => {
  const spec = validateScenario({
    name: 't', durationMs: 1000, sampleMs: 10, machine: { mem: '64M', cpus: 1, kernel: '6.1', tunables: {} },
    actors: [{ name: 'rx', kind: 'tick', gfp: 'GFP_ATOMIC', context: 'softirq', order: 0, periodMs: 10, burst: 100, holdMs: 50 }],
  });
  const r = simulate(spec, toy(1024, '64M'), { seed: 1 });
  // at tick t the pages of t-50 (age = holdMs) are freed; t-40..t-10 are held, plus t's own: 5 × 100
  // (the fixture's storm: 500 ms hold at 64 ms ticks keeps 8 ticks × 1024 = 8192 pages at the peak, as its README says)
  assert.equal(r.actors[0]!.heldPagesMax, 500);
  assert.equal(r.totals.failures, 0);
});

test('a sleeping mask in atomic context is refused, never allocated', () => {
  const spec = validateScenario({
    name: 't', durationMs: 100, sampleMs: 10,
    actors: [{ name: 'bad', kind: 'tick', gfp: 'GFP_KERNEL', context: 'softirq', order: 0, periodMs: 10, burst: 1 }],
  });
  const r = simulate(spec, toy(1024, '64M'), { seed: 1 });
  assert.equal(r.classes[0]!.refused, r.classes[0]!.requests);
  assert.equal(r.totals.pagesAllocated, 0);
});

test('warn_alloc reports follow the kernel ratelimit and skip __GFP_NOWARN', () => {
  const spec = validateScenario({
    name: 't', durationMs: 25_000, sampleMs: 100, machine: { mem: '64M', cpus: 1, kernel: '6.1', tunables: {} },
    actors: [
      { name: 'hog', kind: 'stream', gfp: 'GFP_KERNEL', context: 'process', order: 0, requestsPerSec: 100_000 },
      { name: 'quiet', kind: 'stream', gfp: 'GFP_ATOMIC|__GFP_NOWARN', context: 'softirq', order: 0, requestsPerSec: 100, startMs: 5000 },
    ],
  });
  const r = simulate(spec, toy(1024, '64M'), { seed: 1 });
  assert.ok(r.totals.failures > 1000);
  // one report per 10 s window of warn_alloc's limiter (burst 1) over 25 s of failures: 2 or 3
  assert.ok(r.failureReports.warned >= 2 && r.failureReports.warned <= 3, String(r.failureReports.warned));
  assert.ok(r.failureReports.nowarn > 0);
  assert.match(r.failureReports.kept[0]!.text, /^hog: page allocation failure: order:0, mode:0xcc0\(GFP_KERNEL\), nodemask=\(null\),cpuset=\/,mems_allowed=0$/);
});

test('bad input is a BadInputError with a reason', () => {
  assert.throws(() => parseSetting('vm.nope=3'), BadInputError);
  assert.throws(() => parseSweep('vm.min_free_kbytes='), BadInputError);
  assert.deepEqual(parseSweep('vm.min_free_kbytes=1024, 4096'), { name: 'vm.min_free_kbytes', values: [1024, 4096] });
  assert.throws(() => validateScenario({ name: 'x', durationMs: 10, actors: [{ name: 'a', kind: 'tick', gfp: 'GFP_ATOMIC', context: 'softirq', order: 12, periodMs: 1, burst: 1 }] }), /order/);
  assert.throws(() => builtinScenario('nope'), /neither built in/);
  // the headline heads the reports and exponential holds draw Exp(mean / entries): both must be what they say
  const one = (extra: Record<string, unknown>, top: Record<string, unknown> = {}) => validateScenario({
    name: 'x', durationMs: 10, ...top,
    actors: [{ name: 'a', kind: 'stream', gfp: 'GFP_KERNEL', context: 'process', order: 0, requestsPerSec: 1, ...extra }],
  });
  assert.throws(() => one({}, { headline: 5 }), (e: unknown) => e instanceof BadInputError && /"headline" must be a string/.test(e.message));
  for (const m of [0, -1, Infinity, '5']) {
    assert.throws(() => one({ holdMeanMs: m }), (e: unknown) => e instanceof BadInputError && /holdMeanMs/.test(e.message), String(m));
  }
  assert.equal(one({ holdMeanMs: 0.5 }, { headline: 'h' }).headline, 'h');
});

test('a sweep runs each value in a worker thread and keeps the order of the values', async () => {
  const s = short('net-rx-storm', 2000);
  const values = [1024, 16384, 65536];
  const pts = await runSweep(s, 'vm.min_free_kbytes', values, { seed: 1, allocatorModule: new URL('../../test/_toy_factory.ts', import.meta.url).href });
  assert.deepEqual(pts.map((p) => p.value), values);
  assert.deepEqual(pts.map((p) => p.result.machine.minFreeKbytes), values);
  // the same run in this thread gives the same numbers as the worker did
  const local = simulate({ ...s, machine: { ...s.machine, tunables: { 'vm.min_free_kbytes': 16384 } } }, new ToyAllocator(parseSize(s.machine.mem) / 4096, 16384), { seed: 1 });
  assert.deepEqual(pts[1]!.result.totals, local.totals);
});

test('a scenario size is read as the machine builder reads it (a bare number is MiB, as --mem 4096)', () => {
  assert.equal(parseSize('4096'), 4 * 1024 ** 3);
  assert.equal(parseSize('512M'), 512 * 1024 ** 2);
  assert.throws(() => parseSize('lots'), /Cannot parse memory size/);
});
