/** The terminal summary of a simulation and of a sweep: plain text tables. */
import type { LabyrinthStats, SimResult } from './simulator.ts';
import type { SweepPoint } from './report_html.ts';

function pad(rows: string[][], right: boolean[]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (right[c] ? cell.padStart(w[c]!) : cell.padEnd(w[c]!))).join('  ').trimEnd()).join('\n');
}

const pct = (x: number): string => (x * 100).toFixed(2) + '%';

/** The labyrinth summary as rows, for the terminal and the HTML report alike. */
export function labyrinthRows(l: LabyrinthStats): { title: string; facts: Array<[string, number]>; mempoolHead: string[]; mempools: number[][]; mempoolActors: string[] } {
  return {
    title: `Labyrinth "${l.name}" (exclusive pages)`,
    facts: [
      ['live exclusive blocks', l.liveBlocks],
      ['exclusive pages held', l.pagesHeld],
      ['pages wiped (in and out)', l.wipedPages],
      ['mempool hits (served when the allocator failed)', l.mempoolHits],
      ['isolation checks (pages tried without the key)', l.isolationChecks],
      ['reachable without the key (page_address, virt_to_page)', l.keylessReachable],
    ],
    mempoolHead: ['mempool of', 'order', 'min_nr', 'in pool', 'hits', 'failures'],
    mempoolActors: l.mempools.map((m) => m.actor),
    mempools: l.mempools.map((m) => [m.order, m.minNr, m.inPool, m.hits, m.failures]),
  };
}

export function renderSummary(r: SimResult): string {
  const out: string[] = [];
  out.push(`Scenario ${r.scenario}: ${r.title}`);
  if (r.headline) out.push(`Headline: ${r.headline}`);
  out.push(`Machine ${r.machine.mem}, ${r.machine.cpus} CPU(s), kernel ${r.machine.kernel} rules, vm.min_free_kbytes ${r.machine.minFreeKbytes}; seed ${r.seed}; ${r.durationMs / 1000} s virtual.`);
  out.push(`Note: ${r.machinery.note}`);
  out.push('');
  out.push(`Requests: ${r.totals.requests}, failures: ${r.totals.failures} (${pct(r.totals.failureRate)}), pages allocated: ${r.totals.pagesAllocated}, events: ${r.totals.events}`);
  out.push('');
  out.push('By GFP class and order (latency in virtual µs):');
  out.push(pad([
    ['gfp', 'mode', 'context', 'order', 'requests', 'failures', 'fail %', 'mean µs', 'p99 µs', 'max µs', 'deadline miss'],
    ...r.classes.map((c) => [c.gfpClass, c.gfp, c.context, String(c.order), String(c.requests), String(c.failures),
      pct(c.failureRate), String(c.latencyMeanUs), String(c.latencyP99Us), String(c.latencyMaxUs), String(c.deadlineMisses)]),
  ], [false, false, false, true, true, true, true, true, true, true, true]));
  out.push('');
  out.push('By actor:');
  out.push(pad([
    ['actor', 'kind', 'gfp', 'requests', 'failures', 'fail %', 'max held', 'first fail ms'],
    ...r.actors.map((a) => [a.name, a.kind, a.gfp, String(a.requests), String(a.failures), pct(a.failureRate), String(a.heldPagesMax), a.firstFailureMs === null ? '-' : String(a.firstFailureMs)]),
  ], [false, false, false, true, true, true, true, true]));
  out.push('');
  out.push('Zones (pages):');
  out.push(pad([
    ['zone', 'managed', 'min', 'low', 'high', 'free at end', 'lowest free'],
    ...r.series.zones.map((z, i) => [z.name, String(z.managed), String(r.zones[i]!.min), String(r.zones[i]!.low), String(r.zones[i]!.high),
      String(z.free[z.free.length - 1] ?? 0), String(Math.min(...z.free))]),
  ], [false, true, true, true, true, true, true]));
  out.push('');
  out.push('Reclaim, compaction and OOM:');
  const keys = Object.keys(r.pressureCounters).sort();
  if (r.machinery.pressure === null) out.push('  not simulated in this run (--no-pressure): no kswapd wakes, no reclaim, no compaction, no OOM kills.');
  else if (keys.length === 0) out.push('  no activity.');
  else out.push(pad(keys.filter((k) => r.pressureCounters[k] !== 0).map((k) => ['  ' + k, String(r.pressureCounters[k])]), [false, true]));
  if (r.pressureEvents.length > 0) {
    const byKind = new Map<string, number>();
    for (const e of r.pressureEvents) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    out.push(`Events: ${[...byKind].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    const shown = [...r.pressureEvents.filter((e) => e.kind !== 'kswapd_wake' && e.kind !== 'kswapd_sleep').slice(0, 5),
      ...r.pressureEvents.filter((e) => e.kind === 'kswapd_wake').slice(0, 3)].sort((a, b) => a.tMs - b.tMs);
    for (const e of shown) out.push(`  t=${e.tMs} ms  ${e.text}`);
  }
  if (r.labyrinth) {
    const l = labyrinthRows(r.labyrinth);
    out.push('');
    out.push(`${l.title}:`);
    out.push(pad(l.facts.map(([k, v]) => ['  ' + k, String(v)]), [false, true]));
    if (l.mempools.length > 0) {
      out.push(pad([l.mempoolHead.map((h, i) => (i === 0 ? '  ' + h : h)),
        ...l.mempools.map((row, i) => ['  ' + l.mempoolActors[i]!, ...row.map(String)])], [false, true, true, true, true, true]));
    }
  }
  out.push('');
  out.push(`Failure reports: ${r.failureReports.warned} printed, ${r.failureReports.suppressedByRatelimit} suppressed by warn_alloc's ratelimit, ${r.failureReports.nowarn} __GFP_NOWARN.`);
  const first = r.failureReports.kept[0];
  if (first) out.push(`First (t=${first.tMs} ms): ${first.text.split('\n')[0]}`);
  out.push('');
  out.push('Final /proc/buddyinfo:');
  out.push(r.buddyinfo.trimEnd());
  return out.join('\n') + '\n';
}

export function renderSweepSummary(name: string, points: SweepPoint[]): string {
  const keys = new Set<string>();
  for (const p of points) for (const c of p.result.classes) keys.add(`${c.gfpClass} o${c.order}`);
  const ks = [...keys].sort();
  // reclaim, compaction and OOM activity per value (only counters that moved in some run)
  const pk = ['pgsteal_kswapd', 'pgsteal_direct', 'allocstall_movable', 'compact_stall', 'compact_success', 'oom_kill']
    .filter((k) => points.some((p) => (p.result.pressureCounters[k] ?? 0) !== 0));
  const rows = [[name, 'requests', 'failures', ...ks.map((k) => `${k} fail %`), ...pk]];
  for (const p of points) {
    rows.push([String(p.value), String(p.result.totals.requests), String(p.result.totals.failures),
      ...ks.map((k) => {
        const c = p.result.classes.find((x) => `${x.gfpClass} o${x.order}` === k);
        return c ? pct(c.failureRate) : '-';
      }), ...pk.map((k) => String(p.result.pressureCounters[k] ?? 0))]);
  }
  return `Sweep of ${name} over ${points[0]!.result.scenario} (seed ${points[0]!.result.seed})\nNote: ${points[0]!.result.machinery.note}\n`
    + pad(rows, rows[0]!.map(() => true)) + '\n';
}
