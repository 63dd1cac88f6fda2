import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Clock } from './clock.ts';
import { Rng, streamRng } from './rng.ts';

test('events fire in time order, ties in scheduling order', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), (times) => {
    const c = new Clock();
    const seen: Array<[number, number]> = [];
    times.forEach((t, i) => c.schedule(t, (now, arg) => seen.push([now, arg]), i));
    c.runUntil(100);
    const want = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.deepEqual(seen, want);
    assert.equal(c.now, 100);
    assert.equal(c.pending, 0);
  }));
});

/**
 * A Clock beside a reference queue (pending (time, id) pairs; the smallest by (time, id) fires next): schedule
 * on both, step both, then drain both and compare what fired.
 */
function againstReference(): { c: Clock; schedule(t: number): void; step(): void; check(): void } {
  const c = new Clock();
  const fired: Array<[number, number]> = [];
  const want: Array<[number, number]> = [];
  const pending: Array<[number, number]> = [];
  const popRef = (): void => {
    let m = 0;
    for (let k = 1; k < pending.length; k++) {
      if (pending[k]![0] < pending[m]![0] || (pending[k]![0] === pending[m]![0] && pending[k]![1] < pending[m]![1])) m = k;
    }
    want.push(pending.splice(m, 1)[0]!);
  };
  let id = 0;
  return {
    c,
    schedule(t) { pending.push([t, id]); c.schedule(t, (now, arg) => fired.push([now, arg]), id++); },
    step() { c.step(); popRef(); },
    check() {
      c.runUntil(Infinity);
      while (pending.length > 0) popRef();
      assert.deepEqual(fired, want);
      assert.equal(c.pending, 0);
    },
  };
}

test('interleaved scheduling and firing keeps (time, scheduling order) for thousands of events', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 3000 }), (ops) => {
    const r = againstReference();
    for (const [dt, pops] of ops) {
      r.schedule(r.c.now + dt);
      for (let k = 0; k < pops && r.c.pending > 0; k++) r.step();
    }
    r.check();
  }), { numRuns: 30 });
});

test('delays of every scale (ties, nanoseconds, hours, Infinity) and quiet stretches keep the exact order', () => {
  const delay = fc.oneof(
    fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.double({ min: 0, max: 1e4, noNaN: true }),
    fc.integer({ min: 0, max: 1e9 }), fc.double({ min: 1e12, max: 1e16, noNaN: true }), fc.constant(Infinity),
  );
  fc.assert(fc.property(fc.array(fc.tuple(delay, fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 400 }), (ops) => {
    const r = againstReference();
    for (const [d, pops, copies] of ops) {
      // `copies` events: the same delay, then spread by nanoseconds (bursts at one instant and just after)
      for (let j = 0; j < copies; j++) r.schedule(r.c.now + d + (j % 3));
      for (let k = 0; k < pops && r.c.pending > 0; k++) r.step();
    }
    r.check();
  }), { numRuns: 25 });
});

test('a long run whose load changes scale (dense, sparse, crowded instants) fires in exact (time, scheduling) order', () => {
  const rng = new Rng(42);
  const c = new Clock();
  const fired: Array<[number, number]> = [];
  const all: Array<[number, number]> = [];
  let id = 0;
  // phase by event count: 0 dense (ns..µs), 1 sparse (ms..s), 2 bursts at one instant, 3 dense again
  const delayFor = (phase: number): number => {
    if (phase === 0 || phase === 3) return rng.exponential(500);
    if (phase === 1) return rng.exponential(5e8);
    return rng.chance(0.5) ? 0 : rng.exponential(1e6);
  };
  const sched = (t: number): void => {
    all.push([t, id]);
    c.schedule(t, fire, id++);
  };
  const fire = (now: number, arg: number): void => {
    fired.push([now, arg]);
    const phase = Math.min(3, Math.floor(fired.length / 15000));
    if (id < 60000) {
      const n = phase === 2 && rng.chance(0.01) ? 200 : 1;
      for (let k = 0; k < n; k++) sched(now + delayFor(phase));
    }
  };
  for (let i = 0; i < 5000; i++) sched(rng.exponential(1e6));
  c.runUntil(Infinity);
  all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.equal(fired.length, all.length);
  assert.deepEqual(fired, all);
});

test('events scheduled while running fire in order and past times clamp to now', () => {
  const c = new Clock();
  const seen: number[] = [];
  c.schedule(10, (now) => {
    seen.push(now);
    c.schedule(5, (n) => seen.push(n));   // in the past: fires at 10
    c.after(7, (n) => seen.push(n));
  });
  c.schedule(20, (now) => seen.push(now));
  c.runUntil(15);
  assert.deepEqual(seen, [10, 10]);
  assert.equal(c.now, 15);
  c.runUntil(30);
  assert.deepEqual(seen, [10, 10, 17, 20]);
});

test('the same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(7), b = new Rng(7), d = new Rng(8);
  const xs = Array.from({ length: 64 }, () => a.u32());
  assert.deepEqual(Array.from({ length: 64 }, () => b.u32()), xs);
  assert.notDeepEqual(Array.from({ length: 64 }, () => d.u32()), xs);
  assert.notEqual(streamRng(1, 'x').u32(), streamRng(1, 'y').u32());
});

test('rng helpers stay in range and follow their distributions roughly', () => {
  const r = new Rng(1);
  let sum = 0, hits = [0, 0, 0];
  for (let i = 0; i < 20000; i++) {
    const v = r.int(3, 5);
    assert.ok(v >= 3 && v <= 5);
    sum += r.exponential(10);
    hits[r.pickWeighted([1, 0, 3])]!++;
  }
  assert.equal(hits[1], 0);
  assert.ok(Math.abs(sum / 20000 - 10) < 0.5);
  assert.ok(Math.abs(hits[2]! / 20000 - 0.75) < 0.02);
});

test('async tasks sleeping on the virtual clock interleave deterministically', async () => {
  const { AsyncClock } = await import('./clock.ts');
  const c = new AsyncClock();
  const log: string[] = [];
  const task = async (name: string, d: number) => {
    for (let i = 0; i < 3; i++) {
      const t = await c.sleep(d);
      log.push(`${name}@${t}`);
    }
  };
  void task('a', 10);
  void task('b', 15);
  await c.runUntilAsync(100);
  // b scheduled its 30 at t=15, before a scheduled its 30 at t=20: b fires first.
  assert.deepEqual(log, ['a@10', 'b@15', 'a@20', 'b@30', 'a@30', 'b@45']);
});
