/**
 * `labyrinth simulate` runs with the pressure machinery (kswapd, reclaim, compaction, OOM) by default, in the
 * CLI and in sweep workers; `--no-pressure` turns it off and the output says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/labyrinth.mjs', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

interface J { machinery: { pressure: string | null; note: string }; pressureCounters: Record<string, number>; pressureEvents: Array<{ kind: string }> }

test('simulate runs the pressure machinery by default; --no-pressure runs the bare allocator', () => {
  const on = cli('simulate', 'net-rx-storm', '--duration', '3s', '--json');
  assert.equal(on.status, 0, on.stderr);
  const r = JSON.parse(on.stdout) as J;
  assert.match(r.machinery.pressure ?? '', /kswapd/);
  assert.ok((r.pressureCounters['pgscan_kswapd'] ?? 0) > 0, 'kswapd reclaimed under the page-cache stream');
  assert.ok(r.pressureEvents.some((e) => e.kind === 'kswapd_wake'));
  const off = cli('simulate', 'net-rx-storm', '--duration', '3s', '--json', '--no-pressure');
  assert.equal(off.status, 0, off.stderr);
  const o = JSON.parse(off.stdout) as J;
  assert.equal(o.machinery.pressure, null);
  assert.deepEqual(o.pressureCounters, {});
  const txt = cli('simulate', 'net-rx-storm', '--duration', '3s');
  assert.match(txt.stdout, /pgscan_kswapd\s+[1-9]/);
  assert.match(txt.stdout, /kswapd0 wakes/);
});

test('sweep workers run the pressure machinery too', () => {
  const s = cli('simulate', 'net-rx-storm', '--duration', '1s', '--sweep', 'vm.min_free_kbytes=4096,65536', '--json');
  assert.equal(s.status, 0, s.stderr);
  const r = JSON.parse(s.stdout) as { machinery: { pressure: string | null }; points: Array<{ pressureCounters: Record<string, number> }> };
  assert.match(r.machinery.pressure ?? '', /kswapd/);
  assert.equal(r.points.length, 2);
  for (const p of r.points) assert.ok('pgscan_kswapd' in p.pressureCounters, 'each point carries its reclaim counters');
});
