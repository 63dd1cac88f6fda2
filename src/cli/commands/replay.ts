/** `labyrinth replay TRACE [--like ZONEINFO] [--start KPAGEFLAGS] [--snapshots DIR] [--json]` */
import type { Command } from 'commander';
import { MIGRATETYPE_NAMES } from '../../mm/constants.ts';
import { runReplay, type ReplayReport, type ComparisonPoint } from '../../trace/replay_run.ts';

interface Opts {
  like?: string;
  start?: string;
  snapshots?: string;
  json?: boolean;
  tolerant?: boolean;
  lookahead: boolean;
  compactionInference: boolean;
  readerComm?: string;
  readerNth?: string;
  top?: string;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a real kmem ftrace (trace file, trace-cmd report or perf script; .xz/.gz ok): with a kpageflags start state, '
      + 'every page lands at its real pfn and buddyinfo is compared with the real snapshots at each phase marker; '
      + 'without one, the perf kmem --page stat summary and fragmentation per phase')
    .argument('<trace>', 'trace text (plain, .xz or .gz)')
    .option('--like <zoneinfo>', 'machine shape from a real /proc/zoneinfo (default: <snapshots>/01_pre/zoneinfo)')
    .option('--start <kpageflags>', 'start state: /proc/kpageflags read just before tracing (KPF_BUDDY marks free pages)')
    .option('--snapshots <dir>', 'directory of snapshot dirs NN_name/buddyinfo (default: snap/ beside the trace)')
    .option('--tolerant', 'count and skip malformed lines instead of failing')
    .option('--no-lookahead', 'do not apply the direct-free lookahead rule')
    .option('--no-compaction-inference', 'do not infer compaction\'s silent free-page isolations')
    .option('--reader-comm <comm>', 'task name of the snapshot readers', 'cat')
    .option('--reader-nth <n>', 'which reader after a marker reads buddyinfo', '3')
    .option('--top <n>', 'rows in the gfp / callsite / task tables', '10')
    .option('--json', 'print JSON')
    .action(async (trace: string, opts: Opts) => {
      const report = await runReplay(trace, {
        like: opts.like, start: opts.start, snapshots: opts.snapshots, tolerant: opts.tolerant === true,
        lookahead: opts.lookahead, compactionInference: opts.compactionInference,
        readerComm: opts.readerComm, readerNth: Number(opts.readerNth ?? 3),
      });
      if (opts.json) process.stdout.write(JSON.stringify(report) + '\n');
      else process.stdout.write(renderReport(report, Number(opts.top ?? 10)));
    });
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
const pad = (s: string | number, n: number): string => String(s).padStart(n);
const padR = (s: string | number, n: number): string => String(s).padEnd(n);

function pointStatus(p: ComparisonPoint): string {
  if (p.exact === undefined) return 'no snapshot';
  if (p.exact) return 'exact';
  if (p.compactionAffected) return 'compaction-affected';
  if (p.at === 'marker' && (p.buddyEventsToReader ?? 0) > 0) return 'before the reader';
  return p.at === 'end' ? 'untraced activity after' : 'differs';
}

/** The human report. */
export function renderReport(r: ReplayReport, top: number): string {
  let s = `replay of ${r.trace}\n`;
  s += `  ${fmt(r.events)} events (${r.parse.format}), parse ${r.timing.parseMs.toFixed(0)} ms, replay ${r.timing.replayMs.toFixed(0)} ms`;
  if (r.parse.malformed > 0) s += `, ${fmt(r.parse.malformed)} malformed lines skipped`;
  if (r.parse.lostEvents > 0) s += `, ${fmt(r.parse.lostEvents)} events LOST by the tracer (a replay cannot be exact past them)`;
  s += '\n';
  if (r.start !== undefined) {
    s += `  start state ${r.start.file}: ${fmt(r.start.freeRuns)} free runs, ${fmt(r.start.freePages)} free pages\n`;
    s += `  compaction runs in the trace: ${r.compactionWindows.length}${r.compactionWindows.length > 0 ? ` (first at line ${r.compactionWindows[0]!.beginLine})` : ''}\n\n`;
    s += `${padR('point', 34)} ${padR('snapshot', 20)} ${padR('zone', 7)} ${pad('Δblocks', 8)} ${pad('Δpages', 8)}  status\n`;
    for (const p of r.points) {
      const where = p.at === 'marker' ? `${p.label} (marker)` : p.at === 'reader' ? `${p.label} (buddyinfo cat)` : p.label;
      for (const z of p.zones) {
        s += `${padR(where, 34)} ${padR(p.snapshot ?? '-', 20)} ${padR(z.zone, 7)} ${pad(z.blocksOff ?? '-', 8)} ${pad(z.pagesOff === undefined ? '-' : signed(z.pagesOff), 8)}  ${pointStatus(p)}\n`;
      }
    }
    const off = r.points.filter((p) => p.exact === false);
    for (const p of off) {
      s += `\n${p.label}${p.at === 'reader' ? ' (buddyinfo cat)' : p.at === 'marker' ? ' (marker)' : ''} vs ${p.snapshot}${p.line !== undefined ? `, line ${p.line}` : ''}:\n`;
      for (const z of p.zones) {
        if (z.diff === undefined || z.blocksOff === 0) continue;
        s += `  ${padR(z.zone, 6)} replay ${z.replay.map((c) => pad(c, 6)).join('')}\n`;
        s += `  ${padR('', 6)} real   ${z.real!.map((c) => pad(c, 6)).join('')}\n`;
        s += `  ${padR('', 6)} diff   ${z.diff.map((c) => pad(c === 0 ? '.' : signed(c), 6)).join('')}\n`;
      }
      s += `  causes: ${causes(p)}\n`;
      if (p.note !== undefined) s += `  note: ${p.note}\n`;
    }
    if (r.anomalies !== undefined) {
      s += '\nanomaly counters (whole trace):\n';
      for (const [k, v] of Object.entries(r.anomalies)) s += `  ${padR(k, 28)} ${pad(fmt(v), 10)}\n`;
    }
  }
  s += kmemText(r, top);
  return s;
}

function causes(p: ComparisonPoint): string {
  const a = p.anomalies;
  const out: string[] = [];
  if (p.compactionAffected) {
    out.push(`compaction ran before this point: it isolates free pages with no kmem event (${fmt(a.free_of_buddy_page)} frees of pages the model held free; `
      + `${fmt(a.compaction_isolated_pages)} pages inferred isolated); migration targets still in use are invisible to the trace`);
  }
  if (p.at === 'marker' && (p.buddyEventsToReader ?? 0) > 0) {
    out.push(`snapshot timing: ${fmt(p.buddyEventsToReader!)} buddy events (zone_locked, pcpu_drain, direct frees) ran between the marker and the process that read buddyinfo; compare at the reader`);
  }
  if (p.at === 'end') out.push('events outside the trace (after tracing stopped)');
  if (a.zone_locked_not_free > 0) out.push(`${fmt(a.zone_locked_not_free)} zone_locked allocations of pages the model did not hold free`);
  if (out.length === 0) out.push('unexplained');
  return out.join('; ');
}

function kmemText(r: ReplayReport, top: number): string {
  const k = r.kmem;
  let s = '\nSUMMARY (page allocator)\n========================\n';
  const row = (label: string, n: number, pages: number): string => `${padR(label, 30)}: ${pad(fmt(n), 16)}   [ ${pad(fmt(pages * 4), 16)} KB ]\n`;
  s += row('Total allocation requests', k.allocRequests, k.allocPages);
  s += row('Total free requests', k.freeRequests, k.freePages);
  s += '\n';
  s += row('Total alloc+freed requests', k.allocFreedRequests, k.allocFreedPages);
  s += row('Total alloc-only requests', k.allocOnlyRequests, k.allocOnlyPages);
  s += row('Total free-only requests', k.freeOnlyRequests, k.freeOnlyPages);
  s += '\n';
  s += row('Total allocation failures', k.allocFailures, k.allocFailurePages);
  s += `\n${padR('Order', 5)}${MIGRATETYPE_NAMES.map((n) => pad(n, 14)).join('')}${pad('Unknown', 14)}\n`;
  s += `-----${'  ------------'.repeat(6)}\n`;
  k.orderMigratetype.forEach((cols, o) => {
    s += `${pad(o, 5)}${cols.map((c) => pad(c === 0 ? '.' : fmt(c), 14)).join('')}\n`;
  });
  const table = (title: string, rows: typeof k.byGfp, masks = false): string => {
    if (rows.length === 0) return '';
    let t = `\n${pad('Total alloc (KB)', 18)} | ${pad('Hits', 10)} | ${masks ? `${pad('GFP mask', 10)} | ` : ''}${title}\n`;
    for (const g of rows.slice(0, top)) {
      const m = masks ? `${pad(g.mask === undefined ? '?' : g.mask.toString(16).padStart(8, '0'), 10)} | ` : '';
      t += `${pad(fmt(g.pages * 4), 18)} | ${pad(fmt(g.hits), 10)} | ${m}${g.key}\n`;
    }
    return t;
  };
  s += table('GFP flags', k.byGfp, true);
  s += table('Callsite', k.byCallsite);
  s += table('Task', k.byTask);
  if (r.phases.length > 0) {
    const u = (x: number[] | undefined): string => (x === undefined ? '-' : `${(x[3] ?? 0).toFixed(3)} / ${(x[9] ?? 0).toFixed(3)}`);
    s += '\nphases (marker to marker): allocations and frees; unusable free index at order 3 / 9 at the phase end\n';
    s += `${padR('phase from', 26)} ${pad('allocs', 10)} ${pad('alloc KB', 12)} ${pad('frees', 10)} ${pad('free KB', 12)}  ${padR('placed', 14)} real snapshot\n`;
    for (const p of r.phases) {
      s += `${padR(p.label, 26)} ${pad(fmt(p.kmem.allocRequests), 10)} ${pad(fmt(p.kmem.allocPages * 4), 12)} ${pad(fmt(p.kmem.freeRequests), 10)} ${pad(fmt(p.kmem.freePages * 4), 12)}  ${padR(u(p.placedUnusable), 14)} ${p.snapshot === undefined ? '' : `${u(p.unusable)} (${p.snapshot})`}\n`;
    }
    if (r.placement !== undefined) {
      const pl = r.placement;
      s += `placed = the trace's requests on a fresh machine (the allocator picks the pages): ${fmt(pl.allocs)} allocations, ${fmt(pl.allocFailures)} failed, `
        + `${fmt(pl.frees)} frees, ${fmt(pl.freesUnmatched)} frees of pages allocated before the trace skipped\n`;
    }
  }
  if (r.points.length > 0) {
    s += '\nreplayed fragmentation (unusable free index at order 3 / 9, all zones weighted by free pages):\n';
    for (const p of r.points) {
      if (p.at === 'marker') continue;
      s += `  ${padR(p.label, 32)} ${(p.unusable[3] ?? 0).toFixed(3)} / ${(p.unusable[9] ?? 0).toFixed(3)}\n`;
    }
  }
  return s;
}
