/**
 * The HTML report opened in headless Chromium: every chart rendered (an SVG with content), no console errors,
 * a screenshot saved to /tmp. Needs Debian's chromium (.ci/run installs it); outside CI the test skips with a
 * message when it is absent, in CI it must run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { simulate } from '../src/sim/simulator.ts';
import { builtinScenario } from '../src/sim/scenarios.ts';
import { parseSize } from '../src/sim/scenario.ts';
import { applyOverrides, loadScenario } from '../src/sim/run.ts';
import { renderHtmlReport, renderSweepHtml } from '../src/sim/report_html.ts';
import { ToyAllocator } from './_toy_allocator.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && !process.env.CI
  ? `chromium not found at ${CHROMIUM} (apt-get install -y chromium; CI installs it)` : false;

async function openAndCheck(html: string, shot: string): Promise<{ charts: number; errors: string[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labyrinth-html-'));
  const file = path.join(dir, 'report.html');
  writeFileSync(file, html);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto('file://' + file);
    const stats = await page.$$eval('div.chart', (divs) => divs.map((d) => {
      const svg = d.querySelector('svg');
      if (!svg) return { shapes: 0, w: 0, h: 0 };
      const r = svg.getBoundingClientRect();
      return { shapes: svg.querySelectorAll('path,rect,text').length, w: r.width, h: r.height };
    }));
    for (const [i, s] of stats.entries()) {
      assert.ok(s.shapes > 3, `chart ${i} has no content`);
      assert.ok(s.w > 100 && s.h > 100, `chart ${i} has no size`);
    }
    await page.screenshot({ path: shot, fullPage: true });
    return { charts: stats.length, errors };
  } finally {
    await browser.close();
  }
}

test('the HTML report renders every chart in headless Chromium without console errors', { skip }, async () => {
  const spec = applyOverrides(loadScenario('net-rx-storm'), { duration: '3s' });
  const r = simulate(spec, new ToyAllocator(parseSize('256M') / 4096, 4096), { seed: 1 });
  const html = renderHtmlReport(r);
  const expected = 2 + 2 * r.series.zones.length + 1 + r.pageMaps.length;
  const { charts, errors } = await openAndCheck(html, path.join(os.tmpdir(), 'labyrinth-report.png'));
  assert.equal(charts, expected);
  assert.deepEqual(errors, []);
});

test('the sweep report renders its charts in headless Chromium', { skip }, async () => {
  const spec = applyOverrides(builtinScenario('net-rx-storm'), { duration: '1s' });
  const points = [1024, 8192].map((v) => ({ value: v, result: simulate(spec, new ToyAllocator(parseSize('256M') / 4096, v), { seed: 1 }) }));
  const { charts, errors } = await openAndCheck(renderSweepHtml('vm.min_free_kbytes', points), path.join(os.tmpdir(), 'labyrinth-sweep.png'));
  assert.equal(charts, 2);
  assert.deepEqual(errors, []);
});
