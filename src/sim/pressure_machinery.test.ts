import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock } from './clock.ts';
import { Rng } from './rng.ts';
import { createPressureMachinery, LabyrinthPressure } from './pressure_machinery.ts';
import type { SimAllocator } from './machinery.ts';
import { smallMachine } from '../../test/_pressure_rig.ts';
import { ALLOC_NO_WATERMARKS } from '../gfp/alloc_flags.ts';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '../gfp/bits.ts';

test('pressure_machinery_serves_the_simulator_seam', () => {
  const port = smallMachine();
  const clock = new Clock();
  const m = createPressureMachinery({ port: () => port }) as LabyrinthPressure;
  m.attach({ clock, alloc: {} as SimAllocator, rng: new Rng(1), speed: { reclaimPagesPerSec: 1e6, ioLatencyUs: 500 } });
  assert.equal(m.p!.reclaim.opts.scanNsPerPage, 1000);
  assert.equal(m.p!.reclaim.opts.ioLatencyNs, 500_000);
  const held = new Set<number>();
  const owner = { reclaimed: (pfn: number) => { held.delete(pfn); } };
  while (port.totalFree > 200) {
    const pfn = port.getPageFromFreelist(GFP_HIGHUSER_MOVABLE, 0, ALLOC_NO_WATERMARKS);
    held.add(pfn);
    m.lruAdd(pfn, 0, 'file', false, owner);
  }
  const task = { pid: 7, comm: 'app', oomScoreAdj: 0, rssPages: () => 0, kill: () => {} };
  m.registerTask(task);
  let got = -2, at = -1;
  m.allocSleeping(GFP_KERNEL, 0, 0, task, (pfn, now) => { got = pfn; at = now; });
  clock.runUntil(1e9);
  assert.ok(got >= 0);
  assert.ok(at > 0, 'direct reclaim took virtual time');
  const c = m.counters();
  assert.ok(c['pgsteal_direct']! + c['pgsteal_kswapd']! > 0);
  assert.ok(held.size < 15800, 'the owner heard about reclaimed pages');
  assert.ok(m.events().some((e) => e.kind === 'kswapd_wake'));
  const someHeld = [...held][0]!;
  m.lruRemove(someHeld, 0);
  m.p!.reclaim.lru.verify();
});
