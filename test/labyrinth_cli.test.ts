/** `labyrinth labyrinth` end to end (spawned once each, concurrently). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

interface Run { status: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/labyrinth.mjs', 'labyrinth', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ status, stdout, stderr });
    });
  });
}

const runs = {
  text: run('--max', '400K'),
  json: run('--max', '256K', '--kernel-pages', '80', '--cache-pages', '0', '--exclusive', '1', '--json'),
  bad: run('--max', 'lots'),
  help: run('--help'),
};

test('labyrinth labyrinth: memcg files in the kernel format and every keyless access refused', async () => {
  const r = await runs.text;
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^memory\.max +409600$/m);
  assert.match(r.stdout, /^ {2}oom_group_kill 0$/m);
  for (const code of ['EXCL_NO_KEY', 'EXCL_NOT_SHAREABLE', 'EXCL_NOT_SPLITTABLE', 'BAD_PAGE_STATE', 'EXCL_WRONG_LABYRINTH', 'EXCL_FORGED_KEY', 'EXCL_REVOKED_KEY']) {
    assert.match(r.stdout, new RegExp(`\\s${code}$`, 'm'));
  }
  assert.doesNotMatch(r.stdout, /NOT REFUSED|NOT WIPED/);
  assert.match(r.stdout, /memory after free\s+zeros/);
});

test('labyrinth labyrinth --json: the numbers of a labyrinth that OOM-kills its only task', async () => {
  const r = await runs.json;
  assert.equal(r.status, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { extension: boolean; files: Record<string, string>; oom: string[] };
  assert.equal(d.extension, true);
  assert.equal(d.files['memory.max'], '262144\n');
  assert.match(d.files['memory.events']!, /^oom 1$/m);
  assert.match(d.files['memory.events']!, /^oom_kill 1$/m);
  assert.equal(d.files['memory.current'], '0\n', 'the killed task took its pages with it');
  assert.ok(d.oom.some((l) => l.startsWith('Memory cgroup out of memory: Killed process')));
});

test('labyrinth labyrinth: bad input exits 2 with one line; --help works', async () => {
  const b = await runs.bad;
  assert.equal(b.status, 2);
  assert.equal(b.stderr.trim().split('\n').length, 1);
  assert.match(b.stderr, /--max "lots"/);
  const h = await runs.help;
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--exclusive/);
});
