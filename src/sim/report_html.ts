/**
 * The self-contained HTML report of a simulation (and of a sweep): charts rendered on the server by echarts as
 * SVG strings, inlined in one HTML file with no script and no external resource.
 */
import * as echarts from 'echarts';
import type { SimResult } from './simulator.ts';
import { MIGRATETYPE_NAMES, pageblock_nr_pages } from '../mm/constants.ts';
import { labyrinthRows } from './report_text.ts';

const W = 960;
const H = 320;

type Option = Record<string, unknown>;

/** Render one chart to an SVG string; the chart is always disposed. */
export function renderChart(option: Option, width = W, height = H): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Virtual milliseconds for a person: at most three decimals (the clock counts ns). */
const msText = (ms: number): string => String(Math.round(ms * 1000) / 1000);

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const PALETTE = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];

function zoneFreeChart(r: SimResult, zi: number): string {
  const z = r.series.zones[zi]!;
  const t = timeAxis(r);
  const line = (name: string, data: number[], color: string, dashed = false): Option => ({
    name, type: 'line', data, showSymbol: false, lineStyle: { width: dashed ? 1 : 2, color, type: dashed ? 'dashed' : 'solid' }, itemStyle: { color },
  });
  // Keep the watermarks readable: clip the y axis at 8 × high when free memory is far above it.
  const high = Math.max(1, ...z.high);
  const maxFree = Math.max(...z.free);
  const clip = maxFree > 8 * high;
  return renderChart({
    title: { text: `Zone ${z.name}: free pages against the watermarks${clip ? ' (y axis clipped at 8 × high)' : ''}`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 30 },
    grid: { left: 70, right: 20, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: t, name: 's', nameLocation: 'end' },
    yAxis: { type: 'value', name: 'pages', max: clip ? 8 * high : undefined },
    series: [
      line('free', z.free, '#5470c6'),
      line('min', z.min, '#ee6666', true),
      line('low', z.low, '#fac858', true),
      line('high', z.high, '#3ba272', true),
      ...(z.boost.some((b) => b > 0) ? [line('boost', z.boost, '#9a60b4', true)] : []),
    ],
  });
}

function zoneBlocksHeatmap(r: SimResult, zi: number): string {
  const z = r.series.zones[zi]!;
  const t = timeAxis(r);
  const data: number[][] = [];
  let max = 1;
  for (let o = 0; o < z.freeBlocks.length; o++) {
    const s = z.freeBlocks[o]!;
    for (let i = 0; i < s.length; i++) {
      const v = Math.log10(1 + s[i]!);
      if (v > max) max = v;
      data.push([i, o, Math.round(v * 1000) / 1000]);
    }
  }
  return renderChart({
    title: { text: `Zone ${z.name}: free blocks per order over time (log10(1 + blocks))`, left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 70, right: 90, top: 40, bottom: 40 },
    xAxis: { type: 'category', data: t, name: 's' },
    yAxis: { type: 'category', data: z.freeBlocks.map((_, o) => `order ${o}`) },
    visualMap: { min: 0, max: Math.ceil(max * 10) / 10, calculable: false, orient: 'vertical', right: 0, top: 'middle', inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] } },
    series: [{ type: 'heatmap', data, progressive: 0 }],
  });
}

function classFailureCharts(r: SimResult): string[] {
  const labels = r.classes.map((c) => `${c.gfpClass} o${c.order}`);
  const bars = renderChart({
    title: { text: 'Failure rate and mean latency by GFP class and order', left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 30 },
    grid: { left: 70, right: 70, top: 70, bottom: 110 },
    xAxis: { type: 'category', data: labels, axisLabel: { rotate: 25, fontSize: 10 } },
    yAxis: [{ type: 'value', name: 'failure %', max: 100 }, { type: 'value', name: 'latency µs' }],
    series: [
      { name: 'failure %', type: 'bar', data: r.classes.map((c) => Math.round(c.failureRate * 10000) / 100), itemStyle: { color: '#ee6666' } },
      { name: 'mean latency µs', type: 'bar', yAxisIndex: 1, data: r.classes.map((c) => c.latencyMeanUs), itemStyle: { color: '#5470c6' } },
    ],
  }, W, 380);
  const t = timeAxis(r);
  const keys = Object.keys(r.series.classFailures).sort();
  const over = linesChart('Failures per sample interval by GFP class and order', 'failures', t, keys, r.series.classFailures);
  return [bars, over];
}

/** Sample times in seconds, the x axis of every time chart. */
function timeAxis(r: SimResult): string[] {
  return r.series.tMs.map((x) => (x / 1000).toFixed(2));
}

/** One line per key over the sample times. */
function linesChart(title: string, yName: string, t: string[], keys: string[], data: Record<string, number[]>): string {
  return renderChart({
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 30, type: 'scroll' },
    grid: { left: 70, right: 20, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: t, name: 's' },
    yAxis: { type: 'value', name: yName },
    series: keys.map((k, i) => ({ name: k, type: 'line', showSymbol: false, data: data[k], itemStyle: { color: PALETTE[i % PALETTE.length] } })),
  });
}

function pressureChart(r: SimResult): string {
  const t = timeAxis(r);
  const keys = Object.keys(r.series.pressure).filter((k) => /pgscan|pgsteal|compact|oom|kswapd|allocstall|pageoutrun/.test(k)).sort();
  if (r.machinery.pressure === null || keys.length === 0) {
    return renderChart({
      title: { text: 'Reclaim and compaction activity', left: 'center', textStyle: { fontSize: 14 } },
      graphic: [{ type: 'text', left: 'center', top: 'middle', style: { text: 'Run without the pressure machinery (--no-pressure): kswapd,\nreclaim, compaction and OOM did not run.', fontSize: 14, fill: '#888', align: 'center' } }],
      xAxis: { type: 'category', data: t, show: false },
      yAxis: { type: 'value', show: false },
      series: [{ type: 'line', data: [] }],
    }, W, 160);
  }
  return linesChart('Reclaim and compaction activity per sample interval', 'pages / events', t, keys, r.series.pressure);
}

const MAP_COLS = 64;
const MAP_CATEGORIES = ['free', ...MIGRATETYPE_NAMES.flatMap((n) => [`${n} partly free`, `${n} in use`])];
const MAP_COLORS = ['#f0f0f0', '#f4a6a6', '#d62728', '#a6c8f4', '#1f77b4', '#b9e4b0', '#2ca02c', '#f7d39a', '#ff7f0e', '#d0b3e6', '#7f3fbf'];

function pageMapChart(m: SimResult['pageMaps'][number]): string {
  // Aggregate pageblocks into at most 4096 cells (majority migratetype, summed free pages).
  const n = m.migratetype.length;
  const per = Math.max(1, Math.ceil(n / 4096));
  const cells = Math.ceil(n / per);
  const data: number[][] = [];
  for (let c = 0; c < cells; c++) {
    const counts = [0, 0, 0, 0, 0];
    let free = 0, pages = 0;
    for (let b = c * per; b < Math.min(n, (c + 1) * per); b++) {
      counts[m.migratetype[b]!]!++;
      free += m.freePages[b]!;
      pages += pageblock_nr_pages;
    }
    let mt = 0;
    for (let k = 1; k < counts.length; k++) if (counts[k]! > counts[mt]!) mt = k;
    const cat = free >= pages ? 0 : 1 + mt * 2 + (free > 0 ? 0 : 1);
    data.push([c % MAP_COLS, Math.floor(c / MAP_COLS), cat]);
  }
  const rows = Math.ceil(cells / MAP_COLS);
  const present = new Set(data.map((d) => d[2]!));
  const height = Math.min(560, Math.max(170, 70 + rows * 12));
  return renderChart({
    title: { text: `Zone ${m.zone} at ${(m.tMs / 1000).toFixed(2)} s: ${per === 1 ? 'one cell per pageblock' : `${per} pageblocks per cell`}`, left: 'center', textStyle: { fontSize: 13 } },
    grid: { left: 50, right: 220, top: 30, bottom: 20 },
    xAxis: { type: 'category', data: Array.from({ length: MAP_COLS }, (_, i) => String(i)), show: false },
    yAxis: { type: 'category', data: Array.from({ length: rows }, (_, i) => String(i * MAP_COLS * per * pageblock_nr_pages)), inverse: true, axisLabel: { fontSize: 9 }, name: 'pfn offset' },
    visualMap: {
      type: 'piecewise', dimension: 2, orient: 'vertical', right: 0, top: 'middle', itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 10 },
      pieces: MAP_CATEGORIES.map((label, i) => ({ value: i, label, color: MAP_COLORS[i] })).filter((p) => present.has(p.value)),
    },
    series: [{ type: 'heatmap', data, progressive: 0, itemStyle: { borderColor: '#fff', borderWidth: 0.5 } }],
  }, W, height);
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}
.note{background:#fff7e0;border-left:4px solid #f0b400;padding:6px 10px}.chart{margin:10px 0}`;

/** The whole report as one HTML document. */
export function renderHtmlReport(r: SimResult): string {
  const charts: string[] = [];
  const sections: string[] = [];
  const chart = (svg: string): string => {
    charts.push(svg);
    return `<div class="chart">${svg}</div>`;
  };
  sections.push(`<h1>Labyrinth simulation: ${esc(r.scenario)}</h1><p>${esc(r.title)}</p>${r.headline ? `<p><b>Headline:</b> ${esc(r.headline)}</p>` : ''}`);
  sections.push(`<p>Seed ${r.seed}; ${esc(r.machine.mem)}, ${r.machine.cpus} CPU(s), kernel ${esc(r.machine.kernel)} rules; vm.min_free_kbytes ${r.machine.minFreeKbytes}; ${r.durationMs / 1000} s of virtual time, sampled every ${r.sampleMs} ms.</p>`);
  sections.push(`<p class="note">${esc(r.machinery.note)}</p>`);
  sections.push('<h2>Requests, failures and latency by GFP class and order</h2>');
  sections.push(table(['gfp', 'mode', 'context', 'order', 'requests', 'failures', 'failure %', 'mean µs', 'p99 µs', 'max µs'],
    r.classes.map((c) => [c.gfpClass, c.gfp, c.context, c.order, c.requests, c.failures, (c.failureRate * 100).toFixed(2), c.latencyMeanUs, c.latencyP99Us, c.latencyMaxUs])));
  for (const svg of classFailureCharts(r)) sections.push(chart(svg));
  sections.push('<h2>Zones</h2>');
  for (let i = 0; i < r.series.zones.length; i++) {
    sections.push(chart(zoneFreeChart(r, i)));
    sections.push(chart(zoneBlocksHeatmap(r, i)));
  }
  sections.push('<h2>Reclaim, compaction and OOM</h2>');
  sections.push(chart(pressureChart(r)));
  if (r.pressureEvents.length > 0) sections.push(table(['t (ms)', 'event', 'detail'], r.pressureEvents.slice(0, 50).map((e) => [msText(e.tMs), e.kind, e.text])));
  if (r.labyrinth) {
    const l = labyrinthRows(r.labyrinth);
    sections.push(`<h2 id="labyrinth">${esc(l.title)}</h2>`);
    sections.push(table(['', 'count'], l.facts));
    if (l.mempools.length > 0) sections.push(table(l.mempoolHead, l.mempools.map((row, i) => [l.mempoolActors[i]!, ...row])));
  }
  sections.push('<h2>Page maps (pageblocks coloured by migratetype and state)</h2>');
  for (const m of r.pageMaps) sections.push(chart(pageMapChart(m)));
  sections.push('<h2>Final /proc/buddyinfo</h2>');
  sections.push(`<pre>${esc(r.buddyinfo)}</pre>`);
  sections.push(`<h2>Failure reports (${r.failureReports.warned} printed, ${r.failureReports.suppressedByRatelimit} suppressed by warn_alloc's ratelimit, ${r.failureReports.nowarn} __GFP_NOWARN)</h2>`);
  for (const k of r.failureReports.kept) sections.push(`<p>t = ${msText(k.tMs)} ms, ${esc(k.actor)}</p><pre>${esc(k.text)}</pre>`);
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Labyrinth: ${esc(r.scenario)}</title><style>${CSS}</style></head>\n<body>\n${sections.join('\n')}\n</body></html>\n`;
}

export interface SweepPoint {
  value: number;
  result: SimResult;
}

/** Report of a sweep: failure rate and latency against the swept tunable. */
export function renderSweepHtml(name: string, points: SweepPoint[]): string {
  const svgs = sweepCharts(name, points);
  const first = points[0]!.result;
  const classKeys = first.classes.map((c) => `${c.gfpClass} o${c.order}`);
  const rows = points.map((p) => [p.value, p.result.machine.minFreeKbytes, p.result.totals.requests, p.result.totals.failures,
    ...p.result.classes.map((c) => (c.failureRate * 100).toFixed(2))]);
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Labyrinth sweep: ${esc(first.scenario)} over ${esc(name)}</title><style>${CSS}</style></head>\n<body>
<h1>Sweep of ${esc(name)}: ${esc(first.scenario)}</h1><p>${esc(first.title)}</p><p>Seed ${first.seed}.</p><p class="note">${esc(first.machinery.note)}</p>
${table([name, 'min_free_kbytes', 'requests', 'failures', ...classKeys.map((k) => `${k} fail %`)], rows)}
${svgs.map((s) => `<div class="chart">${s}</div>`).join('\n')}
</body></html>\n`;
}

export function sweepCharts(name: string, points: SweepPoint[]): string[] {
  const xs = points.map((p) => String(p.value));
  const keys = new Set<string>();
  for (const p of points) for (const c of p.result.classes) keys.add(`${c.gfpClass} o${c.order}`);
  const find = (p: SweepPoint, k: string) => p.result.classes.find((c) => `${c.gfpClass} o${c.order}` === k);
  const ks = [...keys].sort();
  const rate = renderChart({
    title: { text: `Failure rate against ${name}`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 30, type: 'scroll' },
    grid: { left: 70, right: 20, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: xs, name },
    yAxis: { type: 'value', name: 'failure %' },
    series: ks.map((k, i) => ({ name: k, type: 'line', data: points.map((p) => Math.round((find(p, k)?.failureRate ?? 0) * 10000) / 100), itemStyle: { color: PALETTE[i % PALETTE.length] } })),
  });
  const lat = renderChart({
    title: { text: `Mean latency against ${name}`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 30, type: 'scroll' },
    grid: { left: 70, right: 20, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: xs, name },
    yAxis: { type: 'value', name: 'µs' },
    series: ks.map((k, i) => ({ name: k, type: 'line', data: points.map((p) => find(p, k)?.latencyMeanUs ?? 0), itemStyle: { color: PALETTE[i % PALETTE.length] } })),
  });
  return [rate, lat];
}
