/**
 * The browser example in headless Chromium: the page is cross-origin isolated (COOP/COEP from the
 * example's server), allocates from a SharedArrayBuffer on the main thread and in two Web Workers,
 * and the core's verify() passes in the page afterwards with every page back on the free lists.
 * Needs Debian's chromium (.ci/run installs it); outside CI the test skips when it is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { serveExample, bundleExample } from '../examples/browser/serve.ts';
import { createAllocator } from '../src/memory/memory_allocator.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && !process.env.CI
  ? `chromium not found at ${CHROMIUM} (apt-get install -y chromium; CI installs it)` : false;

test('the_example_bundles_for_browsers_without_node_builtins', async () => {
  const files = await bundleExample();
  assert.ok(files.has('/main.js') && files.has('/worker.js'));
  assert.doesNotMatch(files.get('/main.js')!, /from\s*["']node:/);
});

interface PageResult {
  ok: boolean; crossOriginIsolated: boolean; verified: boolean; verifyError: string; stateIsShared: boolean;
  freePages: number; corruptions: number; reports: Array<{ cpu: number; allocs: number; frees: number; errors: string[] }>; error?: string;
}

test('a_cross_origin_isolated_page_allocates_from_a_shared_array_buffer_in_chromium', { skip }, async () => {
  const server = await serveExample();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as unknown as { labyrinthResult?: unknown }).labyrinthResult !== undefined, null, { timeout: 60000 });
    const r = await page.evaluate(() => (globalThis as unknown as { labyrinthResult: unknown }).labyrinthResult) as PageResult;
    assert.equal(r.error, undefined);
    assert.equal(r.crossOriginIsolated, true);
    assert.equal(r.stateIsShared, true);
    assert.equal(r.verified, true, r.verifyError);
    assert.equal(r.reports.length, 2);
    assert.deepEqual(r.reports.map((w) => w.errors), [[], []]);
    assert.notEqual(r.reports[0]!.cpu, r.reports[1]!.cpu, 'each worker has its own CPU slot');
    for (const w of r.reports) assert.ok(w.allocs > 1000 && w.allocs === w.frees);
    assert.equal(r.corruptions, 0);
    // Every page is back: the same count a fresh machine of the same size has free.
    const fresh = createAllocator({ memory: '128M', shared: true, cpus: 4 });
    let free = 0;
    for (let z = 0; z < fresh.mm.nrZones; z++) free += fresh.kernel.nrFreePages(z);
    assert.equal(r.freePages, free);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
