/**
 * Trace replay throughput: events per second for parse + replay of the real 512M trace (1,358,579 events),
 * from the decompressed text in memory to the last buddyinfo comparison point (xz decompression excluded).
 *
 *   npm run -s bench:replay [-- --json] [-- --runs N] [-- --trace DIR]
 *
 * Reports the first run (cold JIT, what one `labyrinth replay` sees) and the median of the runs after it,
 * for parse alone, replay alone (start state, lookahead pre-pass, compaction schedule, event loop) and both.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrace } from '../src/trace/ftrace.ts';
import { readMaybeCompressed } from '../src/trace/trace_file.ts';
import { freeRunsFromKpageflags, reservedRunsFromKpageflags } from '../src/trace/kpageflags.ts';
import { phaseMarkers } from '../src/trace/phases.ts';
import { replayTrace } from '../src/trace/replay.ts';
import { CoreReplayBuddy } from '../src/trace/replay_buddy.ts';
import { machineFromZoneinfo } from '../src/zone/setup.ts';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = args.includes('--trace') ? args[args.indexOf('--trace') + 1]! : path.resolve(root, '..', 'shared', 'fixtures', 'linux-6.1-qemu', '512M');
const fallback = '/work/shared/fixtures/linux-6.1-qemu/512M';

function resolveDir(): string {
  for (const d of [dir, fallback]) if (spawnSync('test', ['-e', path.join(d, 'trace.txt.xz')]).status === 0) return d;
  throw new Error(`no trace.txt.xz in ${dir}`);
}
const d = resolveDir();
const text = readMaybeCompressed(path.join(d, 'trace.txt.xz'));
const kpf = readMaybeCompressed(path.join(d, 'kpageflags.pre.xz'));
const zoneinfo = readFileSync(path.join(d, 'snap', '01_pre', 'zoneinfo'), 'utf8');

interface Run { parseMs: number; replayMs: number; events: number; cpuMs: number; mainCpuMs: number }

/** CPU time of the main thread alone (Linux: /proc/self/task/<pid>/stat utime + stime, 10 ms ticks). */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}
function once(): Run {
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuMs();
  const t0 = performance.now();
  const parsed = parseTrace(text);
  const t1 = performance.now();
  const spec = machineFromZoneinfo(zoneinfo);
  const spans = spec.zones.filter((z) => z.spanned > 0).map((z) => ({ zoneIdx: z.zoneIdx, startPfn: z.startPfn, spanned: z.spanned }));
  const reserved = reservedRunsFromKpageflags(kpf, spans);
  for (const z of spec.zones) {
    const mine = reserved.filter((r) => r.zoneIdx === z.zoneIdx);
    if (mine.length > 0) z.unavailable = mine.map((r) => [r.startPfn, r.startPfn + r.nrPages]);
  }
  const buddy = new CoreReplayBuddy(spec, freeRunsFromKpageflags(kpf, spans));
  const points = phaseMarkers(parsed.events).flatMap((m) => [m.row, m.readerEnd]).filter((r) => r >= 0);
  replayTrace(parsed.events, buddy, { points });
  const t2 = performance.now();
  const c = process.cpuUsage(c0);
  return { parseMs: t1 - t0, replayMs: t2 - t1, events: parsed.events.length, cpuMs: (c.user + c.system) / 1000, mainCpuMs: mainThreadCpuMs() - m0 };
}

const all: Run[] = [];
for (let i = 0; i < runs; i++) all.push(once());
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const first = all[0]!;
const rest = all.length > 1 ? all.slice(1) : all;
const parseMs = median(rest.map((r) => r.parseMs));
const replayMs = median(rest.map((r) => r.replayMs));
const totalMs = median(rest.map((r) => r.parseMs + r.replayMs));
const mps = (ms: number): number => first.events / ms / 1000;
const out = {
  trace: path.join(d, 'trace.txt.xz'), events: first.events, bytes: text.length, runs,
  firstRun: { parseMs: Math.round(first.parseMs), replayMs: Math.round(first.replayMs), eventsPerSec: Math.round(first.events / ((first.parseMs + first.replayMs) / 1000)) },
  median: { parseMs: Math.round(parseMs), replayMs: Math.round(replayMs), totalMs: Math.round(totalMs), eventsPerSec: Math.round(first.events / (totalMs / 1000)) },
  parseEventsPerSec: Math.round(first.events / (parseMs / 1000)), replayEventsPerSec: Math.round(first.events / (replayMs / 1000)),
  parseMBps: Math.round(text.length / 1e6 / (parseMs / 1000)),
  /** CPU time of parse + replay (user + system): on a loaded machine wall time overstates it */
  medianCpuMs: Math.round(median(rest.map((r) => r.cpuMs))),
  eventsPerCpuSec: Math.round(first.events / (median(rest.map((r) => r.cpuMs)) / 1000)),
  /** main-thread CPU time only (GC and compiler threads excluded): the single-core cost when the machine is shared */
  medianMainThreadCpuMs: Math.round(median(rest.map((r) => r.mainCpuMs))),
  eventsPerMainThreadCpuSec: Math.round(first.events / (median(rest.map((r) => r.mainCpuMs)) / 1000)),
  loadAverage: (await import('node:os')).loadavg()[0],
};
if (json) console.log(JSON.stringify(out));
else {
  console.log(`trace ${out.trace}: ${out.events.toLocaleString('en-US')} events, ${(out.bytes / 1e6).toFixed(0)} MB of text (decompressed before timing)`);
  console.log(`first run : parse ${out.firstRun.parseMs} ms + replay ${out.firstRun.replayMs} ms = ${(out.firstRun.eventsPerSec / 1e6).toFixed(2)} M events/s`);
  console.log(`CPU time (median): all threads ${out.medianCpuMs} ms = ${(out.eventsPerCpuSec / 1e6).toFixed(2)} M events per CPU-second; `
    + `main thread ${out.medianMainThreadCpuMs} ms = ${(out.eventsPerMainThreadCpuSec / 1e6).toFixed(2)} M events/s; load average ${out.loadAverage.toFixed(1)}`);
  console.log(`median of ${rest.length}: parse ${out.median.parseMs} ms (${mps(parseMs).toFixed(2)} M/s, ${out.parseMBps} MB/s) + replay ${out.median.replayMs} ms (${mps(replayMs).toFixed(2)} M/s) = ${(out.median.eventsPerSec / 1e6).toFixed(2)} M events/s (target ≥ 3)`);
}
