/**
 * Fidelity: the pressure phase of the real 512M run (linux-6.1-qemu/512M, 06_pagecache → 07_after_pressure) driven
 * through the simulator, its vmstat deltas against the real ones. Tolerances and what differs: docs/pressure.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QEMU } from '../../test/_shared.ts';
import { Clock } from '../sim/clock.ts';
import { Pressure } from '../alloc/slowpath.ts';
import { NaiveBuddy } from '../../test/_naive_buddy.ts';
import { CorePort } from '../alloc/core_port.ts';
import { createPageAllocator } from '../alloc/allocator.ts';
import type { PageAllocatorPort } from './port.ts';
import { runPressurePhase, REAL_512M_PRESSURE_DELTAS } from './pressure_phase.ts';
import { PRESSURE_EVENT_NAMES } from './vm_events.ts';
import { VMSTAT_NAMES_6_1 } from '../stats/vmstat.ts';

function vmstat(file: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) m.set(k, Number(v));
  }
  return m;
}

test('real_512m_pressure_deltas_are_the_ones_we_compare_with', () => {
  const a = vmstat(path.join(QEMU, '512M', 'snap', '06_pagecache', 'vmstat'));
  const b = vmstat(path.join(QEMU, '512M', 'snap', '07_after_pressure', 'vmstat'));
  for (const [k, v] of Object.entries(REAL_512M_PRESSURE_DELTAS)) assert.equal(b.get(k)! - a.get(k)!, v, k);
});

test('every_pressure_counter_is_a_6_1_vmstat_name', () => {
  for (const n of PRESSURE_EVENT_NAMES) assert.ok(VMSTAT_NAMES_6_1.includes(n), n);
});

/** The machine of the capture: the naive oracle shaped like it, or the core built from `--mem 512M`. */
function machine(kind: 'naive' | 'core'): { p: Pressure; verify: () => void } {
  if (kind === 'naive') {
    const port = NaiveBuddy.like512M();
    return { p: new Pressure(port, new Clock(), { reclaim: { scanNsPerPage: 800 } }), verify: () => port.verify() };
  }
  const a = createPageAllocator({ mem: '512M' });
  const port: PageAllocatorPort = new CorePort(a.kernel);
  const p = new Pressure(port, new Clock(), { reclaim: { scanNsPerPage: 800 } });
  a.kernel.hooks = {
    wakeAllKswapds: (order, gfp, hz) => p.wakeAllKswapds(order, gfp, hz),
    wakeupKswapd: (_slot, order, hz) => p.kswapd[0]!.wakeup(0, order, hz),
  };
  return { p, verify: () => a.verify() };
}

for (const kind of ['naive', 'core'] as const) test(`pressure_phase_of_the_real_512m_run_matches_its_vmstat_deltas [${kind}]`, () => {
  const { p, verify } = machine(kind);
  const r = runPressurePhase(p);
  const real = REAL_512M_PRESSURE_DELTAS;
  const d = r.deltas;
  // The workload stops on MemAvailable exactly as the real one: same start (354572 kB) and the same 324 chunks.
  // (the core keeps its last per-CPU refill out of NR_FREE_PAGES: 31 pages, 124 kB)
  assert.ok(Math.abs(r.memAvailableStartKb - 354572) <= 200, `MemAvailable ${r.memAvailableStartKb}`);
  assert.ok(Math.abs(r.chunks - 324) <= 2, `chunks ${r.chunks}`);
  // Reclaim volume is set by page conservation: within 5 % of the real pages scanned and stolen.
  const scanned = d['pgscan_kswapd']! + d['pgscan_direct']!;
  const stolen = d['pgsteal_kswapd']! + d['pgsteal_direct']!;
  const realScanned = real['pgscan_kswapd']! + real['pgscan_direct']!;
  assert.ok(Math.abs(scanned - realScanned) / realScanned < 0.05, `scanned ${scanned} vs ${realScanned}`);
  assert.equal(stolen, scanned, 'clean page cache: every page scanned is reclaimed, as in the real run');
  // kswapd does nearly all of it (real: 99.6 %); direct reclaim is rare (real: 3 stalls).
  assert.ok(d['pgscan_kswapd']! / scanned > 0.95);
  assert.ok(d['allocstall_movable']! <= 10);
  // kswapd runs: pageoutrun and low-watermark-hit-quickly within a factor of 3 (no watermark boost here).
  for (const k of ['pageoutrun', 'kswapd_low_wmark_hit_quickly']) {
    assert.ok(d[k]! >= real[k]! / 3 && d[k]! <= real[k]! * 3, `${k}: ${d[k]} vs ${real[k]}`);
  }
  assert.equal(d['oom_kill'], 0);
  assert.equal(d['compact_stall'], 0);
  verify();
  p.reclaim.lru.verify();
});
