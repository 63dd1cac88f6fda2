/**
 * The labyrinth summary of a simulation (live exclusive blocks and pages, wiped pages, mempools with their hits and
 * failures, isolation checks, pages reachable without the key) appears in the terminal report and in the HTML
 * report, with the numbers of `--json` for the same seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './_shared.ts';
import type { LabyrinthStats } from '../src/sim/simulator.ts';

const run = async (...args: string[]): Promise<string> =>
  (await promisify(execFile)(process.execPath, ['bin/labyrinth.mjs', ...args], { cwd: ROOT, maxBuffer: 64 << 20 })).stdout;

test('secure-enclave: the terminal and HTML reports carry the labyrinth numbers of --json (same seed)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'labyrinth-report-'));
  try {
    const html = path.join(dir, 'r.html');
    // 256M for 2 s: enough pressure that the mempools serve elements the allocator refused
    const common = ['simulate', 'secure-enclave', '--seed', '7', '--mem', '256M', '--duration', '2s', '--no-progress'];
    const [json, text] = await Promise.all([run(...common, '--json'), run(...common, '--html', html)]);
    const l = (JSON.parse(json) as { labyrinth?: LabyrinthStats }).labyrinth;
    assert.ok(l, 'secure-enclave has __GFP_EXCL actors, so --json has a labyrinth key');
    assert.ok(l.liveBlocks > 0 && l.pagesHeld >= l.liveBlocks && l.mempools.length > 0);
    assert.equal(l.keylessReachable, 0);
    assert.ok(l.mempoolHits > 0 && l.mempools.some((m) => m.hits > 0), 'the mempools were used');
    const facts: Array<[RegExp, number]> = [
      [/live exclusive blocks/, l.liveBlocks], [/exclusive pages held/, l.pagesHeld], [/pages wiped/, l.wipedPages],
      [/mempool hits/, l.mempoolHits], [/isolation checks/, l.isolationChecks], [/reachable without the key/, l.keylessReachable],
    ];

    // Terminal: a section headed by the labyrinth's name, one line per fact, one row per mempool.
    const lines = text.split('\n');
    const at = lines.findIndex((x) => x.startsWith(`Labyrinth "${l.name}"`));
    assert.ok(at >= 0, 'the terminal report has a labyrinth section');
    const section = lines.slice(at + 1, lines.indexOf('', at));
    for (const [label, n] of facts) {
      const line = section.find((x) => label.test(x));
      assert.ok(line, `terminal: ${label}`);
      assert.equal(Number(/(\d+)$/.exec(line)![1]), n, `terminal: ${label}`);
    }
    const poolRows = section.filter((x) => x.trimStart().startsWith(l.mempools[0]!.actor)).map((x) => x.trim().split(/\s+/));
    assert.deepEqual(poolRows, l.mempools.map((m) => [m.actor, ...[m.order, m.minNr, m.inPool, m.hits, m.failures].map(String)]));

    // HTML: a table section with the same numbers.
    const page = readFileSync(html, 'utf8');
    const h = page.indexOf('<h2 id="labyrinth">');
    assert.ok(h >= 0, 'the HTML report has a labyrinth section');
    const tables = page.slice(h, page.indexOf('<h2', h + 1)).match(/<table>.*?<\/table>/g) ?? [];
    const cells = (t: string): string[][] => [...t.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[dh]>(.*?)<\/t[dh]>/g)].map((c) => c[1]!));
    assert.equal(tables.length, 2);
    const factRows = cells(tables[0]!).slice(1);
    for (const [label, n] of facts) {
      const row = factRows.find((r) => label.test(r[0]!));
      assert.ok(row, `html: ${label}`);
      assert.equal(Number(row[1]), n, `html: ${label}`);
    }
    assert.deepEqual(cells(tables[1]!).slice(1), l.mempools.map((m) => [m.actor, ...[m.order, m.minNr, m.inPool, m.hits, m.failures].map(String)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a scenario without __GFP_EXCL actors has no labyrinth section', async () => {
  const text = await run('simulate', 'render', '--duration', '200ms', '--no-progress', '--no-pressure');
  assert.ok(!/^Labyrinth "/m.test(text));
});
