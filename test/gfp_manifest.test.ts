/**
 * Every real report of ../shared/fixtures/reports whose manifest gives a kernel version decodes, for that
 * version, to exactly the names the kernel printed (checked against the manifest and the report's own mode line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './_shared.ts';
import { allLayouts, formatGfp, parseGfp, resolveLayout } from '../src/gfp/index.ts';

const REPORTS = path.join(FIXTURES, 'reports');

interface Row { file: string; kernel: string; order: string; hex: string; names: string }

function manifest(): Row[] {
  const lines = fs.readFileSync(path.join(REPORTS, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]!.split('\t');
  const col = (n: string): number => head.indexOf(n);
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    return { file: c[col('file')]!, kernel: c[col('kernel_version')]!, order: c[col('order')]!, hex: c[col('mode_hex')]!, names: c[col('mode_names')] ?? '' };
  });
}

/** The `mode:0x…(…)` of the report file itself (the first one; reports may carry stray bytes before it). */
function modeInReport(file: string): { hex: string; names: string | null } {
  const text = fs.readFileSync(path.join(FIXTURES, file), 'latin1');
  const m = /mode:(0x[0-9a-f]+)(\(([^)]*)\))?/.exec(text);
  assert.ok(m, `${file}: no mode: in the report`);
  return { hex: m[1]!, names: m[2] === undefined ? null : m[3]! };
}

/** The report's line that holds `mode:` (as pasted, with its timestamp and prefixes). */
function lineWithMode(file: string): string {
  const text = fs.readFileSync(path.join(FIXTURES, file), 'latin1');
  return text.split(/\r?\n/).find((l) => l.includes('mode:'))!;
}

const rows = manifest();
const named = rows.filter((r) => r.kernel !== 'unknown' && r.kernel !== '' && r.names !== '');

test('manifest: every report with a kernel version and mode names decodes to exactly those names', () => {
  assert.ok(named.length >= 15, `expected at least 15 named reports with versions, found ${named.length}`);
  for (const r of named) {
    const mask = Number.parseInt(r.hex, 16);
    const inFile = modeInReport(r.file);
    assert.equal(inFile.hex, r.hex, `${r.file}: manifest hex vs report`);
    assert.equal(inFile.names, r.names, `${r.file}: manifest names vs report`);
    const { layout } = resolveLayout(r.kernel);
    assert.equal(layout.reportNames, true, `${r.file}: ${layout.name} prints names`);
    assert.equal(formatGfp(mask, r.kernel), r.names, `${r.file} (${r.kernel}, layout ${layout.id})`);
    assert.equal(parseGfp(`${r.hex}(${r.names})`, r.kernel), mask, `${r.file}: parse back`);
    assert.equal(parseGfp(r.names, r.kernel), mask, `${r.file}: names alone parse back`);
    assert.equal(parseGfp(lineWithMode(r.file), r.kernel), mask, `${r.file}: the report line itself`);
  }
  console.log(`# manifest: ${named.length} named reports with a kernel version decoded exactly`);
});

test('manifest: reports without names are from kernels that print none, or the empty mask', () => {
  const unnamed = rows.filter((r) => r.kernel !== 'unknown' && r.names === '');
  assert.ok(unnamed.length >= 3);
  for (const r of unnamed) {
    const inFile = modeInReport(r.file);
    const { layout } = resolveLayout(r.kernel);
    if (inFile.names === null) {
      assert.equal(layout.reportNames, false, `${r.file}: ${r.kernel} → ${layout.name} must print no names`);
    } else {
      assert.equal(inFile.names, '');
      assert.equal(formatGfp(Number.parseInt(r.hex, 16), r.kernel), '', `${r.file}: mode:0x0() prints ()`);
    }
  }
});

test('manifest: reports of unknown version decode exactly in at least one layout', () => {
  for (const r of rows.filter((x) => x.kernel === 'unknown' && x.names !== '')) {
    const mask = Number.parseInt(r.hex, 16);
    const fits = allLayouts().filter((l) => l.reportNames && formatGfp(mask, l) === r.names).map((l) => l.id);
    assert.ok(fits.length > 0, `${r.file}: ${r.hex}(${r.names}) fits no layout`);
  }
});
