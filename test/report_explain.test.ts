/**
 * `explain` against real reports: each file's verdict as checked by hand (test/fixtures/report-verdicts.tsv,
 * with the arithmetic in its last column), the replayed numbers of the 6.1 atomic-storm failures, and the
 * min_free_kbytes remedy against the failure rates measured on the real kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, ROOT, fixtureText } from './_shared.ts';
import { parseReports, type ParsedReport } from '../src/report/parse.ts';
import { explainReport, pagesMinFor, VERDICT_KINDS, zoneEnum } from '../src/report/explain.ts';
import { BadInputError } from '../src/errors.ts';

const ATOMIC = path.join(FIXTURES, 'linux-6.1-atomic', '512M');
const cache = new Map<string, ParsedReport[]>();
function reportsOf(key: string): ParsedReport[] {
  let r = cache.get(key);
  if (r === undefined) {
    const text = key.startsWith('atomic/')
      ? fixtureText(path.join(ATOMIC, key.slice(7), 'dmesg.txt.xz'))
      : readFileSync(path.join(FIXTURES, key), 'utf8');
    try { r = parseReports(text); } catch (e) {
      // Runs at min_free_kbytes ≥ 5192 had no failure: their dmesg has no report.
      if (!(e instanceof BadInputError && e.code === 'report-not-found')) throw e;
      r = [];
    }
    cache.set(key, r);
  }
  return r;
}

const table = readFileSync(path.join(ROOT, 'test', 'fixtures', 'report-verdicts.tsv'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.split('\t'));

test('the verdict table covers every manifest report and every real 6.1 failure', () => {
  const files = new Set(table.map((r) => r[0]));
  for (const f of readdirSync(path.join(FIXTURES, 'reports'))) if (f.endsWith('.txt')) assert.ok(files.has(`reports/${f}`), f);
  let n = 0;
  for (const d of readdirSync(ATOMIC)) n += reportsOf(`atomic/${d}`).length;
  assert.equal(table.filter((r) => r[0]!.startsWith('atomic/')).length, n);
  assert.equal(n, 11);
});

for (const [file, idx, kind] of table) {
  test(`${file}#${idx}: ${kind}`, () => {
    const rep = reportsOf(file!)[Number(idx) - 1]!;
    const e = explainReport(rep);
    assert.equal(e.verdict.kind, kind, e.verdict.text);
    assert.ok(VERDICT_KINDS.includes(e.verdict.kind));
    // Every verdict on a report with Mem-Info carries its numbers.
    if (rep.hasMemInfo) assert.match(e.verdict.text, /\d/);
    if (e.verdict.kind === 'snapshot-passes') assert.ok((e.verdict.reasons ?? []).length > 0);
  });
}

test('6.1 GFP_ATOMIC replay: 3/8 of the unboosted min (boost bypass), lowmem_reserve on DMA', () => {
  const e = explainReport(reportsOf('atomic/o0_mfk-default')[0]!);
  assert.equal(e.watermarkFraction, '3/8');
  assert.deepEqual(e.allocFlagNames, ['ALLOC_WMARK_MIN', 'ALLOC_HARDER', 'ALLOC_HIGH', 'ALLOC_KSWAPD']);
  const [dma32, dma] = e.zones;
  assert.equal(dma32!.name, 'DMA32');
  assert.deepEqual([dma32!.freePages, dma32!.minPages, dma32!.boostPages], [217, 2030, 1405]);
  assert.equal(dma32!.check!.effectiveMin, 762); // 2030 − 1015 − 253
  assert.deepEqual(dma32!.check!.boostBypass, { mark: 625, effectiveMin: 235, ok: false }); // 625 − 312 − 78
  assert.equal(dma32!.outcome, 'watermark');
  assert.equal(dma!.check!.lowmemReserve, 406);
  assert.equal(dma!.check!.boostBypass, null);
  assert.equal(dma!.check!.effectiveMin, 9); // 23 − 11 − 3
  assert.equal(dma!.outcome, 'reserve');
});

test('min_free_kbytes remedy brackets what the real kernel measured: failures at 2596 and 3894, none at 5192', () => {
  for (const d of readdirSync(ATOMIC)) {
    for (const rep of reportsOf(`atomic/${d}`)) {
      const e = explainReport(rep);
      const m = e.remedies.find((r) => r.kind === 'min_free_kbytes');
      assert.ok(m !== undefined && m.value !== undefined && m.upper !== undefined, d);
      const current = d.includes('3894') ? 3894 : 2596;
      assert.ok(m.value > current - 8, `${d}: lower bound ${m.value} above the failing ${current}`);
      assert.ok(m.value <= 5192, `${d}: lower bound ${m.value} ≤ 5192, which had no failures`);
      assert.ok(m.upper >= 5192, `${d}: upper estimate ${m.upper} ≥ 5192`);
    }
  }
});

test('pagesMinFor inverts __setup_per_zone_wmarks exactly', () => {
  for (const [target, managed, lowmem] of [[655, 104042, 107882], [1, 3840, 107882], [20077, 2336697, 3073391], [513, 29701, 29701]] as const) {
    const p = pagesMinFor(target, managed, lowmem);
    assert.ok(Math.floor((p * managed) / lowmem) >= target);
    assert.ok(Math.floor(((p - 1) * managed) / lowmem) < target);
  }
  // The 512M fixture's default: pages_min 649 (2596 kB) gives DMA32 min 625 (README table).
  assert.equal(Math.floor((649 * 104042) / 107882), 625);
});

test('zone enum from lowmem_reserve[] length: x86_64, 32-bit, arm64', () => {
  assert.deepEqual(zoneEnum(['DMA', 'DMA32', 'Normal'], 5), ['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
  assert.deepEqual(zoneEnum(['DMA', 'Normal'], 3), ['DMA', 'Normal', 'Movable']);
  assert.deepEqual(zoneEnum(['DMA', 'DMA32', 'Normal'], 4), ['DMA', 'DMA32', 'Normal', 'Movable']);
});

test('--kernel overrides the CPU line; a malformed one is a BadInputError', () => {
  const rep = reportsOf('reports/024.txt')[0]!;
  const e = explainReport(rep, { kernel: '6.6' });
  assert.equal(e.kernelSource, 'option');
  assert.equal(e.rules, 'v6.3');
  assert.throws(() => explainReport(rep, { kernel: 'banana' }), BadInputError);
});

test('absurd but well-formed numbers (15-digit watermarks) still give a bounded answer', () => {
  const text = readFileSync(path.join(FIXTURES, 'reports', '024.txt'), 'utf8').replace('min:5472kB', 'min:900000000000000kB');
  const e = explainReport(parseReports(text)[0]!);
  assert.equal(e.verdict.kind, 'below-watermark');
  const m = e.remedies.find((r) => r.kind === 'min_free_kbytes');
  assert.ok(m !== undefined && Number.isFinite(m.value));
  assert.throws(() => parseReports('x: page allocation failure: order:40, mode:0x20\n'), BadInputError);
});

test('modes are decoded with src/gfp for the report\'s kernel and match what the kernel printed', () => {
  let n = 0;
  for (const [file, idx] of table) {
    const rep = reportsOf(file!)[Number(idx) - 1]!;
    const e = explainReport(rep);
    if (rep.modeNames === null) continue;
    assert.equal(e.modeNames, rep.modeNames, `${file}: ${rep.modeHex}`);
    n++;
  }
  assert.ok(n >= 28);
});

test('a report without a kernel release gets the layout its printed names fit', () => {
  const a = explainReport(reportsOf('reports/033.txt')[0]!); // 0x40a20(GFP_ATOMIC|__GFP_COMP): __GFP_ATOMIC exists
  assert.equal(a.kernelSource, 'inferred');
  assert.equal(a.rules, 'v6.1');
  assert.equal(a.watermarkFraction, '3/8');
  const b = explainReport(reportsOf('reports/061.txt')[0]!); // 0x60820: GFP_ATOMIC without 0x200, so 6.3+
  assert.equal(b.kernelSource, 'inferred');
  assert.equal(b.rules, 'v6.3');
  assert.ok(b.allocFlagNames.includes('ALLOC_NO_WATERMARKS')); // __GFP_MEMALLOC
});

test('6.12+ reports: the free highatomic pages (free_highatomic), not the reservation, are unusable', () => {
  const e = explainReport(reportsOf('reports/001.txt')[0]!);
  const normal = e.zones[0]!;
  assert.equal(normal.name, 'Normal');
  assert.equal(normal.check!.unusable, 8); // free_highatomic:32KB, not reserved_highatomic:2048KB
  assert.equal(normal.check!.mark, 20077); // min 80308kB includes boost 28672kB
  assert.equal(normal.outcome, 'watermark');
});
