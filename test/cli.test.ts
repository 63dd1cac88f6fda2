import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/labyrinth.mjs', ...args], { encoding: 'utf8' });

test('npx labyrinth --help lists the commands and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: labyrinth/);
  assert.match(r.stdout, /start/);
});

test('an unknown command exits 2 with a message', () => {
  const r = run('no-such-command');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command/);
});
