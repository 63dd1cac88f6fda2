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

/** The calendar's private geometry, read to check that a test reaches the paths it means to. */
const geometry = (c: Clock): { width: number; nBuckets: number; farN: number } => c as unknown as { width: number; nBuckets: number; farN: number };

test('long-tail delays with thousands waiting (far tier, calendar growth, re-widths) fire in exact (time, scheduling) order', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
    const rng = new Rng(seed);
    const c = new Clock();
    const fired: Array<[number, number]> = [];
    const all: Array<[number, number]> = [];
    let id = 0;
    let sawFar = false;
    const widths = new Set<number>();
    // a mixture: same instant, ns jitter, µs..ms flow, seconds, a Pareto tail to ~days, beyond any slot, Infinity
    const delay = (): number => {
      const u = rng.float();
      if (u < 0.05) return 0;
      if (u < 0.15) return rng.int(0, 3);
      if (u < 0.55) return rng.exponential(20_000);
      if (u < 0.8) return rng.exponential(3e6);
      if (u < 0.93) return rng.exponential(2e9);
      if (u < 0.995) return 1e6 / Math.pow(1 - rng.float(), 1.5);
      return rng.chance(0.5) ? 1e21 * (1 + rng.int(0, 3)) : Infinity;
    };
    const sched = (t: number): void => {
      all.push([t, id]);
      c.schedule(t, fire, id++);
    };
    const fire = (now: number, arg: number): void => {
      fired.push([now, arg]);
      if (id < 25_000) for (let k = rng.int(0, 2); k > 0; k--) sched(now + delay());
      if (geometry(c).farN > 0) sawFar = true;
      widths.add(geometry(c).width);
    };
    for (let i = 0; i < 3000; i++) sched(delay());
    // drive it in uneven steps, with single steps and peeks between
    for (let end = 0; c.pending > 0 && end < 1e12; end += rng.exponential(5e7)) {
      c.runUntil(end);
      const next = c.peekTime();
      assert.ok(next > end);
      if (rng.chance(0.2) && c.step()) assert.equal(fired[fired.length - 1]![0], next);
      // scheduled between runs, at now: earlier than anything the calendar has already moved to its current slot
      if (rng.chance(0.3)) sched(c.now);
    }
    c.runUntil(Infinity);
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.equal(c.pending, 0);
    assert.deepEqual(fired, all);
    assert.ok(sawFar, 'the far tier was used');
    assert.ok(widths.size > 1, 'the calendar changed its width');
  }), { numRuns: 6 });
});

test('events for the current slot scheduled while it fires keep (time, seq) order against the slot\'s own events', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 400 }), fc.integer({ min: 0, max: 5 }), (evs, grid) => {
    // times on a coarse grid (2^grid ns .. 32 µs), so that many events share an instant and a slot; each firing
    // schedules `kids` more at now, at the next grid points, or at a time another waiting event already has
    const step = [1, 100, 1000, 7000, 20_000, 32_000][grid]!;
    const c = new Clock();
    const fired: Array<[number, number]> = [];
    const all: Array<[number, number]> = [];
    let id = 0;
    const kidsOf: number[] = [];
    const sched = (t: number, kids: number): void => {
      all.push([t, id]);
      kidsOf.push(kids);
      c.schedule(t, fire, id++);
    };
    const fire = (now: number, arg: number): void => {
      fired.push([now, arg]);
      for (let k = 0; k < kidsOf[arg]! && id < 5000; k++) sched(now + (k % 3) * step, kidsOf[arg]! - 1);
      if (id < 5000 && kidsOf[arg]! > 0) sched(all[arg >> 1]![0] < now ? now : all[arg >> 1]![0], 0);
    };
    for (const [g, kids] of evs) sched(g * step, kids);
    c.runUntil(Infinity);
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.deepEqual(fired, all);
  }), { numRuns: 60 });
});

test('a stop between slots, then scheduling at now, fires before the slot the clock already moved to', () => {
  const c = new Clock();
  const seen: string[] = [];
  c.schedule(1_000_000, () => seen.push('a'));
  c.schedule(5_000_000, () => seen.push('c'));
  c.runUntil(2_000_000);          // the calendar has moved on to the slot of 5 ms
  assert.equal(c.peekTime(), 5_000_000);
  c.schedule(3_000_000, () => seen.push('b'));
  c.schedule(5_000_000, () => seen.push('d'));   // same time as c, scheduled later
  c.schedule(2_000_000, () => seen.push('now'));
  c.runUntil(Infinity);
  assert.deepEqual(seen, ['a', 'now', 'b', 'c', 'd']);
});

test('events beyond any slot (and Infinity) fire last in (time, seq) order, and what they schedule follows', () => {
  const c = new Clock();
  const seen: Array<[number, string]> = [];
  const log = (name: string) => (now: number): void => { seen.push([now, name]); };
  c.schedule(Infinity, log('inf1'));
  c.schedule(3e21, log('far3'));
  c.schedule(1e21, (now) => {
    seen.push([now, 'far1']);
    c.schedule(now + 5, log('far1+5'));    // rounds to now at this magnitude: after far1's equals
    c.schedule(2e21, log('far2b'));
  });
  c.schedule(2e21, log('far2a'));
  c.schedule(Infinity, log('inf2'));
  c.schedule(10, log('ten'));
  c.runUntil(Infinity);
  assert.deepEqual(seen.map((x) => x[1]), ['ten', 'far1', 'far1+5', 'far2a', 'far2b', 'far3', 'inf1', 'inf2']);
  assert.equal(c.pending, 0);
});

test('a NaN time does not hold back the events scheduled after it', () => {
  const c = new Clock();
  const seen: number[] = [];
  // events far beyond the calendar's first year, a NaN, and a ticker that keeps the calendar busy meanwhile
  for (let i = 1; i <= 100; i++) c.schedule(i * 1e7, (now) => seen.push(now));
  c.schedule(NaN, () => {});
  const tick = (now: number): void => { seen.push(now); if (now < 1.5e9) c.schedule(now + 50_001, tick); };
  c.schedule(0, tick);
  c.runUntil(1e12);
  assert.ok(seen.length > 30_000);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
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
