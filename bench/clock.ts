/**
 * The virtual clock alone: record every schedule() and runUntil() a built-in scenario makes (seed 1), then replay
 * that exact stream of operations against a fresh Clock whose callbacks do nothing but re-issue the recorded
 * schedules. The replay checks that every event fires at its recorded time, and reports CPU ns per fired event
 * (user + system time, so that waiting for a CPU on a loaded machine does not count).
 *
 *   node --import tsx bench/clock.ts [--only NAME] [--reps N] [--impl PATH]...
 *
 * `--impl PATH` (repeatable) replays against other clock modules exporting `Clock` (e.g. a copy of an earlier
 * version) beside src/sim/clock.ts; the replays of the clocks alternate, so machine load hits them alike.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { BUILTIN_SCENARIOS } from '../src/sim/scenarios.ts';
import { loadScenario, runScenario } from '../src/sim/run.ts';
import { Clock, type EventFn } from '../src/sim/clock.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const only = arg('--only');
const reps = Number(arg('--reps') ?? 5);
const impls: Array<{ name: string; Impl: typeof Clock }> = [{ name: 'src/sim/clock.ts', Impl: Clock }];
for (let i = 0; i < process.argv.length; i++) {
  if (process.argv[i] !== '--impl') continue;
  const path = process.argv[i + 1]!;
  impls.push({ name: path, Impl: (await import(pathToFileURL(resolve(path)).href)).Clock });
}

// op codes in the trace
const SCHED = 0, RUN = 1, FIRE = 2, END = 3;

interface Trace { ops: Float64Array; fires: number }

/** Run the scenario with Clock.prototype's schedule and runUntil wrapped to log the operations. */
function record(name: string): Trace {
  const proto = Clock.prototype as unknown as Record<string, unknown>;
  const origSchedule = proto.schedule as Clock['schedule'];
  const origRun = proto.runUntil as Clock['runUntil'];
  let ops = new Float64Array(1 << 20);
  let n = 0;
  let fires = 0;
  const put = (a: number, b: number): void => {
    if (n + 2 > ops.length) { const o = new Float64Array(ops.length * 2); o.set(ops); ops = o; }
    ops[n++] = a; ops[n++] = b;
  };
  proto.schedule = function (this: Clock, atNs: number, fn: EventFn, a = 0): void {
    const t = atNs < this.now ? this.now : atNs;
    put(SCHED, t);
    origSchedule.call(this, atNs, (now: number, x: number) => { put(FIRE, now); fires++; fn(now, x); put(END, 0); }, a);
  };
  proto.runUntil = function (this: Clock, endNs: number): number {
    put(RUN, endNs);
    return origRun.call(this, endNs);
  };
  try {
    runScenario(loadScenario(name), { seed: 1 });
  } finally {
    proto.schedule = origSchedule;
    proto.runUntil = origRun;
  }
  return { ops: ops.subarray(0, n), fires };
}

/** Replay the trace; returns ms. Throws if an event fires at another time than recorded. */
function replay(tr: Trace, Impl: typeof Clock): number {
  const ops = tr.ops;
  const c = new Impl();
  let p = 0;
  const fire: EventFn = (now) => {
    if (ops[p] !== FIRE || ops[p + 1] !== now) throw new Error(`replay diverged at op ${p / 2}: fired ${now}, recorded ${ops[p]}/${ops[p + 1]}`);
    p += 2;
    while (ops[p] === SCHED) { c.schedule(ops[p + 1]!, fire, 0); p += 2; }
    p += 2; // END
  };
  const c0 = process.cpuUsage();
  while (p < ops.length) {
    if (ops[p] === SCHED) { c.schedule(ops[p + 1]!, fire, 0); p += 2; }
    else { const end = ops[p + 1]!; p += 2; c.runUntil(end); }
  }
  const cu = process.cpuUsage(c0);
  const ms = (cu.user + cu.system) / 1000;
  if (c.fired !== tr.fires) throw new Error(`replay fired ${c.fired}, recorded ${tr.fires}`);
  return ms;
}

console.log(`best of ${reps} replays`);
console.log('scenario          events   schedules   best CPU ms   ns/event  clock');
for (const name of Object.keys(BUILTIN_SCENARIOS)) {
  if (only !== undefined && name !== only) continue;
  const tr = record(name);
  let scheds = 0;
  for (let i = 0; i < tr.ops.length; i += 2) if (tr.ops[i] === SCHED) scheds++;
  const best = impls.map(() => Infinity);
  for (let r = 0; r < reps; r++) impls.forEach((m, i) => { best[i] = Math.min(best[i]!, replay(tr, m.Impl)); });
  impls.forEach((m, i) => {
    console.log(`${name.padEnd(16)} ${String(tr.fires).padStart(8)} ${String(scheds).padStart(11)} ${best[i]!.toFixed(1).padStart(13)} ${(best[i]! * 1e6 / tr.fires).toFixed(1).padStart(10)}  ${m.name}`);
  });
}
