/** `labyrinth explain` and `labyrinth fragmentation` as users run them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, ROOT } from './_shared.ts';
import { explainAll } from '../src/report/explain.ts';
import { parseReports } from '../src/report/parse.ts';
import { renderExplanation } from '../src/report/render.ts';

interface Run { status: number | null; stdout: string; stderr: string }
/** Spawn the CLI; all runs start at load time and proceed in parallel (each pays tsx's start-up). */
function start(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'labyrinth.mjs'), ...args], { cwd: ROOT });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}
const report = (f: string) => path.join(FIXTURES, 'reports', f);
const buddy = path.join(FIXTURES, 'procfs', '004-buddyinfo.txt');
const runs = {
  json: start(['explain', '-', '--json'], readFileSync(report('024.txt'), 'utf8') + readFileSync(report('004.txt'), 'utf8')),
  missing: start(['explain', '/nonexistent/file']),
  frag: start(['fragmentation', buddy]),
};

test('explain --json: the documented shape for every report in the input', async () => {
  const r = await runs.json;
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { reports: Array<Record<string, unknown>> };
  assert.equal(out.reports.length, 2);
  for (const rep of out.reports) {
    for (const k of ['kernel', 'comm', 'order', 'mode', 'modeNames', 'zones', 'verdict', 'remedies']) assert.ok(k in rep, k);
    assert.match(rep.mode as string, /^0x[0-9a-f]+$/);
    assert.ok(Array.isArray(rep.zones) && Array.isArray(rep.remedies));
  }
  const [a, b] = out.reports as Array<{ verdict: { kind: string; text: string }; mode: string; modeNames: string; kernel: string }>;
  assert.deepEqual([a!.mode, a!.modeNames, a!.kernel, a!.verdict.kind], ['0xa20', 'GFP_ATOMIC', '5.8.0-00013-g192f2fd7b678', 'below-watermark']);
  assert.equal(b!.verdict.kind, 'fragmentation');
});

test('explain prints the per-zone check table, the verdict and remedies', () => {
  const exps = explainAll(parseReports(readFileSync(report('004.txt'), 'utf8')));
  const out = renderExplanation(exps[0]!, 0, 1);
  assert.match(out, /zone\s+free\s+min\s+floor\s+lowmem_res/);
  assert.match(out, /0:Normal\s+31718\s+15990/);
  assert.match(out, /Verdict: fragmentation/);
  assert.match(out, /\[kvmalloc\]/);
});

test('explain: unreadable input exits 2 with one line', async () => {
  const a = await runs.missing;
  assert.equal(a.status, 2);
  assert.equal(a.stderr.trim().split('\n').length, 1);
});

test('fragmentation: debugfs text and --json', async () => {
  const r = await runs.frag;
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /extfrag_index\nNode 0, zone      DMA /);
  assert.match(r.stdout, /Node 0, zone    DMA32 -1\.000 -1\.000 -1\.000  0\.875 /);
});
